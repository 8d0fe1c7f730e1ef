"""The data of the social-impact chapter and of the final evaluation (`Donnees`), loaded once.

It wraps the report helpers' `Contexte` (same tables, same accessors, no indicator recomputed), set to the
`transverse` scope, with the whole catalogue (plus its optional `modele_logique` field), the whole roadmap, the
labels of the thématiques, the `impact:` and `bilan:` sections of params.yaml and two optional inputs:

- `raw/insee/indice_prix.csv` (`annee, indice`): a price index; amounts are then shown in constant euros;
- `raw/territoires/<siren>/suivi/bilan/enseignements.csv|.xlsx` (`thematique, type, texte`): the evaluators'
  lessons and proposals for the final evaluation.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from pipeline.config import DataLayout, load_params
from pipeline.impact.textes import ENSEMBLE_CONVENTION
from pipeline.indicators import load_catalogue
from pipeline.inputs.common import LINE_COLUMN, InputError, Schema, coerce, find_table, normalize_label, read_strings
from pipeline.prepare import catalogue_path
from pipeline.referential import load_referentiel
from pipeline.report import contexte as contexte_rapport
from pipeline.report import memo
from pipeline.report.chargement import catalogue_frame
from pipeline.report.contexte import Contexte, vue

TRANSVERSE = "transverse"
INDICE_PRIX = "indice_prix"
ENSEIGNEMENTS = "enseignements"
TYPES = ("enseignement", "proposition")
SCHEMA_INDICE = Schema(INDICE_PRIX, {"annee": "int", "indice": "float", "source": "str"}, required=("annee", "indice"))
SCHEMA_ENSEIGNEMENTS = Schema(ENSEIGNEMENTS, {"thematique": "str", "type": "str", "texte": "str"},
                              required=("type", "texte"))

DEFAUTS = {
    "impact": {"evolution": {"seuil_pourcentage": 10, "seuil_points": 3}, "cases_par_niveau": 3,
               "indicateur_bas_revenus": "part_alloc_qf_lt800"},
    "bilan": {"partiellement_atteinte": 0.5, "durabilite_tolerance": 10, "population_sous_dotee": 2000},
}


@dataclass
class Donnees:
    """Everything the two notebooks need for report year `ctx.annee`."""

    ctx: Contexte  # thématique `transverse`; catalogue with a `modele_logique` column (list of levels)
    thematiques: dict[str, str]  # id -> label, in params.yaml order
    reglages: dict = field(default_factory=lambda: {k: dict(v) for k, v in DEFAUTS.items()})
    enseignements: pd.DataFrame = field(default_factory=pd.DataFrame)
    indice_prix: dict[int, float] = field(default_factory=dict)
    source_indice: str = ""
    intention: str = ""  # the convention's own words on social impact
    figures: Path | None = None  # where drawn figures are kept by their inputs (pipeline.report.memo)
    _par_theme: dict[str, Contexte] = field(default_factory=dict, repr=False)

    @property
    def annee(self) -> int:
        return self.ctx.annee

    @property
    def debut(self) -> int:
        return self.ctx.annee_debut

    @property
    def fin(self) -> int:
        return self.ctx.annee_fin

    def libelle(self, thematique: str) -> str:
        return self.thematiques.get(thematique, ENSEMBLE_CONVENTION if thematique == TRANSVERSE else thematique)

    def reglage(self, section: str, cle: str):
        return self.reglages.get(section, {}).get(cle, DEFAUTS[section][cle])

    def du_theme(self, thematique: str) -> Contexte:
        """The same data scoped to one thématique (for helpers that read `ctx.thematique`)."""
        if thematique not in self._par_theme:
            self._par_theme[thematique] = vue(
                self.ctx, thematique=thematique, libelle_thematique=self.libelle(thematique),
                plan=self.ctx.plan[self.ctx.plan["thematique"] == thematique])
        return self._par_theme[thematique]

    def niveaux_modele(self, indicateur: str) -> list[str]:
        """Logic-model levels the catalogue declares for an indicator ([] when none)."""
        cat = self.ctx.catalogue
        if indicateur not in cat.index or "modele_logique" not in cat:
            return []
        return list(cat.at[indicateur, "modele_logique"] or [])

    def indicateurs(self, thematique: str | None = None) -> list[str]:
        """Catalogue ids, in file order (of one thématique when given)."""
        cat = self.ctx.catalogue
        return list(cat.index if thematique is None else cat.index[cat["thematique"] == thematique])


def niveaux(entree: dict) -> list[str]:
    """The catalogue's `modele_logique` as a list (it may be one level or a list)."""
    valeur = entree.get("modele_logique") or []
    return list(valeur) if isinstance(valeur, (list, tuple)) else [valeur]


def charger(territoire: str, annee: int, data_dir: str | Path, params: dict | None = None) -> Donnees:
    """Load the processed tables (through `pipeline.report.contexte`, every thématique's slice: see
    `pipeline.tranches`) and the optional inputs."""
    params = params or load_params()
    layout = DataLayout(Path(data_dir), str(territoire))
    ref = load_referentiel(layout.referentiel)
    ids = [t.id for t in ref.thematiques]
    themes = [t for t in params.get("thematiques", ids) if t in ids] or ids
    entrees = load_catalogue(catalogue_path(params))
    catalogue = catalogue_frame(entrees)
    catalogue["modele_logique"] = [niveaux(e) for e in entrees.values()]
    catalogue["type_formule"] = [e["formule"].get("type") if isinstance(e["formule"], dict) else "reference"
                                 for e in entrees.values()]
    base = contexte_rapport(str(territoire), int(annee), data_dir, themes[0], toutes_thematiques=True,
                            params=params, referentiel=ref, catalogue=catalogue)
    ctx = vue(base, thematique=TRANSVERSE, libelle_thematique="Impact social", plan=ref.actions_frame(), priorites=[])
    indice, source = lire_indice_prix(layout)
    communication = ref.communication.impact_social if ref.communication else None
    return Donnees(
        ctx=ctx,
        thematiques={t: ref.thematique(t).libelle for t in themes},
        reglages={section: {**DEFAUTS[section], **(params.get(section) or {})} for section in DEFAUTS},
        enseignements=lire_enseignements(layout, ids),
        indice_prix=indice,
        source_indice=source,
        intention=communication.libelle if communication else "",
        figures=memo.dossier(data_dir, territoire),
    )


def lire_indice_prix(layout: DataLayout) -> tuple[dict[int, float], str]:
    """{annee: indice} from `raw/insee/indice_prix.csv|.xlsx`, and its source; ({}, '') when absent."""
    chemin = find_table(layout.insee, INDICE_PRIX)
    if chemin is None:
        return {}, ""
    table = coerce(read_strings(chemin, SCHEMA_INDICE.names), SCHEMA_INDICE, chemin)
    for indice, numero in zip(table["indice"], table[LINE_COLUMN]):
        if not indice or indice <= 0:
            raise InputError(chemin, "indice nul ou négatif", line=int(numero), column="indice", value=indice,
                             hint="L'indice des prix est un nombre positif (base 100 une année donnée)")
    sources = sorted({s for s in table["source"] if s})
    return {int(a): float(i) for a, i in zip(table["annee"], table["indice"])}, " ; ".join(sources)


def lire_enseignements(layout: DataLayout, thematiques: list[str]) -> pd.DataFrame:
    """The evaluators' sheet `suivi/bilan/enseignements.csv|.xlsx` as `thematique, type, texte` (empty frame when
    absent). `thematique` may be an id or a label, empty for the whole convention; `type` is enseignement or
    proposition (singular or plural, any case)."""
    colonnes = ["thematique", "type", "texte"]
    chemin = find_table(layout.territoire_dir / "suivi" / "bilan", ENSEIGNEMENTS)
    if chemin is None:
        return pd.DataFrame(columns=colonnes)
    table = coerce(read_strings(chemin, SCHEMA_ENSEIGNEMENTS.names), SCHEMA_ENSEIGNEMENTS, chemin)
    connues = {normalize_label(t): t for t in thematiques} | {"": TRANSVERSE, TRANSVERSE: TRANSVERSE,
                                                               "ensemble": TRANSVERSE, "toutes": TRANSVERSE}
    lignes = []
    for ligne in table.to_dict("records"):
        theme = connues.get(normalize_label(ligne["thematique"]))
        type_ = normalize_label(ligne["type"]).rstrip("s")
        if theme is None:
            raise InputError(chemin, "thématique inconnue", line=int(ligne[LINE_COLUMN]), column="thematique",
                             value=ligne["thematique"], hint=f"Valeurs possibles : {', '.join(thematiques)} ou vide "
                                                             "(ensemble de la convention)")
        if type_ not in TYPES:
            raise InputError(chemin, "type inconnu", line=int(ligne[LINE_COLUMN]), column="type", value=ligne["type"],
                             hint="Écrivez « enseignement » ou « proposition »")
        if ligne["texte"]:
            lignes.append((theme, type_, ligne["texte"]))
    return pd.DataFrame(lignes, columns=colonnes)
