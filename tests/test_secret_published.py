"""Statistical secrecy in the published reports: no count below the threshold at commune, QPV or structure
level is shown; such cells read "s" (with a footnote), are left out of ranges, and cannot be recovered.

1. The sample report set (`built_reports`): every number of the commune and QPV tables of every thematic page is
   compared with the processed table — secret cells read "s", ranges use published values only, the count of
   communes under secrecy is right — and none of the hidden values (recomputed without secrecy) is shown there.
2. A sample variant where one QPV's count is 3: the published page shows "s" and the footnote, the true value
   appears nowhere in the row, and secondary suppression left no hidden cell recoverable from a total.
"""

from __future__ import annotations

import dataclasses
import re
import shutil
from html.parser import HTMLParser
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from pipeline.checks import secret
from pipeline.config import DataLayout, load_params
from pipeline.indicators import compute_indicators, load_catalogue
from pipeline.prepare import catalogue_path, load_inputs

pytestmark = pytest.mark.e2e   # runs the whole pipeline (see the `built_reports` fixture)
TERRITOIRE = "200040459"
PARAMS = load_params()
CATALOGUE = load_catalogue(catalogue_path(PARAMS))


class Tables(HTMLParser):
    """Every <table> of a page: caption and rows of cell texts (white space collapsed)."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: list[dict] = []
        self._table = self._cell = self._caption = None
        self._after: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag == "table":
            self._table = {"caption": "", "rows": [], "after": ""}
        elif self._table is not None and tag == "caption":
            self._caption = ""
        elif self._table is not None and tag == "tr":
            self._table["rows"].append([])
        elif self._table is not None and tag in ("td", "th"):
            self._cell = ""

    def handle_endtag(self, tag):
        if tag == "table" and self._table is not None:
            self.tables.append(self._table)
            self._table = None
        elif tag == "caption" and self._caption is not None:
            self._table["caption"] = " ".join(self._caption.split())
            self._caption = None
        elif tag in ("td", "th") and self._cell is not None:
            self._table["rows"][-1].append(" ".join(self._cell.split()))
            self._cell = None

    def handle_data(self, data):
        if self._caption is not None:
            self._caption += data
        elif self._cell is not None:
            self._cell += data
        elif self.tables:
            self.tables[-1]["after"] += data


def page_tables(path: Path) -> list[dict]:
    parser = Tables()
    parser.feed(path.read_text(encoding="utf-8"))
    return parser.tables


def number(text: str) -> float:
    return float(re.sub(r"[\s\u202f\u00a0]", "", text).replace(",", "."))


def decimals(text: str) -> int:
    return len(text.strip().split(",")[1]) if "," in text else 0


def label(indicator: str) -> str:
    entry = CATALOGUE[indicator]
    libelle, unite = entry["libelle"], entry["unite"]
    return " ".join((f"{libelle} ({unite})" if unite and not libelle.endswith(f"({unite})") else libelle).split())


def plain(text: str) -> str:
    """Pandoc turns ' into a typographic apostrophe."""
    return " ".join(text.replace("\u2019", "'").split())


LABELS = {plain(label(i)): i for i in CATALOGUE}


def fine_tables(reports: Path):
    """(page, kind, header, row) for each row of the QPV and commune tables of every thematic page."""
    for page in sorted((reports / TERRITOIRE).glob("*/thematiques/*.html")):
        for table in page_tables(page):
            kind = ("qpv" if table["caption"].startswith("Indicateurs des quartiers prioritaires")
                    else "commune" if "autres communes" in table["caption"] else None)
            if kind:
                header, *rows = table["rows"]
                for row in rows:
                    yield page, kind, header, row, table


def expected_cell(rows: pd.DataFrame, text: str) -> None:
    """A displayed cell against its row of the processed table."""
    if rows.empty:
        assert text == "n.d.", text
    elif bool(rows["secret"].iloc[0]):
        assert text == "s", f"secret cell shown as « {text} »"
    elif pd.isna(rows["valeur"].iloc[0]):
        assert text == "n.d.", text
    else:
        assert abs(number(text) - round(float(rows["valeur"].iloc[0]), decimals(text))) < 1e-9, text


@pytest.fixture(scope="module")
def hidden_values(sample_data, built_reports) -> pd.DataFrame:
    """The fine cells hidden in the processed table, with the value they have when nothing is masked."""
    layout = DataLayout(sample_data)
    published = pd.read_parquet(layout.processed / "indicateurs.parquet")
    inputs, _ = load_inputs(layout, PARAMS)
    unmasked = compute_indicators(dataclasses.replace(inputs, seuil=0.0), CATALOGUE)
    key = ["annee", "niveau", "code_geo", "indicateur"]
    hidden = published[published["secret"] & published["niveau"].isin(secret.FINE_LEVELS)]
    return hidden[key].merge(unmasked[key + ["valeur"]], on=key, how="left")


def test_commune_and_qpv_tables_show_only_published_values(built_reports, sample_data, hidden_values):
    table = pd.read_parquet(DataLayout(sample_data).processed / "indicateurs.parquet")
    communes = pd.read_csv(sample_data / "raw" / "territoires" / TERRITOIRE / "communes.csv", dtype=str)
    names = dict(zip(communes["commune"], communes["code_insee"]))
    checked = secret_rows = 0
    for page, kind, header, row, html_table in fine_tables(built_reports):
        indicator, year = LABELS[plain(row[0])], int(row[1])
        cells = table[(table["indicateur"] == indicator) & (table["annee"] == year)]
        if kind == "qpv":
            for name, text in zip(header[2:-1], row[2:-1]):
                expected_cell(cells[(cells["niveau"] == "qpv") & (cells["code_geo"] == name)], text)
        else:
            centres = [names[h] for h in header[2:-3]]
            for code, text in zip(centres, row[2:-3]):
                expected_cell(cells[(cells["niveau"] == "commune") & (cells["code_geo"] == code)], text)
            others = cells[(cells["niveau"] == "commune") & ~cells["code_geo"].isin(centres)]
            shown = others[~others["secret"] & others["valeur"].notna()]["valeur"]
            low_high = row[-3]
            if shown.empty:
                assert low_high == "n.d."
            else:
                ends = [number(t) for t in low_high.split("–")]
                d = decimals(low_high.split("–")[0])
                assert ends[0] == round(shown.min(), d) and ends[-1] == round(shown.max(), d), (page, row)
            assert int(row[-2]) == int(others["secret"].sum()), (page, row)
            secret_rows += int(others["secret"].sum() > 0)
            if others["secret"].any():
                assert "valeur soumise au secret statistique" in html_table["after"]
        expected_cell(cells[cells["niveau"] == "epci"], row[-1])
        # none of the hidden values of this indicator and year is among the numbers of the row
        true = hidden_values[(hidden_values["indicateur"] == indicator) & (hidden_values["annee"] == year)
                             & (hidden_values["niveau"] == kind)]["valeur"].dropna()
        numbers = {round(number(t), 1) for c in row[2:] for t in c.split("–") if re.search(r"\d", t)}
        published_values = set(cells.loc[~cells["secret"], "valeur"].dropna().round(1))
        assert not ({round(v, 1) for v in true} & numbers) - published_values, (page, row)
        checked += 1
    assert checked > 100 and secret_rows > 10


def test_processed_table_has_no_recoverable_secret_cell(sample_data, built_reports):
    layout = DataLayout(sample_data)
    table = pd.read_parquet(layout.processed / "indicateurs.parquet")
    structures = pd.read_parquet(layout.processed / "equipements.parquet")
    fine = table["niveau"].isin(secret.FINE_LEVELS) & table["indicateur"].isin(secret.secret_prone(CATALOGUE))
    assert not (fine & (table["valeur"] > 0) & (table["valeur"] < PARAMS["secret"]["seuil"])).any()
    assert table.loc[table["secret"], "valeur"].isna().all()
    assert secret.isolated(table, structures).isna().all()


@pytest.fixture(scope="module")
def small_qpv(sample_data, tmp_path_factory) -> tuple[Path, Path]:
    """The sample where the Caf antenna of the Nocaze QPV accompanied 3 people in 2025 (instead of 930);
    published with `ctg run --annee 2025 --thematique acces_droits`."""
    from openpyxl import load_workbook

    from pipeline.cli import app

    root = tmp_path_factory.mktemp("secret-qpv")
    data, reports = root / "data", root / "reports"
    shutil.copytree(sample_data / "raw", data / "raw")
    path = data / "raw" / "territoires" / TERRITOIRE / "suivi" / "2025" / "activite.xlsx"
    workbook = load_workbook(path)
    sheet = workbook.worksheets[0]
    header = [c.value for c in sheet[4]]
    for cells in sheet.iter_rows(min_row=5):
        if (cells[header.index("structure_id")].value, cells[header.index("indicateur")].value) == (
                "ANTENNE_CAF_NOCAZE", "personnes_accompagnees"):
            cells[header.index("valeur")].value = 3
    workbook.save(path)
    result = CliRunner().invoke(app, ["run", "--annee", "2025", "--thematique", "acces_droits", "--jobs", "1",
                                      "--data-dir", str(data), "--reports-dir", str(reports)])
    assert result.exit_code == 0, result.output
    return data, reports


def test_a_small_qpv_count_is_shown_as_s_with_a_footnote(small_qpv):
    data, reports = small_qpv
    page = reports / TERRITOIRE / "2025" / "thematiques" / "acces_droits.html"
    qpv = next(t for t in page_tables(page) if t["caption"].startswith("Indicateurs des quartiers prioritaires"))
    header, *rows = qpv["rows"]
    row = next(r for r in rows if plain(r[0]) == plain(label("personnes_accompagnees_numerique")))
    cells = dict(zip(header, row))
    assert cells["Nocaze"] == "s"
    assert not any(re.fullmatch(r"0*3(,0)?", c) for c in row[2:])        # the true value is nowhere in the row
    assert "s : valeur soumise au secret statistique (moins de 5)" in plain(qpv["after"])
    table = pd.read_parquet(DataLayout(data).processed / "indicateurs.parquet")
    hidden = table[(table["indicateur"] == "personnes_accompagnees_numerique") & (table["annee"] == 2025)
                   & table["secret"]]
    assert {"ANTENNE_CAF_NOCAZE", "Nocaze"} <= set(hidden["code_geo"])
    assert len(hidden[hidden["niveau"] == "structure"]) >= 2             # secondary suppression
    published = table[(table["indicateur"] == "personnes_accompagnees_numerique") & (table["annee"] == 2025)
                      & (table["niveau"] == "qpv") & ~table["secret"]]
    for name, value in zip(published["code_geo"], published["valeur"]):
        assert number(cells[name]) == value


def test_the_variant_has_no_recoverable_secret_cell(small_qpv):
    data, _ = small_qpv
    layout = DataLayout(data)
    table = pd.read_parquet(layout.processed / "indicateurs.parquet")
    assert secret.isolated(table, pd.read_parquet(layout.processed / "equipements.parquet")).isna().all()
