"""`make lab` (python -m pipeline.lab): a headless JupyterLab server on the project's kernel runs the prepared
notebook exactly as the pipeline does (papermill's injected parameters, kernel in the project folder)."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import nbformat
import pytest
from jupyter_client.asynchronous import AsyncKernelClient
from nbclient import NotebookClient
from papermill.iorw import load_notebook_node
from papermill.parameterize import parameterize_notebook

from conftest import ROOT
from pipeline.config import DataLayout, load_params
from pipeline.lab import (ProjectRootKernelManager, ensure_processed, lab_path, prepare_notebook,
                          server_command)

TOKEN = "ctg-test-token"
START_TIMEOUT = 180  # seconds: prepare stage + server start on a busy machine
IGNORE = shutil.ignore_patterns(".venv", ".git", "reports", "processed", "interim", "__pycache__", "test-artifacts",
                                ".pytest_cache", "_lab", ".ipynb_checkpoints")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def api(port: int, method: str, path: str, body: dict | None = None):
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}{path}", method=method, data=None if body is None else json.dumps(body).encode(),
        headers={"Authorization": f"token {TOKEN}", "Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read() or b"null")


@pytest.fixture
def projet(tmp_path) -> Path:
    """A copy of the project (code, notebooks, sample data): the lab writes notebooks/_lab/ and data/processed/."""
    dest = tmp_path / "projet"
    shutil.copytree(ROOT, dest, ignore=IGNORE)
    return dest


def test_prepared_notebook_is_papermills_parameterisation(projet):
    data = projet / "data"
    path = prepare_notebook(projet, "enfance", 2023, "200040459", data)
    assert path == lab_path(projet, "enfance", 2023) == projet / "notebooks" / "_lab" / "enfance_2023.ipynb"
    nb = nbformat.read(path, as_version=4)
    assert "parameters" in nb.cells[0].metadata.tags and "injected-parameters" in nb.cells[1].metadata.tags
    values: dict = {}
    exec(nb.cells[1].source, {}, values)
    assert values == {"territoire": "200040459", "annee": 2023, "data_dir": str(data.resolve()), "thematique": "enfance"}
    expected = parameterize_notebook(load_notebook_node(str(projet / "notebooks" / "enfance.ipynb")), values,
                                     kernel_name="python3", language="python")
    assert nb.cells[1].source == expected.cells[1].source
    assert [c.source for c in nb.cells] == [c.source for c in expected.cells]
    # the analyst's work in an existing copy is kept unless --reset
    nb.cells.append(nbformat.v4.new_code_cell("mon_essai = 1"))
    nbformat.write(nb, path)
    prepare_notebook(projet, "enfance", 2023, "200040459", data)
    assert nbformat.read(path, as_version=4).cells[-1].source == "mon_essai = 1"
    prepare_notebook(projet, "enfance", 2023, "200040459", data, reset=True)
    assert nbformat.read(path, as_version=4).cells[-1].source != "mon_essai = 1"


def test_server_command_uses_the_venv_lab_and_the_project_root(projet):
    cmd = server_command(projet, lab_path(projet, "enfance", 2024), 8899, False, "t")
    assert Path(cmd[0]) == Path(sys.executable).parent / "jupyter-lab" and Path(cmd[0]).is_file()
    assert cmd[1] == "notebooks/_lab/enfance_2024.ipynb"
    assert f"--ServerApp.root_dir={projet}" in cmd and "--no-browser" in cmd and "--IdentityProvider.token=t" in cmd
    assert "--ServerApp.kernel_manager_class=pipeline.lab.ProjectRootKernelManager" in cmd
    assert "--ServerApp.port=8899" in cmd and "--ServerApp.port_retries=0" in cmd
    assert ProjectRootKernelManager(root_dir=str(projet)).cwd_for_path("notebooks/_lab") == str(projet)
    assert (ROOT / ".venv" / "share" / "jupyter" / "kernels" / "python3" / "kernel.json").is_file() or \
        (Path(sys.prefix) / "share" / "jupyter" / "kernels" / "python3" / "kernel.json").is_file()


def test_processed_tables_are_computed_when_missing_or_stale(projet):
    layout = DataLayout(projet / "data", "200040459")
    params = load_params(projet / "params.yaml")
    assert ensure_processed(layout, params) is True
    table = layout.processed / "indicateurs.parquet"
    assert table.is_file() and ensure_processed(layout, params) is False
    earlier = layout.communes.stat().st_mtime - 10
    os.utime(table, (earlier, earlier))  # an input changed after the tables were computed
    assert ensure_processed(layout, params) is True and ensure_processed(layout, params) is False


async def run_in_server_kernel(connection_file: Path, nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Execute every cell with nbclient in the kernel the lab server started (connection file of its runtime dir)."""
    kc = AsyncKernelClient()
    kc.load_connection_file(str(connection_file))
    kc.start_channels()
    try:
        await kc.wait_for_ready(timeout=120)
        client = NotebookClient(nb, timeout=300, kernel_name="python3")
        client.kc = kc
        for index, cell in enumerate(nb.cells):
            await client.async_execute_cell(cell, index)  # raises CellExecutionError on an error
    finally:
        kc.stop_channels()
    return nb


@pytest.mark.e2e
def test_make_lab_serves_the_prepared_notebook_and_runs_it_headless(projet, tmp_path):
    port = free_port()
    jupyter = tmp_path / "jupyter"
    env = {**os.environ, "PYTHONPATH": str(projet), "JUPYTER_RUNTIME_DIR": str(jupyter / "runtime"),
           "JUPYTER_CONFIG_DIR": str(jupyter / "config"), "JUPYTERLAB_SETTINGS_DIR": str(jupyter / "settings"),
           "JUPYTERLAB_WORKSPACES_DIR": str(jupyter / "workspaces"), "PYTHONHASHSEED": "0"}
    log = (tmp_path / "lab.log").open("w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "pipeline.lab", "--notebook", "petite_enfance", "--annee", "2024", "--port", str(port),
         "--no-browser", "--token", TOKEN], cwd=projet, env=env, stdout=log, stderr=subprocess.STDOUT,
        start_new_session=True)
    session = None
    try:
        deadline = time.monotonic() + START_TIMEOUT
        status = None
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                status = api(port, "GET", "/api/status")
                break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                time.sleep(0.5)
        assert status is not None, f"le serveur ne répond pas :\n{(tmp_path / 'lab.log').read_text()}"
        assert status["kernels"] == 0

        notebook = projet / "notebooks" / "_lab" / "petite_enfance_2024.ipynb"
        assert notebook.is_file() and (projet / "data" / "processed" / "200040459" / "indicateurs.parquet").is_file()
        session = api(port, "POST", "/api/sessions", {
            "path": "notebooks/_lab/petite_enfance_2024.ipynb", "type": "notebook", "name": notebook.name,
            "kernel": {"name": "python3"}})
        connection = jupyter / "runtime" / f"kernel-{session['kernel']['id']}.json"
        for _ in range(100):
            if connection.is_file():
                break
            time.sleep(0.2)
        nb = nbformat.read(notebook, as_version=4)
        nb.cells.append(nbformat.v4.new_code_cell("import os\nprint(os.getcwd())"))
        nb = asyncio.run(asyncio.wait_for(run_in_server_kernel(connection, nb), 600))

        *report_cells, cwd_cell = [c for c in nb.cells if c.cell_type == "code"]
        assert cwd_cell.outputs[0]["text"].strip() == str(projet)  # the pipeline's cwd, not notebooks/_lab
        outputs = [o for c in report_cells for o in c.outputs]
        assert outputs and all(o.output_type == "display_data" and list(o.data) == ["text/markdown"] for o in outputs)
        markdown = "\n".join(o.data["text/markdown"] for o in outputs)
        assert "Bilan 2024 de la thématique « Petite enfance" in markdown and "Table: Chiffres clés" in markdown
        assert api(port, "GET", "/api/kernels")[0]["id"] == session["kernel"]["id"]
    finally:
        if session is not None and proc.poll() is None:
            try:
                api(port, "DELETE", f"/api/sessions/{session['id']}")
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=10)
        log.close()
