"""Markdown building blocks shared by the helpers, and the one way they are displayed.

Outputs are `text/markdown` only: the renderer reads them with pandoc (pipe tables with a `Table:` caption,
images as `data:` URIs with alt text). An output that also carried text/plain would be read wrongly.
"""

from __future__ import annotations

import base64
import io
import re
from collections import defaultdict
from typing import Iterable, Sequence

from IPython.display import display
from matplotlib.figure import Figure
from tabulate import tabulate

DPI = 110
_SPECIAUX = re.compile(r"([\\`*_\[\]<>|#$@~^])")
_BLANCS = re.compile(r"[ \t\r\n]+")  # ordinary white space only: no-break spaces are kept


def afficher(md: str) -> str:
    """Display a Markdown block as the cell's only output (text/markdown) and return it."""
    display({"text/markdown": md}, raw=True)
    return md


def texte(s) -> str:
    """Plain text made safe for pandoc Markdown (punctuation escaped, on one line)."""
    return _SPECIAUX.sub(r"\\\1", _BLANCS.sub(" ", str(s)).strip())


def tableau(entetes: Sequence[str], lignes: Iterable[Sequence[str]], legende: str,
            alignements: Sequence[str] | None = None, notes: Iterable[str] = ()) -> str:
    """A pipe table (cells already formatted and escaped), its caption and notes under it.

    Column widths are left to the renderer (it resets pipe tables' dash-count widths to automatic).
    """
    corps = tabulate(list(lignes), headers=list(entetes), tablefmt="pipe", disable_numparse=True,
                     colalign=alignements)
    blocs = [corps, f"Table: {legende}"] + [f"*{n}*" for n in notes if n]
    return "\n\n".join(blocs) + "\n"


def png(fig: Figure) -> bytes:
    """Deterministic PNG bytes (fixed size and dpi, no software metadata)."""
    tampon = io.BytesIO()
    fig.savefig(tampon, format="png", dpi=DPI, metadata={"Software": None})
    return tampon.getvalue()


def figure(fig: Figure, legende: str, alt: str) -> str:
    """An image with its caption (with provenance) and a real description as alt text."""
    donnees = base64.b64encode(png(fig)).decode("ascii")
    alt = _BLANCS.sub(" ", alt.replace('"', "'")).strip()
    return f'![{legende}](data:image/png;base64,{donnees}){{alt="{alt}"}}\n'


def provenance(sources: Iterable[tuple[str, int | None]], markdown: bool = True, maximum: int = 3) -> str:
    """'Source : Caf - txcouv_pe_epci (millésime 2023).' — each source once, with its millésimes (escaped for
    Markdown unless `markdown` is False, e.g. for a note drawn inside a chart). Beyond `maximum` sources, they
    are grouped by producer (the part before ' - ': 'Caf', 'Suivi local', …) to keep the line short."""
    sources = [(s, m) for s, m in sources if s]
    if len({s for s, _ in sources}) > maximum:
        sources = [(s.split(" - ")[0], m) for s, m in sources]
    par_source: dict[str, set[int]] = defaultdict(set)
    for source, millesime in sources:
        par_source[source].update([int(millesime)] if millesime else [])
    mots = [(texte(s) if markdown else s) + _millesimes(sorted(m)) for s, m in sorted(par_source.items())]
    if not mots:
        return ""
    return ("Sources : " if len(mots) > 1 else "Source : ") + " ; ".join(mots) + "."


def _millesimes(m: list[int]) -> str:
    if not m:
        return ""
    if len(m) == 1:
        return f" (millésime {m[0]})"
    if m == list(range(m[0], m[-1] + 1)):
        return f" (millésimes {m[0]} à {m[-1]})"
    return " (millésimes " + ", ".join(map(str, m)) + ")"
