"""The indicator catalogue (`metadata/indicateurs.yaml`) and the engine that evaluates its formulas.

A formula is a small mapping with a `type`; `FORMULAS` lists the types, their keys and what they compute
(docs/donnees.md has the French guide for analysts). Operands of `ratio` and `somme` are either another
indicator's id or an inline formula. Every evaluation yields rows `annee, niveau, code_geo, valeur, secret,
millesime`; `compute_indicators` keeps the levels the entry declares and adds its metadata.

Statistical secrecy: counts of people or households (Caf `indfoy_*`/`indnbp_*` fields, activity indicators marked
`secret` in the vocabulary, and every indicator marked `secret: true`) below `seuil` at a fine level (commune,
QPV, structure) are hidden (valeur NaN, secret True) — zero is not hidden: it discloses nobody. Caf blanks are
secret. Sums to the EPCI use the unmasked values; a ratio is secret when one of its operands is.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd
import yaml

from pipeline.inputs.vocabulary import load_vocabulary
from pipeline.referential import THEMATIQUE_ID

KEY = ["annee", "niveau", "code_geo"]
ROWS = [*KEY, "valeur", "secret", "millesime"]
OUTPUT_COLUMNS = ["annee", "thematique", "niveau", "code_geo", "indicateur", "libelle", "valeur", "unite",
                  "source", "millesime", "secret"]
NIVEAUX = ("commune", "epci", "qpv", "departement", "france", "structure")
FINE_LEVELS = ("commune", "qpv", "structure")
SENS = ("hausse", "baisse", "neutre")
CAF_COUNT_PREFIXES = ("indfoy_", "indnbp_")

# type -> (required keys, optional keys)
FORMULAS: dict[str, tuple[set, set]] = {
    "champ": ({"source", "champ"}, {"categories", "agregation"}),
    "ratio": ({"numerateur", "denominateur"}, {"facteur"}),
    "somme": ({"termes"}, set()),
    "evolution": ({"operande"}, {"annee_reference"}),
    "population": (set(), {"champ"}),
    "equipements": (set(), {"types", "mesure"}),
    "activite": ({"indicateur"}, {"types", "mesure"}),
    "financement": (set(), {"financeurs", "dispositifs", "thematiques"}),
    "actions": (set(), {"statuts", "mesure", "thematique"}),
    "python": ({"fonction"}, set()),
}
FIELDS = {"id", "libelle", "thematique", "definition", "formule", "unite", "sens", "source", "niveaux",
          "decalage", "cible", "principal", "secret"}
# optional: level(s) of the social-impact logic model the indicator documents (pipeline/impact), one or a list
MODELE_LOGIQUE = ("moyens", "realisations", "resultats", "impact")
OPTIONAL_FIELDS = {"modele_logique"}


class CatalogueError(ValueError):
    """An invalid catalogue entry (French message naming the entry)."""

    exit_code = 2


@dataclass
class Inputs:
    """Everything formulas read. Local tables are the processed ones (see docs/architecture.md)."""

    territoire: str
    communes: pd.DataFrame        # code_insee, commune, ...
    populations: pd.DataFrame     # annee, code_insee, millesime, population_municipale, population_totale
    caf: pd.DataFrame             # pipeline.inputs.caf long table
    equipements: pd.DataFrame
    activite: pd.DataFrame
    financements: pd.DataFrame
    actions: pd.DataFrame
    seuil: float = 5


# --- catalogue ---------------------------------------------------------------------------------------------

def _check_formula(entry_id: str, formula, ids: set[str], where: str = "formule") -> None:
    if isinstance(formula, str):
        if formula not in ids:
            raise CatalogueError(f"Indicateur « {entry_id} » : {where} renvoie à « {formula} », absent du catalogue")
        return
    if not isinstance(formula, dict) or "type" not in formula:
        raise CatalogueError(f"Indicateur « {entry_id} » : {where} doit être un dictionnaire avec une clé « type »")
    kind = formula["type"]
    if kind not in FORMULAS:
        raise CatalogueError(f"Indicateur « {entry_id} » : type de formule inconnu « {kind} » "
                             f"(types acceptés : {', '.join(FORMULAS)})")
    required, optional = FORMULAS[kind]
    keys = set(formula) - {"type"}
    if required - keys or keys - required - optional:
        raise CatalogueError(f"Indicateur « {entry_id} » : formule « {kind} » — clés obligatoires "
                             f"{sorted(required)}, facultatives {sorted(optional)}, lues {sorted(keys)}")
    if kind == "python" and formula["fonction"] not in PYTHON_FUNCTIONS:
        raise CatalogueError(f"Indicateur « {entry_id} » : fonction Python inconnue « {formula['fonction']} » "
                             f"(connues : {', '.join(sorted(PYTHON_FUNCTIONS))})")
    for name in ("numerateur", "denominateur", "operande"):
        if name in formula:
            _check_formula(entry_id, formula[name], ids, f"{where}.{name}")
    for i, term in enumerate(formula.get("termes", [])):
        _check_formula(entry_id, term, ids, f"{where}.termes[{i}]")


def load_catalogue(path: Path) -> dict[str, dict]:
    """Read and validate the catalogue; returns {id: entry} in file order. Raises CatalogueError (French)."""
    with open(path, encoding="utf-8") as f:
        data = yaml.load(f, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader)) or {}
    entries = data.get("indicateurs") if isinstance(data, dict) else None
    if not isinstance(entries, list):
        raise CatalogueError(f"{Path(path).name} : clé « indicateurs » (liste) introuvable")
    catalogue: dict[str, dict] = {}
    for i, entry in enumerate(entries):
        entry_id = entry.get("id") if isinstance(entry, dict) else None
        if not entry_id:
            raise CatalogueError(f"{Path(path).name} : l'entrée n° {i + 1} n'a pas d'« id »")
        if entry_id in catalogue:
            raise CatalogueError(f"Indicateur « {entry_id} » : identifiant en double")
        missing, unknown = FIELDS - set(entry), set(entry) - FIELDS - OPTIONAL_FIELDS
        if missing or unknown:
            raise CatalogueError(f"Indicateur « {entry_id} » : champs manquants {sorted(missing)}, "
                                 f"inconnus {sorted(unknown)}")
        if not re.fullmatch(THEMATIQUE_ID, str(entry["thematique"])):  # any declared thématique, or transverse
            raise CatalogueError(f"Indicateur « {entry_id} » : thématique « {entry['thematique']} » non conforme "
                                 "(identifiant snake_case, ex. logement, ou transverse)")
        if entry["sens"] not in SENS:
            raise CatalogueError(f"Indicateur « {entry_id} » : sens « {entry['sens']} » (attendu : {', '.join(SENS)})")
        bad_levels = set(entry["niveaux"]) - set(NIVEAUX)
        if bad_levels:
            raise CatalogueError(f"Indicateur « {entry_id} » : niveaux inconnus {sorted(bad_levels)}")
        modele = entry.get("modele_logique", [])
        if set(modele if isinstance(modele, list) else [modele]) - set(MODELE_LOGIQUE):
            raise CatalogueError(f"Indicateur « {entry_id} » : modele_logique « {modele} » (attendu : un ou "
                                 f"plusieurs de {', '.join(MODELE_LOGIQUE)})")
        catalogue[entry_id] = entry
    for entry_id, entry in catalogue.items():
        _check_formula(entry_id, entry["formule"], set(catalogue))
    return catalogue


# --- evaluation --------------------------------------------------------------------------------------------

def _rows(df: pd.DataFrame) -> pd.DataFrame:
    """Normalise an evaluator's result to ROWS with stable dtypes."""
    if df.empty:
        return pd.DataFrame({c: pd.Series(dtype=t) for c, t in
                             zip(ROWS, ["int64", "object", "object", "float64", "bool", "int64"])})
    out = df[ROWS].copy()
    return out.astype({"annee": "int64", "valeur": "float64", "secret": "bool", "millesime": "int64",
                       "code_geo": "object", "niveau": "object"})


def _mask_small(rows: pd.DataFrame, seuil: float) -> pd.DataFrame:
    small = rows["niveau"].isin(FINE_LEVELS) & (rows["valeur"] > 0) & (rows["valeur"] < seuil)
    rows.loc[small, "valeur"] = np.nan
    rows.loc[small, "secret"] = True
    return rows


@dataclass
class Engine:
    inputs: Inputs
    catalogue: dict[str, dict]
    cache: dict = field(default_factory=dict)

    def indicator(self, indicator_id: str, stack: tuple = ()) -> pd.DataFrame:
        if indicator_id in stack:
            raise CatalogueError(f"Indicateur « {indicator_id} » : formule circulaire ({' → '.join(stack)})")
        if indicator_id not in self.cache:
            entry = self.catalogue[indicator_id]
            rows = self.evaluate(entry["formule"], entry, (*stack, indicator_id))
            self.cache[indicator_id] = _mask_small(rows.copy(), self.inputs.seuil) if entry["secret"] else rows
        return self.cache[indicator_id]

    def evaluate(self, formula, entry: dict, stack: tuple = ()) -> pd.DataFrame:
        if isinstance(formula, str):
            return self.indicator(formula, stack)
        evaluator: Callable = EVALUATORS[formula["type"]]
        return _rows(evaluator(self, formula, entry, stack))

    # shared helpers for evaluators
    def by_level(self, df: pd.DataFrame, value: str, millesime: str = "annee") -> pd.DataFrame:
        """Sum `value` of located rows (columns annee, code_insee, qpv, structure_id) to every level."""
        parts = []
        if "structure_id" in df:
            parts.append(df.assign(niveau="structure", code_geo=df["structure_id"]))
        located = df[df["code_insee"].fillna("") != ""]
        parts.append(located.assign(niveau="commune", code_geo=located["code_insee"]))
        in_qpv = df[df["qpv"].fillna("") != ""]
        parts.append(in_qpv.assign(niveau="qpv", code_geo=in_qpv["qpv"]))
        parts.append(df.assign(niveau="epci", code_geo=self.inputs.territoire))
        tall = pd.concat(parts, ignore_index=True)
        out = tall.groupby(KEY, as_index=False).agg(valeur=(value, "sum"), millesime=(millesime, "min"))
        return out.assign(secret=False)


def _caf_rows(engine: Engine, formula: dict, entry: dict, stack: tuple) -> pd.DataFrame:
    caf = engine.inputs.caf
    fields = formula["champ"] if isinstance(formula["champ"], list) else [formula["champ"]]
    data = caf[(caf["famille"] == formula["source"]) & caf["champ"].isin(fields)]
    if "categories" in formula:
        data = data[data["categorie"].isin(formula["categories"])]
    communes = set(engine.inputs.communes["code_insee"])
    departements = {code[:2] for code in communes}
    keep = ((data["niveau"] == "commune") & data["code_geo"].isin(communes)) \
        | ((data["niveau"] == "epci") & (data["code_geo"] == engine.inputs.territoire)) \
        | ((data["niveau"] == "departement") & data["code_geo"].isin(departements)) \
        | (data["niveau"] == "france")
    data = data[keep]
    grouped = data.groupby(KEY, as_index=False).agg(
        valeur=("valeur", lambda s: s.sum(min_count=len(s))), secret=("valeur", lambda s: bool(s.isna().any())))
    if formula.get("agregation", "somme") == "somme" and not (grouped["niveau"] == "epci").any():
        communal = data[data["niveau"] == "commune"]
        epci = communal.groupby("annee", as_index=False).agg(valeur=("valeur", "sum"))
        grouped = pd.concat([grouped, epci.assign(niveau="epci", code_geo=engine.inputs.territoire, secret=False)])
    rows = grouped.assign(millesime=grouped["annee"])
    if any(f.startswith(CAF_COUNT_PREFIXES) for f in fields):
        rows = _mask_small(rows.reset_index(drop=True), engine.inputs.seuil)
    return rows


def _ratio(engine: Engine, formula: dict, entry: dict, stack: tuple) -> pd.DataFrame:
    num = engine.evaluate(formula["numerateur"], entry, stack)
    den = engine.evaluate(formula["denominateur"], entry, stack)
    both = num.merge(den, on=KEY, suffixes=("_n", "_d"))
    with np.errstate(divide="ignore", invalid="ignore"):
        value = both["valeur_n"] / both["valeur_d"].where(both["valeur_d"] != 0) * float(formula.get("facteur", 1))
    secret = both["secret_n"] | both["secret_d"]
    return both.assign(valeur=value.where(~secret), secret=secret,
                       millesime=both[["millesime_n", "millesime_d"]].min(axis=1))


def _somme(engine: Engine, formula: dict, entry: dict, stack: tuple) -> pd.DataFrame:
    terms = [engine.evaluate(term, entry, stack) for term in formula["termes"]]
    tall = pd.concat(terms, ignore_index=True)
    n_terms = len(terms)
    out = tall.groupby(KEY, as_index=False).agg(
        valeur=("valeur", lambda s: s.sum(min_count=len(s))), secret=("secret", "any"),
        millesime=("millesime", "min"), n=("valeur", "size"))
    return out[out["n"] == n_terms]   # a level/year where one term is missing has no sum


def _evolution(engine: Engine, formula: dict, entry: dict, stack: tuple) -> pd.DataFrame:
    """Value of the year minus the value of the reference year (default: first year present), same place."""
    rows = engine.evaluate(formula["operande"], entry, stack)
    reference_year = formula.get("annee_reference", rows["annee"].min() if len(rows) else 0)
    base = rows[rows["annee"] == reference_year][["niveau", "code_geo", "valeur", "secret"]]
    both = rows[rows["annee"] >= reference_year].merge(base, on=["niveau", "code_geo"], suffixes=("", "_ref"))
    secret = both["secret"] | both["secret_ref"]
    return both.assign(valeur=(both["valeur"] - both["valeur_ref"]).where(~secret), secret=secret)


def _population(engine: Engine, formula: dict, entry: dict, stack: tuple) -> pd.DataFrame:
    pop = engine.inputs.populations
    field_name = formula.get("champ", "population_municipale")
    pop = pop[pop["code_insee"].isin(set(engine.inputs.communes["code_insee"]))]
    communes = pop.assign(niveau="commune", code_geo=pop["code_insee"], valeur=pop[field_name].astype(float))
    epci = communes.groupby(["annee", "millesime"], as_index=False)["valeur"].sum()
    epci = epci.assign(niveau="epci", code_geo=engine.inputs.territoire)
    return pd.concat([communes, epci]).assign(secret=False)


def _open_structures(engine: Engine, types: list | None = None) -> pd.DataFrame:
    """Structures open on 31 December of each year (a structure replaced during the year counts once)."""
    eq = engine.inputs.equipements
    year_end = pd.to_datetime(eq["annee"].astype(str) + "-12-31")
    eq = eq[eq["date_fermeture"].isna() | (eq["date_fermeture"] >= year_end)]
    return eq[eq["type"].isin(types)] if types else eq


def _equipements(engine: Engine, formula: dict, entry: dict, stack: tuple) -> pd.DataFrame:
    eq = _open_structures(engine, formula.get("types")).copy()
    measure = formula.get("mesure", "nombre")
    eq["_v"] = 1.0 if measure == "nombre" else eq["capacite"].astype(float).fillna(0)
    rows = engine.by_level(eq.assign(millesime=eq["annee"]), "_v", "millesime")
    if rows.empty:
        return rows
    # levels with no structure of these types count zero (communes and the EPCI, for every year with a sheet)
    years = sorted(engine.inputs.equipements["annee"].unique())
    frame = pd.DataFrame([(y, "commune", c) for y in years for c in engine.inputs.communes["code_insee"]]
                         + [(y, "epci", engine.inputs.territoire) for y in years], columns=KEY)
    full = frame.merge(rows, on=KEY, how="left")
    full = full.assign(valeur=full["valeur"].fillna(0.0), secret=False, millesime=full["annee"])
    return pd.concat([full, rows[~rows["niveau"].isin(["commune", "epci"])]], ignore_index=True)


def _activite(engine: Engine, formula: dict, entry: dict, stack: tuple) -> pd.DataFrame:
    names = formula["indicateur"] if isinstance(formula["indicateur"], list) else [formula["indicateur"]]
    act = engine.inputs.activite
    act = act[act["indicateur"].isin(names)]
    places = engine.inputs.equipements[["annee", "structure_id", "type", "code_insee", "qpv"]]
    joined = act.merge(places, on=["annee", "structure_id"], how="left")
    if formula.get("types"):
        joined = joined[joined["type"].isin(formula["types"])]
    if formula.get("mesure", "somme") == "structures":   # count structures declaring a value > 0
        joined = joined.assign(valeur=(joined["valeur"] > 0).astype(float))
    joined = joined.assign(millesime=joined["annee"])
    territory_only = joined["type"].isna()   # pseudo structure TERRITOIRE or a structure absent from the sheet
    rows = engine.by_level(joined.assign(code_insee=joined["code_insee"].where(~territory_only, ""),
                                         qpv=joined["qpv"].where(~territory_only, "")), "valeur", "millesime")
    rows = rows[~((rows["niveau"] == "structure") & rows["code_geo"].isin(joined.loc[territory_only, "structure_id"]))]
    vocab = load_vocabulary()
    if any(vocab.attribute("indicateurs_activite", name, "secret", False) for name in names):
        rows = _mask_small(rows.reset_index(drop=True), engine.inputs.seuil)
    return rows


def _financement(engine: Engine, formula: dict, entry: dict, stack: tuple) -> pd.DataFrame:
    fin = engine.inputs.financements
    for key, column in (("financeurs", "financeur"), ("dispositifs", "dispositif"), ("thematiques", "thematique")):
        if formula.get(key):
            fin = fin[fin[column].isin(formula[key])]
    years = sorted(engine.inputs.financements["annee"].unique())
    total = fin.groupby("annee")["montant"].sum().reindex(years, fill_value=0.0)
    return pd.DataFrame({"annee": years, "niveau": "epci", "code_geo": engine.inputs.territoire,
                         "valeur": total.to_numpy(dtype=float), "secret": False, "millesime": years})


def _actions(engine: Engine, formula: dict, entry: dict, stack: tuple) -> pd.DataFrame:
    act = engine.inputs.actions
    theme = formula.get("thematique", entry["thematique"])
    if theme not in ("toutes", "transverse"):
        act = act[act["thematique"] == theme]
    measure = formula.get("mesure", "nombre")
    statuses = formula.get("statuts", [])
    grouped = act.assign(_hit=act["statut"].isin(statuses)).groupby("annee")
    if measure == "avancement_moyen":
        value = grouped["avancement"].mean()
    elif measure == "part":
        value = grouped["_hit"].mean() * 100
    else:
        value = grouped["_hit"].sum().astype(float)
    return pd.DataFrame({"annee": value.index, "niveau": "epci", "code_geo": engine.inputs.territoire,
                         "valeur": value.to_numpy(dtype=float), "secret": False, "millesime": value.index})


def _python(engine: Engine, formula: dict, entry: dict, stack: tuple) -> pd.DataFrame:
    return PYTHON_FUNCTIONS[formula["fonction"]](engine, entry)


# --- escape hatch: indicators that need code (`{type: python, fonction: name}`) ---------------------------

def qpv_couverts_avs(engine: Engine, entry: dict) -> pd.DataFrame:
    """Number of the territory's QPV with at least one centre social or EVS open in the year."""
    qpvs = territory_qpvs(engine.inputs)
    years = sorted(engine.inputs.equipements["annee"].unique())
    eq = _open_structures(engine, ["centre_social", "evs"])
    avs = eq[eq["qpv"].isin(qpvs)]
    covered = avs.groupby("annee")["qpv"].nunique().reindex(years, fill_value=0)
    return pd.DataFrame({"annee": years, "niveau": "epci", "code_geo": engine.inputs.territoire,
                         "valeur": covered.to_numpy(dtype=float), "secret": False,
                         "millesime": years})


def nombre_qpv(engine: Engine, entry: dict) -> pd.DataFrame:
    """Number of QPV of the territory, for every year with an equipements sheet."""
    years = sorted(engine.inputs.equipements["annee"].unique())
    count = float(len(territory_qpvs(engine.inputs)))
    return pd.DataFrame({"annee": years, "niveau": "epci", "code_geo": engine.inputs.territoire,
                         "valeur": count, "secret": False, "millesime": years})


def territory_qpvs(inputs: Inputs) -> list[str]:
    """QPV names of the territory (communes.csv `qpv`, names separated by `|`)."""
    from pipeline.territory import qpv_list

    return sorted({name for cell in inputs.communes.get("qpv", pd.Series(dtype=object)) for name in qpv_list(cell)})


PYTHON_FUNCTIONS: dict[str, Callable[[Engine, dict], pd.DataFrame]] = {
    "qpv_couverts_avs": qpv_couverts_avs, "nombre_qpv": nombre_qpv}
EVALUATORS: dict[str, Callable] = {
    "champ": _caf_rows, "ratio": _ratio, "somme": _somme, "evolution": _evolution, "population": _population, "equipements": _equipements,
    "activite": _activite, "financement": _financement, "actions": _actions, "python": _python,
}


def source_label(entry: dict) -> str:
    return str(entry["source"])


def compute_indicators(inputs: Inputs, catalogue: dict[str, dict], annees: list[int] | None = None) -> pd.DataFrame:
    """Evaluate every catalogue entry; one row per (annee, niveau, code_geo, indicateur), in the schema of
    `indicateurs.parquet`, sorted. `annees` restricts the years kept (default: every year with data)."""
    engine = Engine(inputs, catalogue)
    frames = []
    for indicator_id, entry in catalogue.items():
        rows = engine.indicator(indicator_id)
        rows = rows[rows["niveau"].isin(entry["niveaux"])]
        if annees is not None:
            rows = rows[rows["annee"].isin(annees)]
        frames.append(rows.assign(indicateur=indicator_id, thematique=entry["thematique"], libelle=entry["libelle"],
                                  unite=entry["unite"], source=source_label(entry)))
    table = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=OUTPUT_COLUMNS)
    table = table[OUTPUT_COLUMNS].astype({
        "annee": "int64", "thematique": "object", "niveau": "object", "code_geo": "object", "indicateur": "object",
        "libelle": "object", "valeur": "float64", "unite": "object", "source": "object", "millesime": "int64",
        "secret": "bool"})
    return table.sort_values(["annee", "thematique", "indicateur", "niveau", "code_geo"]).reset_index(drop=True)
