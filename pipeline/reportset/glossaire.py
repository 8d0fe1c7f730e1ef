"""Glossary of the acronyms used by the convention, its referential and the reports; plain-language expansion.

`GLOSSAIRE` is the one list (reviewable without reading code). `glossaire()` makes the report's chapter;
`expliquer_sigles(texte)` spells out, at its first use, every acronym of a text meant for residents.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from pipeline.report.sortie import texte
from pipeline.reportset.titres import Chapitre


@dataclass(frozen=True)
class Sigle:
    sigle: str  # as printed in the glossary
    developpe: str  # expanded form, in plain words (used in the residents' letter)
    definition: str
    formes: tuple[str, ...] = ()  # other spellings met in the texts (« Psu », « PSU »)

    @property
    def toutes_formes(self) -> tuple[str, ...]:
        return (self.sigle, *self.formes)


GLOSSAIRE: tuple[Sigle, ...] = (
    Sigle("ACF", "animation collective familles",
          "Financement de la Caf au projet « familles » d'un centre social, porté par un référent familles.", ("Acf",)),
    Sigle("AGC", "animation globale et coordination",
          "Financement de la Caf au pilotage et au projet d'ensemble d'un centre social.", ("Agc",)),
    Sigle("ALSH", "accueil de loisirs sans hébergement",
          "Centre de loisirs : accueil périscolaire (avant et après l'école, mercredi) ou extrascolaire (vacances).",
          ("Alsh",)),
    Sigle("ANSA", "Agence nouvelle des solidarités actives",
          "Association qui conduit des expérimentations sociales, dont « Parler Bambin » dans les crèches."),
    Sigle("Ase", "aide sociale à l'enfance",
          "Service du Département qui protège les enfants en danger ou en risque de l'être.", ("ASE",)),
    Sigle("AVS", "animation de la vie sociale",
          "Politique de la Caf qui soutient les centres sociaux et les espaces de vie sociale.", ("Avs",)),
    Sigle("Avip", "crèche à vocation d'insertion professionnelle",
          "Places de crèche réservées aux enfants de parents qui cherchent un emploi ou une formation.", ("AVIP",)),
    Sigle("BAFA", "brevet d'aptitude aux fonctions d'animateur",
          "Diplôme qui permet d'encadrer des enfants et des jeunes en accueil collectif de mineurs."),
    Sigle("Caf", "caisse d'allocations familiales",
          "Organisme de la Sécurité sociale qui verse les prestations familiales et sociales et finance des services "
          "aux familles ; ici la Caf de la Drôme.", ("CAF",)),
    Sigle("CCAS", "centre communal d'action sociale",
          "Service d'aide sociale d'une commune.", ("Ccas",)),
    Sigle("Cej", "contrat enfance jeunesse",
          "Ancien contrat de financement entre la Caf et les communes, remplacé par la convention territoriale globale "
          "et ses « bonus territoire ».", ("CEJ",)),
    Sigle("Cjc", "conseil des jeunes citoyens",
          "Instance de participation des jeunes rattachée à une commune.", ("CJC",)),
    Sigle("CLAS", "contrat local d'accompagnement à la scolarité",
          "Aide aux devoirs et accompagnement des parents dans la scolarité de leurs enfants, hors temps scolaire.",
          ("Clas",)),
    Sigle("CMG", "complément de libre choix du mode de garde",
          "Aide de la Caf aux parents qui emploient un assistant maternel ou une garde à domicile.", ("Cmg",)),
    Sigle("COPIL", "comité de pilotage",
          "Instance qui suit la convention deux fois par an (Montélimar Agglomération et la Caf).", ("Copil",)),
    Sigle("Ctg", "convention territoriale globale",
          "Accord signé par la Caf et une intercommunalité pour 2021-2025 : un projet partagé de services aux "
          "familles, décliné en feuilles de route par thématique.", ("CTG",)),
    Sigle("EAJE", "établissement d'accueil du jeune enfant",
          "Crèche, multi-accueil, micro-crèche ou crèche familiale qui accueille les enfants de moins de 6 ans.",
          ("Eaje",)),
    Sigle("EPCI", "établissement public de coopération intercommunale",
          "Regroupement de communes, ici Montélimar Agglomération (27 communes).", ("Epci",)),
    Sigle("ETP", "équivalent temps plein",
          "Unité de mesure d'un temps de travail : 1 ETP = un poste à temps plein."),
    Sigle("EVS", "espace de vie sociale",
          "Structure associative de proximité, agréée par la Caf, qui développe des activités avec et pour les "
          "habitants.", ("Evs",)),
    Sigle("Filoue", "fichier localisé des enfants usagers d'EAJE",
          "Fichier anonyme de la Caisse nationale des allocations familiales qui décrit les enfants accueillis en "
          "crèche (âge, commune, revenus des parents).", ("FILOUE",)),
    Sigle("INSEE", "Institut national de la statistique et des études économiques",
          "Il publie notamment les populations légales des communes.", ("Insee",)),
    Sigle("LAEP", "lieu d'accueil enfants-parents",
          "Lieu gratuit et anonyme où les enfants de moins de 6 ans viennent avec un parent pour jouer et rencontrer "
          "d'autres familles.", ("Laep",)),
    Sigle("Msap", "maison de services au public",
          "Guichet d'accès à plusieurs services publics ; les Msap sont devenues des espaces France services.",
          ("MSAP",)),
    Sigle("Pmi", "protection maternelle et infantile",
          "Service du Département pour la santé des futures mères et des enfants de moins de 6 ans ; il agrée les "
          "assistants maternels.", ("PMI",)),
    Sigle("PRE", "programme de réussite éducative",
          "Accompagnement individuel d'enfants de 2 à 16 ans en fragilité, dans les quartiers prioritaires."),
    Sigle("PS Jeunes", "prestation de service Jeunes",
          "Financement de la Caf pour des postes d'animateurs jeunesse qualifiés et des projets d'adolescents.",
          ("Ps Jeunes", "PS jeunes")),
    Sigle("PSU", "prestation de service unique",
          "Financement de la Caf aux crèches, calculé par heure d'accueil ; les familles paient selon leurs revenus.",
          ("Psu",)),
    Sigle("QF", "quotient familial",
          "Revenus mensuels du foyer divisés par un nombre de parts qui dépend de la taille de la famille."),
    Sigle("QPV", "quartier prioritaire de la politique de la ville",
          "Quartier où le revenu des habitants est faible et où l'État et les collectivités renforcent leur action.",
          ("Qpv",)),
    Sigle("REAAP", "réseau d'écoute, d'appui et d'accompagnement des parents",
          "Actions collectives de soutien aux parents (groupes de parole, ateliers, conférences).", ("Reaap",)),
    Sigle("RPE", "relais petite enfance",
          "Service gratuit d'information pour les parents et les assistants maternels (ancien « relais assistants "
          "maternels », Ram).", ("Rpe", "Ram", "RAM")),
    Sigle("RSA", "revenu de solidarité active",
          "Revenu minimum versé par la Caf aux personnes sans ressources ou avec de faibles ressources.", ("Rsa",)),
    Sigle("SIREN", "système d'identification du répertoire des entreprises",
          "Numéro à 9 chiffres qui identifie une entreprise ou une collectivité (Montélimar Agglomération : "
          "200040459)."),
    Sigle("UNICEF", "Fonds des Nations unies pour l'enfance",
          "Son label « Ville amie des enfants » engage les collectivités pour les droits de l'enfant."),
)

_PAR_FORME = {forme: s for s in GLOSSAIRE for forme in s.toutes_formes}
_MOTIF = re.compile(r"(?<![\w-])(" + "|".join(sorted(map(re.escape, _PAR_FORME), key=len, reverse=True))
                    + r")(?![\w-])")
SIGLE_INCONNU = re.compile(r"(?<![\w-])[A-Z][A-Z]{1,}(?![\w-])")  # two capitals or more: an acronym to explain


def glossaire() -> Chapitre:
    """The glossary chapter: one definition per acronym, alphabetical order."""
    lignes = ["Sigles employés par la convention, ses feuilles de route et les rapports, par ordre alphabétique.", ""]
    for s in sorted(GLOSSAIRE, key=lambda s: s.sigle.lower()):
        autres = [f for f in s.formes if f.lower() != s.sigle.lower()]
        aussi = f" (aussi : {', '.join(autres)})" if autres else ""
        lignes += [f"**{texte(s.sigle)}**{texte(aussi)}", f":   *{texte(s.developpe)}.* {texte(s.definition)}", ""]
    return Chapitre("glossaire", "Glossaire", "\n".join(lignes))


def expliquer_sigles(phrase: str, deja: set[str]) -> str:
    """Each known acronym's first use (over the calls sharing `deja`) followed by its expansion: « la Caf » →
    « la Caf (caisse d'allocations familiales) », « (CLAS) » → « (CLAS, contrat local …) ». Already explained
    ones are left as they are."""
    def remplacer(m: re.Match) -> str:
        s = _PAR_FORME[m.group(1)]
        if s.sigle in deja:
            return m.group(1)
        deja.add(s.sigle)
        entre_parentheses = phrase[m.start() - 1:m.start()] == "(" and phrase[m.end():m.end() + 1] == ")"
        return f"{m.group(1)}, {s.developpe}" if entre_parentheses else f"{m.group(1)} ({s.developpe})"

    return _MOTIF.sub(remplacer, phrase)


def sigles_inexpliques(texte_brut: str) -> list[str]:
    """Acronyms (a known form, or two capitals or more) whose first use is not followed by « (explanation) », or,
    inside brackets, by « , explanation »."""
    connus = list(_MOTIF.finditer(texte_brut))
    dedans = {i for m in connus for i in range(*m.span())}
    autres = [m for m in SIGLE_INCONNU.finditer(texte_brut) if m.start() not in dedans]
    premiers: dict[str, bool] = {}
    for m in sorted(connus + autres, key=lambda m: m.start()):
        cle = _PAR_FORME[m.group(0)].sigle if m.group(0) in _PAR_FORME else m.group(0)
        apres, avant = texte_brut[m.end():m.end() + 2], texte_brut[m.start() - 1:m.start()]
        premiers.setdefault(cle, apres == " (" or (avant == "(" and apres == ", "))
    return [cle for cle, explique in premiers.items() if not explique]
