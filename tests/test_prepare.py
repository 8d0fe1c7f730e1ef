"""The prepare stage on the committed sample: five tables, stable schemas and bytes, raw inputs untouched,
the Excel re-save variant of a Caf export, and `ctg indicateurs`."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from pipeline.cli import app
from pipeline.config import THEMATIQUES, DataLayout, load_params
from pipeline.indicators import OUTPUT_COLUMNS
from pipeline.prepare import (
    ACTIONS_COLUMNS, ACTIVITE_COLUMNS, EQUIPEMENTS_COLUMNS, FINANCEMENTS_COLUMNS, indicator_table, prepare,
)

ROOT = Path(__file__).resolve().parent.parent


def copy_raw(target: Path) -> DataLayout:
    shutil.copytree(ROOT / "data" / "raw", target / "raw")
    return DataLayout(target)


def tree_digest(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def prepared(tmp_path_factory):
    layout = copy_raw(tmp_path_factory.mktemp("data"))
    before = tree_digest(layout.raw)
    paths = prepare(layout, load_params())
    return layout, paths, before


def test_five_tables_with_contract_columns_and_dtypes(prepared):
    layout, paths, _ = prepared
    assert set(paths) == {"indicateurs", "actions", "financements", "equipements", "activite"}
    expected = {"indicateurs": OUTPUT_COLUMNS, "actions": ACTIONS_COLUMNS, "financements": FINANCEMENTS_COLUMNS,
                "equipements": EQUIPEMENTS_COLUMNS, "activite": ACTIVITE_COLUMNS}
    for name, path in paths.items():
        assert path == layout.processed / f"{name}.parquet"
        df = pd.read_parquet(path)
        assert list(df.columns) == expected[name] and len(df) > 0, name
        assert df["annee"].dtype == "int64"
    ind = pd.read_parquet(paths["indicateurs"])
    assert ind["valeur"].dtype == "float64" and ind["secret"].dtype == "bool" and ind["millesime"].dtype == "int64"
    assert not ind.duplicated(["annee", "niveau", "code_geo", "indicateur"]).any()
    actions = pd.read_parquet(paths["actions"])
    assert set(actions["statut"]) <= {"realisee", "en_cours", "a_engager", "abandonnee", "reportee", ""}
    assert actions.groupby("annee")["action_id"].nunique().eq(actions["action_id"].nunique()).all()
    assert str(actions["date_suivi"].dtype).startswith("datetime64")


def test_raw_inputs_untouched_and_bytes_stable(prepared, tmp_path):
    layout, paths, before = prepared
    assert tree_digest(layout.raw) == before
    first = {name: path.read_bytes() for name, path in paths.items()}
    again = prepare(layout, load_params())
    assert {name: path.read_bytes() for name, path in again.items()} == first


def test_equipements_table_lists_structures_open_during_the_year(prepared):
    eq = pd.read_parquet(prepared[1]["equipements"])
    in_2024 = set(eq.loc[eq["annee"] == 2024, "structure_id"])
    assert {"EAJE_BAGATELLE", "EAJE_NORD_MONTELIMAR"} <= in_2024          # closed in August / opened in September
    assert "EAJE_BAGATELLE" not in set(eq.loc[eq["annee"] == 2025, "structure_id"])
    assert set(eq.loc[eq["structure_id"] == "CS_COLUCCI", "commune"]) == {"Montélimar"}


def test_excel_resaved_caf_export_gives_the_same_tables(prepared, tmp_path):
    layout = copy_raw(tmp_path)
    export = layout.caf / "s_ben_com_f.csv"
    text = export.read_text(encoding="utf-8-sig")
    lines = text.splitlines()
    header, rows = lines[0], [line.split(";") for line in lines[1:]]
    resaved = [header] + [";".join(cells[:3] + [f"{int(c):,}".replace(",", "\u00a0") + ",0" if c else ""
                                                for c in cells[3:]]) for cells in rows]
    export.write_bytes(("\r\n".join(resaved) + "\r\n").encode("cp1252"))
    assert "\u00a0" in export.read_bytes().decode("cp1252")
    paths = prepare(layout, load_params())
    for name in ("indicateurs", "activite", "equipements"):
        assert paths[name].read_bytes() == prepared[1][name].read_bytes(), name


def test_indicator_table_reads_or_computes_the_same_year(prepared, tmp_path):
    layout = prepared[0]
    from_processed = indicator_table(layout, load_params(), 2024)
    computed = indicator_table(copy_raw(tmp_path), load_params(), 2024)
    pd.testing.assert_frame_equal(from_processed, computed)
    assert set(from_processed["annee"]) == {2024}


def test_ctg_indicateurs_json_has_four_valued_indicators_per_thematique(prepared):
    layout = prepared[0]
    result = CliRunner().invoke(app, ["indicateurs", "--annee", "2024", "--format", "json",
                                      "--data-dir", str(layout.data_dir)])
    assert result.exit_code == 0, result.output
    records = json.loads(result.stdout)
    assert records and set(records[0]) == set(OUTPUT_COLUMNS)
    assert any(r["valeur"] is None and r["secret"] for r in records)     # NaN printed as null
    for thematique in THEMATIQUES:
        valued = {r["indicateur"] for r in records if r["thematique"] == thematique and r["valeur"] is not None}
        assert len(valued) >= 4, (thematique, valued)


def test_ctg_indicateurs_csv_and_bad_input_exit_code(prepared, tmp_path):
    layout = prepared[0]
    result = CliRunner().invoke(app, ["indicateurs", "--annee", "2023", "--data-dir", str(layout.data_dir)])
    assert result.exit_code == 0
    assert result.stdout.splitlines()[0] == ",".join(OUTPUT_COLUMNS)
    broken = copy_raw(tmp_path)
    (broken.caf / "s_ben_com_f.csv").write_text("dtreffre;numcomdo;indfoy_ndur\n2023-12;26198;beaucoup\n",
                                                encoding="utf-8")
    result = CliRunner().invoke(app, ["indicateurs", "--annee", "2023", "--data-dir", str(broken.data_dir)])
    assert result.exit_code == 2
    assert "ligne 2" in result.output and "indfoy_ndur" in result.output
