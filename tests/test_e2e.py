"""End to end: the bundled sample data → published HTML and A4 PDF reports; DVC declares the same pipeline."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from conftest import ROOT

YEARS = [2021, 2022, 2023, 2024, 2025]
THEMES = ["acces_droits", "petite_enfance", "enfance", "jeunesse", "parentalite", "animation_vie_sociale"]


def pdf_pages(path: Path) -> list[tuple[float, float]]:
    """(width, height) in points of every page, from the PDF's MediaBoxes."""
    data = path.read_bytes()
    boxes = re.findall(rb"/MediaBox\s*\[\s*0\s+0\s+([\d.]+)\s+([\d.]+)\s*\]", data)
    return [(float(w), float(h)) for w, h in boxes]


@pytest.mark.e2e
@pytest.mark.parametrize("annee", YEARS)
def test_every_year_has_html_and_a4_pdf_reports(built_reports, annee):
    folder = built_reports / "200040459" / str(annee)
    assert (folder / "index.html").is_file()
    assert (folder / f"rapport_ctg_{annee}.pdf").is_file()
    for th in THEMES:
        html = (folder / "thematiques" / f"{th}.html").read_text(encoding="utf-8")
        assert re.search(r'<html[^>]*lang="fr"', html)
        assert "<script src=" not in html
        assert not re.search(r'(src|href)="https?://', html), f"{th}.html loads an external resource"
        assert "def " not in html and "import " not in html, f"{th}.html shows code"
        pages = pdf_pages(folder / "thematiques" / f"{th}.pdf")
        assert pages and all(abs(w - 595.28) < 1 and abs(h - 841.89) < 1 for w, h in pages), "not A4"


@pytest.mark.e2e
def test_reports_carry_the_illustration_banner(built_reports):
    html = (built_reports / "200040459" / "2025" / "thematiques" / "petite_enfance.html").read_text(encoding="utf-8")
    assert "Données d'illustration" in html or "Données d’illustration" in html


@pytest.mark.e2e
def test_run_never_writes_into_raw_data(sample_data, built_reports):
    original = {p.relative_to(ROOT / "data" / "raw"): p.read_bytes() for p in (ROOT / "data" / "raw").rglob("*") if p.is_file()}
    copy = {p.relative_to(sample_data / "raw"): p.read_bytes() for p in (sample_data / "raw").rglob("*") if p.is_file()}
    assert copy == original


def _project_copy(tmp_path: Path) -> Path:
    """A copy of the project (committed layout, sample data) reduced to one year and one thématique."""
    dest = tmp_path / "projet"
    ignore = shutil.ignore_patterns(".venv", ".git", "reports", "processed", "interim", "__pycache__", "test-artifacts", ".pytest_cache")
    shutil.copytree(ROOT, dest, ignore=ignore)
    params = yaml.safe_load((dest / "params.yaml").read_text(encoding="utf-8"))
    params["annees"] = [2025]
    params["thematiques"] = ["petite_enfance"]
    (dest / "params.yaml").write_text(yaml.safe_dump(params, allow_unicode=True, sort_keys=False), encoding="utf-8")
    (dest / "dvc.lock").unlink(missing_ok=True)
    for cmd in (["git", "init", "-q"], ["git", "add", "-A"], ["git", "-c", "user.email=ci@example.org", "-c", "user.name=ci", "commit", "-qm", "copy"]):
        subprocess.run(cmd, cwd=dest, check=True, capture_output=True)
    return dest


@pytest.mark.e2e
def test_dvc_repro_builds_then_reruns_nothing(tmp_path):
    dest = _project_copy(tmp_path)
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}", "DVC_NO_ANALYTICS": "1", "PYTHONHASHSEED": "0"}
    dvc = str(Path(sys.executable).parent / "dvc")
    first = subprocess.run([dvc, "repro"], cwd=dest, env=env, capture_output=True, text=True)
    assert first.returncode == 0, first.stdout + first.stderr
    published = dest / "reports" / "200040459" / "2025"
    assert (published / "thematiques" / "petite_enfance.pdf").is_file()
    assert (published / "index.html").is_file()
    second = subprocess.run([dvc, "repro"], cwd=dest, env=env, capture_output=True, text=True)
    assert second.returncode == 0, second.stdout + second.stderr
    assert "Running stage" not in second.stdout, second.stdout
    status = subprocess.run([dvc, "status"], cwd=dest, env=env, capture_output=True, text=True)
    assert "up to date" in status.stdout, status.stdout


@pytest.mark.e2e
@pytest.mark.parametrize("annee", [2022, 2025])
def test_annual_report_includes_social_impact_chapter_and_yoy_table(built_reports, annee):
    folder = built_reports / "200040459" / str(annee)
    page = " ".join((folder / "impact_social.html").read_text(encoding="utf-8").split())
    for heading in ("Modèle logique des feuilles de route", "Investissement social", "Évolution de tous les indicateurs"):
        assert heading in page, heading
    text = subprocess.run(["pdftotext", str(folder / f"rapport_ctg_{annee}.pdf"), "-"], capture_output=True, text=True).stdout
    assert "Évolution de tous les indicateurs" in " ".join(text.split())
