"""Markdown building blocks shared by the helpers, and the one way they are displayed.

Outputs are `text/markdown` only: the renderer reads them with pandoc (pipe tables with a `Table:` caption,
images as `data:` URIs with alt text). An output that also carried text/plain would be read wrongly.

Provenance: the caption of every figure and data table ends with its sources, their millésimes and the short
fingerprint of the data rows it was computed from (`tracer`). Each such caption is also recorded ("trace") and
attached by `afficher` to the output's metadata (`{"ctg": {"provenance": [...]}}`, ignored by the renderer), where
the methodology chapter reads the fingerprints in full (pipeline.reportset.tracabilite).
"""

from __future__ import annotations

import base64
import io
import re
import threading
from collections import defaultdict
from collections.abc import Iterable, Sequence

import pandas as pd
from IPython.display import display
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from PIL import Image

from pipeline.empreinte import courte, empreinte
from pipeline.render.document import pipe_table

DPI = 110
COMPRESSION = 1  # zlib level of the PNG images: about twice as fast to encode as the default 6
_SPECIAUX = re.compile(r"([\\`*_\[\]<>|#$@~^])")
_BLANCS = re.compile(r"[ \t\r\n]+")  # ordinary white space only: no-break spaces are kept
MOT_EMPREINTE = "empreinte des données"
SOURCE_REFERENTIEL = "Référentiel de la convention - ctg.yaml"  # roadmaps, targets
_TRACES = threading.local()  # traces recorded since the last afficher()/recueillir(), per thread


def afficher(md: str) -> str:
    """Display a Markdown block as the cell's only output (text/markdown) and return it; the provenance traces
    recorded since the last call go into the output's metadata."""
    traces = recueillir()
    display({"text/markdown": md}, metadata={"ctg": {"provenance": traces}} if traces else None, raw=True)
    return md


def recueillir() -> list[dict]:
    """The traces recorded by `tracer` (in this thread) since the last call, oldest first; clears them."""
    traces = getattr(_TRACES, "liste", [])
    _TRACES.liste = []
    return traces


def signer(source: str, hexa: str) -> str:
    """'Source : X (millésime 2023).' → 'Source : X (millésime 2023) · empreinte des données 3f2a9c1e.'"""
    return f"{source.strip().rstrip('.')} · {MOT_EMPREINTE} {courte(hexa)}."


def tracer(titre: str, sources: Iterable[tuple[str, int | None]], *lignes: pd.DataFrame,
           phrase: str | None = None) -> str:
    """The caption of a figure or table computed from the data rows `lignes`: '<titre> Source : … (millésime
    2023) · empreinte des données 3f2a9c1e.' The source phrase is `provenance(sources)` unless `phrase` is given
    (then `sources` still names the datasets, for the methodology). Records the trace (title, sources with their
    millésimes, full sha256) for the next `afficher`."""
    sources = [(s, m) for s, m in sources if s]
    hexa = empreinte(*lignes)
    par_source: dict[str, set[int]] = defaultdict(set)
    for source, millesime in sources:
        par_source[source].update([int(millesime)] if millesime else [])
    if not hasattr(_TRACES, "liste"):
        _TRACES.liste = []
    _TRACES.liste.append({"titre": titre.strip(), "sources": [[s, sorted(m)] for s, m in sorted(par_source.items())],
                          "empreinte": hexa})
    return f"{titre.strip()} {signer(phrase or provenance(sources) or 'Source non précisée.', hexa)}"


def sources_des_lignes(lignes: Iterable[pd.DataFrame]) -> list[tuple[str, int | None]]:
    """(source, millésime) of rows of the indicator table."""
    return [s for g in lignes for s in zip(g["source"], g["millesime"])]


def lignes_indicateurs(ctx, indicateurs: Iterable[str], niveaux: Sequence[str] = ("epci",),
                       annees: Iterable[int] | None = None) -> list[pd.DataFrame]:
    """The rows of the processed indicator table a figure reads through the Contexte accessors: each indicator at
    each level (the territory's own rows for `epci`), up to the report year, only `annees` when given."""
    garder = None if annees is None else sorted(set(annees))
    morceaux = []
    for ind in dict.fromkeys(indicateurs):
        for niveau in niveaux:
            g = ctx.lignes(ind, niveau, ctx.territoire if niveau == "epci" else None)
            morceaux.append(g if garder is None else g[g["annee"].isin(garder)])
    return morceaux


def texte(s) -> str:
    """Plain text made safe for pandoc Markdown (punctuation escaped, on one line)."""
    return _SPECIAUX.sub(r"\\\1", _BLANCS.sub(" ", str(s)).strip())


def tableau(entetes: Sequence[str], lignes: Iterable[Sequence[str]], legende: str,
            alignements: Sequence[str] | None = None, notes: Iterable[str] = ()) -> str:
    """A pipe table (cells already formatted and escaped), its caption and notes under it.

    Column widths are left to the renderer (it resets pipe tables' dash-count widths to automatic).
    """
    corps = pipe_table(entetes, lignes, alignements)
    blocs = [corps, f"Table: {legende}"] + [f"*{n}*" for n in notes if n]
    return "\n\n".join(blocs) + "\n"


def png(fig: Figure) -> bytes:
    """Deterministic PNG bytes (fixed size and dpi, no metadata but the dpi), drawn once.

    `savefig` would draw a figure that has a layout engine twice (once to lay it out, once to paint it) and encode
    RGBA at zlib's default level. Here the layout runs once, with the renderer that then paints (text is measured
    once), and the opaque image is written as RGB at a fast level: the same pixels, ~3 % smaller, less CPU."""
    canvas = FigureCanvasAgg(fig)
    fig.set_dpi(DPI)
    moteur = fig.get_layout_engine()
    if moteur is not None:
        moteur.execute(fig)
        fig.set_layout_engine("none")
    canvas.draw()
    rgba = Image.frombuffer("RGBA", canvas.get_width_height(physical=True), canvas.buffer_rgba(), "raw", "RGBA", 0, 1)
    tampon = io.BytesIO()
    rgba.convert("RGB").save(tampon, format="png", dpi=(DPI, DPI), compress_level=COMPRESSION)
    return tampon.getvalue()


def figure(fig: Figure | bytes, legende: str, alt: str) -> str:
    """An image (a figure, or its PNG bytes) with its caption (with provenance) and a real description as alt
    text."""
    donnees = base64.b64encode(fig if isinstance(fig, bytes) else png(fig)).decode("ascii")
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
    mots = [(texte(s) if markdown else s) + millesimes_texte(sorted(m)) for s, m in sorted(par_source.items())]
    if not mots:
        return ""
    return ("Sources : " if len(mots) > 1 else "Source : ") + " ; ".join(mots) + "."


def millesimes_texte(m: list[int]) -> str:
    """' (millésime 2023)', ' (millésimes 2021 à 2023)', ' (millésimes 2020, 2023)' or '' (sorted years)."""
    if not m:
        return ""
    if len(m) == 1:
        return f" (millésime {m[0]})"
    if m == list(range(m[0], m[-1] + 1)):
        return f" (millésimes {m[0]} à {m[-1]})"
    return " (millésimes " + ", ".join(map(str, m)) + ")"
