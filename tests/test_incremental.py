"""Incremental `ctg run`: a no-op rerun does nothing, a change to one thématique's input reruns only what reads
it, and the result is byte for byte what a full build (`--sans-cache`) gives. No timing assertion here (see bench/).
"""

from __future__ import annotations

import filecmp
import shutil
from pathlib import Path

import pytest

from conftest import ROOT, run_ctg
from pipeline import incremental
from pipeline.config import DataLayout
from pipeline.render.cache import CachedEngine, avec_cache
from pipeline.render.document import Document

SIREN = "200040459"
PETITE_ENFANCE = {"eaje_psu", "micro_creche", "creche_familiale", "rpe"}
ANNEE = "2025"  # the year whose data is edited
ANNEES = ("2024", ANNEE)  # built together: the earlier year must be left as it is


def _mtimes(folder: Path) -> dict[str, int]:
    return {str(p.relative_to(folder)): p.stat().st_mtime_ns for p in sorted(folder.rglob("*")) if p.is_file()}


def _notebooks(data: Path) -> dict[str, int]:
    interim = data / "interim" / SIREN
    return {f"{a}/{nom}": t for a in ANNEES for nom, t in _mtimes(interim / a / "notebooks").items()}


def _edit_one_thematique(data: Path) -> str:
    """Change one value of a petite-enfance structure in the year's activity sheet; returns the thématique."""
    suivi = data / "raw" / "territoires" / SIREN / "suivi" / ANNEE
    sheet = next(suivi.glob("activite.*"))
    equipements = next(suivi.glob("equipements.*"))
    assert sheet.suffix == ".xlsx" or sheet.suffix == ".csv"
    if sheet.suffix == ".xlsx":
        from openpyxl import load_workbook

        types = _structure_types_xlsx(equipements)
        wb = load_workbook(sheet)
        ws = wb.active
        header_row, header = next((i, [c.value for c in row]) for i, row in enumerate(ws.iter_rows(), 1)
                                  if "structure_id" in [c.value for c in row])
        col_id, col_ind, col_val = (header.index(c) for c in ("structure_id", "indicateur", "valeur"))
        for row in ws.iter_rows(min_row=header_row + 1):
            if types.get(row[col_id].value, "") in PETITE_ENFANCE and row[col_ind].value == "heures_realisees" \
                    and isinstance(row[col_val].value, (int, float)) and row[col_val].value > 100:
                row[col_val].value = row[col_val].value - 7  # still ≤ the hours offered
                break
        else:
            pytest.fail("no petite-enfance activity row found in the sample")
        wb.save(sheet)
    else:
        pytest.skip("sample activity sheet for the last year is expected to be XLSX")
    return "petite_enfance"


def _structure_types_xlsx(path: Path) -> dict[str, str]:
    from openpyxl import load_workbook

    ws = load_workbook(path, read_only=True).active
    rows = [[c for c in r] for r in ws.iter_rows(values_only=True)]
    i = next(i for i, r in enumerate(rows) if "structure_id" in r)
    header = rows[i]
    return {r[header.index("structure_id")]: str(r[header.index("type")] or "") for r in rows[i + 1:] if r[0]}


def _run(data: Path, reports: Path, *extra: str):
    years = [arg for a in ANNEES for arg in ("--annee", a)]
    return run_ctg("run", *years, "--data-dir", str(data), "--reports-dir", str(reports), *extra,
                   check=True)


@pytest.mark.e2e
def test_noop_then_one_thematique_then_same_bytes_as_full_build(sample_data, tmp_path):
    data, reports = tmp_path / "data", tmp_path / "reports"
    shutil.copytree(sample_data / "raw", data / "raw")
    _run(data, reports)
    before_reports, before_nb = _mtimes(reports), _notebooks(data)

    noop = _run(data, reports)
    assert "Rien à refaire" in noop.stdout
    assert _mtimes(reports) == before_reports and _notebooks(data) == before_nb

    theme = _edit_one_thematique(data)
    _run(data, reports)
    after_nb = _notebooks(data)
    rerun = {name for name in after_nb if after_nb[name] != before_nb[name]}
    # only the edited thématique and the chapters that read every thématique (impact_social) were executed again,
    # and only for the edited year: a report of 2024 reads nothing later than 2024
    assert rerun == {f"{ANNEE}/{theme}.ipynb", f"{ANNEE}/impact_social.ipynb"}, rerun
    after_reports = _mtimes(reports)
    earlier = {f for f in after_reports if f.startswith(f"{SIREN}/2024/") and not f.endswith("manifest.json")}
    assert earlier and all(after_reports[f] == before_reports[f] for f in earlier)  # 2024 not republished

    incremental_build = tmp_path / "incremental"
    shutil.copytree(reports / SIREN, incremental_build)
    _run(data, reports, "--sans-cache")  # the reference: everything rebuilt from the same inputs, same paths
    full_build = reports / SIREN
    files_a = sorted(str(p.relative_to(incremental_build)) for p in incremental_build.rglob("*") if p.is_file())
    files_b = sorted(str(p.relative_to(full_build)) for p in full_build.rglob("*") if p.is_file())
    assert files_a == files_b
    differ = [f for f in files_a if not filecmp.cmp(incremental_build / f, full_build / f, shallow=False)]
    assert not differ, f"incremental and full builds differ: {differ}"


@pytest.mark.e2e
def test_touched_output_or_input_is_not_a_noop(sample_data, tmp_path):
    data, reports = tmp_path / "data", tmp_path / "reports"
    shutil.copytree(sample_data / "raw", data / "raw")
    _run(data, reports)
    page = reports / SIREN / ANNEE / "index.html"
    page.write_text(page.read_text(encoding="utf-8") + "<!-- modifié à la main -->", encoding="utf-8")
    again = _run(data, reports)
    assert "Rien à refaire" not in again.stdout
    assert "modifié à la main" not in page.read_text(encoding="utf-8")  # republished from the inputs
    assert "Rien à refaire" in _run(data, reports).stdout
    comments = data / "raw" / "territoires" / SIREN / "ctg.yaml"
    comments.write_text(comments.read_text(encoding="utf-8") + "\n# note\n", encoding="utf-8")
    assert "Rien à refaire" not in _run(data, reports).stdout


def test_notebook_keys_follow_only_the_slice(tmp_path):
    """The key of a notebook changes with its data fingerprint, its parameters and the shared inputs only."""
    source = tmp_path / "nb.ipynb"
    source.write_text("{}")
    k = incremental.cle_notebook(source, {"annee": 2025}, "commune", "d1")
    assert k == incremental.cle_notebook(source, {"annee": 2025}, "commune", "d1")
    assert k != incremental.cle_notebook(source, {"annee": 2024}, "commune", "d1")
    assert k != incremental.cle_notebook(source, {"annee": 2025}, "commune2", "d1")
    assert k != incremental.cle_notebook(source, {"annee": 2025}, "commune", "d2")
    assert incremental.cle_notebook(source, {"annee": 2025}, "commune", None) is None  # no fingerprint: always run


def test_follow_up_sheets_are_not_shared_files(sample_data):
    layout = DataLayout(sample_data, SIREN)
    shared = {p.relative_to(layout.raw).as_posix() for p in incremental.fichiers_partages(layout)}
    assert f"territoires/{SIREN}/ctg.yaml" in shared
    assert not any(s.startswith("caf/") for s in shared)
    assert not any(s.startswith(f"territoires/{SIREN}/suivi/20") for s in shared)


class _Counting:
    name = "pandoc-typst"

    def __init__(self):
        self.calls = 0

    def render(self, doc, out_dir, formats=("html", "pdf")):
        self.calls += 1
        out = []
        for fmt in formats:
            path = Path(out_dir) / f"{doc.stem}.{fmt}"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(f"{fmt}:{doc.body}")
            out.append(path)
        return out


def test_render_cache_copies_same_document_and_renders_a_changed_one(tmp_path):
    import datetime as dt

    engine = _Counting()
    cached = avec_cache(engine, tmp_path / "cache")
    assert isinstance(cached, CachedEngine)
    doc = Document(title="T", date=dt.date(2025, 12, 31), body="corps", stem="page")
    first = cached.render(doc, tmp_path / "out1", ("html", "pdf"))
    second = cached.render(doc, tmp_path / "out2", ("html", "pdf"))
    assert engine.calls == 1 and [p.read_text() for p in first] == [p.read_text() for p in second]
    cached.render(Document(title="T", date=dt.date(2025, 12, 31), body="autre", stem="page"), tmp_path / "o3")
    cached.render(Document(title="T", date=dt.date(2024, 12, 31), body="corps", stem="page"), tmp_path / "o4")
    cached.render(doc, tmp_path / "o5", ("html",))  # other formats: another entry
    assert engine.calls == 4
    assert avec_cache(engine, None) is engine


def test_noop_check_imports_nothing_heavy():
    """`ctg run` with nothing to do must answer in a fraction of a second: no pandas, nbformat or GX import."""
    import subprocess
    import sys

    code = ("import sys; from pipeline import run, incremental; "
            "print(sorted(m for m in ('pandas', 'nbformat', 'papermill', 'great_expectations') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
