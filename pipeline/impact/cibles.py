"""Whether each quantified target of the convention is reached: `attainment` (pure) and the evidence table.

Scope of a target (`perimetre` of the referential), in this order:
1. none, or the territory's name → the territory's value (level `epci`);
2. a structure whose name matches the scope (word overlap, accents and small words ignored) and that has its own
   rows for the indicator → that structure's value;
3. exactly a commune's name → that commune's value;
4. the indicator is dedicated to this target (the catalogue's `cible` names it and no other target) → the
   territory's value: the indicator was defined as the measure of this target's scope;
5. otherwise: not measurable with the available data.

Status, from the value of the deadline year (else the latest published value before it; secret values are never
used): reached; partly reached when at least `ratio_partiel` of the progression expected since the baseline year is
done (of the target value itself when there is no usable baseline); not reached; no data.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

import pandas as pd

from pipeline.impact import textes

STATUTS = ("atteinte", "partielle", "non_atteinte", "sans_donnee", "non_mesurable")
MOTS_VIDES = {"de", "du", "des", "la", "le", "les", "l", "d", "et", "a", "au", "aux", "en"}
SEUIL_NOMS = 0.6  # share of common words (Jaccard) for a scope to name a structure
_CODE_INSEE = re.compile(r"\((\d[0-9AB]\d{3})\)")


@dataclass(frozen=True)
class Lieux:
    """Names of the places a target's scope may refer to."""

    territoire: str  # SIREN: `code_geo` of the epci level
    nom_territoire: str
    communes: dict[str, str] = field(default_factory=dict)  # code INSEE -> name
    structures: dict[str, str] = field(default_factory=dict)  # structure_id -> name
    indicateurs_dedies: frozenset[str] = frozenset()  # target ids whose indicator measures only them


@dataclass(frozen=True)
class Attainment:
    statut: str  # one of STATUTS
    valeur: float | None = None
    annee: int | None = None
    reference: float | None = None  # baseline value (first year of the convention), same scope
    progression: float | None = None  # share of the expected progression done (0-1, may exceed 1)
    depuis_reference: bool = False  # progression measured from the baseline (else: value against the target)
    niveau: str | None = None  # level judged: epci, structure, commune
    codes: tuple[str, ...] = ()
    portee: str = ""  # French description of the scope judged
    avant_echeance: bool = False  # judged on a value older than the deadline (lag or report before the deadline)


def mots(texte: str) -> set[str]:
    """Significant words of a name: lower case, accents removed, plural 's' and 'aux' reduced, small words out."""
    brut = unicodedata.normalize("NFKD", str(texte)).encode("ascii", "ignore").decode().lower()
    brut = _CODE_INSEE.sub(" ", brut)
    resultat = set()
    for mot in re.findall(r"[a-z0-9]+", brut):
        if mot in MOTS_VIDES:
            continue
        mot = mot[:-3] + "al" if mot.endswith("aux") else mot[:-1] if len(mot) > 3 and mot.endswith("s") else mot
        resultat.add(mot)
    return resultat


def similarite(a: str, b: str) -> float:
    ma, mb = mots(a), mots(b)
    return len(ma & mb) / len(ma | mb) if ma and mb else 0.0


def portee(cible, valeurs: pd.DataFrame, lieux: Lieux) -> tuple[str, tuple[str, ...], str] | None:
    """(level, codes, description) the target is judged on, or None when it is not measurable (rules above)."""
    perimetre = texte_perimetre(cible)
    if not perimetre or mots(perimetre) == mots(lieux.nom_territoire):
        return "epci", (lieux.territoire,), _texte_portee("territoire")
    par_structure = set(valeurs.loc[valeurs["niveau"] == "structure", "code_geo"])
    scores = {sid: similarite(perimetre, nom) for sid, nom in lieux.structures.items() if sid in par_structure}
    meilleurs = [sid for sid, s in scores.items() if s >= SEUIL_NOMS and s == max(scores.values())]
    if len(meilleurs) == 1:
        return "structure", (meilleurs[0],), f"structure : {lieux.structures[meilleurs[0]]}"
    communes = [code for code, nom in lieux.communes.items() if mots(nom) == mots(perimetre)]
    if len(communes) == 1:
        return "commune", (communes[0],), f"commune : {lieux.communes[communes[0]]}"
    if getattr(cible, "cible_id", None) in lieux.indicateurs_dedies:
        return "epci", (lieux.territoire,), _texte_portee("dedie")
    return None


def texte_perimetre(cible) -> str:
    """The target's scope as text ('' when absent, None or NaN, as a frame row may hold it)."""
    perimetre = getattr(cible, "perimetre", None)
    return perimetre.strip() if isinstance(perimetre, str) else ""


def _texte_portee(cle: str) -> str:
    return textes.PORTEE_TERRITOIRE if cle == "territoire" else textes.PORTEE_DEDIEE


def atteinte(valeur: float, cible) -> bool:
    return valeur >= cible.valeur if cible.comparaison == ">=" else valeur <= cible.valeur


def progression(valeur: float, reference: float | None, cible) -> tuple[float, bool]:
    """(share of the expected progression done, measured from the baseline?): from the baseline when it lies
    short of the target, otherwise the value against the target itself (for `<=`, the target against the value)."""
    haut = cible.comparaison == ">="
    if reference is not None and (reference < cible.valeur if haut else reference > cible.valeur):
        return (valeur - reference) / (cible.valeur - reference), True
    if haut:
        return (valeur / cible.valeur if cible.valeur else 0.0), False
    return (cible.valeur / valeur if valeur else 1.0), False


def attainment(cible, values: pd.DataFrame, lieux: Lieux, annee_reference: int | None = None,
               ratio_partiel: float = 0.5) -> Attainment:
    """Judge one target (a row of `Referentiel.cibles_frame()`: valeur, comparaison, annee, perimetre, cible_id)
    on `values`, the rows of its indicator (`annee, niveau, code_geo, valeur, secret`, any level)."""
    scope = portee(cible, values, lieux)
    if scope is None:
        return Attainment("non_mesurable", portee=texte_perimetre(cible))
    niveau, codes, texte_portee = scope
    lignes = values[(values["niveau"] == niveau) & values["code_geo"].isin(codes)]
    par_annee = lignes.groupby("annee").agg(valeur=("valeur", lambda s: s.sum(min_count=len(s))),
                                            secret=("secret", "any"))
    publiees = par_annee[par_annee["valeur"].notna() & ~par_annee["secret"].astype(bool)]
    jusqu = publiees[publiees.index <= int(cible.annee)]
    base = dict(niveau=niveau, codes=tuple(codes), portee=texte_portee)
    if jusqu.empty:
        return Attainment("sans_donnee", **base)
    annee, valeur = int(jusqu.index[-1]), float(jusqu["valeur"].iloc[-1])
    reference = None
    if annee_reference is not None and annee_reference in publiees.index and annee_reference < annee:
        reference = float(publiees.at[annee_reference, "valeur"])
    part, depuis_reference = progression(valeur, reference, cible)
    if atteinte(valeur, cible):
        statut = "atteinte"
    elif part >= ratio_partiel:
        statut = "partielle"
    else:
        statut = "non_atteinte"
    return Attainment(statut, valeur, annee, reference, part, depuis_reference, avant_echeance=annee < int(cible.annee),
                      **base)
