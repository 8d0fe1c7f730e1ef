"""Shared reading code: encodings, separators, numbers, dates, XLSX header offset, InputError."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest
from openpyxl import Workbook

from pipeline.inputs.common import (
    InputError, Schema, coerce, decode, parse_date, parse_number, read_csv_strings, read_strings,
)

SCHEMA = Schema("essai", {"code": "str", "nombre": "float", "jour": "date", "actif": "bool"}, required=("code", "nombre"))


@pytest.mark.parametrize("text, expected", [
    ("1234", 1234.0), ("1234.5", 1234.5), ("1234,5", 1234.5), ("1 234,5", 1234.5), ("1\u00a0234,5", 1234.5),
    ("1\u202f234", 1234.0), ("1.234,5", 1234.5), ("-3,25", -3.25), ("58,6 %", 58.6), ("12 500 €", 12500.0),
])
def test_parse_number_variants(text, expected):
    assert parse_number(text) == pytest.approx(expected)


@pytest.mark.parametrize("text", ["", "s", "  ", "nd"])
def test_parse_number_blank_is_missing(text):
    assert parse_number(text) is None


@pytest.mark.parametrize("text", ["douze", "12a", "1,2,3"])
def test_parse_number_rejects_text(text):
    with pytest.raises(ValueError):
        parse_number(text)


def test_parse_date_formats():
    assert parse_date("2023-09-04") == dt.date(2023, 9, 4)
    assert parse_date("04/09/2023") == dt.date(2023, 9, 4)
    assert parse_date("") is None
    with pytest.raises(ValueError):
        parse_date("septembre 2023")


def test_decode_utf8_bom_and_cp1252():
    assert decode("\ufeffcrèche".encode("utf-8")) == ("crèche", "utf-8-sig")
    assert decode("crèche".encode("utf-8")) == ("crèche", "utf-8")
    assert decode("crèche".encode("cp1252")) == ("crèche", "cp1252")


@pytest.mark.parametrize("sep", [";", ",", "\t"])
def test_csv_separator_detected_and_trailing_lines_dropped(tmp_path, sep):
    path = tmp_path / "t.csv"
    path.write_text(sep.join(["Code", "Nombre"]) + "\n" + sep.join(["A", "3"]) + "\n\n" + sep * 1 + "\n\n",
                    encoding="utf-8")
    df = read_csv_strings(path)
    assert list(df.columns) == ["code", "nombre", "_ligne"]
    assert df.to_dict("records") == [{"code": "A", "nombre": "3", "_ligne": 2}]


def test_coerce_types_and_line_numbers(tmp_path):
    path = tmp_path / "t.csv"
    path.write_bytes("code;nombre;jour;actif\nA;1 234,5;04/09/2023;oui\n\nB;2;;non\n".encode("cp1252"))
    df = coerce(read_csv_strings(path), SCHEMA, path)
    assert df["nombre"].tolist() == [1234.5, 2.0]
    assert df["jour"].iloc[0] == pd.Timestamp(2023, 9, 4) and pd.isna(df["jour"].iloc[1])
    assert df["actif"].tolist() == [True, False]
    assert df["_ligne"].tolist() == [2, 4]


def test_input_error_carries_file_line_column_rule_value_hint(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("code;nombre\nA;1\nB;beaucoup\n", encoding="utf-8")
    with pytest.raises(InputError) as info:
        coerce(read_csv_strings(path), SCHEMA, path)
    error = info.value
    assert (error.file, error.line, error.column, error.value) == (str(path), 3, "nombre", "beaucoup")
    assert error.rule == "nombre illisible"
    assert "1234,5" in error.hint
    assert str(error).startswith("t.csv, ligne 3, colonne « nombre » : nombre illisible")
    assert error.exit_code == 2


def test_missing_required_column_names_expected_columns(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("code\nA\n", encoding="utf-8")
    with pytest.raises(InputError) as info:
        coerce(read_csv_strings(path), SCHEMA, path)
    assert info.value.column == "nombre"
    assert "code, nombre, jour, actif" in info.value.hint


def test_wrong_cell_count_is_reported_with_its_line(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("code;nombre\nA;1\nB;2;3;4\n", encoding="utf-8")
    with pytest.raises(InputError) as info:
        read_csv_strings(path)
    assert info.value.line == 3


def test_xlsx_header_found_below_title_rows(tmp_path):
    path = tmp_path / "t.xlsx"
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["Suivi de la CTG 2025"])
    sheet.append(["Feuille saisie par le service enfance"])
    sheet.append([])
    sheet.append(["Code", "Nombre", "Jour", "Actif"])
    sheet.append(["A", 1234.5, dt.datetime(2025, 3, 1), "oui"])
    sheet.append([None, None, None, None])
    sheet.append(["B", 7, None, "non"])
    workbook.save(path)
    df = coerce(read_strings(path, SCHEMA.names), SCHEMA, path)
    assert df["code"].tolist() == ["A", "B"]
    assert df["nombre"].tolist() == [1234.5, 7.0]
    assert df["jour"].iloc[0] == pd.Timestamp(2025, 3, 1)
    assert df["_ligne"].tolist() == [5, 7]   # spreadsheet row numbers


def test_xlsx_without_expected_header_is_rejected(tmp_path):
    path = tmp_path / "t.xlsx"
    workbook = Workbook()
    workbook.active.append(["autre", "chose"])
    workbook.save(path)
    with pytest.raises(InputError, match="ligne d'en-tête introuvable"):
        read_strings(path, SCHEMA.names)
