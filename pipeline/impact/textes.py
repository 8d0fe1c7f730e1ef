"""Every French sentence of the social-impact chapter and of the final evaluation, in one reviewable place."""

from __future__ import annotations

NIVEAUX = {
    "moyens": "Moyens",
    "realisations": "Réalisations",
    "resultats": "Résultats",
    "impact": "Impact",
}
DEFINITIONS_NIVEAUX = {
    "moyens": "financements par financeur et dispositif, personnels (ETP), coûts unitaires",
    "realisations": "places, structures, ateliers et actions réalisés",
    "resultats": "couverture, fréquentation, enfants, jeunes et familles touchés, participation",
    "impact": "égalité des chances : écarts entre les QPV et le reste du territoire, entre la ville-centre et "
              "les autres communes",
}

INTRO_IMPACT = (
    "La convention qualifie son action d'**investissement social commun** et prévoit « {intention} ». Ce chapitre "
    "relie, pour chaque thématique, les moyens engagés à ce qu'ils ont produit (réalisations), aux publics "
    "touchés (résultats) et aux écarts territoriaux qu'ils visent à réduire (impact). Chaque maillon s'appuie sur "
    "un indicateur du catalogue ; un maillon sans donnée est signalé comme tel, jamais supposé."
)
INTENTION_PAR_DEFAUT = "une réflexion partagée sur l'impact social de l'investissement social commun"

# Logic model
TITRE_MODELE = "Modèle logique — {libelle}"
MODELE_VIDE = "Aucun indicateur du catalogue n'est rattaché au modèle logique de cette thématique."
CASE_VIDE = "aucun indicateur"
SANS_VALEUR = "pas de valeur publiée"
IMPACT_NON_CALCULABLE = "écart non calculable (pas de valeur par QPV ni par commune)"

# Social investment
EUROS_COURANTS = ("Montants en **euros courants** (non corrigés de l'inflation) : aucun indice des prix n'est fourni "
                  "(fichier facultatif `raw/insee/indice_prix.csv`, voir docs/donnees.md).")
EUROS_CONSTANTS = ("Montants en **euros constants de {annee}** : chaque montant est corrigé de l'inflation avec "
                   "l'indice des prix fourni (`raw/insee/indice_prix.csv`, {source}).")
INDICE_INCOMPLET = ("L'indice des prix fourni ne couvre pas toutes les années ({manquantes}) : montants en euros "
                    "courants.")
SANS_FINANCEMENT = "Aucune feuille de financement n'est disponible : l'investissement social ne peut pas être chiffré."
COUTS_LECTURE = ("Un coût unitaire rapporte l'ensemble des financements d'une thématique (tous partenaires) à ce "
                 "qu'elle a produit : il ne dit rien de la qualité du service rendu et peut varier avec le "
                 "périmètre des financements déclarés.")

# Equity
SANS_ECART = ("Aucun indicateur marqué « impact » n'est publié par QPV ou par commune : les écarts territoriaux ne "
              "peuvent pas être mesurés avec les données disponibles.")
LECTURE_QPV = ("La part de « {libelle} » réalisée dans les structures implantées en QPV est passée de {a} en "
               "{annee_a} à {b} en {annee_b} ({ecart}).")
LECTURE_QPV_STABLE = ("La part de « {libelle} » réalisée dans les structures implantées en QPV est restée stable "
                      "({a} en {annee_a}, {b} en {annee_b}).")
LECTURE_CENTRE = ("L'écart de « {libelle} » entre {centre} et {autres} {verbe} : {a} en {annee_a}, {b} en "
                  "{annee_b} ({mesure}).")
VERBES_ECART = {-1: "s'est réduit", 1: "s'est creusé", 0: "est resté stable"}
UNE_SEULE_ANNEE = "Une seule année est disponible ({annee}) : pas d'évolution à commenter."
BAS_REVENUS = ("**Familles à bas revenus.** Les données ne disent pas qui, parmi les publics accueillis, a de bas "
               "revenus (pas de répartition des usagers par quotient familial). Pour situer le besoin : {phrase}")

# What the data cannot show
LIMITES = [
    "**Effets qualitatifs.** Les indicateurs comptent des places, des heures, des inscrits ou des structures ; ils "
    "ne mesurent ni la qualité de l'accueil, ni le bien-être des enfants, ni la confiance des familles, ni "
    "l'autonomie acquise par les jeunes. Ces effets demandent des enquêtes ou des entretiens auprès des familles.",
    "**Publics réellement touchés.** Un même enfant ou une même famille peut être compté dans plusieurs "
    "structures ; les feuilles d'activité ne permettent pas de compter des personnes distinctes, ni de savoir "
    "où elles habitent (une activité « en QPV » est celle d'une structure implantée en QPV).",
    "**Familles à bas revenus.** Aucune donnée ne répartit les usagers des services par quotient familial : "
    "l'accès des familles modestes ne peut être approché que par le contexte (part des foyers allocataires à bas "
    "revenus), pas mesuré.",
    "**Population des QPV.** La population des quartiers prioritaires n'est pas dans les données : un taux de "
    "couverture propre aux QPV ne peut pas être calculé, seulement la part de l'activité qui s'y déroule.",
    "**Délais des sources publiques.** Les données de la Caf paraissent avec un à deux ans de retard (taux de "
    "couverture : deux ans) et la population légale de l'année N est celle de N-3 : les derniers effets de la "
    "convention ne seront visibles dans ces sources qu'en {annee_visible}.",
    "**Causalité.** Une évolution observée pendant la convention n'est pas forcément due à la convention "
    "(démographie, emploi, politiques nationales) : les indicateurs décrivent, ils ne prouvent pas.",
    "**Coûts.** Les montants sont ceux des feuilles de financement : les contributions non financières (locaux, "
    "personnel mis à disposition) et les financements non déclarés n'y figurent pas.",
]

# Year-over-year table
REGLE_EVOLUTION = ("Variation signalée (colonne « Signal ») quand elle atteint {points} pour un taux ou {pourcentage} pour un "
                   "effectif, un montant ou un coût (params.yaml, impact.evolution). Valeurs de l'ensemble du "
                   "territoire ; « favorable » ou « défavorable » selon le sens souhaité de l'indicateur.")
SANS_VALEUR_JUSQUA = "Sans valeur publiée jusqu'en {annee} : {liste}."
ENSEMBLE_CONVENTION = "Ensemble de la convention"
SIGNAL_HAUSSE, SIGNAL_BAISSE = "hausse", "baisse"

# Targets
STATUTS_CIBLE = {
    "atteinte": "Atteinte",
    "partielle": "Partiellement atteinte",
    "non_atteinte": "Non atteinte",
    "sans_donnee": "Pas de donnée",
    "non_mesurable": "Non mesurable avec les données disponibles",
}
STATUTS_CIBLE_COMPTE = {  # (singular, plural) after a number
    "atteinte": ("atteinte", "atteintes"),
    "partielle": ("partiellement atteinte", "partiellement atteintes"),
    "non_atteinte": ("non atteinte", "non atteintes"),
    "sans_donnee": ("sans donnée", "sans donnée"),
    "non_mesurable": ("non mesurable", "non mesurables"),
}
PART_PROGRESSION = "{part} de la progression attendue depuis {debut}"
PART_VALEUR = "{part} de la valeur visée"
REGLE_CIBLES = ("Chaque cible est jugée sur la valeur de son année d'échéance (à défaut, la dernière valeur publiée "
                "avant l'échéance) et sur son périmètre : une cible portant sur une structure est jugée sur les "
                "données de cette structure. « Partiellement atteinte » : au moins {ratio} de la progression "
                "attendue depuis {debut} est réalisée (params.yaml, bilan.partiellement_atteinte).")
PORTEE_TERRITOIRE = "ensemble du territoire"
PORTEE_DEDIEE = "ensemble du territoire (indicateur dédié à cette cible)"
SANS_CIBLE = "La convention ne fixe pas de cible chiffrée pour cette thématique."

# Evaluation questions
QUESTIONS = {
    "pertinence": "Pertinence : les objectifs répondaient-ils aux besoins ?",
    "efficacite": "Efficacité : les objectifs ont-ils été atteints ?",
    "moyens": "Adéquation des moyens : les moyens étaient-ils à la hauteur ?",
    "durabilite": "Durabilité : les effets sont-ils durables ?",
}
INTRO_QUESTIONS = (
    "Les quatre questions évaluatives des CTG sont traitées pour chaque thématique, avec les données qui y "
    "répondent. Quand les données ne permettent pas de répondre, le rapport le dit : la réponse relève alors du "
    "jugement du comité de pilotage et des enseignements ci-dessous."
)
PERTINENCE_SANS_REFERENCE = (
    "Aucun indicateur de cette thématique n'est publié pour le département ou la France : les données ne permettent "
    "pas de dire si le besoin du territoire est plus ou moins fort qu'ailleurs. La pertinence des objectifs "
    "renvoie au diagnostic partagé de {debut}."
)
DURABILITE_LIMITE = (
    "Les données s'arrêtent en {fin} : elles montrent si les réalisations et les résultats se sont maintenus "
    "jusqu'à la fin de la convention, pas s'ils dureront après elle."
)
DURABILITE_VIDE = "Aucun indicateur de réalisation ou de résultat n'a de valeurs sur plusieurs années."
MOYENS_VIDE = "Aucun indicateur de moyens n'est renseigné pour cette thématique : l'adéquation ne peut pas être jugée."

# Roadmaps
SANS_ACTION = "Aucune action n'est suivie dans les feuilles de suivi."

# Lessons
TITRE_AUTOMATIQUES = "Constats automatiques"
TITRE_EVALUATEURS = "Enseignements et propositions des évaluateurs"
SANS_FEUILLE_ENSEIGNEMENTS = (
    "Aucune feuille d'enseignements n'a été fournie. Les évaluateurs peuvent déposer leurs enseignements et "
    "propositions dans `raw/territoires/{siren}/suivi/bilan/enseignements.csv` (ou `.xlsx`), colonnes "
    "`thematique`, `type` (enseignement ou proposition) et `texte` (voir docs/donnees.md)."
)
AUCUN_CONSTAT = "Aucun constat automatique selon ces règles."
TYPES_ENSEIGNEMENT = {"enseignement": "Enseignements", "proposition": "Propositions pour la prochaine convention"}
