"""The logic model of each thématique: moyens → réalisations → résultats → impact, every link an indicator of the
catalogue (field `modele_logique`), shown as a four-box diagram and as a table of evidence."""

from __future__ import annotations

import textwrap
from dataclasses import dataclass

from matplotlib.patches import FancyBboxPatch

from pipeline.impact import textes
from pipeline.impact.donnees import Donnees
from pipeline.impact.equite import POPULATION, cellule_ecart, lecture, series
from pipeline.impact.valeurs import valeur
from pipeline.report import memo
from pipeline.report.graphiques import OKABE_ITO, nouvelle_figure, style
from pipeline.report.sortie import afficher, figure, lignes_indicateurs, provenance, tableau, texte, tracer
from pipeline.report.tendance import tendance

NIVEAUX = tuple(textes.NIVEAUX)
COULEURS = {"moyens": OKABE_ITO["bleu"], "realisations": OKABE_ITO["vert"], "resultats": OKABE_ITO["orange"],
            "impact": OKABE_ITO["pourpre"]}
LARGEUR_TEXTE = 23  # characters per line inside a box
TAILLE = 7.5  # font size inside the boxes (points)


@dataclass(frozen=True)
class Maillon:
    """One link of the logic model: a catalogue indicator at one level, with what the data says about it."""

    niveau: str
    indicateur: str  # catalogue id
    libelle: str
    constat: str  # latest value with its year, or the territorial gap for the impact level
    evolution: str  # since the baseline year ('' when it cannot be told)
    sources: tuple[tuple[str, int | None], ...] = ()


def maillon(d: Donnees, indicateur: str, niveau: str) -> Maillon:
    ctx = d.ctx
    info = ctx.info(indicateur)
    toutes = series(d, indicateur) if niveau == "impact" else []
    if toutes or (niveau == "impact" and ctx.derniere(indicateur, avant=d.annee + 1) is None):
        # an equity gap computed on the indicator; without gap nor value, say it cannot be computed. An `impact`
        # indicator published for the territory only (e.g. the share of QPV covered) is its own measure (below).
        constat = " ; ".join(f"{cellule_ecart(ctx, s[-1])} ({s[-1].annee})" for s in toutes)
        evolution = " ".join(filter(None, (lecture(ctx, s) for s in toutes)))
        return Maillon(niveau, indicateur, info["libelle"], constat or textes.IMPACT_NON_CALCULABLE, evolution,
                       tuple((m.source, m.millesime) for m in ctx.mesures(indicateur)))
    derniere = ctx.derniere(indicateur, avant=d.annee + 1)
    if derniere is None:
        return Maillon(niveau, indicateur, info["libelle"], textes.SANS_VALEUR, "")
    constat = f"{valeur(d, indicateur, derniere)} ({derniere.annee})"
    evolution = tendance(ctx, indicateur, ctx.mesure(indicateur, d.debut), derniere) or ""
    if evolution:
        evolution += f" depuis {d.debut}"
    return Maillon(niveau, indicateur, info["libelle"], constat, evolution, ((derniere.source, derniere.millesime),))


def modele_logique(d: Donnees, thematique: str) -> list[Maillon]:
    """Every link of one thématique's logic model, level by level (catalogue order within a level)."""
    ids = d.indicateurs(thematique)
    return [maillon(d, i, niveau) for niveau in NIVEAUX for i in ids if niveau in d.niveaux_modele(i)]


def priorite(d: Donnees, m: Maillon) -> tuple:
    """Order inside a box of the diagram: main indicators, then those with a target, then those with a value."""
    info = d.ctx.info(m.indicateur)
    return (not info["principal"], not info["cible"], m.constat in (textes.SANS_VALEUR, textes.IMPACT_NON_CALCULABLE))


def _lignes(s: str) -> list[str]:
    return textwrap.wrap(s, LARGEUR_TEXTE) or [""]


def schema(d: Donnees, thematique: str, maillons: list[Maillon]) -> str:
    """Four boxes joined by arrows, with the main indicators of each level and their latest values."""
    k = int(d.reglage("impact", "cases_par_niveau"))
    cases = {n: sorted([m for m in maillons if m.niveau == n], key=lambda m: priorite(d, m)) for n in NIVEAUX}
    contenu = {n: [(_lignes(m.libelle), _lignes(m.constat)) for m in ms[:k]] for n, ms in cases.items()}
    reste = {n: len(ms) - k for n, ms in cases.items()}
    hauteur_lignes = max(sum(len(a) + len(b) + 0.6 for a, b in c) + (1 if reste[n] > 0 else 0)
                         for n, c in contenu.items())
    pas = TAILLE * 1.3 / 72  # one text line, in inches
    hauteur = 0.9 + pas * (hauteur_lignes + 2.5)
    note = provenance([s for m in maillons for s in m.sources], markdown=False)
    # the drawing depends on these only: kept by them, it is not drawn again when another thématique changed
    image = memo.dessin(d.figures, _dessin, contenu, reste, hauteur, pas, note)
    boites = [f"{textes.NIVEAUX[n]} : " + ("; ".join(f"{m.libelle}, {m.constat}" for m in cases[n]) or textes.CASE_VIDE)
              + "." for n in NIVEAUX]  # every indicator of each box with its finding, not only those drawn
    alt = f"Schéma du modèle logique, {d.libelle(thematique)}, en quatre cases reliées par des flèches. " + " ".join(boites)
    legende = tracer(f"Modèle logique — {texte(d.libelle(thematique))}.", [s for m in maillons for s in m.sources],
                     *lignes_modele(d, maillons))
    return figure(image, legende, alt)


def _dessin(contenu: dict, reste: dict, hauteur: float, pas: float, note: str):
    """The four boxes of `schema` as a matplotlib figure."""
    with style():
        fig, axe = nouvelle_figure(hauteur, note)
        axe.set_axis_off()
        axe.set_xlim(0, 4)
        axe.set_ylim(0, 1)
        ligne = pas / (hauteur - 0.9)  # one line in axes units (approximately the axes' height)
        for i, n in enumerate(NIVEAUX):
            x0 = i + 0.04
            axe.add_patch(FancyBboxPatch((x0, 0.02), 0.76, 0.96, boxstyle="round,pad=0.01,rounding_size=0.04",
                                         facecolor=COULEURS[n] + "22", edgecolor=COULEURS[n], linewidth=1.4))
            axe.text(x0 + 0.38, 0.97, textes.NIVEAUX[n], ha="center", va="top", fontsize=9.5, fontweight="bold",
                     color="#222222")
            y = 0.97 - 1.8 * ligne
            for libelle, constat in contenu[n] or [([textes.CASE_VIDE], [])]:
                axe.text(x0 + 0.04, y, "\n".join(libelle), ha="left", va="top", fontsize=TAILLE, color="#222222")
                y -= len(libelle) * ligne
                if constat:
                    axe.text(x0 + 0.04, y, "\n".join(constat), ha="left", va="top", fontsize=TAILLE,
                             fontweight="bold", color="#111111")
                    y -= (len(constat) + 0.6) * ligne
            if reste[n] > 0:
                axe.text(x0 + 0.04, y, f"+ {reste[n]} dans le tableau", ha="left", va="top", fontsize=TAILLE,
                         style="italic", color="#444444")
            if i < len(NIVEAUX) - 1:
                axe.annotate("", xy=(i + 1.03, 0.5), xytext=(i + 0.81, 0.5),
                             arrowprops={"arrowstyle": "-|>", "color": "#444444", "linewidth": 1.6})
    return fig


def lignes_modele(d: Donnees, maillons: list[Maillon]) -> list:
    """The rows the links read: their indicators at every level used (gaps: QPV and communes, with the communes'
    population), up to the report year."""
    impact = any(m.niveau == "impact" for m in maillons)
    return [*lignes_indicateurs(d.ctx, [m.indicateur for m in maillons], ("epci", "qpv", "commune")),
            *(lignes_indicateurs(d.ctx, [POPULATION], ("commune",)) if impact else [])]


def tableau_modele(d: Donnees, thematique: str, maillons: list[Maillon]) -> str:
    lignes = [[textes.NIVEAUX[m.niveau], texte(m.libelle), texte(m.constat), texte(m.evolution) or "—",
               texte(m.indicateur).replace("\\_", "\\_\u200b")] for m in maillons]  # ids may break after _
    legende = tracer(f"Indicateurs du modèle logique — {texte(d.libelle(thematique))} (dernière valeur publiée "
                     f"jusqu'en {d.annee} ; impact : écarts territoriaux).", [s for m in maillons for s in m.sources],
                     *lignes_modele(d, maillons)) + " Réf. : identifiant du catalogue des indicateurs."
    return tableau(["Niveau", "Indicateur", "Constat", "Évolution", "Réf."], lignes, legende, ["left"] * 5)


def modeles_logiques(d: Donnees) -> str:
    """Each thématique's logic model (diagram, then table); displayed as Markdown and returned."""
    blocs = ["Niveaux : " + " ; ".join(f"**{textes.NIVEAUX[n].lower()}** ({textes.DEFINITIONS_NIVEAUX[n]})"
                                        for n in NIVEAUX) + "."]
    for th in d.thematiques:
        maillons = modele_logique(d, th)
        blocs.append(f"### {texte(d.libelle(th))}")
        blocs += [schema(d, th, maillons), tableau_modele(d, th, maillons)] if maillons else [textes.MODELE_VIDE]
    return afficher("\n\n".join(blocs) + "\n")
