"""The local follow-up sheets of every year (`suivi/<annee>/`) as one frame per sheet kind, for the rules.

Each sheet is read with the shared readers and typed (`coerce`); coded columns are turned into vocabulary codes
where possible (an unknown value is kept as written, for the rule to report with its line). Derived columns:
`_annee_dossier` (the folder's year), `_annee_correction` (rows of an earlier year), `_annee_structure`
(activity rows linked to the same year's `equipements`), `_annee_ouverture`, `_ecart_suivi`.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from pipeline.checks.reading import Collector, read_located
from pipeline.checks.result import AVERTISSEMENT, Problem
from pipeline.checks.rules import Context
from pipeline.config import DataLayout
from pipeline.inputs import suivi
from pipeline.inputs.common import LINE_COLUMN, InputError, coerce, find_table
from pipeline.inputs.suivi import SCHEMAS, SHEETS, suivi_years


def _concat(frames: list[pd.DataFrame]) -> pd.DataFrame | None:
    frames = [f for f in frames if f is not None]
    return pd.concat(frames, ignore_index=True) if frames else None


def frames(layout: DataLayout, ctx: Context, collector: Collector, vocab) -> dict[str, pd.DataFrame | None]:
    """{"suivi.<sheet>": every year's sheet in one frame} (None when no file of that kind could be read)."""
    found: dict[str, list[pd.DataFrame]] = {sheet: [] for sheet in SHEETS}
    unlinked: set[int] = set()   # years whose equipements sheet is missing or unreadable
    for year in suivi_years(layout.territoire_dir):
        folder = layout.suivi(year)
        if ctx.first_year and year < ctx.first_year:
            collector.external_problem(folder, f"dossier de suivi antérieur au début de la convention "
                                       f"({ctx.first_year})", hint="Renommez le dossier avec l'année suivie")
        for sheet in SHEETS:
            try:
                path = find_table(folder, sheet)
            except InputError as exc:   # both a .csv and a .xlsx
                collector.file(exc.file)
                collector.reader_problem(Path(exc.file), exc)
                path = df = None
            else:
                if path is None:
                    collector.add(Problem(collector.name(folder / f"{sheet}.csv"), "feuille absente : les "
                                          "indicateurs qui en dépendent seront manquants cette année",
                                          severity=AVERTISSEMENT, hint="Déposez la feuille en .csv ou .xlsx"))
                    df = None
                else:
                    df = _sheet(path, sheet, year, collector, vocab, ctx.first_year)
            if df is None and sheet == "equipements":
                unlinked.add(year)
            found[sheet].append(df)
    out = {f"suivi.{sheet}": _concat(frames_) for sheet, frames_ in found.items()}
    _link_structures(ctx, out, unlinked, vocab)
    return out


def _sheet(path: Path, sheet: str, year: int, collector: Collector, vocab,
           first_year: int | None) -> pd.DataFrame | None:
    schema = SCHEMAS[sheet]
    name = collector.file(path)

    def read(raw: pd.DataFrame) -> pd.DataFrame:
        _unknown_columns(raw, schema, name, collector)
        return coerce(raw, schema, path)

    df = read_located(collector, path, schema.names, read)
    if df is None:
        return None
    if vocab is not None:   # the reader's own rules, run later on files with no error (no second read)
        typed_sheet = df.copy()
        collector.confirm.append((name, lambda: suivi._VALIDATORS[sheet](typed_sheet, path, vocab)))
        for column, kind in {"type": "types_structure", "indicateur": "indicateurs_activite", "statut": "statuts",
                             "financeur": "financeurs", "dispositif": "dispositifs"}.items():
            if column in df:
                df[column] = df[column].map({v: _code(vocab, kind, v) for v in df[column].unique()})
        if sheet == "activite":
            units = df["indicateur"].map(lambda c: vocab.attribute("indicateurs_activite", c, "unite", ""))
            df["unite"] = df["unite"].where(df["unite"] != "", units)
        if sheet == "financements":
            default = df["dispositif"].map(lambda c: vocab.attribute("dispositifs", c, "thematique", "transverse"))
            df["thematique"] = df["thematique"].where(df["thematique"] != "", default)
    df = df.assign(_fichier=name, _annee_dossier=year)
    for column in ("annee", "avancement", "capacite", "valeur", "montant"):
        if column in df:
            df[column] = df[column].astype("float64")
    if "annee" in df:   # rows of an earlier year of the convention: corrections (a warning)
        earlier = (df["annee"] < year) & (df["annee"] >= (first_year or 0))
        df["_annee_correction"] = df["annee"].where(earlier)
    if sheet == "equipements":
        df["code_insee"] = df["code_insee"].str.zfill(5)
        df["_annee_ouverture"] = df["date_ouverture"].dt.year.astype("float64")
    if sheet == "actions":
        df["_ecart_suivi"] = (df["date_suivi"].dt.year - year).astype("float64")
    return df


def _unknown_columns(raw: pd.DataFrame, schema, name: str, collector: Collector) -> None:
    """A column the sheet does not define is ignored: say so (a renamed optional column would be lost)."""
    for column in raw.columns:
        if column and column != LINE_COLUMN and column not in schema.columns:
            collector.add(Problem(name, "colonne non reconnue : elle est ignorée", severity=AVERTISSEMENT,
                                  column=column, sheet=collector.sheets.get(name, ""),
                                  letter=collector.letters.get((name, column), ""),
                                  hint=f"Colonnes attendues : {', '.join(schema.names)} (voir docs/donnees.md)"))


def _code(vocab, kind: str, value: str) -> str:
    try:
        return vocab.normalize(kind, value)
    except ValueError:
        return value


def _link_structures(ctx: Context, frames: dict, broken: set[int], vocab) -> None:
    """Known "annee / structure_id" pairs; activity rows of a year whose equipements sheet is missing or
    broken are not linked (that sheet is already reported)."""
    equipements, activite = frames.get("suivi.equipements"), frames.get("suivi.activite")
    known = set()
    if equipements is not None:
        known = {f"{y} / {s}" for y, s in zip(equipements["_annee_dossier"], equipements["structure_id"])}
    pseudo = vocab.territoire if vocab is not None else "TERRITOIRE"
    years = range(ctx.first_year or 0, (ctx.last_year or 0) + 1)
    ctx.structures = known | {f"{y} / {pseudo}" for y in years}
    if activite is not None:
        year = activite["annee"].astype("Int64").astype(str)
        valid = (activite["annee"] >= (ctx.first_year or 0)) & (activite["annee"] <= activite["_annee_dossier"])
        linked = ~activite["annee"].isin(broken) & valid
        activite["_annee_structure"] = (year + " / " + activite["structure_id"]).where(linked, np.nan)


