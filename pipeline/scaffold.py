"""`ctg nouvelle-thematique`: add a thématique to the project without inventing any content.

What it writes (French guide: docs/etendre.md, example 3):

- the referential (`DIR/raw/territoires/<siren>/ctg.yaml`): the thématique, with the Caf priorities recorded for it
  under `thematiques_sans_feuille_de_route` (that entry is moved, not copied: ids are unique in the file), and ONE
  placeholder axis / objective / action labelled « À compléter par le comité » (valid ids);
- the catalogue (params.yaml `catalogue`): starter indicators computable from existing inputs (`STARTERS`; for
  any other thématique, the share of its roadmap's actions that are done);
- `notebooks/<id>.ipynb`, from the one template of the thematic notebooks (`write_notebook`);
- `params.yaml`: the id appended to `thematiques` (DVC matrix stages `execute@<id>-<annee>`, `ctg run`).

YAML files are edited by inserting or removing lines (comments and layout kept: ruamel is not a dependency). Every
new text is parsed and compared with the expected data, then validated by the project's own loaders, before any
file is written. An existing or malformed id is refused; no existing file is overwritten.
"""

from __future__ import annotations

import os
import re
import tempfile
import textwrap
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from pipeline.config import DataLayout, ROOT, load_params
from pipeline.indicators import CatalogueError, load_catalogue
from pipeline.referential import THEMATIQUE_ID, ReferentielError, load_referentiel

PLACEHOLDER = "À compléter par le comité"
NO_ROADMAP_KEY = "thematiques_sans_feuille_de_route"
HOUSING_FIELDS = ["indfoy_apl", "indfoy_als", "indfoy_alf"]


class ScaffoldError(ValueError):
    """The thématique cannot be added (French message); nothing was written."""

    def __init__(self, message: str, exit_code: int = 2):
        super().__init__(message)
        self.exit_code = exit_code


@dataclass
class Result:
    thematique: str
    libelle: str
    created: list[Path] = field(default_factory=list)
    modified: list[Path] = field(default_factory=list)
    indicateurs: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # French remarks for the user


# --- starter indicators ---------------------------------------------------------------------------------------

def _entry(id_: str, thematique: str, **fields) -> dict:
    """A catalogue entry with every field, in the catalogue's order."""
    base = {"id": id_, "libelle": "", "thematique": thematique, "definition": "", "formule": None, "unite": "",
            "sens": "neutre", "source": "", "niveaux": ["epci"], "decalage": 0, "cible": None, "principal": False,
            "secret": False}
    return {**base, **fields}


def _same_fields(catalogue: dict[str, dict], source: str, fields: list[str]) -> list[str]:
    """Ids of catalogue entries that read exactly these Caf fields."""
    return [i for i, e in catalogue.items() if isinstance(e["formule"], dict) and e["formule"].get("type") == "champ"
            and e["formule"].get("source") == source and sorted(_as_list(e["formule"].get("champ"))) == sorted(fields)]


def _as_list(value) -> list:
    return value if isinstance(value, list) else [value]


def housing_starters(thematique: str, catalogue: dict[str, dict]) -> tuple[list[dict], list[str]]:
    """Caf households receiving a housing benefit (APL, ALS, ALF) and their share of all Caf households."""
    reused = _same_fields(catalogue, "s_ben_com_f", HOUSING_FIELDS)
    also = (f" Mêmes champs que l'indicateur « {reused[0]} » (thématique {catalogue[reused[0]]['thematique']})."
            if reused else "")
    count = _entry(
        "foyers_aide_logement", thematique, libelle="Foyers allocataires percevant une aide au logement",
        definition="Foyers percevant l'APL, l'ALS ou l'ALF au titre de décembre (somme de trois comptes arrondis à 5 "
                   "par la Caf)." + also,
        formule={"type": "champ", "source": "s_ben_com_f", "champ": HOUSING_FIELDS}, unite="foyers",
        source="Caf - s_ben_com_f (indfoy_apl + indfoy_als + indfoy_alf)", niveaux=["commune", "epci"], decalage=1,
        principal=True, secret=True)
    entries = [count]
    if "nb_foyers_alloc" in catalogue:
        entries.append(_entry(
            "part_foyers_aide_logement", thematique,
            libelle="Part des foyers allocataires percevant une aide au logement",
            definition="Foyers percevant l'APL, l'ALS ou l'ALF / foyers allocataires × 100 (décembre).",
            formule={"type": "ratio", "numerateur": "foyers_aide_logement", "denominateur": "nb_foyers_alloc",
                     "facteur": 100},
            unite="%", source="Caf - s_ben_com_f (indfoy_apl + indfoy_als + indfoy_alf) / indfoy_ndur",
            niveaux=["commune", "epci"], decalage=1))
    notes = [f"Les champs {', '.join(HOUSING_FIELDS)} sont déjà lus par « {', '.join(reused)} » : les nouveaux "
             f"indicateurs lisent les mêmes champs pour la thématique « {thematique} »."] if reused else []
    return entries, notes


STARTERS = {"logement": housing_starters}


def generic_starters(thematique: str, libelle: str) -> list[dict]:
    """For any thématique: the share of its roadmap's actions marked done in the year's follow-up."""
    return [_entry(
        f"part_actions_realisees_{thematique}", thematique, libelle=f"Part des actions réalisées — {libelle}",
        definition="Actions de la feuille de route de la thématique au statut « réalisée » dans le suivi de "
                   "l'année / ensemble de ses actions × 100.",
        formule={"type": "actions", "statuts": ["realisee"], "mesure": "part"}, unite="%", sens="hausse",
        source="Suivi local - actions (statut)", principal=True)]


def starter_indicators(thematique: str, libelle: str, catalogue: dict[str, dict]) -> tuple[list[dict], list[str]]:
    if thematique in STARTERS:
        return STARTERS[thematique](thematique, catalogue)
    return generic_starters(thematique, libelle), []


# --- the referential section ----------------------------------------------------------------------------------

def referential_section(thematique: str, libelle: str, priorites: list[str]) -> dict:
    """The thématique with one placeholder axis, objective and action (ids valid for pipeline.referential)."""
    return {
        "id": thematique, "libelle": libelle, "priorites_caf": list(priorites),
        "axes": [{"id": f"{thematique}.1", "numero": 1, "libelle": f"{PLACEHOLDER} (axe provisoire)",
                  "objectifs": [{"id": f"{thematique}.1.o1", "libelle": f"{PLACEHOLDER} (objectif provisoire)",
                                 "actions": [{"id": f"{thematique}.1.01",
                                              "libelle": f"{PLACEHOLDER} (action provisoire)"}]}]}],
    }


# --- targeted YAML text edits ---------------------------------------------------------------------------------

def _dump(item, indent: str, flow_leaves: bool) -> list[str]:
    """One list item as block YAML lines; lists of scalars inside it in flow style when `flow_leaves` (catalogue)."""
    flow = None if flow_leaves and isinstance(item, (dict, list)) else False  # a scalar item stays `- value`
    text = yaml.safe_dump([item], allow_unicode=True, sort_keys=False, width=116, default_flow_style=flow)
    return [indent + line if line else line for line in text.splitlines()]


def _key_line(lines: list[str], key: str) -> int:
    for i, line in enumerate(lines):
        if re.match(rf"{re.escape(key)}\s*:", line):
            return i
    raise ScaffoldError(f"clé « {key} » introuvable")


def _block_end(lines: list[str], start: int) -> int:
    """Index just after the last line of the top-level block starting at `start` (the comments and blank lines
    right above the next top-level key belong to that key)."""
    end = next((i for i in range(start + 1, len(lines)) if re.match(r"[A-Za-z_'\"]", lines[i])), len(lines))
    while end > start + 1 and (not lines[end - 1].strip() or lines[end - 1].lstrip().startswith("#")):
        end -= 1
    return end


def _item_indent(lines: list[str], start: int, end: int) -> str:
    for line in lines[start + 1:end]:
        if m := re.match(r"(\s*)- ", line):
            return m.group(1)
    return ""


def append_to_list(text: str, key: str, items: list, comment: list[str] = (), flow_leaves: bool = False) -> str:
    """Append `items` (preceded by `comment` lines; "" for a blank line) at the end of the block list of top-level
    `key`; mappings are separated by a blank line, as in the catalogue."""
    lines = text.splitlines()
    start = _key_line(lines, key)
    end = _block_end(lines, start)
    indent = _item_indent(lines, start, end)
    new = [f"{indent}# {line}" if line else "" for c in comment for line in (textwrap.wrap(c, 114) or [""])]
    for i, item in enumerate(items):
        new += ([""] if i and isinstance(item, dict) else []) + _dump(item, indent, flow_leaves)
    return "\n".join(lines[:end] + new + lines[end:]) + "\n"


def remove_from_list(text: str, key: str, item_id: str) -> str:
    """Remove the item whose `id` is `item_id` from the block list of top-level `key` (`key: []` when emptied)."""
    lines = text.splitlines()
    start = _key_line(lines, key)
    end = _block_end(lines, start)
    indent = _item_indent(lines, start, end)
    starts = [i for i in range(start + 1, end) if re.match(rf"{indent}- ", lines[i])]
    id_line = re.compile(rf"{indent}(- |  )id:\s*['\"]?{re.escape(item_id)}['\"]?\s*$")
    for first, nxt in zip(starts, starts[1:] + [end]):
        if any(id_line.match(line) for line in lines[first:nxt]):
            kept = lines[:first] + lines[nxt:]
            if len(starts) == 1:
                kept[start] = f"{key}: []"
            return "\n".join(kept) + "\n"
    raise ScaffoldError(f"« {item_id} » introuvable sous « {key} »")


def _checked(name: str, new_text: str, expected) -> str:
    """The new text parses to exactly the expected data, otherwise nothing is written (French message)."""
    try:
        parsed = yaml.safe_load(new_text)
    except yaml.YAMLError as exc:
        raise ScaffoldError(f"{name} : la modification rendrait le fichier illisible ({exc}). Aucun fichier n'a été "
                            "modifié ; faites la modification à la main (docs/etendre.md).") from None
    if parsed != expected:
        raise ScaffoldError(f"{name} : la mise en forme du fichier ne permet pas une insertion sûre. Aucun fichier "
                            "n'a été modifié ; faites la modification à la main (docs/etendre.md).")
    return new_text


# --- the command ----------------------------------------------------------------------------------------------

def _catalogue_path(root: Path, params: dict) -> Path:
    path = Path(params.get("catalogue", "metadata/indicateurs.yaml"))
    return path if path.is_absolute() else root / path


def _write(path: Path, text: str) -> None:
    """Atomic replacement (same folder), so a failure never leaves a half-written file."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(tmp, path)


def _validate(ref_text: str, cat_text: str) -> None:
    """The project's own loaders accept the new referential and catalogue (French errors otherwise)."""
    with tempfile.TemporaryDirectory() as tmp:
        ref, cat = Path(tmp) / "ctg.yaml", Path(tmp) / "indicateurs.yaml"
        ref.write_text(ref_text, encoding="utf-8")
        cat.write_text(cat_text, encoding="utf-8")
        try:
            load_referentiel(ref)
            load_catalogue(cat)
        except (ReferentielError, CatalogueError) as exc:
            raise ScaffoldError(f"Le résultat ne serait pas valide, rien n'a été modifié :\n{exc}") from None


def referential_text(path: Path, thematique: str, libelle: str, sans) -> str:
    """ctg.yaml with the thématique appended to `thematiques` (placeholder axis, objective and action) and, when
    the referential listed it without a roadmap, that entry moved out of `thematiques_sans_feuille_de_route`."""
    text = path.read_text(encoding="utf-8")
    expected = yaml.safe_load(text)
    section = referential_section(thematique, libelle, sans.priorites_caf if sans else [])
    expected["thematiques"].append(section)
    comment = [f"Thématique ajoutée par « ctg nouvelle-thematique {thematique} » : l'axe, l'objectif et l'action "
               f"ci-dessous sont provisoires, {PLACEHOLDER.lower()} de pilotage (libellés, actions, cibles)."]
    if sans:
        expected[NO_ROADMAP_KEY] = [t for t in expected[NO_ROADMAP_KEY] if t.get("id") != thematique]
        text = remove_from_list(text, NO_ROADMAP_KEY, thematique)
        comment.append(f"Priorités de la Caf reprises de {NO_ROADMAP_KEY}, dont la note disait : "
                       f"{' '.join(sans.note.split())}")
    return _checked(path.name, append_to_list(text, "thematiques", [section], comment), expected)


def catalogue_text(path: Path, entries: list[dict], thematique: str, libelle: str) -> str:
    """The catalogue with `entries` appended to `indicateurs`, under a section comment."""
    text = path.read_text(encoding="utf-8")
    expected = yaml.safe_load(text)
    expected["indicateurs"] = [*expected["indicateurs"], *entries]
    comment = ["", f"{'-' * 64} {libelle.lower()}",
               f"Indicateurs de départ ajoutés par « ctg nouvelle-thematique {thematique} » (docs/etendre.md)."]
    return _checked(path.name, append_to_list(text, "indicateurs", entries, comment, flow_leaves=True), expected)


def params_text(path: Path, params: dict, thematique: str) -> str:
    """params.yaml with the thématique appended to `thematiques` (ctg run, DVC matrix stages)."""
    expected = {**params, "thematiques": [*(params.get("thematiques") or []), thematique]}
    return _checked(path.name, append_to_list(path.read_text(encoding="utf-8"), "thematiques", [thematique]),
                    expected)


def nouvelle_thematique(thematique: str, layout: DataLayout, libelle: str | None = None,
                        root: Path | None = None) -> Result:
    """Add thématique `thematique` to the project in `root` (default: the current project) and the referential of
    `layout`. Raises ScaffoldError (nothing written) when the id is malformed or already used."""
    from pipeline.report.template import write_notebook

    root = Path(root or ROOT)
    if not re.fullmatch(THEMATIQUE_ID, thematique) or thematique == "transverse":
        raise ScaffoldError(f"Identifiant « {thematique} » refusé : une thématique s'écrit en snake_case (lettres "
                            "minuscules et _, par exemple logement), et « transverse » est réservé.")
    params_file, notebook = root / "params.yaml", root / "notebooks" / f"{thematique}.ipynb"
    params = load_params(params_file)
    catalogue_file = _catalogue_path(root, params)
    referentiel = load_referentiel(layout.referentiel)
    catalogue = load_catalogue(catalogue_file)
    existing = {
        "params.yaml (thematiques)": thematique in (params.get("thematiques") or []),
        f"{layout.referentiel} (thematiques)": thematique in {t.id for t in referentiel.thematiques},
        f"{catalogue_file.name} (indicateurs de la thématique)": any(
            e["thematique"] == thematique for e in catalogue.values()),
        str(notebook): notebook.exists(),
    }
    if any(existing.values()):
        where = ", ".join(k for k, v in existing.items() if v)
        raise ScaffoldError(f"La thématique « {thematique} » existe déjà ({where}) : rien n'a été modifié.",
                            exit_code=1)
    sans = next((t for t in referentiel.thematiques_sans_feuille_de_route if t.id == thematique), None)
    libelle = (libelle or (sans.libelle if sans else "")).strip()
    if not libelle:
        raise ScaffoldError(f"Donnez le libellé de la thématique : --libelle \"…\" (« {thematique} » ne figure "
                            f"pas dans {NO_ROADMAP_KEY} du référentiel).")
    entries, notes = starter_indicators(thematique, libelle, catalogue)
    taken = [e["id"] for e in entries if e["id"] in catalogue]
    if taken:
        raise ScaffoldError(f"Identifiants d'indicateurs déjà pris dans {catalogue_file.name} : {', '.join(taken)} ; "
                            "rien n'a été modifié.", exit_code=1)

    texts = {layout.referentiel: referential_text(layout.referentiel, thematique, libelle, sans),
             catalogue_file: catalogue_text(catalogue_file, entries, thematique, libelle),
             params_file: params_text(params_file, params, thematique)}
    _validate(texts[layout.referentiel], texts[catalogue_file])
    write_notebook(thematique, notebook)
    for path, text in texts.items():
        _write(path, text)
    return Result(thematique, libelle, created=[notebook], modified=list(texts), indicateurs=[e["id"] for e in entries],
                  notes=notes)
