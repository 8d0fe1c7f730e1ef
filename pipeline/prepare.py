"""The prepare stage: raw inputs of every year present -> tidy parquet tables in `DIR/processed/<siren>/`.

Tables and schemas: docs/architecture.md. Parquet files are written deterministically (rows sorted, no index,
fixed dtypes): the same inputs give the same bytes. Nothing is ever written under `DIR/raw/`.

Years: a local sheet in `suivi/<Y>/` may hold rows of another year (`annee` column of `activite` and
`financements`); for each year, the rows come from the most recent folder that holds that year (a corrected
figure sent the next year replaces the first one).
"""

from __future__ import annotations

import os

from pathlib import Path

import pandas as pd

from pipeline.checks.secret import secondary_suppression
from pipeline.config import ROOT, THEMATIQUES, DataLayout
from pipeline.indicators import OUTPUT_COLUMNS, Inputs, compute_indicators, load_catalogue
from pipeline.inputs.caf import read_caf
from pipeline.inputs.common import LINE_COLUMN
from pipeline.inputs.suivi import SCHEMAS, read_suivi, suivi_years
from pipeline.referential import load_referentiel
from pipeline.territory import load_communes, load_populations, millesime_population
from pipeline.tranches import ecrire_empreintes_du_dossier

TABLES = ("indicateurs", "actions", "financements", "equipements", "activite")
ACTIONS_COLUMNS = ["annee", "thematique", "axe_id", "axe_numero", "axe_libelle", "objectif_id", "objectif_libelle",
                   "action_id", "libelle", "statut", "avancement", "date_suivi", "commentaire", "pilote"]
EQUIPEMENTS_COLUMNS = ["annee", "structure_id", "nom", "type", "code_insee", "commune", "qpv", "capacite",
                       "date_ouverture", "date_fermeture"]
ACTIVITE_COLUMNS = ["annee", "structure_id", "indicateur", "valeur", "unite"]
FINANCEMENTS_COLUMNS = ["annee", "financeur", "dispositif", "thematique", "montant"]
DTYPES = {
    "annee": "int64", "axe_numero": "int64", "millesime": "int64", "avancement": "float64", "capacite": "float64",
    "valeur": "float64", "montant": "float64", "secret": "bool", "date_suivi": "datetime64[ns]",
    "date_ouverture": "datetime64[ns]", "date_fermeture": "datetime64[ns]",
}
SORT_KEYS = {
    "indicateurs": ["annee", "thematique", "indicateur", "niveau", "code_geo"],
    "actions": ["annee", "action_id"],
    "financements": ["annee", "financeur", "dispositif", "thematique", "montant"],
    "equipements": ["annee", "structure_id"],
    "activite": ["annee", "structure_id", "indicateur"],
}


def typed(df: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """Columns in contract order with stable dtypes (text columns: `str`, empty string when missing)."""
    out = df.reindex(columns=columns).copy()
    for column in columns:
        kind = DTYPES.get(column)
        if kind is None:
            out[column] = out[column].astype(object).where(out[column].notna(), "").astype(str).astype("str")
        else:
            out[column] = out[column].astype(kind)
    return out


def _latest_by_year(frames: dict[int, pd.DataFrame]) -> pd.DataFrame:
    """Concatenate per-folder sheets; for each `annee`, keep the rows of the most recent folder holding it."""
    if not frames:
        return pd.DataFrame()
    tall = pd.concat([df.assign(_dossier=folder) for folder, df in frames.items()], ignore_index=True)
    latest = tall.groupby("annee")["_dossier"].transform("max")
    return tall[tall["_dossier"] == latest].drop(columns=["_dossier", LINE_COLUMN], errors="ignore")


def _open_during(sheet: pd.DataFrame, annee: int) -> pd.DataFrame:
    start, end = pd.Timestamp(annee, 1, 1), pd.Timestamp(annee, 12, 31)
    opened = sheet["date_ouverture"].isna() | (sheet["date_ouverture"] <= end)
    not_closed = sheet["date_fermeture"].isna() | (sheet["date_fermeture"] >= start)
    return sheet[opened & not_closed].assign(annee=annee)


def _populations_by_year(populations: pd.DataFrame, years: list[int]) -> pd.DataFrame:
    """Legal populations in force each year (millésime N-3); years without that millésime are left out."""
    frames = [populations[populations["millesime"] == millesime_population(y)].assign(annee=y) for y in years]
    table = pd.concat(frames, ignore_index=True) if frames else populations.assign(annee=0).iloc[:0]
    return table.astype({"population_municipale": "float64", "population_totale": "float64"})


def load_inputs(layout: DataLayout, params: dict) -> tuple[Inputs, dict[str, pd.DataFrame]]:
    """Read every raw input; return the formulas' inputs and the four local tables (processed schemas)."""
    communes = load_communes(layout)
    referentiel_actions = load_referentiel(layout.referentiel).actions_frame()
    caf = read_caf(layout.caf)
    sheets = {year: read_suivi(layout.suivi(year)) for year in suivi_years(layout.territoire_dir)}

    equipements = pd.concat(
        [_open_during(found["equipements"], year) for year, found in sheets.items() if "equipements" in found]
        or [pd.DataFrame(columns=EQUIPEMENTS_COLUMNS)], ignore_index=True)
    equipements = equipements.merge(communes[["code_insee", "commune"]].astype(str), on="code_insee", how="left")

    activite = _latest_by_year({y: f["activite"] for y, f in sheets.items() if "activite" in f})
    financements = _latest_by_year({y: f["financements"] for y, f in sheets.items() if "financements" in f})

    follow_ups = [
        referentiel_actions.merge(found.get("actions", pd.DataFrame(columns=SCHEMAS["actions"].names))
                                  .drop(columns=[LINE_COLUMN], errors="ignore"), on="action_id", how="left")
        .assign(annee=year)
        for year, found in sheets.items()
    ]
    actions = pd.concat(follow_ups, ignore_index=True) if follow_ups else pd.DataFrame(columns=ACTIONS_COLUMNS)

    tables = {
        "actions": typed(actions, ACTIONS_COLUMNS),
        "financements": typed(financements, FINANCEMENTS_COLUMNS),
        "equipements": typed(equipements, EQUIPEMENTS_COLUMNS),
        "activite": typed(activite, ACTIVITE_COLUMNS),
    }
    years = sorted(set(caf["annee"]) | set(sheets))
    inputs = Inputs(
        territoire=layout.territoire,
        communes=communes.astype({"code_insee": str}),
        populations=_populations_by_year(load_populations(layout), years),
        caf=caf,
        equipements=tables["equipements"],
        activite=tables["activite"],
        financements=tables["financements"],
        actions=tables["actions"],
        seuil=float(params.get("secret", {}).get("seuil", 5)),
    )
    return inputs, tables


def catalogue_path(params: dict) -> Path:
    path = Path(params.get("catalogue", "metadata/indicateurs.yaml"))
    return path if path.is_absolute() else ROOT / path


def write_parquet(df: pd.DataFrame, path: Path, sort_keys: list[str]) -> Path:
    """Sorted rows, no index: the same table always gives the same bytes."""
    ordered = df.sort_values(sort_keys, kind="mergesort").reset_index(drop=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".parquet.tmp")
    ordered.to_parquet(tmp, index=False, engine="pyarrow")
    tmp.replace(path)
    return path


def prepare(layout: DataLayout, params: dict, out: Path | None = None) -> dict[str, Path]:
    """Compute the indicator table and write the five processed tables into `out` (default: the layout's
    processed folder); returns {table name: path}."""
    out = Path(out) if out is not None else layout.processed
    inputs, tables = load_inputs(layout, params)
    catalogue = load_catalogue(catalogue_path(params))
    tables["indicateurs"] = typed(secondary_suppression(compute_indicators(inputs, catalogue), inputs.equipements, catalogue), OUTPUT_COLUMNS)
    paths = {name: write_parquet(tables[name], out / f"{name}.parquet", SORT_KEYS[name]) for name in TABLES}
    # fingerprints of each notebook's data slice (empreintes.json, empreintes/<thematique>.json): pipeline/tranches.py
    ecrire_empreintes_du_dossier(out, params.get("thematiques") or THEMATIQUES, params.get("annees", []))
    return paths


def install(staging: Path, processed: Path) -> None:
    """Move what `prepare(…, out=staging)` wrote into `processed` (file by file, each replace atomic); per-thématique
    fingerprint files that the new preparation did not write are removed."""
    written = sorted(p.relative_to(staging) for p in staging.rglob("*") if p.is_file())
    for name in written:
        (processed / name).parent.mkdir(parents=True, exist_ok=True)
        os.replace(staging / name, processed / name)
    for old in (processed / "empreintes").glob("*.json"):
        if old.relative_to(processed) not in written:
            old.unlink()


def indicator_table(layout: DataLayout, params: dict, annee: int) -> pd.DataFrame:
    """The indicator rows of year `annee` (data reference year): read from the processed table when it is
    up to date (newer than every raw input and the catalogue), otherwise computed from the raw inputs."""
    processed = layout.processed / "indicateurs.parquet"
    sources = [p for p in layout.raw.rglob("*") if p.is_file()] + [catalogue_path(params)]
    newest_input = max((p.stat().st_mtime for p in sources), default=0.0)
    if processed.is_file() and processed.stat().st_mtime >= newest_input:
        table = pd.read_parquet(processed)
    else:
        inputs, _ = load_inputs(layout, params)
        catalogue = load_catalogue(catalogue_path(params))
        table = typed(secondary_suppression(compute_indicators(inputs, catalogue), inputs.equipements, catalogue), OUTPUT_COLUMNS)
    return table[table["annee"] == int(annee)].reset_index(drop=True)
