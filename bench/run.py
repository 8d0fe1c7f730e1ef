"""Benchmark: `ctg run` against the naive loop (papermill, nbconvert, pandoc + Typst, one notebook at a time).

Not a test. Usage (from the repository root, or `make bench`)::

    .venv/bin/python bench/run.py [--repeat 3] [--annees 2024 ...] [--thematique petite_enfance ...]
                                  [--entree data/raw/caf/txcouv_pe_epci.csv --colonne txcouv_epci --delta 0.3]

Everything runs in a temporary copy of the project (the files git knows, tracked or not ignored), never in the
checkout. Each repetition measures, in this order:

  (a) naive    for each (year, notebook) of `ctg run`: `papermill` CLI, `jupyter nbconvert --to html`, pandoc to
               Typst and Typst to PDF, sequentially (processed tables prepared beforehand, not counted);
  (b) cold     `ctg run` with no intermediate product, cache or report (data/interim, data/processed, reports);
  (c) no-op    the same command again, nothing changed;
  (d) edit     one value of one thématique's input changed (--entree/--colonne/--delta), the same command again;
               the input is restored afterwards.

Printed: a table (median, min, max, CPU, memory of each), then `b/a = <ratio>`, `d/b = <ratio>` and
`no-op: <seconds> s` on lines of their own (wall time, ratios of medians), then the same in CPU time. Progress
goes to stderr.
"""

from __future__ import annotations

import argparse
import compileall
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(1, str(Path(__file__).resolve().parent.parent))
from _mesure import Mesure, become_subreaper, mesurer  # noqa: E402

from pipeline.cli import resolve_years  # noqa: E402
from pipeline.config import DEFAULT_TERRITOIRE, DataLayout, load_params  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent  # the project's virtualenv (bench run with .venv/bin/python)
CONFIGS = {"a": "naive loop", "b": "ctg run, cold", "c": "ctg run, no-op", "d": "ctg run, one input edited"}
COLD = ("data/interim", "data/processed", "reports")
TYPST = "import sys, typst; typst.compile(sys.argv[1], output=sys.argv[2], root=sys.argv[3])"


def progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# --- the working copy ---------------------------------------------------------------------------------------------

def project_files(root: Path) -> list[str]:
    """Files of the project as git sees them (tracked, or untracked and not ignored); [] outside a git checkout."""
    try:
        out = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=root,
                             capture_output=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return []
    return [name for name in out.decode().split("\0") if name and (root / name).is_file()]


def copy_project(root: Path, target: Path) -> None:
    """Copy the project into `target` (without outputs or caches) and link its virtualenv."""
    files = project_files(root)
    if files:
        for name in files:
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(root / name, target / name)
    else:
        shutil.copytree(root, target, dirs_exist_ok=True, ignore=shutil.ignore_patterns(
            ".git", ".venv", "__pycache__", "build", "test-artifacts", ".pytest_cache"))
        make_cold(target)
    (target / ".venv").symlink_to(BIN.parent)
    compileall.compile_dir(target / "pipeline", quiet=1)  # bytecode compiled once, as the installed venv is


def make_cold(work: Path) -> None:
    for name in COLD:
        shutil.rmtree(work / name, ignore_errors=True)


def environment(work: Path) -> dict[str, str]:
    """The copy's code and parameters win over the checkout's (the package is installed in editable mode)."""
    return {**os.environ, "CTG_PROJET": str(work), "PYTHONPATH": str(work), "PYTHONHASHSEED": "0"}


def call(args: list[str], work: Path, cwd: Path | None = None) -> None:
    """Run one command of a measured run; its output is kept out of the figures, shown only if it fails."""
    with tempfile.TemporaryFile("w+") as log:
        proc = subprocess.run([str(a) for a in args], cwd=cwd or work, env=environment(work), stdout=log,
                              stderr=subprocess.STDOUT, text=True)
        if proc.returncode != 0:
            log.seek(0)
            raise SystemExit(f"failed ({proc.returncode}): {' '.join(map(str, args))}\n{log.read()[-4000:]}")


# --- the input edited for (d) -------------------------------------------------------------------------------------

def edit_value(path: Path, colonne: str, delta: Decimal) -> str:
    """Add `delta` to `colonne` in the last row of the latest `annee` that has a value (CSV, `;` or `,`).

    The file keeps its encoding mark, separator and line endings. Returns a description of the edit.
    """
    raw = path.read_bytes()
    bom = raw.startswith(b"\xef\xbb\xbf")
    lines = raw.decode("utf-8-sig").splitlines(keepends=True)
    sep = ";" if ";" in lines[0] else ","
    header = lines[0].rstrip("\r\n").split(sep)
    if colonne not in header:
        raise SystemExit(f"{path}: no column {colonne!r} (columns: {', '.join(header)})")
    col = header.index(colonne)
    year = header.index("annee") if "annee" in header else None
    candidates = []
    for number, line in enumerate(lines[1:], start=1):
        fields = line.rstrip("\r\n").split(sep)
        if col < len(fields) and fields[col].strip():
            key = int(fields[year]) if year is not None else 0
            candidates.append((key, number, fields))
    if not candidates:
        raise SystemExit(f"{path}: no value in column {colonne!r}")
    key, number, fields = max(candidates, key=lambda c: (c[0], c[1]))
    old = fields[col]
    new = str(Decimal(old.replace(",", ".")) + delta)
    fields[col] = new.replace(".", ",") if "," in old else new  # a decimal comma stays a comma
    ending = lines[number][len(lines[number].rstrip("\r\n")):]
    lines[number] = sep.join(fields) + ending
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + "".join(lines).encode("utf-8"))
    where = f"annee {key}, " if year is not None else ""
    return f"line {number + 1} ({where}{colonne}): {old} -> {fields[col]}"


# --- the four configurations --------------------------------------------------------------------------------------

def ctg_args(territoire: str, annees: list[int] | None, thematiques: list[str] | None) -> list[str]:
    """`ctg run` for these years (None: --toutes-annees) and thématiques (None: all)."""
    args = [str(BIN / "ctg"), "run", "--territoire", territoire]
    args += [a for annee in annees for a in ("--annee", str(annee))] if annees else ["--toutes-annees"]
    args += [a for th in thematiques or [] for a in ("--thematique", th)]
    return args


def naive_jobs(params: dict, annees: list[int], thematiques: list[str] | None) -> list[tuple[int, str]]:
    """(year, notebook) pairs executed by `ctg run` with the same options (thématiques, then chapters)."""
    notebooks = list(thematiques or params["thematiques"]) + list(params.get("chapitres", []))
    return [(annee, nb) for annee in annees for nb in notebooks]


def naive_loop(work: Path, out: Path, jobs: list[tuple[int, str]], territoire: str) -> None:
    """What one would write without the pipeline: one papermill, nbconvert, pandoc and Typst process each."""
    from pipeline.render.pandoc import pandoc_binary

    data_dir = (work / "data").resolve()
    for annee, notebook in jobs:
        progress(f"      {annee} {notebook}")
        folder = out / str(annee)
        folder.mkdir(parents=True, exist_ok=True)
        executed = folder / f"{notebook}.ipynb"
        call([BIN / "papermill", work / "notebooks" / f"{notebook}.ipynb", executed, "--cwd", work,
              "-r", "territoire", territoire, "-p", "annee", annee, "-r", "data_dir", data_dir,
              "-r", "thematique", notebook], work)
        call([BIN / "jupyter", "nbconvert", "--to", "html", executed], work)
        call([pandoc_binary(), executed.name, "-t", "typst", "-s", "-M", "papersize=a4",
              f"--extract-media={notebook}_media", "-o", f"{notebook}.typ"], work, cwd=folder)
        call([sys.executable, "-c", TYPST, f"{notebook}.typ", f"{notebook}.pdf", "."], work, cwd=folder)


def repetition(work: Path, args: argparse.Namespace, jobs: list[tuple[int, str]], edit: Path) -> dict[str, Mesure]:
    figures = {}
    make_cold(work)
    call([BIN / "ctg", "prepare", "--territoire", args.territoire], work)  # the naive user has these tables
    naive_out = work / "naive"
    shutil.rmtree(naive_out, ignore_errors=True)
    progress(f"  (a) {CONFIGS['a']}: {len(jobs)} notebooks")
    with mesurer() as figures["a"]:
        naive_loop(work, naive_out, jobs, args.territoire)
    shutil.rmtree(naive_out)

    make_cold(work)
    command = ctg_args(args.territoire, args.annees, args.thematique)
    for key in "bc":
        progress(f"  ({key}) {CONFIGS[key]}")
        with mesurer() as figures[key]:
            call(command, work)
    original = edit.read_bytes()
    try:
        edit_value(edit, args.colonne, args.delta)
        progress(f"  (d) {CONFIGS['d']}")
        with mesurer() as figures["d"]:
            call(command, work)
    finally:
        edit.write_bytes(original)
    for key, mesure in figures.items():
        progress(f"      {key}: {mesure.wall:.2f} s")
    return figures


# --- report -------------------------------------------------------------------------------------------------------

def mb(value: int) -> str:
    return f"{value / 2**20:.0f} MB"


def print_table(results: dict[str, list[Mesure]]) -> None:
    print(f"{'configuration':30s} {'median':>9s} {'min':>9s} {'max':>9s} {'CPU':>9s} "
          f"{'peak RSS':>9s} {'peak PSS':>9s} {'max RSS':>9s}")
    for key, runs in results.items():
        walls = [m.wall for m in runs]
        print(f"({key}) {CONFIGS[key]:26s} {statistics.median(walls):8.2f}s {min(walls):8.2f}s {max(walls):8.2f}s "
              f"{statistics.median(m.cpu for m in runs):8.1f}s {mb(max(m.peak_rss for m in runs)):>9s} "
              f"{mb(max(m.peak_pss for m in runs)):>9s} {mb(max(m.max_rss for m in runs)):>9s}")
    sampler = max(m.sampler_cpu / m.wall for runs in results.values() for m in runs)
    print("\nmedian/min/max: wall time over the repetitions. CPU: median user+system time of all processes.\n"
          "peak RSS: peak of the summed resident memory of all processes of the run (sampled every 0.1 s; shared\n"
          "pages counted once per process). peak PSS: same with shared pages split between their sharers (sampled\n"
          f"every 1 s). max RSS: largest single process. Memory: max over the repetitions. The sampler used at most\n"
          f"{sampler:.0%} of one core.\n")


def summary(results: dict[str, list[Mesure]]) -> list[str]:
    """The required lines: wall-time ratios of medians and the no-op time, then the same ratios in CPU time."""
    wall = {key: statistics.median(m.wall for m in runs) for key, runs in results.items()}
    cpu = {key: statistics.median(m.cpu for m in runs) for key, runs in results.items()}
    return [
        f"b/a = {wall['b'] / wall['a']:.2f}",
        f"d/b = {wall['d'] / wall['b']:.2f}",
        f"no-op: {wall['c']:.2f} s",
        f"(CPU time: b/a {cpu['b'] / cpu['a']:.2f}, d/b {cpu['d'] / cpu['b']:.2f}, no-op {cpu['c']:.2f} s)",
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="repetitions (medians are printed)")
    parser.add_argument("--annees", type=int, nargs="+", help="years (default: params.yaml annees, --toutes-annees)")
    parser.add_argument("--thematique", action="append", help="restrict to these thématiques (repeatable)")
    parser.add_argument("--territoire", default=DEFAULT_TERRITOIRE)
    parser.add_argument("--entree", type=Path, default=Path("data/raw/caf/txcouv_pe_epci.csv"),
                        help="input edited for (d), relative to the project (CSV)")
    parser.add_argument("--colonne", default="txcouv_epci", help="column edited for (d)")
    parser.add_argument("--delta", type=Decimal, default=Decimal("0.3"), help="added to the value for (d)")
    args = parser.parse_args()

    sys.stdout.reconfigure(line_buffering=True)
    become_subreaper()
    with tempfile.TemporaryDirectory(prefix="ctg-bench-") as tmp:
        work = Path(tmp) / "projet"
        progress(f"copying the project into {work}")
        copy_project(ROOT, work)
        params = load_params(work / "params.yaml")
        annees = resolve_years(DataLayout(work / "data", args.territoire), args.annees, not args.annees, params)
        jobs = naive_jobs(params, annees, args.thematique)
        edit = work / args.entree
        if not edit.is_file():
            raise SystemExit(f"--entree {args.entree}: no such file in the project")
        original = edit.read_bytes()
        description = edit_value(edit, args.colonne, args.delta)  # fail now rather than after (a)-(c)
        edit.write_bytes(original)
        print(f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}, {args.repeat} repetitions, "
              f"years {', '.join(map(str, annees))}, {len(jobs)} notebooks per run")
        print(f"(b)-(d) command: ctg {' '.join(ctg_args(args.territoire, args.annees, args.thematique)[1:])}")
        print(f"(d) edit: {args.entree}, {description}\n")
        results: dict[str, list[Mesure]] = {key: [] for key in CONFIGS}
        for rep in range(args.repeat):
            progress(f"repetition {rep + 1}/{args.repeat}")
            for key, mesure in repetition(work, args, jobs, edit).items():
                results[key].append(mesure)
    print_table(results)
    print("\n".join(summary(results)))


if __name__ == "__main__":
    main()
