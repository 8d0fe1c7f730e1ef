"""Caf open-data readers: traps, Excel re-save variant, labels variant."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest

from pipeline.inputs.caf import COLUMNS, read_caf, read_caf_file
from pipeline.inputs.common import InputError

FIXTURES = Path(__file__).parent / "fixtures" / "inputs"


def copy_as(tmp_path: Path, fixture: str, name: str) -> Path:
    target = tmp_path / name
    shutil.copy(FIXTURES / fixture, target)
    return target


def value(df: pd.DataFrame, **keys) -> float:
    rows = df
    for column, wanted in keys.items():
        rows = rows[rows[column] == wanted]
    assert len(rows) == 1, keys
    return rows["valeur"].iloc[0]


def test_s_ben_long_table_blanks_and_placeholders(tmp_path):
    df = read_caf_file(copy_as(tmp_path, "s_ben_com_f.csv", "s_ben_com_f.csv"))
    assert list(df.columns) == COLUMNS
    assert set(df["code_geo"]) == {"26001", "26002"}           # XXXXX dropped
    assert set(df["annee"]) == {2022, 2023}                     # from dtreffre YYYY-12
    assert set(df["niveau"]) == {"commune"} and set(df["famille"]) == {"s_ben_com_f"}
    assert value(df, annee=2023, code_geo="26001", champ="indfoy_ndur") == 1250
    assert value(df, annee=2023, code_geo="26001", champ="indmtt_rsa") == 98700.5
    assert pd.isna(value(df, annee=2023, code_geo="26002", champ="indfoy_rsa"))   # Caf blank kept as NaN
    assert "nomcom" not in set(df["champ"])


def test_cp1252_decimal_comma_resave_reads_the_same(tmp_path):
    original = read_caf_file(copy_as(tmp_path, "s_ben_com_f.csv", "s_ben_com_f.csv"))
    text = (FIXTURES / "s_ben_com_f.csv").read_text(encoding="utf-8-sig")
    resaved = tmp_path / "excel" / "s_ben_com_f.csv"
    resaved.parent.mkdir()
    text = text.replace("98700.5", "98\u00a0700,5").replace("99100", "99\u00a0100")
    resaved.write_bytes(text.replace("\n", "\r\n").encode("cp1252"))
    pd.testing.assert_frame_equal(read_caf_file(resaved), original)


def test_coverage_level_suffix_removed_and_xx_rows_dropped(tmp_path):
    df = read_caf_file(copy_as(tmp_path, "txcouv_pe_epci.csv", "txcouv_pe_epci.csv"))
    assert set(df["code_geo"]) == {"200000001"}
    assert set(df["famille"]) == {"txcouv_pe"} and set(df["niveau"]) == {"epci"}
    assert value(df, annee=2022, champ="txcouv") == 58.6
    assert value(df, annee=2021, champ="txcouv") == 102.4      # places, not children: may exceed 100
    assert {"txcouv_psu_col", "txcouv_am_ind", "txcouv_ind"} <= set(df["champ"])


def test_labels_export_is_mapped_to_field_names(tmp_path):
    fields = read_caf_file(copy_as(tmp_path, "txcouv_pe_epci.csv", "txcouv_pe_epci.csv"))
    (tmp_path / "libelles").mkdir()
    labels = read_caf_file(copy_as(tmp_path / "libelles", "txcouv_pe_epci_libelles.csv", "txcouv_pe_epci.csv"))
    pd.testing.assert_frame_equal(labels.sort_values(["annee", "champ"]).reset_index(drop=True),
                                  fields.sort_values(["annee", "champ"]).reset_index(drop=True))


def test_unknown_labels_are_rejected_with_a_french_request(tmp_path):
    path = copy_as(tmp_path, "s_ben_com_f_libelles_inconnus.csv", "s_ben_com_f.csv")
    with pytest.raises(InputError) as info:
        read_caf_file(path)
    assert info.value.column == "foyers_beneficiaires_d_une_aide_au_logement_a_titre_derogatoire"
    assert "libellés" in info.value.rule
    assert "décochant l'option « libellés »" in info.value.hint


def test_unreadable_number_points_to_line_and_field(tmp_path):
    path = tmp_path / "s_ben_com_f.csv"
    path.write_text("dtreffre;numcomdo;nomcom;indfoy_ndur\n2023-12;26001;Alpha;12\n2023-12;26002;Bêta;douze\n",
                    encoding="utf-8")
    with pytest.raises(InputError) as info:
        read_caf_file(path)
    assert (info.value.line, info.value.column, info.value.value) == (3, "indfoy_ndur", "douze")


def test_unknown_file_name_is_rejected(tmp_path):
    path = tmp_path / "export.csv"
    path.write_text("a;b\n1;2\n", encoding="utf-8")
    with pytest.raises(InputError, match="fichier Caf inconnu"):
        read_caf_file(path)


def test_read_caf_folder_reads_every_known_file(tmp_path):
    copy_as(tmp_path, "s_ben_com_f.csv", "s_ben_com_f.csv")
    copy_as(tmp_path, "txcouv_pe_epci.csv", "txcouv_pe_epci.csv")
    (tmp_path / "notes.txt").write_text("ignoré", encoding="utf-8")
    df = read_caf(tmp_path)
    assert set(df["fichier"]) == {"s_ben_com_f", "txcouv_pe_epci"}
    assert read_caf(tmp_path / "absent").empty
