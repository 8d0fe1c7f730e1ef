"""Reviewable notebooks: committed notebooks carry no outputs, and `python -m pipeline.lab --strip` makes them so."""

from __future__ import annotations

import shutil
import subprocess

import nbformat
import pytest

from conftest import ROOT
from pipeline.lab import committed_notebooks, is_clean, main, strip_notebook
from pipeline.report.template import write_notebook

NOTEBOOKS = committed_notebooks(ROOT)


def test_there_are_notebooks_to_check():
    assert {p.stem for p in NOTEBOOKS} >= {"petite_enfance", "enfance", "jeunesse"}
    assert not any("_lab" in p.parts for p in NOTEBOOKS)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_committed_notebook_has_no_output_and_a_parameters_cell(path):
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [], f"{path.name}: sorties présentes (python -m pipeline.lab --strip)"
            assert cell.execution_count is None, f"{path.name}: compteur d'exécution présent"
    tagged = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(tagged) == 1 and tagged[0].cell_type == "code"
    assert not strip_notebook(path, check=True), f"{path.name}: à nettoyer (python -m pipeline.lab --strip)"


def _as_saved_by_jupyter(path):
    """What JupyterLab writes after running and saving the notebook: outputs, counts, run metadata."""
    nb = nbformat.read(path, as_version=4)
    for n, cell in enumerate(c for c in nb.cells if c.cell_type == "code"):
        cell.execution_count = n + 1
        cell.outputs = [nbformat.v4.new_output("display_data", data={"text/markdown": "**x**"})]
        cell.metadata["execution"] = {"iopub.execute_input": "2025-01-01T00:00:00Z"}
        cell.metadata["scrolled"] = True
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}
    nb.metadata["language_info"] = {"name": "python", "version": "3.11.7", "mimetype": "text/x-python"}
    nb.metadata["widgets"] = {"application/vnd.jupyter.widget-state+json": {}}
    nbformat.write(nb, path)


def test_strip_restores_the_template_bytes_and_keeps_tags_and_ids(tmp_path):
    path = write_notebook("enfance", tmp_path / "enfance.ipynb")
    original = path.read_text(encoding="utf-8")
    _as_saved_by_jupyter(path)
    assert not is_clean(nbformat.read(path, as_version=4))
    assert strip_notebook(path, check=True) and path.read_text(encoding="utf-8") != original  # --check writes nothing
    assert strip_notebook(path) is True
    assert path.read_text(encoding="utf-8") == original
    assert strip_notebook(path) is False  # idempotent


def test_strip_command_cleans_committed_notebooks_only(tmp_path, capsys):
    notebooks = tmp_path / "notebooks"
    shutil.copytree(ROOT / "notebooks", notebooks, ignore=shutil.ignore_patterns("_lab", ".ipynb_checkpoints"))
    dirty = notebooks / "jeunesse.ipynb"
    _as_saved_by_jupyter(dirty)
    scratch = [notebooks / "_lab" / "jeunesse_2024.ipynb", notebooks / ".ipynb_checkpoints" / "jeunesse-checkpoint.ipynb"]
    for path in scratch:  # the lab's copies and Jupyter's checkpoints are not committed: left alone
        path.parent.mkdir()
        shutil.copy(dirty, path)
    found = committed_notebooks(tmp_path)
    assert dirty in found and not set(scratch) & set(found)

    assert main(["--strip", "--check", *map(str, found)]) == 1
    assert "à nettoyer" in capsys.readouterr().out
    assert main(["--strip", *map(str, found)]) == 0
    assert "nettoyé : " + str(dirty) in capsys.readouterr().out
    assert all(is_clean(nbformat.read(p, as_version=4)) for p in found)
    assert not any(is_clean(nbformat.read(p, as_version=4)) for p in scratch)
    assert main(["--strip", "--check", *map(str, found)]) == 0


def test_lab_copies_are_ignored_by_git():
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("git indisponible")
    ignored = subprocess.run(["git", "check-ignore", "-q", "notebooks/_lab/petite_enfance_2024.ipynb"], cwd=ROOT)
    assert ignored.returncode == 0
