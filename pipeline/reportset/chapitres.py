"""Chapters of the annual report that are not thematic: methodology and sources, social impact, data quality and
the roadmaps annex. Each returns a `Chapitre` whose body's headings start at level 2.
"""

from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path

import pandas as pd

from pipeline import execute
from pipeline.referential import to_markdown
from pipeline.render import notebook_to_markdown
from pipeline.report import fmt, textes
from pipeline.report.feuille import ANNEES_ALERTE, SEUIL_AVANCEMENT
from pipeline.report.sortie import lignes_indicateurs, recueillir, sources_des_lignes, tableau, texte, tracer
from pipeline.reportset.alertes import PART_RETARD
from pipeline.reportset.donnees import Bilan
from pipeline.reportset.feux import Regles, selection
from pipeline.reportset.suivi import NOMS_PERIODES, PERIODES
from pipeline.reportset.tracabilite import Page, pages_du_jeu, section
from pipeline.reportset.titres import Chapitre, decaler, detacher_titre, sans_bandeau

log = logging.getLogger(__name__)


# Methodology ---------------------------------------------------------------------------------------------------
def jeu_de_donnees(source: str) -> str:
    """'Caf - s_ben_com_f (indfoy_ndur)' → 'Caf - s_ben_com_f'."""
    return source.split(" (")[0].strip()


def sources_utilisees(bilan: Bilan) -> pd.DataFrame:
    """One row per dataset behind the territory's latest values: indicators, latest year described, millésimes."""
    ctx = bilan.premier
    lignes = []
    for ind in ctx.catalogue.index:
        m = ctx.derniere(ind)
        if m is not None:
            lignes.append({"jeu": jeu_de_donnees(m.source), "indicateur": ind, "annee": m.annee,
                           "millesime": m.millesime, "decalage": ctx.catalogue.at[ind, "decalage"]})
    if not lignes:
        return pd.DataFrame(columns=["jeu", "indicateurs", "annee", "millesimes", "decalage"])
    t = pd.DataFrame(lignes)
    return t.groupby("jeu", sort=True).agg(indicateurs=("indicateur", "nunique"), annee=("annee", "max"),
                                            millesimes=("millesime", lambda s: sorted(set(s.dropna().astype(int)))),
                                            decalage=("decalage", "max")).reset_index()


def decalage_texte(d) -> str:
    if pd.isna(d) or int(d) == 0:
        return "année même"
    return f"{int(d)} an{'s' if int(d) > 1 else ''}"


def delais(sources: pd.DataFrame, n: int) -> str:
    """Which datasets are published late, from the catalogue's `decalage` of the indicators they feed."""
    tardifs = sources[sources["decalage"].fillna(0).astype(int) > 0]
    phrase = ("Les données ne sont pas toutes disponibles pour l'année du rapport : quand la dernière valeur publiée "
              "précède l'année, les rapports la montrent suivie de son année entre parenthèses, par exemple « 59,2 "
              f"({n - 1}) ».")
    if tardifs.empty:
        return phrase
    groupes = tardifs.groupby(tardifs["decalage"].astype(int))["jeu"].apply(lambda s: ", ".join(map(texte, s)))
    return phrase + " Délais de publication : " + " ; ".join(
        f"{decalage_texte(d)} pour {jeux}" for d, jeux in groupes.items()) + "."


def methodologie(bilan: Bilan, interim: Path | None = None, periodes: tuple[str, ...] = ()) -> Chapitre:
    """Sources, delays, rules, and the provenance of every figure and table of the report set (`interim`: where
    the executed notebooks are; `periodes`: the semesters whose COPIL page is built)."""
    n, seuil = bilan.annee, int(bilan.params.get("secret", {}).get("seuil", 5))
    pages = pages_du_jeu(bilan, interim, tuple(periodes))
    sources = sources_utilisees(bilan)
    corps = [
        "## D'où viennent les chiffres",
        f"Le rapport {n} assemble trois familles de données : les données ouvertes de la Caf (allocataires, "
        "quotients familiaux, accueil du jeune enfant) et les populations légales de l'INSEE ; les feuilles de suivi "
        "tenues localement par Montélimar Agglomération et ses partenaires (équipements, activité des structures, "
        "financements, suivi des actions) ; le référentiel de la convention (feuilles de route, objectifs et "
        "cibles chiffrées). Les formules des indicateurs sont décrites dans le catalogue des indicateurs du projet.",
        "## Sources et millésimes",
    ]
    if sources.empty:
        corps.append(f"Aucun indicateur n'a de valeur publiée à l'échelle du territoire jusqu'en {n}.")
    else:
        lignes = [[texte(r.jeu), fmt.nombre(r.indicateurs), str(r.annee), ", ".join(map(str, r.millesimes)) or "—",
                   decalage_texte(r.decalage)] for r in sources.itertuples()]
        lues = lignes_indicateurs(bilan.premier, bilan.premier.catalogue.index)
        legende = tracer(f"Jeux de données des dernières valeurs publiées à l'échelle du territoire, rapport {n}.",
                         sources_des_lignes(lues), *lues)
        corps.append(tableau(["Jeu de données", "Indicateurs", "Dernière année décrite", "Millésime",
                              "Délai de publication"], lignes, legende, ["left", "right", "right", "right", "left"]))
        pages.append(Page("Méthodologie et sources", recueillir()))
    corps += [
        "## Délais de publication",
        delais(sources, n),
        "## Secret statistique",
        f"Les comptes de personnes ou de foyers inférieurs à {seuil} sont masqués au niveau des communes, des "
        "quartiers prioritaires et des structures : ils apparaissent sous la forme « s ». Aucun taux n'est calculé "
        "à partir d'une valeur masquée, et aucune évolution n'est commentée quand l'une des deux valeurs l'est.",
    ]
    if bilan.illustratif:
        corps += ["## Données d'illustration", "::: {.avertissement}\n" + textes.BANDEAU + "\n:::"]
    corps += regles_copil(bilan.params)
    corps += [
        "## Traçabilité",
        "Chaque jeu de rapports est accompagné d'un fichier manifest.json qui liste les fichiers d'entrée et de "
        "sortie avec leur empreinte. La commande « ctg verify » vérifie qu'un rapport publié correspond toujours "
        "aux données actuelles.",
        *section(bilan, pages),
    ]
    return Chapitre("methodologie", "Méthodologie et sources", "\n\n".join(corps) + "\n")


def regles_copil(params: dict) -> list[str]:
    """The COPIL rules, as declared in params.yaml, in words."""
    r = Regles.depuis(params)
    minimum, maximum = selection(params)
    part = (params.get("copil") or {}).get("alertes", {}).get("part_retard", PART_RETARD)
    periodes = {**PERIODES, **(params.get("copil") or {}).get("periodes", {})}
    pct = lambda x: fmt.pourcentage(100 * x, 0)  # noqa: E731
    return [
        "## Feux du comité de pilotage",
        f"Pour chaque thématique, le support du comité retient de {minimum} à {maximum} indicateurs clés : les "
        "indicateurs principaux du catalogue, puis ceux qui portent une cible de la convention. Chaque indicateur "
        "reçoit un feu, toujours affiché avec un symbole et un mot :",
        "- **✓ En bonne voie** : la cible de la convention est atteinte, ou la progression réalisée depuis l'année "
        f"de référence atteint au moins {pct(r.en_bonne_voie)} de la progression attendue à cette date (trajectoire "
        "régulière jusqu'à l'échéance) ; sans cible, l'indicateur évolue dans le sens souhaité ;\n"
        f"- **▲ À surveiller** : entre {pct(r.a_surveiller)} et {pct(r.en_bonne_voie)} de la progression attendue, "
        "ou une cible atteinte puis perdue ; sans cible, une valeur stable ou un recul de moins de "
        f"{fmt.pourcentage(r.recul_pourcentage, 0)} ({fmt.evolution_points(r.recul_points, 0).lstrip('+')} pour un "
        "taux) ;\n"
        f"- **✗ Hors trajectoire** : moins de {pct(r.a_surveiller)} de la progression attendue, ou une échéance "
        "passée sans atteindre la cible ; sans cible, un recul plus important ;\n"
        "- **? Pas de donnée** : aucune valeur publiée, une valeur sous secret statistique, ou une seule valeur "
        "(pas d'évolution mesurable) ;\n"
        "- **– Non évalué** : indicateur de contexte, sans cible ni sens d'évolution souhaité.",
        "Seules les cibles qui portent sur l'ensemble du territoire servent au feu ; une cible d'un périmètre plus "
        "étroit (une structure, une commune) est rappelée sans être comparée à la valeur du territoire.",
        "## Alertes et décisions à prendre",
        "Les alertes sont tirées des données, par ordre de gravité : indicateurs hors trajectoire et feuilles de "
        f"route dont au moins {fmt.nombre(part)} % des actions sont reportées, abandonnées ou en retard (gravité "
        "forte) ; indicateurs à surveiller qui s'éloignent de leur cible ou du sens souhaité, et autres retards "
        "(gravité moyenne) ; données manquantes et actions sans suivi (gravité faible). Une action est en retard "
        f"quand elle est reportée ou abandonnée, ou, dans les {ANNEES_ALERTE} dernières années de la convention, "
        f"encore à engager ou en cours avec un avancement inférieur à {SEUIL_AVANCEMENT} %. Chaque alerte est "
        "traduite en une question pour le comité : le rapport ne décide pas, il dit ce que les données "
        "interrogent.",
        "## Suivi semestriel",
        "Le support du comité peut être produit pour un semestre (« ctg run --periode S1 » ou « S2 »). Il reprend "
        "alors l'état des actions connu à la fin du semestre ("
        + " ; ".join(f"{NOMS_PERIODES.get(p, p)} : jusqu'au {jour_mois(v)}" for p, v in periodes.items())
        + ") d'après la date de suivi de chaque action ; une action suivie plus tard garde le statut de l'année "
        "précédente. Les indicateurs restent annuels.",
    ]


def jour_mois(mm_jj: str) -> str:
    """'06-30' → '30 juin'."""
    mois, jour = map(int, str(mm_jj).split("-"))
    return fmt.date_longue(dt.date(2001, mois, jour)).rsplit(" ", 1)[0]


# Social impact -------------------------------------------------------------------------------------------------
def disponible(table: pd.DataFrame, annee: int, filtre=None) -> str:
    """'oui (12 lignes)' when the table has rows for the year (and the filter), 'non' otherwise."""
    if table.empty or "annee" not in table:
        return "non"
    lignes = table[table["annee"] == annee]
    if filtre is not None:
        lignes = lignes[filtre(lignes)]
    return f"oui ({fmt.compte(len(lignes), 'ligne', 'lignes')})" if len(lignes) else "non"


def impact_social(bilan: Bilan, interim: Path | None = None) -> Chapitre:
    """The social-impact chapter: the executed notebook `impact_social` of the year when the execute stage made one
    (its outputs, never re-executed), otherwise the list of the data this analysis needs and their availability."""
    executed = execute.executed_path(Path(interim), bilan.annee, "impact_social") if interim else None
    if executed is not None and executed.is_file():
        titre, corps = detacher_titre(sans_bandeau(notebook_to_markdown(executed)).lstrip())
        return Chapitre("impact_social", titre or "Impact social", decaler(corps, 2))
    ctx, n = bilan.premier, bilan.annee
    activite = lambda *codes: (lambda t: t["indicateur"].isin(codes))  # noqa: E731
    besoins = [
        ("Financements par thématique, financeur et dispositif", "coût par place, par enfant, par famille",
         disponible(ctx.financements, n), "feuille de suivi des financements"),
        ("Places d'accueil par structure", "coût par place", disponible(
            ctx.equipements, n, lambda t: t["capacite"].notna()), "feuille de suivi des équipements"),
        ("Enfants accueillis ou inscrits par structure", "coût par enfant", disponible(
            ctx.activite, n, activite("enfants_accueillis", "enfants_inscrits")), "feuille de suivi de l'activité"),
        ("Familles et parents accompagnés", "coût par famille", disponible(
            ctx.activite, n, activite("familles_accueillies", "parents_accueillis")), "feuille de suivi de l'activité"),
        ("Heures d'accueil réalisées", "coût par heure d'accueil", disponible(
            ctx.activite, n, activite("heures_realisees")), "feuille de suivi de l'activité"),
        ("Modèle logique de chaque feuille de route (ressources, actions, réalisations, effets attendus)",
         "relier les moyens aux effets", "non", "à construire avec le comité de pilotage"),
        ("Effets observés pour les familles (enquêtes, données Filoue)", "mesurer les effets", "non",
         "à définir"),
    ]
    lignes = [[texte(a), texte(b), c, texte(d)] for a, b, c, d in besoins]
    lues = [t[t["annee"] == n] for t in (ctx.financements, ctx.equipements, ctx.activite) if "annee" in t]
    legende = tracer(f"Données nécessaires à l'analyse de l'impact social et leur disponibilité en {n}.",
                     [(f"Suivi local - {nom}", n) for nom in ("financements", "equipements", "activite")], *lues,
                     phrase="Sources : feuilles de suivi des financements, des équipements et de l'activité.")
    intention = bilan.referentiel.communication.impact_social.libelle if (
        bilan.referentiel.communication and bilan.referentiel.communication.impact_social) else ""
    corps = [
        ("La convention prévoit " + texte(intention[0].lower() + intention[1:]) + ". " if intention else "")
        + "Ce chapitre rapportera les moyens engagés aux publics servis — financement par place d'accueil, par "
        "enfant accueilli, par famille accompagnée — et présentera le modèle logique de chaque feuille de route. "
        "Il sera complété quand les données ci-dessous seront réunies.",
        "## Données nécessaires",
        tableau(["Donnée", "Pour calculer", f"Disponible pour {n}", "Source"], lignes, legende,
                ["left", "left", "left", "left"]),
    ]
    return Chapitre("impact_social", "Impact social", "\n\n".join(corps) + "\n")


# Data quality --------------------------------------------------------------------------------------------------
INDISPONIBLE = ("Le bilan de la qualité des données n'est pas disponible pour ce jeu de rapports : les contrôles "
                "des données d'entrée n'ont pas produit de compte rendu ({raison}). Lancez « ctg validate » pour "
                "les exécuter.")


def qualite_donnees(interim: Path) -> Chapitre:
    """The data checks' summary (pipeline.checks, validation.json of the run), or a note saying it is missing."""
    chemin = Path(interim) / "validation.json"
    try:
        from pipeline.checks import quality_markdown
    except ImportError as exc:
        log.warning("pipeline.checks.quality_markdown indisponible : %s", exc)
        corps = INDISPONIBLE.format(raison="module de contrôle absent")
    else:
        corps = (quality_markdown(chemin) if chemin.is_file()
                 else INDISPONIBLE.format(raison="fichier validation.json absent"))
    titre, corps = detacher_titre(corps)
    return Chapitre("qualite_donnees", titre or "Qualité des données", decaler(corps, 2).strip() + "\n")


# Roadmaps annex ------------------------------------------------------------------------------------------------
def feuilles_de_route(bilan: Bilan) -> Chapitre:
    intro = ("Les feuilles de route de la convention, telles que signées : axes, objectifs opérationnels, actions, "
             "partenaires et cibles chiffrées. L'état de chaque action en "
             f"{bilan.annee} figure dans le chapitre de sa thématique.")
    corps = "\n".join(to_markdown(bilan.referentiel, th) for th in bilan.thematiques)
    return Chapitre("feuilles_de_route", "Annexe : feuilles de route", intro + "\n\n" + corps)
