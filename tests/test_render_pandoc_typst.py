"""The default engine « pandoc-typst »: self-contained French HTML, A4 PDF, determinism, errors."""

from __future__ import annotations

import datetime as dt
import re
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from pipeline.render import ENGINE_NAMES, Document, RenderError, check_formats, get_engine, notebook_to_markdown

FIXTURE = Path(__file__).parent / "fixtures" / "render" / "executed.ipynb"
PDFTOTEXT = shutil.which("pdftotext")
needs_pdftotext = pytest.mark.skipif(PDFTOTEXT is None, reason="pdftotext (Debian poppler-utils) absent : texte du PDF non vérifiable")
A4 = (595.2756, 841.8898)  # points

SECTIONS = "\n\n".join(
    f"# Section {n}\n\nTexte de la section {n} : voir [le site de la Caf](https://www.caf.fr). " + "Phrase. " * 40
    for n in range(1, 4)
)


def make_doc(**overrides) -> Document:
    values = dict(
        title="Petite enfance",
        subtitle="Rapport d'évaluation 2024",  # straight apostrophes: printed as ’
        territory="Montélimar Agglomération",
        date=dt.date(2026, 11, 28),
        body=notebook_to_markdown(FIXTURE) + "\n\n" + SECTIONS,
        running_title="CTG — Petite enfance",
        banner="Données d'illustration",
        stem="petite_enfance",
    )
    return Document(**{**values, **overrides})


@pytest.fixture(scope="module")
def rendered(tmp_path_factory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("rendu")
    html, pdf = get_engine("pandoc-typst").render(make_doc(), out)
    return {"html": html, "pdf": pdf, "out": out}


def page_sizes(pdf: Path) -> list[tuple[float, float]]:
    """Page sizes read from the PDF's MediaBox entries (Typst writes one uncompressed per page)."""
    boxes = re.findall(rb"/MediaBox\s*\[\s*0 0 ([\d.]+) ([\d.]+)\s*\]", pdf.read_bytes())
    return [(float(w), float(h)) for w, h in boxes]


def pdf_pages_text(pdf: Path) -> list[str]:
    text = subprocess.run([PDFTOTEXT, "-layout", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    return [page for page in text.split("\f") if page.strip()]


# Interface ------------------------------------------------------------------------------------------------

def test_get_engine_knows_both_engines_and_rejects_others_in_french():
    assert ENGINE_NAMES == ("pandoc-typst", "quarto")
    assert get_engine().name == "pandoc-typst"
    assert get_engine("quarto").name == "quarto"
    with pytest.raises(RenderError, match=r"Moteur de rendu inconnu : « latex ».*« pandoc-typst », « quarto »"):
        get_engine("latex")


def test_unknown_format_is_a_french_error(tmp_path):
    assert check_formats(["PDF", "html", "pdf"]) == ("pdf", "html")
    with pytest.raises(RenderError, match="Format de sortie inconnu : « docx »"):
        get_engine().render(make_doc(), tmp_path, formats=("html", "docx"))
    assert list(tmp_path.iterdir()) == []


def test_returns_paths_in_the_requested_order_and_only_those(tmp_path):
    paths = get_engine().render(make_doc(stem="seul"), tmp_path, formats=("pdf",))
    assert paths == [tmp_path / "seul.pdf"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["seul.pdf"]


# HTML -----------------------------------------------------------------------------------------------------

def test_html_is_french_and_self_contained(rendered):
    html = rendered["html"].read_text(encoding="utf-8")
    assert re.search(r'<html lang="fr"', html)
    assert "<script" not in html  # no script at all, hence no <script src=
    for tag, attribute, url in re.findall(r'<(\w+)\b[^>]*?\b(src|href|srcset|poster)="((?:https?:)?//[^"]*)"', html):
        assert tag == "a", f"<{tag} {attribute}={url}> would load a resource from the network"
    assert 'href="https://www.caf.fr"' in html  # plain links stay links
    assert not re.search(r"url\(\s*['\"]?(https?:)?//", html) and "@import" not in html
    assert re.search(r'<img[^>]+src="data:image/png;base64,', html)
    assert "<style" in html and "@page" in html and "size: A4" in html  # our CSS, inlined


def test_html_content_banner_toc_captions_and_no_code(rendered):
    html = rendered["html"].read_text(encoding="utf-8")
    assert '<p class="bandeau" role="note">Données d’illustration</p>' in html
    assert "<h1>Petite enfance</h1>" in html
    assert '<nav class="sommaire"' in html and 'href="#section-1"' in html
    assert "<caption>Places en accueil collectif</caption>" in html
    assert "<figcaption>Places en accueil collectif, 2023-2024</figcaption>" in html
    assert 'alt="Barres\u00a0: 398 places en 2023, 412 en 2024"' in html
    assert '<time datetime="2026-11-28">28 novembre 2026</time>' in html
    assert "Multi-accueil Les Lutins" in html  # the DataFrame's HTML table
    for code in ("import matplotlib", "plt.subplots", "print(", "journal : chargement", "<Figure size"):
        assert code not in html
    assert "Texte de la section 1\u00a0: voir" in html  # French non-breaking space before the colon


def test_body_headings_start_at_h2_in_html(rendered):
    html = rendered["html"].read_text(encoding="utf-8")
    main = html[html.index("<main"):]
    assert "<h1" not in main
    assert '<h2 id="petite-enfance">Petite enfance</h2>' in main and '<h3 id="chiffres-clés">' in main


def test_short_document_or_sommaire_false_has_no_toc(tmp_path):
    engine = get_engine()
    short = engine.render(make_doc(body="## Seul titre\n\nTexte.", stem="court"), tmp_path, formats=("html",))[0]
    assert '<nav class="sommaire"' not in short.read_text(encoding="utf-8")
    without = engine.render(make_doc(sommaire=False, stem="sans"), tmp_path, formats=("html",))[0]
    assert '<nav class="sommaire"' not in without.read_text(encoding="utf-8")


# PDF ------------------------------------------------------------------------------------------------------

def test_pdf_is_a4_portrait(rendered):
    sizes = page_sizes(rendered["pdf"])
    assert len(sizes) >= 3  # cover, contents, body
    assert all(size == pytest.approx(A4, abs=0.01) for size in sizes)
    if shutil.which("pdfinfo"):
        info = subprocess.run(["pdfinfo", str(rendered["pdf"])], capture_output=True, text=True).stdout
        assert "(A4)" in info and "Title:           Petite enfance" in info


@needs_pdftotext
def test_pdf_cover_toc_captions_header_and_page_numbers(rendered):
    pages = pdf_pages_text(rendered["pdf"])
    cover = pages[0]
    for text in ("Données d’illustration", "Petite enfance", "Rapport d’évaluation 2024", "Montélimar Agglomération",
                 "28 novembre 2026"):
        assert text in cover
    assert "Page 1" not in cover
    assert "Sommaire" in pages[1]
    for number, page in enumerate(pages[1:], start=2):
        assert f"Page {number} / {len(pages)}" in page
        assert "CTG — Petite enfance" in page and "Données d’illustration" in page  # header on every page
    text = "\n".join(pages)
    assert re.search(r"Tableau 1\s*:\s*Places en accueil collectif", text)
    assert re.search(r"Figure 1\s*:\s*Places en accueil collectif, 2023-2024", text)
    assert "Multi-accueil Les Lutins" in text  # raw HTML table re-read for the PDF
    for code in ("import", "plt.", "print(", "journal : chargement", "<Figure size"):
        assert code not in text


def test_pdf_carries_the_image_alt_text(rendered):
    data = rendered["pdf"].read_bytes()
    assert b"/Alt" in data  # tagged PDF: the chart's description (UTF-16 string, so not searched literally)


@needs_pdftotext
def test_landscape_one_pager(tmp_path):
    markdown = notebook_to_markdown(FIXTURE)
    table_and_chart = markdown[markdown.index("## Chiffres clés"):markdown.index("![](data:")]
    doc = make_doc(body=table_and_chart + "\n\nL'offre progresse : +3,5 %.\n",
                   orientation="paysage", couverture=False, sommaire=False, stem="copil")
    html, pdf = get_engine().render(doc, tmp_path)
    assert page_sizes(pdf) == [pytest.approx(A4[::-1], abs=0.01)]
    (page,) = pdf_pages_text(pdf)
    assert "Petite enfance" in page and "Page 1 / 1" in page and "Sommaire" not in page
    assert 'class="paysage"' in html.read_text(encoding="utf-8")


# Determinism and speed ------------------------------------------------------------------------------------

def test_two_renders_a_second_apart_are_byte_identical(tmp_path, monkeypatch):
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    first = get_engine().render(make_doc(), tmp_path / "a")
    time.sleep(1.1)
    second = get_engine().render(make_doc(), tmp_path / "b")
    for a, b in zip(first, second):
        assert a.read_bytes() == b.read_bytes(), a.name
    assert b"/CreationDate(D:20261128000000Z)" in first[1].read_bytes().replace(b" (", b"(")


def test_source_date_epoch_sets_the_pdf_creation_date(tmp_path, monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")  # 2023-11-14 22:13:20 UTC
    (pdf,) = get_engine().render(make_doc(), tmp_path, formats=("pdf",))
    assert b"D:20231114221320Z" in pdf.read_bytes()


def test_render_is_fast(tmp_path):
    engine, doc = get_engine(), make_doc()
    engine.render(doc, tmp_path)  # warm-up (first import of the Typst fonts)
    durations = []
    for _ in range(3):
        start = time.perf_counter()
        engine.render(doc, tmp_path)
        durations.append(time.perf_counter() - start)
    assert sorted(durations)[1] < 1.0, durations  # ~0.25 s on a 2-core machine; generous bound for CI noise


# Robustness -----------------------------------------------------------------------------------------------

@needs_pdftotext
def test_glyphs_missing_from_every_font_do_not_break_the_pdf(tmp_path):
    doc = make_doc(body="## Écritures\n\nMots : 漢字 et ✓ et 🙂 puis la suite.", couverture=False, stem="glyphes")
    (pdf,) = get_engine().render(doc, tmp_path, formats=("pdf",))
    assert "puis la suite" in pdf_pages_text(pdf)[0]


def test_typst_failure_is_a_french_error_and_writes_nothing(tmp_path):
    doc = make_doc(body="Texte.\n\n```{=typst}\n#let cassé = (\n```\n", stem="casse")
    with pytest.raises(RenderError, match="Typst n'a pas pu composer le PDF « casse »"):
        get_engine().render(doc, tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_code_blocks_in_markdown_never_reach_the_report(tmp_path):
    doc = make_doc(body="## Titre\n\nAvant.\n\n```python\nsecret_code = 1\n```\n\n    indented_code = 2\n\nAprès.",
                   stem="code")
    html, pdf = get_engine().render(doc, tmp_path)
    content = html.read_text(encoding="utf-8")
    assert "Avant." in content and "Après." in content
    assert "secret_code" not in content and "indented_code" not in content and "<pre" not in content
    if PDFTOTEXT:
        text = "\n".join(pdf_pages_text(pdf))
        assert "Après." in text and "secret_code" not in text


def test_pandoc_failure_is_a_french_error(tmp_path, monkeypatch):
    from pipeline.render import pandoc

    monkeypatch.setattr(pandoc, "LUA_FILTER", tmp_path / "absent.lua")
    with pytest.raises(RenderError, match=r"pandoc a échoué \(code \d+\) en produisant la page HTML « petite_enfance »"):
        get_engine().render(make_doc(), tmp_path / "out", formats=("html",))
    assert not (tmp_path / "out").exists()


@needs_pdftotext
def test_boxes_and_wide_generated_tables(tmp_path):
    wide = "| Objectif | Action | Statut |\n|:--|:----------------------------------------------------------|--:|\n"
    wide += "| Court | " + "Une action longue à décrire " * 8 + "| Réalisée |\n\nTable: Actions\n"
    body = f"## Suivi\n\n::: {{.encadre}}\nÀ retenir : la couverture progresse.\n:::\n\n{wide}"
    html, pdf = get_engine().render(make_doc(body=body, stem="boites"), tmp_path)
    content = html.read_text(encoding="utf-8")
    assert '<div class="encadre">' in content and ".encadre" in content  # styled by our CSS
    assert "<col " not in content  # no relative widths taken from the dash counts
    text = "\n".join(pdf_pages_text(pdf))
    assert "À retenir" in text and "Réalisée" in text  # the status column stays readable (not 1 % wide)
