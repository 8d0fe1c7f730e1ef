"""Key figures of a thématique at the territory level: baseline, N-1, N, target, trend and source."""

from __future__ import annotations

import re
from dataclasses import dataclass

from pipeline.report import fmt, textes
from pipeline.report.contexte import Contexte, Mesure
from pipeline.report.sortie import (SOURCE_REFERENTIEL, afficher, lignes_indicateurs, provenance, tableau, texte,
                                    tracer)
from pipeline.report.tendance import tendance

COMPARAISONS = {">=": "≥", "<=": "≤", ">": ">", "<": "<", "=": "=", "==": "="}
_VALEUR_DATEE = re.compile(r"(s|-?[\d\u202f]+(,\d+)?) \(\d{4}\)")


@dataclass(frozen=True)
class Colonne:
    cle: str
    entete: str
    alignement: str


def colonnes(ctx: Contexte) -> list[Colonne]:
    """Baseline (first year of the convention) only when distinct from N-1; no change in the first year."""
    reference = Colonne("reference", f"{ctx.annee_debut} (référence)", "right")
    evolution = Colonne("evolution", f"Évolution depuis {ctx.annee_debut}", "left")
    return [
        Colonne("indicateur", "Indicateur", "left"),
        *([reference] if ctx.annee - 1 > ctx.annee_debut else []),
        Colonne("precedente", str(ctx.annee - 1), "right"),
        Colonne("derniere", str(ctx.annee), "right"),
        Colonne("cible", "Cible de la convention", "left"),
        *([evolution] if ctx.annee > ctx.annee_debut else []),
        Colonne("source", "Source de la dernière valeur", "left"),
    ]


def chiffres_cles(ctx: Contexte) -> str:
    """Table of the thématique's indicators for the territory; displayed as Markdown and returned.

    Columns: the baseline year, N-1, N, the convention's target, the change since the baseline and the source
    of the latest value. When the latest published value is older than N (publication lag), it is shown with
    its year, e.g. '62,4 (2023)', and N-1 shows the value published before it.
    """
    lignes, sources, montres = [], [], []
    for ind in ctx.indicateurs_du_theme():
        derniere = ctx.derniere(ind)
        if derniere is None:
            continue
        reference = ctx.mesure(ind, ctx.annee_debut)
        precedente = ctx.derniere(ind, avant=derniere.annee)
        lignes.append({
            "indicateur": libelle_avec_unite(ctx, ind),
            "reference": cellule(ctx, ind, reference, ctx.annee_debut),
            "precedente": cellule(ctx, ind, precedente, ctx.annee - 1),
            "derniere": cellule(ctx, ind, derniere, ctx.annee),
            "cible": cible(ctx, ind),
            "evolution": tendance(ctx, ind, reference, derniere) or fmt.NON_DISPONIBLE,
            "source": provenance([(derniere.source, derniere.millesime)]).removeprefix("Source : ").rstrip("."),
        })
        sources += [(m.source, m.millesime) for m in (reference, precedente, derniere) if m is not None]
        montres.append(ind)
    if not lignes:
        return afficher(textes.SANS_INDICATEUR.format(annee=ctx.annee) + "\n")
    cols = colonnes(ctx)
    corps = [[ligne[c.cle] for c in cols] for ligne in lignes]
    cibles = [ctx.cibles_de(i) for i in montres]
    sources += [(SOURCE_REFERENTIEL, None)] if any(len(c) for c in cibles) else []
    legende = tracer(f"Chiffres clés — {texte(ctx.libelle_thematique)}, {texte(ctx.libelle_territoire)}, "
                     f"{ctx.annee}.", sources, *lignes_indicateurs(ctx, montres), *cibles) \
        + " Source de chaque valeur : dernière colonne."
    return afficher(tableau([c.entete for c in cols], corps, legende, [c.alignement for c in cols],
                            notes_du_tableau(ctx, corps)))


def libelle_avec_unite(ctx: Contexte, indicateur: str) -> str:
    """'Places en accueil collectif (places)'; the unit is not repeated when the label already ends with it."""
    libelle, unite = ctx.info(indicateur)["libelle"], ctx.info(indicateur)["unite"]
    return texte(f"{libelle} ({unite})" if unite and not libelle.endswith(f"({unite})") else libelle)


def cellule(ctx: Contexte, indicateur: str, m: Mesure | None, annee: int) -> str:
    """'62,4', '62,4 (2023)' when the value is older than the column's year, 's' when secret, 'n.d.'."""
    if m is None:
        return fmt.NON_DISPONIBLE
    valeur = fmt.SECRET if m.secret else fmt.nombre(m.valeur, ctx.decimales(indicateur))
    return valeur if m.annee == annee else f"{valeur} ({m.annee})"


def cible(ctx: Contexte, indicateur: str) -> str:
    """'≥ 361 en 2025' for each target the convention sets on the indicator (with its scope when it is not the
    whole territory), '—' when there is none."""
    textes_cibles = []
    for c in ctx.cibles_de(indicateur).itertuples():
        signe = COMPARAISONS.get(c.comparaison, c.comparaison)
        morceau = f"{signe} {fmt.nombre(c.valeur, ctx.decimales(indicateur))} en {c.annee}"
        if perimetre_particulier(ctx, c):
            morceau += f" ({c.perimetre})"
        textes_cibles.append(texte(morceau))
    return " ; ".join(textes_cibles) or "—"


def perimetre_particulier(ctx: Contexte, c) -> bool:
    """True when a target's scope is narrower than the whole territory (e.g. one structure)."""
    perimetre = getattr(c, "perimetre", None)
    return isinstance(perimetre, str) and perimetre.strip() != "" and perimetre != ctx.libelle_territoire


def notes_du_tableau(ctx: Contexte, corps: list[list[str]]) -> list[str]:
    """Footnotes for the markers a table actually shows: 's', 'n.d.', a value with its year in brackets."""
    cellules = [c for ligne in corps for c in ligne]
    notes = []
    if any(c == fmt.SECRET or c.startswith(fmt.SECRET + " (") for c in cellules):
        notes.append(textes.NOTE_SECRET.format(seuil=ctx.seuil_secret))
    if fmt.NON_DISPONIBLE in cellules:
        notes.append(textes.NOTE_NON_DISPONIBLE)
    if any(_VALEUR_DATEE.fullmatch(c) for c in cellules):
        notes.append(textes.NOTE_ANNEE)
    return notes
