"""The convention's referential (DIR/raw/territoires/<siren>/ctg.yaml): schema, loading and exports.

The YAML file holds the convention as data: identity, Caf priorities, baseline figures, the thematic roadmaps
(thématique → numbered axes → operational objectives → actions, with quantified targets), governance and the
cross-objectives table. Pydantic models validate it; any problem raises `ReferentielError`, whose French message
names the file and the key path of each problem (``thematiques[1].axes[0].objectifs[2].actions[3].id : …``).

Identifier patterns (checked): axis ``<thematique>.<n>``, objective ``<thematique>.<n>.o<k>``, action
``<thematique>.<n>.<NN>``, target ``<action>.c<k>``; every id is unique in the file and its prefixes must match
the thématique / axis / action it sits under.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any, Literal

import pandas as pd
import yaml
from babel.numbers import format_decimal
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from pydantic_core import PydanticCustomError

THEMATIQUE_ID = r"^[a-z][a-z_]*$"  # snake_case: the prefix of every axis, objective and action id
AXE_ID = r"^[a-z_]+\.\d$"
OBJECTIF_ID = r"^[a-z_]+\.\d\.o\d+$"
ACTION_ID = r"^[a-z_]+\.\d\.\d{2}$"
CIBLE_ID = r"^[a-z_]+\.\d\.\d{2}\.c\d+$"
INDICATEUR_ID = r"^[a-z][a-z0-9_]*$"
PATTERN_HELP = {
    AXE_ID: "axe attendu sous la forme <thematique>.<n>, ex. petite_enfance.1",
    OBJECTIF_ID: "objectif attendu sous la forme <thematique>.<n>.o<k>, ex. petite_enfance.1.o3",
    ACTION_ID: "action attendue sous la forme <thematique>.<n>.<NN>, ex. petite_enfance.1.03",
    CIBLE_ID: "cible attendue sous la forme <action>.c<k>, ex. petite_enfance.1.04.c2",
    INDICATEUR_ID: "identifiant d'indicateur en snake_case, ex. places_eaje",
}
ACTIONS_COLUMNS = ["thematique", "axe_id", "axe_numero", "axe_libelle", "objectif_id", "objectif_libelle", "action_id", "libelle"]
CIBLES_COLUMNS = ["cible_id", "action_id", "thematique", "libelle", "valeur", "unite", "annee", "indicateur", "comparaison", "perimetre"]

Texte = Annotated[str, Field(min_length=1)]  # non-empty text


class ReferentielError(ValueError):
    """The referential file is missing or invalid; `erreurs` lists (key path, French message)."""

    def __init__(self, fichier: Path | str, erreurs: list[tuple[str, str]]):
        self.fichier = Path(fichier)
        self.erreurs = erreurs
        lignes = "\n".join(f"- {chemin} : {message}" for chemin, message in erreurs)
        super().__init__(f"Référentiel de la CTG invalide ({self.fichier}) :\n{lignes}")


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


# Roadmaps ------------------------------------------------------------------------------------------------------
class Cible(_Model):
    id: str = Field(pattern=CIBLE_ID)
    libelle: Texte
    valeur: float
    unite: Texte
    annee: int
    indicateur: str = Field(pattern=INDICATEUR_ID)
    comparaison: Literal[">=", "<="]
    perimetre: str | None = None


class Action(_Model):
    id: str = Field(pattern=ACTION_ID)
    libelle: Texte
    sous_actions: list[str] = []
    partenaires: list[str] = []
    lieux: list[str] = []
    cibles: list[Cible] = []


class Objectif(_Model):
    id: str = Field(pattern=OBJECTIF_ID)
    libelle: Texte
    actions: list[Action]


class Axe(_Model):
    id: str = Field(pattern=AXE_ID)
    numero: int = Field(ge=1, le=9)
    libelle: Texte
    objectifs: list[Objectif]


class Thematique(_Model):
    id: str
    libelle: Texte
    priorites_caf: list[str] = []
    axes: list[Axe]


class ThematiqueSansFeuilleDeRoute(_Model):
    id: str
    libelle: Texte
    priorites_caf: list[str] = []
    note: Texte


# Identity, baseline, governance ---------------------------------------------------------------------------------
class Signataire(_Model):
    nom: Texte
    fonction: Texte
    institution: Texte


class Phase(_Model):
    id: str
    debut: int
    fin: int
    libelle: Texte
    description: str | None = None


class Periode(_Model):
    debut: int
    fin: int


class TerritoireSignataire(_Model):
    siren: str = Field(pattern=r"^\d{9}$")
    nom: Texte


class Convention(_Model):
    intitule: Texte
    sigle: str | None = None
    caf: Texte
    territoire: TerritoireSignataire
    periode: Periode
    signataires: list[Signataire]
    champs: list[str] = []
    phases: list[Phase] = []


class ChiffreCle(_Model):
    id: str
    libelle: Texte
    valeur: float
    unite: Texte
    annee: int | None = None
    approximatif: bool = False
    source: Texte
    citation: Texte
    note: str | None = None


class PoleServices(_Model):
    niveau: Literal["pole_superieur", "pole_intermediaire", "pole_proximite"]
    libelle: Texte
    communes: list[str] = []
    nombre: int
    note: str | None = None


class SituationInitiale(_Model):
    note: str | None = None
    chiffres: list[ChiffreCle] = []
    communes_citees: str | None = None
    superficie_citee: str | None = None
    poles_de_services: list[PoleServices] = []
    citation_poles: str | None = None
    competences_communautaires: list[str] = []


class FeuilleDeRouteCaf(_Model):
    note: str | None = None
    axes: list[list[str]]


class StructurationLocale(_Model):
    libelle: Texte
    orientations: list[str]


class OrientationsCaf(_Model):
    missions_branche_famille: list[str] = []
    feuille_de_route_2018_2022: FeuilleDeRouteCaf | None = None
    fils_conducteurs_schema_departemental: list[str] = []
    structuration_locale_acces_droits: StructurationLocale | None = None


class ComitePilotage(_Model):
    libelle: Texte
    frequence: Texte
    reunions_par_an: int
    membres: list[str]
    missions: list[str]


class Commissions(_Model):
    libelle: Texte
    modalites: list[str] = []


class Concertation(_Model):
    libelle: Texte
    periodicite_annees: int
    description: str | None = None


class Gouvernance(_Model):
    comite_pilotage: ComitePilotage
    commissions_thematiques: Commissions | None = None
    concertation_partenariale: Concertation | None = None


class VoletCommunication(_Model):
    libelle: Texte
    modalites: list[str] = []
    note: str | None = None


class Communication(_Model):
    suivi: VoletCommunication | None = None
    habitants: VoletCommunication | None = None
    impact_social: VoletCommunication | None = None


class ColonneCroisee(_Model):
    axe: str | None = None
    orientations: list[str] = []


class LigneCroisee(_Model):
    projet_territoire: ColonneCroisee
    ctg: ColonneCroisee


class ObjectifsCroises(_Model):
    libelle: Texte
    note: str | None = None
    projet_agglomeration: str | None = None
    lignes: list[LigneCroisee]


# The referential ----------------------------------------------------------------------------------------------
class Referentiel(_Model):
    version: int = 1
    convention: Convention
    orientations_caf: OrientationsCaf | None = None
    situation_initiale: SituationInitiale | None = None
    thematiques: list[Thematique]
    thematiques_sans_feuille_de_route: list[ThematiqueSansFeuilleDeRoute] = []
    gouvernance: Gouvernance | None = None
    communication: Communication | None = None
    objectifs_croises: ObjectifsCroises | None = None

    @model_validator(mode="after")
    def _coherent(self) -> Referentiel:
        erreurs = _coherence(self)
        if erreurs:
            raise PydanticCustomError("coherence", "référentiel incohérent", {"erreurs": erreurs})
        return self

    def thematique(self, id: str) -> Thematique:
        for t in self.thematiques:
            if t.id == id:
                return t
        raise KeyError(f"thématique « {id} » absente du référentiel")

    def iter_actions(self) -> Iterator[tuple[Thematique, Axe, Objectif, Action]]:
        """Every action with its parents, in the seed's order."""
        for t in self.thematiques:
            for axe in t.axes:
                for obj in axe.objectifs:
                    for action in obj.actions:
                        yield t, axe, obj, action

    def actions_frame(self) -> pd.DataFrame:
        """One row per action: the referential columns of actions.parquet (seed order)."""
        rows = [
            (t.id, axe.id, axe.numero, axe.libelle, obj.id, obj.libelle, a.id, a.libelle)
            for t, axe, obj, a in self.iter_actions()
        ]
        return pd.DataFrame(rows, columns=ACTIONS_COLUMNS).astype({"axe_numero": "int64"})

    def cibles_frame(self) -> pd.DataFrame:
        """One row per quantified target (`perimetre` is an extra, optional description of the scope)."""
        rows = [
            (c.id, a.id, t.id, c.libelle, c.valeur, c.unite, c.annee, c.indicateur, c.comparaison, c.perimetre)
            for t, _, _, a in self.iter_actions()
            for c in a.cibles
        ]
        return pd.DataFrame(rows, columns=CIBLES_COLUMNS).astype({"valeur": "float64", "annee": "int64"})


def _noeuds(ref: Referentiel) -> Iterator[tuple[str, str, Any, Any]]:
    """(key path, kind, item, parent) for every identified item of the file, in file order."""
    for i, t in enumerate(ref.thematiques):
        yield (pt := f"thematiques[{i}]"), "thematique", t, None
        for j, axe in enumerate(t.axes):
            yield (pa := f"{pt}.axes[{j}]"), "axe", axe, t
            for k, obj in enumerate(axe.objectifs):
                yield (po := f"{pa}.objectifs[{k}]"), "objectif", obj, axe
                for m, action in enumerate(obj.actions):
                    yield (pc := f"{po}.actions[{m}]"), "action", action, axe
                    for n, cible in enumerate(action.cibles):
                        yield f"{pc}.cibles[{n}]", "cible", cible, action
    for i, t in enumerate(ref.thematiques_sans_feuille_de_route):
        yield f"thematiques_sans_feuille_de_route[{i}]", "sans_feuille_de_route", t, None


def _regles(kind: str, item: Any, parent: Any, periode: Periode) -> Iterator[tuple[str, str]]:
    """(field, French message) for each rule the item breaks."""
    if kind == "thematique":
        if not re.fullmatch(THEMATIQUE_ID, item.id):
            yield "id", f"identifiant de thématique « {item.id} » non conforme (snake_case : lettres minuscules et _, ex. logement)"
        if not item.axes:
            yield "axes", "thématique sans axe"
    elif kind == "axe":
        if item.id != f"{parent.id}.{item.numero}":
            yield "id", f"« {item.id} » ne correspond pas à la thématique « {parent.id} » et au numéro {item.numero} (attendu « {parent.id}.{item.numero} »)"
        if not item.objectifs:
            yield "objectifs", f"axe « {item.id} » sans objectif"
    elif kind == "objectif":
        if not item.id.startswith(f"{parent.id}.o"):
            yield "id", f"l'objectif « {item.id} » n'appartient pas à l'axe « {parent.id} »"
        if not item.actions:
            yield "actions", f"objectif « {item.id} » sans action"
    elif kind == "action":
        prefixe, thematique = item.id.split(".")[0], parent.id.split(".")[0]
        if prefixe != thematique:
            yield "id", f"préfixe « {prefixe} » différent de la thématique « {thematique} »"
        elif not item.id.startswith(f"{parent.id}."):
            yield "id", f"l'action « {item.id} » est rangée sous l'axe « {parent.id} »"
    elif kind == "cible":
        if not item.id.startswith(f"{parent.id}.c"):
            yield "id", f"la cible « {item.id} » n'appartient pas à l'action « {parent.id} »"
        if not periode.debut <= item.annee <= periode.fin:
            yield "annee", f"échéance {item.annee} hors de la période de la convention ({periode.debut}-{periode.fin})"


def _coherence(ref: Referentiel) -> list[tuple[str, str]]:
    """Cross-field rules pydantic's field types cannot express: unique ids, prefixes, non-empty levels."""
    erreurs: list[tuple[str, str]] = []
    vus: set[str] = set()
    for chemin, kind, item, parent in _noeuds(ref):
        if item.id in vus:
            erreurs.append((f"{chemin}.id", f"identifiant en double « {item.id} »"))
        vus.add(item.id)
        erreurs += [(f"{chemin}.{champ}", message) for champ, message in _regles(kind, item, parent, ref.convention.periode)]
    return erreurs


# Loading ------------------------------------------------------------------------------------------------------
def _chemin(loc: tuple) -> str:
    texte = ""
    for part in loc:
        texte += f"[{part}]" if isinstance(part, int) else (f".{part}" if texte else str(part))
    return texte or "(racine)"


_MESSAGES = {
    "missing": "champ obligatoire manquant",
    "extra_forbidden": "clé non prévue « {cle} »",
    "string_too_short": "texte vide",
    "string_pattern_mismatch": "identifiant « {input} » non conforme ({aide})",
    "int_parsing": "nombre entier attendu, reçu « {input} »",
    "int_type": "nombre entier attendu, reçu « {input} »",
    "int_from_float": "nombre entier attendu, reçu « {input} »",
    "float_parsing": "nombre attendu, reçu « {input} »",
    "float_type": "nombre attendu, reçu « {input} »",
    "literal_error": "valeur « {input} » non autorisée (attendu : {attendu})",
    "greater_than_equal": "valeur {input} trop petite (minimum {ge})",
    "less_than_equal": "valeur {input} trop grande (maximum {le})",
    "bool_parsing": "true ou false attendu, reçu « {input} »",
    "string_type": "type incorrect : un texte est attendu",
    "list_type": "type incorrect : une liste est attendue",
    "model_type": "type incorrect : un bloc de clés est attendu",
    "dict_type": "type incorrect : un bloc de clés est attendu",
}
_ACTION_HORS_OBJECTIF = "clé non prévue : une action doit être rangée sous un objectif (objectifs[k].actions)"


def _message(err: dict[str, Any]) -> str:
    """French message for one pydantic error (English pydantic text only for unforeseen error types)."""
    ctx = err.get("ctx") or {}
    if err["type"] == "extra_forbidden" and err["loc"][-1] == "actions":
        return _ACTION_HORS_OBJECTIF
    template = _MESSAGES.get(err["type"], "valeur invalide ({msg})")
    return template.format(
        input=err.get("input"), msg=err["msg"], cle=err["loc"][-1] if err["loc"] else "",
        aide=PATTERN_HELP.get(ctx.get("pattern"), ctx.get("pattern")),
        attendu=str(ctx.get("expected")).replace(" or ", " ou "), ge=ctx.get("ge"), le=ctx.get("le"),
    )


def _erreurs(exc: ValidationError) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    for err in exc.errors():
        if err["type"] == "coherence":
            out.extend(tuple(e) for e in err["ctx"]["erreurs"])
        else:
            out.append((_chemin(err["loc"]), _message(err)))
    return out


def load_referentiel(path: Path) -> Referentiel:
    """Read and validate a ctg.yaml file (no cache: every call reads the file)."""
    path = Path(path)
    if not path.is_file():
        raise ReferentielError(path, [("(fichier)", "fichier introuvable")])
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        ou = f"ligne {mark.line + 1}, colonne {mark.column + 1}" if mark else "(fichier)"
        raise ReferentielError(path, [(ou, f"syntaxe YAML invalide ({getattr(exc, 'problem', exc)})")]) from None
    except UnicodeDecodeError:
        raise ReferentielError(path, [("(fichier)", "le fichier doit être encodé en UTF-8")]) from None
    if not isinstance(data, dict):
        raise ReferentielError(path, [("(racine)", "le fichier doit contenir un bloc de clés (convention, thematiques, …)")])
    try:
        return Referentiel.model_validate(data)
    except ValidationError as exc:
        raise ReferentielError(path, _erreurs(exc)) from None


# Exports ------------------------------------------------------------------------------------------------------
def to_json(ref: Referentiel) -> str:
    """The whole referential as JSON (thematiques → axes → objectifs → actions, each with id and libelle)."""
    return json.dumps(ref.model_dump(mode="json"), ensure_ascii=False, indent=2)


_MD_SPECIAL = str.maketrans({c: "\\" + c for c in "\\`*_[]<>#|~^$@"})


def _md(texte: str) -> str:
    return texte.translate(_MD_SPECIAL)


def _nombre(valeur: float) -> str:
    return format_decimal(valeur, locale="fr_FR")


def format_cible(cible: Cible) -> str:
    """French one-line summary, e.g. « ≥ 44 places, échéance 2025 »."""
    signe = {">=": "≥", "<=": "≤"}[cible.comparaison]
    return f"{signe}\u00a0{_nombre(cible.valeur)}\u00a0{cible.unite}, échéance {cible.annee}"


def to_markdown(ref: Referentiel, thematique: str | None = None) -> str:
    """The "feuille de route" annex in pandoc Markdown; headings start at level 2 (thématique), 3 (axe)."""
    themes = [ref.thematique(thematique)] if thematique else ref.thematiques
    lignes: list[str] = []
    for t in themes:
        lignes += [f"## {_md(t.libelle)} {{#fdr-{t.id}}}", ""]
        if t.priorites_caf:
            lignes += ["Priorités institutionnelles de la Caf :", ""]
            lignes += [f"- {_md(p)}" for p in t.priorites_caf] + [""]
        for axe in t.axes:
            lignes += [f"### Axe {axe.numero} : {_md(axe.libelle)} {{#fdr-{axe.id}}}", ""]
            for obj in axe.objectifs:
                lignes += [f"#### Objectif : {_md(obj.libelle)} {{#fdr-{obj.id}}}", ""]
                for a in obj.actions:
                    lignes.append(f"- `{a.id}` {_md(a.libelle)}")
                    lignes += [f"    - {_md(s)}" for s in a.sous_actions]
                    if a.partenaires:
                        lignes.append(f"    - *Partenaires* : {_md(', '.join(a.partenaires))}")
                    if a.lieux:
                        lignes.append(f"    - *Lieux* : {_md(', '.join(a.lieux))}")
                    lignes += [
                        f"    - **Cible** `{c.id}` : {_md(c.libelle)} ({format_cible(c)} ; indicateur `{c.indicateur}`)"
                        for c in a.cibles
                    ]
                lignes.append("")
    return "\n".join(lignes).rstrip("\n") + "\n"
