"""`make lab`: JupyterLab on the project's kernel, with one thematic notebook ready for a territory and a year.

    python -m pipeline.lab [--notebook petite_enfance] [--annee 2024] [--territoire SIREN] [--data-dir data]
                           [--port N] [--no-browser] [--token T] [--reset]
    python -m pipeline.lab --strip [--check] [NOTEBOOK ...]

The prepared copy `notebooks/_lab/<thematique>_<annee>.ipynb` (gitignored) is written by papermill itself
(`prepare_only`), with the parameters of the pipeline's execute stage (`pipeline.execute.Job.parameters`): the same
injected-parameters cell. Kernels started by this server run in the project folder — papermill's `cwd` in the
pipeline — whatever the folder of the notebook (`ProjectRootKernelManager`). The processed tables are computed
first when they are missing (prepare stage).

`--strip` removes outputs, execution counts and run metadata from the committed notebooks (`notebooks/`, not
`_lab/`), so that a review shows code changes only; `--check` only lists the notebooks that need it (exit code 1).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import nbformat

try:
    from jupyter_server.services.kernels.kernelmanager import AsyncMappingKernelManager
except ImportError:  # the `lab` extra is not installed: --strip still works
    AsyncMappingKernelManager = object

LAB_DIR = "_lab"
KERNEL_NAME = "python3"
_VOLATILE_CELL_KEYS = ("execution", "ExecuteTime", "collapsed", "scrolled", "papermill")
_VOLATILE_NB_KEYS = ("widgets", "papermill")


class ProjectRootKernelManager(AsyncMappingKernelManager):
    """Kernels start in the server's root folder (the project), as papermill's in the pipeline, not in the
    folder of the notebook: `load_params()`, `import pipeline` and relative paths behave the same."""

    def cwd_for_path(self, path, **kwargs):
        return self.root_dir


# --- the prepared notebook --------------------------------------------------------------------------------------

def lab_path(root: Path, thematique: str, annee: int) -> Path:
    return Path(root) / "notebooks" / LAB_DIR / f"{thematique}_{annee}.ipynb"


def prepare_notebook(root: Path, thematique: str, annee: int, territoire: str, data_dir: Path,
                     reset: bool = False) -> Path:
    """Write notebooks/_lab/<thematique>_<annee>.ipynb with papermill's injected parameters (the execute stage's
    ones); an existing copy, which may hold the analyst's work, is kept unless `reset`."""
    import papermill as pm

    from pipeline.execute import Job

    target = lab_path(root, thematique, annee)
    if target.exists() and not reset:
        return target
    source = Path(root) / "notebooks" / f"{thematique}.ipynb"
    data_dir = Path(data_dir) if Path(data_dir).is_absolute() else Path(root) / data_dir
    job = Job(thematique, int(annee), str(territoire), data_dir, target, notebook=source)
    target.parent.mkdir(parents=True, exist_ok=True)
    pm.execute_notebook(str(source), str(target), parameters=job.parameters(), kernel_name=KERNEL_NAME,
                        prepare_only=True, progress_bar=False)
    return target


def ensure_processed(layout, params: dict) -> bool:
    """Compute the processed tables the notebooks read when they are missing or older than an input (raw data,
    catalogue, vocabulary), e.g. after adding an indicator; True if computed."""
    from pipeline.inputs.vocabulary import VOCABULARY_FILE
    from pipeline.prepare import catalogue_path
    from pipeline.run import stage_prepare

    table = layout.processed / "indicateurs.parquet"
    inputs = [p for p in layout.raw.rglob("*") if p.is_file()] + [catalogue_path(params), VOCABULARY_FILE]
    if table.is_file() and table.stat().st_mtime >= max((p.stat().st_mtime for p in inputs), default=0.0):
        return False
    stage_prepare(layout, params)
    return True


# --- the server -------------------------------------------------------------------------------------------------

def server_command(root: Path, notebook: Path | None, port: int | None, open_browser: bool,
                   token: str | None) -> list[str]:
    """The jupyter-lab command line (the venv's), serving `root` and opening `notebook`."""
    lab = Path(sys.executable).parent / "jupyter-lab"
    cmd = [str(lab)]
    if notebook is not None:
        cmd.append(str(Path(notebook).relative_to(root)))
    cmd += [f"--ServerApp.root_dir={root}", "--ServerApp.kernel_manager_class=pipeline.lab.ProjectRootKernelManager",
            "--ServerApp.ip=127.0.0.1", "--LabApp.extension_manager=readonly"]  # no PyPI query from the lab
    if hasattr(os, "geteuid") and os.geteuid() == 0:  # containers often run as root; Jupyter refuses it otherwise
        cmd.append("--allow-root")
    if port is not None:
        cmd += [f"--ServerApp.port={port}", "--ServerApp.port_retries=0"]
    if not open_browser:
        cmd.append("--no-browser")
    if token is not None:
        cmd.append(f"--IdentityProvider.token={token}")
    return cmd


# --- reviewable notebooks ---------------------------------------------------------------------------------------

def committed_notebooks(root: Path) -> list[Path]:
    """The notebooks under notebooks/ that are committed (not the _lab/ copies nor Jupyter's checkpoints)."""
    folder = Path(root) / "notebooks"
    scratch = {LAB_DIR, ".ipynb_checkpoints"}
    return sorted(p for p in folder.rglob("*.ipynb") if not scratch & set(p.relative_to(folder).parts))


def stripped(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """The notebook without outputs, execution counts, run metadata or the details Jupyter adds on save."""
    from pipeline.report.template import KERNELSPEC

    for key in _VOLATILE_NB_KEYS:
        nb.metadata.pop(key, None)
    if "language_info" in nb.metadata:
        nb.metadata["language_info"] = {"name": nb.metadata["language_info"].get("name", "python")}
    if nb.metadata.get("kernelspec", {}).get("name") == KERNELSPEC["name"]:
        nb.metadata["kernelspec"] = dict(KERNELSPEC)
    for cell in nb.cells:
        for key in _VOLATILE_CELL_KEYS:
            cell.metadata.pop(key, None)
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
    return nb


def is_clean(nb: nbformat.NotebookNode) -> bool:
    return all(c.cell_type != "code" or (not c.outputs and c.execution_count is None) for c in nb.cells)


def strip_notebook(path: Path, check: bool = False) -> bool:
    """Strip one notebook in place (same layout as the template writes); True when it was not clean. With
    `check`, nothing is written."""
    text = Path(path).read_text(encoding="utf-8")
    new = nbformat.writes(stripped(nbformat.reads(text, as_version=4))) + "\n"
    if new != text and not check:
        Path(path).write_text(new, encoding="utf-8")
    return new != text


# --- command line -----------------------------------------------------------------------------------------------

def _parser(thematiques: list[str]) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m pipeline.lab", description=(
        "Ouvre JupyterLab sur le noyau du projet, avec le notebook d'une thématique prêt pour un territoire et une "
        "année (notebooks/_lab/, non versionné). Avec --strip : nettoie les notebooks avant un commit."))
    p.add_argument("--notebook", default=thematiques[0] if thematiques else None,
                   help=f"thématique du notebook à préparer (défaut : {thematiques[0] if thematiques else '—'})")
    p.add_argument("--annee", type=int, help="année du rapport (défaut : la dernière année de suivi des données)")
    p.add_argument("--territoire", help="SIREN de l'EPCI (défaut : params.yaml)")
    p.add_argument("--data-dir", type=Path, default=Path("data"), help="dossier des données (défaut : data)")
    p.add_argument("--port", type=int, help="port du serveur (défaut : 8888 ou le suivant libre)")
    p.add_argument("--no-browser", action="store_true", help="ne pas ouvrir le navigateur")
    p.add_argument("--token", help="jeton d'accès du serveur (défaut : tiré au hasard par Jupyter)")
    p.add_argument("--reset", action="store_true", help="recréer le notebook préparé s'il existe déjà")
    p.add_argument("--strip", action="store_true", help="retirer sorties et compteurs des notebooks versionnés")
    p.add_argument("--check", action="store_true", help="avec --strip : seulement lister les notebooks à nettoyer")
    p.add_argument("chemins", nargs="*", type=Path, help="avec --strip : notebooks à traiter (défaut : notebooks/)")
    return p


def _strip(root: Path, paths: list[Path], check: bool) -> int:
    dirty = [p for p in (paths or committed_notebooks(root)) if strip_notebook(p, check)]
    verbe = "à nettoyer" if check else "nettoyé"
    for p in dirty:
        print(f"{verbe} : {p}")
    if not dirty:
        print("Notebooks propres : aucune sortie ni compteur d'exécution.")
    return 1 if check and dirty else 0


def main(argv: list[str] | None = None) -> int:
    from pipeline.config import ROOT, DataLayout, load_params
    from pipeline.inputs.suivi import suivi_years

    params = load_params()
    thematiques = list(params.get("thematiques") or [])
    args = _parser(thematiques).parse_args(argv)
    if args.strip:
        return _strip(ROOT, args.chemins, args.check)
    if not (ROOT / "notebooks" / f"{args.notebook}.ipynb").is_file():
        print(f"Notebook introuvable : notebooks/{args.notebook}.ipynb (thématiques : {', '.join(thematiques)}).",
              file=sys.stderr)
        return 2
    layout = DataLayout(args.data_dir if args.data_dir.is_absolute() else ROOT / args.data_dir,
                        str(args.territoire or params.get("territoire")))
    annees = suivi_years(layout.territoire_dir)
    annee = args.annee or ([a for a in annees if a in params.get("annees", annees)] or annees or [None])[-1]
    if annee is None:
        print(f"Aucune année de suivi dans {layout.territoire_dir / 'suivi'} : indiquez --annee.", file=sys.stderr)
        return 2
    try:
        if ensure_processed(layout, params):
            print(f"Tables préparées calculées dans {layout.processed}.")
    except Exception as exc:  # noqa: BLE001 - a data or catalogue error, told in French by the pipeline
        print(f"Erreur : {exc}", file=sys.stderr)
        return 2 if getattr(exc, "exit_code", None) == 2 else 1
    notebook = prepare_notebook(ROOT, args.notebook, annee, layout.territoire, layout.data_dir, args.reset)
    print(f"Notebook prêt : {notebook.relative_to(ROOT)} (thématique {args.notebook}, année {annee}, territoire "
          f"{layout.territoire}). Les cellules s'exécutent depuis {ROOT}, comme dans le pipeline.", flush=True)
    cmd = server_command(ROOT, notebook, args.port, not args.no_browser, args.token)
    os.chdir(ROOT)
    os.execv(cmd[0], cmd)  # the server replaces this process: Ctrl-C stops it


if __name__ == "__main__":
    sys.exit(main())
