"""The thématique's roadmap as followed in year N: status of every action, a chart, points of attention."""

from __future__ import annotations

import pandas as pd
from matplotlib.figure import Figure

from pipeline.report import fmt, memo, textes
from pipeline.report.contexte import Contexte
from pipeline.report.graphiques import OKABE_ITO, axe_nombres, couper, nouvelle_figure, style
from pipeline.report.sortie import SOURCE_REFERENTIEL, afficher, figure, tableau, texte, tracer

# "Points d'attention" rule: reported or abandoned actions, and, in the last ANNEES_ALERTE years of the
# convention, actions still to start or in progress with less than SEUIL_AVANCEMENT % done.
ANNEES_ALERTE = 2
SEUIL_AVANCEMENT = 50
COULEURS = {"realisee": OKABE_ITO["vert"], "en_cours": OKABE_ITO["bleu_ciel"], "a_engager": OKABE_ITO["jaune"],
            "reportee": OKABE_ITO["orange"], "abandonnee": OKABE_ITO["vermillon"], "": OKABE_ITO["gris"]}


def feuille_de_route(ctx: Contexte) -> str:
    """Summary, status chart, one table per axis and the points of attention; displayed and returned."""
    actions = suivi(ctx)
    if actions.empty:
        return afficher(textes.AUCUNE_ACTION.format(annee=ctx.annee) + "\n")
    blocs = [resume(ctx, actions), graphique(ctx, actions)]
    for (numero, libelle), groupe in actions.groupby(["axe_numero", "axe_libelle"], sort=True):
        blocs += [f"### Axe {numero} : {texte(libelle)}\n", tableau_axe(ctx, numero, groupe)]
    blocs.append(points_attention(ctx, actions))
    return afficher("\n".join(blocs))


def suivi(ctx: Contexte) -> pd.DataFrame:
    """Actions of the year with a clean status code ('' when not followed)."""
    actions = ctx.actions_du_theme().copy()
    actions["statut"] = actions["statut"].fillna("").astype(str)
    return actions


def libelle_statut(ctx: Contexte, code: str) -> str:
    return ctx.statuts.get(code, code)


def ordre(ctx: Contexte, codes) -> list[str]:
    """Status codes in display order (vocabulary order, then any unknown code)."""
    codes = list(codes)
    return [c for c in ctx.statuts if c in codes] + [c for c in codes if c not in ctx.statuts]


def dans_phrase(code: str, n: int) -> str:
    singulier, pluriel = textes.STATUTS_DANS_PHRASE.get(code, (code, code))
    return fmt.compte(n, singulier, pluriel)


def resume(ctx: Contexte, actions: pd.DataFrame) -> str:
    """'En 2024, 20 actions sont suivies : 8 réalisées, 6 en cours, …'."""
    comptes = actions["statut"].value_counts()
    details = [dans_phrase(code, int(comptes[code])) for code in ordre(ctx, comptes.index)]
    return f"En {ctx.annee}, {fmt.compte(len(actions), 'action est suivie', 'actions sont suivies')} : " \
           f"{', '.join(details)}.\n"


def graphique(ctx: Contexte, actions: pd.DataFrame) -> str:
    """Stacked horizontal bars: number of actions per status for each axis."""
    comptes = pd.crosstab([actions["axe_numero"], actions["axe_libelle"]], actions["statut"])
    codes = ordre(ctx, comptes.columns)
    note = source_suivi(ctx, actions)
    etiquettes = [couper(f"Axe {n} : {lib}", 45) for n, lib in comptes.index]
    series = [(libelle_statut(ctx, code), COULEURS.get(code, OKABE_ITO["pourpre"]), [int(v) for v in comptes[code]])
              for code in codes]
    image = memo.dessin(ctx.figures, _dessin, etiquettes, series, f"Statut des actions par axe, {ctx.annee}", note)
    alt = "Barres empilées du nombre d'actions par statut pour chaque axe. " + " ".join(
        f"Axe {n} : " + ", ".join(dans_phrase(c, int(comptes.loc[(n, lib), c])) for c in codes
                                  if comptes.loc[(n, lib), c]) + "."
        for n, lib in comptes.index)
    return figure(image, tracer(f"Statut des actions de la feuille de route par axe, {ctx.annee}.",
                                sources_suivi(ctx), actions, phrase=note), alt)


def _dessin(etiquettes: list[str], series: list[tuple[str, str, list[int]]], titre: str, note: str) -> Figure:
    """The bars of `graphique`: one bar per axis (`etiquettes`), one segment per status (label, colour, counts)."""
    with style():
        fig, axe = nouvelle_figure(1.0 + 0.7 * len(etiquettes), note)
        gauche = [0] * len(etiquettes)
        for libelle, couleur, valeurs in series:
            barres = axe.barh(etiquettes, valeurs, left=gauche, color=couleur, label=libelle, edgecolor="white")
            axe.bar_label(barres, labels=[str(v) if v else "" for v in valeurs], label_type="center", fontsize=8)
            gauche = [g + v for g, v in zip(gauche, valeurs)]
        axe.invert_yaxis()
        axe.set_xlabel("Nombre d'actions")
        axe_nombres(axe.xaxis, 0)
        axe.set_title(titre)
        axe.legend(loc="upper center", bbox_to_anchor=(0.5, -0.12 - 0.25 / len(etiquettes)), ncol=len(series),
                   fontsize=8)
    return fig


def sources_suivi(ctx: Contexte) -> list[tuple[str, int | None]]:
    """The datasets behind the roadmap's figures: the year's follow-up sheet and the referential."""
    return [("Suivi local - actions", ctx.annee), (SOURCE_REFERENTIEL, None)]


def source_suivi(ctx: Contexte, actions: pd.DataFrame) -> str:
    dates = pd.to_datetime(actions["date_suivi"], errors="coerce").dropna()
    quand = f", suivi au {fmt.date_longue(dates.max().date())}" if len(dates) else ""
    return f"Source : feuille de suivi des actions {ctx.annee}{quand} ; référentiel de la convention."


def numero_court(action_id: str) -> str:
    """'petite_enfance.1.03' -> '1.03' (the thématique is the report's)."""
    return action_id.split(".", 1)[-1]


def tableau_axe(ctx: Contexte, numero: int, groupe: pd.DataFrame) -> str:
    lignes, precedent = [], None
    for a in groupe.itertuples():
        objectif = "" if a.objectif_id == precedent else texte(a.objectif_libelle)
        precedent = a.objectif_id
        avancement = "—" if pd.isna(a.avancement) else fmt.pourcentage(a.avancement, 0)
        commentaire = "" if pd.isna(a.commentaire) else texte(a.commentaire)
        lignes.append([objectif, f"{numero_court(a.action_id)} {texte(a.libelle)}", libelle_statut(ctx, a.statut),
                       avancement, commentaire])
    legende = tracer(f"Suivi des actions de l'axe {numero}, {ctx.annee}.", sources_suivi(ctx), groupe,
                     phrase=source_suivi(ctx, groupe))
    return tableau(["Objectif", "Action", "Statut", "Avancement", "Commentaire"], lignes, legende,
                   ["left", "left", "left", "right", "left"])


def en_retard(ctx: Contexte, actions: pd.DataFrame) -> pd.DataFrame:
    """Actions abandoned or reported, or late in the last years of the convention (rule at the top)."""
    fin_proche = ctx.annee > ctx.annee_fin - ANNEES_ALERTE
    lent = actions["statut"].isin(["a_engager", "en_cours"]) & (actions["avancement"].fillna(0) < SEUIL_AVANCEMENT)
    return actions[actions["statut"].isin(["reportee", "abandonnee"]) | (lent & fin_proche)]


def points_attention(ctx: Contexte, actions: pd.DataFrame) -> str:
    regle = textes.REGLE_RETARD.format(annee_alerte=ctx.annee_fin - ANNEES_ALERTE + 1, n=ANNEES_ALERTE,
                                       seuil=SEUIL_AVANCEMENT)
    retard = en_retard(ctx, actions)
    lignes = [f"- **{numero_court(a.action_id)}** {texte(a.libelle)} — {libelle_statut(ctx, a.statut).lower()}"
              + ("" if pd.isna(a.avancement) else f", avancement {fmt.pourcentage(a.avancement, 0)}")
              for a in retard.itertuples()]
    corps = "\n".join(lignes) if lignes else textes.AUCUN_POINT
    return f"### Points d'attention\n\n{regle}\n\n{corps}\n"
