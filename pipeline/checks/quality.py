"""The report set's data-quality page, from a validation result (or its JSON file): pandoc Markdown, French."""

from __future__ import annotations

import re
from pathlib import Path

from pipeline.checks.result import Problem, ValidationResult, location, nombre, shown_path
from pipeline.render.document import pipe_table

_SPECIAL = re.compile(r"([\\`*_\[\]<>|#$@~^])")
_BLANKS = re.compile(r"\s+")
MAX_ROWS = 200   # rows per table (the JSON file keeps everything)


def _text(value: object) -> str:
    return _SPECIAL.sub(r"\\\1", _BLANKS.sub(" ", str(value)).strip())


def _table(header: list[str], rows: list[list[str]], caption: str, align: list[str]) -> str:
    return pipe_table(header, rows, align) + f"\n\nTable: {caption}\n"


def _problem_rows(problems: list[Problem], data_dir: str) -> list[list[str]]:
    rows = []
    for p in problems[:MAX_ROWS]:
        where = location(Problem(p.file, p.rule, lines=p.lines, line_count=p.line_count, sheet=p.sheet),
                         data_dir).removeprefix(shown_path(p.file, data_dir)).lstrip(", ")
        column = f"{p.letter} ({p.column})" if p.letter else p.column
        values = ", ".join(f"« {v} »" for v in p.values)
        rows.append([_text(shown_path(p.file, data_dir)), _text(where or "—"), _text(column or "—"),
                     _text(p.rule + (f". {p.hint}" if p.hint else "")), _text(values or "—")])
    return rows


def quality_markdown(result: ValidationResult | Path | str) -> str:
    """French data-quality page: what was checked, how many rules passed, the warnings and problems."""
    if not isinstance(result, ValidationResult):
        result = ValidationResult.read_json(Path(result))
    data_dir = result.data_dir
    n_prob, n_warn = len(result.problems), len(result.warnings)
    verdict = ("Aucun problème n'a été trouvé : les indicateurs sont calculés sur des données conformes."
               if result.ok else f"{nombre(n_prob)} problème{'s' if n_prob > 1 else ''} empêche"
               f"{'nt' if n_prob > 1 else ''} le calcul des indicateurs.")
    parts = [
        "# Qualité des données\n",
        f"Avant tout calcul, le pipeline contrôle chaque fichier d'entrée (exports de la Caf, populations "
        f"légales, communes du territoire, référentiel de la convention, feuilles de suivi de chaque année) et "
        f"chaque table préparée : colonnes présentes et typées, identifiants uniques, codes connus, comptes "
        f"positifs, taux dans leur plage, années cohérentes, statuts et actions du référentiel. {verdict}\n",
        _table(["Contrôle", "Nombre"], [
            ["Fichiers contrôlés", nombre(len(result.files))],
            ["Règles appliquées", nombre(result.rules_run)],
            ["Règles respectées", nombre(result.rules_passed)],
            ["Avertissements", nombre(n_warn)],
            ["Problèmes", nombre(n_prob)],
        ], "Bilan des contrôles des données d'entrée.", ["left", "right"]),
    ]
    header = ["Fichier", "Emplacement", "Colonne", "Règle", "Valeurs lues"]
    align = ["left"] * 5
    if result.problems:
        parts += ["## Problèmes\n", _table(header, _problem_rows(result.problems, data_dir),
                                           "Problèmes à corriger dans les données d'entrée.", align)]
    if result.warnings:
        parts += ["## Avertissements\n",
                  "Les avertissements signalent une valeur inhabituelle ou absente ; ils n'empêchent pas le calcul "
                  "mais méritent une vérification.\n",
                  _table(header, _problem_rows(result.warnings, data_dir),
                         "Avertissements (valeurs à vérifier, sans effet bloquant).", align)]
    if result.skipped:
        parts += ["## Non contrôlé\n", "\n".join(f"- {_text(note)}" for note in result.skipped) + "\n"]
    parts += ["## Fichiers contrôlés\n",
              _table(["Fichier"], [[_text(shown_path(f, data_dir))] for f in result.files],
                     "Fichiers contrôlés.", ["left"])]
    return "\n".join(parts)
