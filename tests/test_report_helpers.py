"""Report helpers on hand-made data (tests/fixtures/report): exact Markdown, tables, alt texts."""

from __future__ import annotations

import base64
import dataclasses
import re

import pytest

from fixtures.report import jeu
from pipeline.report import (bandeau, carte, chiffres_cles, equite, evolution, feuille_de_route, introduction,
                             recit, sortie)

NBSP, NNBSP = "\xa0", "\u202f"


@pytest.fixture(scope="module")
def donnees(tmp_path_factory):
    return jeu.construire(tmp_path_factory.mktemp("report"))


@pytest.fixture(scope="module")
def ctx(donnees):
    return jeu.contexte_fixture(donnees, "petite_enfance", 2024)


@pytest.fixture(autouse=True)
def affichages(monkeypatch):
    """Display calls of the helpers (outside a kernel IPython would print them)."""
    appels = []
    monkeypatch.setattr(sortie, "display", lambda *a, **k: appels.append((a, k)))
    sortie.recueillir()  # traces left in this thread by an earlier test (a report set planned in-process)
    return appels


def lignes_tableaux(md: str) -> list[list[str]]:
    """Rows of every pipe table in `md` (header and body, separator lines left out), cells stripped."""
    return [[c.strip() for c in ligne.strip().strip("|").split("|")]
            for ligne in md.splitlines() if ligne.startswith("|") and not re.match(r"^\|[:\- |]+\|$", ligne)]


def images(md: str) -> list[tuple[str, bytes, str]]:
    """(caption, PNG bytes, alt text) of every embedded image."""
    motif = r'!\[(.*?)\]\(data:image/png;base64,([A-Za-z0-9+/=]+)\)\{alt="(.*?)"\}'
    return [(leg, base64.b64decode(b64), alt) for leg, b64, alt in re.findall(motif, md)]


def test_affichage_markdown_seul(ctx, affichages):
    md = chiffres_cles(ctx)
    [((sortie_affichee,), options)] = affichages
    assert sortie_affichee == {"text/markdown": md} and options["raw"] is True
    # the caption's provenance trace rides in the output's metadata (the renderer ignores it)
    [trace] = options["metadata"]["ctg"]["provenance"]
    assert f"empreinte des données {trace['empreinte'][:8]}." in md


def test_chiffres_cles(ctx):
    md = chiffres_cles(ctx)
    entete, *corps = lignes_tableaux(md)
    assert entete == ["Indicateur", "2021 (référence)", "2023", "2024", "Cible de la convention",
                      "Évolution depuis 2021", "Source de la dernière valeur"]
    assert corps == [
        ["Taux de couverture global (places pour 100 enfants de moins de 3 ans)", "59,3", "60,8 (2022)",
         "62,4 (2023)", "—", f"↗ +3,1{NBSP}points, favorable", r"Caf - txcouv\_pe (millésime 2023)"],
        ["Places en accueil collectif (places)", "300", "317", "329", "≥ 361 en 2025", f"↗ +9,7{NBSP}%, favorable",
         "Suivi local - equipements (millésime 2024)"],
        ["Enfants accueillis en EAJE (enfants)", "n.d.", "598", "612", "—", "n.d.",
         "Suivi local - activite (millésime 2024)"],
    ]
    # four datasets (with the referential's targets): grouped by producer to keep the line short
    assert re.search(r"Table: Chiffres clés — Petite enfance, Montélimar Agglomération, 2024\. Sources : Caf "
                     r"\(millésimes 2021 à 2023\) ; Référentiel de la convention ; Suivi local \(millésimes 2021, 2023, "
                     r"2024\) · empreinte des données [0-9a-f]{8}\. Source de chaque valeur : dernière colonne\.", md)
    assert "*n.d. : non disponible.*" in md
    assert "*Entre parenthèses : année de la dernière valeur publiée" in md
    assert "secret statistique" not in md  # no secret value in this table: no note


def test_chiffres_cles_sens_baisse(donnees):
    ctx = jeu.contexte_fixture(donnees, "acces_droits", 2024)
    _, ligne = lignes_tableaux(chiffres_cles(ctx))
    assert ligne[:6] == ["Part des foyers allocataires à QF inférieur à 800 € (%)", "41,2", "40,1", "39,5", "—",
                         f"↘ -1,7{NBSP}point, favorable"]


def test_chiffres_cles_rapport_2022_sans_colonne_reference(donnees):
    ctx = jeu.contexte_fixture(donnees, "petite_enfance", 2022)
    entete, premiere, *_ = lignes_tableaux(chiffres_cles(ctx))
    assert entete[:3] == ["Indicateur", "2021", "2022"]
    assert premiere[:3] == ["Taux de couverture global (places pour 100 enfants de moins de 3 ans)", "59,3", "60,8"]


def test_evolution(ctx):
    md = evolution(ctx)
    [(legende, png, alt)] = images(md)
    assert png.startswith(b"\x89PNG")
    assert re.fullmatch(r"Évolution des indicateurs principaux, Montélimar Agglomération, 2021-2024\. Sources : Caf - "
                        r"txcouv\\_pe \(millésimes 2021 à 2023\) ; Suivi local - equipements \(millésimes 2021 à "
                        r"2024\) · empreinte des données [0-9a-f]{8}\.", legende)
    assert alt == ("Graphique en courbes. Taux de couverture global (places pour 100 enfants de moins de 3 ans) — "
                   "Montélimar Agglomération : de 59,3 en 2021 à 62,4 en 2023 ; Drôme : de 58,0 en 2021 à 60,1 en "
                   "2023 ; France : de 58,8 en 2021 à 59,8 en 2023. Places en accueil collectif (places) — "
                   "Montélimar Agglomération : de 300 en 2021 à 329 en 2024.")
    assert evolution(ctx) == md  # deterministic PNG bytes


def test_evolution_indicateurs_choisis_et_absents(ctx, donnees):
    [(_, _, alt)] = images(evolution(ctx, ["enfants_accueillis_eaje"]))
    assert alt == "Graphique en courbes. Enfants accueillis en EAJE (enfants) — Montélimar Agglomération : de 598 en 2023 à 612 en 2024."
    jeunesse = jeu.contexte_fixture(donnees, "jeunesse", 2024)
    assert evolution(jeunesse).startswith("Aucun indicateur principal de cette thématique n'a encore de valeurs publiées")


def test_carte_par_defaut(ctx):
    md = carte(ctx)
    [(legende, png, alt)] = images(md)
    assert png.startswith(b"\x89PNG")
    # txcouv_global is main but published for 1 commune out of 4: the map shows places_eaje (4 communes)
    assert re.fullmatch(r"Places en accueil collectif par commune, 2024\. Source : Suivi local - equipements "
                        r"\(millésime 2024\) · empreinte des données [0-9a-f]{8}\.", legende)
    assert alt == (f"Carte des 4 communes de Montélimar Agglomération : Places en accueil collectif en 2024. Valeur la "
                   f"plus basse : 0{NBSP}place (Ancône) ; la plus haute : 250{NBSP}places (Montélimar).")


def test_carte_secret_et_manquant(ctx):
    md = carte(ctx, "enfants_accueillis_eaje")
    [(_, _, alt)] = images(md)
    assert alt == (f"Carte des 4 communes de Montélimar Agglomération : Enfants accueillis en EAJE en 2024. Valeur la "
                   f"plus basse : 128{NBSP}enfants (Cléon-d'Andran) ; la plus haute : 480{NBSP}enfants (Montélimar). "
                   f"1{NBSP}commune sous secret statistique. 1{NBSP}commune sans valeur.")
    assert md.endswith("*s : valeur soumise au secret statistique (moins de 5).*\n")


def test_carte_sans_donnees_communales(donnees):
    jeunesse = jeu.contexte_fixture(donnees, "jeunesse", 2024)
    assert carte(jeunesse) == ("Aucun indicateur de cette thématique n'est publié à l'échelle des communes : "
                               "pas de carte possible.\n")


def test_feuille_de_route(ctx):
    md = feuille_de_route(ctx)
    assert md.startswith(f"En 2024, 6{NBSP}actions sont suivies : 2{NBSP}réalisées, 2{NBSP}en cours, "
                         f"1{NBSP}reportée, 1{NBSP}non renseignée.\n")
    [(legende, _, alt)] = images(md)
    assert alt == ("Barres empilées du nombre d'actions par statut pour chaque axe. Axe 1 : 2\xa0réalisées, "
                   "2\xa0en cours. Axe 2 : 1\xa0reportée, 1\xa0non renseignée.")
    assert "### Axe 1 : Structurer et organiser l'offre de service petite enfance" in md
    assert "### Axe 2 : Améliorer la réponse aux besoins spécifiques" in md
    lignes = lignes_tableaux(md)
    assert lignes[0] == ["Objectif", "Action", "Statut", "Avancement", "Commentaire"]
    assert ["", "1.04 Création d'une crèche de 44 places au nord de Montélimar", "En cours", f"30{NBSP}%",
            "Travaux retardés : ouverture prévue en 2026."] in lignes
    assert ["", "2.02 Étude des besoins en horaires atypiques", "Non renseignée", "—", ""] in lignes
    assert re.search(r"Table: Suivi des actions de l'axe 2, 2024\. Source : feuille de suivi des actions 2024, suivi "
                     r"au 2 octobre 2024 ; référentiel de la convention · empreinte des données [0-9a-f]{8}\.", md)
    attention = md.split("### Points d'attention")[1]
    assert "à partir de 2024 (les 2 dernières années de la convention)" in attention
    assert [l for l in attention.splitlines() if l.startswith("- ")] == [
        f"- **1.04** Création d'une crèche de 44 places au nord de Montélimar — en cours, avancement 30{NBSP}%",
        f"- **2.01** Mise en place du dispositif AVIP — reportée, avancement 0{NBSP}%",
    ]


def test_feuille_de_route_avant_les_dernieres_annees(donnees):
    ctx = jeu.contexte_fixture(donnees, "petite_enfance", 2023)
    md = feuille_de_route(ctx)
    assert md.startswith(f"En 2023, 1{NBSP}action est suivie : 1{NBSP}en cours.")
    assert md.rstrip().endswith("Aucun point d'attention selon cette règle.")  # 20 % done, but in 2023


def test_feuille_de_route_sans_suivi(donnees):
    ctx = jeu.contexte_fixture(donnees, "petite_enfance", 2022)
    assert feuille_de_route(ctx) == "Aucune action de la feuille de route n'est suivie pour cette thématique en 2022.\n"


def test_equite(ctx):
    md = equite(ctx)
    lignes = lignes_tableaux(md)
    assert ["Indicateur", "Année", "Nocaze", "Centre ancien",
            "Ensemble de Montélimar Agglomération (QPV compris)"] in lignes
    assert ["Places en accueil collectif (places)", "2024", "40", "12", "329"] in lignes
    assert ["Enfants accueillis en EAJE (enfants)", "2024", "95", "s", "612"] in lignes
    assert ["Multi-accueil (EAJE PSU)", "1", "1", "1", "3"] in lignes
    assert ["Relais petite enfance (RPE)", "0", "1", "0", "1"] in lignes
    assert ["Places en accueil collectif (places)", "2024", "250", "0 – 55", "0", "329"] in lignes
    assert ["Enfants accueillis en EAJE (enfants)", "2024", "480", "128", "1", "612"] in lignes
    assert ["Taux de couverture global (places pour 100 enfants de moins de 3 ans)", "2023", "72,5", "n.d.", "0",
            "62,4"] in lignes
    assert "### Montélimar et les autres communes" in md
    assert "*s : valeur soumise au secret statistique (moins de 5).*" in md


def test_equite_dit_quand_les_donnees_manquent(donnees):
    md = equite(jeu.contexte_fixture(donnees, "jeunesse", 2024))
    assert "aucun indicateur de cette thématique n'est publié à l'échelle des QPV" in md
    assert "aucun indicateur de cette thématique n'est publié à l'échelle des communes" in md
    assert "|" not in md


def test_recit(ctx):
    md = recit(ctx)
    assert (f"- Le taux de couverture global atteint 62,4{NBSP}places pour 100 enfants de moins de 3 ans en 2023, "
            f"soit +3,1{NBSP}points depuis 2021. Pour comparaison en 2023 : Drôme 60,1 ; France 59,8.\n") in md
    assert (f"- Places en accueil collectif : 329{NBSP}places en 2024, soit +9,7{NBSP}% depuis 2021. La convention "
            f"vise au moins 361{NBSP}places en 2025 (pas encore atteinte en 2024).\n") in md
    # no 2021 value: no change is told
    assert f"- Enfants accueillis en EAJE : 612{NBSP}enfants en 2024.\n" in md
    assert "### Commentaires des feuilles de suivi" in md
    assert (f"- **Action 2.01** (Mise en place du dispositif AVIP) : «{NBSP}Reporté faute de partenaire "
            f"employeur.{NBSP}»") in md
    assert "Action 1.02" not in md  # no comment, no quote


def test_recit_cible_a_echeance_passee(ctx):
    cibles = ctx.cibles.copy()
    cibles["annee"] = 2023
    md = recit(dataclasses.replace(ctx, cibles=cibles))
    assert f"La convention vise au moins 361{NBSP}places en 2023 (cible non atteinte en 2023)." in md
    cibles["valeur"], cibles["annee"] = 310, 2022
    md = recit(dataclasses.replace(ctx, cibles=cibles))
    assert f"La convention vise au moins 310{NBSP}places en 2022 (cible non atteinte en 2022)." in md
    cibles["valeur"] = 300
    md = recit(dataclasses.replace(ctx, cibles=cibles))
    assert f"La convention vise au moins 300{NBSP}places en 2022 (cible atteinte en 2022)." in md


def test_recit_sans_donnees(donnees):
    md = recit(jeu.contexte_fixture(donnees, "jeunesse", 2024))
    assert md == ("### Commentaires des feuilles de suivi\n\n"
                  "Aucun commentaire n'a été saisi dans les feuilles de suivi des actions pour 2024.\n")


def test_introduction(ctx):
    md = introduction(ctx)
    assert md.startswith("Bilan 2024 de la thématique « Petite enfance » de la Convention territoriale globale "
                         "2021-2025 (Caf de la Drôme – Montélimar Agglomération).\n\n")
    assert "#" not in md  # the rendered document is already titled
    assert "- Adapter l'offre d'accueil aux besoins spécifiques\n" in md
    assert f"1. Structurer et organiser l'offre de service petite enfance (2{NBSP}objectifs, 4{NBSP}actions)" in md
    assert f"2. Améliorer la réponse aux besoins spécifiques (1{NBSP}objectif, 2{NBSP}actions)" in md


def test_bandeau(ctx, affichages):
    assert bandeau(dataclasses.replace(ctx, illustratif=False)) == "" and affichages == []
    md = bandeau(dataclasses.replace(ctx, illustratif=True))
    assert md.startswith("::: {.bandeau-illustration}\n**Données d'illustration** — ") and md.endswith("\n:::\n")


def test_donnees_illustratives_detectees(donnees):
    assert not jeu.contexte_fixture(donnees).illustratif
    (donnees / "raw" / "ILLUSTRATION.md").write_text("Données fictives.\n", encoding="utf-8")
    try:
        assert jeu.contexte_fixture(donnees).illustratif
    finally:
        (donnees / "raw" / "ILLUSTRATION.md").unlink()


def test_rapport_de_la_premiere_annee(donnees):
    ctx = jeu.contexte_fixture(donnees, "petite_enfance", 2021)
    entete, *corps = lignes_tableaux(chiffres_cles(ctx))
    assert entete == ["Indicateur", "2020", "2021", "Cible de la convention", "Source de la dernière valeur"]
    assert corps[0][:3] == ["Taux de couverture global (places pour 100 enfants de moins de 3 ans)", "n.d.", "59,3"]
    # a single year per series: no line chart
    assert evolution(ctx).startswith("Aucun indicateur principal de cette thématique n'a encore de valeurs")


def test_recit_valeur_inchangee(ctx):
    t = ctx.indicateurs.copy()
    t.loc[(t["indicateur"] == "txcouv_global") & (t["annee"] == 2023) & (t["niveau"] == "epci"), "valeur"] = 59.32
    md = recit(dataclasses.replace(ctx, indicateurs=t))
    assert "Le taux de couverture global atteint 59,3\xa0places pour 100 enfants de moins de 3 ans en 2023, sans changement depuis 2021." in md


def test_classes_de_la_carte():
    from pipeline.report.cartes import classe, classes, etiquette
    bornes = classes([0, 0, 0, 12, 24, 40, 55, 60, 250])
    assert bornes[0] == (0, 0) and len(bornes) == 3  # zero alone, then 6 values // 3 = 2 quantile classes
    assert [classe(v, bornes) for v in (0, 12, 250)] == [0, 1, 2]
    assert classes([]) == [] and classes([0, 0]) == [(0, 0)] and classes([7, 7, 7]) == [(7, 7)]
    assert etiquette(0, 0, 0) == "0" and etiquette(12, 47.5, 0) == "12 – 48"


def test_tableau_et_provenance():
    md = sortie.tableau(["A", "B"], [["x", "1 234"]], "Légende.", ["left", "right"], ["Une note."])
    assert md == "| A | B |\n|:---|---:|\n| x | 1 234 |\n\nTable: Légende.\n\n*Une note.*\n"
    assert sortie.provenance([("Caf - a", 2021), ("Caf - a", 2023), ("Caf - a", 2022)]) == \
        "Source : Caf - a (millésimes 2021 à 2023)."
    quatre = [("Caf - a", 2021), ("Caf - b", 2022), ("INSEE - c", 2021), ("Suivi local - d", 2024)]
    assert sortie.provenance(quatre) == ("Sources : Caf (millésimes 2021 à 2022) ; INSEE (millésime 2021) ; "
                                         "Suivi local (millésime 2024).")
    assert sortie.texte("a_b *c* | [d]\nsuite") == r"a\_b \*c\* \| \[d\] suite"


def test_vue_partage_les_index_et_repond_comme_replace(donnees):
    from pipeline.report.contexte import vue

    base = jeu.contexte_fixture(donnees, "petite_enfance", 2024)
    autre = vue(base, thematique="enfance", libelle_thematique="Enfance")
    copie = dataclasses.replace(base, thematique="enfance", libelle_thematique="Enfance")  # its own indexes
    assert autre._mesures is base._mesures and autre._infos is base._infos  # shared, not rebuilt
    assert copie._mesures is not base._mesures
    assert (autre.thematique, base.thematique) == ("enfance", "petite_enfance")
    assert autre.indicateurs_du_theme() == copie.indicateurs_du_theme()
    for ind in autre.indicateurs_du_theme():
        assert autre.info(ind) == copie.info(ind)
        assert autre.mesures(ind) == copie.mesures(ind)
        assert autre.cibles_de(ind).equals(copie.cibles_de(ind))
    with pytest.raises(ValueError):
        vue(base, annee=2023)  # the indexes hold the rows up to the report year
    with pytest.raises(ValueError):
        vue(base, indicateurs=base.indicateurs.iloc[:0])
