"""manifest.json: what a published report set was built from, and `verify` to check it still holds.

`write_manifest()` is the assembler's last step, inside the staging folder, so the manifest is published atomically
with the reports. It records the sha256 of every output, the sha256 and md5 (the hash DVC 3 stores in dvc.lock) of
every input, the parameters, and the code state (git commit, locked package versions).

Path conventions in the manifest (POSIX, deterministic):
- `sorties`: relative to the report folder;
- `entrees`: relative to the repository root, where `data/` stands for the data directory (`--data-dir`, default
  `data`, so the keys equal the repo-relative paths of dvc.lock); an input outside both is kept as an absolute path.

`verify()` recomputes everything and lists the `Difference`s; `ctg verify` prints them in French.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import platform
import subprocess
import tomllib
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

import yaml
from babel.numbers import format_decimal
from pydantic import BaseModel, ValidationError

import pipeline
from pipeline.config import ROOT, DataLayout
from pipeline.incremental import sha256_fichier

MANIFEST_NAME = "manifest.json"
FORMAT = 1
DATA_PREFIX = "data/"
REPO_INPUTS = ("metadata/*.yaml", "notebooks/*.ipynb")
GIT_IGNORED = ("reports", "data/processed", "data/interim")
DVC_STAGES = ("prepare", "publish@{annee}")
_CHUNK = 1 << 20


class ManifestError(Exception):
    """manifest.json is missing or unreadable (French message)."""


# Hashes ------------------------------------------------------------------------------------------------------
def _digests(path: Path) -> tuple[str, str, int]:
    """sha256, md5 and size of a file, in one read."""
    sha, md5_ = hashlib.sha256(), hashlib.md5(usedforsecurity=False)
    size = 0
    with open(path, "rb") as f:
        while chunk := f.read(_CHUNK):
            sha.update(chunk)
            md5_.update(chunk)
            size += len(chunk)
    return sha.hexdigest(), md5_.hexdigest(), size


def sha256(path: Path) -> str:
    """sha256 of a file's bytes (the same helper as the build cache's, pipeline.incremental)."""
    return sha256_fichier(path)


def md5(path: Path) -> str:
    """The md5 DVC 3 records for a file in dvc.lock and .dvc files (plain md5 of the bytes)."""
    return _digests(path)[1]


# Files -------------------------------------------------------------------------------------------------------
def _is_input(path: Path, base: Path) -> bool:
    """Skip hidden files (.gitignore), DVC pointers (*.dvc) and Office lock files (~$...)."""
    parts = path.relative_to(base).parts
    return path.is_file() and not any(p.startswith(".") for p in parts) and path.suffix != ".dvc" \
        and not path.name.startswith("~$")


def input_files(layout: DataLayout, root: Path | None = None) -> list[Path]:
    """Every input a report depends on: all of DIR/raw/, the catalogue metadata/*.yaml, the notebooks."""
    root = Path(root or ROOT)
    raw = sorted(p for p in layout.raw.rglob("*") if _is_input(p, layout.raw)) if layout.raw.is_dir() else []
    repo = sorted(p for pattern in REPO_INPUTS for p in root.glob(pattern) if p.is_file())
    return raw + repo


def output_files(report_dir: Path) -> list[Path]:
    """Every file of a report set, except manifest.json itself."""
    return sorted(p for p in Path(report_dir).rglob("*") if p.is_file() and p != Path(report_dir) / MANIFEST_NAME)


def _absolute(path: Path) -> Path:
    return Path(os.path.abspath(path))


def input_key(path: Path, layout: DataLayout, root: Path | None = None) -> str:
    """Manifest key of an input: data/<below the data dir>, else relative to the repo root, else absolute."""
    path = _absolute(path)
    for base, prefix in ((_absolute(layout.data_dir), DATA_PREFIX), (_absolute(root or ROOT), "")):
        if path.is_relative_to(base):
            return prefix + path.relative_to(base).as_posix()
    return path.as_posix()


def input_path(key: str, layout: DataLayout, root: Path | None = None) -> Path:
    """Inverse of input_key()."""
    if key.startswith(DATA_PREFIX):
        return layout.data_dir / key[len(DATA_PREFIX):]
    return Path(key) if Path(key).is_absolute() else Path(root or ROOT) / key


# Code state --------------------------------------------------------------------------------------------------
def _git(root: Path, *args: str) -> str | None:
    try:
        proc = subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True, check=False)
    except OSError:
        return None
    return proc.stdout if proc.returncode == 0 else None


def git_commit(root: Path | None = None) -> str | None:
    """HEAD's commit, or None outside a git checkout (or before the first commit)."""
    commit = _git(Path(root or ROOT), "rev-parse", "--verify", "-q", "HEAD")
    return commit.strip() if commit else None


def git_state(root: Path | None = None) -> dict:
    """Commit (null outside a git checkout) and whether tracked or new files differ from it, outputs excluded."""
    status = _git(Path(root or ROOT), "status", "--porcelain", "--", ".", *(f":(exclude){p}" for p in GIT_IGNORED))
    return {"commit": git_commit(root), "dirty": None if status is None else bool(status.strip())}


def locked_versions(root: Path | None = None) -> dict[str, str] | None:
    """Package name -> version from uv.lock (several versions, one per platform fork, joined by ', ')."""
    lock = Path(root or ROOT) / "uv.lock"
    try:
        stat = lock.stat()
    except OSError:
        return None
    return dict(_lock_versions(str(lock), stat.st_mtime_ns, stat.st_size))


@functools.lru_cache(maxsize=4)
def _lock_versions(lock: str, mtime_ns: int, size: int) -> tuple[tuple[str, str], ...]:
    """uv.lock read once per process and per state of the file (~0.07 s of TOML per read; a run writes 5 manifests)."""
    with open(lock, "rb") as f:
        packages = tomllib.load(f).get("package", [])
    versions: dict[str, set[str]] = {}
    for package in packages:
        if "version" in package:
            versions.setdefault(package["name"], set()).add(package["version"])
    return tuple((name, ", ".join(sorted(found))) for name, found in sorted(versions.items()))


def code_state(root: Path | None = None) -> dict:
    return {**git_state(root), "version": pipeline.__version__, "python": platform.python_version(),
            "paquets": locked_versions(root)}


# Writing -----------------------------------------------------------------------------------------------------
def build_manifest(report_dir: Path, *, layout: DataLayout, params: dict, annee: int,
                   inputs: list[Path] | None = None, root: Path | None = None) -> dict:
    report_dir = Path(report_dir)
    sorties = {}
    for path in output_files(report_dir):
        sha, _, size = _digests(path)
        sorties[path.relative_to(report_dir).as_posix()] = {"sha256": sha, "size": size}
    entrees = {}
    for path in input_files(layout, root) if inputs is None else inputs:
        sha, md5_, size = _digests(path)
        entrees[input_key(path, layout, root)] = {"sha256": sha, "md5": md5_, "size": size}
    return {"format": FORMAT, "annee": int(annee), "territoire": layout.territoire, "sorties": sorties,
            "entrees": entrees, "parametres": params, "code": code_state(root)}


def dumps(manifest: dict) -> str:
    """Deterministic JSON: sorted keys, indent 2, UTF-8 kept as is, trailing newline."""
    return json.dumps(manifest, sort_keys=True, indent=2, ensure_ascii=False, default=str) + "\n"


def write_manifest(report_dir: Path, *, layout: DataLayout, params: dict, annee: int,
                   inputs: list[Path] | None = None, root: Path | None = None) -> Path:
    """Write report_dir/manifest.json (call it last, once every output is in report_dir); return its path."""
    data = build_manifest(report_dir, layout=layout, params=params, annee=annee, inputs=inputs, root=root)
    path = Path(report_dir) / MANIFEST_NAME
    path.write_text(dumps(data), encoding="utf-8")
    return path


# Reading -----------------------------------------------------------------------------------------------------
class Sortie(BaseModel):
    sha256: str
    size: int


class Entree(Sortie):
    md5: str


class Manifest(BaseModel):
    format: int
    annee: int
    territoire: str
    sorties: dict[str, Sortie]
    entrees: dict[str, Entree]
    parametres: dict
    code: dict


def read_manifest(report_dir: Path) -> Manifest:
    path = Path(report_dir) / MANIFEST_NAME
    if not Path(report_dir).is_dir():
        raise ManifestError(f"Dossier de rapports introuvable : {report_dir}")
    if not path.is_file():
        raise ManifestError(f"Aucun manifest.json dans {report_dir} : ce dossier n'a pas été publié par ctg "
                            "(ou le fichier a été supprimé). Relancez ctg run pour le reproduire.")
    try:
        return Manifest.model_validate(json.loads(path.read_text(encoding="utf-8")))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ManifestError(f"{path} est illisible (JSON invalide : {exc}).") from None
    except ValidationError as exc:
        fields = ", ".join(".".join(map(str, e["loc"])) or "(racine)" for e in exc.errors()[:5])
        raise ManifestError(f"{path} est illisible : champ(s) manquant(s) ou invalide(s) : {fields}.") from None


# Verifying ---------------------------------------------------------------------------------------------------
class Kind(StrEnum):
    OUTPUT_MODIFIED = "output_modified"
    OUTPUT_MISSING = "output_missing"
    OUTPUT_EXTRA = "output_extra"
    INPUT_MODIFIED = "input_modified"
    INPUT_MISSING = "input_missing"
    INPUT_NEW = "input_new"
    DVC_LOCK = "dvc_lock"


@dataclass(frozen=True)
class Difference:
    kind: Kind
    path: str
    message_fr: str


@dataclass
class Verification:
    differences: list[Difference] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    outputs: int = 0
    inputs: int = 0

    @property
    def ok(self) -> bool:
        return not self.differences


def _compare(expected: dict, actual: dict[str, str], what: dict[str, tuple[Kind, str]]) -> list[Difference]:
    """expected: key -> recorded sha256; actual: key -> current sha256; what: modified/missing/extra wording."""
    found = []
    for key in sorted(expected.keys() | actual.keys()):
        case = "missing" if key not in actual else "extra" if key not in expected else \
            "modified" if expected[key] != actual[key] else None
        if case:
            kind, message = what[case]
            found.append(Difference(kind, key, message.format(key)))
    return found


OUTPUT_WORDING = {
    "modified": (Kind.OUTPUT_MODIFIED, "Sortie modifiée depuis la publication : {}"),
    "missing": (Kind.OUTPUT_MISSING, "Sortie manquante (supprimée depuis la publication) : {}"),
    "extra": (Kind.OUTPUT_EXTRA, "Fichier inattendu dans le dossier des rapports (absent du manifeste) : {}"),
}
INPUT_WORDING = {
    "modified": (Kind.INPUT_MODIFIED, "Entrée modifiée depuis la production des rapports : {}"),
    "missing": (Kind.INPUT_MISSING, "Entrée disparue depuis la production des rapports : {}"),
    "extra": (Kind.INPUT_NEW, "Nouveau fichier d'entrée, absent du manifeste : {}"),
}


def _dvc_lock(manifest: Manifest, layout: DataLayout, root: Path, result: Verification) -> None:
    """Cross-check the file deps of the prepare / publish@<annee> stages of dvc.lock, when there is one."""
    lock_file = root / "dvc.lock"
    if not lock_file.is_file():
        return
    try:
        stages = (yaml.safe_load(lock_file.read_text(encoding="utf-8")) or {}).get("stages", {})
    except (yaml.YAMLError, AttributeError) as exc:
        result.differences.append(Difference(Kind.DVC_LOCK, "dvc.lock", f"dvc.lock est illisible : {exc}"))
        return
    for stage in (name.format(annee=manifest.annee) for name in DVC_STAGES):
        if stage not in stages:
            result.notes.append(f"dvc.lock ne contient pas l'étape {stage} : pas de contrôle croisé pour elle.")
            continue
        for dep in stages[stage].get("deps", []):
            path, lock_md5 = dep["path"], str(dep.get("md5", ""))
            if lock_md5.endswith(".dir"):
                result.notes.append(f"dvc.lock (étape {stage}) : {path} est un dossier (empreinte « .dir »), "
                                    "non comparé fichier par fichier.")
            elif dep.get("hash") != "md5":
                result.notes.append(f"dvc.lock (étape {stage}) : {path} a une empreinte d'une ancienne version "
                                    "de DVC, non comparée.")
            elif path in manifest.entrees:
                if manifest.entrees[path].md5 != lock_md5:
                    result.differences.append(Difference(Kind.DVC_LOCK, path, (
                        f"dvc.lock (étape {stage}) et le manifeste n'ont pas la même empreinte pour {path} : "
                        "les rapports n'ont pas été produits par le dernier « dvc repro »")))
            elif not (root / path).is_file():
                result.differences.append(Difference(Kind.DVC_LOCK, path, (
                    f"dvc.lock (étape {stage}) : {path} est introuvable")))
            elif md5(root / path) != lock_md5:
                result.differences.append(Difference(Kind.DVC_LOCK, path, (
                    f"dvc.lock (étape {stage}) : {path} a changé depuis le dernier « dvc repro »")))


def _code_notes(manifest: Manifest, root: Path, result: Verification) -> None:
    """Notes (not differences: the inputs are what verify checks) on the code the reports were built with."""
    built, current = manifest.code.get("commit"), git_commit(root)
    if manifest.code.get("dirty"):
        result.notes.append("Les rapports ont été produits avec des modifications non commitées du dépôt : "
                            "leur commit ne suffit pas à les reproduire.")
    if built and current and built != current:
        result.notes.append(f"Les rapports ont été produits par le commit {built[:12]} ; le dépôt est maintenant "
                            f"au commit {current[:12]} (le code a pu changer depuis).")


def check(report_dir: Path, layout: DataLayout, root: Path | None = None) -> Verification:
    """Recompute every hash; compare with manifest.json, the current inputs and dvc.lock. Raises ManifestError.

    Only `layout.data_dir` matters (every file of DIR/raw/ is an input, whatever the territory).
    """
    root, report_dir = Path(root or ROOT), Path(report_dir)
    manifest = read_manifest(report_dir)
    outputs = {p.relative_to(report_dir).as_posix(): sha256(p) for p in output_files(report_dir)}
    current = {input_key(p, layout, root): p for p in input_files(layout, root)}
    inputs = {key: sha256(input_path(key, layout, root)) for key in manifest.entrees
              if input_path(key, layout, root).is_file()}
    inputs |= {key: sha256(p) for key, p in current.items() if key not in inputs}
    result = Verification(outputs=len(manifest.sorties), inputs=len(manifest.entrees))
    result.differences += _compare({k: v.sha256 for k, v in manifest.sorties.items()}, outputs, OUTPUT_WORDING)
    result.differences += _compare({k: v.sha256 for k, v in manifest.entrees.items()}, inputs, INPUT_WORDING)
    _dvc_lock(manifest, layout, root, result)
    _code_notes(manifest, root, result)
    return result


def verify(report_dir: Path, layout: DataLayout, root: Path | None = None) -> list[Difference]:
    """Everything that differs between a published report set, its manifest and the current inputs."""
    return check(report_dir, layout, root).differences


def report_lines(result: Verification, report_dir: Path) -> list[str]:
    """What `ctg verify` prints, in French: notes, one line per difference, then a conclusion."""
    lines = [f"Note : {note}" for note in result.notes]
    sorties = _count(result.outputs, "fichier produit", "fichiers produits")
    entrees = _count(result.inputs, "fichier d'entrée", "fichiers d'entrée")
    lines.append(f"Vérifié : {sorties} et {entrees} enregistrés dans le manifeste.")
    lines += [f"- {d.message_fr}" for d in result.differences]
    if result.ok:
        lines.append(f"Tout correspond : les rapports de {report_dir} sont ceux des données actuelles.")
    else:
        n = _count(len(result.differences), "différence", "différences")
        lines.append(f"{n} : les rapports de {report_dir} ne correspondent plus aux données actuelles "
                     "(relancez ctg run pour les reproduire).")
    return lines


def _count(n: int, singular: str, plural: str) -> str:
    """French count: 0 and 1 take the singular."""
    return f"{format_decimal(n, locale='fr_FR')} {plural if n > 1 else singular}"
