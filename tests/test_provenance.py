"""Provenance of every figure and table: the caption's data fingerprint follows the rows the figure was computed
from (and only them), the trace goes to the output's metadata, and the built sample reports (HTML pages and the
annual PDF) carry it, with every fingerprint listed in full in the year's methodology."""

from __future__ import annotations

import dataclasses
import re
import shutil
import subprocess
from pathlib import Path

import pandas as pd
import pytest
from bs4 import BeautifulSoup

from fixtures.report import jeu
from pipeline.report import carte, chiffres_cles, evolution, feuille_de_route, sortie
from pipeline.reportset.tracabilite import issu_de, noms_de_fichiers

TERRITOIRE = jeu.TERRITOIRE
COURTE = re.compile(r"empreinte des données ([0-9a-f]{8})\.")
COMPLETE = re.compile(r"\b[0-9a-f]{64}\b")
# Pages whose tables are not data (they say so in the methodology): the data checks' report.
SANS_DONNEES = {"qualite_donnees.html"}


@pytest.fixture(scope="module")
def ctx(tmp_path_factory):
    return jeu.contexte_fixture(jeu.construire(tmp_path_factory.mktemp("provenance")), "petite_enfance", 2024)


@pytest.fixture(autouse=True)
def affichages(monkeypatch):
    appels = []
    monkeypatch.setattr(sortie, "display", lambda *a, **k: appels.append((a, k)))
    sortie.recueillir()
    return appels


def empreintes(md: str) -> list[str]:
    return COURTE.findall(md)


def modifie(ctx, table: str, masque, colonne: str, valeur):
    """The same Contexte with one cell of `table` changed where `masque(frame)` holds."""
    frame = getattr(ctx, table).copy()
    frame.loc[masque(frame), colonne] = valeur
    return dataclasses.replace(ctx, **{table: frame})


def ligne(indicateur: str, niveau: str, annee: int | None = None):
    return lambda t: (t["indicateur"] == indicateur) & (t["niveau"] == niveau) & (
        True if annee is None else t["annee"] == annee)


def test_legende_porte_sources_millesimes_et_empreinte(ctx, affichages):
    md = chiffres_cles(ctx)
    [legende] = [l for l in md.splitlines() if l.startswith("Table: ")]
    assert re.search(r"Sources : .*\(millésimes? [^)]+\).* · empreinte des données [0-9a-f]{8}\.", legende)
    # the trace goes to the output's metadata, with the full fingerprint
    [(_, options)] = affichages
    [trace] = options["metadata"]["ctg"]["provenance"]
    assert trace["titre"].startswith("Chiffres clés — Petite enfance") and len(trace["empreinte"]) == 64
    assert trace["empreinte"][:8] == empreintes(md)[0]
    assert ["Caf - txcouv\\_pe", [2021, 2022, 2023]] not in trace["sources"]  # names are stored unescaped
    assert any(nom.startswith("Caf - txcouv_pe") for nom, _ in trace["sources"])


def test_empreinte_change_avec_une_valeur_utilisee(ctx):
    avant = empreintes(chiffres_cles(ctx))
    apres = empreintes(chiffres_cles(modifie(ctx, "indicateurs", ligne("places_eaje", "epci", 2024), "valeur", 999.0)))
    assert avant != apres
    carte_avant = empreintes(carte(ctx, "places_eaje"))
    carte_apres = empreintes(carte(modifie(ctx, "indicateurs", ligne("places_eaje", "commune", 2024), "valeur", 7.0),
                                   "places_eaje"))
    assert carte_avant != carte_apres
    courbes_apres = empreintes(evolution(modifie(ctx, "indicateurs", ligne("txcouv_global", "france"), "valeur", 1.0)))
    assert empreintes(evolution(ctx)) != courbes_apres


def test_empreinte_stable_quand_une_ligne_sans_rapport_change(ctx):
    avant = {f.__name__: empreintes(f(ctx)) for f in (chiffres_cles, evolution, feuille_de_route)}
    autre_theme = modifie(ctx, "indicateurs", ligne("pop_municipale", "epci"), "valeur", 1.0)
    communes = modifie(ctx, "indicateurs", ligne("places_eaje", "commune"), "valeur", 3.0)  # not in these figures
    actions = ctx.actions.copy()
    actions.loc[actions["thematique"] != "petite_enfance", "statut"] = "abandonnee"
    for autre in (autre_theme, communes, dataclasses.replace(ctx, actions=actions)):
        assert {f.__name__: empreintes(f(autre)) for f in (chiffres_cles, evolution, feuille_de_route)} == avant
    # the map of another year than the one shown does not move either
    assert empreintes(carte(modifie(ctx, "indicateurs", ligne("places_eaje", "commune", 2021), "valeur", 1.0),
                            "places_eaje")) == empreintes(carte(ctx, "places_eaje"))


def test_feuille_de_route_suit_ses_actions(ctx):
    avant = empreintes(feuille_de_route(ctx))
    pe = (ctx.actions["thematique"] == "petite_enfance") & (ctx.actions["annee"] == 2024)
    actions = ctx.actions.copy()
    actions.loc[actions.index[pe][0], "statut"] = "reportee"
    apres = empreintes(feuille_de_route(dataclasses.replace(ctx, actions=actions)))
    assert len(avant) == len(apres) >= 2 and avant[0] != apres[0]  # the chart changes
    assert sum(a != b for a, b in zip(avant, apres)) == 2  # the chart and the table of that action's axis only


def test_jeux_de_donnees_rattaches_aux_fichiers():
    assert noms_de_fichiers("Caf - txcouv_pe_com / _epci / _dep / _nat (txcouv_<niveau>)") == [
        "txcouv_pe_com", "txcouv_pe_epci", "txcouv_pe_dep", "txcouv_pe_nat"]
    assert noms_de_fichiers("Caf - s_ben_com_f (indnbp_ndur) ; INSEE - populations légales") == [
        "s_ben_com_f", "populations_legales"]
    assert noms_de_fichiers(sortie.SOURCE_REFERENTIEL) == ["ctg"]
    suivi = Path("data/raw/territoires/200040459/suivi/2024/activite.csv")
    assert issu_de(suivi, "Suivi local - activite (actions_parentalite)", [2023, 2024])
    assert not issu_de(suivi, "Suivi local - activite", [2021, 2022])  # another year's sheet
    assert not issu_de(suivi.with_name("actions.csv"), "Suivi local - activite (actions_parentalite)", [2024])
    assert issu_de(Path("data/raw/caf/txcouv_pe_dep.csv"), "Caf - txcouv_pe_* (txcouv_ind_<niveau>)", [2023])


# --- the built sample ----------------------------------------------------------------------------------------------
def annees(built_reports: Path) -> list[Path]:
    return sorted(p for p in (built_reports / TERRITOIRE).iterdir() if p.name.isdigit())


def legendes(page: Path) -> list[tuple[str, str]]:
    """(kind, caption text) of every data table and every figure with an image of an HTML page."""
    soupe = BeautifulSoup(page.read_text(encoding="utf-8"), "html.parser")
    trouvees = [("tableau", t.find("caption")) for t in soupe.find_all("table")]
    trouvees += [("figure", f.find("figcaption")) for f in soupe.find_all("figure") if f.find("img")]
    return [(nature, " ".join(c.get_text(" ").split()) if c else "") for nature, c in trouvees]


@pytest.mark.e2e
def test_chaque_figure_et_tableau_des_rapports_a_sa_provenance(built_reports):
    for dossier in annees(built_reports):
        completes = set(COMPLETE.findall((dossier / "methodologie.html").read_text(encoding="utf-8")))
        vues = 0
        for page in sorted(dossier.rglob("*.html")):
            if page.name in SANS_DONNEES:
                continue
            for nature, texte in legendes(page):
                vues += 1
                m = re.search(r"Sources? : .+ · empreinte des données ([0-9a-f]{8})\.", texte)
                assert m, f"{page.relative_to(built_reports)} : {nature} sans ligne de provenance : « {texte} »"
                assert any(c.startswith(m.group(1)) for c in completes), \
                    f"{page.relative_to(built_reports)} : empreinte {m.group(1)} absente de methodologie.html"
        assert vues > 50  # six thématiques, impact chapter, synthesis, COPIL, methodology


@pytest.mark.e2e
@pytest.mark.skipif(not shutil.which("pdftotext"), reason="pdftotext (poppler-utils) absent")
def test_le_rapport_pdf_porte_les_memes_lignes(built_reports):
    for dossier in annees(built_reports):
        pdf = dossier / f"rapport_ctg_{dossier.name}.pdf"
        brut = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
        texte = " ".join(re.sub(r"\xad\s*", "", brut).split())  # words hyphenated at a line end made whole
        dans_le_pdf = ["index.html", "impact_social.html", "methodologie.html",
                       *(f"thematiques/{p.name}" for p in (dossier / "thematiques").glob("*.html"))]
        courtes = {m for page in dans_le_pdf for _, t in legendes(dossier / page) for m in COURTE.findall(t)}
        assert courtes
        completes = set(COMPLETE.findall(texte))
        for courte in courtes:
            assert f"empreinte des données {courte}." in texte, f"{pdf.name} : {courte} absente"
            assert any(c.startswith(courte) for c in completes), f"{pdf.name} : {courte} pas listée en entier"


@pytest.mark.e2e
def test_methodologie_liste_les_fichiers_d_entree(built_reports, sample_data):
    """Every input the year may read is named, with the datasets it feeds; later years' sheets are not (the report
    of year N must not change when only later data changes); whole-file hashes are in manifest.json."""
    premiere, derniere = annees(built_reports)[0], annees(built_reports)[-1]
    for dossier in (premiere, derniere):
        annee = int(dossier.name)
        texte = " ".join(BeautifulSoup((dossier / "methodologie.html").read_text(encoding="utf-8"), "html.parser")
                         .get_text(" ").split())
        manifeste = pd.read_json(dossier / "manifest.json", typ="series")["entrees"]
        for cle in manifeste:
            plus_tard = re.search(r"/suivi/(\d{4})/", cle)
            assert (f"{cle} " in texte or texte.endswith(cle)) != bool(plus_tard and int(plus_tard[1]) > annee), cle
        assert "manifest.json" in texte
        assert re.search(r"data/raw/caf/s_ben_com_f\.csv Jeux de données : .*Caf - s_ben_com_f", texte)
