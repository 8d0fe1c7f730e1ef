"""Roadmap completion over the convention: share of actions done each year, by thématique and by axis, and the
status of every action in the last year (from actions.parquet, one row per year and action)."""

from __future__ import annotations

import pandas as pd
from matplotlib.figure import Figure

from pipeline.impact import textes
from pipeline.impact.donnees import Donnees
from pipeline.report import fmt, memo
from pipeline.report.feuille import dans_phrase, ordre
from pipeline.report.graphiques import PALETTE, axe_annees, nouvelle_figure, style
from pipeline.report.sortie import SOURCE_REFERENTIEL, afficher, figure, tableau, texte, tracer

REALISEE = "realisee"


def suivi(d: Donnees) -> pd.DataFrame:
    """Actions from the first year to the report year, statuses as clean codes ('' when not followed)."""
    a = d.ctx.actions
    a = a[(a["annee"] >= d.debut) & (a["annee"] <= d.annee)].copy()
    a["statut"] = a["statut"].fillna("").astype(str)
    return a


def parts_realisees(actions: pd.DataFrame, cles: list[str]) -> pd.DataFrame:
    """Percentage of actions done, by `cles` (rows) and year (columns)."""
    return actions.assign(_fait=actions["statut"].eq(REALISEE)).pivot_table(
        index=cles, columns="annee", values="_fait", aggfunc="mean") * 100


def etat_final(d: Donnees, groupe: pd.DataFrame) -> str:
    """'8 réalisées, 2 en cours, 1 reportée' for the actions of the report year."""
    comptes = groupe.loc[groupe["annee"] == d.annee, "statut"].value_counts()
    return ", ".join(dans_phrase(code, int(comptes[code])) for code in ordre(d.ctx, comptes.index)) or "—"


def resume(d: Donnees, actions: pd.DataFrame) -> str:
    """'En 2025, 72 actions sur 122 sont réalisées (59 %) ; les autres : 36 en cours, 6 reportées.'"""
    derniere = actions[actions["annee"] == d.annee]
    faites = int(derniere["statut"].eq(REALISEE).sum())
    part = fmt.pourcentage(100 * faites / len(derniere), 0)
    phrase = (f"En {d.annee}, {fmt.nombre(faites)} action{'s' if faites > 1 else ''} sur {fmt.nombre(len(derniere))} "
              f"{'sont réalisées' if faites > 1 else 'est réalisée'} ({part})")
    autres = derniere[~derniere["statut"].eq(REALISEE)]
    return phrase + (f" ; les autres : {etat_final(d, autres)}." if len(autres) else ".")


def sources_suivi(d: Donnees) -> list[tuple[str, int | None]]:
    """The follow-up sheets of every year shown, and the referential."""
    return [*(("Suivi local - actions", a) for a in range(d.debut, d.annee + 1)), (SOURCE_REFERENTIEL, None)]


def graphique(d: Donnees, parts: pd.DataFrame, actions: pd.DataFrame) -> str:
    note = f"Source : feuilles de suivi des actions {d.debut}-{d.annee} ; référentiel de la convention."
    courbes = [(d.libelle(th), couleur, marqueur, [int(a) for a in serie.index], [float(v) for v in serie.values])
               for (th, serie), couleur, marqueur in zip(parts.iterrows(), PALETTE, "osD^v<>p")]
    image = memo.dessin(d.figures, _dessin, courbes, d.debut, d.annee, note)
    alt = "Courbes de la part des actions réalisées par thématique et par année. " + " ".join(
        f"{d.libelle(th)} : de {fmt.pourcentage(s.iloc[0], 0)} en {s.index[0]} à {fmt.pourcentage(s.iloc[-1], 0)} "
        f"en {s.index[-1]}." for th, s in parts.iterrows())
    return figure(image, tracer(f"Part des actions réalisées par thématique, {d.debut}-{d.annee}.", sources_suivi(d),
                                actions, phrase=note), alt)


def _dessin(courbes: list[tuple[str, str, str, list[int], list[float]]], debut: int, fin: int, note: str) -> Figure:
    """The lines of `graphique`: one per thématique (label, colour, marker, years, shares done)."""
    with style():
        fig, axe = nouvelle_figure(3.4, note)
        for libelle, couleur, marqueur, annees, parts in courbes:
            axe.plot(annees, parts, marker=marqueur, color=couleur, label=libelle, linewidth=1.8)
        axe_annees(axe.xaxis, debut, fin)
        axe.set_ylim(0, 105)
        axe.yaxis.set_major_formatter(lambda v, _p: fmt.pourcentage(v, 0))
        axe.set_title("Part des actions réalisées, par thématique")
        axe.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=8)
    return fig


def tableau_theme(d: Donnees, th: str, actions: pd.DataFrame) -> str:
    """One row per axis (and a total): number of actions, share done each year, status in the report year."""
    groupe = actions[actions["thematique"] == th]
    parts = parts_realisees(groupe, ["axe_numero", "axe_libelle"])
    annees = list(parts.columns)
    lignes = []
    for (numero, libelle), serie in parts.iterrows():
        axe = groupe[groupe["axe_numero"] == numero]
        lignes.append([f"Axe {numero} : {texte(libelle)}", fmt.nombre(axe["action_id"].nunique()),
                       *(fmt.pourcentage(v, 0) for v in serie), etat_final(d, axe)])
    total = parts_realisees(groupe.assign(_tout=1), ["_tout"]).iloc[0]
    lignes.append(["**Ensemble**", fmt.nombre(groupe["action_id"].nunique()), *(fmt.pourcentage(v, 0) for v in total),
                   etat_final(d, groupe)])
    legende = tracer(f"Part des actions réalisées par axe et par année, et état en {d.annee} — "
                     f"{texte(d.libelle(th))}.", sources_suivi(d)[:-1], groupe,
                     phrase=f"Source : feuilles de suivi des actions {d.debut}-{d.annee}.")
    return tableau(["Axe", "Actions", *map(str, annees), f"État en {d.annee}"], lignes, legende,
                   ["left", "right", *["right"] * len(annees), "left"])


def realisation_feuilles_de_route(d: Donnees) -> str:
    """Roadmap completion over the years: summary, chart, one table per thématique; displayed and returned."""
    actions = suivi(d)
    actions = actions[actions["thematique"].isin(d.thematiques)]
    if actions.empty:
        return afficher(textes.SANS_ACTION + "\n")
    parts = parts_realisees(actions, ["thematique"]).reindex([t for t in d.thematiques if t in
                                                              set(actions["thematique"])])
    blocs = [resume(d, actions), graphique(d, parts, actions)]
    for th in parts.index:
        blocs += [f"### {texte(d.libelle(th))}", tableau_theme(d, th, actions)]
    return afficher("\n\n".join(blocs) + "\n")
