"""The territory: its communes, INSEE legal populations and commune boundaries (read from DIR/raw/).

Files (see docs/architecture.md): ``raw/territoires/<siren>/communes.csv`` (code_insee, commune, niveau_service,
qpv), ``raw/insee/populations_legales.csv`` (code_insee, millesime, population_municipale, population_totale,
source) and ``raw/insee/communes.geojson`` (property ``code_insee``).

Legal populations: INSEE publishes millésime M at the end of year M+2 and it is in force from 1 January M+3, so a
report about year N uses millésime N-3 (`millesime_population`). Populations are *populations municipales*.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Literal

import pandas as pd

from pipeline.config import DataLayout

POPULATIONS_FILE = "populations_legales.csv"
GEOMETRIES_FILE = "communes.geojson"
COMMUNES_COLUMNS = ["code_insee", "commune", "niveau_service", "qpv"]
POPULATIONS_COLUMNS = ["code_insee", "millesime", "population_municipale", "population_totale", "source"]
NIVEAUX_SERVICE = ("pole_superieur", "pole_intermediaire", "pole_proximite")
QPV_SEPARATEUR = "|"
DECALAGE_MILLESIME = 3


class TerritoireError(ValueError):
    """A territory file is missing or malformed (French message naming the file)."""

    exit_code = 2

    def __init__(self, fichier: Path, message: str):
        self.fichier = Path(fichier)
        super().__init__(f"{self.fichier} : {message}")


def populations_path(layout: DataLayout) -> Path:
    return layout.insee / POPULATIONS_FILE


def geometries_path(layout: DataLayout) -> Path:
    return layout.insee / GEOMETRIES_FILE


def _read_csv(path: Path, columns: list[str], **kwargs) -> pd.DataFrame:
    if not path.is_file():
        raise TerritoireError(path, "fichier introuvable")
    df = pd.read_csv(path, encoding="utf-8-sig", **kwargs)
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise TerritoireError(path, f"colonnes manquantes : {', '.join(missing)} (attendues : {', '.join(columns)})")
    return df


def _codes(path: Path, codes: pd.Series) -> pd.Series:
    """INSEE codes as 5-character strings (leading zeros restored if a spreadsheet dropped them)."""
    codes = codes.astype("string").str.strip().str.zfill(5)
    bad = codes[~codes.str.fullmatch(r"\d[\dAB]\d{3}", na=False)]
    if not bad.empty:
        raise TerritoireError(path, f"code INSEE invalide ligne {bad.index[0] + 2} : « {bad.iloc[0]} »")
    return codes


def load_communes(layout: DataLayout) -> pd.DataFrame:
    """The territory's communes: code_insee, commune, niveau_service (or NA when unknown), qpv ("a|b|c" or NA)."""
    path = layout.communes
    df = _read_csv(path, COMMUNES_COLUMNS, dtype=str, keep_default_na=False)
    df = df[COMMUNES_COLUMNS].astype("string")
    df["code_insee"] = _codes(path, df["code_insee"])
    dup = df["code_insee"][df["code_insee"].duplicated()]
    if not dup.empty:
        raise TerritoireError(path, f"commune en double : {dup.iloc[0]}")
    for col in ("niveau_service", "qpv"):
        df[col] = df[col].str.strip().replace("", pd.NA)
    bad = df["niveau_service"].dropna()[lambda s: ~s.isin(NIVEAUX_SERVICE)]
    if not bad.empty:
        raise TerritoireError(path, f"niveau_service « {bad.iloc[0]} » inconnu (attendu : {', '.join(NIVEAUX_SERVICE)} ou vide)")
    return df.reset_index(drop=True)


def qpv_list(value: object) -> list[str]:
    """Split a communes.csv `qpv` cell ("Quartier Ouest (Pracomtal)|Nocaze|Centre ancien") into names."""
    if value is None or value is pd.NA or (isinstance(value, float) and pd.isna(value)):
        return []
    return [q.strip() for q in str(value).split(QPV_SEPARATEUR) if q.strip()]


def load_populations(layout: DataLayout) -> pd.DataFrame:
    """All legal populations of the file (every territory): one row per (code_insee, millesime)."""
    path = populations_path(layout)
    df = _read_csv(path, POPULATIONS_COLUMNS, dtype={"code_insee": str, "source": str})
    df = df[POPULATIONS_COLUMNS].copy()
    df["code_insee"] = _codes(path, df["code_insee"])
    try:
        df = df.astype({"millesime": "int64", "population_municipale": "Int64", "population_totale": "Int64"})
    except (ValueError, TypeError) as exc:
        raise TerritoireError(path, f"valeur non entière dans millesime ou population ({exc})") from None
    return df


def millesime_population(annee: int) -> int:
    """Millésime of the legal populations in force during report year `annee` (N-3: 2024 → 2021)."""
    return int(annee) - DECALAGE_MILLESIME


def population(layout: DataLayout, annee: int, niveau: Literal["epci", "commune"] = "epci") -> int | pd.DataFrame:
    """Population municipale in force in `annee` (millésime N-3): the EPCI total (int) or one row per commune
    (code_insee, commune, millesime, population_municipale, population_totale)."""
    if niveau not in ("epci", "commune"):
        raise ValueError(f"niveau « {niveau} » inconnu (attendu : epci ou commune)")
    millesime = millesime_population(annee)
    communes = load_communes(layout)[["code_insee", "commune"]]
    pops = load_populations(layout)
    table = communes.merge(pops[pops["millesime"] == millesime], on="code_insee", how="left")
    missing = table.loc[table["population_municipale"].isna(), "code_insee"].tolist()
    if missing:
        raise TerritoireError(
            populations_path(layout),
            f"population légale du millésime {millesime} (rapport {annee}) absente pour {len(missing)} commune(s) : "
            f"{', '.join(missing[:5])}{' …' if len(missing) > 5 else ''}",
        )
    if niveau == "epci":
        return int(table["population_municipale"].sum())
    return table[["code_insee", "commune", "millesime", "population_municipale", "population_totale"]]


def load_geometries(layout: DataLayout) -> dict:
    """GeoJSON FeatureCollection of the territory's communes (WGS84, simplified: for maps, not for areas).

    Properties are reduced to ``code_insee`` and ``nom`` (the source's population property is outdated).
    """
    path = geometries_path(layout)
    if not path.is_file():
        raise TerritoireError(path, "fichier introuvable")
    try:
        collection = json.loads(path.read_text(encoding="utf-8"))
        features = collection["features"]
    except (json.JSONDecodeError, KeyError, TypeError) as exc:
        raise TerritoireError(path, f"GeoJSON illisible ({exc})") from None
    codes = set(load_communes(layout)["code_insee"])
    kept = [
        {"type": "Feature", "properties": {"code_insee": f["properties"]["code_insee"], "nom": f["properties"].get("nom")},
         "geometry": f["geometry"]}
        for f in features
        if f.get("properties", {}).get("code_insee") in codes
    ]
    absent = sorted(codes - {f["properties"]["code_insee"] for f in kept})
    if absent:
        raise TerritoireError(path, f"contour absent pour {len(absent)} commune(s) : {', '.join(absent[:5])}")
    return {"type": "FeatureCollection", "features": kept}
