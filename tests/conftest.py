"""Shared fixtures: a built sample report set (built once per test session) and paths."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CTG = str(Path(sys.executable).parent / "ctg")
ARTEFACTS = ROOT / "test-artifacts"


def run_ctg(*args: str, cwd: Path = ROOT, check: bool = False, env: dict | None = None) -> subprocess.CompletedProcess:
    """Run the real `ctg` executable (as a user would)."""
    full_env = {**os.environ, "PYTHONHASHSEED": "0", **(env or {})}
    proc = subprocess.run([CTG, *args], cwd=cwd, capture_output=True, text=True, env=full_env)
    if check and proc.returncode != 0:
        raise AssertionError(f"ctg {' '.join(args)} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    return proc


@pytest.fixture(scope="session")
def sample_data(tmp_path_factory) -> Path:
    """A private copy of the bundled sample data (data/raw only): tests never write into the repo's data/."""
    data = tmp_path_factory.mktemp("data")
    shutil.copytree(ROOT / "data" / "raw", data / "raw")
    return data


@pytest.fixture(scope="session")
def built_reports(sample_data, tmp_path_factory) -> Path:
    """`ctg run --toutes-annees` once on the sample copy; returns the reports directory."""
    reports = tmp_path_factory.mktemp("reports")
    run_ctg("run", "--toutes-annees", "--data-dir", str(sample_data), "--reports-dir", str(reports), check=True)
    return reports


@pytest.fixture(scope="session")
def artefacts() -> Path:
    ARTEFACTS.mkdir(exist_ok=True)
    return ARTEFACTS
