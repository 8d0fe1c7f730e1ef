"""The six thematic notebooks: generated from one template, stored clean, executed with papermill."""

from __future__ import annotations

import nbformat
import papermill
import pytest

from fixtures.report import jeu
from pipeline.config import NOTEBOOKS_DIR, ROOT, THEMATIQUES
from pipeline.report.template import SECTIONS, notebook, write_notebook

PARAMETRES = ("territoire", "annee", "data_dir", "thematique")


@pytest.mark.parametrize("thematique", THEMATIQUES)
def test_notebook_stocke_propre_et_a_jour(thematique):
    chemin = NOTEBOOKS_DIR / f"{thematique}.ipynb"
    nb = nbformat.read(chemin, as_version=4)
    nbformat.validate(nb)
    assert nb.metadata.kernelspec.name == "python3"
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert all(c.outputs == [] and c.execution_count is None for c in code)
    parametres = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(parametres) == 1 and parametres[0] is nb.cells[0]
    valeurs = {}
    exec(parametres[0].source, {}, valeurs)
    assert valeurs == {"territoire": "200040459", "annee": 2024, "data_dir": "data", "thematique": thematique}
    titres = [c.source for c in nb.cells if c.cell_type == "markdown"]
    assert titres == [f"## {titre}" for titre, _ in SECTIONS]
    # the committed file is exactly what the template writes (one template for the six notebooks)
    assert chemin.read_text(encoding="utf-8") == nbformat.writes(notebook(thematique)) + "\n"


def test_write_notebook_pour_une_nouvelle_thematique(tmp_path):
    chemin = write_notebook("logement", tmp_path / "logement.ipynb")
    nb = nbformat.read(chemin, as_version=4)
    assert 'thematique = "logement"' in nb.cells[0].source


@pytest.fixture(scope="module")
def donnees(tmp_path_factory):
    return jeu.construire(tmp_path_factory.mktemp("notebooks"))


@pytest.mark.parametrize("thematique", THEMATIQUES)
def test_execution_papermill_sorties_markdown(thematique, donnees, tmp_path):
    sortie = tmp_path / f"{thematique}.ipynb"
    papermill.execute_notebook(
        str(NOTEBOOKS_DIR / f"{thematique}.ipynb"), str(sortie),
        parameters={"data_dir": str(donnees), "annee": 2024, "territoire": "200040459", "thematique": thematique},
        kernel_name="python3", cwd=str(ROOT), progress_bar=False,
    )
    nb = nbformat.read(sortie, as_version=4)
    sorties = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    assert sorties, "aucune sortie"
    for o in sorties:
        assert o.output_type == "display_data", o
        assert list(o.data) == ["text/markdown"], o
    textes = "\n".join(o.data["text/markdown"] for o in sorties)
    assert textes.startswith("Bilan 2024 de la thématique")  # introduction first (no banner: not illustrative)
    assert "Table: " in textes or "Aucun" in textes
