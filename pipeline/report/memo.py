"""PNG images kept by what they are drawn from: a notebook executed again because one thématique's data changed does
not draw again the figures whose inputs did not change (the other thématiques' logic models and the funding and
roadmap charts of the social impact chapter, a thématique's roadmap chart and map when only its Caf data changed).

    image = memo.dessin(dossier, _dessin, contenu, hauteur, note)   # -> PNG bytes of _dessin(contenu, hauteur, note)

`_dessin` is a module-level function that builds the figure from its arguments only (plain values: strings,
numbers, tuples, lists, dicts; no Contexte, no data frame). The key is a sha256 of the drawing code (every module of
`pipeline/report` and `pipeline/impact`), the versions of matplotlib, seaborn, Pillow and numpy, the function's name
and the `repr` of its arguments. Same key, same bytes: `sortie.png` is deterministic. Entries are
`<dossier>/<key>.png`, written atomically (kernels run side by side); an entry that cannot be read is drawn again.
`dossier=None`, or `CTG_CACHE=0`, draws every time.
"""

from __future__ import annotations

import functools
import hashlib
import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from matplotlib.figure import Figure

PAQUETS = ("matplotlib", "seaborn", "pillow", "numpy")


def emplacement(interim: Path) -> Path:
    """The figures' folder in a territory's interim folder (`run.interim_dir`)."""
    return Path(interim) / "cache" / "figures"


def dossier(data_dir: str | Path, territoire: str) -> Path | None:
    """The figures' folder of a territory (None when `CTG_CACHE` is 0 / false / non / no / off)."""
    from pipeline.config import DataLayout
    from pipeline.incremental import cache_enabled
    from pipeline.run import interim_dir

    return emplacement(interim_dir(DataLayout(Path(data_dir), str(territoire)))) if cache_enabled() else None


@functools.cache
def _code() -> str:
    from pipeline.config import ROOT
    from pipeline.incremental import _fichiers, empreinte_code

    paquet = Path(__file__).resolve().parent.parent
    fichiers = [f for sous in ("report", "impact") for f in _fichiers(paquet / sous, {".py"})]
    return empreinte_code(fichiers, ROOT, PAQUETS)


def cle(entrees: object) -> str:
    return hashlib.sha256(f"{_code()}\0{entrees!r}".encode()).hexdigest()


def dessin(dossier: Path | None, dessiner: Callable[..., Figure], *entrees: object) -> bytes:
    """The PNG of `dessiner(*entrees)`, kept in `dossier` under the key of `dessiner`'s name and `entrees`."""
    return png(dossier, (dessiner.__module__, dessiner.__qualname__, entrees), lambda: dessiner(*entrees))


def png(dossier: Path | None, entrees: object, dessiner: Callable[[], Figure]) -> bytes:
    """The PNG of the figure `dessiner()` returns, kept in `dossier` under the key of `entrees`."""
    from pipeline.report.sortie import png as rendre_png

    if dossier is None:
        return rendre_png(dessiner())
    chemin = Path(dossier) / f"{cle(entrees)}.png"
    try:
        image = chemin.read_bytes()
        if image.startswith(b"\x89PNG\r\n\x1a\n"):
            return image
    except OSError:
        pass
    image = rendre_png(dessiner())
    try:
        chemin.parent.mkdir(parents=True, exist_ok=True)
        provisoire = chemin.with_name(f".{chemin.name}.{os.getpid()}.tmp")
        provisoire.write_bytes(image)
        os.replace(provisoire, chemin)
    except OSError:  # a read-only data folder: drawn every time
        pass
    return image
