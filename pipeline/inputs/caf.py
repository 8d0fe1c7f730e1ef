"""Readers for the Caf open-data exports (data.caf.fr) found in `DIR/raw/caf/`.

Every file is turned into one tidy long table:

    fichier, famille, niveau, code_geo, annee, categorie, champ, valeur

- `fichier`: dataset name (file stem, e.g. `txcouv_pe_epci`); `famille`: the catalogue's `source` id — the file
  stem, except for the per-level families `txcouv_pe` and `nbpla_pe` whose level suffix is dropped;
- `champ`: the field name, without its level suffix (`txcouv_epci` -> `txcouv`, `pl_psu_col_com` -> `pl_psu_col`);
- `valeur`: float, NaN where the Caf left the cell blank (statistical secrecy);
- `categorie`: the band of the quotient-familial file (`qf_400`), empty elsewhere.

Traps handled: placeholder or foreign rows (`numepci="XX"`, `99999`, `XXXXX`, empty codes) are dropped; the
reference date `dtreffre` (`2023-12`, `2023-12-31` or `2023`) gives the year. Exports "with labels" (French labels
as headers) are mapped through `LABELS` when every label is known, and rejected otherwise.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from pipeline.inputs.common import (
    LINE_COLUMN, InputError, find_table, normalize_label, parse_number, read_strings,
)

LEVEL_SUFFIX = {"com": "commune", "epci": "epci", "dep": "departement", "reg": "region", "nat": "france"}
MEASURE_PREFIXES = ("indfoy_", "indnbp_", "indmtt_", "txcouv", "pl_", "tot_offre")
COLUMNS = ["fichier", "famille", "niveau", "code_geo", "annee", "categorie", "champ", "valeur"]


@dataclass(frozen=True)
class CafDataset:
    name: str          # file stem
    famille: str       # catalogue source id
    niveau: str        # geographic level of the rows
    geo: str | None    # key column holding the geographic code (None: national file)
    nom: str | None    # column holding the area's name (ignored)
    periode: str       # `dtreffre` (YYYY-12) or `annee`
    categorie: str | None = None
    suffix: str = ""   # level suffix of the field names (`_epci`), removed in `champ`


def _per_level(famille: str) -> list[CafDataset]:
    keys = {"com": ("numcom", "nomcom"), "epci": ("numepci", "nomepci"), "dep": ("numdep", "nomdep"),
            "reg": ("numreg", "nomreg"), "nat": (None, None)}
    return [CafDataset(f"{famille}_{lvl}", famille, LEVEL_SUFFIX[lvl], geo, nom, "annee", suffix=f"_{lvl}")
            for lvl, (geo, nom) in keys.items()]


DATASETS: dict[str, CafDataset] = {
    d.name: d
    for d in [
        CafDataset("s_ben_com_f", "s_ben_com_f", "commune", "numcomdo", "nomcom", "dtreffre"),
        CafDataset("ndur_s_qf_400_com_f", "ndur_s_qf_400_com_f", "commune", "numcomdo", "nomcom", "dtreffre",
                   categorie="qf_400"),
        *_per_level("txcouv_pe"),
        *_per_level("nbpla_pe"),
    ]
}

# Export "with labels": French label -> field. `{geo}`, `{nom}`, `{periode}` stand for the dataset's key columns,
# `{lvl}` for its level suffix. Only labels that name one field without ambiguity are listed; any other label
# makes the file rejected with a request to export without labels (docs/donnees.md).
LABELS: dict[str, str] = {
    "Date de référence": "{periode}", "Date de référence (décembre)": "{periode}", "Année": "{periode}",
    "Année de référence": "{periode}",
    "Code commune": "{geo}", "Code INSEE de la commune": "{geo}", "Numéro de commune": "{geo}",
    "Numéro EPCI": "{geo}", "Code EPCI": "{geo}", "SIREN de l'EPCI": "{geo}",
    "Numéro de département": "{geo}", "Code département": "{geo}",
    "Nom de la commune": "{nom}", "Commune": "{nom}", "Nom de l'EPCI": "{nom}", "EPCI": "{nom}",
    "Nom du département": "{nom}", "Département": "{nom}",
    "Tranche de quotient familial": "qf_400",
    "Nombre de foyers allocataires": "indfoy_ndur",
    "Nombre de personnes couvertes": "indnbp_ndur",
    "Nombre de foyers allocataires percevant le RSA": "indfoy_rsa",
    "Nombre de foyers allocataires percevant la prime d'activité": "indfoy_ppa",
    "Nombre de foyers allocataires percevant les allocations familiales": "indfoy_af",
    "Taux de couverture global": "txcouv_{lvl}",
    "Taux de couverture EAJE": "txcouv_eaje_{lvl}",
    "Taux de couverture EAJE PSU": "txcouv_psu_col_{lvl}",
    "Taux de couverture EAJE hors PSU": "txcouv_hors_psu_col_{lvl}",
    "Taux de couverture préscolarisation": "txcouv_prescol_{lvl}",
    "Taux de couverture assistants maternels": "txcouv_am_ind_{lvl}",
    "Taux de couverture salariés à domicile": "txcouv_gad_ind_{lvl}",
    "Taux de couverture accueil individuel": "txcouv_ind_{lvl}",
    "Nombre de places EAJE PSU": "pl_psu_col_{lvl}",
    "Nombre de places EAJE hors PSU": "pl_hors_psu_col_{lvl}",
    "Nombre de places EAJE": "pl_eaje_{lvl}",
    "Nombre de places en préscolarisation": "pl_prescol_{lvl}",
    "Nombre de places auprès d'assistants maternels": "pl_am_ind_{lvl}",
    "Nombre de places de salariés à domicile": "pl_gad_ind_{lvl}",
    "Nombre de places en accueil individuel": "pl_ind_{lvl}",
    "Offre totale d'accueil": "tot_offre_{lvl}",
}
_LABELS = {normalize_label(label): field for label, field in LABELS.items()}

_VALID_CODE = {
    "commune": re.compile(r"^(?!99)(\d{2}|2[AB])\d{3}$"),
    "epci": re.compile(r"^\d{9}$"),
    "departement": re.compile(r"^(?!99)(\d{2,3}|2[AB])$"),
    "region": re.compile(r"^\d{2}$"),
}


def dataset_for(path: Path) -> CafDataset:
    stem = Path(path).stem.lower()
    if stem not in DATASETS:
        raise InputError(path, "fichier Caf inconnu", value=Path(path).name,
                         hint=f"Fichiers reconnus : {', '.join(sorted(DATASETS))}")
    return DATASETS[stem]


def _key_fields(dataset: CafDataset) -> list[str]:
    return [c for c in (dataset.periode, dataset.geo, dataset.categorie) if c]


def _map_labels(df: pd.DataFrame, dataset: CafDataset, path: Path) -> pd.DataFrame:
    """Rename label headers to field names, or reject the file if one label is unknown."""
    roles = {"{periode}": dataset.periode, "{geo}": dataset.geo or "", "{nom}": dataset.nom or ""}
    renamed, unknown = {}, []
    own_names = {*_key_fields(dataset), dataset.nom}
    for column in df.columns.drop(LINE_COLUMN):
        if column in own_names or column.startswith(MEASURE_PREFIXES):
            continue   # already a field name
        field = _LABELS.get(column)
        if field is None:
            unknown.append(column)
            continue
        renamed[column] = roles.get(field, field.replace("{lvl}", dataset.suffix.lstrip("_")))
    names = set(renamed.values()) | (set(df.columns) - set(renamed))
    if unknown or not all(f in names for f in _key_fields(dataset)):
        raise InputError(
            path, "en-tête avec des libellés que le pipeline ne sait pas relier aux noms de champs",
            column=unknown[0] if unknown else None,
            hint="Téléchargez de nouveau le fichier sur data.caf.fr en décochant l'option « libellés » "
                 "(en-têtes = noms des champs, par exemple numcomdo, indfoy_ndur)")
    return df.rename(columns=renamed)


def _year(text: str, path: Path, line: int, column: str) -> int:
    match = re.match(r"^\s*(\d{4})(?:[-/]\d{1,2}(?:[-/]\d{1,2})?)?\s*$", str(text))
    if not match:
        raise InputError(path, "année de référence illisible", line=line, column=column, value=text,
                         hint="Attendu : AAAA, AAAA-MM ou AAAA-MM-JJ")
    return int(match.group(1))


def read_caf_file(path: Path) -> pd.DataFrame:
    """Read one Caf export (CSV or XLSX, any tolerated variant) into the long table described above."""
    path = Path(path)
    dataset = dataset_for(path)
    keys = _key_fields(dataset)
    df = read_strings(path, keys + list(_LABELS))
    if not all(k in df.columns for k in keys):
        df = _map_labels(df, dataset, path)
    missing = [k for k in keys if k not in df.columns]
    if missing:
        raise InputError(path, f"colonne(s) manquante(s) : {', '.join(missing)}", column=missing[0],
                         hint="Téléchargez de nouveau l'export complet sur data.caf.fr")
    if dataset.geo is None:
        df["_code"] = "FR"
    else:
        df["_code"] = df[dataset.geo].astype(str).str.strip().str.upper()
        pattern = _VALID_CODE[dataset.niveau]
        df = df[df["_code"].str.match(pattern)]
        if dataset.niveau == "commune":
            df = df[df["_code"].str.len() == 5]
    measures = [c for c in df.columns if c.startswith(MEASURE_PREFIXES)]
    records = []
    for row in df.to_dict("records"):
        annee = _year(row[dataset.periode], path, row[LINE_COLUMN], dataset.periode)
        for field in measures:
            try:
                value = parse_number(row[field])
            except ValueError:
                raise InputError(path, "nombre illisible", line=row[LINE_COLUMN], column=field, value=row[field],
                                 hint="Attendu : un nombre, ou une cellule vide (secret statistique)") from None
            champ = field[: -len(dataset.suffix)] if dataset.suffix and field.endswith(dataset.suffix) else field
            records.append((dataset.name, dataset.famille, dataset.niveau, row["_code"], annee,
                            row.get(dataset.categorie, "") if dataset.categorie else "", champ,
                            float("nan") if value is None else value))
    out = pd.DataFrame.from_records(records, columns=COLUMNS)
    return out.astype({"annee": "int64", "valeur": "float64"})


def read_caf(folder: Path) -> pd.DataFrame:
    """Every known Caf export present in `folder` (absent files are simply missing from the result)."""
    frames = []
    for name in sorted(DATASETS):
        path = find_table(Path(folder), name)
        if path is not None:
            frames.append(read_caf_file(path))
    if not frames:
        return pd.DataFrame({c: pd.Series(dtype="int64" if c == "annee" else "float64" if c == "valeur"
                                          else "object") for c in COLUMNS})
    return pd.concat(frames, ignore_index=True)
