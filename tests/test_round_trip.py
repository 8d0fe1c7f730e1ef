"""The evaluator's yearly round trip, with the real `ctg` executable on a copy of the sample data:

nouvelle-annee 2026 → statut (what is missing) → fill the workbooks with openpyxl as a person would, with one
mistake → validate names the sheet, row and column as Excel shows them → fix → validate → run --annee 2026.
"""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pandas as pd
from openpyxl import load_workbook
from openpyxl.utils import get_column_letter

from conftest import ROOT, run_ctg
from pipeline.config import DataLayout
from pipeline.inputs.suivi import read_sheet
from pipeline.inputs.vocabulary import load_vocabulary
from pipeline.referential import load_referentiel
from pipeline.workbooks.xlsx import HEADER_ROW

WIDE = {"COLUMNS": "250"}
YEAR = 2026


def ctg(*args: str, code: int = 0):
    proc = run_ctg(*args, env=WIDE)
    assert proc.returncode == code, f"ctg {' '.join(args)} → {proc.returncode}\n{proc.stdout}\n{proc.stderr}"
    return proc


class Sheet:
    """A workbook's data sheet opened as an evaluator would open it (first sheet, header on row 4)."""

    def __init__(self, path: Path):
        self.path = path
        self.workbook = load_workbook(path)
        self.ws = self.workbook.worksheets[0]
        self.columns = {c.value: c.column for c in self.ws[HEADER_ROW] if c.value}

    def rows(self):
        """Excel row numbers of the prefilled rows (the free rows below them are empty)."""
        key = next(iter(self.columns))
        return [r for r in range(HEADER_ROW + 1, self.ws.max_row + 1) if self.ws.cell(r, self.columns[key]).value]

    def get(self, row: int, column: str):
        return self.ws.cell(row, self.columns[column]).value

    def set(self, row: int, column: str, value) -> None:
        self.ws.cell(row, self.columns[column]).value = value

    def letter(self, column: str) -> str:
        return get_column_letter(self.columns[column])

    def dropdown(self, column: str) -> list[str]:
        """The values the Excel dropdown of `column` offers."""
        index = self.columns[column]
        rule = next(v for v in self.ws.data_validations.dataValidation
                    if any(r.min_col <= index <= r.max_col for r in v.sqref.ranges))
        sheet, cells = rule.formula1.split("!")
        return [c.value for row in self.workbook[sheet][cells.replace("$", "")] for c in row]

    def save(self) -> None:
        self.workbook.save(self.path)


def fill_actions(folder: Path) -> tuple[int, str, dict[str, str]]:
    """Update every action: progress moves on, statuses from the dropdown, a date of 2026. Returns the row and
    column letter of the third action and the status written for each action."""
    sheet = Sheet(folder / "actions.xlsx")
    labels = dict(zip(load_vocabulary().codes("statuts"), sheet.dropdown("statut")))
    written = {}
    for i, row in enumerate(sheet.rows()):
        status = load_vocabulary().normalize("statuts", sheet.get(row, "statut") or labels["a_engager"])
        progress = float(sheet.get(row, "avancement") or 0)
        if status in ("en_cours", "a_engager", "reportee"):
            progress = min(100.0, progress + 25)
            status = "realisee" if progress == 100 else "en_cours"
            sheet.set(row, "commentaire", "Point d'étape du comité de pilotage de novembre.")
        sheet.set(row, "statut", labels[status])
        sheet.set(row, "avancement", progress)
        sheet.set(row, "date_suivi", dt.datetime(YEAR, 11, 20))
        written[sheet.get(row, "action_id")] = status
    third = sheet.rows()[2]
    sheet.save()
    return third, sheet.letter("statut"), written


def fill_values(folder: Path, last: Path) -> None:
    """Activity values and amounts: last year's figures, slightly up (as read in the structures' reports)."""
    vocab = load_vocabulary()
    activity = read_sheet(last / "activite.xlsx", "activite").set_index(["structure_id", "indicateur"])["valeur"]
    sheet = Sheet(folder / "activite.xlsx")
    for row in sheet.rows():
        key = (sheet.get(row, "structure_id"), vocab.normalize("indicateurs_activite", sheet.get(row, "indicateur")))
        sheet.set(row, "valeur", round(float(activity[key]) * 1.02))
    sheet.save()
    funding = (read_sheet(last / "financements.xlsx", "financements")
               .groupby(["financeur", "dispositif", "thematique"])["montant"].sum())
    sheet = Sheet(folder / "financements.xlsx")
    for row in sheet.rows():
        key = (vocab.normalize("financeurs", sheet.get(row, "financeur")),
               vocab.normalize("dispositifs", sheet.get(row, "dispositif")), sheet.get(row, "thematique"))
        sheet.set(row, "montant", round(float(funding[key]) * 1.01, 2))
    sheet.save()


def test_yearly_round_trip(tmp_path):
    shutil.copytree(ROOT / "data" / "raw", tmp_path / "data" / "raw")
    layout = DataLayout(tmp_path / "data")
    data_dir, reports = str(layout.data_dir), tmp_path / "reports"
    folder, last = layout.suivi(YEAR), layout.suivi(YEAR - 1)

    created = ctg("nouvelle-annee", str(YEAR), "--data-dir", data_dir)
    assert created.stdout.count("Créé :") == 4

    n_actions = len(load_referentiel(layout.referentiel).actions_frame())
    n_activity = len(read_sheet(last / "activite.xlsx", "activite"))
    before = ctg("statut", "--annee", str(YEAR), "--data-dir", data_dir).stdout
    assert f"{n_actions} actions sans date de suivi (sur {n_actions})" in before
    assert f"{n_activity} indicateurs d'activité sans valeur (sur {n_activity})" in before
    assert "lignes de financement sans montant" in before and "3 points à compléter" in before

    row, letter, statuses = fill_actions(folder)
    fill_values(folder, last)
    mistake = Sheet(folder / "actions.xlsx")
    mistake.set(row, "statut", "Terminée")  # not in the dropdown: Excel would refuse it, a script does not
    mistake.save()
    assert "Tout est rempli pour 2026" in ctg("statut", "--data-dir", data_dir).stdout

    refused = ctg("validate", "--data-dir", data_dir, code=2)
    assert (row, letter) == (7, "B")  # third action, below the title rows; statut is the second column
    assert f"actions.xlsx, feuille « actions », ligne {row}, colonne {letter} (statut)" in refused.stderr
    assert "« Terminée »" in refused.stderr and "1 problème" in refused.stderr

    fixed = Sheet(folder / "actions.xlsx")
    fixed.set(row, "statut", "Réalisée")
    fixed.save()
    statuses[fixed.get(row, "action_id")] = "realisee"
    assert "tout est conforme" in ctg("validate", "--data-dir", data_dir).stdout

    ran = ctg("run", "--annee", str(YEAR), "--data-dir", data_dir, "--reports-dir", str(reports))
    published = reports / layout.territoire / str(YEAR)
    assert str(published) in ran.stdout.replace("\n", "")
    assert (published / "index.html").is_file() and (published / f"rapport_ctg_{YEAR}.pdf").is_file()
    assert str(YEAR) in (published / "index.html").read_text(encoding="utf-8")

    # the filled workbooks reached the report's tables; Caf data stop at the latest year published
    actions = pd.read_parquet(layout.processed / "actions.parquet")
    assert dict(actions[actions["annee"] == YEAR][["action_id", "statut"]].values) == statuses
    indicators = pd.read_parquet(layout.processed / "indicateurs.parquet")
    caf = indicators[indicators["source"].str.startswith("Caf")]
    assert caf["annee"].max() < YEAR
    assert not indicators[(indicators["annee"] == YEAR) & indicators["source"].str.contains("activite")].empty
