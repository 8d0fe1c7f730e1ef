"""Change between two published values of an indicator, in words: never from a secret or missing value."""

from __future__ import annotations

from pipeline.report import fmt, textes
from pipeline.report.contexte import Contexte, Mesure


def comparables(m0: Mesure | None, m1: Mesure | None) -> bool:
    """Two distinct years, both with a value that is not secret."""
    return (m0 is not None and m1 is not None and m0.annee < m1.annee
            and m0.valeur is not None and m1.valeur is not None)


def ecart(ctx: Contexte, indicateur: str, m0: Mesure | None, m1: Mesure | None) -> str | None:
    """'+3,1 points' for rates, '+4,2 %' for other quantities; None when it cannot be told."""
    if not comparables(m0, m1):
        return None
    d = ctx.decimales(indicateur)
    if fmt.est_taux(ctx.info(indicateur)["unite"]):
        return fmt.evolution_points(m1.valeur - m0.valeur, d)
    if m0.valeur == 0:
        return None
    return fmt.evolution_pct((m1.valeur - m0.valeur) / abs(m0.valeur) * 100)


def sens_variation(ctx: Contexte, indicateur: str, m0: Mesure, m1: Mesure) -> int:
    """+1, -1 or 0 (equal at the printed precision)."""
    d = ctx.decimales(indicateur)
    a, b = round(m0.valeur, d), round(m1.valeur, d)
    return (b > a) - (b < a)


def tendance(ctx: Contexte, indicateur: str, m0: Mesure | None, m1: Mesure | None) -> str | None:
    """'↗ +3,1 points, favorable' — direction, size and, when the catalogue gives a `sens`, whether it is good."""
    if not comparables(m0, m1):
        return None
    signe = sens_variation(ctx, indicateur, m0, m1)
    taille = ecart(ctx, indicateur, m0, m1) if signe else None
    mots = [f"{textes.FLECHES[signe]} {taille or textes.MOTS_VARIATION[signe]}"]
    sens = ctx.info(indicateur)["sens"]
    if signe and sens in ("hausse", "baisse"):
        mots.append(textes.FAVORABLE if (signe > 0) == (sens == "hausse") else textes.DEFAVORABLE)
    return ", ".join(mots)
