"""Reading the raw files for the checks, through the project's readers, keeping what messages need.

A reader failure (`InputError`, a broken XLSX, binary garbage…) becomes one problem for that file and stops the
checks of that file only. For XLSX files the sheet name and each column's letter are remembered so messages can
say « feuille « actions », ligne 7, colonne C (statut) ».

Wrapped reader gaps (see the module `pipeline.inputs`): `read_caf_file` returns a long table without `_ligne`, so
`caf_long` re-reads the export with the same shared helpers to keep line numbers.
"""

from __future__ import annotations

import csv
import json
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import pandas as pd

from pipeline.checks.result import ERREUR, Problem, ValidationResult
from pipeline.inputs import caf
from pipeline.inputs.common import LINE_COLUMN, InputError, normalize_label, parse_number, read_strings

try:  # openpyxl's own error for a file that is not a workbook
    from openpyxl.utils.exceptions import InvalidFileException
except ImportError:  # pragma: no cover
    InvalidFileException = ValueError

# Errors that mean "this file cannot be read" (as opposed to a bug in the pipeline, which exits with code 1).
READ_ERRORS = (InputError, ValueError, KeyError, IndexError, UnicodeError, csv.Error, zipfile.BadZipFile,
               InvalidFileException, EOFError, OSError, json.JSONDecodeError)
NAMES = {
    "BadZipFile": "classeur Excel endommagé ou tronqué",
    "InvalidFileException": "ce n'est pas un classeur Excel",
    "UnicodeDecodeError": "encodage illisible",
    "Error": "structure CSV illisible",
    "JSONDecodeError": "JSON illisible",
    "FileNotFoundError": "fichier introuvable",
    "PermissionError": "lecture interdite (droits du fichier)",
}


@dataclass
class Collector:
    """Accumulates problems, files checked and the locations (sheets, column letters) of XLSX files."""

    data_dir: Path
    result: ValidationResult = field(default_factory=ValidationResult)
    sheets: dict[str, str] = field(default_factory=dict)             # file -> sheet name
    letters: dict[tuple[str, str], str] = field(default_factory=dict) # (file, column) -> letter
    confirm: list[tuple[str, Callable[[], object]]] = field(default_factory=list)

    def name(self, path: Path) -> str:
        """Path of a file as stored in problems: below the data directory (`raw/…`), else as given."""
        path = Path(path)
        try:
            return path.relative_to(self.data_dir).as_posix()
        except ValueError:
            from pipeline.config import ROOT

            try:
                return path.resolve().relative_to(ROOT).as_posix()
            except ValueError:
                return path.as_posix()

    def file(self, path: Path) -> str:
        name = self.name(path)
        self.result.files.append(name)
        return name

    def rule(self, passed: bool, count: int = 1) -> None:
        self.result.rules_run += count
        self.result.rules_passed += count if passed else 0

    def add(self, problem: Problem) -> None:
        self.result.add(problem)

    def has_error(self, name: str) -> bool:
        return any(p.file == name for p in self.result.problems)

    def locate(self, path: Path, raw: pd.DataFrame) -> None:
        """Remember the sheet name and column letters of an XLSX file read by `read_strings`."""
        if Path(path).suffix.lower() != ".xlsx":
            return
        from openpyxl import load_workbook
        from openpyxl.utils import get_column_letter

        name = self.name(path)
        workbook = load_workbook(path, read_only=True)
        try:
            self.sheets[name] = workbook.sheetnames[0]
        finally:
            workbook.close()
        for i, column in enumerate(c for c in raw.columns if c != LINE_COLUMN):
            self.letters.setdefault((name, column), get_column_letter(i + 1))

    def reader_problem(self, path: Path, exc: BaseException, raw: pd.DataFrame | None = None) -> None:
        """One problem for a file the readers refused."""
        name = self.name(path)
        if isinstance(exc, InputError):
            hint = exc.hint + _extra_hint(path, exc, raw)
            value = "" if exc.value is None else str(exc.value)
            problem = Problem(name, exc.rule, column=exc.column or "", lines=(exc.line,) if exc.line else (),
                              line_count=1 if exc.line else 0, values=(value,) if value else (), hint=hint,
                              sheet=self.sheets.get(name, ""), letter=self.letters.get((name, exc.column or ""), ""))
        else:
            kind = type(exc).__name__
            rule = NAMES.get(kind, "fichier illisible")
            detail = str(exc).splitlines()[0][:160] if str(exc) else kind
            problem = Problem(name, rule, values=(detail,),
                              hint="Ouvrez le fichier dans un tableur, vérifiez-le et enregistrez-le de nouveau "
                                   "(CSV UTF-8 ou classeur .xlsx)")
        self.add(problem)

    def external_problem(self, path: Path, rule: str, column: str = "", hint: str = "",
                         severity: str = ERREUR) -> None:
        self.add(Problem(self.name(path), rule, severity=severity, column=column, hint=hint))


def _extra_hint(path: Path, exc: InputError, raw: pd.DataFrame | None) -> str:
    """Add what the reader could not know: a separator problem, the sheets of a workbook."""
    if exc.rule.startswith("colonne(s) manquante(s)") and raw is not None:
        if len([c for c in raw.columns if c != LINE_COLUMN]) <= 1:
            return (" ; l'en-tête n'est pas découpé en colonnes : vérifiez le séparateur "
                    "(point-virgule, virgule ou tabulation)")
        return f" ; colonnes lues : {', '.join(c for c in raw.columns if c != LINE_COLUMN)}"
    if exc.rule.startswith("ligne d'en-tête introuvable") and Path(path).suffix.lower() == ".xlsx":
        try:
            from openpyxl import load_workbook

            workbook = load_workbook(path, read_only=True)
            names = workbook.sheetnames
            workbook.close()
        except READ_ERRORS:
            return ""
        return f" ; feuilles du classeur : {', '.join(names)} (seule la première est lue)"
    return ""


def read_located(collector: Collector, path: Path, expected: list[str], reader: Callable[[pd.DataFrame], object]):
    """read_strings + locate + `reader(raw)`; a refused file gives one problem and None."""
    raw = None
    try:
        raw = read_strings(path, expected)
        collector.locate(path, raw)
        out = reader(raw)
    except READ_ERRORS as exc:
        collector.reader_problem(path, exc, raw)
        collector.rule(False)
        return None
    collector.rule(True)
    return out


# --- Caf exports with their line numbers ----------------------------------------------------------------------

def caf_long(path: Path, raw: pd.DataFrame) -> pd.DataFrame:
    """The rows `read_caf_file` keeps, one per (line, measure column), with `_ligne` and `_colonne`.

    Same steps as the reader (label headers mapped, placeholder rows dropped); call it on a file the reader
    accepted."""
    dataset = caf.dataset_for(path)
    keys = [c for c in (dataset.periode, dataset.geo, dataset.categorie) if c]
    if not all(k in raw.columns for k in keys):
        raw = caf._map_labels(raw, dataset, path)
    if dataset.geo is None:
        code = pd.Series("FR", index=raw.index)
    else:
        code = raw[dataset.geo].astype(str).str.strip().str.upper()
        keep = code.str.match(caf._VALID_CODE[dataset.niveau])
        if dataset.niveau == "commune":
            keep &= code.str.len() == 5
        raw, code = raw[keep], code[keep]
    measures = [c for c in raw.columns if c.startswith(caf.MEASURE_PREFIXES)]
    base = pd.DataFrame({LINE_COLUMN: raw[LINE_COLUMN], "code_geo": code,
                         "annee": raw[dataset.periode].astype(str).str.extract(r"^\s*(\d{4})")[0].astype("int64"),
                         "categorie": raw[dataset.categorie] if dataset.categorie else ""})
    frames = []
    for column in measures:
        champ = column[: -len(dataset.suffix)] if dataset.suffix and column.endswith(dataset.suffix) else column
        values = raw[column].map(lambda text: parse_number(text))
        frames.append(base.assign(_colonne=column, champ=champ,
                                  valeur=pd.to_numeric(values, errors="coerce").astype("float64")))
    out = pd.concat(frames, ignore_index=True) if frames else base.assign(_colonne="", champ="", valeur=float("nan"))
    out["fichier"] = dataset.name
    out["niveau"] = dataset.niveau
    out["_cle"] = dataset.geo or dataset.periode        # column named for a duplicated line
    out["_cle_periode"] = dataset.periode
    out["_premiere_mesure"] = out["_colonne"] == (measures[0] if measures else "")
    out["_genre"] = out["champ"].map(lambda c: "taux" if c.startswith("txcouv") else "compte")
    return out


def caf_expected_names(path: Path) -> list[str]:
    dataset = caf.dataset_for(path)
    return [c for c in (dataset.periode, dataset.geo, dataset.categorie) if c] + [
        normalize_label(label) for label in caf.LABELS]
