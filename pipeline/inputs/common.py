"""Shared reading code for every raw input: CSV and XLSX tables as users receive them.

What is tolerated (and documented for users in docs/donnees.md):
- encoding: UTF-8 with or without BOM; otherwise Windows-1252 (files re-saved from Excel);
- separator: `;`, `,` or tab, detected on the header line;
- numbers: decimal comma or point, thousands separators (space, no-break space, narrow no-break space,
  or dots when a comma is the decimal mark);
- trailing empty lines and fully empty rows;
- XLSX: first sheet, header row found by the expected column names (title rows above it are skipped).

Readers return tables of strings; `coerce` then types each column and raises `InputError` (file, line,
column, rule, value, hint — in French) on the first value it cannot read.
"""

from __future__ import annotations

import csv
import datetime as dt
import functools
import io
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

LINE_COLUMN = "_ligne"  # source line number (1-based, as a spreadsheet shows it) kept for error messages
TABLE_SUFFIXES = (".csv", ".xlsx")


class InputError(Exception):
    """A raw input that cannot be read. Attributes are what a user needs to fix the file (in French):
    `file`, `line` (as a spreadsheet numbers it), `column`, `rule`, `value`, `hint`. Exit code 2 (data error)."""

    exit_code = 2

    def __init__(self, file, rule: str, *, line: int | None = None, column: str | None = None,
                 value: object = None, hint: str = ""):
        self.file = str(file)
        self.line = line
        self.column = column
        self.rule = rule
        self.value = value
        self.hint = hint
        super().__init__(self.message())

    def __reduce__(self):  # raised in a child process (pipeline.run), re-raised in the parent
        return functools.partial(InputError, line=self.line, column=self.column, value=self.value,
                                 hint=self.hint), (self.file, self.rule)

    def message(self) -> str:
        where = [Path(self.file).name]
        if self.line is not None:
            where.append(f"ligne {self.line}")
        if self.column:
            where.append(f"colonne « {self.column} »")
        text = f"{', '.join(where)} : {self.rule}"
        if self.value is not None and self.value != "":
            text += f" (valeur lue : « {self.value} »)"
        if self.hint:
            text += f". {self.hint}"
        return text


@dataclass(frozen=True)
class Schema:
    """Expected columns of one sheet: name -> kind (str, int, float, date, bool).

    `required` columns must be present, and typed ones filled on every line; others may be absent or empty.
    """

    name: str
    columns: dict[str, str]
    required: tuple[str, ...] = ()

    @property
    def names(self) -> list[str]:
        return list(self.columns)


# --- text normalisation ------------------------------------------------------------------------------------

def normalize_label(text: object) -> str:
    """Lower-case, accents removed, spaces/punctuation collapsed: how headers and labels are compared."""
    text = unicodedata.normalize("NFKD", str(text or "")).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")


def decode(raw: bytes) -> tuple[str, str]:
    """Decode bytes as UTF-8 (BOM or not), else Windows-1252 (Excel's "CSV" on French Windows)."""
    if raw.startswith(b"\xef\xbb\xbf"):
        return raw[3:].decode("utf-8"), "utf-8-sig"
    try:
        return raw.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        return raw.decode("cp1252", errors="replace"), "cp1252"


def sniff_separator(header_line: str) -> str:
    counts = {sep: header_line.count(sep) for sep in (";", "\t", ",")}
    best = max(counts, key=lambda sep: counts[sep])
    return best if counts[best] else ";"


# --- readers -----------------------------------------------------------------------------------------------

def read_csv_strings(path: Path) -> pd.DataFrame:
    """Read a CSV as strings; header normalised; empty rows dropped; `_ligne` holds the file line number."""
    text, _ = decode(Path(path).read_bytes())
    lines = text.splitlines()
    first = next((i for i, line in enumerate(lines) if line.strip().strip(";,\t")), None)
    if first is None:
        raise InputError(path, "le fichier est vide", hint="Exportez de nouveau le fichier")
    sep = sniff_separator(lines[first])
    rows = list(csv.reader(io.StringIO("\n".join(lines[first:])), delimiter=sep))
    header = [normalize_label(h) for h in rows[0]]
    records = []
    for offset, row in enumerate(rows[1:], start=first + 2):
        cells = [c.strip() for c in row]
        if not any(cells):
            continue
        if len(cells) > len(header) and not any(cells[len(header):]):
            cells = cells[: len(header)]
        if len(cells) != len(header):
            raise InputError(path, f"{len(cells)} cellules au lieu de {len(header)}", line=offset,
                             hint=f"Vérifiez le séparateur « {sep} » et les guillemets de cette ligne")
        records.append([*cells, offset])
    return pd.DataFrame(records, columns=[*header, LINE_COLUMN], dtype=object)


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def read_xlsx_strings(path: Path, expected) -> pd.DataFrame:
    """Read the first sheet of a workbook; the header is the first row holding two of the expected names
    (title rows above it, which hold a single text cell, are skipped)."""
    from openpyxl import load_workbook

    workbook = load_workbook(path, read_only=True, data_only=True)
    try:
        rows = [[_cell_text(v) for v in row] for row in workbook.worksheets[0].iter_rows(values_only=True)]
    finally:
        workbook.close()
    wanted = set(expected)
    needed = min(2, len(wanted))
    header_index = next((i for i, row in enumerate(rows)
                         if len({normalize_label(v) for v in row if v} & wanted) >= max(needed, 1)), None)
    if header_index is None:
        raise InputError(path, "ligne d'en-tête introuvable", value=", ".join(sorted(wanted)[:8]),
                         hint="La première feuille doit contenir une ligne avec les noms de colonnes attendus")
    raw_header = rows[header_index]
    width = max((i + 1 for i, v in enumerate(raw_header) if v), default=0)
    header = [normalize_label(v) for v in raw_header[:width]]
    records = []
    for number, row in enumerate(rows[header_index + 1:], start=header_index + 2):
        cells = (row + [""] * width)[:width]
        if any(cells):
            records.append([*cells, number])
    return pd.DataFrame(records, columns=[*header, LINE_COLUMN], dtype=object)


def find_table(folder: Path, stem: str) -> Path | None:
    """The `.csv` or `.xlsx` file named `stem` in folder (error if both exist: which one is right?)."""
    found = [folder / f"{stem}{suffix}" for suffix in TABLE_SUFFIXES if (folder / f"{stem}{suffix}").exists()]
    if len(found) > 1:
        raise InputError(found[0], f"deux versions de « {stem} » (CSV et XLSX)",
                         hint="Gardez un seul des deux fichiers dans le dossier")
    return found[0] if found else None


def read_strings(path: Path, expected) -> pd.DataFrame:
    """Read a `.csv` or `.xlsx` table as strings (see module docstring); `expected`: names that mark the header."""
    path = Path(path)
    if path.suffix.lower() == ".xlsx":
        return read_xlsx_strings(path, expected)
    if path.suffix.lower() == ".csv":
        return read_csv_strings(path)
    raise InputError(path, "format non pris en charge", value=path.suffix, hint="Fournissez un fichier .csv ou .xlsx")


# --- typing ------------------------------------------------------------------------------------------------

_SPACES = re.compile(r"[\s\u00a0\u202f']")
_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")
MISSING = {"", "s", "nd", "n/a", "na", "nan"}


def parse_number(text: str) -> float | None:
    """'1 234,5' -> 1234.5; '1.234,5' -> 1234.5; '12.5' -> 12.5; '' or 's' -> None; ValueError otherwise."""
    value = _SPACES.sub("", str(text)).replace("%", "").replace("€", "")
    if value.lower() in MISSING:
        return None
    if "," in value:
        value = value.replace(".", "").replace(",", ".")
    if not _NUMBER.match(value):
        raise ValueError(text)
    return float(value)


def parse_date(text: str) -> dt.date | None:
    value = str(text).strip()
    if not value:
        return None
    for fmt in ("%Y-%m-%d", "%d/%m/%Y", "%d/%m/%y", "%Y/%m/%d", "%d-%m-%Y"):
        try:
            return dt.datetime.strptime(value[:10] if fmt == "%Y-%m-%d" else value, fmt).date()
        except ValueError:
            continue
    raise ValueError(text)


def parse_bool(text: str) -> bool | None:
    value = normalize_label(text)
    if value in {"", "nan"}:
        return None
    if value in {"oui", "o", "vrai", "true", "1", "x", "yes"}:
        return True
    if value in {"non", "n", "faux", "false", "0", "no"}:
        return False
    raise ValueError(text)


_PARSERS = {"float": parse_number, "int": parse_number, "date": parse_date, "bool": parse_bool}
_RULES = {
    "float": ("nombre illisible", "Écrivez un nombre, par exemple 1234,5 ou 1234.5"),
    "int": ("nombre entier illisible", "Écrivez un nombre entier, par exemple 12"),
    "date": ("date illisible", "Écrivez la date au format JJ/MM/AAAA ou AAAA-MM-JJ"),
    "bool": ("valeur oui/non illisible", "Écrivez « oui » ou « non »"),
}


def require_columns(df: pd.DataFrame, schema: Schema, path: Path) -> None:
    missing = [c for c in schema.required if c not in df.columns]
    if missing:
        raise InputError(path, f"colonne(s) manquante(s) : {', '.join(missing)}", column=missing[0],
                         hint=f"Colonnes attendues pour « {schema.name} » : {', '.join(schema.names)}")


def coerce(df: pd.DataFrame, schema: Schema, path: Path) -> pd.DataFrame:
    """Type every schema column (absent optional columns are added empty); keep `_ligne`; drop others."""
    require_columns(df, schema, path)
    out = pd.DataFrame(index=df.index)
    for name, kind in schema.columns.items():
        source = df[name] if name in df.columns else pd.Series("", index=df.index, dtype=object)
        if kind == "str":
            out[name] = source.fillna("").astype(str).str.strip()
            continue
        parser = _PARSERS[kind]
        values = []
        for line, text in zip(df[LINE_COLUMN], source.fillna("")):
            try:
                value = parser(text)
            except ValueError:
                rule, hint = _RULES[kind]
                raise InputError(path, rule, line=int(line), column=name, value=text, hint=hint) from None
            if kind == "int" and value is not None and not float(value).is_integer():
                rule, hint = _RULES[kind]
                raise InputError(path, rule, line=int(line), column=name, value=text, hint=hint)
            if value is None and name in schema.required:
                raise InputError(path, "valeur obligatoire manquante", line=int(line), column=name,
                                 hint=f"Renseignez « {name} » sur chaque ligne")
            values.append(value)
        if kind == "float":
            out[name] = pd.array(values, dtype="Float64").astype("float64")
        elif kind == "int":
            out[name] = pd.array([None if v is None else int(v) for v in values], dtype="Int64")
        elif kind == "date":
            out[name] = pd.to_datetime(pd.Series(values, index=df.index, dtype=object))
        else:
            out[name] = pd.array(values, dtype="boolean")
    out[LINE_COLUMN] = df[LINE_COLUMN].astype(int)
    return out.reset_index(drop=True)
