"""The social-impact notebook executed with papermill for every year of the sample (2021-2025): Markdown outputs
only, every section present, every logic-model link an indicator of the catalogue."""

from __future__ import annotations

import re
import shutil

import nbformat
import papermill
import pytest

from pipeline.config import DataLayout, NOTEBOOKS_DIR, ROOT, load_params
from pipeline.impact import contexte, modele_logique
from pipeline.impact.notebooks import SECTIONS
from pipeline.indicators import load_catalogue
from pipeline.prepare import catalogue_path, prepare
from pipeline.render import notebook_to_markdown

ANNEES = [2021, 2022, 2023, 2024, 2025]
TERRITOIRE = "200040459"


@pytest.fixture(scope="module")
def donnees(tmp_path_factory):
    """A prepared copy of the sample data (raw copied, processed tables computed)."""
    data = tmp_path_factory.mktemp("impact") / "data"
    shutil.copytree(ROOT / "data" / "raw", data / "raw")
    prepare(DataLayout(data, TERRITOIRE), load_params())
    return data


@pytest.fixture(scope="module")
def catalogue():
    return load_catalogue(catalogue_path(load_params()))


@pytest.mark.parametrize("annee", ANNEES)
def test_impact_social_executes_for_every_year(donnees, catalogue, annee, tmp_path):
    sortie = tmp_path / "impact_social.ipynb"
    papermill.execute_notebook(str(NOTEBOOKS_DIR / "impact_social.ipynb"), str(sortie), kernel_name="python3",
                               parameters={"territoire": TERRITOIRE, "annee": annee, "data_dir": str(donnees)},
                               cwd=str(ROOT), progress_bar=False)
    nb = nbformat.read(sortie, as_version=4)
    sorties = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    assert sorties and all(o.output_type == "display_data" and list(o.data) == ["text/markdown"] for o in sorties)
    corps = notebook_to_markdown(nb)
    for titre, _ in SECTIONS["impact_social"]:
        if titre:
            assert f"## {titre}" in corps
    assert f"Table: Évolution {annee - 1}-{annee} — Petite enfance." in corps
    assert "euros courants" in corps  # no price index in the sample: said explicitly
    assert corps.count("](data:image/png;base64,") >= 7  # six logic models and the funding chart
    assert "nan" not in re.sub(r"data:image/png;base64,[^)]*", "", corps).lower().split()
    # the logic-model tables name catalogue ids in their last column (ids may carry break opportunities)
    refs = re.findall(r"^\| (?:Moyens|Réalisations|Résultats|Impact) .*\| ([^|]+?) *\|$", corps, flags=re.M)
    assert refs and {r.replace("\\_\u200b", "_") for r in refs} <= set(catalogue)


def test_every_logic_model_link_comes_from_the_catalogue(donnees, catalogue):
    d = contexte(TERRITOIRE, 2025, donnees)
    for th in d.thematiques:
        maillons = modele_logique(d, th)
        assert {m.niveau for m in maillons} >= {"moyens", "realisations", "resultats"}, th
        for m in maillons:
            assert m.indicateur in catalogue
            niveaux = catalogue[m.indicateur]["modele_logique"]
            assert m.niveau in (niveaux if isinstance(niveaux, list) else [niveaux])
            assert m.constat  # a value with its year, a gap, or « pas de valeur publiée »
