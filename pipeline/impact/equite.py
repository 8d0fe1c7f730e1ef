"""Equal opportunities over time: gaps between the priority neighbourhoods (QPV) and the rest of the territory, and
between the main town and the other communes, for the catalogue's indicators marked `impact`.

- QPV: for a count published by QPV, the share of the territory's total found in structures located in a QPV
  (the QPV population is not in the data: no QPV rate can be computed);
- main town: for a count published by commune, the value per 1 000 inhabitants (catalogue `pop_municipale`) of
  the main town and of the other communes together; for a rate, the main town's published value against the
  whole territory's (a published rate is never recomputed).

A year where one of the places compared is secret is left out: a secret value is never used, not even in a sum.
"""

from __future__ import annotations

from dataclasses import dataclass

from pipeline.impact import textes
from pipeline.impact.donnees import Donnees
from pipeline.report import fmt
from pipeline.report.comparaisons import nom_centre
from pipeline.report.contexte import Contexte
from pipeline.report.sortie import afficher, lignes_indicateurs, tableau, texte, tracer

POPULATION = "pop_municipale"
POUR_MILLE = "pour 1 000 habitants"


@dataclass(frozen=True)
class Ecart:
    """One year's comparison: `a` against `b` (QPV: `a` is the share in QPV, in %, `b` the rest's share)."""

    indicateur: str
    comparaison: str  # "qpv" or "centre"
    annee: int
    a: float
    b: float
    unite: str  # unit of a and b
    decimales: int

    @property
    def ecart(self) -> float:
        return self.a - self.b


def parts_qpv(ctx: Contexte, indicateur: str, annees: range) -> list[Ecart]:
    """Share of a count found in QPV structures, per year (years with a secret QPV value left out)."""
    if fmt.est_taux(ctx.info(indicateur)["unite"]):
        return []
    resultat, toutes = [], ctx.lignes(indicateur, "qpv")
    for annee in annees:
        lignes = toutes[toutes["annee"] == annee]
        total = ctx.mesure(indicateur, annee)
        if lignes.empty or lignes["secret"].astype(bool).any() or total is None or not total.valeur:
            continue
        part = float(lignes["valeur"].sum()) / total.valeur * 100
        resultat.append(Ecart(indicateur, "qpv", annee, part, 100 - part, "%", 1))
    return resultat


def _somme_communes(ctx: Contexte, indicateur: str, annee: int, codes: list[str]) -> float | None:
    """Sum over communes; None when one of them is secret, or when the indicator has no commune value that year.
    A commune without a row in a year that has commune values counts zero (no structure reported there)."""
    mesures = [ctx.mesure(indicateur, annee, "commune", c) for c in codes]
    if not codes or all(m is None for m in mesures) or any(m is not None and m.valeur is None for m in mesures):
        return None
    return sum(m.valeur for m in mesures if m is not None)


def ecarts_centre(ctx: Contexte, indicateur: str, annees: range) -> list[Ecart]:
    """Main town against the other communes (per 1 000 inhabitants) or, for a rate, against the whole territory."""
    centres = list(ctx.villes_centres)
    if not centres or ctx.lignes(indicateur, "commune").empty:
        return []
    autres = [c for c in ctx.communes["code_insee"] if c not in centres]
    taux, d = fmt.est_taux(ctx.info(indicateur)["unite"]), ctx.decimales(indicateur)
    resultat = []
    for annee in annees:
        if taux:
            centre, ensemble = _somme_communes(ctx, indicateur, annee, centres), ctx.mesure(indicateur, annee)
            if len(centres) == 1 and centre is not None and ensemble is not None and ensemble.valeur is not None:
                resultat.append(Ecart(indicateur, "centre", annee, centre, ensemble.valeur,
                                      ctx.info(indicateur)["unite"], d))
            continue
        valeurs = [_somme_communes(ctx, indicateur, annee, codes) for codes in (centres, autres)]
        pops = [_somme_communes(ctx, POPULATION, annee, codes) for codes in (centres, autres)]
        if None in valeurs or None in pops or 0 in pops:
            continue
        a, b = (1000 * v / p for v, p in zip(valeurs, pops))
        resultat.append(Ecart(indicateur, "centre", annee, a, b, POUR_MILLE, 1))
    return resultat


def libelles_comparaison(ctx: Contexte, e: Ecart) -> tuple[str, str]:
    if e.comparaison == "qpv":
        return "structures en QPV", "reste du territoire"
    if e.unite == POUR_MILLE:
        return nom_centre(ctx), "autres communes"
    return nom_centre(ctx), f"ensemble de {ctx.libelle_territoire}"


def valeur(e: Ecart, x: float) -> str:
    return fmt.pourcentage(x, 1) if e.unite == "%" else fmt.nombre(x, e.decimales)


def cellule_ecart(ctx: Contexte, e: Ecart) -> str:
    """'8,5 % en QPV' or 'Montélimar 12,3 ; autres communes 4,2'."""
    if e.comparaison == "qpv":
        return f"{valeur(e, e.a)} en QPV"
    gauche, droite = libelles_comparaison(ctx, e)
    return f"{texte(gauche)} {valeur(e, e.a)} ; {texte(droite)} {valeur(e, e.b)}"


def variation_ecart(e0: Ecart, e1: Ecart) -> int:
    """-1 when the gap narrowed, +1 when it widened, 0 when equal at the printed precision (QPV: share change)."""
    if e0.comparaison == "qpv":
        x0, x1 = round(e0.a, e0.decimales), round(e1.a, e1.decimales)
    else:
        x0, x1 = round(abs(e0.ecart), e0.decimales), round(abs(e1.ecart), e1.decimales)
    return (x1 > x0) - (x1 < x0)


def lecture(ctx: Contexte, serie: list[Ecart]) -> str | None:
    """One sentence on the gap from its first to its last year (None without at least two years)."""
    if len(serie) < 2:
        return textes.UNE_SEULE_ANNEE.format(annee=serie[0].annee) if serie else None
    e0, e1 = serie[0], serie[-1]
    libelle = texte(ctx.info(e0.indicateur)["libelle"])
    sens = variation_ecart(e0, e1)
    if e0.comparaison == "qpv":
        modele = textes.LECTURE_QPV_STABLE if sens == 0 else textes.LECTURE_QPV
        return modele.format(libelle=libelle, a=valeur(e0, e0.a), annee_a=e0.annee, b=valeur(e1, e1.a),
                             annee_b=e1.annee, ecart=fmt.evolution_points(e1.a - e0.a, 1))
    gauche, droite = libelles_comparaison(ctx, e0)
    mesure = (f"{e0.unite}, {gauche} moins {droite}" if e0.unite == POUR_MILLE
              else f"{texte(e0.unite)}, écart en points")
    return textes.LECTURE_CENTRE.format(libelle=libelle, centre=texte(gauche), autres=f"les {droite}"
                                        if e0.unite == POUR_MILLE else f"l'{droite}", verbe=textes.VERBES_ECART[sens],
                                        a=valeur(e0, e0.ecart), annee_a=e0.annee, b=valeur(e1, e1.ecart),
                                        annee_b=e1.annee, mesure=texte(mesure))


def series(d: Donnees, indicateur: str) -> list[list[Ecart]]:
    """The non-empty comparison series of an indicator, QPV first."""
    annees = range(d.debut, d.annee + 1)
    return [s for s in (parts_qpv(d.ctx, indicateur, annees), ecarts_centre(d.ctx, indicateur, annees)) if s]


def indicateurs_impact(d: Donnees, thematique: str | None = None) -> list[str]:
    return [i for i in d.indicateurs(thematique) if "impact" in d.niveaux_modele(i)]


def equite_sociale(d: Donnees) -> str:
    """Gaps of every `impact` indicator, first and last year, and one reading per gap; displayed and returned."""
    ctx, lignes, lectures, sources, montres = d.ctx, [], [], [], []
    for th in [*d.thematiques]:
        for ind in indicateurs_impact(d, th):
            for serie in series(d, ind):
                e0, e1 = serie[0], serie[-1]
                comparaison = "QPV / reste du territoire (part de l'activité)" if e0.comparaison == "qpv" else \
                    f"{nom_centre(ctx)} / {libelles_comparaison(ctx, e0)[1]} ({e0.unite})"
                lignes.append([texte(d.libelle(th)), texte(ctx.info(ind)["libelle"]), texte(comparaison),
                               f"{cellule_ecart(ctx, e0)} ({e0.annee})",
                               f"{cellule_ecart(ctx, e1)} ({e1.annee})" if e1 is not e0 else "—"])
                lectures.append(lecture(ctx, serie))
                sources += [(m.source, m.millesime) for m in ctx.mesures(ind)]
                montres.append(ind)
    if not lignes:
        return afficher(textes.SANS_ECART + "\n")
    annees = range(d.debut, d.annee + 1)
    legende = tracer(f"Écarts territoriaux des indicateurs d'impact, {d.debut}-{d.annee} (QPV : part de l'activité "
                     f"réalisée dans les structures implantées en QPV).", sources,
                     *lignes_indicateurs(ctx, montres, ("epci", "qpv", "commune"), annees),
                     *lignes_indicateurs(ctx, [POPULATION], ("commune",), annees))
    blocs = [tableau(["Thématique", "Indicateur", "Comparaison", "Première année", "Dernière année"],
                     lignes, legende, ["left"] * 5),
             "\n".join(f"- {l}" for l in lectures if l), bas_revenus(d)]
    return afficher("\n\n".join(b for b in blocs if b) + "\n")


def bas_revenus(d: Donnees) -> str:
    """Context on low-income households (main town against the territory), when the indicator is published."""
    ind = d.reglage("impact", "indicateur_bas_revenus")
    if ind not in d.ctx.catalogue.index:
        return ""
    serie = ecarts_centre(d.ctx, ind, range(d.debut - 2, d.annee + 1))
    if not serie:
        return ""
    e = serie[-1]
    gauche, droite = libelles_comparaison(d.ctx, e)
    phrase = (f"en {e.annee}, « {texte(d.ctx.info(ind)['libelle'])} » est de {valeur(e, e.a)} à {texte(gauche)} "
              f"contre {valeur(e, e.b)} pour l'{texte(droite)}.")
    return textes.BAS_REVENUS.format(phrase=phrase)
