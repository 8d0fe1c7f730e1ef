"""Every French word the report helpers print, in one place (reviewable without reading the logic)."""

from __future__ import annotations

# Follow-up statuses of actions (codes of metadata/vocabulaire.yaml), in display order.
STATUTS: dict[str, str] = {
    "realisee": "Réalisée",
    "en_cours": "En cours",
    "a_engager": "À engager",
    "reportee": "Reportée",
    "abandonnee": "Abandonnée",
    "": "Non renseignée",
}

NOTE_SECRET = "s : valeur soumise au secret statistique (moins de {seuil})."
NOTE_NON_DISPONIBLE = "n.d. : non disponible."
NOTE_ANNEE = "Entre parenthèses : année de la dernière valeur publiée, quand elle précède l'année du rapport."

# Trend words; the arrow says the direction, the word says whether it is good news (catalogue field `sens`).
FLECHES = {1: "↗", -1: "↘", 0: "→"}
MOTS_VARIATION = {1: "en hausse", -1: "en baisse", 0: "stable"}
FAVORABLE = "favorable"
DEFAVORABLE = "défavorable"

NOMS_DEPARTEMENTS = {"26": "Drôme"}

BANDEAU = (
    "**Données d'illustration** — ce rapport est produit à partir de données fictives ou recomposées, "
    "pour montrer le fonctionnement de la chaîne de production. Ses chiffres ne décrivent pas la "
    "situation réelle du territoire et ne doivent pas être cités."
)

# Rule for the "Points d'attention" list of the roadmap (parameters in feuille.py).
REGLE_RETARD = (
    "Sont signalées les actions abandonnées ou reportées, et, à partir de {annee_alerte} (les {n} dernières "
    "années de la convention), les actions encore « à engager » ou « en cours » avec un avancement inférieur "
    "à {seuil} %."
)
AUCUNE_ACTION = "Aucune action de la feuille de route n'est suivie pour cette thématique en {annee}."
AUCUN_POINT = "Aucun point d'attention selon cette règle."

SANS_INDICATEUR = "Aucun indicateur de cette thématique n'a de valeur à l'échelle de l'Agglomération en {annee}."
SANS_EVOLUTION = ("Aucun indicateur principal de cette thématique n'a encore de valeurs publiées sur au moins deux "
                  "années à l'échelle de l'Agglomération : pas d'évolution à représenter.")
SANS_CARTE = "Aucun indicateur de cette thématique n'est publié à l'échelle des communes : pas de carte possible."
SANS_QPV = (
    "Les données disponibles ne permettent pas de comparer les quartiers prioritaires (QPV) au reste du "
    "territoire : aucun indicateur de cette thématique n'est publié à l'échelle des QPV."
)
SANS_COMMUNES = (
    "Les données disponibles ne permettent pas de comparer {centre} aux autres communes : aucun indicateur "
    "de cette thématique n'est publié à l'échelle des communes."
)
LEGENDE_SECRET = "s : secret statistique"
LEGENDE_NON_DISPONIBLE = "n.d. : non disponible"
SANS_EQUIPEMENT = "Aucun équipement de cette thématique n'est recensé en {annee}."
SANS_COMMENTAIRE = "Aucun commentaire n'a été saisi dans les feuilles de suivi des actions pour {annee}."

# Status words inside sentences: (singular, plural).
STATUTS_DANS_PHRASE: dict[str, tuple[str, str]] = {
    "realisee": ("réalisée", "réalisées"),
    "en_cours": ("en cours", "en cours"),
    "a_engager": ("à engager", "à engager"),
    "reportee": ("reportée", "reportées"),
    "abandonnee": ("abandonnée", "abandonnées"),
    "": ("non renseignée", "non renseignées"),
}

# Articles for generated sentences, keyed by the first word of an indicator label. A label whose first word is
# not listed gets the neutral form "Libellé : valeur en année".
ARTICLES = {
    "taux": "le", "nombre": "le", "montant": "le", "niveau": "le", "volume": "le", "revenu": "le",
    "part": "la", "population": "la", "proportion": "la", "capacité": "la", "couverture": "la", "durée": "la",
    "moyenne": "la", "indice": "l'", "offre": "l'", "effectif": "l'", "avancement": "l'",
}
COMPARAISONS_DANS_PHRASE = {">=": "au moins", "<=": "au plus"}
TITRE_COMMENTAIRES = "### Commentaires des feuilles de suivi"
