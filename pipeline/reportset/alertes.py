"""Alerts of the year and the questions they raise for the steering committee.

Alerts come only from the data, by these rules (most serious first):

- gravité 3 — a key indicator « hors trajectoire » (see feux.py); a thématique where at least `part_retard` % of the
  roadmap's actions are reported, abandoned or late (rule of the thematic reports' « Points d'attention »);
- gravité 2 — a key indicator « à surveiller » that moved away from its target or direction (a stable value is
  shown « à surveiller » on the COPIL page but raises no alert); a thématique with fewer late actions;
- gravité 1 — a key indicator without data; actions whose follow-up is not filled in.

Within a level, the larger gap comes first. Each alert carries a question for the committee: the report never
decides, it says what the data asks.
"""

from __future__ import annotations

from dataclasses import dataclass

from pipeline.report import fmt
from pipeline.report.contexte import Contexte
from pipeline.reportset.feux import Evaluation, Feu
from pipeline.reportset.suivi import Avancement

GRAVITES = {3: "Forte", 2: "Moyenne", 1: "Faible"}
# The question an indicator's alert asks, by case of its light (feux.Evaluation.cas; trend otherwise).
QUESTIONS = {
    "trajectoire": "les actions prévues suffisent-elles pour atteindre la cible de {annee}, ou faut-il les renforcer, "
                   "ou revoir la cible ?",
    "echeance": "faut-il poursuivre l'effort au-delà de l'échéance de {annee}, ou revoir la cible ?",
    "perdue": "qu'est-ce qui explique ce recul, et comment retrouver la cible d'ici {annee} ?",
    "tendance": "qu'est-ce qui explique ce recul, et faut-il agir ?",
}
PART_RETARD = 25  # % of a roadmap's actions late → gravité 3 (params.yaml copil.alertes.part_retard)


@dataclass(frozen=True)
class Alerte:
    gravite: int
    taille: float  # 0 to 1: orders alerts of the same gravity (larger first)
    thematique: str
    libelle_thematique: str
    constat: str  # what the data shows (French sentence)
    sujet: str  # what the question is about (an indicator, a roadmap)
    interrogation: str  # what the data asks the committee, starting with a lower-case letter

    @property
    def mot_gravite(self) -> str:
        return GRAVITES[self.gravite]

    @property
    def question(self) -> str:
        """'Feuille de route Jeunesse : faut-il relancer … ?'"""
        return f"{self.sujet} : {self.interrogation}"


def valeur(ctx: Contexte, e: Evaluation) -> str:
    m = e.derniere
    return fmt.avec_unite(m.valeur, ctx.info(e.indicateur)["unite"], ctx.decimales(e.indicateur))


def alerte_indicateur(ctx: Contexte, e: Evaluation) -> Alerte | None:
    libelle = ctx.info(e.indicateur)["libelle"]
    th = ctx.libelle_thematique
    if e.feu in (Feu.HORS_TRAJECTOIRE, Feu.A_SURVEILLER) and e.ecart > 0:
        gravite = 3 if e.feu is Feu.HORS_TRAJECTOIRE else 2
        constat = f"{libelle} : {valeur(ctx, e)} en {e.derniere.annee}, {e.motif}."
        question = QUESTIONS.get(e.cas, QUESTIONS["tendance"]).format(annee=e.cible.annee if e.cible else "")
        return Alerte(gravite, e.ecart, ctx.thematique, th, constat, libelle, question)
    if e.feu is Feu.SANS_DONNEE:
        constat = f"{libelle} : {e.motif}."
        question = "quelle source permettrait de suivre cet indicateur ?"
        return Alerte(1, 0.0, ctx.thematique, th, constat, libelle, question)
    return None


def alertes_feuille(ctx: Contexte, av: Avancement, part_retard: float = PART_RETARD) -> list[Alerte]:
    th, sortie = ctx.libelle_thematique, []
    if av.en_retard:
        part = 100 * av.en_retard / av.total
        exemples = ", ".join(av.exemples_retard[:4]) + (" …" if len(av.exemples_retard) > 4 else "")
        retard = fmt.compte(av.en_retard, "action reportée, abandonnée ou en retard",
                            "actions reportées, abandonnées ou en retard")
        constat = f"Feuille de route {th} : {retard} sur {fmt.nombre(av.total)} (n° {exemples})."
        question = ("faut-il relancer, redéfinir ou retirer "
                    f"{'cette action' if av.en_retard == 1 else f'ces {fmt.nombre(av.en_retard)} actions'} ?")
        sortie.append(Alerte(3 if part >= part_retard else 2, part / 100, ctx.thematique, th, constat,
                             f"Feuille de route {th}", question))
    manquantes = av.comptes.get("non_renseignees", 0)
    if manquantes:
        constat = (f"Feuille de route {th} : {fmt.compte(manquantes, 'action', 'actions')} sans suivi renseigné "
                   f"en {ctx.annee}.")
        question = "qui complète le suivi de ces actions avant le prochain comité ?"
        sortie.append(Alerte(1, manquantes / av.total, ctx.thematique, th, constat, f"Feuille de route {th}",
                             question))
    return sortie


def alertes(contextes: dict[str, Contexte], evaluations: dict[str, list[Evaluation]],
            avancements: dict[str, Avancement], part_retard: float = PART_RETARD) -> list[Alerte]:
    """Every alert of the year, most serious first (thématique order breaks ties)."""
    liste = []
    for rang, (th, ctx) in enumerate(contextes.items()):
        trouvees = [a for e in evaluations.get(th, []) if (a := alerte_indicateur(ctx, e))]
        if th in avancements:
            trouvees += alertes_feuille(ctx, avancements[th], part_retard)
        liste += [(a, rang) for a in trouvees]
    return [a for a, _ in sorted(liste, key=lambda x: (-x[0].gravite, -x[0].taille, x[1]))]
