"""`ctg nouvelle-annee`: prefilled workbooks of a new follow-up year, read by the pipeline's own readers."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest
from openpyxl import load_workbook
from openpyxl.utils import get_column_letter

from conftest import ROOT, run_ctg
from pipeline.config import DataLayout
from pipeline.inputs.common import read_strings
from pipeline.inputs.suivi import SCHEMAS, SHEETS, read_sheet
from pipeline.inputs.vocabulary import load_vocabulary
from pipeline.referential import load_referentiel
from pipeline.workbooks import create_year
from pipeline.workbooks.xlsx import HEADER_ROW

SHEET_FILES = [f"{sheet}.xlsx" for sheet in SHEETS]


@pytest.fixture()
def data(tmp_path) -> DataLayout:
    """A private copy of the sample's raw data (2021-2025)."""
    shutil.copytree(ROOT / "data" / "raw", tmp_path / "raw")
    return DataLayout(tmp_path)


@pytest.fixture()
def created(data) -> DataLayout:
    result = create_year(data, 2026)
    assert sorted(p.name for p in result.written) == sorted(SHEET_FILES)
    assert result.kept == [] and result.sources == {sheet: 2025 for sheet in SHEETS}
    return data


def header_cells(path: Path) -> dict[str, str]:
    """Column name -> Excel column letter, from the data sheet's header row."""
    ws = load_workbook(path).worksheets[0]
    return {c.value: c.column_letter for c in ws[HEADER_ROW] if c.value}


def strings(layout: DataLayout, annee: int, sheet: str) -> pd.DataFrame:
    return read_strings(layout.suivi(annee) / f"{sheet}.xlsx", SCHEMAS[sheet].names)


def test_actions_workbook_lists_every_action_with_last_years_status(created):
    path = created.suivi(2026) / "actions.xlsx"
    actions = read_sheet(path, "actions")
    last = read_sheet(created.suivi(2025) / "actions.xlsx", "actions")
    referential = load_referentiel(created.referentiel).actions_frame()
    assert list(actions["action_id"]) == list(referential["action_id"])
    merged = actions.merge(last, on="action_id", how="left", suffixes=("", "_2025"))
    assert (merged["statut"] == merged["statut_2025"]).all()
    assert (merged["avancement"] == merged["avancement_2025"]).all()
    assert (merged["pilote"] == merged["pilote_2025"]).all()
    assert actions["date_suivi"].isna().all() and (actions["commentaire"] == "").all()
    # rows start right below the header on row 4, as Excel numbers them
    assert actions["_ligne"].iloc[0] == HEADER_ROW + 1


def test_actions_workbook_has_dropdown_bounds_and_locked_ids(created):
    path = created.suivi(2026) / "actions.xlsx"
    workbook = load_workbook(path)
    assert workbook.sheetnames == ["actions", "Instructions", "Vocabulaire"]
    ws = workbook["actions"]
    letters = header_cells(path)
    assert "2026" in ws["A1"].value and "actions" in ws["A1"].value.lower()
    by_column = {get_column_letter(cell_range.min_col): validation
                 for validation in ws.data_validations.dataValidation for cell_range in validation.sqref.ranges}
    statut = by_column[letters["statut"]]
    assert statut.type == "list"
    sheet_name, cells = statut.formula1.split("!")
    values = [c.value for row in workbook[sheet_name][cells.replace("$", "")] for c in row]
    vocab = load_vocabulary()
    assert [vocab.normalize("statuts", v) for v in values] == vocab.codes("statuts")
    progress = by_column[letters["avancement"]]
    assert (progress.type, progress.operator, progress.formula1, progress.formula2) == ("decimal", "between", "0", "100")
    assert ws.protection.sheet
    first = HEADER_ROW + 1
    assert ws[f"{letters['action_id']}{first}"].protection.locked
    for column in ("statut", "avancement", "date_suivi", "commentaire", "pilote"):
        assert not ws[f"{letters[column]}{first}"].protection.locked, column


def test_instructions_sheet_is_in_french_and_second(created):
    ws = load_workbook(created.suivi(2026) / "financements.xlsx").worksheets[1]
    text = "\n".join(str(c.value) for row in ws.iter_rows() for c in row if c.value)
    assert ws.title == "Instructions"
    for expected in ("ctg statut --annee 2026", "ctg validate", "ctg run --annee 2026", "montant",
                     "reports/200040459/2026/", "d'après le suivi 2025"):
        assert expected in text


def test_equipements_activite_financements_come_from_last_year(created):
    vocab = load_vocabulary()
    structures = read_sheet(created.suivi(2026) / "equipements.xlsx", "equipements")
    last = read_sheet(created.suivi(2025) / "equipements.xlsx", "equipements")
    assert list(structures["structure_id"]) == list(last["structure_id"])
    assert structures[["type", "code_insee", "qpv"]].equals(last[["type", "code_insee", "qpv"]])

    activity = strings(created, 2026, "activite")
    last_activity = read_sheet(created.suivi(2025) / "activite.xlsx", "activite")
    pairs = set(zip(activity["structure_id"], activity["indicateur"].map(
        lambda v: vocab.normalize("indicateurs_activite", v))))
    assert pairs == set(zip(last_activity["structure_id"], last_activity["indicateur"]))
    assert (activity["annee"] == "2026").all() and (activity["valeur"] == "").all()
    assert (activity["unite"] != "").all()
    # last year's value is shown beside, for comparison
    shown = activity.set_index("structure_id")["valeur_de_l_annee_precedente_aide"].astype(float)
    by_pair = last_activity.set_index(["structure_id", "indicateur"])["valeur"]
    codes = activity["indicateur"].map(lambda v: vocab.normalize("indicateurs_activite", v))
    assert list(shown) == [by_pair[pair] for pair in zip(activity["structure_id"], codes)]

    funding = strings(created, 2026, "financements")
    last_funding = read_sheet(created.suivi(2025) / "financements.xlsx", "financements")
    keys = set(zip(funding["financeur"].map(lambda v: vocab.normalize("financeurs", v)),
                   funding["dispositif"].map(lambda v: vocab.normalize("dispositifs", v)), funding["thematique"]))
    assert keys == set(zip(last_funding["financeur"], last_funding["dispositif"], last_funding["thematique"]))
    assert len(funding) == len(keys) and (funding["montant"] == "").all()
    shown = funding["montant_de_l_annee_precedente_aide"].astype(float).sum()
    assert shown == pytest.approx(last_funding.loc[last_funding["annee"] == 2025, "montant"].sum())


def test_prefill_from_csv_drops_closed_structures_and_guesses_new_ones(data):
    """2025 built from the 2024 CSV sheets: a crèche closed in 2024 is not carried over; a structure new in
    2024 without activity rows gets the indicators reported by the structures of its type."""
    shutil.rmtree(data.suivi(2025))
    csv = data.suivi(2024) / "equipements.csv"
    csv.write_text(csv.read_text(encoding="utf-8") + "EAJE_NOUVEAU;Nouvelle crèche;eaje_psu;26198;;12;2024-12-01;\n",
                   encoding="utf-8")
    result = create_year(data, 2025)
    assert result.sources == {sheet: 2024 for sheet in SHEETS}
    last = read_sheet(csv, "equipements")
    closed = set(last.loc[last["date_fermeture"] < pd.Timestamp(2025, 1, 1), "structure_id"])
    assert closed == {"EAJE_BAGATELLE", "EAJE_MINI_POUSS"}
    structures = read_sheet(data.suivi(2025) / "equipements.xlsx", "equipements")
    assert set(structures["structure_id"]) == set(last["structure_id"]) - closed
    activity = strings(data, 2025, "activite")
    assert not set(activity["structure_id"]) & closed
    vocab = load_vocabulary()
    last_activity = read_sheet(data.suivi(2024) / "activite.csv", "activite")
    eaje = set(last["structure_id"][last["type"] == "eaje_psu"])
    expected = set(last_activity.loc[last_activity["structure_id"].isin(eaje), "indicateur"])
    guessed = {vocab.normalize("indicateurs_activite", v)
               for v in activity.loc[activity["structure_id"] == "EAJE_NOUVEAU", "indicateur"]}
    assert guessed == expected and "heures_realisees" in guessed


def test_existing_files_are_never_overwritten(data):
    folder = data.suivi(2026)
    folder.mkdir(parents=True)
    (folder / "actions.csv").write_text("action_id;statut\n", encoding="utf-8")
    proc = run_ctg("nouvelle-annee", "2026", "--data-dir", str(data.data_dir), env={"COLUMNS": "250"})
    assert proc.returncode == 0, proc.stderr
    assert "Conservé" in proc.stdout and "actions.csv" in proc.stdout
    assert (folder / "actions.csv").read_text(encoding="utf-8") == "action_id;statut\n"
    assert not (folder / "actions.xlsx").exists()
    assert sorted(p.name for p in folder.iterdir()) == sorted(["actions.csv", "activite.xlsx", "equipements.xlsx",
                                                               "financements.xlsx"])
    before = {p.name: p.read_bytes() for p in folder.iterdir()}
    again = run_ctg("nouvelle-annee", "2026", "--data-dir", str(data.data_dir), env={"COLUMNS": "250"})
    assert again.returncode == 1
    assert "existent déjà" in again.stderr and "aucun fichier n'a été remplacé" in again.stderr
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == before


def test_same_inputs_same_bytes(data, tmp_path):
    other = tmp_path / "autre"
    shutil.copytree(data.raw, other / "raw")
    create_year(data, 2026)
    create_year(DataLayout(other), 2026)
    for name in SHEET_FILES:
        assert (data.suivi(2026) / name).read_bytes() == (other / "raw" / data.suivi(2026).relative_to(data.raw) / name).read_bytes()


def test_first_year_without_history(data):
    shutil.rmtree(data.territoire_dir / "suivi")
    result = create_year(data, 2021)
    assert result.sources == {sheet: None for sheet in SHEETS}
    actions = strings(data, 2021, "actions")
    assert len(actions) == len(load_referentiel(data.referentiel).actions_frame())
    assert (actions["statut"] == "").all()
    for sheet in ("equipements", "activite", "financements"):
        assert strings(data, 2021, sheet).empty


def test_help_ends_with_example():
    for command in ("nouvelle-annee", "statut"):
        proc = run_ctg(command, "--help", env={"COLUMNS": "200"})
        assert proc.returncode == 0
        assert f"Exemple : ctg {command}" in proc.stdout
