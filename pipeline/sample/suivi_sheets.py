"""Illustrative local follow-up sheets (equipements, activite, actions, financements) for 2021-2025.

Activity and funding magnitudes are illustrative, derived from capacities and populations. The follow-up of
the referential's actions applies the convention's dated facts (`FACTS`), then a seeded trajectory for the other
actions; some actions are deliberately late (`reportee`) or abandoned (`abandonnee`) so that reports have
something to say.
"""

from __future__ import annotations

import datetime as dt
import random

import pandas as pd

from pipeline.sample.structures import Structure

YEARS = range(2021, 2026)
TERRITOIRE = "TERRITOIRE"
EQUIPEMENTS_HEADER = ["structure_id", "nom", "type", "code_insee", "qpv", "capacite", "date_ouverture", "date_fermeture"]
ACTIVITE_HEADER = ["annee", "structure_id", "indicateur", "valeur", "unite"]
ACTIONS_HEADER = ["action_id", "statut", "avancement", "date_suivi", "commentaire", "pilote"]
FINANCEMENTS_HEADER = ["annee", "financeur", "dispositif", "thematique", "montant"]

PILOTES = {"acces_droits": "Caf de la Drôme", "petite_enfance": "Montélimar Agglomération - petite enfance",
           "enfance": "Montélimar Agglomération - enfance", "jeunesse": "Ville de Montélimar - jeunesse",
           "parentalite": "Centres sociaux municipaux", "animation_vie_sociale": "Ville de Montélimar - cohésion sociale"}
COMMENTS = {
    "a_engager": "Action prévue, non engagée à la date du suivi.",
    "en_cours": "Action engagée avec les partenaires ; suivi en commission thématique.",
    "realisee": "Action réalisée.",
    "reportee": "Action reportée faute de moyens disponibles cette année.",
    "abandonnee": "Action abandonnée : objectif revu en comité de pilotage.",
}
# The convention's dated facts, by action: year -> (statut, avancement, commentaire or None)
FACTS: dict[str, dict[int, tuple[str, float, str | None]]] = {
    "acces_droits.1.01": {2021: ("realisee", 100, "Cartographie numérique mise en ligne en décembre 2021.")},
    "acces_droits.1.04": {2021: ("realisee", 100, "Antenne Caf ouverte dans le quartier de Nocaze.")},
    "acces_droits.1.06": {2021: ("a_engager", 0, None), 2022: ("en_cours", 20, "Étude de l'itinérance engagée."),
                          2023: ("abandonnee", 20, "Itinérance non retenue ; orientation vers les Points numériques.")},
    "acces_droits.4.01": {2021: ("a_engager", 0, None),
                          2022: ("realisee", 100, "Réunion de préfiguration du réseau local tenue en 2022.")},
    "petite_enfance.1.01": {2021: ("en_cours", 60, "Recrutement d'une animatrice supplémentaire en cours."),
                            2022: ("realisee", 100, "Animatrice supplémentaire du Relais en poste.")},
    "petite_enfance.1.03": {2021: ("en_cours", 50, "12 multi-accueils PSU en fonctionnement."),
                            2024: ("en_cours", 80, "Bagatelle et Mini-Pouss regroupés dans la crèche du nord de "
                                                   "Montélimar : 11 multi-accueils PSU.")},
    "petite_enfance.1.04": {2021: ("en_cours", 20, "Études de la crèche du nord de Montélimar."),
                            2022: ("en_cours", 40, "Travaux de la crèche du nord de Montélimar engagés."),
                            2023: ("en_cours", 70, "Micro-crèche du centre-ville ouverte en septembre ; +5 places à "
                                                   "Cléon-d'Andran."),
                            2024: ("realisee", 100, "Crèche de 44 places du nord de Montélimar ouverte en septembre.")},
    "petite_enfance.2.01": {2022: ("en_cours", 20, "Réflexion Avip engagée avec France Travail."),
                            2024: ("reportee", 20, "Mise en place de l'Avip reportée.")},
    "enfance.1.02": {2022: ("en_cours", 50, None), 2023: ("realisee", 100, "+20 places au Kid'O Montélimar.")},
    "enfance.1.04": {2022: ("en_cours", 30, None), 2024: ("realisee", 100, "Bâtiment du Kid'O'Vert et extension du "
                                                                        "Kid'O Cléon livrés.")},
    "enfance.1.06": {2021: ("a_engager", 0, None), 2022: ("en_cours", 50, None),
                     2023: ("realisee", 100, "Ludothèque ouverte en mars 2023.")},
    "enfance.2.02": {2021: ("en_cours", 60, "Nouvelle grille tarifaire votée."),
                     2022: ("realisee", 100, "Nouvelle grille tarifaire 2022 appliquée.")},
    "jeunesse.1.02": {2021: ("en_cours", 30, None), 2022: ("realisee", 100, "Conseil des jeunes citoyens installé en "
                                                                           "septembre 2022.")},
    "jeunesse.1.04": {2021: ("en_cours", 30, None), 2022: ("realisee", 100, None)},
    "jeunesse.1.05": {2021: ("a_engager", 0, None), 2022: ("en_cours", 25, None),
                      2023: ("en_cours", 50, "Projet du centre social Colucci validé en PS Jeunes."),
                      2024: ("reportee", 50, "Validation du projet du centre social Nocaze reportée à 2025."),
                      2025: ("realisee", 100, "Projet du centre social Nocaze validé : deux PS Jeunes.")},
    "jeunesse.1.12": {2021: ("a_engager", 0, None), 2023: ("abandonnee", 0, "Renvoyé au programme local de l'habitat.")},
    "jeunesse.2.07": {2021: ("realisee", 100, "Bourses au permis et aides BAFA mises en place en 2021.")},
    "jeunesse.2.09": {2021: ("en_cours", 40, None), 2022: ("realisee", 100, "Conseil des jeunes citoyens installé.")},
    "parentalite.1.02": {2021: ("en_cours", 50, "Poste de référent familles à créer au centre social Nocaze."),
                         2022: ("realisee", 100, "Un référent familles dans chaque centre social.")},
    "parentalite.1.05": {2021: ("en_cours", 40, None), 2022: ("realisee", 100, "CLAS des centres sociaux ouverts.")},
    "parentalite.2.01": {2021: ("a_engager", 0, None), 2022: ("en_cours", 50, None),
                         2023: ("realisee", 100, "Permanence de médiation familiale ouverte en janvier 2023.")},
    "parentalite.2.02": {2021: ("a_engager", 0, None), 2023: ("reportee", 0, "Réflexion reportée."),
                         2025: ("abandonnee", 0, "Relais local non retenu ; orientation vers l'espace de rencontre "
                                                  "départemental.")},
    "animation_vie_sociale.1.04": {2021: ("realisee", 100, "EVS Eustache agréé au 1er avril 2021.")},
    "animation_vie_sociale.1.05": {2021: ("realisee", 100, "Les 3 QPV couverts : Colucci, Nocaze, Eustache.")},
    "animation_vie_sociale.1.06": {2021: ("a_engager", 0, None), 2024: ("reportee", 10, "Préfiguration en milieu "
                                                                                       "rural reportée.")},
    "animation_vie_sociale.2.02": {2021: ("en_cours", 50, None),
                                   2022: ("realisee", 100, "Points numériques Caf validés à Colucci et Eustache.")},
    "animation_vie_sociale.3.01": {2021: ("a_engager", 0, None), 2023: ("reportee", 0, None),
                                   2024: ("en_cours", 40, "Première Commission d'orientation AVS réunie.")},
}


def equipements_rows(structures: list[Structure], year: int) -> list[list]:
    """Structures known in the year's sheet: open at some point during the year (closed ones drop next year)."""
    return [[s.structure_id, s.nom, s.type, s.code_insee, s.qpv, s.capacity(year), s.ouverture, s.fermeture]
            for s in structures if s.open_fraction(year) > 0]


def _r(rng: random.Random, low: float, high: float) -> float:
    return rng.uniform(low, high)


def activite_rows(structures: list[Structure], year: int, pop_epci: float, units: dict, seed: str) -> list[list]:
    rng = random.Random(f"{seed}-activite-{year}")
    rows: list[tuple[str, str, float]] = []
    growth = 1 + 0.03 * (year - 2021)
    scolarises = round(pop_epci * 0.086 * (1 - 0.004 * (year - 2021)))
    periscolaire_rate = 0.935 + 0.004 * (year - 2021)
    sites = [s for s in structures if s.type == "alsh_periscolaire"]
    site_weight = {s.structure_id: s.extra["weight"] for s in sites}
    total_weight = sum(site_weight.values())
    for s in structures:
        f = s.open_fraction(year)
        if f <= 0:
            continue
        add = lambda name, value: rows.append((s.structure_id, name, value))  # noqa: E731
        cap = s.capacity(year) or 0
        if s.type in ("eaje_psu", "micro_creche", "creche_familiale"):
            offered = cap * 2420 * f
            done = offered * _r(rng, 0.66, 0.81)
            add("heures_offertes", round(offered))
            add("heures_realisees", round(done))
            add("heures_facturees", round(done * _r(rng, 1.04, 1.10)))
            add("enfants_accueillis", round(cap * _r(rng, 1.9, 2.5) * max(f, 0.35)))
            add("enfants_handicap", rng.randint(0, 4))
        elif s.type == "rpe":
            add("etp_animation", 2.0 if year == 2021 else 3.0)
            add("assistants_maternels_actifs", round(312 - 7 * (year - 2021) + rng.randint(-3, 3)))
            add("familles_accueillies", round(540 * growth * _r(rng, 0.95, 1.05)))
        elif s.type == "laep":
            add("heures_ouverture", round(420 * growth))
            add("familles_accueillies", round(_r(rng, 80, 95) * growth))
            add("enfants_accueillis", round(_r(rng, 95, 115) * growth))
        elif s.type == "alsh_periscolaire":
            enrolled = scolarises * periscolaire_rate * site_weight[s.structure_id] / total_weight
            add("enfants_inscrits", round(enrolled))
            add("heures_realisees", round(enrolled * _r(rng, 270, 320)))
            add("enfants_handicap", rng.randint(0, 3))
        elif s.type == "alsh_extrascolaire":
            add("heures_realisees", round(cap * 52 * 9 * _r(rng, 0.62, 0.78)))
            add("enfants_inscrits", round(cap * _r(rng, 3.6, 4.4)))
            add("enfants_handicap", rng.randint(1, 7))
        elif s.type == "ludotheque":
            add("enfants_accueillis", round(_r(rng, 900, 1400) * f))
            add("familles_accueillies", round(_r(rng, 250, 400) * f))
        elif s.type == "accueil_jeunes":
            add("jeunes_inscrits", round(cap * _r(rng, 1.6, 2.4)))
            add("heures_realisees", round(cap * 150 * 6 * _r(rng, 0.5, 0.7)))
            if s.structure_id == "KIDO_JEUNS":
                add("chantiers_educatifs", rng.randint(3, 6) + (year - 2021) // 2)
                add("projets_jeunes", rng.randint(4, 8))
        elif s.type == "point_information_jeunesse":
            add("projets_jeunes", rng.randint(5, 10))
        elif s.type == "instance_jeunes":
            add("membres_instance_jeunes", 30 if year > 2022 else 24)
            add("projets_jeunes", 1 if year == 2022 else rng.randint(2, 4))
        elif s.type == "centre_social":
            colucci = s.structure_id == "CS_COLUCCI"
            add("etp_referent_familles", 1.0 if colucci or year >= 2022 else 0.0)
            add("etp_animation", 4.0 if colucci else 3.5)
            ps_jeunes = (colucci and year >= 2023) or (not colucci and year >= 2025)
            add("projets_ps_jeunes", 1 if ps_jeunes else 0)
            add("etp_animateur_jeunesse", 1.5 if ps_jeunes else 0.0)
            add("jeunes_inscrits", round(_r(rng, 35, 60) * (1.25 if ps_jeunes else 1.0)))
            add("actions_parentalite", rng.randint(7, 12))
            add("familles_accueillies", round(_r(rng, 120, 180) * growth))
            add("habitants_impliques", round(_r(rng, 30, 50) * growth))
            if year >= 2022:
                add("enfants_clas", rng.randint(18, 30))
            if colucci:
                add("promeneurs_du_net", 1 if year < 2023 else 2)
        elif s.type == "evs":
            add("etp_animation", 1.0)
            add("actions_parentalite", rng.randint(2, 5))
            add("habitants_impliques", round(_r(rng, 12, 25) * growth))
            add("familles_accueillies", round(_r(rng, 40, 70) * growth))
        elif s.type == "point_numerique_caf":
            add("personnes_accompagnees", round(_r(rng, 160, 260) * growth * f))
            add("ateliers", round(_r(rng, 12, 24) * growth * f))
            add("participants_ateliers", round(_r(rng, 80, 150) * growth * f))
        elif s.type == "antenne_caf":
            add("personnes_accompagnees", round(_r(rng, 850, 1100)))
            add("rendez_vous_droits", round(_r(rng, 220, 300) * growth))
            add("ateliers", 0 if year == 2021 else rng.randint(4, 10))
        elif s.type == "mediation_familiale":
            add("mesures_mediation", rng.randint(24, 40))
        elif s.type == "porteur_clas":
            add("enfants_clas", rng.randint(60, 80))
    territory = [(TERRITOIRE, "enfants_scolarises", scolarises),
                 (TERRITOIRE, "reunions_reseau_acces_droits", {2021: 0, 2022: 1, 2023: 2, 2024: 2, 2025: 1}[year])]
    return [[year, sid, name, float(value), units[name]] for sid, name, value in rows + territory]


def _trajectory(action_id: str, rng: random.Random) -> dict[int, tuple[str, float, str | None]]:
    """A plausible status per year for an action without a dated fact."""
    draw = rng.random()
    start = rng.choice([2021, 2021, 2022, 2022, 2023])
    if draw < 0.08:      # abandoned after a start
        stop = min(start + 1, 2025)
        return {start: ("en_cours", 20, None), stop: ("abandonnee", 20, None)}
    if draw < 0.20:      # late: postponed, then restarted or not
        return {start: ("a_engager", 0, None), min(start + 1, 2025): ("reportee", 0, None),
                min(start + 3, 2025): ("en_cours" if rng.random() < 0.5 else "reportee", 15, None)}
    if draw < 0.45:      # continuous action: in progress every year
        return {y: ("en_cours", min(95, 30 + 15 * (y - start)), None) for y in range(start, 2026)}
    done = min(start + rng.choice([1, 2, 3]), 2025)
    path = {y: ("en_cours", min(90, 25 + 25 * (y - start)), None) for y in range(start, done)}
    path[done] = ("realisee", 100, None)
    return path


def actions_rows(actions: pd.DataFrame, year: int, seed: str) -> list[list]:
    """The year's follow-up sheet; actions not yet engaged in 2021 are not followed (left out of the sheet)."""
    rows = []
    for action_id, thematique in zip(actions["action_id"], actions["thematique"]):
        path = FACTS.get(action_id) or _trajectory(action_id, random.Random(f"{seed}-action-{action_id}"))
        known = [y for y in path if y <= year]
        status, progress, comment = path[max(known)] if known else ("a_engager", 0, None)
        if year == 2021 and status == "a_engager":
            continue
        if comment is None and status == "realisee" and max(known) < year:
            comment = "Action réalisée ; effets suivis dans les indicateurs."
        follow_date = dt.date(year, 11, 30) if year < 2025 else dt.date(2025, 12, 1)
        rows.append([action_id, status, float(progress), follow_date, comment or COMMENTS[status], PILOTES.get(thematique, "")])
    return rows


def financements_rows(structures: list[Structure], year: int, seed: str) -> list[list]:
    rng = random.Random(f"{seed}-financements-{year}")
    open_ = [s for s in structures if s.open_fraction(year) > 0]

    def places(*types):
        return sum((s.capacity(year) or 0) * s.open_fraction(year) for s in open_ if s.type in types)

    def amount(x):
        return float(round(x * rng.uniform(0.97, 1.03), -2))
    ps_jeunes = (1 if year >= 2023 else 0) + (1 if year >= 2025 else 0)
    acf = 1 + (1 if year >= 2022 else 0)
    lines = [
        ("caf", "psu", "petite_enfance", amount(places("eaje_psu", "creche_familiale") * 4300)),
        ("caf", "bonus_territoire", "petite_enfance", amount(places("eaje_psu", "creche_familiale") * 1150)),
        ("caf", "bonus_territoire", "enfance", amount(places("alsh_extrascolaire") * 900)),
        ("caf", "ps_rpe", "petite_enfance", amount(55000 if year == 2021 else 82000)),
        ("caf", "ps_alsh", "enfance", amount(560000 * (1 + 0.02 * (year - 2021)))),
        ("caf", "ps_laep", "parentalite", amount(17500)),
        ("caf", "reaap", "parentalite", amount(28000)),
        ("caf", "clas", "parentalite", amount(26000 if year == 2021 else 41000)),
        ("caf", "agc", "animation_vie_sociale", amount(2 * 72000)),
        ("caf", "acf", "animation_vie_sociale", amount(acf * 25500)),
        ("caf", "animation_locale", "animation_vie_sociale", amount(24000 * (0.75 if year == 2021 else 1))),
        ("caf", "fonds_locaux", "acces_droits", amount(15000 if year >= 2022 else 6000)),
        ("caf", "fonds_locaux", "jeunesse", amount(12000)),
        ("agglomeration", "budget_propre", "petite_enfance", amount(3150000 * (1 + 0.025 * (year - 2021)))),
        ("agglomeration", "budget_propre", "enfance", amount(2380000 * (1 + 0.02 * (year - 2021)))),
        ("agglomeration", "budget_propre", "parentalite", amount(95000)),
        ("communes", "budget_propre", "animation_vie_sociale", amount(880000)),
        ("communes", "budget_propre", "jeunesse", amount(210000)),
        ("etat", "politique_ville", "animation_vie_sociale", amount(42000)),
        ("etat", "politique_ville", "transverse", amount(118000)),
        ("autre", "autre", "transverse", amount(48000)),
    ]
    if ps_jeunes:
        lines.append(("caf", "ps_jeunes", "jeunesse", amount(ps_jeunes * 21500)))
    if year >= 2023:
        lines.append(("caf", "mediation_familiale", "parentalite", amount(31000)))
    return [[year, financeur, dispositif, thematique, montant] for financeur, dispositif, thematique, montant in lines]
