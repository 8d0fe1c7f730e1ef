"""A cache in front of a rendering engine: a document already rendered is copied, not rendered again.

The key is a sha256 of everything the output depends on: the engine's name, the formats, every field of the
`Document` (body, title, date, options…), the rendering code and templates (pipeline/render/) and the versions of
pandoc and Typst. Same key, same bytes (rendering is deterministic), so copying is exact. Entries live in
`data/interim/<siren>/cache/rendus/<key>/` (and the parts of the annual report in `rendus-parties/`, see
parties.py); `purger` removes a cache folder's entries unused for `JOURS` days (called once per publication).
Only the pandoc-typst engine is cached (a user's Quarto can change under us without a version we can read cheaply).
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import os
import shutil
import time
from pathlib import Path
from typing import Iterable

from pipeline.render.base import FORMATS, Engine, check_formats, output_paths
from pipeline.render.document import Document

JOURS = 30
CACHED_ENGINES = {"pandoc-typst"}


@functools.cache
def _code() -> str:
    """Fingerprint of the rendering code and templates, and of the pandoc and Typst versions."""
    from pipeline.incremental import _fichiers, empreinte_code

    dossier = Path(__file__).resolve().parent
    return empreinte_code(_fichiers(dossier), dossier, ("pypandoc-binary", "typst"))


def cle(engine: Engine, doc: Document, formats: tuple[str, ...]) -> str:
    champs = dataclasses.asdict(doc)
    texte = json.dumps({"moteur": engine.name, "formats": formats, "document": champs,
                        "SOURCE_DATE_EPOCH": os.environ.get("SOURCE_DATE_EPOCH", "")},
                       sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256((_code() + texte).encode()).hexdigest()


class CachedEngine:
    """Same interface as the engine it wraps (`render(doc, out_dir, formats) -> list[Path]`)."""

    def __init__(self, engine: Engine, dossier: Path):
        self.engine, self.dossier = engine, Path(dossier)
        self.name = engine.name
        self.copies = self.rendus = 0  # counters, for the run's summary and the tests

    def render(self, doc: Document, out_dir: Path, formats: Iterable[str] = FORMATS) -> list[Path]:
        wanted = check_formats(formats)
        targets = output_paths(doc, out_dir, wanted)
        entree = self.dossier / cle(self.engine, doc, wanted)
        if all((entree / t.name).is_file() for t in targets):
            Path(out_dir).mkdir(parents=True, exist_ok=True)
            for t in targets:
                shutil.copyfile(entree / t.name, t)
            os.utime(entree)
            self.copies += 1
            return targets
        paths = self.engine.render(doc, out_dir, wanted)
        self.rendus += 1
        tmp = entree.with_name(f".{entree.name}.{os.getpid()}.{id(doc)}.tmp")
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
        for p in paths:
            shutil.copyfile(p, tmp / p.name)
        try:
            os.replace(tmp, entree)
        except OSError:  # another thread stored the same entry first
            shutil.rmtree(tmp, ignore_errors=True)
        return paths


def dossier_des_parties(dossier: Path) -> Path:
    """Where the Typst of each part of a document given by parts is kept (pipeline/render/parties.py): beside."""
    return Path(dossier).with_name(Path(dossier).name + "-parties")


def avec_cache(engine: Engine, dossier: Path | None) -> Engine:
    """`engine` behind a cache in `dossier` (unchanged when `dossier` is None or the engine is not cacheable)."""
    if dossier is None or engine.name not in CACHED_ENGINES:
        return engine
    if hasattr(engine, "parties"):
        engine.parties = dossier_des_parties(dossier)
    return CachedEngine(engine, dossier)


def purger(dossier: Path, jours: int = JOURS) -> None:
    """Remove the entries (files or folders) of a cache folder unused for `jours` days, and leftovers of
    interrupted writes."""
    limite = time.time() - jours * 86400
    try:
        entrees = list(Path(dossier).iterdir())
    except OSError:
        return
    for entree in entrees:
        try:
            if entree.name.startswith(".") or entree.stat().st_mtime < limite:
                shutil.rmtree(entree) if entree.is_dir() else entree.unlink()
        except OSError:
            pass
