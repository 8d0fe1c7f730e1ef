"""Territorial equity: priority neighbourhoods (QPV), and the main town against the other communes.

Only published values are set side by side (no rate is recomputed, no secret value is used); when the data
has no QPV or commune level for the thématique, the report says so.
"""

from __future__ import annotations

import pandas as pd

from pipeline.report import fmt, textes
from pipeline.report.chiffres import cellule, libelle_avec_unite, notes_du_tableau
from pipeline.report.contexte import Contexte
from pipeline.report.sortie import afficher, lignes_indicateurs, tableau, texte, tracer


def equite(ctx: Contexte) -> str:
    blocs = ["### Quartiers prioritaires de la politique de la ville (QPV)\n", quartiers(ctx), equipements(ctx),
             f"### {texte(majuscule(nom_centre(ctx)))} et les autres communes\n", communes(ctx)]
    return afficher("\n".join(b for b in blocs if b))


def nom_centre(ctx: Contexte) -> str:
    return " et ".join(map(ctx.nom_commune, ctx.villes_centres)) or "la ville-centre"


def majuscule(s: str) -> str:
    return s[:1].upper() + s[1:]


def derniere_annee(ctx: Contexte, indicateur: str, niveau: str) -> int | None:
    """Latest year (up to N) with a published value or secret at this level."""
    lignes = ctx.lignes(indicateur, niveau)
    lignes = lignes[lignes["valeur"].notna() | lignes["secret"].astype(bool)]
    return int(lignes["annee"].max()) if len(lignes) else None


def quartiers(ctx: Contexte) -> str:
    """Each QPV's value next to the whole territory's, for every indicator published by QPV."""
    annees = {i: derniere_annee(ctx, i, "qpv") for i in ctx.indicateurs_du_theme()}
    annees = {i: a for i, a in annees.items() if a is not None}
    if not annees:
        return textes.SANS_QPV + "\n"
    publies = [q for i in annees for q in ctx.lignes(i, "qpv")["code_geo"].unique()]
    noms = list(dict.fromkeys([*ctx.qpv, *publies]))
    corps, sources = [], []
    for ind, annee in annees.items():
        mesures = [ctx.mesure(ind, annee, "qpv", q) for q in noms] + [ctx.mesure(ind, annee)]
        corps.append([libelle_avec_unite(ctx, ind), str(annee), *(cellule(ctx, ind, m, annee) for m in mesures)])
        sources += [(m.source, m.millesime) for m in mesures if m]
    entetes = ["Indicateur", "Année", *map(texte, noms), texte(f"Ensemble de {ctx.libelle_territoire} (QPV compris)")]
    legende = tracer("Indicateurs des quartiers prioritaires et de l'ensemble du territoire (valeurs publiées, "
                     "aucune recalculée).", sources, *lignes_par_annee(ctx, annees, ("qpv", "epci")))
    return tableau(entetes, corps, legende, ["left"] + ["right"] * (len(noms) + 2), notes_du_tableau(ctx, corps))


def equipements(ctx: Contexte) -> str:
    """Structures of the thématique open in year N: in a QPV, elsewhere in the main town, other communes."""
    types = [code for code, v in ctx.types_structure.items() if v.get("thematique") == ctx.thematique]
    if ctx.equipements.empty or not types:
        return ""
    eq = ctx.equipements[(ctx.equipements["annee"] == ctx.annee) & ctx.equipements["type"].isin(types)]
    if eq.empty:
        return textes.SANS_EQUIPEMENT.format(annee=ctx.annee) + "\n"
    lieux = ["Dans un QPV", f"{majuscule(nom_centre(ctx))} hors QPV", "Autres communes"]
    lieu = pd.Series(lieux[2], index=eq.index).mask(eq["code_insee"].isin(ctx.villes_centres), lieux[1])
    lieu = lieu.mask(eq["qpv"].fillna("").astype(str) != "", lieux[0])
    comptes = pd.crosstab(eq["type"], lieu).reindex(columns=lieux, fill_value=0)
    corps = [[texte(ctx.types_structure[t].get("libelle", t)), *map(fmt.nombre, ligne), fmt.nombre(sum(ligne))]
             for t, ligne in zip(comptes.index, comptes.to_numpy().tolist())]
    legende = tracer(f"Structures ouvertes en {ctx.annee} selon leur implantation.",
                     [("Suivi local - equipements", ctx.annee)], eq,
                     phrase=f"Source : feuille de suivi des équipements {ctx.annee}.")
    return tableau(["Type de structure", *lieux, "Total"], corps, legende, ["left"] + ["right"] * 4)


def lignes_par_annee(ctx: Contexte, annees: dict[str, int], niveaux: tuple[str, ...]) -> list[pd.DataFrame]:
    """The rows a comparison table reads: each indicator at `niveaux`, in the year shown for it."""
    return [g for ind, annee in annees.items() for g in lignes_indicateurs(ctx, [ind], niveaux, [annee])]


def etendue(valeurs: list[float], d: int) -> str:
    """'0 – 55', a single value when all are equal, 'n.d.' when there is none."""
    if not valeurs:
        return fmt.NON_DISPONIBLE
    bas, haut = fmt.nombre(min(valeurs), d), fmt.nombre(max(valeurs), d)
    return bas if bas == haut else f"{bas} – {haut}"


def communes(ctx: Contexte) -> str:
    """Main town's value, the range of the other communes' published values, and the whole territory."""
    annees = {i: derniere_annee(ctx, i, "commune") for i in ctx.indicateurs_du_theme()}
    annees = {i: a for i, a in annees.items() if a is not None}
    if not ctx.villes_centres or not annees:
        return textes.SANS_COMMUNES.format(centre=nom_centre(ctx)) + "\n"
    autres_codes = [c for c in ctx.communes["code_insee"] if c not in ctx.villes_centres]
    corps, sources, secrets = [], [], 0
    for ind, annee in annees.items():
        centres = [ctx.mesure(ind, annee, "commune", c) for c in ctx.villes_centres]
        autres = [ctx.mesure(ind, annee, "commune", c) for c in autres_codes]
        ensemble = ctx.mesure(ind, annee)
        en_secret = sum(1 for m in autres if m and m.secret)
        secrets += en_secret
        corps.append([libelle_avec_unite(ctx, ind), str(annee), *(cellule(ctx, ind, m, annee) for m in centres),
                      etendue([m.valeur for m in autres if m and m.valeur is not None], ctx.decimales(ind)),
                      fmt.nombre(en_secret), cellule(ctx, ind, ensemble, annee)])
        sources += [(m.source, m.millesime) for m in [*centres, *autres, ensemble] if m]
    entetes = ["Indicateur", "Année", *map(texte, map(ctx.nom_commune, ctx.villes_centres)),
               "Autres communes (plus basse – plus haute)", "Autres communes sous secret",
               texte(f"Ensemble de {ctx.libelle_territoire}")]
    notes = notes_du_tableau(ctx, corps)
    note_secret = textes.NOTE_SECRET.format(seuil=ctx.seuil_secret)
    if secrets and note_secret not in notes:
        notes.insert(0, note_secret)
    legende = tracer(f"{texte(majuscule(nom_centre(ctx)))} et autres communes.", sources,
                     *lignes_par_annee(ctx, annees, ("commune", "epci")))
    return tableau(entetes, corps, legende, ["left"] + ["right"] * (len(entetes) - 1), notes)
