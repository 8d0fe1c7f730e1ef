"""Roadmap progress per thématique, for the whole year or at the end of a semester (`ctg run --periode S1|S2`).

The follow-up sheet of year N holds one row per action; its `date_suivi` says when the status was recorded.
The state of the roadmap at a date (30 June for S1, 31 December for S2; params.yaml `copil.periodes`) is, for each
action, its latest row recorded up to that date: a row of year N dated later is not known yet, and the action keeps
its status of the previous year's sheet. A row without date counts as recorded at the end of its year.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pandas as pd

from pipeline.report import fmt
from pipeline.report.contexte import Contexte
from pipeline.report.feuille import en_retard, suivi

PERIODES = {"S1": "06-30", "S2": "12-31"}
NOMS_PERIODES = {"S1": "1er semestre", "S2": "2d semestre"}
# Roadmap groups shown on the COPIL page: status codes of the follow-up sheets in each group.
GROUPES = {
    "realisees": ("realisee",),
    "en_cours": ("en_cours",),
    "non_engagees": ("a_engager", "reportee"),
    "abandonnees": ("abandonnee",),
    "non_renseignees": ("",),
}
SUIVI_COLONNES = ["statut", "avancement", "date_suivi", "commentaire"]


def date_de_fin(annee: int, periode: str, params: dict | None = None) -> dt.date:
    """The last day of a period of `annee` ('S1' → 30 June by default)."""
    periodes = {**PERIODES, **((params or {}).get("copil", {}) or {}).get("periodes", {})}
    if periode not in periodes:
        raise ValueError(f"Période inconnue « {periode} » (valeurs possibles : {', '.join(periodes)}).")
    mois, jour = map(int, str(periodes[periode]).split("-"))
    return dt.date(annee, mois, jour)


def actions_a_date(actions: pd.DataFrame, annee: int, fin: dt.date) -> pd.DataFrame:
    """The actions of `annee` (one row each) with the follow-up known on `fin` (rule in the module docstring)."""
    annee_n = actions[actions["annee"] == annee]
    passe = actions[actions["annee"] <= annee].copy()
    fin_annee = pd.to_datetime(passe["annee"].astype(str) + "-12-31")
    passe["_quand"] = pd.to_datetime(passe["date_suivi"]).fillna(fin_annee)
    connus = passe[passe["_quand"] <= pd.Timestamp(fin)].sort_values(["annee", "_quand"], kind="stable")
    dernier = connus.drop_duplicates("action_id", keep="last").set_index("action_id")[SUIVI_COLONNES]
    resultat = annee_n.drop(columns=SUIVI_COLONNES).join(dernier, on="action_id")
    resultat["statut"] = resultat["statut"].fillna("")
    return resultat[actions.columns].reset_index(drop=True)


def actions_de_la_periode(actions: pd.DataFrame, annee: int, periode: str | None, params: dict | None = None):
    """All the follow-up rows, with year N's rows replaced by the state at the end of `periode` (None: as is)."""
    if periode is None:
        return actions
    a_date = actions_a_date(actions, annee, date_de_fin(annee, periode, params))
    return pd.concat([actions[actions["annee"] != annee], a_date], ignore_index=True)


@dataclass(frozen=True)
class Avancement:
    """Number of actions of a thématique in each group, in the report year."""

    thematique: str
    total: int
    comptes: dict[str, int]
    en_retard: int  # reported, abandoned or late (rule of the thematic reports' « Points d'attention »)
    exemples_retard: tuple[str, ...] = ()  # short ids of the late actions

    def part(self, groupe: str) -> float | None:
        return 100 * self.comptes.get(groupe, 0) / self.total if self.total else None

    def texte(self, groupe: str) -> str:
        """'8 (40 %)'."""
        n = self.comptes.get(groupe, 0)
        return f"{fmt.nombre(n)} ({fmt.pourcentage(self.part(groupe), 0)})" if self.total else fmt.NON_DISPONIBLE


def avancement(ctx: Contexte) -> Avancement:
    """Roadmap progress of the Contexte's thématique in its report year."""
    actions = suivi(ctx)
    comptes = {g: int(actions["statut"].isin(codes).sum()) for g, codes in GROUPES.items()}
    retard = en_retard(ctx, actions)
    return Avancement(ctx.thematique, len(actions), comptes, len(retard),
                      tuple(a.split(".", 1)[-1] for a in retard["action_id"]))
