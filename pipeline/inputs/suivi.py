"""Readers for the local follow-up sheets `DIR/raw/territoires/<siren>/suivi/<annee>/<sheet>.csv|.xlsx`.

Four sheets (columns documented for users in docs/donnees.md):
- `equipements`: structure_id, nom, type, code_insee, qpv, capacite, date_ouverture, date_fermeture
- `activite`:    annee, structure_id, indicateur, valeur, unite
- `actions`:     action_id, statut, avancement, date_suivi, commentaire, pilote
- `financements`: annee, financeur, dispositif, thematique, montant

Coded columns (type, indicateur, statut, financeur, dispositif) accept the code or the French label of
`metadata/vocabulaire.yaml` and are returned as codes. Every reader returns typed columns plus `_ligne`.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from pipeline.config import THEMATIQUES, load_params
from pipeline.inputs.common import LINE_COLUMN, InputError, Schema, coerce, find_table, read_strings
from pipeline.inputs.vocabulary import Vocabulary, load_vocabulary

SCHEMAS: dict[str, Schema] = {
    "equipements": Schema(
        "equipements",
        {"structure_id": "str", "nom": "str", "type": "str", "code_insee": "str", "qpv": "str",
         "capacite": "float", "date_ouverture": "date", "date_fermeture": "date"},
        required=("structure_id", "nom", "type", "code_insee"),
    ),
    "activite": Schema(
        "activite",
        {"annee": "int", "structure_id": "str", "indicateur": "str", "valeur": "float", "unite": "str"},
        required=("annee", "structure_id", "indicateur", "valeur"),
    ),
    "actions": Schema(
        "actions",
        {"action_id": "str", "statut": "str", "avancement": "float", "date_suivi": "date",
         "commentaire": "str", "pilote": "str"},
        required=("action_id", "statut"),
    ),
    "financements": Schema(
        "financements",
        {"annee": "int", "financeur": "str", "dispositif": "str", "thematique": "str", "montant": "float"},
        required=("annee", "financeur", "dispositif", "montant"),
    ),
}
SHEETS = tuple(SCHEMAS)
_INSEE = re.compile(r"^(\d{2}|2[AB])\d{3}$")


def _codes(df: pd.DataFrame, column: str, kind: str, vocab: Vocabulary, path: Path) -> pd.Series:
    out = []
    for line, value in zip(df[LINE_COLUMN], df[column]):
        try:
            out.append(vocab.normalize(kind, value))
        except ValueError:
            raise InputError(path, "valeur hors vocabulaire", line=int(line), column=column, value=value,
                             hint=vocab.allowed(kind) + " (voir metadata/vocabulaire.yaml)") from None
    return pd.Series(out, index=df.index, dtype=object)


def _check(df: pd.DataFrame, mask: pd.Series, path: Path, column: str, rule: str, hint: str) -> None:
    if mask.any():
        row = df[mask].iloc[0]
        raise InputError(path, rule, line=int(row[LINE_COLUMN]), column=column, value=row[column], hint=hint)


def _equipements(df: pd.DataFrame, path: Path, vocab: Vocabulary) -> pd.DataFrame:
    df["type"] = _codes(df, "type", "types_structure", vocab, path)
    df["code_insee"] = df["code_insee"].str.zfill(5)
    _check(df, ~df["code_insee"].str.match(_INSEE), path, "code_insee", "code INSEE invalide",
           "Écrivez le code INSEE à 5 caractères de la commune, par exemple 26198")
    _check(df, df["capacite"] < 0, path, "capacite", "capacité négative", "La capacité est un nombre de places ≥ 0")
    closed_before = df["date_fermeture"].notna() & (df["date_fermeture"] < df["date_ouverture"])
    _check(df, closed_before, path, "date_fermeture", "fermeture avant l'ouverture", "Vérifiez les deux dates")
    _check(df, df["structure_id"].duplicated(), path, "structure_id", "identifiant de structure en double",
           "Chaque structure figure une seule fois dans la feuille")
    return df


def _activite(df: pd.DataFrame, path: Path, vocab: Vocabulary) -> pd.DataFrame:
    df["indicateur"] = _codes(df, "indicateur", "indicateurs_activite", vocab, path)
    default_units = df["indicateur"].map(lambda code: vocab.attribute("indicateurs_activite", code, "unite", ""))
    df["unite"] = df["unite"].where(df["unite"] != "", default_units)
    _check(df, df["valeur"] < 0, path, "valeur", "valeur négative", "Les comptes d'activité sont ≥ 0")
    key = ["annee", "structure_id", "indicateur"]
    _check(df, df.duplicated(key), path, "indicateur", "indicateur en double pour cette structure et cette année",
           "Une seule ligne par (annee, structure_id, indicateur)")
    return df


def _actions(df: pd.DataFrame, path: Path, vocab: Vocabulary) -> pd.DataFrame:
    df["statut"] = _codes(df, "statut", "statuts", vocab, path)
    _check(df, (df["avancement"] < 0) | (df["avancement"] > 100), path, "avancement", "avancement hors de 0-100",
           "L'avancement est un pourcentage entre 0 et 100")
    _check(df, df["action_id"].duplicated(), path, "action_id", "action suivie deux fois",
           "Une seule ligne par action")
    return df


def _financements(df: pd.DataFrame, path: Path, vocab: Vocabulary) -> pd.DataFrame:
    df["financeur"] = _codes(df, "financeur", "financeurs", vocab, path)
    df["dispositif"] = _codes(df, "dispositif", "dispositifs", vocab, path)
    default = df["dispositif"].map(lambda code: vocab.attribute("dispositifs", code, "thematique", "transverse"))
    df["thematique"] = df["thematique"].where(df["thematique"] != "", default)
    allowed = {*THEMATIQUES, *load_params().get("thematiques", []), "transverse"}  # params.yaml may add some
    _check(df, ~df["thematique"].isin(allowed), path, "thematique", "thématique inconnue",
           "valeurs acceptées : " + ", ".join(sorted(allowed)))
    _check(df, df["montant"] < 0, path, "montant", "montant négatif", "Écrivez le montant en euros, ≥ 0")
    return df


_VALIDATORS = {"equipements": _equipements, "activite": _activite, "actions": _actions,
               "financements": _financements}


def read_sheet(path: Path, sheet: str, vocab: Vocabulary | None = None) -> pd.DataFrame:
    """Read one local sheet file (CSV or XLSX); validated, typed, coded columns as vocabulary codes."""
    schema = SCHEMAS[sheet]
    raw = read_strings(Path(path), schema.names)
    df = coerce(raw, schema, Path(path))
    return _VALIDATORS[sheet](df, Path(path), vocab or load_vocabulary())


def suivi_years(territoire_dir: Path) -> list[int]:
    """Years having a follow-up folder `suivi/<annee>/`."""
    folder = Path(territoire_dir) / "suivi"
    if not folder.exists():
        return []
    return sorted(int(p.name) for p in folder.iterdir() if p.is_dir() and re.fullmatch(r"\d{4}", p.name))


def read_suivi(folder: Path, vocab: Vocabulary | None = None) -> dict[str, pd.DataFrame]:
    """The sheets present in one `suivi/<annee>/` folder, by sheet name (absent sheets are left out)."""
    found = {}
    for sheet in SHEETS:
        path = find_table(Path(folder), sheet)
        if path is not None:
            found[sheet] = read_sheet(path, sheet, vocab)
    return found
