"""pipeline.orphans: a child set to die with its parent is SIGKILLed when the parent is, and a child whose parent
is already gone when it asks exits at once (the race between fork and prctl)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from pipeline import orphans

pytestmark = pytest.mark.skipif(not orphans.supported(), reason="PR_SET_PDEATHSIG is Linux only")

# A parent that starts a grandchild (either through preexec_fn or by the grandchild's own call), prints its pid,
# then sleeps until killed.
PARENT = """
import os, subprocess, sys, time
from pipeline import orphans
mode = sys.argv[1]
if mode == "preexec":
    child = subprocess.Popen(["sleep", "300"], preexec_fn=orphans.child_dies_with_us())
else:
    code = "import sys, time; from pipeline import orphans; orphans.die_with_parent(int(sys.argv[1])); time.sleep(300)"
    child = subprocess.Popen([sys.executable, "-c", code, str(os.getpid())])
print(child.pid, flush=True)
time.sleep(300)
"""


def gone(pid: int, within: float) -> bool:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            if psutil.Process(pid).status() == psutil.STATUS_ZOMBIE:
                return True
        except psutil.NoSuchProcess:
            return True
        time.sleep(0.05)
    return False


@pytest.mark.parametrize("mode", ["preexec", "initializer"])
def test_child_is_killed_with_its_parent(mode):
    parent = subprocess.Popen([sys.executable, "-c", PARENT, mode], stdout=subprocess.PIPE, text=True)
    child = int(parent.stdout.readline())
    try:
        time.sleep(0.5)  # the initializer variant has called prctl by now
        assert psutil.Process(child).is_running()
        parent.kill()
        parent.wait()
        assert gone(child, within=5), f"child {child} outlived its SIGKILLed parent"
    finally:
        parent.kill()
        try:
            os.kill(child, signal.SIGKILL)
        except ProcessLookupError:
            pass


def test_child_whose_parent_already_ended_exits_at_once():
    code = "from pipeline import orphans; orphans.die_with_parent(1); import time; time.sleep(300)"
    proc = subprocess.run([sys.executable, "-c", code], timeout=60)
    assert proc.returncode == 1


class Sentinel:
    """Writes a file when finalised: at interpreter teardown for a module global."""

    def __init__(self, path: str) -> None:
        self.touch = Path(path).touch  # bound now: builtins may be gone when a torn-down interpreter calls __del__

    def __del__(self) -> None:
        self.touch()


def _task_leaving_things_behind(folder: str) -> int:
    import atexit
    import logging

    global LEFT_BEHIND
    LEFT_BEHIND = Sentinel(os.path.join(folder, "teardown"))  # finalised only if the interpreter is torn down
    atexit.register(lambda: open(os.path.join(folder, "atexit"), "w").close())
    handler = logging.StreamHandler(open(os.path.join(folder, "log"), "w"))  # buffered: flushed by logging.shutdown
    logging.getLogger("ctg-test").addHandler(handler)
    logging.getLogger("ctg-test").warning("message du worker")
    return os.getpid()


def test_spawned_pool_worker_ends_without_teardown_after_its_atexit_handlers(tmp_path):
    from pipeline import run

    with run._spawned() as pool:
        pid = pool.submit(_task_leaving_things_behind, str(tmp_path)).result()
    assert not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    assert (tmp_path / "atexit").exists(), "an atexit handler registered by a task must still run"
    assert "message du worker" in (tmp_path / "log").read_text(), "logging must be flushed"
    assert not (tmp_path / "teardown").exists(), "the worker's interpreter was torn down (module globals finalised)"


@pytest.mark.parametrize("args, code, sortie", [(["--version"], 0, "ctg "), (["commande-inconnue"], 2, "")])
def test_the_ctg_program_keeps_exit_codes_and_output(args, code, sortie):
    proc = subprocess.run([sys.executable, "-m", "pipeline", *args], capture_output=True, text=True, timeout=120)
    assert proc.returncode == code, proc.stderr
    assert proc.stdout.startswith(sortie)  # piped, so block-buffered: flushed before the quick exit
    if code:
        assert "commande-inconnue" in proc.stderr


def test_render_workers_run_at_a_lower_priority_than_the_run():
    from pipeline import run

    opts = run.RunOptions(layout=None, params={}, annees=[], thematiques=[], jobs=1)
    with run.render_pool(opts) as pool:
        assert pool.submit(os.nice, 0).result() == min(19, os.nice(0) + run.RENDER_NICE)
    with run._spawned() as pool:  # the other spawned workers (checks, preparation) keep the run's priority
        assert pool.submit(os.nice, 0).result() == os.nice(0)
