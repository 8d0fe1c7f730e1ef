"""The convention's quantified targets judged on the data (`cibles.attainment`), as an evidence table."""

from __future__ import annotations

import pandas as pd

from pipeline.impact import textes
from pipeline.impact.cibles import Attainment, Lieux, attainment
from pipeline.impact.donnees import Donnees
from pipeline.report import fmt
from pipeline.report.chiffres import COMPARAISONS
from pipeline.report.sortie import (SOURCE_REFERENTIEL, afficher, lignes_indicateurs, sources_des_lignes, tableau,
                                    texte, tracer)


def lieux(d: Donnees) -> Lieux:
    """Place names of the territory and the targets each catalogue indicator is dedicated to."""
    ctx = d.ctx
    eq = ctx.equipements
    structures = {} if eq.empty else dict(eq.sort_values("annee").drop_duplicates("structure_id", keep="last")
                                          [["structure_id", "nom"]].itertuples(index=False))
    cibles = ctx.cibles.set_index("cible_id")["indicateur"] if not ctx.cibles.empty else pd.Series(dtype=object)
    dedies = set()
    for ind, ref in ctx.catalogue["cible"].items():
        refs = ref if isinstance(ref, (list, tuple)) else [ref] if isinstance(ref, str) and ref else []
        if len(refs) == 1 and cibles.get(refs[0]) == ind:
            dedies.add(refs[0])
    return Lieux(territoire=ctx.territoire, nom_territoire=ctx.libelle_territoire,
                 communes=dict(zip(ctx.communes["code_insee"], ctx.communes["commune"])), structures=structures,
                 indicateurs_dedies=frozenset(dedies))


def cibles_de(d: Donnees, thematique: str | None = None) -> pd.DataFrame:
    """The referential's targets (of one thématique), in its order."""
    return d.ctx.cibles if thematique is None else d.ctx.cibles[d.ctx.cibles["thematique"] == thematique]


def jugements(d: Donnees, thematique: str | None = None) -> list[tuple[object, Attainment]]:
    """(target row, judgement) for every target (of one thématique), in the referential's order."""
    ctx, places = d.ctx, lieux(d)
    cibles = cibles_de(d, thematique)
    table = ctx.indicateurs[ctx.indicateurs["annee"] <= ctx.annee]
    ratio = float(d.reglage("bilan", "partiellement_atteinte"))
    return [(c, attainment(c, table[table["indicateur"] == c.indicateur], places, ctx.annee_debut, ratio))
            for c in cibles.itertuples(index=False)]


def valeur_texte(d: Donnees, indicateur: str, valeur: float | None) -> str:
    info = d.ctx.info(indicateur)
    return texte(fmt.avec_unite(valeur, info["unite"], d.ctx.decimales(indicateur)))


def constat(d: Donnees, cible, a: Attainment) -> str:
    """'15 places (2025)', '3 quartiers (2023, avant l'échéance)', '—', then the scope judged."""
    if a.statut == "non_mesurable":
        return f"aucune donnée propre au périmètre « {texte(a.portee)} »" if a.portee else "—"
    if a.valeur is None:
        valeur = "—"
    else:
        quand = f"{a.annee}, avant l'échéance" if a.avant_echeance else str(a.annee)
        valeur = f"{valeur_texte(d, cible.indicateur, a.valeur)} ({quand})"
    return f"{valeur} — {texte(a.portee)}" if a.portee else valeur


def statut_texte(d: Donnees, a: Attainment) -> str:
    """'**Atteinte**', 'Partiellement atteinte (60 % de la progression attendue depuis 2021)'."""
    mot = textes.STATUTS_CIBLE[a.statut]
    if a.statut == "partielle" and a.progression is not None:
        modele = textes.PART_PROGRESSION if a.depuis_reference else textes.PART_VALEUR
        mot += f" ({modele.format(part=fmt.pourcentage(100 * a.progression, 0), debut=d.debut)})"
    return f"**{mot}**" if a.statut in ("atteinte", "non_atteinte") else mot


def lignes_cibles(d: Donnees, resultats, avec_theme: bool) -> list[list[str]]:
    lignes = []
    for c, a in resultats:
        theme = f"**{texte(d.libelle(c.thematique))}** — " if avec_theme else ""
        signe = COMPARAISONS.get(c.comparaison, c.comparaison)
        visee = f"{signe} {valeur_texte(d, c.indicateur, c.valeur)} en {c.annee}"
        lignes.append([theme + texte(c.libelle), visee, constat(d, c, a), statut_texte(d, a)])
    return lignes


def resume(resultats) -> str:
    """'11 cibles chiffrées : 6 atteintes, 2 partiellement atteintes, …'."""
    comptes = pd.Series([a.statut for _, a in resultats]).value_counts()
    morceaux = [fmt.compte(int(comptes[s]), *textes.STATUTS_CIBLE_COMPTE[s]) for s in textes.STATUTS_CIBLE
                if s in comptes]
    return f"{fmt.compte(len(resultats), 'cible chiffrée', 'cibles chiffrées')} : {', '.join(morceaux)}."


def tableau_cibles(d: Donnees, thematique: str | None = None, afficher_sortie: bool = True) -> str:
    """Every target (of one thématique): aimed value, value found with its year and the scope judged, status."""
    resultats = jugements(d, thematique)
    if not resultats:
        md = textes.SANS_CIBLE + "\n"
        return afficher(md) if afficher_sortie else md
    avec_theme = thematique is None
    cibles = cibles_de(d, thematique)
    lues = lignes_indicateurs(d.ctx, cibles["indicateur"], ("epci", "structure", "commune"))
    sources = [(SOURCE_REFERENTIEL, None), *sources_des_lignes(lues)]
    legende = tracer(f"Cibles chiffrées de la convention et leur atteinte"
                     f"{'' if avec_theme else ' — ' + texte(d.libelle(thematique))}.", sources, cibles, *lues,
                     phrase="Sources : référentiel de la convention ; indicateurs du catalogue (voir le tableau "
                            "d'évolution).")
    blocs = [resume(resultats),
             tableau(["Cible", "Visé", "Constaté — périmètre jugé", "Statut"],
                     lignes_cibles(d, resultats, avec_theme), legende, ["left"] * 4)]
    if avec_theme:
        blocs.insert(0, textes.REGLE_CIBLES.format(
            ratio=fmt.pourcentage(100 * float(d.reglage("bilan", "partiellement_atteinte")), 0), debut=d.debut))
    md = "\n\n".join(blocs) + "\n"
    return afficher(md) if afficher_sortie else md
