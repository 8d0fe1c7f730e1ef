"""Printing an indicator's value as the social-impact pages show it: amounts in euros (constant euros when a price
index covers the years), other values with their unit (pipeline.report.fmt does the French formats)."""

from __future__ import annotations

import pandas as pd

from pipeline.impact import textes
from pipeline.impact.donnees import Donnees
from pipeline.report import fmt
from pipeline.report.contexte import Mesure
from pipeline.report.sortie import texte


def est_montant(unite: str | None) -> bool:
    return (unite or "").strip().startswith("€")


def euros_constants(d: Donnees, annees: list[int] | range) -> bool:
    """True when the price index covers every year shown and the reference year (the report year)."""
    return bool(d.indice_prix) and all(a in d.indice_prix for a in [*annees, d.annee])


def lignes_indice(d: Donnees, constants: bool) -> list[pd.DataFrame]:
    """The price index's rows when amounts are shown in constant euros (part of the data a figure is computed
    from), none otherwise."""
    if not constants:
        return []
    return [pd.DataFrame({"annee": list(d.indice_prix), "indice": list(d.indice_prix.values())})]


def deflate(d: Donnees, montant: float, annee: int, constants: bool) -> float:
    """An amount of `annee` in euros of the report year (unchanged in current euros)."""
    return montant * d.indice_prix[d.annee] / d.indice_prix[annee] if constants else montant


def montant(x: float | None, unite: str = "€") -> str:
    """'1 234 €' (two decimals below 100 €, e.g. a cost per hour), followed by the rest of the unit."""
    if x is None:
        return fmt.NON_DISPONIBLE
    reste = (unite or "€").strip().removeprefix("€").strip()
    return fmt.euros(x, 2 if abs(x) < 100 else 0) + (f"\u00a0{reste}" if reste else "")


def valeur(d: Donnees, indicateur: str, m: Mesure | None, constants: bool = False, avec_unite: bool = True) -> str:
    """A published value with its unit ('s' when secret, 'n.d.' when missing)."""
    if m is None:
        return fmt.NON_DISPONIBLE
    if m.secret:
        return fmt.SECRET
    info = d.ctx.info(indicateur)
    if est_montant(info["unite"]):
        return montant(deflate(d, m.valeur, m.annee, constants), info["unite"] if avec_unite else "€")
    if not avec_unite:
        return fmt.nombre(m.valeur, d.ctx.decimales(indicateur))
    return texte(fmt.avec_unite(m.valeur, info["unite"], d.ctx.decimales(indicateur)))


def phrase_euros(d: Donnees, annees: list[int] | range) -> str:
    """Which euros the amounts are in, said explicitly."""
    if euros_constants(d, annees):
        return textes.EUROS_CONSTANTS.format(annee=d.annee, source=texte(d.source_indice or "source non précisée"))
    if d.indice_prix:
        manquantes = [str(a) for a in [*annees, d.annee] if a not in d.indice_prix]
        return textes.INDICE_INCOMPLET.format(manquantes=", ".join(dict.fromkeys(manquantes)))
    return textes.EUROS_COURANTS
