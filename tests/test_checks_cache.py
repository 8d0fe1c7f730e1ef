"""The validation cache (pipeline/checks/cache.py): an unchanged dataset frame is replayed from its stored outcome,
byte for byte, without importing great-expectations; a changed one is validated again, alone."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from corpus.mutations import ACT25, XLSX_HEADER_ROW, set_cell
from pipeline import checks
from pipeline.checks import cache, engine
from pipeline.checks.rules import RULES, Context
from pipeline.config import ROOT, DataLayout, load_params

PARAMS = load_params()


@pytest.fixture
def data(sample_data, tmp_path) -> Path:
    target = tmp_path / "data"
    shutil.copytree(sample_data / "raw", target / "raw")
    return target


@pytest.fixture
def gx_runs(monkeypatch) -> list[str]:
    """The datasets really validated with great-expectations (not replayed from the cache)."""
    runs = []
    real = engine.validate

    def counted(dataset, *args, **kwargs):
        runs.append(dataset)
        return real(dataset, *args, **kwargs)

    monkeypatch.setattr(engine, "validate", counted)
    monkeypatch.delenv("CTG_CACHE", raising=False)
    return runs


def entries(layout: DataLayout) -> list[Path]:
    return sorted(cache.folder(layout).glob("*.json"))


def validated_datasets(layout: DataLayout) -> set[str]:
    """The raw datasets that have rules to run on the sample data (the others are empty frames)."""
    from pipeline.checks import datasets

    _, ctx, frames = datasets.build(layout, PARAMS, False)
    return {name for name, frame in frames.items() if not frame.empty and engine.plan(name, ctx, frame)}


def test_a_second_validation_replays_the_same_bytes_without_importing_gx(data, tmp_path, gx_runs):
    layout = DataLayout(data)
    first = tmp_path / "premier.json"
    checks.validate(layout, PARAMS, output=first)
    expected = validated_datasets(layout)
    assert sorted(gx_runs) == sorted(expected) and len(expected) >= 8
    assert len(entries(layout)) == len(expected)

    second = tmp_path / "second.json"
    script = ("import sys; from pathlib import Path; from pipeline import checks; "
              "from pipeline.config import DataLayout, load_params; "
              f"r = checks.validate(DataLayout(Path({str(data)!r})), load_params(), output=Path({str(second)!r})); "
              "print(r.ok, r.rules_run, 'great_expectations' in sys.modules)")
    proc = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True,
                          env={**os.environ, "CTG_CACHE": "1"})
    assert proc.returncode == 0, proc.stderr
    ok, rules, gx_imported = proc.stdout.split()
    assert (ok, gx_imported) == ("True", "False") and int(rules) > 60
    assert second.read_bytes() == first.read_bytes()


def test_one_broken_value_revalidates_its_dataset_only_and_is_reported_as_without_cache(data, tmp_path, gx_runs):
    layout = DataLayout(data)
    checks.validate(layout, PARAMS)
    gx_runs.clear()

    set_cell(ACT25, 2, "avancement", "150")(data)
    cached = checks.validate(layout, PARAMS, output=tmp_path / "avec.json")
    assert gx_runs == ["suivi.actions"]
    uncached = checks.validate(layout, PARAMS, output=tmp_path / "sans.json", cache=False)
    assert (tmp_path / "avec.json").read_bytes() == (tmp_path / "sans.json").read_bytes()
    assert cached.problems == uncached.problems
    [problem] = cached.problems
    assert (problem.file, problem.lines, problem.column, problem.values, problem.rule) == (
        ACT25, (XLSX_HEADER_ROW + 2,), "avancement", ("150",), "avancement hors de 0-100")
    assert problem.sheet and problem.letter   # XLSX location kept through the cache

    gx_runs.clear()
    replayed = checks.validate(layout, PARAMS, output=tmp_path / "encore.json")
    assert gx_runs == [] and replayed.problems == cached.problems
    assert (tmp_path / "encore.json").read_bytes() == (tmp_path / "avec.json").read_bytes()


def test_without_cache_nothing_is_stored_or_reused_and_the_result_is_the_same(data, tmp_path, gx_runs,
                                                                              monkeypatch):
    layout = DataLayout(data)
    checks.validate(layout, PARAMS, output=tmp_path / "sans.json", cache=False)
    assert entries(layout) == []
    every = sorted(gx_runs)

    checks.validate(layout, PARAMS, output=tmp_path / "avec.json")
    assert (tmp_path / "avec.json").read_bytes() == (tmp_path / "sans.json").read_bytes()
    gx_runs.clear()
    monkeypatch.setenv("CTG_CACHE", "0")
    checks.validate(layout, PARAMS, output=tmp_path / "env.json")
    assert sorted(gx_runs) == every   # the stored entries are not used
    assert (tmp_path / "env.json").read_bytes() == (tmp_path / "sans.json").read_bytes()


def test_a_corrupted_entry_is_ignored_and_rewritten(data, tmp_path, gx_runs):
    layout = DataLayout(data)
    checks.validate(layout, PARAMS, output=tmp_path / "avant.json")
    broken, wrong_shape, *_ = entries(layout)
    broken.write_text('{"format": 1, "regles": [tru', encoding="utf-8")
    wrong_shape.write_text("[]", encoding="utf-8")
    gx_runs.clear()

    checks.validate(layout, PARAMS, output=tmp_path / "apres.json")
    assert len(gx_runs) == 2
    assert (tmp_path / "apres.json").read_bytes() == (tmp_path / "avant.json").read_bytes()
    for entry in (broken, wrong_shape):
        assert isinstance(cache.Outcome.from_json(entry.read_text(encoding="utf-8")).passed, list)


def test_the_processed_tables_are_replayed_too(data, tmp_path, gx_runs):
    from pipeline.prepare import prepare

    layout = DataLayout(data)
    prepare(layout, PARAMS)
    first = checks.validate_processed_or_raise(layout, PARAMS, output=tmp_path / "premier.json")
    assert sorted(gx_runs) == sorted(name for name in RULES if name.startswith("tables."))
    gx_runs.clear()
    second = checks.validate_processed_or_raise(layout, PARAMS, output=tmp_path / "second.json")
    assert gx_runs == [] and second == first
    assert (tmp_path / "second.json").read_bytes() == (tmp_path / "premier.json").read_bytes()


# --- the key ---------------------------------------------------------------------------------------------------

def test_the_frame_digest_sees_values_missing_values_types_and_columns_but_not_the_index():
    base = pd.DataFrame({"a": ["x", "y", "z"], "b": [1.0, 2.0, 3.0], "_ligne": [2, 3, 4]})
    digest = cache.frame_digest(base)
    assert cache.frame_digest(base.set_axis([10, 11, 12])) == digest
    assert cache.frame_digest(base.copy()) == digest
    variants = [
        base.assign(b=[1.0, 2.0, 3.5]),
        base.assign(_ligne=[2, 3, 5]),
        base.assign(b=base["b"].astype("float32")),
        base.rename(columns={"a": "c"}),
        base[["b", "a", "_ligne"]],
        base.iloc[:2],
        base.assign(a=pd.Series(["x", "y", None], dtype=object)),
    ]
    assert len({digest, *map(cache.frame_digest, variants)}) == len(variants) + 1
    mixed = [pd.DataFrame({"v": pd.Series(values, dtype=object)})
             for values in (["nan", "1"], [np.nan, "1"], [None, "1"], ["nan", 1], [pd.NA, "1"])]
    assert len(set(map(cache.frame_digest, mixed))) == len(mixed)


def test_the_key_follows_the_run_time_values_and_the_file_locations():
    from pipeline.checks.reading import Collector

    frame = pd.DataFrame({"code_insee": ["26198"], "commune": ["Montélimar"], "niveau_service": [""],
                          "qpv": [""], "_fichier": ["raw/communes.csv"], "_ligne": [2]})
    collector = Collector(Path("data"))

    def key(ctx: Context, collector=collector) -> str:
        planned = engine.plan("territoire.communes", ctx, frame)
        return cache.key("territoire.communes", frame, [p.described() for p in planned], collector)

    same = key(Context("200040459"))
    assert key(Context("200040459")) == same
    assert key(Context("200040459", communes={"26198"})) == same   # no rule of this dataset reads them
    collector.letters[("raw/communes.csv", "code_insee")] = "A"
    assert key(Context("200040459")) != same
    assert key(Context("200040459"), Collector(Path("data"))) == same
    equipements = pd.DataFrame({"structure_id": ["S1"], "nom": ["n"], "code_insee": ["26198"],
                                "_fichier": ["f"], "_ligne": [2]})

    def key_eq(ctx: Context) -> str:
        planned = engine.plan("suivi.equipements", ctx, equipements)
        return cache.key("suivi.equipements", equipements, [p.described() for p in planned], collector)

    assert key_eq(Context("x", communes={"26198"})) != key_eq(Context("x", communes={"26198", "26001"}))
