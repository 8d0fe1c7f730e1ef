"""The four evaluation questions of a CTG, answered per thématique with evidence tables from the data:
relevance of the objectives to needs, achievement of the objectives, adequacy of the means, durability of the
effects. Where the data cannot answer, the answer says so."""

from __future__ import annotations

from pipeline.impact import textes
from pipeline.impact.cibles_tableau import tableau_cibles
from pipeline.impact.donnees import Donnees
from pipeline.impact.evolution import Seuils, ecart_lisible, evolution_globale
from pipeline.impact.feuilles import REALISEE, suivi
from pipeline.impact.valeurs import valeur
from pipeline.report import fmt
from pipeline.report.chiffres import libelle_avec_unite
from pipeline.report.contexte import Mesure
from pipeline.report.sortie import afficher, lignes_indicateurs, sources_des_lignes, tableau, texte, tracer

REFERENCES = ("departement", "france")


# --- relevance ------------------------------------------------------------------------------------------------
def references(d: Donnees, indicateur: str) -> tuple[int, Mesure, dict[str, Mesure]] | None:
    """(year, territory's value, {place: value}) for the year closest to the start of the convention where the
    territory and at least one reference (department, France) are both published."""
    ctx, candidats = d.ctx, []
    for m in ctx.mesures(indicateur):
        if m.valeur is None:
            continue
        refs = {ctx.nom_lieu(n, code): r for n in REFERENCES for code in ctx.lignes(indicateur, n)["code_geo"].unique()
                if (r := ctx.mesure(indicateur, m.annee, n, code)) is not None and r.valeur is not None}
        if refs:
            candidats.append((abs(m.annee - d.debut) + (0.5 if m.annee > d.debut else 0), m.annee, m, refs))
    return min(candidats, key=lambda c: c[0])[1:] if candidats else None


def position(d: Donnees, indicateur: str, m: Mesure, ref: Mesure) -> str:
    """'en dessous (−4,2 points)', 'au-dessus (+12,0 %)', 'au même niveau'."""
    dec = d.ctx.decimales(indicateur)
    ecart = m.valeur - ref.valeur
    if round(ecart, dec) == 0:
        return "au même niveau"
    mot = "au-dessus" if ecart > 0 else "en dessous"
    taille = fmt.evolution_points(ecart, dec) if fmt.est_taux(d.ctx.info(indicateur)["unite"]) else \
        fmt.evolution_pct(ecart / abs(ref.valeur) * 100) if ref.valeur else ""
    return f"{mot} ({taille})" if taille else mot


def pertinence(d: Donnees, th: str) -> str:
    lignes, sources, besoins, montres = [], [], {}, []
    for ind in d.indicateurs(th):
        trouve = references(d, ind)
        if trouve is None:
            continue
        montres.append(ind)
        annee, m, refs = trouve
        for lieu, r in refs.items():
            lignes.append([libelle_avec_unite(d.ctx, ind), str(annee), valeur(d, ind, m, avec_unite=False),
                           texte(lieu), valeur(d, ind, r, avec_unite=False), position(d, ind, m, r)])
            sources += [(x.source, x.millesime) for x in (m, r)]
            if d.ctx.info(ind)["sens"] == "hausse" and m.valeur < r.valeur:
                besoins.setdefault((ind, annee), []).append(texte(lieu))
    if not lignes:
        return textes.PERTINENCE_SANS_REFERENCE.format(debut=d.debut)
    retraits = [f"« {texte(d.ctx.info(ind)['libelle'])} » ({annee}, en dessous de : {', '.join(lieux)})"
                for (ind, annee), lieux in besoins.items()]
    conclusion = (f"Au début de la convention, le territoire était en retrait sur {' ; '.join(retraits)} : les "
                  "objectifs de développement de l'offre répondaient à un besoin mesuré." if besoins else
                  "Les indicateurs comparables ne montrent pas de retard du territoire sur le département ou la France "
                  "au début de la convention : la pertinence des objectifs tient à d'autres besoins que ceux mesurés.")
    legende = tracer(f"Le territoire comparé au département et à la France, année la plus proche de {d.debut} — "
                     f"{texte(d.libelle(th))}.", sources, *lignes_indicateurs(d.ctx, montres, ("epci", *REFERENCES)))
    return "\n\n".join([conclusion, tableau(["Indicateur", "Année", texte(d.ctx.libelle_territoire), "Référence",
                                             "Valeur", "Le territoire est"], lignes, legende,
                                            ["left", "right", "right", "left", "right", "left"])])


# --- achievement ----------------------------------------------------------------------------------------------
def efficacite(d: Donnees, th: str) -> str:
    actions = suivi(d)
    actions = actions[(actions["thematique"] == th) & (actions["annee"] == d.annee)]
    phrases = []
    if not actions.empty:
        faites = int(actions["statut"].eq(REALISEE).sum())
        phrases.append(f"Feuille de route : {fmt.compte(faites, 'action réalisée', 'actions réalisées')} sur "
                       f"{fmt.nombre(len(actions))} en {d.annee} ({fmt.pourcentage(100 * faites / len(actions), 0)}).")
    return "\n\n".join(filter(None, [" ".join(phrases), tableau_cibles(d, th, afficher_sortie=False)]))


# --- means ----------------------------------------------------------------------------------------------------
def ligne_debut_fin(d: Donnees, ind: str, niveau: str) -> list[str] | None:
    g = evolution_globale(d.ctx, ind, d.debut, d.annee, Seuils())
    if g.avant is None:
        return None
    return [textes.NIVEAUX[niveau], libelle_avec_unite(d.ctx, ind), f"{valeur(d, ind, g.avant, avec_unite=False)} "
            f"({g.avant.annee})", f"{valeur(d, ind, g.apres, avec_unite=False)} ({g.apres.annee})",
            ecart_lisible(d.ctx, g)]


def moyens(d: Donnees, th: str) -> str:
    ids = {n: [i for i in d.indicateurs(th) if n in d.niveaux_modele(i)] for n in ("moyens", "resultats")}
    if not ids["moyens"]:
        return textes.MOYENS_VIDE
    trouvees = [(i, ligne) for n, liste in ids.items() for i in liste if (ligne := ligne_debut_fin(d, i, n))]
    lignes = [ligne for _, ligne in trouvees]
    constats = []
    for n in ("moyens", "resultats"):
        for i in ids[n]:
            g = evolution_globale(d.ctx, i, d.debut, d.annee, Seuils())
            if g.absolue is not None:
                constats.append(f"{texte(d.ctx.info(i)['libelle'])} : {ecart_lisible(d.ctx, g)}")
                break
    phrase = ("Entre le début et la fin de la période : " + " ; ".join(constats) + ". Les montants sont en euros "
              "courants ; rapprocher l'évolution des moyens de celle des résultats relève du jugement du comité."
              ) if len(constats) == 2 else ""
    if not lignes:
        return phrase
    lues = lignes_indicateurs(d.ctx, [i for i, _ in trouvees], annees=range(d.debut, d.annee + 1))
    legende = tracer(f"Moyens et résultats, première et dernière valeur publiées {d.debut}-{d.annee} — "
                     f"{texte(d.libelle(th))}.", sources_des_lignes(lues), *lues)
    return "\n\n".join(filter(None, [phrase, tableau(["Niveau", "Indicateur", "Première valeur", "Dernière valeur",
                                                      "Évolution"], lignes, legende,
                                                     ["left", "left", "right", "right", "right"])]))


# --- durability -----------------------------------------------------------------------------------------------
def maintien(d: Donnees, ind: str, tolerance: float) -> tuple[Mesure, Mesure, bool] | None:
    """(best value, last value, kept): kept when the last value is within `tolerance` % of the best one (the best
    is the highest, or the lowest for an indicator whose desired direction is down)."""
    mesures = [m for m in d.ctx.mesures(ind) if d.debut <= m.annee <= d.annee and m.valeur is not None]
    if len(mesures) < 2:
        return None
    baisse = d.ctx.info(ind)["sens"] == "baisse"
    meilleure = (min if baisse else max)(mesures, key=lambda m: m.valeur)
    derniere = mesures[-1]
    marge = abs(meilleure.valeur) * tolerance / 100
    garde = derniere.valeur <= meilleure.valeur + marge if baisse else derniere.valeur >= meilleure.valeur - marge
    return meilleure, derniere, garde


def durabilite(d: Donnees, th: str) -> str:
    tolerance = float(d.reglage("bilan", "durabilite_tolerance"))
    lignes, gardes, montres = [], 0, []
    for ind in d.indicateurs(th):
        if not {"realisations", "resultats"} & set(d.niveaux_modele(ind)):
            continue
        trouve = maintien(d, ind, tolerance)
        if trouve is None:
            continue
        meilleure, derniere, garde = trouve
        gardes += garde
        montres.append(ind)
        lignes.append([libelle_avec_unite(d.ctx, ind), f"{valeur(d, ind, meilleure, avec_unite=False)} "
                       f"({meilleure.annee})", f"{valeur(d, ind, derniere, avec_unite=False)} ({derniere.annee})",
                       "oui" if garde else "**non**"])
    limite = textes.DURABILITE_LIMITE.format(fin=d.annee)
    if not lignes:
        return f"{textes.DURABILITE_VIDE} {limite}"
    phrase = (f"{fmt.nombre(gardes)} indicateur{'s' if gardes > 1 else ''} de réalisation ou de résultat sur "
              f"{fmt.nombre(len(lignes))} se maintien{'nent' if gardes > 1 else 't'} à moins de "
              f"{fmt.pourcentage(tolerance, 0)} de {'leur' if gardes > 1 else 'son'} meilleur niveau. {limite}")
    lues = lignes_indicateurs(d.ctx, montres, annees=range(d.debut, d.annee + 1))
    legende = tracer(f"Maintien des réalisations et des résultats : meilleur niveau atteint et dernière valeur, "
                     f"{d.debut}-{d.annee} — {texte(d.libelle(th))} (maintenu : à moins de "
                     f"{fmt.pourcentage(tolerance, 0)} du meilleur niveau ; params.yaml, bilan.durabilite_tolerance).",
                     sources_des_lignes(lues), *lues)
    return "\n\n".join([phrase, tableau(["Indicateur", "Meilleur niveau", "Dernière valeur", "Maintenu"], lignes,
                                        legende, ["left", "right", "right", "left"])])


QUESTIONS = {"pertinence": pertinence, "efficacite": efficacite, "moyens": moyens, "durabilite": durabilite}


def questions_evaluatives(d: Donnees) -> str:
    """The four questions for every thématique; displayed as Markdown and returned."""
    blocs = [textes.INTRO_QUESTIONS]
    for th in d.thematiques:
        blocs.append(f"### {texte(d.libelle(th))}")
        for cle, reponse in QUESTIONS.items():
            blocs += [f"#### {textes.QUESTIONS[cle]}", reponse(d, th)]
    return afficher("\n\n".join(blocs) + "\n")
