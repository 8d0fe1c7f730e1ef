"""The DVC workflow of docs/reproductibilite.md, for real: confidential files go to a DVC remote, not to git.

A repo stores a follow-up folder with `dvc add` and `dvc push` to a local remote folder; a fresh `git clone`
gets it back with `dvc pull`, byte for byte. Also: the md5 of the manifest is the one DVC records, and
`verify` cross-checks a dvc.lock written by a real `dvc repro`.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from pipeline import manifest
from pipeline.config import DataLayout
from pipeline.manifest import Kind

DVC = str(Path(sys.executable).parent / "dvc")
SUIVI = Path("data/raw/territoires/200040459/suivi")


@pytest.fixture
def env(tmp_path) -> dict:
    """No analytics, no update check, DVC's site cache inside the test folder."""
    return {**os.environ, "DVC_NO_ANALYTICS": "1", "DVC_SITE_CACHE_DIR": str(tmp_path / "dvc-site")}


def sh(env: dict, cwd: Path, *args: str) -> str:
    proc = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True)
    assert proc.returncode == 0, f"{' '.join(args)} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}"
    return proc.stdout


def test_confidential_files_travel_through_a_dvc_remote(tmp_path, env):
    repo, remote, clone = tmp_path / "depot", tmp_path / "partage", tmp_path / "clone"
    repo.mkdir()
    remote.mkdir()
    sh(env, repo, "git", "init", "-q")
    sh(env, repo, "git", "config", "user.name", "Évaluateur")
    sh(env, repo, "git", "config", "user.email", "evaluateur@example.org")
    sh(env, repo, DVC, "init", "-q")
    sh(env, repo, DVC, "config", "core.analytics", "false")
    sheet = repo / SUIVI / "2024" / "actions.csv"
    sheet.parent.mkdir(parents=True)
    sheet.write_bytes("action_id;statut;commentaire\nPE-1;en_cours;Famille X. (nom confidentiel)\n".encode("cp1252"))
    workbook = repo / SUIVI / "2024" / "financements.xlsx"
    workbook.write_bytes(bytes(range(256)) * 8)

    sh(env, repo, DVC, "add", "-q", str(SUIVI))
    sh(env, repo, DVC, "remote", "add", "-d", "partage", str(remote))
    sh(env, repo, "git", "add", "-A")
    assert str(SUIVI / "2024" / "actions.csv") not in sh(env, repo, "git", "diff", "--cached", "--name-only")
    sh(env, repo, "git", "commit", "-q", "-m", "suivi 2024 (DVC)")
    sh(env, repo, DVC, "push", "-q")

    # The md5 the manifest records is the one DVC records for each file of the folder.
    pointer = (repo / SUIVI.parent / "suivi.dvc").read_text(encoding="utf-8")
    dir_md5 = next(line.split(":")[1].strip() for line in pointer.splitlines() if "md5:" in line)
    listing = json.loads((repo / ".dvc" / "cache" / "files" / "md5" / dir_md5[:2] / dir_md5[2:]).read_text())
    assert {e["relpath"]: e["md5"] for e in listing} == {
        "2024/actions.csv": manifest.md5(sheet), "2024/financements.xlsx": manifest.md5(workbook)}

    sh(env, tmp_path, "git", "clone", "-q", str(repo), str(clone))
    assert not (clone / SUIVI).exists()  # git alone does not carry the confidential files
    assert "partage" in sh(env, clone, DVC, "remote", "list")
    sh(env, clone, DVC, "pull", "-q")
    assert (clone / SUIVI / "2024" / "actions.csv").read_bytes() == sheet.read_bytes()
    assert (clone / SUIVI / "2024" / "financements.xlsx").read_bytes() == workbook.read_bytes()


DVC_YAML = """stages:
  prepare:
    cmd: cat metadata/indicateurs.yaml > prepared.txt
    deps:
      - data/raw
      - metadata/indicateurs.yaml
      - pipeline/prepare.py
    outs:
      - prepared.txt
"""


def test_verify_cross_checks_a_dvc_lock_written_by_dvc_repro(tmp_path, env):
    repo = tmp_path / "depot"
    for path, text in {"data/raw/caf/s_ben_com_f.csv": "Numcom;NB_allocataires\n26198;5000\n",
                       "metadata/indicateurs.yaml": "indicateurs: []\n", "pipeline/prepare.py": "# prepare\n",
                       "dvc.yaml": DVC_YAML}.items():
        (repo / path).parent.mkdir(parents=True, exist_ok=True)
        (repo / path).write_text(text, encoding="utf-8")
    sh(env, repo, DVC, "init", "-q", "--no-scm")
    sh(env, repo, DVC, "repro", "-q")
    report = repo / "reports" / "200040459" / "2024"
    report.mkdir(parents=True)
    (report / "index.html").write_text("<h1>2024</h1>\n", encoding="utf-8")
    layout = DataLayout(repo / "data")
    manifest.write_manifest(report, layout=layout, params={}, annee=2024, root=repo)

    result = manifest.check(report, layout, repo)
    assert result.ok, result.differences
    assert any("data/raw est un dossier" in note for note in result.notes)

    (repo / "pipeline" / "prepare.py").write_text("# prepare, modifié après dvc repro\n", encoding="utf-8")
    assert [(d.kind, d.path) for d in manifest.verify(report, layout, repo)] == [
        (Kind.DVC_LOCK, "pipeline/prepare.py")]
