"""Opening of a thematic report: the illustrative-data banner and the introduction from the referential."""

from __future__ import annotations

from pipeline.report import fmt, textes
from pipeline.report.contexte import Contexte
from pipeline.report.sortie import afficher, texte


def bandeau(ctx: Contexte) -> str:
    """The 'Données d'illustration' banner (a fenced div the renderer can style) when the data is illustrative;
    nothing is displayed otherwise."""
    if not ctx.illustratif:
        return ""
    return afficher(f"::: {{.bandeau-illustration}}\n{textes.BANDEAU}\n:::\n")


def introduction(ctx: Contexte) -> str:
    """Scope of the report (with the thématique's label), the Caf's priorities and the roadmap's axes.

    No heading: the rendered document (and each chapter of the annual report) is already titled with the
    thématique's label, so the body starts with this paragraph and the notebook's section headings.
    """
    blocs = [f"Bilan {ctx.annee} de la thématique « {texte(ctx.libelle_thematique)} » de la "
             f"{texte(ctx.libelle_convention)} {ctx.annee_debut}-{ctx.annee_fin} "
             f"({texte(ctx.libelle_caf)} – {texte(ctx.libelle_territoire)})."]
    if ctx.priorites:
        blocs.append("Priorités institutionnelles de la Caf pour cette thématique :\n\n"
                     + "\n".join(f"- {texte(p)}" for p in ctx.priorites))
    plan = ctx.plan
    if not plan.empty:
        axes = plan.groupby(["axe_numero", "axe_libelle"], sort=True).agg(
            objectifs=("objectif_id", "nunique"), actions=("action_id", "nunique"))
        blocs.append("La feuille de route de la thématique compte "
                     f"{fmt.compte(len(axes), 'axe', 'axes')} :\n\n"
                     + "\n".join(f"{n}. {texte(lib)} ({fmt.compte(o, 'objectif', 'objectifs')}, "
                                 f"{fmt.compte(a, 'action', 'actions')})"
                                 for (n, lib), (o, a) in zip(axes.index, axes.to_numpy().tolist())))
    return afficher("\n\n".join(blocs) + "\n")
