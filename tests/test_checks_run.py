"""`ctg run` with bad inputs or failing stages, after a first publication: exit code 2 (data) or 1 (anything
else), a French message naming the file and column, the published reports byte for byte unchanged, no staging
folder left, nothing computed from bad data."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import nbformat
import pytest
from typer.testing import CliRunner

from corpus.mutations import CASES
from pipeline.checks.result import shown_path
from pipeline.cli import app

pytestmark = pytest.mark.e2e   # runs the whole pipeline (see the `built_reports` fixture)
TERRITOIRE = "200040459"
RUN_CASES = ["statut_faux_xlsx", "compte_negatif", "libelles_inconnus", "xlsx_tronque"]


def digest(folder: Path) -> dict[str, str]:
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def staging(reports: Path) -> list[Path]:
    return [p for p in (reports / TERRITOIRE).iterdir() if p.name.startswith((".staging-", ".ancien-"))]


@pytest.fixture(scope="module")
def published(built_reports, tmp_path_factory) -> tuple[Path, dict]:
    """A reports folder holding the 2025 set published by the session's first run, and its digest."""
    reports = tmp_path_factory.mktemp("publies") / "reports"
    shutil.copytree(built_reports / TERRITOIRE / "2025", reports / TERRITOIRE / "2025")
    return reports, digest(reports)


def fresh_copy(sample_data: Path, target: Path) -> Path:
    shutil.copytree(sample_data / "raw", target / "raw")
    return target


def ctg_run(data: Path, reports: Path, *themes: str):
    args = ["run", "--annee", "2025", "--jobs", "1", "--data-dir", str(data), "--reports-dir", str(reports)]
    for theme in themes or ("petite_enfance",):
        args += ["--thematique", theme]
    return CliRunner().invoke(app, args)


@pytest.mark.parametrize("name", RUN_CASES)
def test_run_stops_on_bad_input_and_keeps_the_published_reports(sample_data, published, tmp_path, name):
    reports, before = published
    case = next(c for c in CASES if c.name == name)
    data = fresh_copy(sample_data, tmp_path / "data")
    case.mutate(data)
    result = ctg_run(data, reports)
    assert result.exit_code == 2, result.output
    message = result.stderr
    assert "Erreur : données non conformes" in message
    line = next(l for l in message.splitlines() if l.startswith(shown_path(case.file, str(data))))
    assert case.rule in line
    if case.column:
        assert f"colonne « {case.column} »" in line or f"({case.column})" in line
    assert digest(reports) == before and not staging(reports)
    assert not (data / "processed").exists()    # nothing computed from bad data
    report = json.loads((data / "interim" / TERRITOIRE / "validation.json").read_text(encoding="utf-8"))
    assert any(p["file"] == case.file for p in report["problemes"])


def test_an_exception_in_a_notebook_keeps_the_published_reports(sample_data, published, tmp_path, monkeypatch):
    """A real notebook run that raises: exit code 1, the notebook named, the previous set untouched."""
    from pipeline import execute
    from pipeline.config import NOTEBOOKS_DIR

    reports, before = published
    notebooks = tmp_path / "notebooks"
    shutil.copytree(NOTEBOOKS_DIR, notebooks)
    nb = nbformat.read(notebooks / "petite_enfance.ipynb", as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell('raise RuntimeError("panne dans le notebook")'))
    nbformat.write(nb, notebooks / "petite_enfance.ipynb")
    monkeypatch.setattr(execute, "NOTEBOOKS_DIR", notebooks)
    data = fresh_copy(sample_data, tmp_path / "data")
    result = ctg_run(data, reports)
    assert result.exit_code == 1, result.output
    assert "petite_enfance" in result.stderr and "panne dans le notebook" in result.stderr
    assert digest(reports) == before and not staging(reports)
    assert not list((data / "interim").rglob("*.tmp.ipynb"))


@pytest.mark.parametrize("failure", [KeyboardInterrupt, OSError])
def test_a_failure_while_rendering_removes_the_staging_folder(sample_data, published, tmp_path, monkeypatch,
                                                               failure):
    """Ctrl-C or a disk error in the middle of rendering: the half-written staging folder is removed."""
    from pipeline import assemble
    from pipeline.config import DataLayout, load_params
    from pipeline.run import stage_publish

    reports, before = published

    def half_written(layout, params, annee, thematiques, interim, out, *more):
        (out / "thematiques").mkdir(parents=True)
        (out / "thematiques" / "petite_enfance.html").write_text("<html>moitié", encoding="utf-8")
        raise failure("interrompu")

    monkeypatch.setattr(assemble, "build_report_set", half_written)
    with pytest.raises(failure):
        stage_publish(DataLayout(sample_data), load_params(), 2025, ["petite_enfance"], reports)
    assert digest(reports) == before and not staging(reports)
