"""French formats of the report helpers (pipeline.report.fmt), through Babel."""

import datetime as dt
import math

import pytest

from pipeline.report import fmt

NNBSP, NBSP = "\u202f", "\xa0"


@pytest.mark.parametrize("valeur, decimales, attendu", [
    (1234.5, 1, f"1{NNBSP}234,5"),
    (1234567, 0, f"1{NNBSP}234{NNBSP}567"),
    (62.44, 1, "62,4"),
    (0, 0, "0"),
    (-12.5, 1, "-12,5"),
])
def test_nombre(valeur, decimales, attendu):
    assert fmt.nombre(valeur, decimales) == attendu


def test_valeur_absente_donne_nd():
    assert fmt.nombre(None) == fmt.nombre(math.nan) == fmt.pourcentage(math.nan) == fmt.euros(None) == "n.d."
    assert fmt.evolution_points(None) == fmt.evolution_pct(math.nan) == "n.d."


def test_pourcentage_et_euros():
    assert fmt.pourcentage(12.34) == f"12,3{NBSP}%"
    assert fmt.pourcentage(60, 0) == f"60{NBSP}%"
    assert fmt.euros(1234) == f"1{NNBSP}234{NBSP}€"
    assert fmt.euros(1250000) == f"1{NNBSP}250{NNBSP}000{NBSP}€"


def test_date_longue_ordinal_du_premier():
    assert fmt.date_longue(dt.date(2021, 4, 1)) == "1er avril 2021"
    assert fmt.date_longue(dt.date(2024, 11, 15)) == "15 novembre 2024"
    assert fmt.date_longue(dt.date(2025, 1, 2)) == "2 janvier 2025"


def test_evolutions_signees_et_accord_de_point():
    assert fmt.evolution_points(3.14) == f"+3,1{NBSP}points"
    assert fmt.evolution_points(-2.06) == f"-2,1{NBSP}points"
    assert fmt.evolution_points(1.5) == f"+1,5{NBSP}point"      # French: singular below 2
    assert fmt.evolution_points(0.04) == f"0,0{NBSP}point"      # rounds to zero: no sign
    assert fmt.evolution_pct(9.666) == f"+9,7{NBSP}%"
    assert fmt.evolution_pct(-3.24) == f"-3,2{NBSP}%"


def test_avec_unite_et_compte():
    assert fmt.avec_unite(62.4, "places pour 100 enfants", 1) == f"62,4{NBSP}places pour 100 enfants"
    assert fmt.avec_unite(39.5, "%", 1) == f"39,5{NBSP}%"
    assert fmt.avec_unite(1200, "€") == f"1{NNBSP}200{NBSP}€"
    assert fmt.avec_unite(3, "") == "3"
    assert fmt.avec_unite(1, "réunions") == f"1{NBSP}réunion"
    assert fmt.avec_unite(0, "lieux") == f"0{NBSP}lieu"
    assert fmt.avec_unite(1.5, "places pour 100 enfants", 1) == f"1,5{NBSP}place pour 100 enfants"
    assert fmt.avec_unite(1, "rendez-vous") == f"1{NBSP}rendez-vous"
    assert fmt.avec_unite(1, "ETP") == f"1{NBSP}ETP"
    assert fmt.avec_unite(2, "réunions") == f"2{NBSP}réunions"
    assert fmt.compte(1, "commune", "communes") == f"1{NBSP}commune"
    assert fmt.compte(27, "commune", "communes") == f"27{NBSP}communes"


def test_taux_reconnus_par_leur_unite():
    assert fmt.est_taux("%") and fmt.est_taux("places pour 100 enfants de moins de 3 ans")
    assert not fmt.est_taux("places") and not fmt.est_taux(None)


def test_marqueur_du_secret():
    assert fmt.SECRET == "s"
