"""The social investment in figures: funding by funder and by thématique, the Caf's and the Agglomération's shares,
costs per place, per child or young person reached and per hour of service, from the first year of the convention
to the report year. Every figure is a catalogue indicator; the funder × scheme detail of the report year is the
breakdown of the catalogue's total, read from the same funding sheet.
"""

from __future__ import annotations

from matplotlib.figure import Figure

from pipeline.impact import textes
from pipeline.impact.donnees import Donnees
from pipeline.impact.evolution import Seuils, evolution_globale
from pipeline.impact.valeurs import (deflate, est_montant, euros_constants, lignes_indice, montant, phrase_euros,
                                     valeur)
from pipeline.report import fmt, memo
from pipeline.report.chiffres import libelle_avec_unite
from pipeline.report.graphiques import PALETTE, axe_annees, nouvelle_figure, style
from pipeline.report.sortie import afficher, figure, lignes_indicateurs, tableau, texte, tracer

FINANCEURS = ["financement_caf_total", "financement_agglomeration_total", "financement_total",
              "part_financement_caf", "part_financement_agglomeration"]
PREFIXE_THEME = "financement_"
PREFIXE_COUT = "cout_"


def annees(d: Donnees) -> list[int]:
    return list(range(d.debut, d.annee + 1))


def tableau_series(d: Donnees, ids: list[str], legende: str, premiere: str = "Indicateur",
                   noms: dict[str, str] | None = None) -> str:
    """One row per indicator (named by `noms` when given), one column per year, then the change since the first
    year."""
    ans, constants = annees(d), euros_constants(d, annees(d))
    lignes, sources, montres = [], [], []
    for ind in ids:
        mesures = [d.ctx.mesure(ind, a) for a in ans]
        if not any(mesures):
            continue
        montres.append(ind)
        globale = evolution_globale(d.ctx, ind, d.debut, d.annee, Seuils())
        if constants and est_montant(d.ctx.info(ind)["unite"]) and globale.absolue is not None:
            v0, v1 = (deflate(d, m.valeur, m.annee, True) for m in (globale.avant, globale.apres))
            evol = fmt.evolution_pct((v1 - v0) / abs(v0) * 100) if v0 else fmt.NON_DISPONIBLE
        elif globale.absolue is None:
            evol = fmt.NON_DISPONIBLE
        elif fmt.est_taux(d.ctx.info(ind)["unite"]):
            evol = fmt.evolution_points(globale.absolue, 1)
        else:
            evol = fmt.evolution_pct(globale.relative) if globale.relative is not None else fmt.NON_DISPONIBLE
        nom = texte(noms[ind]) if noms and ind in noms else libelle_avec_unite(d.ctx, ind)
        lignes.append([nom, *(valeur(d, ind, m, constants, avec_unite=False)
                                                          for m in mesures), evol])
        sources += [(m.source, m.millesime) for m in mesures if m]
    if not lignes:
        return ""
    entetes = [premiere, *map(str, ans), f"Évolution {d.debut}-{d.annee}" if d.annee > d.debut else "Évolution"]
    lignes_lues = [*lignes_indicateurs(d.ctx, montres, annees=ans), *lignes_indice(d, constants)]
    return tableau(entetes, lignes, tracer(legende, sources, *lignes_lues), ["left", *["right"] * (len(ans) + 1)])


def ids_existants(d: Donnees, ids: list[str]) -> list[str]:
    return [i for i in ids if i in d.ctx.catalogue.index]


def financements_par_theme(d: Donnees) -> list[str]:
    """The catalogue's funding indicator of each thématique (`financement_<thématique>`), in report order."""
    return ids_existants(d, [PREFIXE_THEME + th for th in d.thematiques])


def couts(d: Donnees) -> list[str]:
    """Unit-cost indicators (`cout_*`) of the catalogue, by thématique."""
    return [i for th in d.thematiques for i in d.indicateurs(th) if i.startswith(PREFIXE_COUT)]


def graphique_financeurs(d: Donnees) -> str:
    """Stacked bars: funding of each funder, per year (from the funding sheet, same totals as the catalogue)."""
    fin = d.ctx.financements
    fin = fin[(fin["annee"] >= d.debut) & (fin["annee"] <= d.annee)] if not fin.empty else fin
    if fin.empty:
        return ""
    constants = euros_constants(d, annees(d))
    fin = fin.assign(montant=[deflate(d, m, a, constants) for m, a in zip(fin["montant"], fin["annee"])])
    table = fin.pivot_table(index="annee", columns="financeur", values="montant", aggfunc="sum", fill_value=0.0)
    table = table[table.sum().sort_values(ascending=False).index]
    noms = {code: financeur_libelle(code) for code in table.columns}
    note = f"Source : feuilles de suivi des financements {d.debut}-{d.annee}."
    series = [(noms[code], couleur, [float(v) for v in table[code]]) for couleur, code in zip(PALETTE, table.columns)]
    image = memo.dessin(d.figures, _dessin_financeurs, [int(a) for a in table.index], series, d.debut, d.annee,
                        "millions d'euros" + (f" constants {d.annee}" if constants else " courants"), note)
    alt = "Barres empilées des financements par financeur et par année. " + " ".join(
        f"{a} : {montant(table.loc[a].sum())} au total, dont " + ", ".join(
            f"{noms[c]} {montant(table.at[a, c])}" for c in table.columns if table.at[a, c]) + "."
        for a in table.index)
    legende = tracer(f"Financements par financeur, {d.debut}-{d.annee}.",
                     [("Suivi local - financements", a) for a in annees(d)], fin, *lignes_indice(d, constants),
                     phrase=note)
    return figure(image, legende, alt)


def _dessin_financeurs(annees_: list[int], series: list[tuple[str, str, list[float]]], debut: int, fin: int,
                       unite: str, note: str) -> Figure:
    """The bars of `graphique_financeurs`: one stacked bar per year, one segment per funder (label, colour, euros)."""
    with style():
        fig, axe = nouvelle_figure(3.6, note)
        bas = [0.0] * len(annees_)
        for libelle, couleur, montants in series:
            axe.bar(annees_, [m / 1e6 for m in montants], bottom=[b / 1e6 for b in bas], color=couleur, label=libelle,
                    width=0.6, edgecolor="white")
            bas = [b + m for b, m in zip(bas, montants)]
        axe_annees(axe.xaxis, debut, fin)
        axe.yaxis.set_major_formatter(lambda v, _p: fmt.nombre(v, 1 if v % 1 else 0))
        axe.set_ylabel(unite)
        axe.set_title("Financements de la convention par financeur")
        axe.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=8)
    return fig


def financeur_libelle(code: str) -> str:
    from pipeline.inputs.vocabulary import load_vocabulary

    return load_vocabulary().label("financeurs", code)


def detail_annee(d: Donnees) -> str:
    """Funder × scheme amounts of the report year (the breakdown of the catalogue's total)."""
    fin = d.ctx.financements
    fin = fin[fin["annee"] == d.annee] if not fin.empty else fin
    if fin.empty:
        return ""
    from pipeline.inputs.vocabulary import load_vocabulary

    vocab = load_vocabulary()
    table = fin.groupby(["financeur", "dispositif"], as_index=False)["montant"].sum()
    table = table.sort_values(["financeur", "montant"], ascending=[True, False])
    total = table["montant"].sum()
    lignes = [[texte(vocab.label("financeurs", f)), texte(vocab.label("dispositifs", disp)), montant(m),
               fmt.pourcentage(100 * m / total, 1)] for f, disp, m in table.itertuples(index=False)]
    lignes.append(["**Total**", "", f"**{montant(total)}**", fmt.pourcentage(100, 1)])
    legende = tracer(f"Financements {d.annee} par financeur et dispositif (euros courants).",
                     [("Suivi local - financements", d.annee)], fin,
                     phrase=f"Source : feuille de suivi des financements {d.annee} ; total égal à l'indicateur "
                            "« financement_total » du catalogue.")
    return tableau(["Financeur", "Dispositif", "Montant", "Part du total"], lignes, legende,
                   ["left", "left", "right", "right"])


def investissement(d: Donnees) -> str:
    """The social-investment section; displayed as Markdown and returned."""
    if d.ctx.financements.empty:
        return afficher(textes.SANS_FINANCEMENT + "\n")
    blocs = [
        phrase_euros(d, annees(d)),
        "### Qui finance ?",
        tableau_series(d, ids_existants(d, FINANCEURS), f"Financements et parts des financeurs, {d.debut}-{d.annee}."),
        graphique_financeurs(d),
        detail_annee(d),
        "### Par thématique",
        tableau_series(d, financements_par_theme(d), f"Financements de tous les partenaires par thématique, "
                                                     f"{d.debut}-{d.annee}.",
                       "Thématique", {PREFIXE_THEME + th: lib for th, lib in d.thematiques.items()}),
        "### Coûts unitaires",
        textes.COUTS_LECTURE,
        tableau_series(d, couts(d), f"Financement par place, par enfant ou jeune touché et par heure d'accueil, "
                                    f"{d.debut}-{d.annee}."),
    ]
    return afficher("\n\n".join(b for b in blocs if b) + "\n")

