"""The data one thematic report needs (`Contexte`) and read-only accessors over it.

The loader that builds a `Contexte` from a data directory lives in `chargement.py`; tests build one directly
from small hand-made frames.
"""

from __future__ import annotations

import copy
import math
from collections import defaultdict
from dataclasses import dataclass, field, fields
from pathlib import Path

import numpy as np
import pandas as pd

from pipeline.report import fmt
from pipeline.report.textes import NOMS_DEPARTEMENTS, STATUTS


@dataclass(frozen=True)
class Mesure:
    """One published value of an indicator: the year it describes, its value, secrecy and provenance."""

    annee: int
    valeur: float | None
    secret: bool
    source: str
    millesime: int | None

    @property
    def disponible(self) -> bool:
        return self.secret or self.valeur is not None


@dataclass
class Contexte:
    """One thematic report's data for report year `annee` (see chargement.contexte for where each comes from)."""

    territoire: str
    annee: int
    thematique: str
    indicateurs: pd.DataFrame
    catalogue: pd.DataFrame  # one row per indicator, indexed by id
    actions: pd.DataFrame
    cibles: pd.DataFrame
    communes: pd.DataFrame
    geometries: dict
    libelle_thematique: str = ""
    libelle_territoire: str = "l'Agglomération"
    libelle_caf: str = "la Caf"
    libelle_convention: str = "Convention territoriale globale"
    plan: pd.DataFrame = field(default_factory=pd.DataFrame)  # referential actions of the thématique
    priorites: list[str] = field(default_factory=list)
    equipements: pd.DataFrame = field(default_factory=pd.DataFrame)
    financements: pd.DataFrame = field(default_factory=pd.DataFrame)
    activite: pd.DataFrame = field(default_factory=pd.DataFrame)
    types_structure: dict[str, dict] = field(default_factory=dict)  # code -> {libelle, thematique}
    statuts: dict[str, str] = field(default_factory=lambda: dict(STATUTS))  # code -> label, display order
    villes_centres: list[str] = field(default_factory=list)  # INSEE codes of the main town(s)
    qpv: list[str] = field(default_factory=list)  # names of the territory's priority neighbourhoods
    illustratif: bool = False
    seuil_secret: int = 5
    annees: tuple[int, ...] = (2021, 2022, 2023, 2024, 2025)
    figures: Path | None = None  # where drawn figures are kept by their inputs (pipeline.report.memo)

    def __post_init__(self) -> None:
        """Indexes built once: row positions by (indicator, level) (each group's rows are taken and sorted on first
        use, and each place's rows up to the report year), published values by (indicator, level, place)."""
        t = self.indicateurs
        self._positions = t.groupby(["indicateur", "niveau"]).indices if len(t) else {}
        self._groupes: dict[tuple, pd.DataFrame] = {}
        self._lignes: dict[tuple, pd.DataFrame] = {}
        self._mesures = _mesures(t)
        self._infos: dict[str, dict] = {}
        self._cibles: dict[str, pd.DataFrame] = {}
        self._noms = dict(zip(self.communes["code_insee"], self.communes["commune"]))

    # --- convention years -------------------------------------------------------------------------------
    @property
    def annee_debut(self) -> int:
        """Baseline year: the first year of the convention, before the roadmaps took effect."""
        return self.annees[0]

    @property
    def annee_fin(self) -> int:
        return self.annees[-1]

    # --- indicators -------------------------------------------------------------------------------------
    def indicateurs_du_theme(self) -> list[str]:
        """Indicator ids of the thématique: catalogue order first, then ids only found in the table."""
        ids = list(self.catalogue.index[self.catalogue["thematique"] == self.thematique])
        dans_table = self.indicateurs.loc[self.indicateurs["thematique"] == self.thematique, "indicateur"]
        return ids + [i for i in dict.fromkeys(dans_table) if i not in ids]

    def info(self, indicateur: str) -> dict:
        """Label, unit, direction, main flag and target reference: catalogue first, processed table otherwise."""
        if indicateur not in self._infos:
            cat = self.catalogue.loc[indicateur].to_dict() if indicateur in self.catalogue.index else {}
            lignes = self.indicateurs[self.indicateurs["indicateur"] == indicateur]
            table = lignes.iloc[-1].to_dict() if len(lignes) else {}
            valeurs = lignes["valeur"].dropna()

            def lire(cle, defaut=None):
                return next((v for v in (cat.get(cle), table.get(cle)) if _renseigne(v)), defaut)

            unite = lire("unite", "")
            self._infos[indicateur] = {
                "id": indicateur,
                "libelle": lire("libelle", indicateur),
                "unite": unite,
                "sens": lire("sens", "neutre"),
                "principal": bool(lire("principal", False)),
                "cible": lire("cible"),
                # decimals to print: one for rates and non-integer values, none for counts
                "decimales": 1 if fmt.est_taux(unite) or (valeurs != valeurs.round()).any() else 0,
            }
        return self._infos[indicateur]

    def decimales(self, indicateur: str) -> int:
        return self.info(indicateur)["decimales"]

    def lignes(self, indicateur: str, niveau: str, code_geo: str | None = None) -> pd.DataFrame:
        """Rows of one indicator at one level (and place), up to the report year, sorted by year. Computed once
        per (indicator, level, place): do not modify the frame returned."""
        cle = (indicateur, niveau, code_geo)
        if cle not in self._lignes:
            g = self._groupe(indicateur, niveau)
            g = g.iloc[:int(np.searchsorted(g["annee"].to_numpy(), self.annee, side="right"))]  # sorted by year
            self._lignes[cle] = g if code_geo is None else g[g["code_geo"] == code_geo]
        return self._lignes[cle]

    def _groupe(self, indicateur: str, niveau: str) -> pd.DataFrame:
        """All rows of one indicator at one level, sorted by year (empty frame when there is none)."""
        cle = (indicateur, niveau)
        if cle not in self._groupes:
            positions = self._positions.get(cle)
            self._groupes[cle] = (self.indicateurs.iloc[:0] if positions is None
                                  else self.indicateurs.take(positions).sort_values("annee"))
        return self._groupes[cle]

    def mesures(self, indicateur: str, niveau: str = "epci", code_geo: str | None = None) -> list[Mesure]:
        """Published values (value or secret) of one place, oldest first."""
        if code_geo is None and niveau == "epci":
            code_geo = self.territoire
        return [m for m in self._mesures.get((indicateur, niveau, code_geo), []) if m.annee <= self.annee]

    def mesure(self, indicateur: str, annee: int, niveau: str = "epci", code_geo: str | None = None) -> Mesure | None:
        return next((m for m in self.mesures(indicateur, niveau, code_geo) if m.annee == annee), None)

    def derniere(self, indicateur: str, niveau: str = "epci", code_geo: str | None = None,
                 avant: int | None = None) -> Mesure | None:
        """Latest published value up to the report year (strictly before `avant` when given)."""
        limite = self.annee + 1 if avant is None else avant
        mesures = [m for m in self.mesures(indicateur, niveau, code_geo) if m.annee < limite]
        return mesures[-1] if mesures else None

    def cibles_de(self, indicateur: str) -> pd.DataFrame:
        """The convention's targets for an indicator (rows of cibles_frame naming it, or named by the
        catalogue's `cible`, an id or a list of ids), by deadline. Computed once per indicator (do not modify
        the frame returned)."""
        c = self.cibles
        if c.empty:
            return c
        if indicateur not in self._cibles:
            ref = self.info(indicateur)["cible"]
            refs = ref if isinstance(ref, (list, tuple)) else [ref] if ref else []
            self._cibles[indicateur] = c[(c["indicateur"] == indicateur) | c["cible_id"].isin(refs)].sort_values(
                ["annee", "cible_id"])
        return self._cibles[indicateur]

    # --- places -----------------------------------------------------------------------------------------
    def nom_commune(self, code_insee: str) -> str:
        return str(self._noms.get(code_insee, code_insee))

    def nom_lieu(self, niveau: str, code_geo: str) -> str:
        if niveau == "epci":
            return self.libelle_territoire
        if niveau == "commune":
            return self.nom_commune(code_geo)
        if niveau == "departement":
            return NOMS_DEPARTEMENTS.get(code_geo, f"Département {code_geo}")
        if niveau == "france":
            return "France"
        return str(code_geo)

    # --- roadmap ----------------------------------------------------------------------------------------
    def actions_du_theme(self) -> pd.DataFrame:
        """Actions of the thématique as followed in the report year (one row per action)."""
        a = self.actions
        return a[(a["thematique"] == self.thematique) & (a["annee"] == self.annee)]


# What a Contexte's indexes and memorised lookups are computed from (see `vue`)
DONNEES_INDEXEES = frozenset({"indicateurs", "catalogue", "cibles", "communes", "annee", "territoire"})


def vue(ctx: Contexte, **changes) -> Contexte:
    """`dataclasses.replace(ctx, **changes)` for changes that leave DONNEES_INDEXEES as they are (thématique, labels,
    roadmap, priorities, actions): the new Contexte shares ctx's indexes and memorised lookups instead of building
    its own (~0.05 s of CPU each: a report set sees the same tables through one Contexte per thématique)."""
    inconnus = changes.keys() - {f.name for f in fields(ctx)}
    if inconnus or changes.keys() & DONNEES_INDEXEES:
        raise ValueError(f"vue() ne change que les champs hors {sorted(DONNEES_INDEXEES)} : {sorted(changes)}")
    autre = copy.copy(ctx)  # the same index dictionaries, shared
    for nom, valeur in changes.items():
        setattr(autre, nom, valeur)
    return autre


def _renseigne(v) -> bool:
    """A catalogue or table field that holds something (not None, NaN or empty text)."""
    if isinstance(v, (list, tuple)):
        return bool(v)
    return v is not None and v != "" and not (isinstance(v, float) and math.isnan(v))


def _mesures(t: pd.DataFrame) -> dict[tuple, list[Mesure]]:
    """{(indicator, level, place): its published values (value or secret), oldest first}.

    Column-wise (one pass over plain Python lists): iterating rows of Arrow-backed text columns is slow. A missing
    `secret` counts as not secret; a secret value is never kept."""
    mesures: dict[tuple, list[Mesure]] = defaultdict(list)
    if not len(t):
        return mesures
    t = t.take(np.argsort(t["annee"].to_numpy(), kind="stable"))
    secrets = t["secret"].fillna(False).astype(bool).to_numpy()
    manquantes = t["valeur"].isna().to_numpy()
    disponibles = secrets | ~manquantes
    t, secrets, manquantes = t[disponibles], secrets[disponibles], manquantes[disponibles]
    millesimes = [None if pd.isna(m) else int(m) for m in t["millesime"].tolist()]
    colonnes = [t[c].tolist() for c in ("indicateur", "niveau", "code_geo", "annee", "valeur", "source")]
    for (ind, niveau, code, annee, valeur, source), secret, manquante, millesime in zip(
            zip(*colonnes), secrets.tolist(), manquantes.tolist(), millesimes):
        valeur = None if secret or manquante else float(valeur)
        mesures[(ind, niveau, code)].append(Mesure(int(annee), valeur, secret, str(source), millesime))
    return mesures
