"""Build the `Contexte` of one thematic report from a data directory (cheap: a fraction of a second).

Reads the processed tables (`DIR/processed/<siren>/`), the indicator catalogue (params.yaml `catalogue`,
relative to the project root), the referential, the communes and their boundaries, the vocabulary of the
follow-up sheets, and whether the data is illustrative (`pipeline.sample.is_illustrative`).

A thematic report's `Contexte` holds only the slice of the processed tables that report reads
(`pipeline.tranches.tranche`): what a notebook can see is exactly what its fingerprint (`empreintes.json`, the
cache key of `ctg run`, the DVC dependency of the `execute` stage) covers.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from pipeline.config import DataLayout, load_params
from pipeline.indicators import load_catalogue
from pipeline.inputs.vocabulary import load_vocabulary
from pipeline.prepare import catalogue_path
from pipeline.referential import Referentiel, load_referentiel
from pipeline.report import memo, textes
from pipeline.report.contexte import Contexte
from pipeline.sample import is_illustrative
from pipeline.territory import load_communes, load_geometries, qpv_list
from pipeline.tranches import tranche

OBLIGATOIRES = ("indicateurs", "actions")
FACULTATIVES = ("equipements", "financements", "activite")
CATALOGUE_COLONNES = ["libelle", "thematique", "unite", "sens", "source", "niveaux", "decalage", "cible",
                      "principal", "secret"]


def contexte(territoire: str, annee: int, data_dir: str | Path, thematique: str, *,
             toutes_thematiques: bool = False, params: dict | None = None, referentiel: Referentiel | None = None,
             catalogue: pd.DataFrame | None = None) -> Contexte:
    """Everything one thematic report needs, for report year `annee`: the processed tables are cut to the
    thématique's slice, or to every thématique's when `toutes_thematiques` (social-impact chapter, report set;
    `thematique` then only sets the labels and the roadmap). A caller that already read params.yaml, the
    referential or the catalogue (as a `catalogue_frame`) passes them, so that they are not read twice."""
    layout = DataLayout(Path(data_dir), str(territoire))
    params = load_params() if params is None else params
    vocabulaire = load_vocabulary()
    tables = tranche(lire_tables(layout), None if toutes_thematiques else thematique, annee, vocabulaire)
    referentiel = load_referentiel(layout.referentiel) if referentiel is None else referentiel
    theme = referentiel.thematique(thematique)
    communes = load_communes(layout).astype({"code_insee": str})
    plan = referentiel.actions_frame()
    return Contexte(
        territoire=str(territoire),
        annee=int(annee),
        thematique=thematique,
        indicateurs=tables["indicateurs"],
        catalogue=catalogue_frame(load_catalogue(catalogue_path(params))) if catalogue is None else catalogue,
        actions=tables["actions"],
        cibles=referentiel.cibles_frame(),
        communes=communes,
        geometries=load_geometries(layout),
        libelle_thematique=theme.libelle,
        libelle_territoire=referentiel.convention.territoire.nom,
        libelle_caf=referentiel.convention.caf,
        libelle_convention=referentiel.convention.intitule,
        priorites=list(theme.priorites_caf),
        plan=plan[plan["thematique"] == thematique],
        equipements=tables["equipements"],
        financements=tables["financements"],
        activite=tables["activite"],
        types_structure=vocabulaire.entries["types_structure"],
        statuts={**{code: vocabulaire.label("statuts", code) for code in vocabulaire.codes("statuts")},
                 "": textes.STATUTS[""]},
        villes_centres=list(communes.loc[communes["niveau_service"] == "pole_superieur", "code_insee"]),
        qpv=[q for cellule in communes["qpv"] for q in qpv_list(cellule)],
        illustratif=is_illustrative(layout),
        seuil_secret=int(params.get("secret", {}).get("seuil", 5)),
        annees=tuple(range(referentiel.convention.periode.debut, referentiel.convention.periode.fin + 1)),
        figures=memo.dossier(data_dir, territoire),
    )


def lire_tables(layout: DataLayout) -> dict[str, pd.DataFrame]:
    """The five processed tables, whole (an optional one absent: empty frame)."""
    return {nom: lire_table(layout, nom, nom in OBLIGATOIRES) for nom in OBLIGATOIRES + FACULTATIVES}


def lire_table(layout: DataLayout, nom: str, obligatoire: bool) -> pd.DataFrame:
    chemin = layout.processed / f"{nom}.parquet"
    if chemin.is_file():
        return pd.read_parquet(chemin)
    if obligatoire:
        raise FileNotFoundError(f"Table préparée introuvable : {chemin} (lancer d'abord l'étape de préparation, "
                                "« ctg run » ou « dvc repro »).")
    return pd.DataFrame()


def catalogue_frame(catalogue: dict[str, dict]) -> pd.DataFrame:
    """The catalogue ({id: entry}, file order) as a frame indexed by id."""
    frame = pd.DataFrame.from_dict(catalogue, orient="index").reindex(columns=CATALOGUE_COLONNES)
    frame.index.name = "id"
    return frame


