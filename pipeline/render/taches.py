"""Render tasks: module-level functions of plain data (a `Document`, folders, formats), so that a pool of threads
or of worker processes can run them. A worker process imports only the renderer (not pandas nor the report code).

    taches.rendre("pandoc-typst", cache_dir, doc, out_dir, ("html", "pdf"))           -> [html, pdf]
    taches.rendre_sur_une_page("pandoc-typst", cache_dir, [(9.0, doc9), (8.5, doc85)], out_dir, ("html", "pdf"))
"""

from __future__ import annotations

import functools
import logging
from pathlib import Path

from pipeline.render import Document, Engine, get_engine
from pipeline.render.base import nombre_de_pages
from pipeline.render.cache import avec_cache

log = logging.getLogger(__name__)


@functools.cache
def moteur(nom: str, cache: Path | None) -> Engine:
    """The engine `nom` behind the render cache in `cache` (None: no cache), built once per process."""
    return avec_cache(get_engine(nom), cache)


def rendre(nom: str, cache: Path | None, doc: Document, dossier: Path, formats: tuple[str, ...]) -> list[Path]:
    """Render `doc` into `dossier` in `formats`; returns the written paths."""
    return moteur(nom, cache).render(doc, dossier, formats)


def rendre_sur_une_page(nom: str, cache: Path | None, candidats: list[tuple[float, Document]], dossier: Path,
                        formats: tuple[str, ...]) -> list[Path]:
    """A page that must hold on one PDF page (the COPIL support): the first candidate in every format, then each
    next one (a smaller font size) as a PDF alone while the PDF has more than one page."""
    engine = moteur(nom, cache)
    (taille, doc), *suivants = candidats
    chemins = engine.render(doc, dossier, formats)
    if "pdf" not in formats:
        return chemins
    for taille_suivante, plus_petit in suivants:
        if (nombre_de_pages(chemins[-1].read_bytes()) or 1) <= 1:
            break
        log.warning("Support du COPIL %s : plus d'une page en %s pt, nouvel essai plus serré.", doc.stem, taille)
        chemins[-1:] = engine.render(plus_petit, dossier, ("pdf",))
        taille = taille_suivante
    return chemins


def pret() -> None:
    """A worker's warm-up task: nothing to do, the imports above are what takes time."""
