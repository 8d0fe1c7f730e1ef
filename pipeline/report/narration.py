"""Factual French sentences generated from the data, then the evaluators' own comments.

A sentence is written only when the data supports it: no value, no sentence; a secret value is said to be
secret, never printed; a change is told only between two published, non-secret values.
"""

from __future__ import annotations

from textwrap import shorten

import pandas as pd

from pipeline.report import fmt, textes
from pipeline.report.chiffres import perimetre_particulier
from pipeline.report.contexte import Contexte, Mesure
from pipeline.report.feuille import numero_court, resume, suivi
from pipeline.report.sortie import afficher, texte
from pipeline.report.tendance import ecart, sens_variation

LONGUEUR_LIBELLE = 60  # characters of the action label recalled next to a comment


def recit(ctx: Contexte) -> str:
    """One bullet per indicator with a value, the roadmap's summary, then the follow-up sheets' comments."""
    phrases = [p for p in (phrase_indicateur(ctx, i) for i in ctx.indicateurs_du_theme()) if p]
    actions = suivi(ctx)
    blocs = ["\n".join(f"- {p}" for p in phrases)] if phrases else []
    blocs += [resume(ctx, actions).strip()] if not actions.empty else []
    blocs += [textes.TITRE_COMMENTAIRES, commentaires(ctx, actions)]
    return afficher("\n\n".join(blocs) + "\n")


def sujet(libelle: str) -> str | None:
    """'Taux de couverture global' -> 'Le taux de couverture global'; None when no article is known."""
    premier = libelle.split()[0].lower() if libelle.strip() else ""
    article = textes.ARTICLES.get(premier)
    if article is None:
        return None
    garde_majuscule = len(libelle) > 1 and libelle[1].isupper()
    reste = libelle if garde_majuscule else libelle[0].lower() + libelle[1:]
    debut = article.capitalize()
    return f"{debut}{reste}" if debut.endswith("'") else f"{debut} {reste}"


def phrase_indicateur(ctx: Contexte, indicateur: str) -> str | None:
    """One or two sentences on the territory's latest value, its change since the baseline, the target."""
    derniere = ctx.derniere(indicateur)
    if derniere is None:
        return None
    info = ctx.info(indicateur)
    libelle = texte(info["libelle"])
    if derniere.secret:
        return f"La valeur « {libelle} » de {derniere.annee} est soumise au secret statistique."
    valeur = texte(fmt.avec_unite(derniere.valeur, info["unite"], ctx.decimales(indicateur)))
    debut = sujet(libelle)
    phrase = f"{debut} atteint {valeur} en {derniere.annee}" if debut else f"{libelle} : {valeur} en {derniere.annee}"
    reference = ctx.mesure(indicateur, ctx.annee_debut)
    variation = ecart(ctx, indicateur, reference, derniere)
    if variation and sens_variation(ctx, indicateur, reference, derniere) == 0:
        phrase += f", sans changement depuis {ctx.annee_debut}"
    elif variation:
        phrase += f", soit {variation} depuis {ctx.annee_debut}"
    return " ".join([phrase + ".", *filter(None, [comparaison(ctx, indicateur, derniere.annee),
                                                   cibles(ctx, indicateur, derniere)])])


def comparaison(ctx: Contexte, indicateur: str, annee: int) -> str | None:
    """'Pour comparaison en 2023 : Drôme 60,1 ; France 59,8.' (same year only)."""
    d = ctx.decimales(indicateur)
    refs = []
    for niveau in ("departement", "france"):
        for code in ctx.lignes(indicateur, niveau)["code_geo"].unique():
            m = ctx.mesure(indicateur, annee, niveau, code)
            if m is not None and m.valeur is not None:
                refs.append(f"{ctx.nom_lieu(niveau, code)} {fmt.nombre(m.valeur, d)}")
    return f"Pour comparaison en {annee} : {' ; '.join(refs)}." if refs else None


def cibles(ctx: Contexte, indicateur: str, derniere: Mesure) -> str | None:
    """'La convention vise au moins 361 places en 2025 (pas encore atteinte en 2024).'

    Whether a target is reached is said only when its scope is the whole territory, from the value of its
    deadline year once that year is published, otherwise from the latest value."""
    info, d = ctx.info(indicateur), ctx.decimales(indicateur)
    phrases = []
    for c in ctx.cibles_de(indicateur).itertuples():
        mot = textes.COMPARAISONS_DANS_PHRASE[c.comparaison]
        phrase = f"La convention vise {mot} {fmt.avec_unite(c.valeur, info['unite'], d)} en {c.annee}"
        if perimetre_particulier(ctx, c):
            phrase += f" (périmètre : {c.perimetre})"
        else:
            phrase += f" ({bilan_cible(ctx, indicateur, c, derniere)})"
        phrases.append(texte(phrase + "."))
    return " ".join(phrases) or None


def bilan_cible(ctx: Contexte, indicateur: str, c, derniere: Mesure) -> str:
    """'cible atteinte en 2022', 'cible non atteinte en 2022' (deadline passed), 'déjà atteinte en 2024' or
    'pas encore atteinte en 2024' (deadline ahead), 'valeur de 2022 non disponible'."""
    def atteinte(m: Mesure) -> bool:
        return m.valeur >= c.valeur if c.comparaison == ">=" else m.valeur <= c.valeur

    if c.annee > derniere.annee:
        return f"{'déjà' if atteinte(derniere) else 'pas encore'} atteinte en {derniere.annee}"
    echeance = ctx.mesure(indicateur, c.annee)
    if echeance is None or echeance.valeur is None:
        return f"valeur de {c.annee} non disponible"
    return f"cible {'atteinte' if atteinte(echeance) else 'non atteinte'} en {c.annee}"


def commentaires(ctx: Contexte, actions: pd.DataFrame) -> str:
    """The follow-up sheets' comments, quoted with the action's number."""
    avec = actions[actions["commentaire"].fillna("").astype(str).str.strip() != ""]
    if avec.empty:
        return textes.SANS_COMMENTAIRE.format(annee=ctx.annee)
    return "\n".join(f"- **Action {numero_court(a.action_id)}** ({texte(court(a.libelle))}) : "
                     f"«\u00a0{texte(a.commentaire)}\u00a0»" for a in avec.itertuples())


def court(libelle: str) -> str:
    """The action's label cut at a word boundary: the roadmap's table above gives it in full."""
    return shorten(libelle, LONGUEUR_LIBELLE, placeholder=" …")
