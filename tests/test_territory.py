"""The territory files (communes, legal populations, boundaries) and their loaders."""

from __future__ import annotations

import shutil

import pandas as pd
import pytest

from pipeline.config import ROOT, DataLayout
from pipeline.territory import (
    TerritoireError,
    load_communes,
    load_geometries,
    load_populations,
    millesime_population,
    population,
    qpv_list,
)

LAYOUT = DataLayout(ROOT / "data", "200040459")
# Population municipale of Montélimar Agglomération by INSEE millésime (shared/data/README.md).
EPCI_POPULATION = {2018: 66944, 2019: 67520, 2020: 67708, 2021: 68546, 2022: 68756, 2023: 69275}


@pytest.fixture
def copy_layout(tmp_path) -> DataLayout:
    """A private copy of the territory and INSEE files, safe to break."""
    lay = DataLayout(tmp_path, "200040459")
    shutil.copytree(LAYOUT.territoire_dir, lay.territoire_dir, ignore=shutil.ignore_patterns("suivi"))
    shutil.copytree(LAYOUT.insee, lay.insee)
    return lay


def test_communes_of_the_epci():
    communes = load_communes(LAYOUT)
    assert list(communes.columns) == ["code_insee", "commune", "niveau_service", "qpv"]
    assert len(communes) == 27 and communes["code_insee"].is_unique
    assert communes["code_insee"].str.fullmatch(r"26\d{3}").all()
    niveaux = communes.set_index("commune")["niveau_service"]
    assert niveaux["Montélimar"] == "pole_superieur"
    assert sorted(niveaux[niveaux == "pole_intermediaire"].index) == ["Cléon-d'Andran", "Saulce-sur-Rhône"]
    assert niveaux.isna().sum() == 24  # the 19 proximity poles are not named by the convention
    montelimar = communes.set_index("code_insee").loc["26198", "qpv"]
    assert qpv_list(montelimar) == ["Quartier Ouest (Pracomtal)", "Nocaze", "Centre ancien"]
    assert communes["qpv"].notna().sum() == 1 and qpv_list(pd.NA) == []


def test_populations_keep_codes_as_strings():
    pops = load_populations(LAYOUT)
    assert pops["code_insee"].str.len().eq(5).all()
    assert "04013" in set(pops["code_insee"])  # leading zero kept (Alpes-de-Haute-Provence member of a Drôme EPCI)
    assert sorted(pops["millesime"].unique()) == list(EPCI_POPULATION)
    assert len(pops) == 492 * 6


@pytest.mark.parametrize("annee, millesime", [(2021, 2018), (2024, 2021), (2025, 2022), (2026, 2023)])
def test_report_year_uses_millesime_n_minus_3(annee, millesime):
    assert millesime_population(annee) == millesime


def test_epci_population_by_report_year():
    assert population(LAYOUT, 2024) == 68546  # millésime 2021
    for millesime, expected in EPCI_POPULATION.items():
        assert population(LAYOUT, millesime + 3, niveau="epci") == expected


def test_commune_population_sums_to_epci():
    table = population(LAYOUT, 2024, niveau="commune")
    assert len(table) == 27 and set(table["millesime"]) == {2021}
    assert int(table["population_municipale"].sum()) == 68546
    assert table.set_index("commune").loc["Montélimar", "population_municipale"] > 39000


def test_population_missing_millesime_is_a_french_error():
    with pytest.raises(TerritoireError, match=r"millésime 2027 \(rapport 2030\) absente pour 27 commune"):
        population(LAYOUT, 2030)
    with pytest.raises(ValueError, match="niveau « region » inconnu"):
        population(LAYOUT, 2024, niveau="region")


def test_geometries_cover_the_27_communes():
    collection = load_geometries(LAYOUT)
    codes = [f["properties"]["code_insee"] for f in collection["features"]]
    assert collection["type"] == "FeatureCollection"
    assert sorted(codes) == sorted(load_communes(LAYOUT)["code_insee"])
    assert all(f["geometry"]["type"] in {"Polygon", "MultiPolygon"} for f in collection["features"])
    assert set(collection["features"][0]["properties"]) == {"code_insee", "nom"}


def test_codes_without_leading_zero_are_restored(copy_layout):
    path = copy_layout.insee / "populations_legales.csv"
    path.write_text(path.read_text(encoding="utf-8").replace("\n04013,", "\n4013,"), encoding="utf-8")
    assert "04013" in set(load_populations(copy_layout)["code_insee"])


def test_broken_communes_file(copy_layout):
    path = copy_layout.communes
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("niveau_service", "niveau"), encoding="utf-8")
    with pytest.raises(TerritoireError, match="colonnes manquantes : niveau_service"):
        load_communes(copy_layout)
    path.write_text(text.replace("pole_superieur", "metropole"), encoding="utf-8")
    with pytest.raises(TerritoireError, match="niveau_service « metropole » inconnu"):
        load_communes(copy_layout)
    path.unlink()
    with pytest.raises(TerritoireError, match="communes.csv : fichier introuvable"):
        load_communes(copy_layout)


def test_missing_geometry_is_reported(copy_layout):
    path = copy_layout.insee / "communes.geojson"
    path.write_text(path.read_text(encoding="utf-8").replace('"26198"', '"99999"'), encoding="utf-8")
    with pytest.raises(TerritoireError, match="contour absent pour 1 commune.*26198"):
        load_geometries(copy_layout)
