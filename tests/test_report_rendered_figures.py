"""A hand-made input → the exact computed figure and sentence appear in the rendered HTML and PDF text."""

from __future__ import annotations

import datetime as dt
import html
import re
import shutil
import subprocess

import papermill
import pytest

from fixtures.report import jeu
from pipeline.config import NOTEBOOKS_DIR, ROOT
from pipeline.render import Document, get_engine, notebook_to_markdown

SENTENCE = "Le taux de couverture global en accueil du jeune enfant atteint 62,4 places pour 100 enfants de moins de 3 ans en 2023, soit +3,1 points depuis 2021."


def squash(text: str) -> str:
    """Text as a reader sees it: line-end hyphenation undone, every kind of space folded to one."""
    text = re.sub(r"-\n(?=\w)", "", text)
    text = text.replace("\u00ad", "")
    return re.sub(r"[\s\u00a0\u202f]+", " ", text)


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("rendu")
    data = jeu.construire(tmp / "data")
    executed = tmp / "petite_enfance.ipynb"
    papermill.execute_notebook(
        str(NOTEBOOKS_DIR / "petite_enfance.ipynb"), str(executed),
        parameters={"data_dir": str(data), "annee": 2024, "territoire": "200040459", "thematique": "petite_enfance"},
        kernel_name="python3", cwd=str(ROOT), progress_bar=False,
    )
    doc = Document(title="Petite enfance — bilan 2024", date=dt.date(2024, 12, 31),
                   body=notebook_to_markdown(executed), stem="petite_enfance")
    return get_engine("pandoc-typst").render(doc, tmp / "out", ("html", "pdf"))


def test_sentence_and_figure_in_html(rendered):
    html_path = next(p for p in rendered if p.suffix == ".html")
    text = squash(html.unescape(re.sub(r"<[^>]+>", " ", html_path.read_text(encoding="utf-8"))))
    assert squash(SENTENCE) in text
    assert "62,4" in text and "+3,1 points" in text and "Drôme 60,1" in text


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="pdftotext (poppler-utils) absent")
def test_sentence_and_figure_in_pdf(rendered):
    pdf_path = next(p for p in rendered if p.suffix == ".pdf")
    text = squash(subprocess.run(["pdftotext", "-raw", str(pdf_path), "-"], capture_output=True, text=True).stdout)
    assert squash(SENTENCE) in text
    assert "62,4" in text and "+3,1 points" in text and "Drôme 60,1" in text
