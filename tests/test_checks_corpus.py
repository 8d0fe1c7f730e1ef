"""Corrupted inputs (tests/corpus/mutations.py): `ctg validate` exits with 2 and names the file, the line, the
column, the rule and the value in French; real export quirks pass; unusual values are warnings (exit 0).

Cases touching independent files are validated together (one `ctg validate` per batch); every problem printed
must then belong to one of the batch's cases, so a case can neither hide behind another nor report noise.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest
from typer.testing import CliRunner

from conftest import run_ctg
from corpus.mutations import CASES, QUIRKS, WARNINGS, Case, batches, set_cell, s
from pipeline.checks.result import shown_path
from pipeline.cli import app

BATCHES = batches(CASES)
BATCH_OF = {case.name: number for number, batch in enumerate(BATCHES) for case in batch}


@dataclass
class Run:
    data: Path
    exit_code: int
    stdout: str
    stderr: str
    report: dict

    @property
    def problems(self) -> list[dict]:
        return self.report["problemes"]

    @property
    def warnings(self) -> list[dict]:
        return self.report["avertissements"]

    def printed(self, case: Case) -> list[str]:
        """Printed problem lines that name the case's file."""
        path = shown_path(case.file, str(self.data))
        return [line for line in self.stderr.splitlines() if line.startswith(f"- {path}")]


def validate_copy(sample_data: Path, target: Path, mutations) -> Run:
    """Copy the sample data, apply the mutations, run the real `ctg validate` command in this process."""
    shutil.copytree(sample_data / "raw", target / "raw")
    for mutate in mutations:
        mutate(target)
    report = target / "validation.json"
    result = CliRunner().invoke(app, ["validate", "--data-dir", str(target), "--rapport", str(report)])
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return Run(target, result.exit_code, result.stdout, result.stderr,
               json.loads(report.read_text(encoding="utf-8")))


@pytest.fixture(scope="module")
def corpus_run(sample_data, tmp_path_factory):
    """The validation of one batch of cases, run once per module and batch."""
    cache: dict[str, Run] = {}

    def get(key: str, mutations) -> Run:
        if key not in cache:
            cache[key] = validate_copy(sample_data, tmp_path_factory.mktemp(f"corpus-{key}"), mutations)
        return cache[key]

    return get


def batch_run(corpus_run, number: int) -> Run:
    return corpus_run(f"lot{number}", [case.mutate for case in BATCHES[number]])


def matching(entries: list[dict], case: Case) -> list[dict]:
    return [p for p in entries
            if p["file"] == case.file and case.rule in p["rule"]
            and (case.column is None or p["column"] == case.column)
            and (case.line is None or case.line in p["lines"])]


def test_the_corpus_has_at_least_thirty_corrupted_inputs():
    assert len({case.name for case in CASES}) == len(CASES) >= 30


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_corrupted_input_is_reported_in_french(corpus_run, case):
    run = batch_run(corpus_run, BATCH_OF[case.name])
    assert run.exit_code == 2, run.stdout + run.stderr
    found = matching(run.problems, case)
    assert found, f"{case.name}: no problem « {case.rule} » on {case.file} / {case.column} / {case.line}:\n" \
                  + json.dumps([p for p in run.problems if p["file"] == case.file], ensure_ascii=False, indent=1)
    lines = [line for line in run.printed(case) if case.rule in line]
    assert lines, run.stderr
    line = lines[0]
    if case.column:
        assert f"colonne « {case.column} »" in line or f"({case.column})" in line, line
    if case.line:
        assert f"ligne {case.line}" in line or f" {case.line}," in line or f" {case.line} " in line, line
    for fragment in case.extra:
        assert fragment in line, line


@pytest.mark.parametrize("number", range(len(BATCHES)))
def test_every_problem_belongs_to_a_mutated_file(corpus_run, number):
    """Nothing else is reported: a broken file stops its own checks only, the others stay clean."""
    run = batch_run(corpus_run, number)
    files = {case.file for case in BATCHES[number]}
    assert {p["file"] for p in run.problems} <= files
    for case in BATCHES[number]:
        assert matching(run.problems, case), case.name
    assert run.report["regles"] > 50 and run.report["regles_respectees"] < run.report["regles"]


def test_all_problems_are_listed_at_once(corpus_run):
    """A batch of independent mistakes gives one line per problem, in one run."""
    run = batch_run(corpus_run, 0)
    assert len(BATCHES[0]) >= 15
    assert len({p["file"] for p in run.problems}) == len(BATCHES[0])
    assert f"{len(run.problems)} problèmes" in run.stderr.splitlines()[-1]


def test_real_export_quirks_are_accepted(corpus_run):
    """UTF-8 BOM, Windows-1252, decimal commas and thousands separators, trailing empty lines, XLSX header
    offset, Caf export with labels, tab separator: all read, no problem and no warning."""
    run = corpus_run("particularites", list(QUIRKS.values()))
    assert run.exit_code == 0, run.stderr
    assert run.problems == [] and run.warnings == []
    assert "tout est conforme" in run.stdout


@pytest.mark.parametrize("case", WARNINGS, ids=[case.name for case in WARNINGS])
def test_unusual_values_are_warnings_not_errors(corpus_run, case):
    run = corpus_run("avertissements", [c.mutate for c in WARNINGS])
    assert run.exit_code == 0, run.stderr
    assert run.problems == []
    assert matching(run.warnings, case), json.dumps(run.warnings, ensure_ascii=False, indent=1)
    assert any(case.rule in line for line in run.printed(case))
    for fragment in case.extra:
        assert any(fragment in line for line in run.printed(case))


def test_the_installed_command_exits_with_2_and_a_french_message(sample_data, tmp_path):
    """The `ctg` executable itself, as a user runs it."""
    data = tmp_path / "donnees"
    shutil.copytree(sample_data / "raw", data / "raw")
    set_cell(s(2025, "actions", "xlsx"), 3, "statut", "terminé ?")(data)
    proc = run_ctg("validate", "--data-dir", str(data))
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert (f"{data}/raw/territoires/200040459/suivi/2025/actions.xlsx, feuille « actions », ligne 7, "
            f"colonne B (statut) : statut hors vocabulaire (valeur lue : « terminé ? »)") in proc.stderr
    assert "1 problème" in proc.stderr


def test_an_unexpected_failure_exits_with_1(monkeypatch, tmp_path):
    """Anything that is not a data error (a bug, a missing library…) gives exit code 1."""
    from pipeline import checks

    def broken(*args, **kwargs):
        raise RuntimeError("panne [imprévue]")

    monkeypatch.setattr(checks, "validate", broken)
    result = CliRunner().invoke(app, ["validate", "--data-dir", str(tmp_path)])
    assert result.exit_code == 1
    assert "Erreur : panne [imprévue]" in result.stderr
