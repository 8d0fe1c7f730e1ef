"""The slice ("tranche") of the processed tables one notebook reads, and its fingerprint ("empreinte").

A thematic notebook is built from `tranche(tables, thematique, annee)` only (`pipeline.report.chargement`), the
social-impact chapter from `tranche(tables, None, annee)`: a notebook sees exactly its slice, so the slice's
fingerprint is a sound cache key (`ctg run`) and DVC dependency (`empreintes/<thematique>.json`).

What a thematic report reads (every accessor of `pipeline.report.contexte.Contexte` and every helper of
`pipeline.report`), hence what its slice keeps:

- `indicateurs`: rows of its thématique (helpers read the thématique's indicator ids), plus the `transverse`
  rows (context indicators a notebook may chart);
- `actions`, `financements`: rows of its thématique (plus `transverse` or unassigned funding rows);
- `equipements`: structures whose type belongs to the thématique in the vocabulary `types_structure`, plus
  shared structures (type `transverse`, or a type the vocabulary does not know);
- `activite`: rows of those structures, plus rows of structures not in `equipements` (the territory
  pseudo-structure `TERRITOIRE`, unknown ids);
- a table whose slice would be empty is kept whole: helpers test `table.empty` on the whole table ("no
  follow-up sheet at all" vs "nothing for this thématique"), and an empty slice would change that answer.

Years: every table is cut at `annee`: a report of year N reads nothing later than N. So the report of a past
year does not change when a later year's data arrives (rerunning last year's pipeline on last year's inputs gives
last year's report even after this year's files were added), and its fingerprint does not either: adding or
correcting this year's data reruns this year's notebooks only. (Before this cut, `Contexte.info` took an
indicator's decimals and fallback label from every year, and the impact chapter named structures after their
latest row: a 2025 value could change how the 2024 report printed.)

Row order is kept (prepare writes the tables sorted); the index is reset, so a slice depends on its rows only.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Iterable

import pandas as pd

from pipeline.empreinte import empreinte
from pipeline.inputs.vocabulary import load_vocabulary

TABLES = ("indicateurs", "actions", "financements", "equipements", "activite")
PARTAGEE = "transverse"  # thématique of the rows every report may read
TOUTES = "*"  # key of the all-thématiques slice (social-impact chapter) in empreintes.json
ANNUELLES = TABLES  # tables cut at the report year (all of them: see "Years" above)
FICHIER = "empreintes.json"
DOSSIER = "empreintes"  # one small file per thématique, for DVC


def tranche(tables: dict[str, pd.DataFrame], thematique: str | None, annee: int,
            vocabulaire=None) -> dict[str, pd.DataFrame]:
    """The rows of each processed table a report of `thematique` (None: every thématique) for year `annee` may
    read, keyed like TABLES (a missing table is an empty frame)."""
    return jusqu_a(du_theme(tables, thematique, vocabulaire), annee)


def du_theme(tables: dict[str, pd.DataFrame], thematique: str | None, vocabulaire=None) -> dict[str, pd.DataFrame]:
    """The thématique's rows and the shared rows of each table, every year (None: the tables as they are)."""
    sortie = {}
    for nom in TABLES:
        table = tables.get(nom)
        table = pd.DataFrame() if table is None else table
        if thematique is not None and len(table):
            garder = _du_theme(nom, table, tables, thematique, vocabulaire or load_vocabulary()).to_numpy()
            if garder.any():  # else keep the whole table: `table.empty` keeps its meaning (module docstring)
                table = table[garder]
        sortie[nom] = table.reset_index(drop=True)
    return sortie


def jusqu_a(tables: dict[str, pd.DataFrame], annee: int) -> dict[str, pd.DataFrame]:
    """The tables with the rows of ANNUELLES tables after `annee` left out."""
    sortie = dict(tables)
    for nom in ANNUELLES:
        table = sortie[nom]
        if "annee" in table:
            sortie[nom] = table[(table["annee"] <= int(annee)).to_numpy()].reset_index(drop=True)
    return sortie


def _du_theme(nom: str, table: pd.DataFrame, tables: dict[str, pd.DataFrame], thematique: str,
              vocabulaire) -> pd.Series:
    """Boolean mask: rows of `thematique` or shared rows."""
    lus = {thematique, PARTAGEE}
    if "thematique" in table:
        return table["thematique"].isin([*lus, ""])
    if nom == "equipements":
        themes = _themes_des_types(table["type"], vocabulaire)
        return table["type"].isin([t for t, ths in themes.items() if ths & lus])
    if nom == "activite":
        themes = _themes_des_structures(tables.get("equipements"), vocabulaire)
        return ~table["structure_id"].isin([s for s, ths in themes.items() if not ths & lus])
    return pd.Series(True, index=table.index)


def _themes_des_types(types: Iterable[str], vocabulaire) -> dict[str, set[str]]:
    """{structure type: its thématique}; a type the vocabulary does not know is shared."""
    entrees = vocabulaire.entries.get("types_structure", {})
    return {t: {(entrees.get(t) or {}).get("thematique") or PARTAGEE} for t in set(types)}


def _themes_des_structures(equipements: pd.DataFrame | None, vocabulaire) -> dict[str, set[str]]:
    """{structure id: thématiques of its type(s) over the years}; structures absent from `equipements` are not
    listed (their activity rows are shared)."""
    if equipements is None or equipements.empty:
        return {}
    par_type = _themes_des_types(equipements["type"], vocabulaire)
    themes: dict[str, set[str]] = {}
    for structure, type_ in zip(equipements["structure_id"], equipements["type"]):
        themes.setdefault(structure, set()).update(par_type[type_])
    return themes


def empreintes(tables: dict[str, pd.DataFrame], thematiques: Iterable[str],
               annees: Iterable[int], vocabulaire=None) -> dict[str, dict[int, str]]:
    """{thématique, or "*" for every thématique: {annee: sha256 of its slice (`tranche`)}}."""
    vocabulaire = vocabulaire or load_vocabulary()
    annees = sorted({int(a) for a in annees})
    sortie = {}
    for cle in [*dict.fromkeys(thematiques), TOUTES]:
        theme = du_theme(tables, None if cle == TOUTES else cle, vocabulaire)
        sortie[cle] = {a: empreinte(*jusqu_a(theme, a).values()) for a in annees}
    return sortie


def ecrire_empreintes_du_dossier(dossier: Path, thematiques: Iterable[str], annees: Iterable[int] = ()) -> Path:
    """Fingerprint the processed tables of `dossier` as written (read back, as notebooks read them), for every
    thématique and "*", for `annees` and every year of the actions table (report years; a year without
    fingerprint is never skipped by `ctg run`); write them (`ecrire_empreintes`)."""
    tables = {nom: pd.read_parquet(chemin) for nom in TABLES if (chemin := dossier / f"{nom}.parquet").is_file()}
    suivies = tables["actions"]["annee"].unique() if "actions" in tables else []
    return ecrire_empreintes(dossier, empreintes(tables, thematiques, {*map(int, annees), *map(int, suivies)}))


def ecrire_empreintes(dossier: Path, valeurs: dict[str, dict[int, str]]) -> Path:
    """Write `dossier/empreintes.json` and `dossier/empreintes/<thematique>.json` (deterministic bytes); remove
    the per-thématique files of thématiques no longer listed. Returns the path of empreintes.json."""
    texte = {cle: {str(a): h for a, h in par_annee.items()} for cle, par_annee in valeurs.items()}
    par_theme = dossier / DOSSIER
    par_theme.mkdir(parents=True, exist_ok=True)
    attendus = set()
    for cle, par_annee in texte.items():
        if cle != TOUTES:
            attendus.add(_ecrire(par_theme / f"{cle}.json", par_annee).name)
    for ancien in par_theme.glob("*.json"):
        if ancien.name not in attendus:
            ancien.unlink()
    return _ecrire(dossier / FICHIER, texte)


def _ecrire(path: Path, valeur) -> Path:
    """Write only when the content changes (a rerun leaves the file, and DVC's view of it, untouched)."""
    contenu = json.dumps(valeur, sort_keys=True, indent=1, ensure_ascii=False) + "\n"
    if not path.is_file() or path.read_text(encoding="utf-8") != contenu:
        tmp = path.with_suffix(".json.tmp")
        tmp.write_text(contenu, encoding="utf-8")
        tmp.replace(path)
    return path
