"""`year_status`: what is still missing or incomplete in a year's follow-up sheets (`ctg statut`).

Informational: the sheets are read as text (`read_strings`, the readers' first step), so a half-filled workbook
that the pipeline would refuse can still be described. Wrong values are `ctg validate`'s job.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from babel import Locale
from babel.numbers import format_decimal

from pipeline.config import DataLayout, load_params
from pipeline.inputs.common import MISSING, InputError, find_table, read_strings
from pipeline.inputs.suivi import SCHEMAS, SHEETS
from pipeline.inputs.vocabulary import Vocabulary, load_vocabulary
from pipeline.referential import load_referentiel

LOCALE = Locale.parse("fr_FR")
# What one row of each sheet is, in French (singular, plural).
NOUNS = {
    "actions": ("action", "actions"),
    "equipements": ("structure", "structures"),
    "activite": ("indicateur d'activité", "indicateurs d'activité"),
    "financements": ("ligne de financement", "lignes de financement"),
}
# The fields to fill each year, always listed (column -> what is missing, in French).
TO_FILL = {
    "actions": {"statut": "statut", "avancement": "avancement", "date_suivi": "date de suivi"},
    "equipements": {"capacite": "capacité"},
    "activite": {"valeur": "valeur"},
    "financements": {"montant": "montant"},
}


@dataclass(frozen=True)
class StatusItem:
    """One line of the checklist: the sheet, a French sentence, and how many pieces are missing (0 = done)."""

    feuille: str
    texte: str
    manquants: int

    @property
    def complet(self) -> bool:
        return self.manquants == 0


def count(n: int, singular: str, plural: str) -> str:
    """'1 action', '122 actions', '1 234 actions' (French plural rule and digit grouping, from Babel)."""
    return f"{format_decimal(n, locale=LOCALE)} {singular if LOCALE.plural_form(abs(n)) == 'one' else plural}"


def _empty(values: pd.Series) -> pd.Series:
    return values.fillna("").astype(str).str.strip().str.lower().isin(MISSING)


def capacity_types(params: dict | None = None) -> set[str]:
    """Structure types whose places are counted by an indicator of the catalogue (`equipements`, `capacite`)."""
    from pipeline.indicators import load_catalogue
    from pipeline.prepare import catalogue_path

    found: set[str] = set()

    def walk(node) -> None:
        if isinstance(node, dict):
            if node.get("type") == "equipements" and node.get("mesure") == "capacite":
                found.update(node.get("types") or [])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    for entry in load_catalogue(catalogue_path(params or load_params())).values():
        walk(entry["formule"])
    return found


def _codes(values: pd.Series, kind: str, vocab: Vocabulary) -> pd.Series:
    def code(value: str) -> str:
        try:
            return vocab.normalize(kind, value)
        except ValueError:
            return ""
    return values.fillna("").map(code)


def _missing_capacity(df: pd.DataFrame, vocab: Vocabulary, params: dict | None) -> tuple[int, int]:
    """(structures without capacity, structures expected to have one): types counted in places by the
    catalogue, and types of which at least one structure of the sheet has a capacity."""
    types = _codes(df["type"], "types_structure", vocab)
    has_capacity = ~_empty(df["capacite"])
    expected = types.isin(capacity_types(params) | set(types[has_capacity])) & (types != "")
    return int((expected & ~has_capacity).sum()), int(expected.sum())


def _sheet_items(sheet: str, df: pd.DataFrame, layout: DataLayout, vocab: Vocabulary,
                 params: dict | None) -> list[StatusItem]:
    singular, plural = NOUNS[sheet]
    schema = SCHEMAS[sheet]
    df = df.reindex(columns=schema.names).fillna("")
    items = []
    if sheet == "actions":
        referential = list(load_referentiel(layout.referentiel).actions_frame()["action_id"])
        absent = [a for a in referential if a not in set(df["action_id"].str.strip())]
        items.append(StatusItem(sheet, count(len(absent), "action du référentiel absente de la feuille",
                                             "actions du référentiel absentes de la feuille"), len(absent)))
        df = df[df["action_id"].str.strip().isin(referential)]
    if df.empty:
        return [*items, StatusItem(sheet, "feuille vide : aucune ligne remplie", 1)]
    total = f" (sur {format_decimal(len(df), locale=LOCALE)})"
    for column, what in TO_FILL[sheet].items():
        if column == "capacite":
            missing, expected = _missing_capacity(df, vocab, params)
            scope = f" (sur {format_decimal(expected, locale=LOCALE)} accueils comptés en places)"
        else:
            missing, scope = int(_empty(df[column]).sum()), total
        items.append(StatusItem(sheet, f"{count(missing, singular, plural)} sans {what}{scope}", missing))
    for column in schema.required:
        missing = int(_empty(df[column]).sum()) if column not in TO_FILL[sheet] else 0
        if missing:
            items.append(StatusItem(sheet, f"{count(missing, 'ligne', 'lignes')} sans « {column} »", missing))
    return items


def year_status(layout: DataLayout, annee: int, vocab: Vocabulary | None = None,
                params: dict | None = None) -> list[StatusItem]:
    """The checklist of year `annee`: one or more items per sheet (missing file, unreadable file, empty fields)."""
    vocab = vocab or load_vocabulary()
    folder = layout.suivi(annee)
    if not folder.is_dir():
        return [StatusItem("—", f"dossier {annee} absent : créez-le avec « ctg nouvelle-annee {annee} »", 1)]
    items = []
    for sheet in SHEETS:
        try:
            path = find_table(folder, sheet)
            if path is None:
                items.append(StatusItem(sheet, f"fichier manquant ({sheet}.xlsx ou {sheet}.csv)", 1))
                continue
            df = read_strings(path, SCHEMAS[sheet].names)
        except InputError as exc:
            items.append(StatusItem(sheet, f"fichier illisible : {exc}", 1))
            continue
        missing_columns = [c for c in SCHEMAS[sheet].required if c not in df.columns]
        if missing_columns:
            items.append(StatusItem(Path(path).name, f"colonne(s) manquante(s) : {', '.join(missing_columns)}",
                                    len(missing_columns)))
            continue
        items += _sheet_items(sheet, df, layout, vocab, params)
    return items
