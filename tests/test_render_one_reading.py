"""The pandoc-typst engine reads a body once for both formats, with its images as files: same outputs, HTML-only
parts (the site's menu) left out of the PDF, images still embedded in the HTML with their alternative text."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import re
import shutil
import subprocess

import pytest

from pipeline.render import Document, get_engine, html_only
from pipeline.render.media import RASTER, extract_images

# a 2x2 red PNG
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAIAAAACCAIAAAD91JpzAAAAFklEQVR4nGP8z8DAwMDAxMDAwMDAAAANHQEDasKb6QAAAABJRU5ErkJggg==")
URI = "data:image/png;base64," + base64.b64encode(PNG).decode()
SVG_URI = "data:image/svg+xml;base64," + base64.b64encode(b'<svg xmlns="http://www.w3.org/2000/svg"/>').decode()
ALT = "Courbe du taux de couverture : de 59,2 en 2021 à 61,0 en 2024."
MENU = '```{=html}\n<nav aria-label="Pages du rapport"><a href="index.html">Synthèse</a></nav>\n```'
BODY = (f"# Petite enfance\n\nLe taux progresse : voir la figure.\n\n![Taux de couverture, 2021-2024.]({URI}){{alt=\"{ALT}\"}}"
        "\n\n## Suite\n\nTexte.\n\n## Fin\n\nTexte.\n")
PDFTOTEXT = shutil.which("pdftotext")


def doc(body: str) -> Document:
    return Document(title="Petite enfance", date=dt.date(2024, 12, 31), body=body, stem="petite_enfance")


def test_extract_images_writes_each_image_once_under_its_content_hash(tmp_path):
    body = f"![a]({URI}){{alt=\"x\"}}\n\n![b]({URI})\n\n![c]({SVG_URI})\n"
    out = extract_images(body, tmp_path / "media", RASTER)
    name = f"media/{hashlib.sha1(PNG).hexdigest()}.png"
    assert out.count(f"]({name})") == 2 and "data:image/png" not in out
    assert SVG_URI in out  # not a raster type: left as it was
    assert [p.name for p in (tmp_path / "media").iterdir()] == [name.split("/")[1]]
    assert (tmp_path / name).read_bytes() == PNG


def test_html_only_is_an_empty_string_for_empty_text():
    assert html_only("  \n") == ""
    assert html_only("**menu**").startswith("::: {.html-seulement}\n**menu**\n:::")


@pytest.fixture(scope="module")
def ensemble(tmp_path_factory):
    """HTML and PDF of one body (menu marked HTML-only), rendered together then separately."""
    engine, body = get_engine("pandoc-typst"), f"{html_only(MENU)}\n{BODY}"
    together = tmp_path_factory.mktemp("ensemble")
    alone = tmp_path_factory.mktemp("separes")
    html, pdf = engine.render(doc(body), together, ("html", "pdf"))
    (html_seul,) = engine.render(doc(body), alone, ("html",))
    (pdf_seul,) = engine.render(doc(body), alone, ("pdf",))
    return {"html": html, "pdf": pdf, "html_seul": html_seul, "pdf_seul": pdf_seul}


def test_one_reading_gives_the_same_bytes_as_one_render_per_format(ensemble):
    assert ensemble["html"].read_bytes() == ensemble["html_seul"].read_bytes()
    assert ensemble["pdf"].read_bytes() == ensemble["pdf_seul"].read_bytes()


def test_html_keeps_the_menu_and_embeds_the_image_with_its_alt_text(ensemble):
    page = ensemble["html"].read_text(encoding="utf-8")
    assert '<nav aria-label="Pages du rapport">' in page and "html-seulement" not in page
    img = re.search(r"<img [^>]*>", page).group(0)
    assert f'src="data:image/png;base64,{base64.b64encode(PNG).decode()}"' in img
    assert f'alt="{ALT.replace(" :", chr(0xA0) + ":")}"' in img  # (French spacing, as in the text)
    assert "media/" not in page  # self-contained: no link to the work folder
    assert "progresse\u00a0:" in page  # French spacing done once, in the reading pass


@pytest.mark.skipif(PDFTOTEXT is None, reason="pdftotext (poppler-utils) absent")
def test_pdf_leaves_the_menu_out_and_keeps_the_text(ensemble):
    text = subprocess.run([PDFTOTEXT, str(ensemble["pdf"]), "-"], capture_output=True, text=True, check=True).stdout
    assert "Synthèse" not in text and "Le taux progresse" in text
    assert b"/Alt" in ensemble["pdf"].read_bytes()  # the image's description (tagged PDF)


def test_two_renders_of_the_same_document_are_byte_identical(ensemble, tmp_path):
    html, pdf = get_engine("pandoc-typst").render(doc(f"{html_only(MENU)}\n{BODY}"), tmp_path, ("html", "pdf"))
    assert html.read_bytes() == ensemble["html"].read_bytes() and pdf.read_bytes() == ensemble["pdf"].read_bytes()
