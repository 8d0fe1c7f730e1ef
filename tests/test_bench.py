"""bench/run.py: the edit of (d), the naive loop's notebook list, the summary lines, and one smoke run.

No timing assertion: figures depend on the machine; only the output format and the bench's own behaviour are checked.
"""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest

from pipeline.config import DataLayout, load_params
from pipeline.run import execution_jobs

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench" / "run.py"


def load_bench():
    spec = importlib.util.spec_from_file_location("bench_run", BENCH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


bench = load_bench()


def test_edit_value_changes_only_the_latest_year_with_a_value(tmp_path):
    source = ROOT / "data" / "raw" / "caf" / "txcouv_pe_epci.csv"
    path = tmp_path / source.name
    path.write_bytes(source.read_bytes())
    before = source.read_bytes().decode("utf-8-sig").splitlines()

    description = bench.edit_value(path, "txcouv_epci", Decimal("0.3"))

    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # the export's BOM is kept
    after = raw.decode("utf-8-sig").splitlines()
    changed = [i for i, (old, new) in enumerate(zip(before, after)) if old != new]
    assert len(after) == len(before) and len(changed) == 1
    header = before[0].split(";")
    old_fields, new_fields = before[changed[0]].split(";"), after[changed[0]].split(";")
    latest = max(int(line.split(";")[0]) for line in before[1:] if line.split(";")[3])
    assert int(new_fields[0]) == latest and new_fields[1] != "XX"  # the "Non réparti" rows have no value
    col = header.index("txcouv_epci")
    assert Decimal(new_fields[col]) == Decimal(old_fields[col]) + Decimal("0.3")
    assert [f for i, f in enumerate(new_fields) if i != col] == [f for i, f in enumerate(old_fields) if i != col]
    assert f"annee {latest}" in description and old_fields[col] in description and new_fields[col] in description


def test_edit_value_keeps_separator_and_line_endings(tmp_path):
    path = tmp_path / "sheet.csv"
    path.write_bytes(b"annee,structure,places\r\n2024,A,12\r\n2023,B,7\r\n2024,C,\r\n2022,D,3\r\n")

    bench.edit_value(path, "places", Decimal("-2"))

    assert path.read_bytes() == b"annee,structure,places\r\n2024,A,10\r\n2023,B,7\r\n2024,C,\r\n2022,D,3\r\n"
    with pytest.raises(SystemExit, match="no column 'capacite'"):
        bench.edit_value(path, "capacite", Decimal("1"))

    french = tmp_path / "taux.csv"  # a French spreadsheet export: `;` and decimal commas
    french.write_text("annee;taux\n2023;12,5\n2024;9,9\n", encoding="utf-8")
    assert bench.edit_value(french, "taux", Decimal("0.3")) == "line 3 (annee 2024, taux): 9,9 -> 10,2"
    assert french.read_text(encoding="utf-8") == "annee;taux\n2023;12,5\n2024;10,2\n"


def test_naive_loop_runs_the_notebooks_of_ctg_run():
    params = load_params(ROOT / "params.yaml")
    layout = DataLayout(ROOT / "data")
    for thematiques in (None, ["petite_enfance"]):
        ours = bench.naive_jobs(params, [2023, 2024], thematiques)
        theirs = execution_jobs(layout, [2023, 2024], list(thematiques or params["thematiques"]) + params["chapitres"])
        assert ours == [(job.annee, job.thematique) for job in theirs]
    assert bench.ctg_args("200040459", None, None)[1:] == ["run", "--territoire", "200040459", "--toutes-annees"]
    assert bench.ctg_args("200040459", [2024], ["enfance"])[-4:] == ["--annee", "2024", "--thematique", "enfance"]


def test_summary_gives_ratios_of_medians():
    def runs(*walls):
        return [bench.Mesure(wall=w, cpu=w / 2) for w in walls]

    results = {"a": runs(100, 120, 400), "b": runs(30, 10, 24), "c": runs(0.5, 0.9, 0.7), "d": runs(6, 9, 8)}
    lines = bench.summary(results)
    assert lines[:3] == ["b/a = 0.20", "d/b = 0.33", "no-op: 0.70 s"]
    assert lines[3] == "(CPU time: b/a 0.20, d/b 0.33, no-op 0.35 s)"


@pytest.mark.e2e
def test_bench_smoke_run(tmp_path):
    """One repetition on one year and one thématique (plus the chapters): the figures and the three lines."""
    env = {**os.environ, "TMPDIR": str(tmp_path)}
    proc = subprocess.run([sys.executable, str(BENCH), "--repeat", "1", "--annees", "2024", "--thematique",
                           "petite_enfance"], capture_output=True, text=True, env=env, timeout=1800)
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = proc.stdout.splitlines()
    for key, name in bench.CONFIGS.items():
        assert any(line.startswith(f"({key}) {name}") for line in out), proc.stdout
    assert "(d) edit: data/raw/caf/txcouv_pe_epci.csv, line" in proc.stdout
    ratios = [line for line in out if re.fullmatch(r"(b/a|d/b) = \d+\.\d\d", line)]
    noop = [line for line in out if re.fullmatch(r"no-op: \d+\.\d\d s", line)]
    assert [r.split(" = ")[0] for r in ratios] == ["b/a", "d/b"] and len(noop) == 1
    assert all(float(r.split(" = ")[1]) > 0 for r in ratios)
    assert "repetition 1/1" in proc.stderr
    assert not list(tmp_path.glob("ctg-bench-*"))  # the working copy is removed
