"""The processed tables (`processed/<siren>/*.parquet`) as frames for the rules, with the derived columns of the
indicator table: kind of value (`_genre`), small published counts (`_petite_valeur`), hidden cells a total
would give away (`_secret_isole`) and values neither published nor secret (`_manquante`)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from pipeline.checks import secret
from pipeline.checks.reading import READ_ERRORS, Collector
from pipeline.checks.result import Problem
from pipeline.checks.rules import Context
from pipeline.config import DataLayout

PROCESSED = ("indicateurs", "actions", "financements", "equipements", "activite")


def processed_frames(layout: DataLayout, params: dict, ctx: Context, collector: Collector, vocab) -> dict:
    """{"tables.<name>": frame} for the five processed tables; `_ligne` is the row number in the table."""
    from pipeline.indicators import load_catalogue
    from pipeline.prepare import catalogue_path

    catalogue = None
    try:
        catalogue = load_catalogue(catalogue_path(params))
        ctx.indicators = set(catalogue)
    except (*READ_ERRORS, TypeError) as exc:
        collector.file(catalogue_path(params))
        collector.add(Problem(collector.name(catalogue_path(params)), str(exc), hint="Voir docs/donnees.md"))
    frames = {}
    for table in PROCESSED:
        path = layout.processed / f"{table}.parquet"
        name = collector.file(path)
        try:
            df = pd.read_parquet(path)
        except READ_ERRORS as exc:
            collector.reader_problem(path, exc)
            collector.rule(False)
            continue
        collector.rule(True)
        frames[f"tables.{table}"] = df.reset_index(drop=True).assign(_fichier=name, _ligne=np.arange(len(df)) + 1)
    if "tables.indicateurs" in frames:
        equipements = frames.get("tables.equipements")
        frames["tables.indicateurs"] = _indicator_checks(frames["tables.indicateurs"], catalogue, vocab, ctx,
                                                         equipements)
    return frames


def _indicator_checks(table: pd.DataFrame, catalogue, vocab, ctx: Context, equipements) -> pd.DataFrame:
    """Derived columns of the indicator table: kind of value, small published counts, isolated secret cells."""
    catalogue = catalogue or {}
    kinds = {i: secret.value_kind(e) for i, e in catalogue.items()}
    out = table.copy()
    if not {"indicateur", "valeur", "niveau", "secret"} <= set(out.columns):
        return out   # the contract rules report the missing columns
    out["_genre"] = out["indicateur"].map(kinds).fillna("compte")
    hidden = out["secret"].astype(bool)
    prone = secret.secret_prone(catalogue, vocab) if catalogue else set()
    fine = out["niveau"].isin(secret.FINE_LEVELS) & out["indicateur"].isin(prone)
    small = fine & (out["valeur"] > 0) & (out["valeur"] < ctx.seuil)
    out["_petite_valeur"] = out["valeur"].where(small)
    out["_secret_isole"] = secret.isolated(out, equipements)
    out["_manquante"] = out["indicateur"].where(out["valeur"].isna() & ~hidden)
    return out


