"""`ctg statut`: the French checklist of what is missing for a follow-up year (always exit code 0)."""

from __future__ import annotations

import shutil

import pytest
from openpyxl import load_workbook

from conftest import ROOT, run_ctg
from pipeline.config import DataLayout
from pipeline.inputs.suivi import read_sheet
from pipeline.referential import load_referentiel
from pipeline.workbooks import create_year, year_status
from pipeline.workbooks.xlsx import HEADER_ROW

WIDE = {"COLUMNS": "250"}  # rich tables do not wrap lines in the captured output


@pytest.fixture()
def data(tmp_path) -> DataLayout:
    shutil.copytree(ROOT / "data" / "raw", tmp_path / "raw")
    layout = DataLayout(tmp_path)
    create_year(layout, 2026)
    return layout


def statut(layout: DataLayout, *args: str):
    proc = run_ctg("statut", *args, "--data-dir", str(layout.data_dir), env=WIDE)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def edit(layout: DataLayout, sheet: str, row_match: tuple[str, str], column: str, value) -> int:
    """Set `column` on the first data row whose `row_match[0]` column equals `row_match[1]`; returns its row."""
    path = layout.suivi(2026) / f"{sheet}.xlsx"
    workbook = load_workbook(path)
    ws = workbook.worksheets[0]
    columns = {c.value: c.column for c in ws[HEADER_ROW] if c.value}
    key, wanted = row_match
    row = next(r for r in range(HEADER_ROW + 1, ws.max_row + 1) if ws.cell(r, columns[key]).value == wanted)
    ws.cell(row, columns[column]).value = value
    workbook.save(path)
    return row


def test_before_filling_lists_what_is_missing(data):
    last = data.suivi(2025)
    n_actions = len(load_referentiel(data.referentiel).actions_frame())
    n_activity = len(read_sheet(last / "activite.xlsx", "activite"))
    funding = read_sheet(last / "financements.xlsx", "financements")
    n_funding = len(funding[["financeur", "dispositif", "thematique"]].drop_duplicates())
    out = statut(data, "--annee", "2026")
    assert "Suivi 2026 : état de remplissage des feuilles" in out
    assert f"{n_actions} actions sans date de suivi (sur {n_actions})" in out
    assert f"0 action sans statut (sur {n_actions})" in out
    assert "0 action du référentiel absente de la feuille" in out
    assert f"{n_activity} indicateurs d'activité sans valeur (sur {n_activity})" in out
    assert f"{n_funding} lignes de financement sans montant (sur {n_funding})" in out
    assert "3 points à compléter pour 2026" in out


def test_default_year_is_the_latest_folder(data):
    assert "Suivi 2026 :" in statut(data)


def test_each_gap_is_counted(data):
    edit(data, "actions", ("action_id", "enfance.1.02"), "statut", None)
    edit(data, "actions", ("action_id", "enfance.1.03"), "avancement", None)
    edit(data, "equipements", ("structure_id", "EAJE_NOCAZE"), "capacite", None)
    edit(data, "equipements", ("structure_id", "KIDO_CLEON"), "capacite", None)
    (data.suivi(2026) / "financements.xlsx").unlink()
    out = statut(data, "--annee", "2026")
    assert "1 action sans statut" in out
    assert "1 action sans avancement" in out
    assert "2 structures sans capacité" in out
    assert "fichier manquant (financements.xlsx ou financements.csv)" in out
    # capacity is only expected of structures counted in places (not of a relais petite enfance, for example)
    items = {i.texte.split(" (")[0]: i.manquants for i in year_status(data, 2026)}
    assert items["2 structures sans capacité"] == 2


def test_complete_year_and_missing_year(data):
    out = statut(data, "--annee", "2024")
    assert "Tout est rempli pour 2024" in out and "à compléter" not in out
    out = statut(data, "--annee", "2030")
    assert "dossier 2030 absent" in out and "ctg nouvelle-annee 2030" in out


def test_absent_actions_are_reported(data):
    """2021's sample sheet follows part of the referential only: the other actions are « non suivies »."""
    followed = read_sheet(data.suivi(2021) / "actions.csv", "actions")
    absent = len(load_referentiel(data.referentiel).actions_frame()) - len(followed)
    assert absent > 0
    assert f"{absent} actions du référentiel absentes de la feuille" in statut(data, "--annee", "2021")
