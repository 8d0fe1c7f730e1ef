"""Project constants, parameters (params.yaml) and the data-directory layout."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import yaml

PACKAGE_ROOT = Path(__file__).resolve().parent.parent


def _project_root() -> Path:
    """The project folder (params.yaml, notebooks/, metadata/): $CTG_PROJET, else the current folder when it is a
    project (as for `dvc repro`, which runs stages from the folder holding dvc.yaml), else this checkout."""
    env = os.environ.get("CTG_PROJET")
    if env:
        return Path(env).resolve()
    cwd = Path.cwd()
    if (cwd / "params.yaml").is_file() and (cwd / "notebooks").is_dir():
        return cwd.resolve()
    return PACKAGE_ROOT


ROOT = _project_root()
PARAMS_FILE = ROOT / "params.yaml"
NOTEBOOKS_DIR = ROOT / "notebooks"

THEMATIQUES: tuple[str, ...] = (
    "acces_droits",
    "petite_enfance",
    "enfance",
    "jeunesse",
    "parentalite",
    "animation_vie_sociale",
)
DEFAULT_TERRITOIRE = "200040459"


def load_params(path: Path | None = None) -> dict:
    """Read params.yaml (the single place where run parameters are declared)."""
    with open(path or PARAMS_FILE, encoding="utf-8") as f:
        return yaml.safe_load(f)


@dataclass(frozen=True)
class DataLayout:
    """Where inputs and processed tables live below a data directory.

    raw/caf/                          Caf open-data exports (as downloaded)
    raw/insee/                        INSEE populations and commune boundaries
    raw/territoires/<siren>/ctg.yaml  the convention's referential
    raw/territoires/<siren>/communes.csv
    raw/territoires/<siren>/suivi/<annee>/  local follow-up sheets (CSV or XLSX)
    processed/<siren>/*.parquet       tidy tables written by the prepare stage
    """

    data_dir: Path
    territoire: str = DEFAULT_TERRITOIRE

    @property
    def raw(self) -> Path:
        return self.data_dir / "raw"

    @property
    def caf(self) -> Path:
        return self.raw / "caf"

    @property
    def insee(self) -> Path:
        return self.raw / "insee"

    @property
    def territoire_dir(self) -> Path:
        return self.raw / "territoires" / self.territoire

    @property
    def referentiel(self) -> Path:
        return self.territoire_dir / "ctg.yaml"

    @property
    def communes(self) -> Path:
        return self.territoire_dir / "communes.csv"

    def suivi(self, annee: int) -> Path:
        return self.territoire_dir / "suivi" / str(annee)

    @property
    def processed(self) -> Path:
        return self.data_dir / "processed" / self.territoire
