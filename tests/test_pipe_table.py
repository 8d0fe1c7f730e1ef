"""Pipe tables are written without padding (pandoc reads padded tables much more slowly) and pandoc reads them
into the same document as the padded tables tabulate writes."""

import subprocess

import pytest
from tabulate import tabulate

from pipeline.render import pipe_table
from pipeline.render.pandoc import LUA_FILTER, pandoc_binary
from pipeline.report.sortie import tableau

HEADER = ["Indicateur", "2024", "2025", "Cible de la convention"]
ROWS = [["Places d'accueil collectif pour 100 enfants de moins de 3 ans", "18,4", "19,1", "≥ 20 en 2025"],
        ["**Petite enfance**", "", "", ""],
        ["Taux de couverture (%)", "59,2", "60,3", "—"]]
ALIGN = ["left", "right", "right", "center"]


def written(markdown: str) -> list[str]:
    """What our pandoc writes from `markdown`: Typst and HTML, through the project's Lua filter (which sets every
    column width to automatic: the dash counts of a pipe table do not matter)."""
    return [subprocess.run([pandoc_binary(), "--from=markdown", f"--lua-filter={LUA_FILTER}", f"--to={to}"],
                           input=markdown, capture_output=True, text=True, check=True).stdout
            for to in ("typst", "html5")]


def test_no_padding_one_line_per_row():
    text = pipe_table(HEADER, ROWS, ALIGN)
    lines = text.splitlines()
    assert len(lines) == 2 + len(ROWS)
    assert lines[1] == "|:---|---:|---:|:---:|"
    assert "   " not in text  # at most the two spaces of an empty cell
    assert lines[2] == "| " + " | ".join(ROWS[0]) + " |"


@pytest.mark.parametrize("align", [ALIGN, None])
def test_same_document_as_padded_table(align):
    padded = tabulate(ROWS, headers=HEADER, tablefmt="pipe", disable_numparse=True, colalign=align)
    assert "   " in padded
    compact = pipe_table(HEADER, ROWS, align)
    typst, html = written(compact + "\n\nTable: Légende\n")
    assert "#table(" in typst and "<table" in html
    assert [typst, html] == written(padded + "\n\nTable: Légende\n")


def test_report_tables_use_it():
    text = tableau(HEADER, ROWS, "Légende", ALIGN, ["Une note."])
    assert text.startswith(pipe_table(HEADER, ROWS, ALIGN) + "\n\nTable: Légende")
    assert text.rstrip().endswith("*Une note.*")
