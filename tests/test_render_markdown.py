"""Executed notebook → one pandoc-Markdown document (pipeline.render.document)."""

from __future__ import annotations

import base64
import datetime as dt
import re
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from pipeline.render import Document, RenderError, notebook_to_markdown

FIXTURE = Path(__file__).parent / "fixtures" / "render" / "executed.ipynb"  # executed by papermill


@pytest.fixture(scope="module")
def fixture_markdown() -> str:
    return notebook_to_markdown(FIXTURE)


def test_code_is_never_in_the_markdown(fixture_markdown):
    nb = nbformat.read(FIXTURE, as_version=4)
    code_lines = [line for cell in nb.cells if cell.cell_type == "code" for line in cell.source.splitlines()]
    assert code_lines, "the fixture must have code"
    for line in code_lines:
        assert line.strip() not in fixture_markdown


def test_markdown_cells_and_markdown_outputs_are_kept_in_order(fixture_markdown):
    order = [
        fixture_markdown.index("# Petite enfance"),
        fixture_markdown.index("## Chiffres clés"),
        fixture_markdown.index("| Montélimar | 412 |"),
        fixture_markdown.index("Table: Places en accueil collectif"),
        fixture_markdown.index("![Places en accueil collectif, 2023-2024](data:image/png;base64,"),
        fixture_markdown.index("## Conclusion"),
    ]
    assert order == sorted(order)
    assert '{alt="Barres : 398 places en 2023, 412 en 2024"}' in fixture_markdown


def test_image_output_becomes_an_embedded_image(fixture_markdown):
    nb = nbformat.read(FIXTURE, as_version=4)
    png = next(o.data["image/png"] for c in nb.cells for o in c.get("outputs", []) if "image/png" in o.get("data", {}))
    assert f"![](data:image/png;base64,{''.join(png.split())}){{alt=\"Graphique sans description textuelle\"}}" in fixture_markdown


def test_html_output_becomes_a_raw_html_block(fixture_markdown):
    block = re.search(r"```\{=html\}\n(.*?)\n```", fixture_markdown, re.S)
    assert block and "Multi-accueil Les Lutins" in block.group(1) and "<table" in block.group(1)


def test_stream_and_plain_text_reprs_are_dropped(fixture_markdown):
    assert "journal : chargement" not in fixture_markdown  # print() → stream
    assert "<Figure size" not in fixture_markdown  # text/plain beside the image
    assert "<IPython.core.display.Markdown" not in fixture_markdown  # text/plain beside the markdown
    assert not re.search(r"^2$", fixture_markdown, re.M)  # `1 + 1` → text/plain only


def test_error_output_raises_a_french_error_naming_notebook_and_cell():
    nb = new_notebook(cells=[
        new_markdown_cell("# Titre"),
        new_code_cell("1 / 0", outputs=[new_output("error", ename="ZeroDivisionError", evalue="division by zero",
                                                   traceback=["..."])]),
    ])
    with pytest.raises(RenderError) as caught:
        notebook_to_markdown(nb, name="jeunesse.ipynb")
    message = str(caught.value)
    assert "« jeunesse.ipynb »" in message and "cellule 2" in message and "ZeroDivisionError" in message


def test_error_in_a_file_names_the_file(tmp_path):
    nb = new_notebook(cells=[new_code_cell("x", outputs=[new_output("error", ename="KeyError", evalue="'annee'",
                                                                      traceback=[])])])
    path = tmp_path / "enfance.ipynb"
    nbformat.write(nb, path)
    with pytest.raises(RenderError, match="« enfance.ipynb ».*cellule 1"):
        notebook_to_markdown(path)


def test_papermill_output_path_names_an_in_memory_notebook():
    nb = new_notebook(cells=[new_code_cell("x", outputs=[new_output("error", ename="E", evalue="v", traceback=[])])],
                      metadata={"papermill": {"output_path": "/tmp/x/parentalite.ipynb"}})
    with pytest.raises(RenderError, match="« parentalite.ipynb »"):
        notebook_to_markdown(nb)


def test_svg_output_is_base64_encoded():
    svg = '<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect width="10" height="10"/></svg>'
    nb = new_notebook(cells=[new_code_cell("chart", outputs=[
        new_output("display_data", data={"image/svg+xml": svg, "text/plain": "<Figure>"})])])
    markdown = notebook_to_markdown(nb)
    payload = re.search(r"data:image/svg\+xml;base64,([A-Za-z0-9+/=]+)\)", markdown).group(1)
    assert base64.b64decode(payload).decode() == svg


def test_markdown_wins_over_image_and_html_in_one_output():
    nb = new_notebook(cells=[new_code_cell("x", outputs=[new_output("display_data", data={
        "text/markdown": "**gras**", "text/html": "<b>gras</b>", "image/png": "iVBORw0KGgo=", "text/plain": "x"})])])
    assert notebook_to_markdown(nb).strip() == "**gras**"


def test_html_with_backtick_fences_gets_a_longer_fence():
    html = "<pre>\n```\ncode\n```\n</pre>"
    nb = new_notebook(cells=[new_code_cell("x", outputs=[new_output("execute_result", data={"text/html": html})])])
    markdown = notebook_to_markdown(nb)
    assert markdown.startswith("````{=html}\n") and markdown.rstrip().endswith("\n````")


def test_removed_cells_and_attachments():
    png = base64.b64encode(b"\x89PNG fake").decode()
    nb = new_notebook(cells=[
        new_markdown_cell("Note interne", metadata={"tags": ["remove-cell"]}),
        new_code_cell("x", metadata={"tags": ["remove_output"]},
                      outputs=[new_output("display_data", data={"text/markdown": "caché"})]),
        new_markdown_cell("![Logo](attachment:logo.png)", attachments={"logo.png": {"image/png": png}}),
    ])
    markdown = notebook_to_markdown(nb)
    assert "Note interne" not in markdown and "caché" not in markdown
    assert markdown.strip() == f"![Logo](data:image/png;base64,{png})"


def test_document_dates_in_french_and_timestamp(monkeypatch):
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    doc = Document(title="T", date=dt.date(2026, 11, 28), body="x")
    assert doc.date_text == "28 novembre 2026"
    assert Document(title="T", date=dt.date(2026, 3, 1), body="x").date_text == "1er mars 2026"
    assert doc.timestamp() == int(dt.datetime(2026, 11, 28, tzinfo=dt.timezone.utc).timestamp())
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    assert doc.timestamp() == 1700000000
    assert doc.header_title == "T"


@pytest.mark.parametrize("kwargs, message", [
    ({"orientation": "landscape"}, "Orientation inconnue"),
    ({"stem": "../rapport"}, "Nom de fichier de sortie invalide"),
    ({"title": " "}, "pas de titre"),
    ({"date": "2026-11-28"}, "doit être une date"),
])
def test_document_rejects_bad_values_in_french(kwargs, message):
    values = {"title": "T", "date": dt.date(2026, 11, 28), "body": "x", **kwargs}
    with pytest.raises(RenderError, match=message):
        Document(**values)


def test_bare_image_output_gets_a_default_alt_and_a_warning(caplog):
    nb = new_notebook(cells=[new_code_cell("plt.show()", outputs=[
        new_output("display_data", data={"image/png": "iVBORw0KGgo=", "text/plain": "<Figure size 640x480>"})])])
    with caplog.at_level("WARNING", logger="pipeline.render.document"):
        markdown = notebook_to_markdown(nb, name="enfance.ipynb")
    assert markdown.strip() == '![](data:image/png;base64,iVBORw0KGgo=){alt="Graphique sans description textuelle"}'
    assert "enfance.ipynb, cellule 1 : image affichée sans texte alternatif" in caplog.text


def test_unreadable_notebook_is_a_french_error(tmp_path):
    broken = tmp_path / "acces_droits.ipynb"
    broken.write_text("{ pas du json", encoding="utf-8")
    with pytest.raises(RenderError, match="Le notebook « acces_droits.ipynb » est illisible"):
        notebook_to_markdown(broken)
