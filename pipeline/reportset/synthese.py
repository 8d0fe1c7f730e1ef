"""The synthesis of the annual report: key figures with their light, roadmap progress, alerts and the questions
they raise for the committee. `tableau_de_bord()` computes what the synthesis and the COPIL page share.
"""

from __future__ import annotations

from dataclasses import dataclass

from pipeline.report import fmt
from pipeline.report.chiffres import cellule, cible, notes_du_tableau
from pipeline.report.sortie import SOURCE_REFERENTIEL, tableau, texte, tracer
from pipeline.report.sortie import lignes_indicateurs as lignes_lues
from pipeline.reportset.alertes import PART_RETARD, Alerte, alertes
from pipeline.reportset.donnees import Bilan
from pipeline.reportset.feux import COULEURS, MOTS, SYMBOLES, Evaluation, Feu, Regles, evaluations, selection
from pipeline.reportset.suivi import Avancement, avancement
from pipeline.reportset.titres import Chapitre


@dataclass
class TableauDeBord:
    bilan: Bilan
    evaluations: dict[str, list[Evaluation]]  # thématique → key indicators' lights (+ "transverse")
    avancements: dict[str, Avancement]
    alertes: list[Alerte]

    def compte_feux(self) -> dict[Feu, int]:
        tous = [e.feu for th, evs in self.evaluations.items() if th in self.bilan.contextes for e in evs]
        return {f: tous.count(f) for f in Feu}


def tableau_de_bord(bilan: Bilan) -> TableauDeBord:
    """The year's lights, roadmap progress and alerts (computed once per Bilan: the synthesis, the COPIL pages and
    the methodology's provenance list share it)."""
    return bilan.memo("tableau_de_bord", lambda: calculer_tableau_de_bord(bilan))


def calculer_tableau_de_bord(bilan: Bilan) -> TableauDeBord:
    regles, (minimum, maximum) = Regles.depuis(bilan.params), selection(bilan.params)
    evals = {th: evaluations(ctx, regles, minimum, maximum) for th, ctx in bilan.contextes.items()}
    evals["transverse"] = evaluations(bilan.transverse(), regles, 0, maximum)
    avs = {th: avancement(ctx) for th, ctx in bilan.contextes.items()}
    part = float(((bilan.params.get("copil") or {}).get("alertes") or {}).get("part_retard", PART_RETARD))
    return TableauDeBord(bilan, evals, avs, alertes(bilan.contextes, evals, avs, part))


# Markdown pieces shared with the COPIL page ---------------------------------------------------------------------
def feu_md(feu: Feu) -> str:
    """Symbol and word of a light, in its colour (raw HTML and raw Typst: each output keeps its own)."""
    couleur, mot, symbole = COULEURS[feu], MOTS[feu], SYMBOLES[feu]
    html = (f'<span style="color:{couleur};font-weight:700;white-space:nowrap">'
            f'<span aria-hidden="true">{symbole}</span> {mot}</span>')
    typst = f'#text(fill: rgb("{couleur}"), weight: "bold")[{symbole} {mot}]'
    return f"`{html}`{{=html}}`{typst}`{{=typst}}"


def legende_feux() -> str:
    return "Feux : " + " · ".join(f"{SYMBOLES[f]} {MOTS[f]}" for f in Feu) + "."


def libelle_court(ctx, indicateur: str) -> str:
    """The label, with its unit when the unit is short ('Places (places)' is avoided)."""
    info = ctx.info(indicateur)
    unite = info["unite"]
    ajout = f" ({unite})" if unite and len(unite) <= 12 and unite.lower() not in info["libelle"].lower() else ""
    return texte(info["libelle"] + ajout)


def lignes_indicateurs(tdb: TableauDeBord, thematiques: list[str], derniere_colonne) -> list[list[str]]:
    """Rows: thématique (first row only), indicator, N-1, N, target, light, then `derniere_colonne(th, e, rang)`."""
    n, lignes = tdb.bilan.annee, []
    for th in thematiques:
        ctx = contexte_de(tdb, th)
        evs = tdb.evaluations.get(th, [])
        for rang, e in enumerate(evs):
            lignes.append([f"**{texte(tdb.bilan.libelle(th))}**" if rang == 0 else "", libelle_court(ctx, e.indicateur),
                           cellule(ctx, e.indicateur, e.precedente, n - 1),
                           cellule(ctx, e.indicateur, e.derniere, n), cible(ctx, e.indicateur),
                           feu_md(e.feu), derniere_colonne(th, e, rang)])
    return lignes


def contexte_de(tdb: TableauDeBord, th: str):
    return tdb.bilan.contextes.get(th) or tdb.bilan.transverse()


def trace_indicateurs(tdb: TableauDeBord, thematiques: list[str]) -> tuple[list, list]:
    """(sources, data rows) behind the key indicators' rows: their values up to the report year and the targets."""
    sources, lues = [], []
    for th in thematiques:
        ctx, evs = contexte_de(tdb, th), tdb.evaluations.get(th, [])
        ids = [e.indicateur for e in evs]
        sources += [(m.source, m.millesime) for e in evs for m in (e.precedente, e.derniere) if m is not None]
        cibles = [ctx.cibles_de(i) for i in ids]
        sources += [(SOURCE_REFERENTIEL, None)] if any(len(c) for c in cibles) else []
        lues += [*lignes_lues(ctx, ids), *cibles]
    return sources, lues


def trace_feuilles(tdb: TableauDeBord, thematiques: list[str]) -> tuple[list, list]:
    """(sources, data rows) behind the roadmaps' progress: the actions of each thématique in the report year."""
    return ([("Suivi local - actions", tdb.bilan.annee), (SOURCE_REFERENTIEL, None)],
            [tdb.bilan.contextes[th].actions_du_theme() for th in thematiques if th in tdb.bilan.contextes])


def texte_avancement(av: Avancement | None) -> str:
    """'36 % réalisées · 45 % en cours · 18 % non engagées (22 actions)'."""
    if av is None or not av.total:
        return "Aucune action suivie"
    morceaux = [f"{fmt.pourcentage(av.part(g), 0)} {mot}" for g, mot in (
        ("realisees", "réalisées"), ("en_cours", "en cours"), ("non_engagees", "non engagées"),
        ("abandonnees", "abandonnées"), ("non_renseignees", "sans suivi")) if av.comptes.get(g) or g == "realisees"]
    return " · ".join(morceaux) + f" ({fmt.compte(av.total, 'action', 'actions')})"


# The synthesis ----------------------------------------------------------------------------------------------
def en_bref(tdb: TableauDeBord) -> str:
    """Three sentences: roadmap progress, the lights of the key indicators, the number of alerts."""
    n, avs = tdb.bilan.annee, tdb.avancements.values()
    total, faites = sum(a.total for a in avs), sum(a.comptes.get("realisees", 0) for a in avs)
    en_cours = sum(a.comptes.get("en_cours", 0) for a in avs)
    phrases = []
    if total:
        phrases.append(f"En {n}, sur les {fmt.compte(total, 'action', 'actions')} des feuilles de route, "
                       f"{fmt.nombre(faites)} {'est réalisée' if faites < 2 else 'sont réalisées'} "
                       f"({fmt.pourcentage(100 * faites / total, 0)}) et {fmt.nombre(en_cours)} en cours.")
    feux = tdb.compte_feux()
    if sum(feux.values()):
        details = ", ".join(f"{fmt.nombre(k)} {MOTS[f].lower()}" for f, k in feux.items() if k)
        phrases.append(f"Indicateurs clés : {details}." + ("" if feux[Feu.HORS_TRAJECTOIRE] else
                                                          " Aucun n'est hors trajectoire."))
    fortes = sum(1 for a in tdb.alertes if a.gravite == 3)
    phrases.append(f"Les données soulèvent {fmt.compte(len(tdb.alertes), 'alerte', 'alertes')}"
                   + (f", dont {fmt.nombre(fortes)} de gravité forte." if fortes else "."))
    return " ".join(phrases)


def tableau_chiffres(tdb: TableauDeBord) -> str:
    """Key indicators with their light and its reason; one heading row per thématique (portrait page)."""
    ths = tdb.bilan.thematiques + (["transverse"] if tdb.evaluations.get("transverse") else [])
    lignes = []
    for th in ths:
        groupe = lignes_indicateurs(tdb, [th], lambda th, e, rang: texte(e.motif))
        if groupe:
            lignes.append([groupe[0][0], "", "", "", ""])
            lignes += [[indicateur, avant, apres, objectif, f"{feu} — {motif}"]
                       for _, indicateur, avant, apres, objectif, feu, motif in groupe]
    n = tdb.bilan.annee
    sources, lues = trace_indicateurs(tdb, ths)
    legende = tracer(f"Indicateurs clés de chaque thématique, {texte(tdb.bilan.territoire)}, {n}.", sources, *lues)
    return tableau(["Indicateur", str(n - 1), str(n), "Cible de la convention", "Feu et motif"], lignes, legende,
                   ["left", "right", "right", "left", "left"],
                   notes_du_tableau(tdb.bilan.premier, lignes) + [legende_feux()])


def tableau_feuilles(tdb: TableauDeBord) -> str:
    lignes, n = [], tdb.bilan.annee
    for th, av in tdb.avancements.items():
        lignes.append([texte(tdb.bilan.libelle(th)), fmt.nombre(av.total), av.texte("realisees"), av.texte("en_cours"),
                       av.texte("non_engagees"), av.texte("abandonnees"), av.texte("non_renseignees"),
                       fmt.nombre(av.en_retard)])
    sources, lues = trace_feuilles(tdb, list(tdb.avancements))
    legende = tracer(f"Avancement des feuilles de route, {n} (nombre d'actions et part de la thématique).", sources,
                     *lues, phrase="Source : feuilles de suivi des actions.")
    return tableau(["Thématique", "Actions", "Réalisées", "En cours", "Non engagées", "Abandonnées", "Sans suivi",
                    "En retard"], lignes, legende, ["left"] + ["right"] * 7,
                   ["Non engagées : à engager ou reportées. En retard : reportées, abandonnées, ou lentes dans les "
                    "dernières années de la convention (règle en méthodologie)."])


def liste_alertes(liste: list[Alerte]) -> str:
    return "\n".join(f"{i}. **{a.mot_gravite}** — {texte(a.constat)}" for i, a in enumerate(liste, 1))


def decisions(liste: list[Alerte]) -> str:
    """The questions raised by the alerts, most serious first."""
    return "\n".join(f"{i}. {texte(a.question)}" for i, a in enumerate(liste, 1))


def synthese(tdb: TableauDeBord) -> Chapitre:
    n = tdb.bilan.annee
    graves = [a for a in tdb.alertes if a.gravite >= 2]
    corps = [
        "## En bref", en_bref(tdb),
        "## Chiffres clés", tableau_chiffres(tdb),
        "## Avancement des feuilles de route", tableau_feuilles(tdb),
        "## Alertes",
        (f"Alertes tirées des données {n}, des plus graves aux moins graves (règles en méthodologie).\n\n"
         + liste_alertes(tdb.alertes)) if tdb.alertes else f"Aucune alerte ne ressort des données {n}.",
        "## Décisions à prendre",
        ("Questions que les données posent au comité de pilotage (alertes de gravité forte ou moyenne) :\n\n"
         + decisions(graves)) if graves else "Les données ne soulèvent pas de question particulière cette année.",
    ]
    return Chapitre("index", "Synthèse", "\n\n".join(corps) + "\n")
