"""What `ctg run` may skip because nothing it depends on changed (incremental build).

Three levels, each keyed by content hashes (sha256), never by dates:

- the whole run (`Etat`): every input file under data/raw, params.yaml, metadata/, the notebooks, the code and
  the locked environment, plus the run's options. If that key and every output file (size and modification time)
  are as the last successful run left them, `ctg run` stops at once: « rien à refaire ». This check imports
  nothing heavy (no pandas, no nbformat), so a no-op run costs a fraction of a second;
- one executed notebook (`cle_notebook`): its source, its parameters, the code, the parameters it reads, the
  small shared files it reads directly (referential, communes, boundaries, vocabulary, catalogue…) and the
  fingerprint of the slice of processed data it reads (data/processed/<siren>/empreintes.json, written by the
  prepare stage, see pipeline/tranches.py). Changing one thématique's rows reruns that thématique's notebooks
  (and the chapters that read every thématique), not the others;
- one rendered document: see pipeline/render/cache.py.

Keys are kept in data/interim/<siren>/ (`etat_run.json`, `cles_notebooks.json`); deleting that folder, or
`ctg run --sans-cache`, forces a full build.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

from pipeline.config import NOTEBOOKS_DIR, PARAMS_FILE, ROOT, DataLayout

# Parameters read only by the publish stage (or by the executor itself): they do not change an executed notebook.
PARAMS_HORS_NOTEBOOKS = ("rendu", "copil", "execution")
CODE_SUFFIXES = {".py", ".lua", ".typ", ".html", ".css", ".yaml", ".json"}
ETAT = "etat_run.json"
CLES_NOTEBOOKS = "cles_notebooks.json"
CLES_PUBLICATION = "cles_publication.json"


CACHE_OFF = {"0", "false", "non", "no", "off"}


def cache_enabled(cache: bool | None = None) -> bool:
    """`cache` when given, else the environment: the kept results (checked frames, drawn figures) are reused unless
    `CTG_CACHE` is 0 / false / non / no / off."""
    if cache is not None:
        return bool(cache)
    return os.environ.get("CTG_CACHE", "1").strip().lower() not in CACHE_OFF


def sha256_fichier(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for bloc in iter(lambda: f.read(1 << 20), b""):
            h.update(bloc)
    return h.hexdigest()


def _fichiers(dossier: Path, suffixes: set[str] | None = None) -> list[Path]:
    if not dossier.is_dir():
        return []
    return sorted(p for p in dossier.rglob("*")
                  if p.is_file() and "__pycache__" not in p.parts and (suffixes is None or p.suffix in suffixes))


def empreinte_fichiers(paths: Iterable[Path], base: Path) -> str:
    """One sha256 over (relative path, content hash) of each file, in sorted order; a missing file counts too."""
    h = hashlib.sha256()
    for path in sorted(set(map(Path, paths))):
        try:
            rel = path.relative_to(base).as_posix()
        except ValueError:
            rel = path.as_posix()
        h.update(rel.encode() + b"\0" + (sha256_fichier(path).encode() if path.is_file() else b"absent") + b"\n")
    return h.hexdigest()


def empreinte_code(fichiers: Iterable[Path], base: Path, paquets: Iterable[str]) -> str:
    """Fingerprint of some code (`empreinte_fichiers`) and of the installed versions of `paquets` ("?" when one is
    not installed): what a cache of results computed by that code must be keyed on."""
    import importlib.metadata

    h = hashlib.sha256(empreinte_fichiers(fichiers, base).encode())
    for paquet in paquets:
        try:
            version = importlib.metadata.version(paquet)
        except importlib.metadata.PackageNotFoundError:
            version = "?"
        h.update(f"{paquet}={version}\n".encode())
    return h.hexdigest()


def code_files(root: Path = ROOT) -> list[Path]:
    """The code a build runs: the `pipeline` package (templates included) and the locked environment."""
    package = Path(__file__).resolve().parent
    return [*_fichiers(package, CODE_SUFFIXES), *(p for p in (root / "uv.lock", root / "pyproject.toml") if p.is_file())]


def _texte(valeur) -> bytes:
    return json.dumps(valeur, sort_keys=True, ensure_ascii=False, default=str).encode()


# --- the whole run --------------------------------------------------------------------------------------------

@dataclass
class Etat:
    """The state of one `ctg run`: its key (inputs, code, options) and where its outputs are."""

    cle: str
    fichier: Path  # data/interim/<siren>/etat_run.json
    sorties: list[Path]  # folders whose files the run produced

    def inventaire(self) -> dict[str, list[int]]:
        """Every output file with its size and modification time (ns)."""
        out = {}
        for dossier in self.sorties:
            for path in _fichiers(dossier):
                st = path.stat()
                out[str(path)] = [st.st_size, st.st_mtime_ns]
        return out

    def a_jour(self) -> bool:
        """True when the last successful run had the same key and left every output as it is now."""
        try:
            ancien = json.loads(self.fichier.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return False
        return ancien.get("cle") == self.cle and ancien.get("sorties") == self.inventaire() and bool(ancien["sorties"])

    def enregistrer(self) -> None:
        ecrire_json(self.fichier, {"cle": self.cle, "sorties": self.inventaire()})

    def oublier(self) -> None:
        self.fichier.unlink(missing_ok=True)


def etat_run(layout: DataLayout, annees: list[int], thematiques: list[str], chapitres: list[str],
             reports_dir: Path, periodes: Iterable[str] = (), interim: Path | None = None) -> Etat:
    """The key of a `ctg run` with these options: inputs, parameters, metadata, notebooks, code, options."""
    interim = interim or layout.data_dir / "interim" / layout.territoire
    notebooks = [NOTEBOOKS_DIR / f"{nom}.ipynb" for nom in [*thematiques, *chapitres]]
    h = hashlib.sha256()
    h.update(empreinte_fichiers(_fichiers(layout.raw), layout.raw).encode())
    h.update(empreinte_fichiers([PARAMS_FILE, *_fichiers(ROOT / "metadata"), *notebooks], ROOT).encode())
    h.update(empreinte_fichiers(code_files(), ROOT).encode())
    h.update(_texte({
        "annees": [int(a) for a in annees], "thematiques": list(thematiques), "chapitres": list(chapitres),
        "periodes": list(periodes), "reports": str(Path(reports_dir).resolve()),
        "data": str(Path(layout.data_dir).resolve()), "territoire": layout.territoire,
        "SOURCE_DATE_EPOCH": os.environ.get("SOURCE_DATE_EPOCH", ""),
    }))
    sorties = [Path(reports_dir) / layout.territoire / str(a) for a in annees]
    sorties += [layout.processed, *(interim / str(a) / "notebooks" for a in annees)]
    return Etat(h.hexdigest(), interim / ETAT, sorties)


# --- one executed notebook ------------------------------------------------------------------------------------

def fichiers_partages(layout: DataLayout) -> list[Path]:
    """Raw files a notebook reads directly (not through the processed tables): everything under data/raw except
    the Caf exports and the yearly follow-up sheets, which reach notebooks only through the processed tables."""
    caf, suivi = layout.caf.resolve(), (layout.territoire_dir / "suivi").resolve()
    partages = []
    for path in _fichiers(layout.raw):
        p = path.resolve()
        if p.is_relative_to(caf):
            continue
        if p.is_relative_to(suivi) and p.relative_to(suivi).parts[0].isdigit():
            continue
        partages.append(path)
    return partages


def cle_commune(layout: DataLayout, params: dict) -> str:
    """What every notebook of a run shares: code, parameters it reads, metadata, shared raw files."""
    h = hashlib.sha256()
    h.update(empreinte_fichiers(code_files(), ROOT).encode())
    h.update(empreinte_fichiers(_fichiers(ROOT / "metadata"), ROOT).encode())
    h.update(empreinte_fichiers(fichiers_partages(layout), layout.raw).encode())
    h.update(_texte({k: v for k, v in params.items() if k not in PARAMS_HORS_NOTEBOOKS}))
    return h.hexdigest()


def lire_empreintes(layout: DataLayout) -> dict[str, dict[str, str]]:
    """Fingerprints of the data slices ({thématique or "*": {année: sha256}}) written by the prepare stage."""
    try:
        return json.loads((layout.processed / "empreintes.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def cle_notebook(source: Path, parametres: dict, commune: str, donnees: str | None) -> str | None:
    """The key of one executed notebook; None (always run) when its data slice has no fingerprint."""
    if not donnees:
        return None
    h = hashlib.sha256()
    h.update(sha256_fichier(source).encode())
    h.update(_texte(parametres))
    h.update(commune.encode())
    h.update(donnees.encode())
    return h.hexdigest()


class Registre:
    """Keys of the outputs produced by earlier runs ({output path: [key, sha256 of the output]})."""

    def __init__(self, fichier: Path):
        self.fichier = fichier
        try:
            self.entrees: dict[str, list[str]] = json.loads(fichier.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            self.entrees = {}

    def a_jour(self, sortie: Path, cle: str | None) -> bool:
        """True when `sortie` exists, was produced under `cle`, and was not modified since."""
        entree = self.entrees.get(str(sortie))
        return bool(cle and entree and entree[0] == cle and sortie.is_file() and sha256_fichier(sortie) == entree[1])

    def noter(self, sortie: Path, cle: str | None) -> None:
        if cle and sortie.is_file():
            self.entrees[str(sortie)] = [cle, sha256_fichier(sortie)]
        else:
            self.entrees.pop(str(sortie), None)

    def enregistrer(self) -> None:
        ecrire_json(self.fichier, self.entrees)


def ecrire_json(path: Path, valeur) -> None:
    ecrire_texte(path, json.dumps(valeur, indent=1, sort_keys=True, ensure_ascii=False))


def ecrire_texte(path: Path, texte: str) -> None:
    """Write atomically (a crash never leaves half a file)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(texte, encoding="utf-8")
    os.replace(tmp, path)


# --- validation and preparation --------------------------------------------------------------------------------

CLES_PREPARATION = "cles_preparation.json"


def cle_preparation(layout: DataLayout, params: dict) -> str:
    """Validation and preparation read every raw input, the metadata, the parameters and the code."""
    h = hashlib.sha256()
    h.update(empreinte_fichiers(_fichiers(layout.raw), layout.raw).encode())
    h.update(empreinte_fichiers(_fichiers(ROOT / "metadata"), ROOT).encode())
    h.update(empreinte_fichiers(code_files(), ROOT).encode())
    h.update(_texte({k: v for k, v in params.items() if k not in PARAMS_HORS_NOTEBOOKS}))
    return h.hexdigest()


def sorties_preparation(layout: DataLayout, interim: Path) -> list[Path]:
    """What validation and preparation write: the validation report and every processed file."""
    validation = interim / "validation.json"
    return [*([validation] if validation.is_file() else []), *_fichiers(layout.processed)]
