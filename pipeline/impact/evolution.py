"""Year-over-year change of every indicator of the catalogue, at the territory level, with a flag beyond a
threshold (params.yaml `impact.evolution`): N-1 → N for a yearly report, every year for the final evaluation.

Only published values are compared (never a secret one); for an indicator published with a lag, the latest value
up to N is used with its year, and compared with the value published before it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from pipeline.config import load_params
from pipeline.impact import textes
from pipeline.impact.donnees import TRANSVERSE, DEFAUTS, Donnees
from pipeline.report import fmt
from pipeline.report.chiffres import cellule, libelle_avec_unite, notes_du_tableau
from pipeline.report.contexte import Contexte, Mesure
from pipeline.report.sortie import afficher, lignes_indicateurs, tableau, texte, tracer
from pipeline.report.tendance import comparables


@dataclass(frozen=True)
class Seuils:
    pourcentage: float = 10.0  # relative change of a count, an amount or a cost
    points: float = 3.0  # change of a rate, in points

    @classmethod
    def depuis(cls, reglage: dict | None) -> Seuils:
        r = {**DEFAUTS["impact"]["evolution"], **(reglage or {})}
        return cls(float(r["seuil_pourcentage"]), float(r["seuil_points"]))


@dataclass(frozen=True)
class Variation:
    indicateur: str
    avant: Mesure | None
    apres: Mesure | None
    absolue: float | None = None
    relative: float | None = None  # in percent; None when the earlier value is 0
    signalee: bool = False

    @property
    def signe(self) -> int:
        return 0 if not self.absolue else (1 if self.absolue > 0 else -1)


def variation(ctx: Contexte, indicateur: str, avant: Mesure | None, apres: Mesure | None, seuils: Seuils) -> Variation:
    """Change between two published values; flagged when it reaches the threshold (points for a rate)."""
    if not comparables(avant, apres):
        return Variation(indicateur, avant, apres)
    d = ctx.decimales(indicateur)
    absolue = round(apres.valeur - avant.valeur, d + 2)
    relative = absolue / abs(avant.valeur) * 100 if avant.valeur else None
    if fmt.est_taux(ctx.info(indicateur)["unite"]):
        signalee = abs(absolue) >= seuils.points
    else:
        signalee = (relative is None and absolue != 0) or (relative is not None and abs(relative) >= seuils.pourcentage)
    return Variation(indicateur, avant, apres, absolue, relative, bool(signalee))


def mot_signal(ctx: Contexte, v: Variation) -> str:
    """'forte hausse, favorable' for a flagged change ('' otherwise)."""
    if not v.signalee:
        return ""
    mots = [f"forte {textes.SIGNAL_HAUSSE if v.signe > 0 else textes.SIGNAL_BAISSE}"]
    sens = ctx.info(v.indicateur)["sens"]
    if sens in ("hausse", "baisse"):
        mots.append("favorable" if (v.signe > 0) == (sens == "hausse") else "défavorable")
    return ", ".join(mots)


def ecart_absolu(ctx: Contexte, v: Variation) -> str:
    """'+3,1 points' for a rate, '+12' or '-1 234,5' otherwise; 'n.d.' when not comparable."""
    if v.absolue is None:
        return fmt.NON_DISPONIBLE
    d = ctx.decimales(v.indicateur)
    if fmt.est_taux(ctx.info(v.indicateur)["unite"]):
        return fmt.evolution_points(v.absolue, d)
    if round(v.absolue, d) == 0:
        return fmt.nombre(0, d)
    return ("+" if v.absolue > 0 else "") + fmt.nombre(v.absolue, d)


def ecart_relatif(v: Variation) -> str:
    return fmt.NON_DISPONIBLE if v.relative is None else fmt.evolution_pct(v.relative)


def ecart_lisible(ctx: Contexte, v: Variation) -> str:
    """The change as it is judged: in points for a rate, in percent otherwise (absolute when from zero)."""
    if fmt.est_taux(ctx.info(v.indicateur)["unite"]) or v.relative is None:
        return ecart_absolu(ctx, v)
    return ecart_relatif(v)


# --- sources: a Donnees, the report set's Bilan, or a plain Contexte ------------------------------------------------
def _source(source) -> tuple[Contexte, Callable[[str], str], Seuils, list[str]]:
    """(context, label of a thématique, thresholds, thématiques in display order) from any accepted source."""
    if isinstance(source, Donnees):
        return (source.ctx, source.libelle, Seuils.depuis(source.reglages["impact"].get("evolution")),
                [TRANSVERSE, *source.thematiques])
    if hasattr(source, "premier") and hasattr(source, "libelle"):  # pipeline.reportset.donnees.Bilan
        params = getattr(source, "params", {}) or {}
        return (source.premier, source.libelle, Seuils.depuis((params.get("impact") or {}).get("evolution")),
                [TRANSVERSE, *source.thematiques])
    ctx: Contexte = source
    params = load_params()

    def libelle(th: str) -> str:
        if th == ctx.thematique:
            return ctx.libelle_thematique
        return textes.ENSEMBLE_CONVENTION if th == TRANSVERSE else th

    return (ctx, libelle, Seuils.depuis((params.get("impact") or {}).get("evolution")),
            [TRANSVERSE, *params.get("thematiques", [])])


def groupes(ctx: Contexte, ordre: list[str]) -> dict[str, list[str]]:
    """Catalogue ids by thématique: the given order first, then any other thématique of the catalogue."""
    cat = ctx.catalogue
    themes = list(dict.fromkeys([*ordre, *cat["thematique"]]))
    return {th: list(cat.index[cat["thematique"] == th]) for th in themes if (cat["thematique"] == th).any()}


def regle(seuils: Seuils) -> str:
    return textes.REGLE_EVOLUTION.format(points=fmt.evolution_points(seuils.points, 0).lstrip("+"),
                                         pourcentage=fmt.evolution_pct(seuils.pourcentage, 0).lstrip("+"))


# --- N-1 → N --------------------------------------------------------------------------------------------------------
def tableau_evolution(source, annee: int, afficher_sortie: bool = True) -> str:
    """Year-over-year table (N-1 → N) of every catalogue indicator, one table per thématique; displayed as
    Markdown (in a notebook; `afficher_sortie=False` outside one) and returned. `source`: a `Donnees`, the report
    set's `Bilan` (pipeline.reportset.donnees) or a report `Contexte`."""
    ctx, libelle, seuils, ordre = _source(source)
    blocs, signalees, vides = [regle(seuils)], 0, []
    for th, ids in groupes(ctx, ordre).items():
        lignes, sources, montres = [], [], []
        for ind in ids:
            apres = ctx.derniere(ind, avant=annee + 1)
            if apres is None:
                vides.append(texte(ctx.info(ind)["libelle"]))
                continue
            avant = ctx.derniere(ind, avant=apres.annee)
            v = variation(ctx, ind, avant, apres, seuils)
            signalees += v.signalee
            lignes.append([libelle_avec_unite(ctx, ind), cellule(ctx, ind, avant, annee - 1),
                           cellule(ctx, ind, apres, annee), ecart_absolu(ctx, v), ecart_relatif(v),
                           mot_signal(ctx, v)])
            sources += [(m.source, m.millesime) for m in (avant, apres) if m]
            montres.append(ind)
        if lignes:
            lues = [g[g["annee"] <= annee] for g in lignes_indicateurs(ctx, montres)]
            legende = tracer(f"Évolution {annee - 1}-{annee} — {texte(libelle(th))}.", sources, *lues)
            blocs += [f"### {texte(libelle(th))}", tableau(
                ["Indicateur", str(annee - 1), str(annee), "Variation", "Variation relative", "Signal"], lignes,
                legende, ["left", "right", "right", "right", "right", "left"], notes_du_tableau(ctx, lignes))]
    blocs.insert(1, f"{fmt.compte(signalees, 'variation est signalée', 'variations sont signalées')} entre "
                    f"{annee - 1} et {annee}.")
    if vides:
        blocs.append(textes.SANS_VALEUR_JUSQUA.format(annee=annee, liste=" ; ".join(vides)))
    md = "\n\n".join(blocs) + "\n"
    return afficher(md) if afficher_sortie else md


# --- every year of the convention -------------------------------------------------------------------------------
def variations_periode(ctx: Contexte, indicateur: str, debut: int, fin: int, seuils: Seuils) -> list[Variation]:
    """Changes between consecutive published values from `debut` to `fin`."""
    mesures = [m for m in ctx.mesures(indicateur) if debut <= m.annee <= fin and m.valeur is not None]
    return [variation(ctx, indicateur, a, b, seuils) for a, b in zip(mesures, mesures[1:])]


def evolution_globale(ctx: Contexte, indicateur: str, debut: int, fin: int, seuils: Seuils) -> Variation:
    """Change from the first to the last published value of the period (flagged with the same thresholds)."""
    mesures = [m for m in ctx.mesures(indicateur) if debut <= m.annee <= fin and m.valeur is not None]
    return variation(ctx, indicateur, mesures[0] if mesures else None, mesures[-1] if mesures else None, seuils)


def tableau_evolution_periode(source, debut: int | None = None, fin: int | None = None,
                              afficher_sortie: bool = True) -> str:
    """Every catalogue indicator, every year of the convention: values, overall change and flagged years."""
    ctx, libelle, seuils, ordre = _source(source)
    debut, fin = debut or ctx.annee_debut, fin or ctx.annee
    annees = list(range(debut, fin + 1))
    blocs, vides = [regle(seuils)], []
    for th, ids in groupes(ctx, ordre).items():
        lignes, sources, montres = [], [], []
        for ind in ids:
            mesures = {a: ctx.mesure(ind, a) for a in annees}
            if not any(mesures.values()):
                vides.append(texte(ctx.info(ind)["libelle"]))
                continue
            globale = evolution_globale(ctx, ind, debut, fin, seuils)
            periode = f" ({globale.avant.annee}-{globale.apres.annee})" if globale.absolue is not None and (
                globale.avant.annee, globale.apres.annee) != (debut, fin) else ""
            signaux = [f"{v.apres.annee} : {ecart_lisible(ctx, v)}"
                       for v in variations_periode(ctx, ind, debut, fin, seuils) if v.signalee]
            lignes.append([libelle_avec_unite(ctx, ind), *(cellule(ctx, ind, mesures[a], a) for a in annees),
                           ecart_lisible(ctx, globale) + periode, " ; ".join(signaux) or "—"])
            sources += [(m.source, m.millesime) for m in mesures.values() if m]
            montres.append(ind)
        if lignes:
            legende = tracer(f"Indicateurs {debut}-{fin} — {texte(libelle(th))}.", sources,
                             *lignes_indicateurs(ctx, montres, annees=annees))
            blocs += [f"### {texte(libelle(th))}", tableau(
                ["Indicateur", *map(str, annees), f"Évolution {debut}-{fin}", "Variations signalées"], lignes,
                legende, ["left", *["right"] * len(annees), "right", "left"], notes_du_tableau(ctx, lignes))]
    if vides:
        blocs.append(textes.SANS_VALEUR_JUSQUA.format(annee=fin, liste=" ; ".join(vides)))
    md = "\n\n".join(blocs) + "\n"
    return afficher(md) if afficher_sortie else md
