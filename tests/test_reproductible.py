"""Reproducible to the byte: two builds of the same project in two different places and environments give the
same files.

The project (every file git would commit: tracked files as they are in the working tree, plus new files not
ignored) is copied into two temporary folders whose absolute paths have different lengths. No build product is
copied (`reports/`, `data/processed/`, `data/interim/` and the build cache `data/interim/<siren>/cache/` are
ignored by git), so each copy builds from scratch. Each copy is made a git repository with one commit written
with fixed names and dates: both copies then have the *same* commit id and a clean tree, so the manifest's
`code` section (commit, dirty) is meaningful and compared like everything else — nothing is excluded.

Both copies run the code they contain (`python -m pipeline run` from the copy, the project's virtualenv), for
one year and its first-semester COPIL page, with everything else made different:

| | copy A | copy B |
|---|---|---|
| absolute path | shorter | longer |
| TZ | UTC | Pacific/Auckland (UTC+12/+13: another calendar day half of the time) |
| LANG, LC_ALL | C.UTF-8 | fr_FR.UTF-8 or en_US.UTF-8 (*) |
| PYTHONHASHSEED | 0 (as the Makefile) | random (set iteration order changes) |
| --jobs | 1 (in-process) | 2 (worker pool) |
| kernels | forked from the template | plain papermill kernels (CTG_KERNEL_FORK=0) |

(*) the first one installed; when neither is, the variables alone still change what Babel, pandoc and anything
reading them see, while the C library falls back to C.

Then every file below `reports/` and `data/processed/`, and the executed notebooks and validation report below
`data/interim/`, must be byte-identical. (The incremental build's keys and cache, also below `data/interim/`, are
not outputs: they record this copy's absolute paths and file dates on purpose.)
Cost: two builds of one year, about 30-40 s each on two idle cores.
"""

from __future__ import annotations

import difflib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT

pytestmark = pytest.mark.e2e
ANNEE = "2024"
BUILD_ARGS = ["run", "--annee", ANNEE, "--periode", "S1"]
BUILD_TIMEOUT = 900
COMPARED = ("reports", "data/processed", "data/interim")
# Below data/interim/, the outputs: executed notebooks and the validation report. The rest is the incremental
# build's bookkeeping (cache/, keys, etat_run.json), which records this copy's paths and file dates on purpose.
INTERIM_OUTPUTS = ("*/*/notebooks/*", "*/validation.json")
# Fixed identity and dates: the two copies get the same commit id.
GIT_ENV = {
    "GIT_AUTHOR_NAME": "ctg", "GIT_AUTHOR_EMAIL": "ctg@example.org", "GIT_AUTHOR_DATE": "2026-01-01T00:00:00+00:00",
    "GIT_COMMITTER_NAME": "ctg", "GIT_COMMITTER_EMAIL": "ctg@example.org",
    "GIT_COMMITTER_DATE": "2026-01-01T00:00:00+00:00",
}
# Variables a build could depend on: removed from the inherited environment, then set per copy.
VARYING = ("TZ", "LANG", "LANGUAGE", "PYTHONHASHSEED", "CTG_KERNEL_FORK", "CTG_PROJET", "SOURCE_DATE_EPOCH")


def other_locale() -> str:
    """An installed French or US English UTF-8 locale, else the name alone (see the module docstring)."""
    installed = subprocess.run(["locale", "-a"], capture_output=True, text=True).stdout.lower().split()
    for name in ("fr_FR.UTF-8", "en_US.UTF-8"):
        if name.lower().replace("utf-8", "utf8") in installed or name.lower() in installed:
            return name
    return "en_US.UTF-8"


def project_files(root: Path) -> list[str]:
    """What a commit of the working tree would hold: tracked files as they are now, plus new unignored files."""
    out = subprocess.run(["git", "-C", str(root), "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                         capture_output=True, check=True).stdout
    names = sorted({name for name in out.decode().split("\0") if name})
    return [name for name in names if (root / name).is_file() or (root / name).is_symlink()]


def copy_project(dest: Path) -> Path:
    for name in project_files(ROOT):
        target = dest / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, target, follow_symlinks=False)
    env = {**os.environ, **GIT_ENV}
    for cmd in (["git", "init", "-q"], ["git", "add", "-A"],
                ["git", "-c", "commit.gpgsign=false", "commit", "-q", "--no-verify", "-m", "copie"]):
        subprocess.run(cmd, cwd=dest, env=env, check=True, capture_output=True)
    return dest


def build(project: Path, jobs: int, variables: dict[str, str]) -> None:
    env = {k: v for k, v in os.environ.items() if k not in VARYING and not k.startswith("LC_")}
    env.update(variables, CTG_PROJET=str(project))
    proc = subprocess.run([sys.executable, "-m", "pipeline", *BUILD_ARGS, "--jobs", str(jobs)], cwd=project,
                          env=env, capture_output=True, text=True, timeout=BUILD_TIMEOUT)
    assert proc.returncode == 0, f"build in {project} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}"


def outputs(project: Path) -> dict[str, bytes]:
    interim = project / "data" / "interim"
    paths = [*(project / "reports").rglob("*"), *(project / "data" / "processed").rglob("*"),
             *(path for pattern in INTERIM_OUTPUTS for path in interim.glob(pattern))]
    return {path.relative_to(project).as_posix(): path.read_bytes() for path in sorted(paths) if path.is_file()}


def explain(name: str, a: bytes, b: bytes, max_lines: int = 12, width: int = 160) -> str:
    """The first differing lines of a text file (difflib), or the first differing bytes of a binary one."""
    try:
        lines_a, lines_b = a.decode("utf-8").splitlines(), b.decode("utf-8").splitlines()
    except UnicodeDecodeError:
        at = next((i for i, (x, y) in enumerate(zip(a, b)) if x != y), min(len(a), len(b)))
        return (f"  {name}: binary, {len(a)} vs {len(b)} bytes, first difference at byte {at}:\n"
                f"    A: {a[max(0, at - 40):at + 40]!r}\n    B: {b[max(0, at - 40):at + 40]!r}")
    diff = difflib.unified_diff(lines_a, lines_b, "A/" + name, "B/" + name, n=1, lineterm="")
    shown = [line if len(line) <= width else line[:width] + "…" for _, line in zip(range(max_lines), diff)]
    return f"  {name}:\n" + "\n".join("    " + line for line in shown)


def drift_report(a: dict[str, bytes], b: dict[str, bytes], detailed: int = 10) -> str:
    only_a, only_b = sorted(a.keys() - b.keys()), sorted(b.keys() - a.keys())
    differing = sorted(name for name in a.keys() & b.keys() if a[name] != b[name])
    lines = [f"{len(differing)} differing file(s), {len(only_a)} only in A, {len(only_b)} only in B"]
    lines += [f"  only in A: {name}" for name in only_a] + [f"  only in B: {name}" for name in only_b]
    lines += [f"  differs: {name}" for name in differing]
    lines += [explain(name, a[name], b[name]) for name in differing[:detailed]]
    return "\n".join(lines)


@pytest.fixture(scope="module")
def two_builds(tmp_path_factory) -> tuple[Path, Path]:
    base = tmp_path_factory.mktemp("reproductible")
    a = copy_project(base / "a")
    b = copy_project(base / "copie-b-au-chemin-plus-long" / "projet")
    for project in (a, b):
        assert not any((project / folder).exists() for folder in COMPARED), "a build product was copied"
    build(a, 1, {"TZ": "UTC", "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8", "PYTHONHASHSEED": "0", "CTG_KERNEL_FORK": "1"})
    locale = other_locale()
    build(b, 2, {"TZ": "Pacific/Auckland", "LANG": locale, "LC_ALL": locale, "PYTHONHASHSEED": "random",
                 "CTG_KERNEL_FORK": "0"})
    return a, b


def test_two_builds_in_different_places_and_environments_are_identical(two_builds):
    a, b = two_builds
    files_a, files_b = outputs(a), outputs(b)
    published = f"reports/200040459/{ANNEE}"
    expected = [f"{published}/index.html", f"{published}/rapport_ctg_{ANNEE}.pdf", f"{published}/manifest.json",
                f"{published}/copil_{ANNEE}_S1.pdf", "data/processed/200040459/indicateurs.parquet",
                f"data/interim/200040459/{ANNEE}/notebooks/impact_social.ipynb"]
    assert [name for name in expected if name not in files_a] == [], sorted(files_a)
    if files_a != files_b:  # not a bare assert: pytest's own diff of two dicts of bytes is unreadable
        pytest.fail("the two builds differ:\n" + drift_report(files_a, files_b), pytrace=False)


def test_the_compared_manifest_records_one_clean_commit(two_builds):
    """The manifest's git state is part of the comparison: both copies are the same clean commit."""
    import json

    for project in two_builds:
        code = json.loads((project / "reports" / "200040459" / ANNEE / "manifest.json").read_text())["code"]
        assert len(code["commit"] or "") == 40 and code["dirty"] is False, code


def test_drift_report_names_files_and_first_differing_lines():
    report = drift_report({"x.html": b"<p>\n1\n</p>\n", "y.pdf": b"\xff%PDF 1", "z": b""},
                          {"x.html": b"<p>\n2\n</p>\n", "y.pdf": b"\xff%PDF 2", "w": b""})
    assert "only in A: z" in report and "only in B: w" in report
    assert "-1" in report and "+2" in report
    assert "y.pdf: binary" in report and "first difference at byte 6" in report
