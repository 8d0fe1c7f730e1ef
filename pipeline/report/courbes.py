"""Line chart of the thématique's main indicators, baseline year to N, with department and France references."""

from __future__ import annotations

import math

from pipeline.report import fmt, textes
from pipeline.report.contexte import Contexte, Mesure
from pipeline.report.graphiques import PALETTE, axe_annees, axe_nombres, couper, nouvelle_figure, style
from pipeline.report.sortie import afficher, figure, lignes_indicateurs, provenance, texte, tracer

HAUTEUR_PANNEAU = 2.8  # inches per indicator


def evolution(ctx: Contexte, indicateurs: list[str] | None = None) -> str:
    """One panel per indicator (the catalogue's `principal` ones by default) with a series per level."""
    ids = indicateurs or [i for i in ctx.indicateurs_du_theme() if ctx.info(i)["principal"]]
    series = {i: series_de(ctx, i) for i in ids}
    series = {i: s for i, s in series.items() if len(valeurs(s[ctx.libelle_territoire])) >= 2}
    if not series:
        return afficher(textes.SANS_EVOLUTION + "\n")
    sources = [(m.source, m.millesime) for s in series.values() for ms in s.values() for m in ms]
    with style():
        fig, axes = nouvelle_figure(HAUTEUR_PANNEAU * len(series) + 0.6, provenance(sources, markdown=False),
                                    nrows=len(series), squeeze=False)
        for axe, (ind, s) in zip(axes[:, 0], series.items()):
            panneau(ctx, axe, ind, s)
    legende = tracer(f"Évolution des indicateurs principaux, {texte(ctx.libelle_territoire)}, "
                     f"{ctx.annee_debut}-{ctx.annee}.", sources, *lignes_indicateurs(
                         ctx, series, ("epci", "departement", "france"), range(ctx.annee_debut, ctx.annee + 1)))
    alt = "Graphique en courbes. " + " ".join(description(ctx, i, s) for i, s in series.items())
    return afficher(figure(fig, legende, alt))


def series_de(ctx: Contexte, indicateur: str) -> dict[str, list[Mesure]]:
    """{place name: values from the baseline year to N} for the territory, the department and France."""
    lieux = {ctx.libelle_territoire: ctx.mesures(indicateur, "epci")}
    for niveau in ("departement", "france"):
        codes = ctx.lignes(indicateur, niveau)["code_geo"].unique()
        for code in codes:
            lieux[ctx.nom_lieu(niveau, code)] = ctx.mesures(indicateur, niveau, code)
    return {lieu: [m for m in ms if m.annee >= ctx.annee_debut] for lieu, ms in lieux.items()}


def valeurs(mesures: list[Mesure]) -> list[Mesure]:
    """The non-secret values of a series (secret years are gaps in the line)."""
    return [m for m in mesures if m.valeur is not None]


def panneau(ctx: Contexte, axe, indicateur: str, series: dict[str, list[Mesure]]) -> None:
    info, d = ctx.info(indicateur), ctx.decimales(indicateur)
    for couleur, marqueur, (lieu, mesures) in zip(PALETTE, "osD^v", series.items()):
        if not valeurs(mesures):
            continue
        x = [m.annee for m in mesures]
        y = [math.nan if m.valeur is None else m.valeur for m in mesures]  # a secret year is a gap
        principal = lieu == ctx.libelle_territoire
        axe.plot(x, y, marker=marqueur, color=couleur, label=lieu, linewidth=2.4 if principal else 1.4,
                 linestyle="-" if principal else "--")
        if principal:
            dernier = valeurs(mesures)[-1]
            axe.annotate(fmt.nombre(dernier.valeur, d), (dernier.annee, dernier.valeur), textcoords="offset points",
                         xytext=(6, 4), fontsize=9, color=couleur, fontweight="bold")
    axe.set_title(couper(info["libelle"], 90))
    axe.set_ylabel(couper(info["unite"], 28))
    axe.set_xlim(ctx.annee_debut - 0.3, ctx.annee + 0.6)
    axe_annees(axe.xaxis, ctx.annee_debut, ctx.annee)
    axe_nombres(axe.yaxis, d)
    if not fmt.est_taux(info["unite"]):  # counts from zero: a change of a few units does not look like a jump
        axe.set_ylim(0, max(1, axe.get_ylim()[1]) * 1.15)
    if axe.get_legend_handles_labels()[0]:
        axe.legend(loc="best", fontsize=8)


def description(ctx: Contexte, indicateur: str, series: dict[str, list[Mesure]]) -> str:
    """Alt text for one panel: first and last values of each place, with their years."""
    info, d = ctx.info(indicateur), ctx.decimales(indicateur)
    morceaux = []
    for lieu, mesures in series.items():
        if not valeurs(mesures):
            continue
        premier, dernier = valeurs(mesures)[0], valeurs(mesures)[-1]
        if premier.annee == dernier.annee:
            morceaux.append(f"{lieu} : {fmt.nombre(dernier.valeur, d)} en {dernier.annee}")
        else:
            morceaux.append(f"{lieu} : de {fmt.nombre(premier.valeur, d)} en {premier.annee} "
                            f"à {fmt.nombre(dernier.valeur, d)} en {dernier.annee}")
    return f"{info['libelle']} ({info['unite']}) — " + " ; ".join(morceaux) + "."
