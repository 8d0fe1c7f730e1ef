"""Byte-stable writers for the sample files: CSV in the chosen dialect, XLSX with fixed timestamps."""

from __future__ import annotations

import datetime as dt
import io
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path

FIXED_TIME = (2025, 1, 1, 0, 0, 0)
FIXED_ISO = "2025-01-01T00:00:00Z"


@dataclass(frozen=True)
class Dialect:
    """How a file is saved: Caf export (UTF-8 BOM, `;`), Excel FR re-save (cp1252, `;`, decimal comma)…"""

    encoding: str = "utf-8"
    sep: str = ";"
    decimal: str = "."
    date: str = "%Y-%m-%d"
    bom: bool = False
    thousands: str = ""


CAF_EXPORT = Dialect(encoding="utf-8", sep=";", bom=True)
EXCEL_FR = Dialect(encoding="cp1252", sep=";", decimal=",", date="%d/%m/%Y", thousands="\u00a0")
PLAIN_UTF8 = Dialect(encoding="utf-8", sep=";")
COMMA_UTF8 = Dialect(encoding="utf-8", sep=",", bom=True)


def cell(value, dialect: Dialect) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "oui" if value else "non"
    if isinstance(value, (dt.date, dt.datetime)):
        return value.strftime(dialect.date)
    if isinstance(value, float):
        text = f"{value:,.2f}".rstrip("0").rstrip(".") if not value.is_integer() else f"{int(value):,}"
        return text.replace(",", "\0").replace(".", dialect.decimal).replace("\0", dialect.thousands)
    text = str(value)
    if dialect.sep in text or '"' in text or "\n" in text:
        return '"' + text.replace('"', '""') + '"'
    return text


def write_csv(path: Path, header: list[str], rows: list[list], dialect: Dialect) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = [dialect.sep.join(header)] + [dialect.sep.join(cell(v, dialect) for v in row) for row in rows]
    data = ("\n".join(lines) + "\n").encode(dialect.encoding)
    path.write_bytes((b"\xef\xbb\xbf" if dialect.bom else b"") + data)
    return path


def write_xlsx(path: Path, header: list[str], rows: list[list], title_rows: list[str] = ()) -> Path:
    """One sheet; `title_rows` above the header (as a person would type them); then a blank row."""
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = path.stem[:31]
    for title in title_rows:
        sheet.append([title])
    if title_rows:
        sheet.append([])
    sheet.append(header)
    for row in rows:
        sheet.append([v if not isinstance(v, dt.date) else dt.datetime(v.year, v.month, v.day) for v in row])
    for column_cells in sheet.iter_cols(min_row=len(title_rows) + 2 if title_rows else 1):
        for c in column_cells:
            if isinstance(c.value, dt.datetime):
                c.number_format = "DD/MM/YYYY"
    workbook.properties.creator = "ctg echantillon"
    workbook.properties.created = dt.datetime(*FIXED_TIME)
    buffer = io.BytesIO()
    workbook.save(buffer)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(_stable_zip(buffer.getvalue()))
    return path


def _stable_zip(data: bytes) -> bytes:
    """Rewrite an XLSX zip with fixed entry dates and fixed document timestamps (same bytes on every run)."""
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            content = source.read(info.filename)
            if info.filename == "docProps/core.xml":
                content = re.sub(rb"(<dcterms:(?:created|modified)[^>]*>)[^<]*", rb"\g<1>" + FIXED_ISO.encode(), content)
            entry = zipfile.ZipInfo(info.filename, date_time=FIXED_TIME)
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.external_attr = 0o600 << 16
            target.writestr(entry, content)
    return out.getvalue()
