"""Target attainment (`pipeline.impact.cibles.attainment`) on hand-made cases, and its evidence table."""

from __future__ import annotations

from types import SimpleNamespace

import pandas as pd
import pytest

from fixtures.impact import petit
from pipeline.impact import Lieux, attainment, tableau_cibles
from pipeline.impact.cibles import mots, portee

T = petit.TERRITOIRE
LIEUX = Lieux(territoire=T, nom_territoire="Agglo Test",
              communes={petit.VILLE: "Ville", petit.VILLAGE: "Village-sur-Rhône"},
              structures={"CRECHE_NORD": "Crèche du nord de Ville", "MC_CENTRE": "Micro-crèche du centre-ville de Ville",
                          "CS_A": "Centre social Alpha"},
              indicateurs_dedies=frozenset({"dedie.c1"}))


def cible(valeur, annee=2025, comparaison=">=", perimetre=None, cible_id="x.c1"):
    return SimpleNamespace(cible_id=cible_id, valeur=float(valeur), annee=annee, comparaison=comparaison,
                           perimetre=perimetre)


def valeurs(*lignes) -> pd.DataFrame:
    """Rows (annee, valeur[, niveau, code, secret]) of one indicator."""
    rows = []
    for annee, valeur, *reste in lignes:
        niveau, code, secret = (*reste, *("epci", T, False)[len(reste):])
        rows.append({"annee": annee, "niveau": niveau, "code_geo": code,
                     "valeur": float("nan") if valeur is None else float(valeur), "secret": secret})
    return pd.DataFrame(rows)


def test_reached_on_the_deadline_year_value():
    a = attainment(cible(12), valeurs((2021, 8), (2024, 11), (2025, 12)), LIEUX, 2021)
    assert (a.statut, a.valeur, a.annee, a.niveau) == ("atteinte", 12, 2025, "epci")
    assert not a.avant_echeance


def test_partly_reached_measured_from_the_baseline():
    a = attainment(cible(95, comparaison=">="), valeurs((2021, 80), (2025, 89)), LIEUX, 2021, ratio_partiel=0.5)
    assert a.statut == "partielle" and a.depuis_reference
    assert a.progression == pytest.approx(0.6)  # (89 - 80) / (95 - 80)
    assert attainment(cible(95), valeurs((2021, 80), (2025, 86)), LIEUX, 2021, 0.5).statut == "non_atteinte"


def test_partly_without_a_usable_baseline_is_measured_against_the_target_value():
    # the baseline already met the target (12 structures in 2021), then two closed: 11 of 12
    a = attainment(cible(12), valeurs((2021, 12), (2025, 11)), LIEUX, 2021, 0.5)
    assert a.statut == "partielle" and not a.depuis_reference and a.progression == pytest.approx(11 / 12)


def test_not_reached_when_the_value_moved_away():
    a = attainment(cible(10), valeurs((2021, 6), (2025, 4)), LIEUX, 2021)
    assert a.statut == "non_atteinte" and a.progression < 0


def test_no_data_when_nothing_published_or_only_secret_values():
    vide = pd.DataFrame(columns=["annee", "niveau", "code_geo", "valeur", "secret"])
    assert attainment(cible(3), vide, LIEUX, 2021).statut == "sans_donnee"
    secret = valeurs((2025, None, "epci", T, True))
    assert attainment(cible(3), secret, LIEUX, 2021).statut == "sans_donnee"


def test_secret_value_of_the_deadline_is_never_used_the_last_published_one_is():
    a = attainment(cible(3), valeurs((2023, 2), (2025, None, "epci", T, True)), LIEUX, 2021)
    assert (a.valeur, a.annee, a.avant_echeance) == (2, 2023, True)


@pytest.mark.parametrize("derniere, statut", [(4.0, "atteinte"), (5.0, "atteinte"), (6.5, "partielle"),
                                               (7.8, "non_atteinte")])
def test_at_most_targets(derniere, statut):
    """'<=' target of 5 from 8 in 2021: 6.5 has done half the way, 7.8 a tenth."""
    a = attainment(cible(5, comparaison="<="), valeurs((2021, 8), (2025, derniere)), LIEUX, 2021, 0.5)
    assert a.statut == statut


def test_deadline_before_the_last_year_is_judged_on_its_own_year():
    a = attainment(cible(1, annee=2022), valeurs((2021, 0), (2022, 1), (2023, 0)), LIEUX, 2021)
    assert (a.statut, a.annee) == ("atteinte", 2022)


def test_publication_lag_judges_the_latest_value_before_the_deadline():
    a = attainment(cible(60), valeurs((2021, 55), (2023, 61)), LIEUX, 2021)
    assert (a.statut, a.annee, a.avant_echeance) == ("atteinte", 2023, True)


def test_perimeter_naming_a_structure_is_judged_on_that_structure():
    rows = valeurs((2021, 300, "epci", T), (2025, 400, "epci", T), (2025, 40, "structure", "CRECHE_NORD"),
                   (2025, 12, "structure", "MC_CENTRE"))
    a = attainment(cible(44, perimetre="Nouvelle crèche du nord de Ville (26001)"), rows, LIEUX, 2021)
    # judged on the crèche's 40 places (no 2021 value for a new structure: 40 of the 44 places aimed at)
    assert (a.statut, a.niveau, a.codes, a.valeur) == ("partielle", "structure", ("CRECHE_NORD",), 40)
    assert "Crèche du nord de Ville" in a.portee
    b = attainment(cible(12, perimetre="Micro-crèche du centre-ville de Ville"), rows, LIEUX, 2021)
    assert (b.statut, b.codes) == ("atteinte", ("MC_CENTRE",))


def test_perimeter_without_matching_structure_data_is_not_measurable():
    """The territory's 400 places must not be read as the 44 places of one crèche."""
    rows = valeurs((2025, 400, "epci", T), (2025, 12, "structure", "MC_CENTRE"))
    a = attainment(cible(44, perimetre="Crèche des Tilleuls, Village-sur-Rhône"), rows, LIEUX, 2021)
    assert a.statut == "non_mesurable" and a.valeur is None


def test_perimeter_of_the_whole_territory_or_a_commune_or_a_dedicated_indicator():
    rows = valeurs((2025, 7, "epci", T), (2025, 2, "commune", petit.VILLE))
    assert attainment(cible(5, perimetre="Agglo Test"), rows, LIEUX).niveau == "epci"
    commune = attainment(cible(2, perimetre="Ville"), rows, LIEUX)
    assert (commune.statut, commune.niveau, commune.valeur) == ("atteinte", "commune", 2)
    dedie = attainment(cible(3, perimetre="Centres sociaux municipaux", cible_id="dedie.c1"), rows, LIEUX)
    assert (dedie.statut, dedie.niveau) == ("atteinte", "epci")
    autre = attainment(cible(3, perimetre="Centres sociaux municipaux", cible_id="autre.c1"), rows, LIEUX)
    assert autre.statut == "non_mesurable"


def test_words_of_a_scope_ignore_accents_plural_small_words_and_insee_code():
    assert mots("Centres sociaux de la Ville (26001)") == {"centre", "social", "ville"}
    assert portee(cible(1, perimetre=None), valeurs(), LIEUX)[0] == "epci"


def test_evidence_table_with_every_status_and_the_scope():
    lignes = [petit.ligne("places", a, v) for a, v in ((2021, 10), (2025, 13))]
    lignes += [petit.ligne("creees", 2025, 2), petit.ligne("taux", 2021, 80), petit.ligne("taux", 2025, 89)]
    d = petit.donnees(lignes, cibles=[petit.cible("pe.1.c1", "places", 12), petit.cible("pe.1.c3", "creees", 5),
                                      petit.cible("pe.1.c4", "taux", 95),
                                      petit.cible("pe.1.c2", "places", 20, perimetre="Crèche inconnue")])
    md = tableau_cibles(d)
    assert ("4\u00a0cibles chiffrées : 1\u00a0atteinte, 1\u00a0partiellement atteinte, 1\u00a0non atteinte, "
            "1\u00a0non mesurable.") in md
    assert "Partiellement atteinte (60\u00a0% de la progression attendue depuis 2021)" in md
    assert "13\u00a0places (2025) — ensemble du territoire" in md
    assert "aucune donnée propre au périmètre « Crèche inconnue »" in md
    assert "Table: Cibles chiffrées de la convention et leur atteinte" in md
