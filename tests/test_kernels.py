"""Kernels forked from the template process: isolation, randomness, errors, failures, ports, clean exit."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import signal
import socket
import subprocess
import sys
import threading
from pathlib import Path

import nbformat
import psutil
import pytest
from nbformat.v4 import new_code_cell, new_notebook

from pipeline import execute, kernels

pytestmark = pytest.mark.skipif(not kernels.supported(), reason="forking kernels needs Linux with pidfd")

HANG_GUARD = 120  # seconds: only to turn a hang into a failure, never a performance assertion
PARAMETERS = 'territoire = "x"\nannee = 2024\ndata_dir = "."\nthematique = "t"'
IDS = "import json, os\nprint('IDS ' + json.dumps({'pid': os.getpid(), 'ppid': os.getppid()}))"


def make_job(tmp_path: Path, name: str, *sources: str) -> execute.Job:
    """A notebook with a `parameters` cell and the given code cells, as a Job for execute.run_one."""
    nb = new_notebook(cells=[new_code_cell(PARAMETERS, metadata={"tags": ["parameters"]})])
    nb.cells += [new_code_cell(source) for source in sources]
    nb.metadata.kernelspec = {"name": "python3", "display_name": "Python 3", "language": "python"}
    path = tmp_path / f"{name}.ipynb"
    nbformat.write(nb, str(path))
    return execute.Job("t", 2024, "x", tmp_path, tmp_path / "out" / f"{name}.ipynb", notebook=path)


def outputs(path: Path) -> list[dict]:
    return [out for cell in nbformat.read(str(path), 4).cells for out in cell.get("outputs", [])]


def printed(path: Path) -> str:
    return "".join(out.get("text", "") for out in outputs(path) if out.get("output_type") == "stream")


def ids(path: Path) -> dict:
    line = next(line for line in printed(path).splitlines() if line.startswith("IDS "))
    return json.loads(line[4:])


def within(seconds: float, fn, *args):
    """Run fn(*args) in a daemon thread; fail (instead of hanging) if it does not finish in time."""
    box: dict = {}

    def target():
        try:
            box["value"] = fn(*args)
        except BaseException as exc:  # noqa: BLE001 - re-raised in the test thread
            box["error"] = exc

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(seconds)
    assert not thread.is_alive(), f"{fn.__name__} still running after {seconds} s"
    if "error" in box:
        raise box["error"]
    return box["value"]


@pytest.fixture(scope="module")
def template():
    """One template for the isolation tests, as run_all would share it."""
    with kernels.template_scope() as endpoint:
        assert endpoint is not None
        yield kernels.template_pid()


def test_nothing_leaks_from_one_notebook_to_the_next(tmp_path, template):
    first = make_job(
        tmp_path,
        "a",
        IDS,
        "LEAK = 42\n"
        "import matplotlib, matplotlib.pyplot as plt, pandas as pd, numpy as np\n"
        "matplotlib.rcParams['lines.linewidth'] = 9.5\n"
        "pd.set_option('display.max_rows', 3)\n"
        "pd.leaked_attribute = 'A'\n"
        "np.leaked_attribute = 'A'\n"
        f"os.chdir({str(tmp_path)!r})\n"
        "kept_open = plt.figure()\n"
        "plt.plot([1, 2, 3])",
        "assert pd.get_option('display.max_rows') == 3 and os.getcwd() != " + repr(str(execute.ROOT)),
    )
    second = make_job(
        tmp_path,
        "b",
        IDS,
        "import matplotlib, matplotlib.pyplot as plt, pandas as pd, numpy as np\n"
        "assert 'LEAK' not in globals()\n"
        "assert matplotlib.rcParams['lines.linewidth'] == matplotlib.rcParamsDefault['lines.linewidth']\n"
        "assert pd.get_option('display.max_rows') == 60\n"
        "assert not hasattr(pd, 'leaked_attribute') and not hasattr(np, 'leaked_attribute')\n"
        f"assert os.getcwd() == {str(execute.ROOT)!r}, os.getcwd()\n"
        "assert plt.get_fignums() == [], plt.get_fignums()",
    )
    execute.run_one(first)
    execute.run_one(second)  # raises ExecutionError if an assertion of notebook B fails

    assert ids(first.output)["ppid"] == ids(second.output)["ppid"] == template  # both forked from the template
    assert ids(first.output)["pid"] != ids(second.output)["pid"]
    assert any("image/png" in out.get("data", {}) for out in outputs(first.output)), "inline plot lost"


def test_a_forked_kernel_writes_the_same_notebook_as_a_plain_one(tmp_path, template):
    chart = (
        "import pandas as pd, matplotlib.pyplot as plt, seaborn as sns\n"
        "from IPython.display import Markdown, display\n"
        "df = pd.DataFrame({'annee': [2021, 2022, 2023] * 2, 'valeur': [3, 5, 4, 6, 2, 7], 'g': list('aaabbb')})\n"
        "sns.barplot(data=df, x='annee', y='valeur', hue='g')\n"
        "plt.show()\n"
        "display(Markdown(f'**{df.valeur.sum()}** familles'))\n"
        "df.pivot(index='annee', columns='g', values='valeur')"
    )
    plain, forked = make_job(tmp_path, "plain", chart), make_job(tmp_path, "forked", chart)
    execute.run_one(plain, fork=False)
    execute.run_one(forked)
    assert plain.output.read_bytes() == forked.output.read_bytes()
    kinds = {kind for out in outputs(forked.output) for kind in out.get("data", {})}
    assert {"image/png", "text/markdown", "text/html"} <= kinds


def test_numpy_random_numbers_differ_between_forked_kernels(tmp_path, template):
    draw = "import numpy as np, random\nprint('DRAW', np.random.rand(3).tolist(), random.random())"
    jobs = [make_job(tmp_path, name, IDS, draw) for name in ("r1", "r2")]
    for job in jobs:
        execute.run_one(job)
    draws = [next(line for line in printed(job.output).splitlines() if line.startswith("DRAW")) for job in jobs]
    assert all(ids(job.output)["ppid"] == template for job in jobs)
    assert draws[0] != draws[1]


def test_a_cell_error_is_reported_as_usual(tmp_path, template):
    job = make_job(tmp_path, "err", "x = 1", "raise ValueError('boom in a forked kernel')")
    with pytest.raises(execute.ExecutionError) as info:
        execute.run_one(job)
    assert "ValueError" in str(info.value) and "boom in a forked kernel" in str(info.value)
    assert "cellule" in str(info.value)
    assert not job.output.exists()


def test_a_kernel_needing_other_interpreter_settings_is_not_forked(tmp_path, template, monkeypatch):
    """PYTHON* variables are read when the interpreter starts: the template declines, a plain kernel honours them."""
    monkeypatch.setenv("PYTHONHASHSEED", "12345")
    expected = subprocess.run([sys.executable, "-c", "print(hash('ctg'))"], capture_output=True, text=True).stdout
    seeded = make_job(tmp_path, "seeded", IDS, "print('HASH', hash('ctg'))")
    execute.run_one(seeded)
    assert ids(seeded.output)["ppid"] == os.getpid()
    assert f"HASH {expected.strip()}" in printed(seeded.output)

    monkeypatch.undo()
    again = make_job(tmp_path, "again", IDS)
    execute.run_one(again)
    assert ids(again.output)["ppid"] == template  # the template is still in use


def test_a_killed_template_falls_back_to_a_plain_kernel(tmp_path, caplog):
    with kernels.template_scope():
        before = make_job(tmp_path, "before", IDS)
        execute.run_one(before)
        pid = kernels.template_pid()
        assert ids(before.output)["ppid"] == pid
        os.kill(pid, signal.SIGKILL)
        psutil.Process(pid).wait(10)

        after = make_job(tmp_path, "after", IDS, "import pandas as pd\nprint(pd.DataFrame({'a': [1]}).shape)")
        with caplog.at_level(logging.WARNING, logger="pipeline.kernels"):
            within(HANG_GUARD, execute.run_one, after)
    assert ids(after.output)["ppid"] == os.getpid()  # a plain kernel, started by this process
    assert "(1, 1)" in printed(after.output)
    assert "plain kernels" in caplog.text


def test_template_death_ends_a_running_kernel_instead_of_hanging(tmp_path):
    suicide = "import os, signal, time\nos.kill(os.getppid(), signal.SIGKILL)"  # the kernel kills its template
    job = make_job(tmp_path, "orphan", suicide, "time.sleep(600)")
    with kernels.template_scope():
        with pytest.raises(execute.ExecutionError) as info:
            within(HANG_GUARD, execute.run_one, job)
    assert "Kernel died" in str(info.value)


def test_run_all_shares_one_template_and_leaves_no_process(tmp_path):
    me = psutil.Process()
    children_before = {child.pid for child in me.children(recursive=True)}
    work = "import pandas as pd\npd.DataFrame({'a': range(9)})"
    jobs = [make_job(tmp_path, f"p{i}", IDS, work) for i in range(4)]

    paths = within(HANG_GUARD, execute.run_all, jobs, 2)

    assert paths == [job.output for job in jobs]
    seen = [ids(path) for path in paths]
    templates = {entry["ppid"] for entry in seen}
    assert len(templates) == 1 and os.getpid() not in templates  # every kernel forked from one shared template
    for pid in [entry["pid"] for entry in seen] + list(templates):
        assert not psutil.pid_exists(pid), f"process {pid} left behind"
    assert {child.pid for child in me.children(recursive=True)} <= children_before


def test_forked_kernels_choose_their_own_ports(tmp_path):
    """A port taken by someone else (papermill issue 511) does not stop a forked kernel from starting."""
    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen()
    port = taken.getsockname()[1]

    async def start_and_stop():
        km = kernels.ForkingKernelManager(kernel_name="python3", shell_port=port, iopub_port=port)
        await km.start_kernel(cwd=str(tmp_path))
        kc = km.client()
        kc.start_channels()
        try:
            await kc.wait_for_ready(timeout=60)
            reply = await kc.execute_interactive("x = 6 * 7", timeout=60)
        finally:
            kc.stop_channels()
            await km.shutdown_kernel(now=True)
        return km.shell_port, km.iopub_port, reply["content"]["status"]

    try:
        with kernels.template_scope():
            shell, iopub, status = within(HANG_GUARD, asyncio.run, start_and_stop())
    finally:
        taken.close()
    assert status == "ok"
    assert port not in (shell, iopub)


def test_opt_out_and_platform_fallback(tmp_path, monkeypatch):
    monkeypatch.setenv(kernels.FORK_ENV, "0")
    assert kernels.kernel_manager_class() is None
    assert kernels.kernel_manager_class(True) is None  # the environment wins over params.yaml
    job = make_job(tmp_path, "plain", IDS)
    execute.run_all([job], workers=1)
    assert ids(job.output)["ppid"] == os.getpid()  # papermill's own kernel, no template

    monkeypatch.setenv(kernels.FORK_ENV, "1")
    assert kernels.kernel_manager_class(False) is kernels.ForkingKernelManager
    monkeypatch.delenv(kernels.FORK_ENV)
    assert kernels.kernel_manager_class(False) is None  # params.yaml execution.fork: false
    assert kernels.kernel_manager_class() is kernels.ForkingKernelManager

    monkeypatch.setattr(kernels, "supported", lambda: False)  # e.g. macOS, or Linux without pidfd
    assert kernels.kernel_manager_class() is None
    children_before = psutil.Process().children()
    with kernels.template_scope(kernels.fork_enabled()) as endpoint:
        assert endpoint is None
        assert psutil.Process().children() == children_before  # no template started


def test_a_failing_notebook_stops_the_batch(tmp_path):
    """run_all stops at the first failure: the notebooks still queued are never started (they used to be run
    before the error was raised)."""
    failing = make_job(tmp_path, "panne", 'raise RuntimeError("panne")')
    queued = [make_job(tmp_path, f"attente{i}", "import time\ntime.sleep(0.5)") for i in range(16)]
    with pytest.raises(execute.ExecutionError, match="panne"):
        within(HANG_GUARD, execute.run_all, [failing, *queued], 2)
    # the pool hands a few tasks to its workers ahead (2 running + 3 queued: they end normally), and some may end
    # before the failure is seen; the others are cancelled
    assert sum(job.output.exists() for job in queued) <= 10


def test_the_template_preloads_what_the_notebooks_import(tmp_path):
    from nbformat.v4 import new_markdown_cell

    from pipeline.kernel_template import notebook_imports

    nb = new_notebook(cells=[
        new_code_cell("%matplotlib inline\nimport seaborn as sns, json.decoder\nfrom pipeline import report"),
        new_code_cell("from email.mime import text as t\nfrom . import voisin\nfrom csv import *\nx = 1"),
        new_code_cell("!ls\nimport tomllib"),
        new_code_cell("def f(:\n    import statistics"),  # does not parse: skipped
        new_markdown_cell("import wave"),
    ])
    (tmp_path / "notebooks").mkdir()
    nbformat.write(nb, str(tmp_path / "notebooks" / "a.ipynb"))
    (tmp_path / "notebooks" / "casse.ipynb").write_text("{pas du json")
    assert notebook_imports(tmp_path / "notebooks") == [
        "seaborn", "json.decoder", "pipeline", "pipeline.report", "email.mime", "email.mime.text", "csv", "tomllib"]

    # in a project whose notebooks import them, the template imports them before it forks any kernel
    (tmp_path / "params.yaml").write_text("{}\n")
    code = ("import sys; from pipeline import kernel_template as k; k.warm_up(); "
            "print(sorted(n for n in ('email.mime.text', 'tomllib', 'seaborn', 'wave') if n in sys.modules))")
    sortie = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, check=True)
    assert sortie.stdout.strip().splitlines()[-1] == "['email.mime.text', 'seaborn', 'tomllib']"
    (tmp_path / "notebooks" / "a.ipynb").unlink()
    sortie = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, check=True)
    assert sortie.stdout.strip().splitlines()[-1] == "[]"  # nothing imports seaborn: not preloaded
