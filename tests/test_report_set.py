"""The annual report set: files of the latest year, site navigation, the residents' letter, traffic lights, alerts
and the semester COPIL — on the built sample and on hand-made cases."""

from __future__ import annotations

import dataclasses
import html
import json
import re
from pathlib import Path

import pandas as pd
import pytest

from fixtures.report import jeu
from pipeline.config import DataLayout, load_params
from pipeline.report import fmt
from pipeline.report.contexte import Contexte
from pipeline.reportset import copil, lettre
from pipeline.reportset.alertes import alertes, alertes_feuille
from pipeline.reportset.donnees import charger
from pipeline.reportset.feux import Feu, Regles, evaluer, indicateurs_cles
from pipeline.reportset.glossaire import GLOSSAIRE, expliquer_sigles, sigles_inexpliques
from pipeline.reportset.suivi import actions_a_date, actions_de_la_periode, avancement, date_de_fin
from pipeline.reportset.titres import Chapitre, en_chapitre, niveaux

TERRITOIRE = "200040459"
THEMES = ["acces_droits", "petite_enfance", "enfance", "jeunesse", "parentalite", "animation_vie_sociale"]


# --- the built sample --------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def dossier(built_reports) -> Path:
    """The latest year's published set."""
    annees = sorted(int(p.name) for p in (built_reports / TERRITOIRE).iterdir() if p.name.isdigit())
    return built_reports / TERRITOIRE / str(annees[-1])


def pages_html(dossier: Path) -> list[Path]:
    return sorted(dossier.rglob("*.html"))


@pytest.mark.e2e
def test_jeu_complet_de_la_derniere_annee(dossier):
    annee = dossier.name
    attendus = ["index.html", "impact_social.html", "qualite_donnees.html", "methodologie.html", "glossaire.html",
                "feuilles_de_route.html", f"rapport_ctg_{annee}.pdf", f"copil_{annee}.pdf", f"copil_{annee}.html",
                f"lettre_habitants_{annee}.html", "manifest.json"]
    attendus += [f"thematiques/{th}.{ext}" for th in THEMES for ext in ("html", "pdf")]
    manquants = [f for f in attendus if not (dossier / f).is_file()]
    assert manquants == []
    sorties = json.loads((dossier / "manifest.json").read_text(encoding="utf-8"))["sorties"]
    assert set(attendus) - {"manifest.json"} <= set(sorties)  # the manifest is written last and lists them all


@pytest.mark.e2e
def test_chaque_page_a_le_menu_et_ses_liens_menent_a_un_fichier(dossier):
    for page in pages_html(dossier):
        if page.name.startswith("lettre_habitants_"):
            continue  # an e-mail: no site menu
        texte = page.read_text(encoding="utf-8")
        nav = re.search(r'<nav aria-label="Pages du rapport \d{4}".*?</nav>', texte, flags=re.S)
        assert nav, f"{page.name} : pas de menu"
        liens = re.findall(r'href="([^"]+)"', nav.group(0))
        assert len(liens) >= 14
        assert 'aria-current="page"' in nav.group(0)
        for lien in liens:
            assert not lien.startswith(("http:", "https:", "/")), lien
            assert (page.parent / lien).resolve().is_file(), f"{page.relative_to(dossier)} → {lien} : introuvable"


@pytest.mark.e2e
def test_lettre_aux_habitants_faite_pour_le_courriel(dossier, sample_data):
    annee = int(dossier.name)
    lettre = dossier / f"lettre_habitants_{annee}.html"
    source = lettre.read_text(encoding="utf-8")
    assert lettre.stat().st_size < 100_000
    assert "<script" not in source.lower() and "<style" not in source.lower() and "<link" not in source.lower()
    assert "http" not in source.lower()
    assert not re.search(r'\b(src|href)=', source), "une ressource ou un lien externe"
    assert "max-width:600px" in source
    texte = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html.unescape(source)))
    assert sigles_inexpliques(texte) == []
    assert "Caf (caisse d'allocations familiales)" in texte
    # from the data: every structure open that year is listed, and a structure gone since N-1 is told
    eq = pd.read_parquet(sample_data / "processed" / TERRITOIRE / "equipements.parquet")
    for s in GLOSSAIRE:  # names as written in the sheet: without the acronyms' explanations
        texte = texte.replace(f" ({s.developpe})", "").replace(f", {s.developpe})", ")")
    for nom in eq.loc[eq["annee"] == annee, "nom"]:
        assert str(nom) in texte, nom
    fermees = set(eq.loc[eq["annee"] == annee - 1, "nom"]) - set(eq.loc[eq["annee"] == annee, "nom"])
    for nom in fermees:
        assert f"{nom} à" in texte and "n'accueille plus le public" in texte


@pytest.mark.e2e
def test_semestre_publie_a_cote_du_bilan_annuel(built_reports, sample_data, tmp_path):
    """`--periode S1` wiring (stage_publish → build_report_set) on the built sample: the S1 page reads the roadmap
    at 30 June; the sample's follow-up is dated in November/December, so S1 shows the previous year's state."""
    from pipeline.run import stage_publish

    annee = max(int(p.name) for p in (built_reports / TERRITOIRE).iterdir() if p.name.isdigit())
    params = load_params()
    publie = stage_publish(DataLayout(sample_data), params, annee, ["petite_enfance"], tmp_path, ["S1"])
    s1 = (publie / f"copil_{annee}_S1.html").read_text(encoding="utf-8")
    annuel = (publie / f"copil_{annee}.html").read_text(encoding="utf-8")
    assert (publie / f"copil_{annee}_S1.pdf").is_file()
    assert f"30 juin {annee}" in s1 and "1er semestre" in s1
    actions = pd.read_parquet(sample_data / "processed" / TERRITOIRE / "actions.parquet")
    a_date = actions_a_date(actions[actions["thematique"] == "petite_enfance"], annee, date_de_fin(annee, "S1"))
    attendu = fmt.pourcentage(100 * (a_date["statut"] == "realisee").mean(), 0)
    assert plat(f"{attendu} réalisées") in plat(html.unescape(s1))
    assert s1 != annuel


def plat(texte: str) -> str:
    """No-break spaces as plain spaces, white space collapsed."""
    return re.sub(r"\s+", " ", texte.replace("\xa0", " ").replace("\u202f", " "))


# --- hand-made traffic lights -------------------------------------------------------------------------------------
def contexte_fait_main(series: dict[str, dict[int, object]], catalogue: dict[str, dict], cibles=(), annee=2024):
    """A Contexte from {indicator: {year: value | None | 's'}}, a catalogue {id: fields} and targets."""
    lignes = []
    for ind, valeurs in series.items():
        for a, v in valeurs.items():
            lignes.append({"annee": a, "thematique": "petite_enfance", "niveau": "epci", "code_geo": TERRITOIRE,
                           "indicateur": ind, "libelle": catalogue[ind]["libelle"],
                           "valeur": None if v in (None, "s") else float(v), "unite": catalogue[ind]["unite"],
                           "source": "Test", "millesime": a, "secret": v == "s"})
    colonnes = ["annee", "thematique", "niveau", "code_geo", "indicateur", "libelle", "valeur", "unite", "source",
                "millesime", "secret"]
    cat = pd.DataFrame.from_dict({i: {"thematique": "petite_enfance", "principal": False, "cible": None, **c}
                                  for i, c in catalogue.items()}, orient="index")
    cib = pd.DataFrame(list(cibles), columns=["cible_id", "action_id", "thematique", "libelle", "valeur", "unite",
                                              "annee", "indicateur", "comparaison", "perimetre"])
    return Contexte(territoire=TERRITOIRE, annee=annee, thematique="petite_enfance",
                    indicateurs=pd.DataFrame(lignes, columns=colonnes), catalogue=cat, actions=pd.DataFrame(),
                    cibles=cib, communes=pd.DataFrame(columns=["code_insee", "commune"]), geometries={},
                    libelle_territoire="Montélimar Agglomération", libelle_thematique="Petite enfance")


def cible(indicateur, valeur, annee=2025, comparaison=">=", perimetre="Montélimar Agglomération"):
    return {"cible_id": f"petite_enfance.1.01.c{valeur}", "action_id": "petite_enfance.1.01",
            "thematique": "petite_enfance", "libelle": "cible", "valeur": float(valeur), "unite": "places",
            "annee": annee, "indicateur": indicateur, "comparaison": comparaison, "perimetre": perimetre}


PLACES = {"libelle": "Places", "unite": "places", "sens": "hausse"}


@pytest.mark.parametrize("valeur_2024, feu, progression", [
    (12, Feu.EN_BONNE_VOIE, None),  # target reached
    (9, Feu.EN_BONNE_VOIE, 1.0),  # 9/12 of the way after 3 of 4 years: exactly on the line
    (6, Feu.A_SURVEILLER, 2 / 3),  # half the way, 3/4 of the time
    (2, Feu.HORS_TRAJECTOIRE, 2 / 9),
])
def test_feu_avec_cible(valeur_2024, feu, progression):
    ctx = contexte_fait_main({"p": {2021: 0, 2023: 5, 2024: valeur_2024}}, {"p": PLACES}, [cible("p", 12)])
    e = evaluer(ctx, "p")
    assert e.feu is feu and e.regle == "cible"
    assert e.progression == pytest.approx(progression) if progression is not None else e.progression is None
    assert "cible ≥ 12 en 2025" in e.motif


def test_feu_cible_a_la_baisse_et_echeance_passee():
    baisse = contexte_fait_main({"d": {2021: 20, 2024: 12.5}}, {"d": {**PLACES, "sens": "baisse"}},
                                [cible("d", 10, comparaison="<=")])
    assert evaluer(baisse, "d").feu is Feu.EN_BONNE_VOIE  # 7,5 of 10 to go down after 3 of 4 years
    passee = contexte_fait_main({"p": {2021: 0, 2024: 8}}, {"p": PLACES}, [cible("p", 10, annee=2023)])
    e = evaluer(passee, "p")
    assert e.feu is Feu.HORS_TRAJECTOIRE and e.cas == "echeance" and "échéance" in e.motif
    (alerte,) = alertes({"petite_enfance": passee}, {"petite_enfance": [e]}, {})
    assert alerte.gravite == 3 and "poursuivre l'effort au-delà de l'échéance de 2023" in alerte.question


def test_feu_cible_gardee_puis_perdue():
    ctx = contexte_fait_main({"p": {2021: 12, 2023: 12, 2024: 11}}, {"p": PLACES}, [cible("p", 12)])
    assert evaluer(ctx, "p").feu is Feu.A_SURVEILLER


def test_une_cible_d_un_perimetre_plus_etroit_ne_juge_pas_le_territoire():
    ctx = contexte_fait_main({"p": {2023: 324, 2024: 324}}, {"p": PLACES},
                             [cible("p", 44, perimetre="Nouvelle crèche du nord de Montélimar")])
    e = evaluer(ctx, "p")
    assert e.regle == "tendance" and e.feu is Feu.A_SURVEILLER and "atteinte" not in e.motif


@pytest.mark.parametrize("serie, unite, feu", [
    ({2023: 100, 2024: 104}, "places", Feu.EN_BONNE_VOIE),
    ({2023: 100, 2024: 100}, "places", Feu.A_SURVEILLER),  # stable
    ({2023: 100, 2024: 97}, "places", Feu.A_SURVEILLER),  # -3 %: below the 5 % threshold
    ({2023: 100, 2024: 90}, "places", Feu.HORS_TRAJECTOIRE),  # -10 %
    ({2023: 60.0, 2024: 59.0}, "%", Feu.A_SURVEILLER),  # -1 point
    ({2023: 60.0, 2024: 57.0}, "%", Feu.HORS_TRAJECTOIRE),  # -3 points
])
def test_feu_sans_cible_selon_la_tendance(serie, unite, feu):
    ctx = contexte_fait_main({"i": serie}, {"i": {"libelle": "Indicateur", "unite": unite, "sens": "hausse"}})
    assert evaluer(ctx, "i").feu is feu


@pytest.mark.parametrize("serie, sens, feu, mot", [
    ({}, "hausse", Feu.SANS_DONNEE, "aucune valeur"),
    ({2024: "s"}, "hausse", Feu.SANS_DONNEE, "secret"),
    ({2024: 40}, "hausse", Feu.SANS_DONNEE, "une seule valeur"),
    ({2023: 40, 2024: 42}, "neutre", Feu.NON_EVALUE, "contexte"),
])
def test_feu_sans_donnee_ou_non_evalue(serie, sens, feu, mot):
    ctx = contexte_fait_main({"i": serie}, {"i": {"libelle": "Indicateur", "unite": "foyers", "sens": sens}})
    e = evaluer(ctx, "i")
    assert e.feu is feu and mot in e.motif


def test_seuils_lus_dans_params():
    ctx = contexte_fait_main({"p": {2021: 0, 2024: 6}}, {"p": PLACES}, [cible("p", 12)])
    assert evaluer(ctx, "p", Regles.depuis({})).feu is Feu.A_SURVEILLER
    assert evaluer(ctx, "p", Regles.depuis({"copil": {"feu": {"en_bonne_voie": 0.6}}})).feu is Feu.EN_BONNE_VOIE
    assert Regles.depuis(load_params()) == Regles()  # params.yaml declares the defaults


def test_indicateurs_cles_principaux_puis_cibles_puis_sens():
    cat = {"a": {**PLACES, "principal": True}, "b": {**PLACES, "sens": "neutre"}, "c": PLACES,
           "d": {**PLACES, "sens": "neutre"}}
    ctx = contexte_fait_main({i: {2024: 1} for i in cat}, cat, [cible("d", 5)])
    assert indicateurs_cles(ctx, 2, 3) == ["a", "d"]
    assert indicateurs_cles(ctx, 3, 3) == ["a", "d", "c"]
    assert indicateurs_cles(ctx, 1, 1) == ["a"]


# --- alerts ------------------------------------------------------------------------------------------------------
def test_alertes_triees_et_questions():
    ctx = contexte_fait_main({"off": {2021: 0, 2024: 1}, "recul": {2023: 100, 2024: 97},
                              "stable": {2023: 5, 2024: 5}, "vide": {}},
                             {"off": {**PLACES, "libelle": "Places créées"}, "recul": {**PLACES, "libelle": "Inscrits"},
                              "stable": PLACES, "vide": {**PLACES, "libelle": "Familles"}}, [cible("off", 12)])
    evs = {"petite_enfance": [evaluer(ctx, i) for i in ("vide", "stable", "recul", "off")]}
    liste = alertes({"petite_enfance": ctx}, evs, {})
    assert [(a.gravite, a.sujet) for a in liste] == [(3, "Places créées"), (2, "Inscrits"), (1, "Familles")]
    assert all(a.question.endswith("?") for a in liste)
    assert "cible de 2025" in liste[0].question


def test_alerte_de_feuille_de_route():
    ctx = contexte_fait_main({}, {})
    actions = pd.DataFrame({"annee": 2024, "thematique": "petite_enfance", "action_id": [f"petite_enfance.1.0{i}"
                                                                                        for i in range(1, 5)],
                            "statut": ["reportee", "abandonnee", "realisee", None], "avancement": [0, 0, 100, None]})
    av = avancement(dataclasses.replace(ctx, actions=actions))
    assert (av.total, av.en_retard, av.comptes["non_renseignees"]) == (4, 2, 1)
    graves = alertes_feuille(ctx, av, part_retard=50)
    assert [a.gravite for a in graves] == [3, 1]
    assert "2\xa0actions reportées, abandonnées ou en retard sur 4 (n° 1.01, 1.02)" in graves[0].constat
    assert alertes_feuille(ctx, av, part_retard=60)[0].gravite == 2


# --- semesters ---------------------------------------------------------------------------------------------------
def actions_fait_main(dates_2024: list[str | None]) -> pd.DataFrame:
    ids = ["petite_enfance.1.01", "petite_enfance.1.02", "petite_enfance.1.03"]
    lignes = [{"annee": 2023, "action_id": i, "statut": s, "avancement": a, "date_suivi": pd.Timestamp("2023-11-30")}
              for i, s, a in zip(ids, ["realisee", "en_cours", "a_engager"], [100, 40, 0])]
    lignes += [{"annee": 2024, "action_id": i, "statut": s, "avancement": a,
                "date_suivi": pd.Timestamp(d) if d else pd.NaT}
               for i, s, a, d in zip(ids, ["realisee", "realisee", "en_cours"], [100, 100, 30], dates_2024)]
    frame = pd.DataFrame(lignes)
    return frame.assign(thematique="petite_enfance", axe_id="petite_enfance.1", axe_numero=1, axe_libelle="Axe",
                        objectif_id="petite_enfance.1.o1", objectif_libelle="Objectif", libelle=frame["action_id"],
                        commentaire="", pilote="")


def test_etat_des_actions_a_la_fin_du_semestre():
    actions = actions_fait_main(["2024-03-15", "2024-10-01", None])
    s1 = actions_a_date(actions, 2024, date_de_fin(2024, "S1")).set_index("action_id")["statut"].to_dict()
    s2 = actions_a_date(actions, 2024, date_de_fin(2024, "S2")).set_index("action_id")["statut"].to_dict()
    assert s1 == {"petite_enfance.1.01": "realisee", "petite_enfance.1.02": "en_cours",
                  "petite_enfance.1.03": "a_engager"}  # followed after 30 June (or undated): last year's status
    assert s2 == {"petite_enfance.1.01": "realisee", "petite_enfance.1.02": "realisee",
                  "petite_enfance.1.03": "en_cours"}
    assert date_de_fin(2024, "S1", {"copil": {"periodes": {"S1": "07-15"}}}).isoformat() == "2024-07-15"
    with pytest.raises(ValueError, match="Période inconnue"):
        date_de_fin(2024, "T3")
    periode = actions_de_la_periode(actions, 2024, "S1")
    assert len(periode) == len(actions) and set(periode.loc[periode["annee"] == 2023, "statut"]) == {
        "realisee", "en_cours", "a_engager"}


@pytest.fixture(scope="module")
def bilan_fixture(tmp_path_factory):
    donnees = jeu.construire(tmp_path_factory.mktemp("bilan"))
    return charger(DataLayout(donnees), load_params(), 2024, ["petite_enfance"])


def test_copil_s1_et_s2_different_quand_les_dates_de_suivi_different(bilan_fixture):
    pe = actions_fait_main(["2024-03-15", "2024-10-01", None])
    bilan = bilan_fixture.avec_actions(pe)
    s1, s2 = copil.copil(bilan, "S1"), copil.copil(bilan, "S2")
    assert s1.stem == "copil_2024_S1" and s2.stem == "copil_2024_S2"
    assert "1er semestre 2024" in s1.titre and "au 30 juin 2024" in s1.corps and "au 31 décembre 2024" in s2.corps
    assert "33 % réalisées" in s1.corps.replace("\xa0", " ")  # 1 of 3 at 30 June
    assert "67 % réalisées" in s2.corps.replace("\xa0", " ")  # 2 of 3 at 31 December
    # every follow-up dated before 30 June: both semesters show the same roadmap
    tot = bilan_fixture.avec_actions(actions_fait_main(["2024-03-15", "2024-04-01", "2024-05-02"]))
    ligne = lambda ch: [l for l in ch.corps.splitlines() if "réalisées" in l]  # noqa: E731
    assert ligne(copil.copil(tot, "S1")) == ligne(copil.copil(tot, "S2"))


def test_copil_une_page_tient_ses_alertes_et_legendes(bilan_fixture):
    ch = copil.copil(bilan_fixture)
    assert ch.stem == "copil_2024" and "Comité de pilotage — bilan 2024" == ch.titre
    assert "Feux : ✓ En bonne voie · ▲ À surveiller · ✗ Hors trajectoire" in ch.corps
    assert "#set text(size: 9.0pt)" in ch.corps
    assert "#set text(size: 8.0pt)" in copil.copil(bilan_fixture, None, 8.0).corps


def test_nombre_de_pages_lu_dans_le_pdf():
    pdf = (b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\n"
           b"2 0 obj\n<< /Type /Pages /Kids [3 0 R 4 0 R] /Count 2 >>")
    assert copil.nombre_de_pages(pdf) == 2
    assert copil.nombre_de_pages(b"%PDF-1.7 rien") is None


def test_lettre_sur_donnees_fait_main(bilan_fixture):
    ctx = bilan_fixture.premier
    eq = ctx.equipements
    avant = eq[eq["structure_id"] != "S03"].assign(annee=2023)  # the micro-crèche is new in 2024
    fermee = avant.iloc[:1].assign(structure_id="S99", nom="Halte-garderie des Alpilles")
    bilan = dataclasses.replace(bilan_fixture, contextes={"petite_enfance": dataclasses.replace(
        ctx, equipements=pd.concat([avant, fermee, eq], ignore_index=True))})
    page = lettre.lettre_html(bilan, "31 décembre 2024")
    texte = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html.unescape(page))).replace("\xa0", " ")
    assert len(page.encode()) < 100_000 and "<script" not in page and "<style" not in page and "http" not in page
    assert "Nouveau à Allan : Micro-crèche d'Allan (micro-crèche, 12 places)." in texte
    assert "Halte-garderie des Alpilles à Montélimar n'accueille plus le public." in texte
    assert "329 places, 12 de plus qu'en 2023." in texte  # places_eaje: 317 in 2023, 329 in 2024
    assert "Petite enfance : Observatoire des besoins des familles" in texte  # done in 2024, not before
    communes = [html.unescape(c) for c in re.findall(r"<h3[^>]*>(.*?)</h3>", page)]
    assert communes == ["Montélimar", "Allan", "Cléon-d'Andran"]  # the main town first, then alphabetical
    for nom in eq["nom"]:
        assert nom in texte
    assert sigles_inexpliques(texte) == []


def test_impact_social_le_notebook_execute_sinon_les_donnees_necessaires(bilan_fixture, tmp_path):
    import nbformat
    from nbformat.v4 import new_markdown_cell, new_notebook

    from pipeline import execute
    from pipeline.reportset import chapitres

    attente = chapitres.impact_social(bilan_fixture, tmp_path)
    assert attente.titre == "Impact social" and "## Données nécessaires" in attente.corps
    assert "| Financements par thématique, financeur et dispositif" in attente.corps
    chemin = execute.executed_path(tmp_path, 2024, "impact_social")
    chemin.parent.mkdir(parents=True)
    nbformat.write(new_notebook(cells=[new_markdown_cell("# Impact social\n\n## Modèle logique\n\nMoyens.")]),
                   str(chemin))
    fait = chapitres.impact_social(bilan_fixture, tmp_path)
    assert fait.titre == "Impact social" and niveaux(fait.corps) == [2] and "Moyens." in fait.corps


# --- headings and glossary ---------------------------------------------------------------------------------------
def test_chapitres_imbriques_sous_un_titre_de_niveau_1():
    notebook = "# Petite enfance\n\nBilan.\n\n## Chiffres clés\n\n### Détail\n"
    assert niveaux(en_chapitre(Chapitre("x", "Petite enfance", notebook))) == [1, 2, 3]
    page = "## En bref\n\nTexte.\n\n## Alertes\n"
    sortie = en_chapitre(Chapitre("index", "Synthèse", page))
    assert niveaux(sortie) == [1, 2, 2] and "# Synthèse\n" in sortie
    assert sortie.startswith("```{=typst}\n#pagebreak(weak: true)")


def test_sigles_expliques_a_leur_premiere_occurrence():
    deja: set[str] = set()
    texte = expliquer_sigles("La Caf finance les EAJE et le Rpe. La Caf aussi.", deja)
    assert texte == ("La Caf (caisse d'allocations familiales) finance les EAJE (établissement d'accueil du jeune "
                     "enfant) et le Rpe (relais petite enfance). La Caf aussi.")
    assert sigles_inexpliques(texte) == []
    assert sigles_inexpliques("Le XYZ et la Caf.") == ["XYZ", "Caf"]
    assert expliquer_sigles("Caisse des écoles (CLAS)", set()) == (
        "Caisse des écoles (CLAS, contrat local d'accompagnement à la scolarité)")
    assert sigles_inexpliques("Caisse des écoles (CLAS, contrat local)") == []
