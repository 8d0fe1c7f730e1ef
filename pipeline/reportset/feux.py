"""Traffic lights of the key indicators (COPIL page and synthesis), by rules declared in params.yaml `copil.feu`.

For one indicator of a thématique, at the territory level, in report year N:

1. No published value (or only a secret one) → « Pas de donnée ».
2. The convention sets a target on the whole territory (targets of a narrower scope, e.g. one crèche, are shown
   but not used here):
   - target reached → « En bonne voie »;
   - deadline passed without reaching it → « Hors trajectoire »;
   - a level reached at the reference year and lost since (a target « to keep ») → « À surveiller »;
   - otherwise, progress made since the reference value / progress expected by now on a straight line from the
     reference year to the deadline: ≥ `en_bonne_voie` → « En bonne voie », ≥ `a_surveiller` → « À surveiller »,
     below → « Hors trajectoire ».
3. No usable target, but an expected direction (catalogue `sens`: hausse or baisse), judged between the last two
   published values: favourable → « En bonne voie »; stable (equal at the printed precision) or unfavourable by
   less than `recul_pourcentage` % (`recul_points` points for a rate) → « À surveiller »; a larger unfavourable
   change → « Hors trajectoire ». A single published value → « Pas de donnée » (no trend can be told).
4. No target and no expected direction (context indicator) → « Non évalué ».

Each light is shown with a symbol AND a word (never colour alone).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from pipeline.report import fmt
from pipeline.report.chiffres import perimetre_particulier
from pipeline.report.contexte import Contexte, Mesure
from pipeline.report.tendance import comparables, sens_variation


class Feu(StrEnum):
    EN_BONNE_VOIE = "en_bonne_voie"
    A_SURVEILLER = "a_surveiller"
    HORS_TRAJECTOIRE = "hors_trajectoire"
    SANS_DONNEE = "sans_donnee"
    NON_EVALUE = "non_evalue"


MOTS = {Feu.EN_BONNE_VOIE: "En bonne voie", Feu.A_SURVEILLER: "À surveiller",
        Feu.HORS_TRAJECTOIRE: "Hors trajectoire", Feu.SANS_DONNEE: "Pas de donnée", Feu.NON_EVALUE: "Non évalué"}
SYMBOLES = {Feu.EN_BONNE_VOIE: "✓", Feu.A_SURVEILLER: "▲", Feu.HORS_TRAJECTOIRE: "✗", Feu.SANS_DONNEE: "?",
            Feu.NON_EVALUE: "–"}
# Dark tones: each keeps a contrast of at least 4.5:1 on white and on the tables' light grey rows.
COULEURS = {Feu.EN_BONNE_VOIE: "#1a6b32", Feu.A_SURVEILLER: "#8a4f00", Feu.HORS_TRAJECTOIRE: "#a4201b",
            Feu.SANS_DONNEE: "#4d4d4d", Feu.NON_EVALUE: "#4d4d4d"}


@dataclass(frozen=True)
class Regles:
    """Thresholds of the lights (params.yaml `copil.feu`)."""

    en_bonne_voie: float = 0.9
    a_surveiller: float = 0.5
    recul_pourcentage: float = 5.0
    recul_points: float = 2.0

    @classmethod
    def depuis(cls, params: dict) -> Regles:
        feu = (params.get("copil") or {}).get("feu") or {}
        return cls(**{k: float(v) for k, v in feu.items() if k in cls.__dataclass_fields__})


@dataclass(frozen=True)
class Evaluation:
    """The light of one indicator and what it rests on."""

    indicateur: str
    feu: Feu
    motif: str  # French, one short clause: why this light
    derniere: Mesure | None
    precedente: Mesure | None
    regle: str = ""  # "cible" (rule 2) or "tendance" (rule 3); empty otherwise
    cas: str = ""  # rule 2: "atteinte", "echeance" (passed), "perdue" (reached then lost) or "trajectoire"
    cible: object | None = None  # the target row (cibles_frame) on the whole territory, if any
    progression: float | None = None  # progress made / progress expected by now (rule 2)
    ecart: float = 0.0  # how far from « en bonne voie », about 0 to 1: orders the alerts

    @property
    def mot(self) -> str:
        return MOTS[self.feu]

    @property
    def symbole(self) -> str:
        return SYMBOLES[self.feu]


def cible_territoire(ctx: Contexte, indicateur: str, annee: int) -> object | None:
    """The target on the whole territory to judge against: the first deadline not passed at `annee`, otherwise the
    last one; None when the convention sets none on the whole territory."""
    cibles = [c for c in ctx.cibles_de(indicateur).itertuples() if not perimetre_particulier(ctx, c)]
    a_venir = [c for c in cibles if c.annee >= annee]
    return (a_venir or cibles[-1:] or [None])[0]


def reference(ctx: Contexte, indicateur: str, avant: int) -> Mesure | None:
    """The starting point of a trajectory: the last non-secret value up to the baseline year, otherwise the first
    one after it (strictly before `avant`)."""
    valeurs = [m for m in ctx.mesures(indicateur) if m.valeur is not None and m.annee < avant]
    debut = [m for m in valeurs if m.annee <= ctx.annee_debut]
    return debut[-1] if debut else (valeurs[0] if valeurs else None)


def atteinte(valeur: float, cible) -> bool:
    return valeur >= cible.valeur if cible.comparaison == ">=" else valeur <= cible.valeur


def evaluer(ctx: Contexte, indicateur: str, regles: Regles = Regles()) -> Evaluation:
    """The light of one indicator for the territory in the report year (rules in the module docstring)."""
    derniere = ctx.derniere(indicateur)
    precedente = ctx.derniere(indicateur, avant=derniere.annee) if derniere else None
    base = {"indicateur": indicateur, "derniere": derniere, "precedente": precedente}
    if derniere is None:
        return Evaluation(feu=Feu.SANS_DONNEE, motif="aucune valeur publiée", **base)
    if derniere.valeur is None:
        return Evaluation(feu=Feu.SANS_DONNEE, motif="valeur soumise au secret statistique", **base)
    cible = cible_territoire(ctx, indicateur, derniere.annee)
    if cible is not None and (jugement := par_cible(ctx, indicateur, derniere, cible, regles)) is not None:
        return Evaluation(regle="cible", cible=cible, **jugement, **base)
    sens = ctx.info(indicateur)["sens"]
    if sens not in ("hausse", "baisse"):
        return Evaluation(feu=Feu.NON_EVALUE, motif="indicateur de contexte, sans cible ni sens attendu",
                          cible=cible, **base)
    if not comparables(precedente, derniere):
        return Evaluation(feu=Feu.SANS_DONNEE, motif="une seule valeur publiée : pas d'évolution mesurable",
                          cible=cible, **base)
    return Evaluation(regle="tendance", cible=cible, **par_tendance(ctx, indicateur, precedente, derniere, sens,
                                                                    regles), **base)


def par_cible(ctx: Contexte, indicateur: str, derniere: Mesure, cible, regles: Regles) -> dict | None:
    """Light, reason, progress ratio and gap against a target; None when no trajectory can be drawn."""
    d = ctx.decimales(indicateur)
    objectif = f"cible {'≥' if cible.comparaison == '>=' else '≤'} {fmt.nombre(cible.valeur, d)} en {cible.annee}"
    if atteinte(derniere.valeur, cible):
        return {"feu": Feu.EN_BONNE_VOIE, "motif": f"{objectif} atteinte", "cas": "atteinte"}
    if derniere.annee >= cible.annee:
        return {"feu": Feu.HORS_TRAJECTOIRE, "motif": f"{objectif} non atteinte à l'échéance", "ecart": 1.0,
                "cas": "echeance"}
    depart = reference(ctx, indicateur, derniere.annee)
    if depart is None or depart.annee >= cible.annee:
        return None
    if atteinte(depart.valeur, cible):  # a level to keep, reached at the start and lost since
        return {"feu": Feu.A_SURVEILLER, "motif": f"{objectif} atteinte en {depart.annee}, plus en {derniere.annee}",
                "ecart": 0.5, "cas": "perdue"}
    attendu = (derniere.annee - depart.annee) / (cible.annee - depart.annee)
    chemin = cible.valeur - depart.valeur
    ratio = (derniere.valeur - depart.valeur) / chemin / attendu
    motif = (f"{fmt.pourcentage(max(ratio, 0) * 100, 0)} de la progression attendue depuis {depart.annee} "
             f"vers la {objectif}")
    feu = (Feu.EN_BONNE_VOIE if ratio >= regles.en_bonne_voie
           else Feu.A_SURVEILLER if ratio >= regles.a_surveiller else Feu.HORS_TRAJECTOIRE)
    ecart = 0.0 if feu is Feu.EN_BONNE_VOIE else min(1.0, 1 - max(ratio, 0.0))
    return {"feu": feu, "motif": motif, "progression": ratio, "ecart": ecart, "cas": "trajectoire"}


def par_tendance(ctx: Contexte, indicateur: str, m0: Mesure, m1: Mesure, sens: str, regles: Regles) -> dict:
    """Light, reason and gap from the direction of the last change."""
    signe = sens_variation(ctx, indicateur, m0, m1)
    if signe == 0:
        return {"feu": Feu.A_SURVEILLER, "motif": f"stable depuis {m0.annee}"}
    if (signe > 0) == (sens == "hausse"):
        return {"feu": Feu.EN_BONNE_VOIE, "motif": f"évolution favorable depuis {m0.annee}"}
    if fmt.est_taux(ctx.info(indicateur)["unite"]):
        recul, seuil = abs(m1.valeur - m0.valeur), regles.recul_points
        taille = fmt.evolution_points(m1.valeur - m0.valeur, ctx.decimales(indicateur))
    elif m0.valeur:
        recul, seuil = abs(m1.valeur - m0.valeur) / abs(m0.valeur) * 100, regles.recul_pourcentage
        taille = fmt.evolution_pct((m1.valeur - m0.valeur) / abs(m0.valeur) * 100)
    else:
        recul, seuil, taille = float("inf"), regles.recul_pourcentage, "en recul"
    return {"feu": Feu.HORS_TRAJECTOIRE if recul >= seuil else Feu.A_SURVEILLER,
            "motif": f"évolution défavorable depuis {m0.annee} ({taille})", "ecart": min(1.0, recul / (2 * seuil))}


def indicateurs_cles(ctx: Contexte, minimum: int = 2, maximum: int = 3) -> list[str]:
    """The thématique's key indicators: the catalogue's `principal` ones, then those the convention sets a target
    on (with a value), up to `maximum`; completed up to `minimum` with indicators that have an expected direction
    and a value (catalogue order)."""
    ids = ctx.indicateurs_du_theme()
    publie = {i for i in ids if ctx.derniere(i) is not None}
    choix = [i for i in ids if ctx.info(i)["principal"]]
    choix += [i for i in ids if i not in choix and i in publie and not ctx.cibles_de(i).empty]
    choix = choix[:maximum]
    complements = [i for i in ids if i not in choix and i in publie and ctx.info(i)["sens"] in ("hausse", "baisse")]
    return choix + complements[:max(minimum - len(choix), 0)]


def evaluations(ctx: Contexte, regles: Regles, minimum: int = 2, maximum: int = 3) -> list[Evaluation]:
    return [evaluer(ctx, i, regles) for i in indicateurs_cles(ctx, minimum, maximum)]


def selection(params: dict) -> tuple[int, int]:
    """(minimum, maximum) key indicators per thématique (params.yaml `copil.indicateurs`)."""
    conf = (params.get("copil") or {}).get("indicateurs") or {}
    return int(conf.get("minimum", 2)), int(conf.get("maximum", 3))

