"""Write one prefilled workbook with openpyxl: data sheet first, then « Instructions » and « Vocabulaire ».

Data sheet: two title rows, a blank row, the header on row 4 (the readers find it by its column names), then the
rows. Cells to fill are unlocked (yellow), the others locked (grey) by a sheet protection without password;
dropdowns and number/date rules are Excel data validations. Same inputs, same bytes (the sample's stable zip).
"""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill, Protection
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

from pipeline.sample.writers import FIXED_TIME, _stable_zip
from pipeline.workbooks.specs import Column, SheetSpec

HEADER_ROW = 4
VOCABULARY_SHEET = "Vocabulaire"
INSTRUCTIONS_SHEET = "Instructions"
EDIT_FILL = PatternFill("solid", fgColor="FFF4CC")
LOCKED_FILL = PatternFill("solid", fgColor="EDEDED")
HEADER_FILL = PatternFill("solid", fgColor="1F4E79")
HEADER_FONT = Font(bold=True, color="FFFFFF")
FORMATS = {"date": "DD/MM/YYYY", "suivi_date": "DD/MM/YYYY", "text": "@", "year": "0"}


@dataclass(frozen=True)
class VocabList:
    """A dropdown's values, written in a column of the « Vocabulaire » sheet (notes in the next column)."""

    title: str
    values: list[str]
    notes: list[str] | None = None


def _validation(check: str, annee: int, lists: dict[str, str]) -> DataValidation | None:
    """The Excel rule of a column (`lists`: list name -> range in the « Vocabulaire » sheet)."""
    error = {"errorTitle": "Valeur non acceptée", "showErrorMessage": True, "allow_blank": True}
    if check.startswith("list:"):
        source = lists.get(check.removeprefix("list:"))  # None for an empty list (a territory without QPV)
        if source is None:
            return None
        return DataValidation(type="list", formula1=source,
                              error="Choisissez une valeur de la liste (onglet Vocabulaire).", **error)
    rules = {
        "percent": ("decimal", "between", "0", "100", "Un pourcentage entre 0 et 100."),
        "amount": ("decimal", "greaterThanOrEqual", "0", None, "Un nombre supérieur ou égal à 0."),
        "count": ("whole", "greaterThanOrEqual", "0", None, "Un nombre entier supérieur ou égal à 0."),
        "year": ("whole", "between", "2000", str(annee), f"Une année entre 2000 et {annee}."),
        "date": ("date", "between", "DATE(1950,1,1)", "DATE(2100,12,31)", "Une date au format JJ/MM/AAAA."),
        "suivi_date": ("date", "between", f"DATE({annee},1,1)", f"DATE({annee + 1},12,31)",
                       f"Une date de {annee} (ou du début de {annee + 1}), au format JJ/MM/AAAA."),
    }
    if check not in rules:
        return None
    kind, operator, low, high, message = rules[check]
    return DataValidation(type=kind, operator=operator, formula1=low, formula2=high, error=message, **error)


def _editable(column: Column, row: int, last_prefilled: int) -> bool:
    return not column.helper and (column.editable or row > last_prefilled)


def _data_sheet(ws: Worksheet, spec: SheetSpec, rows: list[dict], titles: list[str], annee: int,
                lists: dict[str, str]) -> None:
    for title in titles:
        ws.append([title])
    ws["A1"].font = Font(bold=True, size=14)
    ws.append([])
    ws.append(spec.keys)
    for row in rows:
        ws.append([row.get(key) for key in spec.keys])
    first, last_prefilled = HEADER_ROW + 1, HEADER_ROW + len(rows)
    last = last_prefilled + spec.free_rows
    for index, column in enumerate(spec.columns, start=1):
        letter = get_column_letter(index)
        ws.column_dimensions[letter].width = column.width
        header = ws.cell(HEADER_ROW, index)
        header.font, header.fill = HEADER_FONT, HEADER_FILL
        for number in range(first, last + 1):
            cell = ws.cell(number, index)
            editable = _editable(column, number, last_prefilled)
            cell.protection = Protection(locked=not editable)
            cell.fill = EDIT_FILL if editable else LOCKED_FILL
            if column.check in FORMATS:
                cell.number_format = FORMATS[column.check]
        rule = _validation(column.check, annee, lists) if last >= first else None
        if rule is not None:
            rule.add(f"{letter}{first}:{letter}{last}")
            ws.add_data_validation(rule)
    ws.freeze_panes = f"B{first}"
    ws.auto_filter.ref = f"A{HEADER_ROW}:{get_column_letter(len(spec.columns))}{max(last, HEADER_ROW)}"
    _protect(ws)


def _protect(ws: Worksheet) -> None:
    """Locked cells cannot be edited; widening columns and filtering stay allowed (no password)."""
    ws.protection.sheet = True
    ws.protection.formatColumns = False
    ws.protection.formatRows = False
    ws.protection.autoFilter = False


def _instructions_sheet(ws: Worksheet, title: str, lines: list[tuple[str, str]]) -> None:
    ws.append([title])
    ws["A1"].font = Font(bold=True, size=14)
    ws.append([])
    for label, text in lines:
        ws.append([label, text])
        ws.cell(ws.max_row, 1).font = Font(bold=True)
        ws.cell(ws.max_row, 1).alignment = Alignment(vertical="top", wrap_text=True)
        ws.cell(ws.max_row, 2).alignment = Alignment(vertical="top", wrap_text=True)
    ws.column_dimensions["A"].width = 26
    ws.column_dimensions["B"].width = 110
    _protect(ws)


def _vocabulary_sheet(ws: Worksheet, lists: dict[str, VocabList]) -> dict[str, str]:
    """One column per list (notes next to it); returns list name -> absolute range for the dropdowns."""
    ranges, column = {}, 1
    for name, vocab_list in lists.items():
        letter = get_column_letter(column)
        ws.cell(1, column, vocab_list.title).font = Font(bold=True)
        ws.column_dimensions[letter].width = max(14, min(50, max((len(v) for v in vocab_list.values), default=0) + 2))
        for row, value in enumerate(vocab_list.values, start=2):
            ws.cell(row, column, value)
            if vocab_list.notes:
                ws.cell(row, column + 1, vocab_list.notes[row - 2])
        if vocab_list.values:
            ranges[name] = f"{VOCABULARY_SHEET}!${letter}$2:${letter}${len(vocab_list.values) + 1}"
        if vocab_list.notes:
            ws.column_dimensions[get_column_letter(column + 1)].width = 40
        column += 3 if vocab_list.notes else 2
    _protect(ws)
    return ranges


def write_workbook(path: Path, spec: SheetSpec, rows: list[dict], *, annee: int, titles: list[str],
                   instructions: list[tuple[str, str]], lists: dict[str, VocabList]) -> Path:
    """Write the workbook at `path`, which must not exist (a file is never overwritten: FileExistsError)."""
    workbook = Workbook()
    data = workbook.active
    data.title = spec.name
    instructions_ws = workbook.create_sheet(INSTRUCTIONS_SHEET)
    ranges = _vocabulary_sheet(workbook.create_sheet(VOCABULARY_SHEET), lists)
    _data_sheet(data, spec, rows, titles, annee, ranges)
    _instructions_sheet(instructions_ws, f"Mode d'emploi — {spec.title} {annee}", instructions)
    workbook.active = 0
    workbook.properties.creator = "ctg nouvelle-annee"
    workbook.properties.created = dt.datetime(*FIXED_TIME)
    buffer = io.BytesIO()
    workbook.save(buffer)
    with open(path, "xb") as f:
        f.write(_stable_zip(buffer.getvalue()))
    return path
