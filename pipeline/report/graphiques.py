"""Chart conventions: figure size, colour-blind-safe palettes, French number formats on axes, source note.

Plain matplotlib with its bundled seaborn style: importing seaborn itself would cost ~2 s per kernel (scipy).
Figures are `matplotlib.figure.Figure` objects, never registered with pyplot: nothing is shown inline by the
kernel, no global backend or rcParams is changed; `sortie.png` lays them out and draws them once with Agg.
"""

from __future__ import annotations

import textwrap
from contextlib import contextmanager
from functools import lru_cache

import matplotlib
import matplotlib.style
from matplotlib.figure import Figure
from matplotlib.ticker import FixedLocator, FuncFormatter, MaxNLocator

from pipeline.report import fmt

LARGEUR = 8.0  # inches; with sortie.DPI gives 880 px wide images
# Okabe-Ito colours (colour-blind safe); PALETTE is their order for series.
OKABE_ITO = {
    "bleu": "#0072B2", "orange": "#E69F00", "vert": "#009E73", "vermillon": "#D55E00", "bleu_ciel": "#56B4E9",
    "pourpre": "#CC79A7", "jaune": "#F0E442", "gris": "#BBBBBB",
}
PALETTE = list(OKABE_ITO.values())
_STYLE = {"font.size": 10, "axes.titlesize": 11, "axes.titleweight": "bold", "axes.titlelocation": "left",
          "legend.frameon": False, "svg.hashsalt": "ctg"}


@contextmanager
def style():
    """Seaborn 'whitegrid' look for the figures created inside, without touching global settings."""
    with matplotlib.style.context("seaborn-v0_8-whitegrid"), matplotlib.rc_context(_STYLE):
        yield


def degrade(n: int) -> list:
    """n colours of a sequential, colour-blind-safe ColorBrewer scale (YlGnBu), light to dark."""
    echelle = matplotlib.colormaps["YlGnBu"]
    return [echelle(0.2 + 0.7 * i / max(n - 1, 1)) for i in range(n)]


def nouvelle_figure(hauteur: float, note: str, **subplots) -> tuple[Figure, object]:
    """A fixed-size figure with a source note at the bottom left; returns (figure, axes)."""
    fig = Figure(figsize=(LARGEUR, hauteur), layout="constrained")
    marge = 0.35 / hauteur
    fig.get_layout_engine().set(rect=(0, marge, 1, 1 - marge))
    fig.text(0.01, 0.01, "\n".join(textwrap.wrap(note, 130)), fontsize=7.5, color="#444444", ha="left",
             va="bottom")
    return fig, fig.subplots(**subplots)


def axe_nombres(axe, decimales: int = 0) -> None:
    """French numbers on an axis ('1 234,5'); whole ticks only when the values are counts."""
    if decimales == 0:
        axe.set_major_locator(MaxNLocator(integer=True))
    axe.set_major_formatter(FuncFormatter(lambda v, _pos: etiquette_nombre(float(v) + 0.0, decimales)))


@lru_cache(maxsize=4096)
def etiquette_nombre(v: float, decimales: int) -> str:
    """A tick label, cached: the same few values are formatted many times while a figure is laid out and drawn
    (the caller's `+ 0.0` turns a tick at -0.0 into '0', never '-0')."""
    return fmt.nombre(v, 0 if v.is_integer() else decimales)


def axe_annees(axe, debut: int, fin: int) -> None:
    """One tick per year from `debut` to `fin`, without thousands separator."""
    axe.set_major_locator(FixedLocator(range(debut, fin + 1)))
    axe.set_major_formatter(FuncFormatter(lambda v, _pos: str(int(v))))


def couper(texte: str, largeur: int = 40) -> str:
    return "\n".join(textwrap.wrap(texte, largeur))
