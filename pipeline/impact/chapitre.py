"""Opening and closing texts of the social-impact chapter and of the final evaluation."""

from __future__ import annotations

from pipeline.impact import textes
from pipeline.impact.cibles_tableau import jugements, resume as resume_cibles
from pipeline.impact.donnees import Donnees
from pipeline.impact.feuilles import resume as resume_feuilles, suivi
from pipeline.impact.valeurs import montant
from pipeline.report import fmt
from pipeline.report.intro import bandeau
from pipeline.report.sortie import afficher, texte


def introduction(d: Donnees) -> str:
    """Banner (illustrative data) and the chapter's purpose in the convention's own words."""
    bandeau(d.ctx)
    intention = d.intention or textes.INTENTION_PAR_DEFAUT
    intention = intention[0].lower() + intention[1:]
    return afficher(textes.INTRO_IMPACT.format(intention=texte(intention)) + "\n")


def limites(d: Donnees) -> str:
    """What the data cannot show, said plainly."""
    decalage = int(d.ctx.catalogue["decalage"].fillna(0).max() or 0)
    return afficher("\n".join(f"- {t.format(annee_visible=d.fin + decalage)}" for t in textes.LIMITES) + "\n")


def introduction_bilan(d: Donnees) -> str:
    """Banner, scope and method of the final evaluation."""
    bandeau(d.ctx)
    ctx = d.ctx
    texte_intro = (
        f"Ce bilan final évalue la {texte(ctx.libelle_convention)} {d.debut}-{d.fin} signée entre "
        f"{texte(ctx.libelle_caf)} et {texte(ctx.libelle_territoire)}, avec les données disponibles jusqu'en "
        f"{d.annee}. Il répond aux quatre questions évaluatives des CTG (pertinence, efficacité, adéquation des "
        f"moyens, durabilité), dit pour chaque cible chiffrée si elle est atteinte, retrace la réalisation des "
        f"feuilles de route et l'investissement social consenti, puis tire des enseignements pour la prochaine "
        f"convention. Chaque chiffre vient du catalogue des indicateurs ou des feuilles de suivi ; ce que les "
        f"données ne permettent pas de dire est signalé."
    )
    return afficher(texte_intro + "\n")


def synthese_bilan(d: Donnees) -> str:
    """The final evaluation in a few figures: targets, roadmaps, money."""
    points = []
    resultats = jugements(d)
    if resultats:
        points.append(f"**Cibles** — {resume_cibles(resultats)}")
    actions = suivi(d)
    actions = actions[actions["thematique"].isin(d.thematiques)]
    if not actions.empty:
        points.append(f"**Feuilles de route** — {resume_feuilles(d, actions)}")
    total = [d.ctx.mesure("financement_total", a) for a in range(d.debut, d.annee + 1)]
    total = [m for m in total if m is not None and m.valeur is not None]
    if total:
        somme = sum(m.valeur for m in total)
        caf = [d.ctx.mesure("financement_caf_total", m.annee) for m in total]
        part = sum(m.valeur for m in caf if m and m.valeur) / somme * 100 if somme else None
        points.append(f"**Investissement social** — {montant(somme)} engagés par l'ensemble des partenaires de "
                      f"{total[0].annee} à {total[-1].annee} (euros courants)"
                      + (f", dont {fmt.pourcentage(part, 0)} par la Caf" if part is not None else "") + ".")
    return afficher("\n".join(f"- {p}" for p in points) + "\n") if points else afficher("\n")

