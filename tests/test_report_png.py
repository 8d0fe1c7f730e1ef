"""PNG output of the charts (pipeline.report.sortie.png): laid out and drawn once, written as RGB — the same
pixels as matplotlib's own savefig, deterministic bytes, the report's dpi."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image

from pipeline.report import fmt
from pipeline.report.graphiques import LARGEUR, PALETTE, axe_annees, axe_nombres, nouvelle_figure, style
from pipeline.report.sortie import DPI, png


def graphique():
    """A chart like the helpers': constrained layout, source note, French ticks, legend outside the axes."""
    with style():
        fig, axe = nouvelle_figure(3.4, "Source : Caf - txcouv_pe_epci (millésime 2023).")
        for i, couleur in enumerate(PALETTE[:3]):
            axe.plot([2021, 2022, 2023, 2024], [1200.5 * (i + 1), 1350, 1410.25, 1502 + i], color=couleur,
                     marker="o", label=f"Série {i + 1}")
        axe_annees(axe.xaxis, 2021, 2024)
        axe_nombres(axe.yaxis, 1)
        axe.set_title("Places en accueil collectif")
        axe.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=8)
    return fig


def pixels(donnees: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(donnees)).convert("RGB"))


def test_same_pixels_as_savefig_rgb_and_dpi():
    reference = io.BytesIO()
    graphique().savefig(reference, format="png", dpi=DPI, metadata={"Software": None})
    sortie = png(graphique())
    image = Image.open(io.BytesIO(sortie))
    assert image.mode == "RGB"
    assert image.size[0] == round(LARGEUR * DPI)
    assert round(image.info["dpi"][0]) == DPI
    assert np.array_equal(pixels(sortie), pixels(reference.getvalue()))


def test_bytes_are_deterministic():
    assert png(graphique()) == png(graphique())


def test_axis_numbers_are_french_and_never_minus_zero():
    with style():
        fig, axe = nouvelle_figure(2.0, "note")
    axe_nombres(axe.yaxis, 1)
    formateur = axe.yaxis.get_major_formatter()
    assert formateur(1234.5, 0) == fmt.nombre(1234.5, 1) == "1\u202f234,5"
    assert formateur(np.float64(2000.0), 0) == "2\u202f000"
    assert formateur(-0.0, 0) == "0"
    assert formateur(-12.5, 0) == fmt.nombre(-12.5, 1)
