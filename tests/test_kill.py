"""Nothing lost: a run that fails or is killed leaves the published reports byte for byte, no half-written folder,
no orphan kernel, and the next run starts clean; the raw data is never written.

The run is `ctg run --annee 2025` with two thématiques on a copy of the sample data, over a copy of the 2025
report set published by the session's first run (`built_reports`). It is interrupted at three points, found by
watching files: during validation (a FIFO in place of ctg.yaml holds the reader), during notebook execution (a
`*.tmp.ipynb` being written), during rendering (a `.staging-*` folder next to the published set).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import signal
import stat
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import psutil
import pytest

from conftest import CTG, ROOT

pytestmark = pytest.mark.e2e   # runs the whole pipeline (see the `built_reports` fixture)
TERRITOIRE = "200040459"
ARGS = ["--annee", "2025", "--thematique", "petite_enfance", "--thematique", "enfance"]
TIMEOUT = 420


def digest(folder: Path) -> dict[str, str]:
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def workspace(sample_data, built_reports, tmp_path_factory):
    root = tmp_path_factory.mktemp("interruptions")
    data, reports = root / "data", root / "reports"
    shutil.copytree(sample_data / "raw", data / "raw")
    shutil.copytree(built_reports / TERRITOIRE / "2025", reports / TERRITOIRE / "2025")
    return data, reports


def start(data: Path, reports: Path, log: Path) -> subprocess.Popen:
    """`ctg run` in its own process group, as a terminal would run it."""
    out = open(log, "wb")
    return subprocess.Popen([CTG, "run", *ARGS, "--data-dir", str(data), "--reports-dir", str(reports)],
                            cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
                            env={**os.environ, "PYTHONHASHSEED": "0"})


def wait_for(proc: subprocess.Popen, condition, log: Path, what: str) -> None:
    deadline = time.monotonic() + TIMEOUT
    while not condition():
        if proc.poll() is not None:
            pytest.fail(f"ctg run ended ({proc.returncode}) before {what}:\n{log.read_text(errors='replace')[-3000:]}")
        if time.monotonic() > deadline:
            proc.kill()
            pytest.fail(f"timeout waiting for {what}")
        time.sleep(0.05)


def family(pid: int) -> list[psutil.Process]:
    try:
        return psutil.Process(pid).children(recursive=True)
    except psutil.NoSuchProcess:
        return []


def alive(processes: list[psutil.Process]) -> list[str]:
    out = []
    for p in processes:
        try:
            if p.is_running() and p.status() != psutil.STATUS_ZOMBIE:
                out.append(f"{p.pid} {' '.join(p.cmdline())[:120]}")
        except psutil.NoSuchProcess:
            continue
    return out


def interrupt(proc: subprocess.Popen, sig: int) -> list[psutil.Process]:
    """SIGINT to the whole group (Ctrl-C in a terminal); SIGKILL to the main process only (kill -9, OOM)."""
    children = family(proc.pid)
    if sig == signal.SIGINT:
        os.killpg(proc.pid, signal.SIGINT)
    else:
        os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=120)
    assert proc.returncode != 0
    return children


def assert_no_orphan(children: list[psutil.Process], grace: float) -> None:
    deadline = time.monotonic() + grace
    while alive(children) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not alive(children), f"processes left behind: {alive(children)}"


def staging(reports: Path) -> list[Path]:
    parent = reports / TERRITOIRE
    return [p for p in parent.iterdir() if p.name.startswith((".staging-", ".ancien-"))] if parent.is_dir() else []


def notebooks_running(data: Path):
    """Condition: a notebook of this run is being written (papermill saves it while cells execute)."""
    folder = data / "interim" / TERRITOIRE / "2025" / "notebooks"
    before = set(folder.glob("*.tmp.ipynb")) if folder.is_dir() else set()
    return lambda: folder.is_dir() and bool(set(folder.glob("*.tmp.ipynb")) - before)


def rendering(reports: Path):
    """Condition: this run renders into a new staging folder."""
    before = set(staging(reports))
    return lambda: bool(set(staging(reports)) - before)


@pytest.fixture(scope="module")
def snapshots(workspace):
    data, reports = workspace
    return digest(reports), digest(data / "raw")


def test_sigkill_during_validation(workspace, snapshots, tmp_path):
    data, reports = workspace
    referential = data / "raw" / "territoires" / TERRITOIRE / "ctg.yaml"
    original = referential.read_bytes()
    referential.unlink()
    os.mkfifo(referential)   # the validation blocks on reading it: a known point inside validation
    try:
        proc = start(data, reports, tmp_path / "log")
        writer = None

        def reading() -> bool:
            nonlocal writer
            try:
                writer = os.open(referential, os.O_WRONLY | os.O_NONBLOCK)
            except OSError:
                return False
            return True

        wait_for(proc, reading, tmp_path / "log", "the validation reading ctg.yaml")
        interrupt(proc, signal.SIGKILL)
        os.close(writer)
    finally:
        if stat.S_ISFIFO(referential.lstat().st_mode):
            referential.unlink()
        referential.write_bytes(original)
    assert digest(reports) == snapshots[0]
    assert not (data / "processed").exists()   # nothing computed before the checks


def test_sigint_during_notebook_execution_leaves_no_orphan_kernel(workspace, snapshots, tmp_path):
    data, reports = workspace
    condition = notebooks_running(data)
    proc = start(data, reports, tmp_path / "log")
    wait_for(proc, condition, tmp_path / "log", "notebook execution")
    time.sleep(1.0)   # kernels started and working
    children = interrupt(proc, signal.SIGINT)
    assert children, "no worker or kernel process seen during execution"
    assert_no_orphan(children, grace=20)
    assert digest(reports) == snapshots[0]
    assert not staging(reports)


LEFT_BEHIND: list[psutil.Process] = []


def test_sigkill_during_notebook_execution(workspace, snapshots, tmp_path):
    data, reports = workspace
    condition = notebooks_running(data)
    proc = start(data, reports, tmp_path / "log")
    wait_for(proc, condition, tmp_path / "log", "notebook execution")
    LEFT_BEHIND.extend(interrupt(proc, signal.SIGKILL))
    assert digest(reports) == snapshots[0]
    assert not staging(reports)


def test_no_process_outlives_a_sigkilled_run():
    """Pool workers die with the run (pipeline.orphans), kernels with their worker or template, the template with
    its owner."""
    try:
        assert LEFT_BEHIND
        assert_no_orphan(LEFT_BEHIND, grace=5)
    finally:
        for p in LEFT_BEHIND:   # processes this test started: end them by pid
            try:
                p.kill()
            except psutil.NoSuchProcess:
                pass


def test_sigkill_during_rendering_leaves_the_published_set_untouched(workspace, snapshots, tmp_path):
    data, reports = workspace
    condition = rendering(reports)
    proc = start(data, reports, tmp_path / "log")
    wait_for(proc, condition, tmp_path / "log", "rendering into a staging folder")
    time.sleep(0.5)
    children = interrupt(proc, signal.SIGKILL)
    assert digest(reports) == snapshots[0]   # the staging folder is hidden next to it, the set is intact
    assert staging(reports)                  # left behind by the killed run…
    assert_no_orphan(children, grace=30)


def test_the_next_run_starts_clean_with_read_only_raw_data(workspace, snapshots):
    """…and removed by the next run, which succeeds. That run (in this process, kernels aside) may not write
    anything below raw/: as `chmod -R a-w raw/` does not stop root, an audit hook refuses such writes."""
    from typer.testing import CliRunner

    from pipeline.cli import app

    data, reports = workspace
    raw = str((data / "raw").resolve())
    refused: list[str] = []

    def hook(event: str, args: tuple) -> None:
        if event == "open" and isinstance(args[0], (str, bytes, os.PathLike)):
            path, mode, flags = args
            writing = (isinstance(mode, str) and any(c in mode for c in "wax+")) or (
                isinstance(flags, int) and flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC))
            paths = [path] if writing else []
        elif event in ("os.remove", "os.rename", "os.replace", "os.mkdir", "os.rmdir", "os.chmod", "os.utime",
                       "shutil.rmtree", "shutil.move", "shutil.copyfile"):
            paths = [a for a in args if isinstance(a, (str, bytes, os.PathLike))]
        else:
            return
        for path in paths:
            if os.path.abspath(os.fsdecode(path)).startswith(raw):
                refused.append(f"{event} {os.fsdecode(path)}")
                raise PermissionError(f"lecture seule : {os.fsdecode(path)}")

    with audit(hook):
        result = CliRunner().invoke(app, ["run", *ARGS, "--data-dir", str(data), "--reports-dir", str(reports)])
    assert result.exit_code == 0, result.output
    assert refused == []
    assert not staging(reports)
    published = reports / TERRITOIRE / "2025"
    assert (published / "index.html").is_file() and (published / "manifest.json").is_file()
    assert digest(reports) != snapshots[0]   # a new set (two thématiques) replaced the old one in one piece
    assert digest(data / "raw") == snapshots[1]


_HOOKS: list = []


@contextmanager
def audit(hook):
    """Audit hooks cannot be removed: one forwarding hook per session, active inside this block only."""
    if not _HOOKS:
        sys.addaudithook(lambda event, args: _HOOKS[-1](event, args) if _HOOKS and _HOOKS[-1] else None)
    _HOOKS.append(hook)
    try:
        yield
    finally:
        _HOOKS.append(None)
