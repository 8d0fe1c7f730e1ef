"""The rows a new year's workbooks start with: the referential's actions and last year's sheets.

Last year, for each sheet, is the most recent earlier `suivi/<annee>/` folder holding that sheet (CSV or XLSX),
read by the same readers as the pipeline (`pipeline.inputs.suivi.read_sheet`). Coded values are written as their
French labels (what the dropdowns offer); the readers accept codes and labels alike.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from pipeline.config import DataLayout
from pipeline.inputs.common import find_table
from pipeline.inputs.suivi import SCHEMAS, SHEETS, read_sheet, suivi_years
from pipeline.inputs.vocabulary import Vocabulary
from pipeline.referential import Referentiel

TERRITOIRE_LABEL = "Territoire entier"


@dataclass(frozen=True)
class Previous:
    """A sheet of an earlier year, as the readers return it (typed, codes)."""

    year: int
    path: Path
    frame: pd.DataFrame


def previous_sheets(layout: DataLayout, annee: int, vocab: Vocabulary) -> dict[str, Previous]:
    """For each sheet, the most recent earlier year folder holding it (sheets never provided are left out)."""
    earlier = [year for year in suivi_years(layout.territoire_dir) if year < annee]
    found: dict[str, Previous] = {}
    for sheet in SHEETS:
        for year in reversed(earlier):
            path = find_table(layout.suivi(year), sheet)
            if path is not None:
                found[sheet] = Previous(year, path, read_sheet(path, sheet, vocab))
                break
    return found


def _value(value):
    """A cell value openpyxl can write: None for missing, Python numbers and datetimes."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    if isinstance(value, pd.Timestamp):
        return value.to_pydatetime()
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return dt.datetime(value.year, value.month, value.day)
    if hasattr(value, "item"):  # numpy scalar
        value = value.item()
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return None if value == "" else value


def _own_year_rows(previous: Previous | None) -> pd.DataFrame:
    """Rows of an `activite`/`financements` sheet about its folder's own year (else its latest year)."""
    if previous is None or previous.frame.empty:
        return pd.DataFrame(columns=["annee", "structure_id", "indicateur", "valeur", "unite", "financeur",
                                     "dispositif", "thematique", "montant"])
    df = previous.frame
    year = previous.year if (df["annee"] == previous.year).any() else int(df["annee"].max())
    return df[df["annee"] == year]


# --- actions ---------------------------------------------------------------------------------------------------

def actions_rows(referentiel: Referentiel, previous: Previous | None, vocab: Vocabulary) -> list[dict]:
    """Every action of the referential, with last year's status, progress and pilot; date and comment empty."""
    last = previous.frame.set_index("action_id") if previous is not None else pd.DataFrame()
    rows = []
    for thematique, axe, _, action in referentiel.iter_actions():
        before = last.loc[action.id] if action.id in last.index else None
        statut = before["statut"] if before is not None else ""
        rows.append({
            "action_id": action.id,
            "statut": vocab.label("statuts", statut) if statut else None,
            "avancement": _value(before["avancement"]) if before is not None else None,
            "date_suivi": None,
            "commentaire": None,
            "pilote": _value(before["pilote"]) if before is not None else None,
            "Libellé de l'action (aide)": action.libelle,
            "Axe (aide)": f"Axe {axe.numero} — {axe.libelle}",
            "Thématique (aide)": thematique.libelle,
        })
    return rows


# --- equipements -----------------------------------------------------------------------------------------------

def carried_structures(previous: Previous | None, annee: int) -> pd.DataFrame:
    """Last year's structures still open on 1 January of `annee` (codes, reader's columns)."""
    if previous is None:
        return pd.DataFrame(columns=SCHEMAS["equipements"].names)
    df = previous.frame
    still_open = df["date_fermeture"].isna() | (df["date_fermeture"] >= pd.Timestamp(annee, 1, 1))
    return df[still_open].reset_index(drop=True)


def equipements_rows(structures: pd.DataFrame, vocab: Vocabulary) -> list[dict]:
    return [
        {
            "structure_id": s.structure_id,
            "nom": _value(s.nom),
            "type": vocab.label("types_structure", s.type),
            "code_insee": _value(s.code_insee),
            "qpv": _value(s.qpv),
            "capacite": _value(s.capacite),
            "date_ouverture": _value(s.date_ouverture),
            "date_fermeture": _value(s.date_fermeture),
        }
        for s in structures.itertuples(index=False)
    ]


# --- activite --------------------------------------------------------------------------------------------------

def _expected_pairs(activity: pd.DataFrame, structures: pd.DataFrame, types: pd.DataFrame,
                    vocab: Vocabulary) -> list[tuple[str, str]]:
    """(structure_id, indicateur) pairs: last year's pairs of the structures carried over (and of TERRITOIRE);
    a structure without last year's rows gets the indicators reported by the structures of its type."""
    by_structure = activity.groupby("structure_id", sort=False)["indicateur"].agg(list).to_dict()
    typed = activity.merge(types, on="structure_id", how="inner")
    order = {code: i for i, code in enumerate(vocab.codes("indicateurs_activite"))}
    by_type = {t: sorted(set(group["indicateur"]), key=lambda c: order.get(c, len(order)))
               for t, group in typed.groupby("type")}
    carried = list(structures["structure_id"])
    # rows of structures that are not carried over: TERRITOIRE only, or all when no equipements sheet exists
    others = [s for s in by_structure if s not in carried and (not carried or s == vocab.territoire)]
    pairs = []
    for structure_id, kind in [*zip(carried, structures["type"]), *((s, None) for s in others)]:
        indicators = by_structure.get(structure_id) or by_type.get(kind, [])
        pairs += [(structure_id, indicator) for indicator in indicators]
    return pairs


def activite_rows(previous: Previous | None, previous_structures: Previous | None, structures: pd.DataFrame,
                  annee: int, vocab: Vocabulary) -> list[dict]:
    """Expected activity rows of `annee`, values empty, units from last year (else the vocabulary)."""
    activity = _own_year_rows(previous)
    known = pd.concat([structures, previous_structures.frame if previous_structures else structures])
    types = known[["structure_id", "type"]].drop_duplicates("structure_id")
    units = {(r.structure_id, r.indicateur): r.unite for r in activity.itertuples(index=False) if r.unite}
    values = {(r.structure_id, r.indicateur): r.valeur for r in activity.itertuples(index=False)}
    names = dict(zip(known["structure_id"], known["nom"]))
    names[vocab.territoire] = TERRITOIRE_LABEL
    return [
        {
            "annee": annee,
            "structure_id": structure_id,
            "indicateur": vocab.label("indicateurs_activite", indicator),
            "valeur": None,
            "unite": units.get((structure_id, indicator))
            or vocab.attribute("indicateurs_activite", indicator, "unite", None),
            "Structure (aide)": names.get(structure_id),
            "Valeur de l'année précédente (aide)": _value(values.get((structure_id, indicator))),
        }
        for structure_id, indicator in _expected_pairs(activity, structures, types, vocab)
    ]


# --- financements ----------------------------------------------------------------------------------------------

def financements_rows(previous: Previous | None, annee: int, vocab: Vocabulary) -> list[dict]:
    """Last year's (financeur, dispositif, thématique) rows, once each (last year's total beside), amounts empty."""
    rows = _own_year_rows(previous).reindex(columns=["financeur", "dispositif", "thematique", "montant"])
    totals = rows.groupby(["financeur", "dispositif", "thematique"], sort=False)["montant"].sum()
    return [
        {
            "annee": annee,
            "financeur": vocab.label("financeurs", financeur),
            "dispositif": vocab.label("dispositifs", dispositif),
            "thematique": thematique or None,
            "montant": None,
            "Montant de l'année précédente (aide)": _value(total),
        }
        for (financeur, dispositif, thematique), total in totals.items()
    ]
