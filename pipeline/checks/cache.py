"""Validation results kept per dataset frame, so an unchanged frame is not validated again (nor GX imported).

The key of one `engine.run` is a sha256 of everything its outcome depends on: the frame's content (every column
with its name, dtype, values, missing values and, for object columns, each value's type), the resolved
expectations (class, arguments with the run-time values, row condition, wording, hint, columns shown), the sheet
names and column letters of the frame's files, the versions of great-expectations and pandas, and the source of
the checks code (engine, rules, result, this module). Never a date. The value is exactly what the run adds to the
collector: one pass/fail per expectation and the problems (warnings included), as JSON.

Entries live in `data/interim/<siren>/cache/validation/<key>.json`, written atomically; an entry that cannot be
read is ignored (and rewritten). Entries unused for `JOURS` days are removed. Off with `validate(..., cache=False)`
or the environment variable `CTG_CACHE=0`.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from pipeline.checks.reading import Collector
from pipeline.checks.result import Problem
from pipeline.config import DataLayout
from pipeline.incremental import cache_enabled, ecrire_texte, empreinte_code

JOURS = 30
FORMAT = 1   # version of the entries' layout
CODE = ("engine.py", "rules.py", "result.py", "cache.py")
enabled = cache_enabled  # `cache` when given, else on unless CTG_CACHE is 0 / false / non / no / off


def folder(layout: DataLayout) -> Path:
    return layout.data_dir / "interim" / layout.territoire / "cache" / "validation"


# --- the key -------------------------------------------------------------------------------------------------

@functools.cache
def _code() -> str:
    """Source of the checks code and the versions of great-expectations and pandas (read without importing GX)."""
    here = Path(__file__).resolve().parent
    return empreinte_code([here / name for name in CODE], here, ("great_expectations", "pandas"))


def _json(value) -> bytes:
    def default(o):
        if isinstance(o, (set, frozenset)):
            return sorted(map(str, o))
        return repr(o)

    return json.dumps(value, sort_keys=True, ensure_ascii=False, default=default).encode()


def frame_digest(frame: pd.DataFrame) -> str:
    """sha256 of a frame's rows in order: column names and dtypes, values, where values are missing and, in
    object columns, each value's type (so None, NaN, "nan" and 1 / "1" all differ). The index is ignored."""
    h = hashlib.sha256()
    h.update(_json([[str(c), str(t)] for c, t in zip(frame.columns, frame.dtypes)]))
    h.update(len(frame).to_bytes(8, "little"))
    for i in range(frame.shape[1]):
        column = frame.iloc[:, i]
        h.update(pd.util.hash_pandas_object(column, index=False, categorize=False).to_numpy().tobytes())
        h.update(column.isna().to_numpy().tobytes())
        if column.dtype == object:
            types = column.map(lambda v: type(v).__qualname__)
            h.update(pd.util.hash_pandas_object(types, index=False).to_numpy().tobytes())
    return h.hexdigest()


def key(dataset: str, frame: pd.DataFrame, expectations: list[dict], collector: Collector) -> str:
    """The key of one validation: dataset, frame content, resolved expectations, file locations, code."""
    files = sorted({str(f) for f in frame["_fichier"].unique()}) if "_fichier" in frame.columns else []
    locations = {
        "feuilles": {f: collector.sheets[f] for f in files if f in collector.sheets},
        "lettres": sorted([f, c, letter] for (f, c), letter in collector.letters.items() if f in files),
    }
    h = hashlib.sha256(f"{FORMAT}\0{_code()}\0".encode())
    h.update(_json({"jeu": dataset, "attentes": expectations, "emplacements": locations}))
    h.update(frame_digest(frame).encode())
    return h.hexdigest()


# --- the value -----------------------------------------------------------------------------------------------

@dataclass
class Outcome:
    """What one validation adds to the collector: pass/fail per expectation, then the problems."""

    passed: list[bool] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    def apply(self, collector: Collector) -> None:
        for ok in self.passed:
            collector.rule(ok)
        for problem in self.problems:
            collector.add(problem)

    def to_json(self) -> str:
        return json.dumps({"format": FORMAT, "regles": self.passed,
                           "problemes": [dataclasses.asdict(p) for p in self.problems]},
                          ensure_ascii=False, indent=1, sort_keys=True) + "\n"

    @classmethod
    def from_json(cls, text: str) -> "Outcome":
        data = json.loads(text)
        if data.get("format") != FORMAT or not all(isinstance(ok, bool) for ok in data["regles"]):
            raise ValueError("entrée de cache d'un autre format")
        problems = [Problem(**{**p, "lines": tuple(int(n) for n in p["lines"]), "values": tuple(p["values"])})
                    for p in data["problemes"]]
        return cls(list(data["regles"]), problems)


class Store:
    """Entries `<key>.json` in one folder; counts hits and misses (for the tests and the curious)."""

    def __init__(self, directory: Path):
        self.directory = Path(directory)
        self.hits = self.misses = 0

    def load(self, key: str) -> Outcome | None:
        path = self.directory / f"{key}.json"
        try:
            outcome = Outcome.from_json(path.read_text(encoding="utf-8"))
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            self.misses += 1
            return None
        try:
            os.utime(path)   # used: kept by `purge`
        except OSError:
            pass
        self.hits += 1
        return outcome

    def save(self, key: str, outcome: Outcome) -> None:
        try:
            ecrire_texte(self.directory / f"{key}.json", outcome.to_json())
        except OSError:   # a read-only data folder: validation still works, only slower next time
            pass

    def purge(self, days: int = JOURS) -> None:
        """Remove entries unused for `days` days (and leftovers of interrupted writes as old)."""
        limit = time.time() - days * 86400
        try:
            entries = list(self.directory.iterdir())
        except OSError:
            return
        for entry in entries:
            try:
                if entry.stat().st_mtime < limit:
                    entry.unlink()
            except OSError:
                pass
