"""Every data rule, declared in one table: dataset id -> list of rules (`RULES`).

A rule is one great-expectations expectation on one dataset frame, with its French wording and hint. Datasets
are the frames `pipeline.checks.datasets` builds: one per kind of raw input (all years' `actions` sheets in one
frame, all Caf exports in one long frame…) and one per processed table. Every frame carries `_fichier` (the path
shown to the user) and `_ligne` (the line as a spreadsheet shows it); columns starting with `_` are derived by
the dataset builder for rules that span columns or files (e.g. `_annee_structure`, "2024 / EAJE_X", checked
against the structures of the same year's `equipements` sheets).

Values that depend on the territory (communes, QPV, vocabularies, action ids, years) come from a `Context` at run
time: a rule's `values` is a function of the context. A context value that could not be read (its file is broken)
is None, and the rules that need it are skipped (the broken file is already reported).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from pipeline.checks.result import AVERTISSEMENT, ERREUR
from pipeline.inputs.common import normalize_label

INSEE_CODE = r"^(?:\d{2}|2[AB])\d{3}$"


@dataclass
class Context:
    """Territory facts the rules compare values with (None: unknown because its file is broken)."""

    territoire: str
    communes: set[str] | None = None           # INSEE codes of communes.csv
    qpv: set[str] | None = None                # QPV names of communes.csv
    action_ids: set[str] | None = None         # action ids of ctg.yaml
    first_year: int | None = None              # first year of the convention
    last_year: int | None = None               # last year covered: end of the convention or latest suivi folder
    structures: set[str] | None = None         # "annee / structure_id" known from the equipements sheets
    vocabulary: dict[str, list[str]] = field(default_factory=dict)   # kind -> codes
    thematiques: list[str] = field(default_factory=list)
    indicators: set[str] | None = None         # catalogue ids
    seuil: float = 5


@dataclass(frozen=True)
class Rule:
    expectation: str                  # great-expectations class name
    kwargs: dict                      # static arguments (column, column_list, min_value…)
    text: str                         # the rule in plain French words
    hint: str = ""                    # how to fix it; "{valeurs}" is replaced by the accepted values
    severity: str = ERREUR
    values: Callable[[Context], object] | None = None   # run-time argument (value_set, max_value…)
    argument: str = "value_set"       # name of the run-time argument
    when: tuple | None = None         # rows the rule applies to: (column, "==" or "!=", value)
    shown: str | None = None          # column named in the message (default: the checked column); a derived
                                      # `_…` column of the frame holds the name row by row (long tables)
    values_from: tuple[str, ...] = () # columns whose values are quoted (default: see engine._value_columns)

    @property
    def columns(self) -> list[str]:
        k = self.kwargs
        return list(k.get("column_list") or [c for c in (k.get("column"), k.get("column_A"), k.get("column_B")) if c])

    @property
    def column_shown(self) -> str:
        return self.shown or (self.columns[-1] if self.kwargs.get("column_list") else self.columns[0])


# --- builders: keep the table below readable ----------------------------------------------------------------

def exists(column: str) -> Rule:
    return Rule("ExpectColumnToExist", {"column": column}, "colonne absente",
                f"Ajoutez la colonne « {column} » (voir docs/donnees.md)")


def typed(column: str, type_: str) -> Rule:
    words = {"int64": "nombre entier", "float64": "nombre", "bool": "vrai/faux", "str": "texte"}
    return Rule("ExpectColumnValuesToBeOfType", {"column": column, "type_": type_},
                f"type de colonne inattendu (attendu : {words.get(type_, type_)})", "Contrat : docs/architecture.md")


def unique(*columns: str, text: str, hint: str, **kw) -> Rule:
    if len(columns) == 1:
        return Rule("ExpectColumnValuesToBeUnique", {"column": columns[0]}, text, hint, **kw)
    return Rule("ExpectCompoundColumnsToBeUnique", {"column_list": list(columns)}, text, hint, **kw)


def filled(column: str) -> Rule:
    return Rule("ExpectColumnValuesToMatchRegex", {"column": column, "regex": r"\S"},
                "valeur obligatoire manquante", f"Renseignez « {column} » sur chaque ligne")


def between(column: str, text: str, hint: str, low: float | None = None, high: float | None = None,
            **kw) -> Rule:
    return Rule("ExpectColumnValuesToBeBetween", {"column": column, "min_value": low, "max_value": high}, text,
                hint, **kw)


def in_set(column: str, values: Callable[[Context], object], text: str, hint: str, **kw) -> Rule:
    return Rule("ExpectColumnValuesToBeInSet", {"column": column}, text, hint, values=values, **kw)


def matches(column: str, regex: str, text: str, hint: str, **kw) -> Rule:
    return Rule("ExpectColumnValuesToMatchRegex", {"column": column, "regex": regex}, text, hint, **kw)


def at_least(a: str, b: str, text: str, hint: str, **kw) -> Rule:
    """Column a >= column b where both are filled."""
    return Rule("ExpectColumnPairValuesAToBeGreaterThanB",
                {"column_A": a, "column_B": b, "or_equal": True, "ignore_row_if": "either_value_is_missing"},
                text, hint, **kw)


def empty(column: str, text: str, hint: str, **kw) -> Rule:
    """Derived column must be empty: builders fill it with the offending value only where a rule is broken."""
    return Rule("ExpectColumnValuesToBeNull", {"column": column}, text, hint, **kw)


def codes(kind: str) -> Callable[[Context], list[str]]:
    return lambda ctx: ctx.vocabulary.get(kind)


def with_empty(get: Callable[[Context], object]) -> Callable[[Context], object]:
    return lambda ctx: None if get(ctx) is None else sorted(get(ctx)) + [""]


def first_year(ctx: Context):
    return ctx.first_year


def last_year(ctx: Context):
    return ctx.last_year


def communes(ctx: Context):
    return ctx.communes


def thematiques(ctx: Context):
    return [*ctx.thematiques, "transverse"]


# --- shared wording ---------------------------------------------------------------------------------------

NEGATIF = "Écrivez un nombre positif ou nul"
VOCABULAIRE = "Valeurs acceptées (code ou libellé) : {valeurs} (voir metadata/vocabulaire.yaml)"


def year_rules() -> list[Rule]:
    """`annee` of a follow-up sheet: the folder's year, or an earlier year of the convention (a correction)."""
    return [
        at_least("_annee_dossier", "annee", "année postérieure à celle du dossier",
                 "Une feuille du dossier suivi/<annee>/ décrit cette année-là (ou corrige une année passée)",
                 shown="annee"),
        between("annee", "année antérieure au début de la convention",
                "Vérifiez l'année ; la convention commence en {valeurs}", values=first_year, argument="min_value"),
        empty("_annee_correction", "ligne d'une année antérieure au dossier : elle remplace les chiffres de "
              "cette année-là", "Normal pour une correction ; sinon, corrigez l'année", shown="annee",
              severity=AVERTISSEMENT),
    ]


RULES: dict[str, list[Rule]] = {
    # Caf open-data exports, all files in one long frame: one row per (line, measure column).
    "caf": [
        unique("_fichier", "code_geo", "annee", "categorie", shown="_cle", values_from=("code_geo", "annee"),
               when=("_premiere_mesure", "==", True), text="ligne en double (même territoire, même date)",
               hint="Gardez une seule ligne par territoire et par date (exportez de nouveau le fichier)"),
        between("valeur", "nombre négatif", "Les effectifs, places et montants publiés par la Caf sont ≥ 0",
                low=0, when=("_genre", "!=", "taux"), shown="_colonne"),
        between("valeur", "taux de couverture négatif", "Un taux de couverture est ≥ 0", low=0,
                when=("_genre", "==", "taux"), shown="_colonne"),
        between("valeur", "taux de couverture supérieur à 100",
                "Possible (le taux compte des places, pas des enfants) : vérifiez la valeur", high=100,
                when=("_genre", "==", "taux"), severity=AVERTISSEMENT, shown="_colonne"),
        between("annee", "année postérieure à la dernière année de suivi",
                "Vérifiez la date de référence de l'export (dernière année attendue : {valeurs})",
                values=last_year, argument="max_value", severity=AVERTISSEMENT, shown="_cle_periode"),
    ],
    # Territory rows expected in each Caf export (one row per file, year and expected code).
    "caf.couverture": [
        empty("_absent", "territoire absent de l'export pour cette année : l'indicateur sera manquant",
              "Vérifiez que l'export couvre tout le territoire (codes INSEE à 5 caractères, zéros compris)",
              shown="code", severity=AVERTISSEMENT),
    ],
    "insee.populations": [
        matches("code_insee", INSEE_CODE, "code INSEE invalide", "Code à 5 caractères, par exemple 26198"),
        unique("code_insee", "millesime", text="population en double pour cette commune et ce millésime",
               hint="Une seule ligne par (code_insee, millesime)"),
        between("population_municipale", "population négative", NEGATIF, low=0),
        between("population_totale", "population négative", NEGATIF, low=0),
        at_least("population_totale", "population_municipale",
                 "population totale inférieure à la population municipale",
                 "La population totale comprend la population municipale", severity=AVERTISSEMENT),
    ],
    "insee.couverture": [
        empty("_absent", "population légale absente pour une commune du territoire : les taux de cette année "
              "seront manquants", "Ajoutez le millésime N-3 de chaque année de rapport (source INSEE)",
              shown="code_insee", severity=AVERTISSEMENT),
    ],
    # Optional inputs of the final evaluation (pipeline.impact).
    "bilan.enseignements": [
        in_set("_theme", lambda ctx: [normalize_label(t) for t in ctx.thematiques] + ["", "transverse", "ensemble",
                                                                                    "toutes"],
               "thématique inconnue", "Valeurs possibles : {valeurs}, ou vide pour l'ensemble de la convention",
               shown="thematique"),
        in_set("_type", lambda ctx: ["enseignement", "proposition"], "type inconnu",
               "Écrivez « enseignement » ou « proposition »", shown="type"),
    ],
    "insee.indice_prix": [
        unique("annee", text="année en double", hint="Une ligne par année"),
        Rule("ExpectColumnValuesToBeBetween", {"column": "indice", "min_value": 0, "strict_min": True},
             "indice nul ou négatif", "L'indice des prix est un nombre positif (base 100 une année donnée)"),
    ],
    "territoire.communes": [
        matches("code_insee", INSEE_CODE, "code INSEE invalide", "Code à 5 caractères, par exemple 26198"),
        unique("code_insee", text="commune en double", hint="Une seule ligne par commune"),
        in_set("niveau_service", lambda ctx: ["pole_superieur", "pole_intermediaire", "pole_proximite", ""],
               "niveau de service inconnu", "Valeurs acceptées : {valeurs}"),
    ],
    "suivi.equipements": [
        filled("structure_id"), filled("nom"),
        unique("_fichier", "structure_id", shown="structure_id", text="identifiant de structure en double",
               hint="Chaque structure figure une seule fois dans la feuille"),
        in_set("type", codes("types_structure"), "type de structure hors vocabulaire", VOCABULAIRE),
        in_set("code_insee", communes, "commune hors du territoire",
               "Écrivez le code INSEE d'une commune de communes.csv (ex. 26198)"),
        in_set("qpv", with_empty(lambda ctx: ctx.qpv), "quartier prioritaire inconnu",
               "Écrivez le nom du QPV tel que dans communes.csv ({valeurs}), ou laissez vide"),
        between("capacite", "capacité négative", "La capacité est un nombre de places ≥ 0", low=0),
        at_least("date_fermeture", "date_ouverture", "fermeture avant l'ouverture", "Vérifiez les deux dates"),
        at_least("_annee_dossier", "_annee_ouverture", "structure ouverte après l'année du dossier",
                 "Vérifiez la date d'ouverture", shown="date_ouverture", severity=AVERTISSEMENT),
    ],
    "suivi.activite": [
        filled("structure_id"),
        *year_rules(),
        in_set("indicateur", codes("indicateurs_activite"), "indicateur d'activité hors vocabulaire", VOCABULAIRE),
        in_set("_annee_structure", lambda ctx: ctx.structures, "structure inconnue cette année-là",
               "La structure doit figurer dans la feuille equipements de la même année (ou TERRITOIRE)",
               shown="structure_id"),
        between("valeur", "valeur négative", "Les comptes d'activité sont ≥ 0", low=0),
        unique("_fichier", "annee", "structure_id", "indicateur", shown="indicateur",
               text="indicateur en double pour cette structure et cette année",
               hint="Une seule ligne par (annee, structure_id, indicateur)"),
    ],
    "suivi.actions": [
        filled("action_id"),
        in_set("action_id", lambda ctx: ctx.action_ids, "action absente du référentiel",
               "Écrivez l'identifiant d'une action de ctg.yaml, par exemple petite_enfance.1.04 "
               "(liste : ctg referentiel --format markdown)"),
        in_set("statut", codes("statuts"), "statut hors vocabulaire", VOCABULAIRE),
        between("avancement", "avancement hors de 0-100", "L'avancement est un pourcentage entre 0 et 100",
                low=0, high=100),
        unique("_fichier", "action_id", shown="action_id", text="action suivie deux fois",
               hint="Une seule ligne par action"),
        between("_ecart_suivi", "date de suivi éloignée de l'année du dossier", "Vérifiez l'année de la date",
                low=-1, high=1, shown="date_suivi", severity=AVERTISSEMENT),
    ],
    "suivi.financements": [
        *year_rules(),
        in_set("financeur", codes("financeurs"), "financeur hors vocabulaire", VOCABULAIRE),
        in_set("dispositif", codes("dispositifs"), "dispositif hors vocabulaire", VOCABULAIRE),
        in_set("thematique", thematiques, "thématique inconnue", "Valeurs acceptées : {valeurs}, ou vide"),
        between("montant", "montant négatif", "Écrivez le montant en euros, ≥ 0", low=0),
    ],
    # Processed tables (data/processed/<siren>/*.parquet): the contract of docs/architecture.md.
    "tables.indicateurs": [
        *[exists(c) for c in ("annee", "thematique", "niveau", "code_geo", "indicateur", "libelle", "valeur",
                              "unite", "source", "millesime", "secret")],
        typed("annee", "int64"), typed("valeur", "float64"), typed("millesime", "int64"), typed("secret", "bool"),
        typed("code_geo", "str"), typed("indicateur", "str"),
        unique("annee", "niveau", "code_geo", "indicateur", shown="indicateur", text="indicateur en double",
               hint="Une ligne par (annee, niveau, code_geo, indicateur)"),
        in_set("niveau", lambda ctx: ["commune", "epci", "qpv", "departement", "france", "structure"],
               "niveau inconnu", "Valeurs acceptées : {valeurs}"),
        in_set("thematique", thematiques, "thématique inconnue", "Valeurs acceptées : {valeurs}"),
        in_set("indicateur", lambda ctx: ctx.indicators, "indicateur absent du catalogue",
               "Voir metadata/indicateurs.yaml"),
        in_set("code_geo", communes, "commune hors du territoire", "Voir communes.csv",
               when=("niveau", "==", "commune")),
        in_set("code_geo", lambda ctx: [ctx.territoire], "EPCI autre que le territoire", "Voir --territoire",
               when=("niveau", "==", "epci")),
        between("valeur", "valeur négative", "Seules les évolutions peuvent être négatives", low=0,
                when=("_genre", "!=", "evolution")),
        between("valeur", "part hors de 0-100", "Une part est un pourcentage entre 0 et 100", low=0, high=100,
                when=("_genre", "==", "part")),
        between("valeur", "taux supérieur à 100", "Possible pour un taux de couverture : vérifiez la valeur",
                high=100, when=("_genre", "==", "taux"), severity=AVERTISSEMENT),
        empty("valeur", "valeur secrète publiée", "Une cellule secrète n'a pas de valeur",
              when=("secret", "==", True)),
        empty("_petite_valeur", "compte inférieur au seuil du secret statistique publié",
              "Les comptes de 1 à seuil-1 sont masqués aux niveaux commune, QPV et structure", shown="valeur"),
        empty("_secret_isole", "seule cellule secrète de son groupe : le total permet de la retrouver",
              "Secret secondaire : masquez aussi la plus petite autre cellule (pipeline.checks.secret)",
              shown="code_geo"),
        empty("_manquante", "valeur manquante (ni publiée, ni secrète)", "L'indicateur sera « n.d. » dans les "
              "rapports", shown="indicateur", severity=AVERTISSEMENT),
    ],
    "tables.actions": [
        *[exists(c) for c in ("annee", "thematique", "action_id", "libelle", "statut", "avancement")],
        typed("annee", "int64"), typed("avancement", "float64"),
        unique("annee", "action_id", shown="action_id", text="action en double",
               hint="Une ligne par (annee, action_id)"),
        in_set("action_id", lambda ctx: ctx.action_ids, "action absente du référentiel", "Voir ctg.yaml"),
        in_set("statut", with_empty(codes("statuts")), "statut hors vocabulaire", VOCABULAIRE),
        between("avancement", "avancement hors de 0-100", "Pourcentage entre 0 et 100", low=0, high=100),
    ],
    "tables.financements": [
        *[exists(c) for c in ("annee", "financeur", "dispositif", "thematique", "montant")],
        typed("annee", "int64"), typed("montant", "float64"),
        in_set("financeur", codes("financeurs"), "financeur hors vocabulaire", VOCABULAIRE),
        in_set("thematique", thematiques, "thématique inconnue", "Valeurs acceptées : {valeurs}"),
        between("montant", "montant négatif", "Montants en euros, ≥ 0", low=0),
    ],
    "tables.equipements": [
        *[exists(c) for c in ("annee", "structure_id", "nom", "type", "code_insee", "qpv", "capacite")],
        typed("annee", "int64"), typed("capacite", "float64"),
        unique("annee", "structure_id", shown="structure_id", text="structure en double",
               hint="Une ligne par (annee, structure_id)"),
        in_set("type", codes("types_structure"), "type de structure hors vocabulaire", VOCABULAIRE),
        in_set("code_insee", communes, "commune hors du territoire", "Voir communes.csv"),
        between("capacite", "capacité négative", "Nombre de places ≥ 0", low=0),
    ],
    "tables.activite": [
        *[exists(c) for c in ("annee", "structure_id", "indicateur", "valeur", "unite")],
        typed("annee", "int64"), typed("valeur", "float64"),
        unique("annee", "structure_id", "indicateur", shown="indicateur", text="indicateur en double",
               hint="Une ligne par (annee, structure_id, indicateur)"),
        in_set("indicateur", codes("indicateurs_activite"), "indicateur d'activité hors vocabulaire", VOCABULAIRE),
        between("valeur", "valeur négative", "Comptes ≥ 0", low=0),
    ],
}
