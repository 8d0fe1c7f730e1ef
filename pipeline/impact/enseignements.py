"""Lessons and proposals for the next convention: automated findings from the data (targets not met, under-served
communes, indicators moving the wrong way, roadmap actions left undone), then the evaluators' own text (optional
sheet `suivi/bilan/enseignements.csv|.xlsx`)."""

from __future__ import annotations

from pipeline.impact import textes
from pipeline.impact.cibles_tableau import jugements
from pipeline.impact.donnees import TRANSVERSE, Donnees
from pipeline.impact.evolution import Seuils, ecart_lisible, evolution_globale
from pipeline.impact.feuilles import suivi
from pipeline.report import fmt
from pipeline.report.feuille import dans_phrase
from pipeline.report.sortie import afficher, texte

EN_RETARD = ("a_engager", "reportee", "abandonnee")
POPULATION = "pop_municipale"


def cibles_manquees(d: Donnees) -> list[str]:
    lignes = []
    for c, a in jugements(d):
        if a.statut != "atteinte":
            lignes.append(f"{texte(d.libelle(c.thematique))} — {texte(c.libelle)} ({c.annee}) : "
                          f"{textes.STATUTS_CIBLE[a.statut].lower()}.")
    return lignes


def annee_communale(d: Donnees, indicateur: str) -> int | None:
    lignes = d.ctx.lignes(indicateur, "commune")
    return int(lignes["annee"].max()) if len(lignes) else None


def offre_communale(d: Donnees, th: str) -> list[str]:
    """The thématique's offer indicators by commune: realisations counting structures or places (`equipements`)."""
    cat = d.ctx.catalogue
    return [i for i in d.indicateurs(th) if "realisations" in d.niveaux_modele(i)
            and cat.at[i, "type_formule"] == "equipements" and annee_communale(d, i) is not None]


def communes_sous_dotees(d: Donnees) -> list[str]:
    """Communes of at least `population_sous_dotee` inhabitants where a thématique has no structure and no place
    at all (its offer indicators by commune, latest year with commune values), one line per commune."""
    minimum = float(d.reglage("bilan", "population_sous_dotee"))
    offres = {th: ids for th in d.thematiques if (ids := offre_communale(d, th))}
    lignes = []
    for code in d.ctx.communes["code_insee"]:
        pop = d.ctx.derniere(POPULATION, "commune", code)
        if pop is None or pop.valeur is None or pop.valeur < minimum:
            continue
        sans = [th for th, ids in offres.items()
                if all((m := d.ctx.mesure(i, annee_communale(d, i), "commune", code)) is not None and m.valeur == 0
                       for i in ids)]
        if sans:
            lignes.append((pop.valeur, f"{texte(d.ctx.nom_commune(code))} ({fmt.nombre(pop.valeur)} habitants, "
                                       f"{pop.annee}) : aucune structure ni place pour "
                                       f"{', '.join(texte(d.libelle(th)).lower() for th in sans)}."))
    if lignes:
        annee = max(annee_communale(d, i) for ids in offres.values() for i in ids)
        regle = (f"Communes d'au moins {fmt.nombre(minimum)} habitants (params.yaml, bilan.population_sous_dotee) "
                 f"sans aucune structure d'une thématique en {annee}, les plus peuplées d'abord :")
        return [regle + "\n" + "\n".join(f"  - {l}" for _, l in sorted(lignes, key=lambda x: -x[0]))]
    return []


def mauvais_sens(d: Donnees) -> list[str]:
    """Indicators with a desired direction whose change over the period is flagged and goes the other way."""
    seuils = Seuils.depuis(d.reglages["impact"].get("evolution"))
    lignes = []
    for th in [TRANSVERSE, *d.thematiques]:
        for ind in d.indicateurs(th):
            sens = d.ctx.info(ind)["sens"]
            if sens not in ("hausse", "baisse"):
                continue
            g = evolution_globale(d.ctx, ind, d.debut, d.annee, seuils)
            if g.signalee and (g.signe > 0) != (sens == "hausse"):
                lignes.append(f"{texte(d.libelle(th))} — {texte(d.ctx.info(ind)['libelle'])} : "
                              f"{ecart_lisible(d.ctx, g)} entre {g.avant.annee} et {g.apres.annee} (sens souhaité : "
                              f"{sens}).")
    return lignes


def actions_non_abouties(d: Donnees) -> list[str]:
    actions = suivi(d)
    derniere = actions[(actions["annee"] == d.annee) & actions["statut"].isin(EN_RETARD)]
    lignes = []
    for th in d.thematiques:
        comptes = derniere.loc[derniere["thematique"] == th, "statut"].value_counts()
        if len(comptes):
            lignes.append(f"{texte(d.libelle(th))} — " + ", ".join(dans_phrase(s, int(comptes[s])) for s in EN_RETARD
                                                                  if s in comptes) + f" en {d.annee}.")
    return lignes


REGLES = [
    ("Objectifs chiffrés non atteints", cibles_manquees),
    ("Communes sans offre", communes_sous_dotees),
    ("Indicateurs qui évoluent dans le sens contraire à celui souhaité", mauvais_sens),
    ("Actions de la feuille de route non abouties", actions_non_abouties),
]


def constats(d: Donnees) -> str:
    blocs = []
    for titre, regle in REGLES:
        lignes = regle(d)
        blocs.append(f"**{titre}**\n\n" + ("\n".join(f"- {l}" for l in lignes) if lignes else textes.AUCUN_CONSTAT))
    return "\n\n".join(blocs)


def textes_evaluateurs(d: Donnees) -> str:
    table = d.enseignements
    if table.empty:
        return textes.SANS_FEUILLE_ENSEIGNEMENTS.format(siren=d.ctx.territoire)
    blocs = []
    for th in [TRANSVERSE, *d.thematiques]:
        du_theme = table[table["thematique"] == th]
        if du_theme.empty:
            continue
        blocs.append(f"#### {texte(d.libelle(th))}")
        for type_, titre in textes.TYPES_ENSEIGNEMENT.items():
            items = du_theme.loc[du_theme["type"] == type_, "texte"]
            if len(items):
                blocs.append(f"*{titre}*\n\n" + "\n".join(f"- {texte(t)}" for t in items))
    return "\n\n".join(blocs) + "\n\n*Source : feuille d'enseignements des évaluateurs.*"


def enseignements(d: Donnees) -> str:
    """Automated findings, then the evaluators' lessons and proposals; displayed and returned."""
    blocs = [f"### {textes.TITRE_AUTOMATIQUES}", constats(d), f"### {textes.TITRE_EVALUATEURS}",
             textes_evaluateurs(d)]
    return afficher("\n\n".join(blocs) + "\n")
