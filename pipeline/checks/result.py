"""What a validation found: problems and warnings located in the user's files, and how they are written.

A `Problem` names the file as the user typed its path, the sheet and cell column for XLSX, the lines as a
spreadsheet numbers them, the column, the rule in plain French, the values read and a hint. `ValidationResult`
gathers them with counts (files, rules run, rules passed); it is written as deterministic JSON (sorted, no
timestamps, paths relative to the data directory's parent) for the report set's data-quality page.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path

from babel.numbers import format_decimal

ERREUR = "erreur"
AVERTISSEMENT = "avertissement"
MAX_LINES = 10   # lines listed in one message; the rest is counted
MAX_VALUES = 5   # distinct values listed in one message


class DataError(Exception):
    """Input data break at least one rule. The message is the French list of problems; exit code 2."""

    exit_code = 2

    def __init__(self, result: "ValidationResult"):
        self.result = result
        super().__init__("données non conformes :\n" + "\n".join(line(p, result.data_dir) for p in result.problems))

    def __reduce__(self):  # raised in a child process (pipeline.run), re-raised in the parent
        return DataError, (self.result,)


@dataclass(frozen=True)
class Problem:
    file: str                    # path as shown to the user (data dir as typed + path below it)
    rule: str                    # the rule in plain French words
    severity: str = ERREUR
    column: str = ""             # column name (or key path for YAML files)
    lines: tuple[int, ...] = ()  # line numbers as a spreadsheet shows them (sorted, unique)
    line_count: int = 0          # number of offending lines (may exceed len(lines))
    values: tuple[str, ...] = () # offending values as text (distinct, in file order)
    hint: str = ""
    sheet: str = ""              # XLSX sheet name
    letter: str = ""             # XLSX column letter
    dataset: str = ""            # dataset id of the rule table (e.g. suivi.actions)

    def sort_key(self) -> tuple:
        return (self.file, self.lines[:1] or (0,), self.column, self.rule, self.values)


@dataclass
class ValidationResult:
    files: list[str] = field(default_factory=list)       # files checked (display paths), sorted
    rules_run: int = 0
    rules_passed: int = 0
    problems: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)     # French notes on what could not be checked
    data_dir: str = ""                                   # data directory as the user typed it (not in JSON)

    @property
    def ok(self) -> bool:
        return not self.problems

    def add(self, problem: Problem) -> None:
        (self.problems if problem.severity == ERREUR else self.warnings).append(problem)

    def merge(self, other: "ValidationResult") -> "ValidationResult":
        merged = ValidationResult(
            sorted(set(self.files) | set(other.files)), self.rules_run + other.rules_run,
            self.rules_passed + other.rules_passed, self.problems + other.problems,
            self.warnings + other.warnings, sorted(set(self.skipped) | set(other.skipped)), self.data_dir)
        return merged.sorted()

    def sorted(self) -> "ValidationResult":
        self.files = sorted(set(self.files))
        self.problems = sorted(set(self.problems), key=Problem.sort_key)
        self.warnings = sorted(set(self.warnings), key=Problem.sort_key)
        self.skipped = sorted(set(self.skipped))
        return self

    # --- JSON ----------------------------------------------------------------------------------------------
    def to_dict(self) -> dict:
        return {
            "fichiers": self.files, "regles": self.rules_run, "regles_respectees": self.rules_passed,
            "problemes": [asdict(p) for p in self.problems], "avertissements": [asdict(p) for p in self.warnings],
            "non_controle": self.skipped, "dossier_donnees": Path(self.data_dir).name if self.data_dir else "",
        }

    @classmethod
    def from_dict(cls, data: dict) -> "ValidationResult":
        def problem(d: dict) -> Problem:
            return Problem(**{**d, "lines": tuple(d.get("lines", ())), "values": tuple(d.get("values", ()))})

        return cls(list(data["fichiers"]), int(data["regles"]), int(data["regles_respectees"]),
                   [problem(p) for p in data["problemes"]], [problem(p) for p in data["avertissements"]],
                   list(data.get("non_controle", [])), data.get("dossier_donnees", ""))

    def write_json(self, path: Path) -> Path:
        """Deterministic JSON (sorted keys and lists, no timestamp), written atomically."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text(json.dumps(self.sorted().to_dict(), ensure_ascii=False, indent=1, sort_keys=True) + "\n",
                       encoding="utf-8")
        tmp.replace(path)
        return path

    @classmethod
    def read_json(cls, path: Path) -> "ValidationResult":
        return cls.from_dict(json.loads(Path(path).read_text(encoding="utf-8")))


# --- French text -----------------------------------------------------------------------------------------------

def nombre(n: float) -> str:
    return format_decimal(n, locale="fr_FR")


def value_text(value) -> str:
    """A value as the user would recognise it: '1 234,5', '31/12/2024', the text itself."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "(vide)"
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):
        value = value.item() if getattr(value, "ndim", 0) == 0 else value
    if isinstance(value, bool):
        return "oui" if value else "non"
    if isinstance(value, (int, float)):
        return format_decimal(value, format="0.##########", locale="fr_FR")   # as typed: no grouping
    if isinstance(value, (dt.datetime, dt.date)):
        return value.strftime("%d/%m/%Y")
    if isinstance(value, (tuple, list)):
        return " / ".join(value_text(v) for v in value)
    if isinstance(value, dict):
        return " / ".join(value_text(v) for v in value.values())
    text = str(value)
    return text if text.strip() else "(vide)"


def enumerate_fr(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " et " + items[-1]


def shown_path(file: str, data_dir: str = "") -> str:
    """A file below the data directory (`raw/…`, `processed/…`) shown under the data directory as typed."""
    if data_dir and file.startswith(("raw/", "processed/")):
        return (Path(data_dir) / file).as_posix()
    return file


def location(p: Problem, data_dir: str = "") -> str:
    """'data/raw/…/actions.xlsx, feuille « Suivi », lignes 7 et 9, colonne C (statut)'."""
    parts = [shown_path(p.file, data_dir)]
    if p.sheet:
        parts.append(f"feuille « {p.sheet} »")
    if p.lines:
        shown = [nombre(n) for n in p.lines[:MAX_LINES]]
        more = p.line_count - len(shown)
        text = ("ligne " if len(shown) == 1 and more <= 0 else "lignes ") + enumerate_fr(shown)
        if more > 0:
            text = "lignes " + ", ".join(shown) + f" et {nombre(more)} autre{'s' if more > 1 else ''}"
        parts.append(text)
    if p.column:
        parts.append(f"colonne {p.letter} ({p.column})" if p.letter else f"colonne « {p.column} »")
    return ", ".join(parts)


def line(p: Problem, data_dir: str = "") -> str:
    """One problem on one line, in French."""
    text = f"{location(p, data_dir)} : {p.rule}"
    if p.values:
        label = "valeur lue" if len(p.values) == 1 else "valeurs lues"
        text += f" ({label} : " + ", ".join(f"« {v} »" for v in p.values) + ")"
    if p.hint:
        text += f". {p.hint.rstrip('.')}."
    return text


def summary(result: ValidationResult) -> str:
    files = f"{nombre(len(result.files))} fichier{'s' if len(result.files) > 1 else ''}"
    rules = f"{nombre(result.rules_run)} règle{'s' if result.rules_run > 1 else ''}"
    warn = len(result.warnings)
    warnings = f"{nombre(warn)} avertissement{'s' if warn > 1 else ''}"
    if result.ok:
        return f"Contrôle des données : {files}, {rules}, tout est conforme" + (f" ({warnings})." if warn else ".")
    n = len(result.problems)
    return (f"Contrôle des données : {files}, {rules} dont {nombre(result.rules_passed)} respectées ; "
            f"{nombre(n)} problème{'s' if n > 1 else ''}, {warnings}.")


def print_result(result: ValidationResult, console=None, err=None) -> None:
    """Print problems and warnings (one line each) on `err`, then the summary line on `console` (rich
    consoles, or None for plain stdout/stderr)."""
    import sys

    def out(target, text: str) -> None:
        if target is None:
            print(text, file=sys.stdout)
        else:
            target.print(text, markup=False, highlight=False, soft_wrap=True)

    if result.problems:
        out(err, f"Problèmes à corriger ({nombre(len(result.problems))}) :")
        for p in result.problems:
            out(err, "- " + line(p, result.data_dir))
    if result.warnings:
        out(err, f"Avertissements, sans effet sur la suite ({nombre(len(result.warnings))}) :")
        for p in result.warnings:
            out(err, "- " + line(p, result.data_dir))
    for note in result.skipped:
        out(err, f"Non contrôlé : {note}")
    out(console if result.ok else err, summary(result))
