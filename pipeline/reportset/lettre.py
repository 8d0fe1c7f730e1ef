"""The residents' e-letter (« lettre électronique allocataires ») sent after the committee: plain words, from data.

One self-contained HTML file made for e-mail: inline styles only (no <style>, no script, no external resource),
one column of at most 600 px, every acronym spelled out at its first use. Built with `string.Template`.
"""

from __future__ import annotations

import html
import logging
import re
from string import Template
from textwrap import shorten

import pandas as pd

from pipeline.config import ROOT
from pipeline.indicators import load_catalogue
from pipeline.report import fmt
from pipeline.reportset.donnees import Bilan
from pipeline.reportset.glossaire import expliquer_sigles, sigles_inexpliques

log = logging.getLogger(__name__)

MAX_ACTIONS = 6
LONGUEUR_ACTION = 150
# The structures' types in everyday words (vocabulary label otherwise).
TYPES_SIMPLES = {
    "eaje_psu": "Crèche (multi-accueil)",
    "micro_creche": "Micro-crèche",
    "creche_familiale": "Crèche familiale (accueil chez une assistante maternelle de la crèche)",
    "rpe": "Relais petite enfance : informations sur la garde des tout-petits",
    "laep": "Lieu d'accueil enfants-parents : jouer et rencontrer d'autres parents, gratuit",
    "alsh_periscolaire": "Accueil avant et après l'école",
    "alsh_extrascolaire": "Centre de loisirs pendant les vacances",
    "ludotheque": "Ludothèque : jeux sur place ou à emprunter",
    "accueil_jeunes": "Accueil pour les adolescents",
    "point_information_jeunesse": "Point information jeunesse",
    "instance_jeunes": "Conseil de jeunes",
    "centre_social": "Centre social : activités, aide et conseils pour tous",
    "evs": "Espace de vie sociale : activités entre habitants",
    "point_numerique_caf": "Point numérique : aide pour les démarches en ligne",
    "france_services": "France services : aide pour les démarches administratives",
    "antenne_caf": "Accueil de la Caf",
    "mediation_familiale": "Médiation familiale : aide en cas de séparation ou de conflit",
    "porteur_clas": "Aide aux devoirs et à la scolarité",
}

COULEUR, DISCRET = "#1f4e79", "#4d4d4d"
H2 = f"margin:28px 0 8px;font-size:21px;line-height:1.3;color:{COULEUR}"
H3 = f"margin:18px 0 4px;font-size:18px;line-height:1.3;color:{COULEUR}"
P = "margin:0 0 12px"
UL = "margin:0 0 12px;padding-left:22px"
LI = "margin:0 0 6px"

PAGE = Template("""<!DOCTYPE html>
<html lang="fr">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>$titre</title>
</head>
<body style="margin:0;padding:0;background:#eef1f4">
<main style="max-width:600px;margin:0 auto;background:#ffffff;color:#1b1b1b;font-family:Arial,Helvetica,sans-serif;font-size:17px;line-height:1.55">
$bandeau<header style="padding:20px 20px 14px;border-bottom:4px solid $couleur">
<p style="margin:0;color:$couleur;font-weight:bold;font-size:14px;letter-spacing:0.03em">$emetteurs</p>
<h1 style="margin:6px 0 6px;font-size:27px;line-height:1.2;color:$couleur">$titre</h1>
<p style="margin:0;color:$discret">$soustitre</p>
</header>
<div style="padding:12px 20px 20px">
$corps
</div>
<footer style="padding:14px 20px 22px;border-top:1px solid #c9d3de;color:$discret;font-size:15px">
<p style="margin:0">$pied</p>
</footer>
</main>
</body>
</html>
""")


def echapper(texte: str, deja: set[str]) -> str:
    """Plain text → HTML text, acronyms spelled out at their first use."""
    return html.escape(expliquer_sigles(texte, deja), quote=False)


def paragraphe(texte: str, deja: set[str]) -> str:
    return f'<p style="{P}">{echapper(texte, deja)}</p>'


def liste(elements: list[str], deja: set[str]) -> str:
    items = "".join(f'<li style="{LI}">{echapper(e, deja)}</li>' for e in elements)
    return f'<ul style="{UL}">{items}</ul>'


def titre2(texte: str, deja: set[str]) -> str:
    return f'<h2 style="{H2}">{echapper(texte, deja)}</h2>'


def type_simple(bilan: Bilan, code: str) -> str:
    return TYPES_SIMPLES.get(code) or bilan.premier.types_structure.get(code, {}).get("libelle", code)


# What changed -------------------------------------------------------------------------------------------------
def structures_ouvertes(bilan: Bilan) -> pd.DataFrame:
    """Structures open in year N that were not in N-1's sheet, or whose opening date falls in N."""
    eq, n = bilan.premier.equipements, bilan.annee
    if eq.empty:
        return eq
    avant = set(eq.loc[eq["annee"] == n - 1, "structure_id"])
    cette_annee = eq[eq["annee"] == n]
    ouverte_en_n = pd.to_datetime(cette_annee["date_ouverture"]).dt.year == n
    nouvelle = ~cette_annee["structure_id"].isin(avant) if avant else False
    return cette_annee[ouverte_en_n | nouvelle]


def structures_fermees(bilan: Bilan) -> pd.DataFrame:
    eq, n = bilan.premier.equipements, bilan.annee
    if eq.empty:
        return eq
    avant, maintenant = eq[eq["annee"] == n - 1], set(eq.loc[eq["annee"] == n, "structure_id"])
    return avant[~avant["structure_id"].isin(maintenant)] if maintenant else avant.iloc[:0]


def places(bilan: Bilan) -> list[str]:
    """'Accueil collectif (…) : 324 places, 6 de plus qu'en 2023.' for each count of places (catalogue unit
    « places », not a change since a reference year) of the thématiques published for N and N-1."""
    phrases, n = [], bilan.annee
    catalogue = load_catalogue(ROOT / bilan.params.get("catalogue", "metadata/indicateurs.yaml"))
    for ctx in bilan.contextes.values():
        for ind in ctx.indicateurs_du_theme():
            info = ctx.info(ind)
            m1, m0 = ctx.mesure(ind, n), ctx.mesure(ind, n - 1)
            difference = (catalogue.get(ind, {}).get("formule") or {}).get("type") == "evolution"
            if info["unite"] != "places" or difference or m1 is None or m0 is None or None in (m1.valeur, m0.valeur):
                continue
            quoi = re.sub(r"^Places\s+(en\s+|d'|de\s+)?", "", info["libelle"])
            ecart = int(m1.valeur - m0.valeur)
            evolution = (f"{fmt.nombre(ecart)} de plus qu'en {n - 1}" if ecart > 0 else
                         f"{fmt.nombre(-ecart)} de moins qu'en {n - 1}" if ecart < 0 else f"autant qu'en {n - 1}")
            phrases.append(f"{quoi[:1].upper()}{quoi[1:]} : {fmt.compte(int(m1.valeur), 'place', 'places')}, "
                           f"{evolution}.")
    return phrases


def actions_terminees(bilan: Bilan) -> pd.DataFrame:
    """Actions « réalisée » in N that were not in N-1 (one row each, thématique order)."""
    a, n = bilan.premier.actions, bilan.annee
    faites = a[(a["annee"] == n) & (a["statut"] == "realisee") & a["thematique"].isin(bilan.thematiques)]
    deja = set(a.loc[(a["annee"] == n - 1) & (a["statut"] == "realisee"), "action_id"])
    nouvelles = faites[~faites["action_id"].isin(deja)]
    rang = {th: i for i, th in enumerate(bilan.thematiques)}
    return nouvelles.assign(_rang=nouvelles["thematique"].map(rang)).sort_values(["_rang", "action_id"])


def exemples(actions: pd.DataFrame, nombre: int = MAX_ACTIONS) -> pd.DataFrame:
    """Up to `nombre` actions, taking one per thématique in turn."""
    tour = actions.groupby("thematique", sort=False).cumcount()
    return actions.assign(_tour=tour).sort_values(["_tour", "_rang"]).head(nombre)


def changements(bilan: Bilan, deja: set[str]) -> str:
    n, blocs = bilan.annee, []
    faits = places(bilan)
    for s in structures_ouvertes(bilan).itertuples():
        genre = re.sub(r"\s*\(.*\)|\s*:.*", "", type_simple(bilan, s.type)).lower()
        capacite = f", {fmt.compte(int(s.capacite), 'place', 'places')}" if pd.notna(s.capacite) else ""
        faits.append(f"Nouveau à {s.commune} : {s.nom} ({genre}{capacite}).")
    for s in structures_fermees(bilan).itertuples():
        faits.append(f"{s.nom} à {s.commune} n'accueille plus le public.")
    blocs.append(titre2(f"Ce qui a changé en {n}", deja))
    blocs.append(liste(faits, deja) if faits else paragraphe(
        f"Les données de suivi ne montrent pas de nouveau lieu ni de nouvelle place d'accueil en {n}.", deja))
    terminees = actions_terminees(bilan)
    blocs.append(titre2("Les projets menés à bien", deja))
    if terminees.empty:
        blocs.append(paragraphe(f"Aucun projet de la convention ne s'est terminé en {n}.", deja))
    else:
        combien = fmt.compte(len(terminees), "projet de la convention s'est terminé",
                             "projets de la convention se sont terminés")
        suite = " En voici quelques-uns :" if len(terminees) > 1 else ""
        blocs.append(paragraphe(f"En {n}, {combien}.{suite}", deja))
        blocs.append(liste([f"{bilan.libelle(a.thematique)} : {shorten(a.libelle, LONGUEUR_ACTION, placeholder=' …')}"
                            for a in exemples(terminees).itertuples()], deja))
    return "\n".join(blocs)


# Where to find the services -------------------------------------------------------------------------------------
def services(bilan: Bilan, deja: set[str]) -> str:
    eq, n = bilan.premier.equipements, bilan.annee
    ouverts = eq[eq["annee"] == n] if not eq.empty else eq
    if ouverts.empty:
        return titre2("Où trouver les services", deja) + paragraphe(
            f"La liste des lieux d'accueil n'est pas disponible pour {n}.", deja)
    centres = set(bilan.premier.villes_centres)
    ordre = ouverts.assign(_centre=~ouverts["code_insee"].isin(centres)).sort_values(["_centre", "commune", "nom"])
    blocs = [titre2("Où trouver les services près de chez vous", deja),
             paragraphe(f"Les {fmt.nombre(len(ouverts))} lieux ouverts en {n}, commune par commune.", deja)]
    for commune, groupe in ordre.groupby("commune", sort=False):
        blocs.append(f'<h3 style="{H3}">{html.escape(str(commune))}</h3>')
        blocs.append(liste([f"{s.nom} — {type_simple(bilan, s.type)}" for s in groupe.itertuples()], deja))
    return "\n".join(blocs)


def lettre_html(bilan: Bilan, date_texte: str) -> str:
    """The whole letter (HTML text)."""
    n, deja = bilan.annee, set()
    emetteurs = echapper(f"{bilan.territoire} et la {bilan.caf}", deja)  # first in the page: acronyms explained here
    intro = (f"{bilan.territoire} et la Caf de la Drôme travaillent ensemble pour les familles. Leur accord, "
             f"la Ctg, court de {bilan.premier.annee_debut} à {bilan.premier.annee_fin}. Il concerne l'accueil des "
             "jeunes enfants, les loisirs des enfants et des jeunes, le soutien aux parents, la vie des quartiers "
             "et l'accès aux droits. Un comité suit cet accord deux fois par an. Voici ce qui a changé pour vous.")
    corps = [paragraphe(intro, deja), changements(bilan, deja), services(bilan, deja),
             titre2("Pour en savoir plus", deja),
             paragraphe("Pour toute question sur vos droits, contactez la Caf de la Drôme ou votre mairie. Le bilan "
                        "complet de l'accord est disponible auprès de Montélimar Agglomération.", deja)]
    bandeau = ""
    if bilan.illustratif:
        bandeau = ('<p role="note" style="margin:0;padding:10px 20px;background:#8a3b00;color:#ffffff;font-weight:bold">'
                   "Exemple : cette lettre est produite à partir de données fictives. Ses chiffres ne sont pas réels."
                   "</p>\n")
    page = PAGE.substitute(
        titre=html.escape(f"Ce qui a changé pour les familles en {n}"),
        emetteurs=emetteurs,
        soustitre=html.escape(f"Lettre aux habitants · {date_texte}"),
        corps="\n".join(corps), bandeau=bandeau, couleur=COULEUR, discret=DISCRET,
        pied=echapper(f"Lettre rédigée à partir des données de suivi de la convention territoriale globale, "
                      f"{date_texte}. Vous la recevez parce que vous êtes allocataire de la Caf de la Drôme.", deja),
    )
    inexpliques = sigles_inexpliques(re.sub(r"<[^>]+>", " ", html.unescape(page)))
    if inexpliques:
        log.warning("Sigles sans explication dans la lettre aux habitants : %s", ", ".join(inexpliques))
    return page
