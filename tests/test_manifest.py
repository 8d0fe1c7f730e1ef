"""manifest.json and `ctg verify`: what a report set was built from, and whether it still holds."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
from pathlib import Path

import pytest
from typer.testing import CliRunner

from pipeline import __version__, manifest
from pipeline.cli import app
from pipeline.config import DataLayout, load_params
from pipeline.manifest import Kind

ROOT = Path(__file__).resolve().parent.parent
runner = CliRunner()
SUIVI = "data/raw/territoires/200040459/suivi"


@pytest.fixture
def project(tmp_path, monkeypatch):
    """A private repo root (catalogue, notebooks, uv.lock), data dir (copy of data/raw) and published report set."""
    root = tmp_path / "depot"
    for name in ("metadata", "notebooks"):
        shutil.copytree(ROOT / name, root / name)
    shutil.copy(ROOT / "uv.lock", root / "uv.lock")
    data = tmp_path / "donnees"
    shutil.copytree(ROOT / "data" / "raw", data / "raw", ignore=shutil.ignore_patterns(".*", "*.dvc"))
    (data / "raw" / ".gitignore").write_text("/suivi\n")  # hidden files and DVC pointers are not inputs
    (data / "raw" / "territoires" / "200040459" / "suivi.dvc").write_text("outs: []\n")
    report = tmp_path / "reports" / "200040459" / "2024"
    (report / "thematiques").mkdir(parents=True)
    (report / "index.html").write_text("<h1>Rapport CTG 2024 — Drôme</h1>\n", encoding="utf-8")
    (report / "rapport_ctg_2024.pdf").write_bytes(b"%PDF-1.7\n" + bytes(range(256)))
    (report / "thematiques" / "enfance.html").write_text("<h1>Enfance</h1>\n", encoding="utf-8")
    monkeypatch.setattr(manifest, "ROOT", root)  # the CLI reads the default root at call time
    layout = DataLayout(data)
    manifest.write_manifest(report, layout=layout, params=load_params(), annee=2024)
    return root, layout, report


def read(report: Path) -> dict:
    return json.loads((report / "manifest.json").read_text(encoding="utf-8"))


def test_manifest_lists_every_output_with_its_hash(project):
    _, _, report = project
    sorties = read(report)["sorties"]
    assert sorted(sorties) == ["index.html", "rapport_ctg_2024.pdf", "thematiques/enfance.html"]
    pdf = report / "rapport_ctg_2024.pdf"
    assert sorties["rapport_ctg_2024.pdf"] == {"sha256": hashlib.sha256(pdf.read_bytes()).hexdigest(), "size": 265}


def test_manifest_lists_every_input_with_sha256_and_dvc_md5(project):
    root, layout, report = project
    entrees = read(report)["entrees"]
    raw_files = [p for p in layout.raw.rglob("*") if p.is_file() and not p.name.startswith(".")
                 and p.suffix != ".dvc"]
    assert len(raw_files) > 20
    for path in raw_files:
        assert "data/" + path.relative_to(layout.data_dir).as_posix() in entrees
    for year in (2021, 2025):  # the follow-up sheets of every year, not only the report's
        assert any(key.startswith(f"{SUIVI}/{year}/") for key in entrees)
    assert {"metadata/indicateurs.yaml", "metadata/vocabulaire.yaml", "notebooks/enfance.ipynb"} <= entrees.keys()
    assert not [key for key in entrees if key.endswith((".dvc", ".gitignore"))]
    catalogue = (root / "metadata" / "indicateurs.yaml").read_bytes()
    assert entrees["metadata/indicateurs.yaml"] == {"sha256": hashlib.sha256(catalogue).hexdigest(),
                                                    "md5": hashlib.md5(catalogue).hexdigest(),
                                                    "size": len(catalogue)}
    assert manifest.input_files(layout, root) == sorted(raw_files) + sorted(
        [*root.glob("metadata/*.yaml"), *root.glob("notebooks/*.ipynb")])


def test_manifest_records_parameters_code_and_year(project):
    _, _, report = project
    data = read(report)
    assert data["annee"] == 2024 and data["territoire"] == "200040459"
    assert data["parametres"] == load_params()
    code = data["code"]
    assert code["version"] == __version__
    assert code["python"].startswith("3.")
    assert code["commit"] is None and code["dirty"] is None  # the temporary root is no git checkout
    import pandas  # noqa: PLC0415 - the locked version is the installed one

    assert code["paquets"]["pandas"] == pandas.__version__
    assert code["paquets"]["ctg-pipeline"] == __version__
    assert list(code["paquets"]) == sorted(code["paquets"])


def test_manifest_is_deterministic_json(project):
    _, layout, report = project
    first = (report / "manifest.json").read_bytes()
    manifest.write_manifest(report, layout=layout, params=load_params(), annee=2024)
    text = (report / "manifest.json").read_text(encoding="utf-8")
    assert (report / "manifest.json").read_bytes() == first
    assert text.endswith("}\n") and "\n  \"annee\": 2024," in text
    assert json.dumps(json.loads(text), sort_keys=True, indent=2, ensure_ascii=False) + "\n" == text


def test_explicit_inputs_replace_the_default_list(project, tmp_path):
    root, layout, report = project
    outside = tmp_path / "ailleurs.csv"
    outside.write_text("a;b\n", encoding="utf-8")
    inputs = [layout.raw / "caf" / "s_ben_com_f.csv", root / "metadata" / "indicateurs.yaml", outside]
    manifest.write_manifest(report, layout=layout, params={}, annee=2024, inputs=inputs)
    assert sorted(read(report)["entrees"]) == sorted(
        ["data/raw/caf/s_ben_com_f.csv", "metadata/indicateurs.yaml", outside.as_posix()])


def test_several_locked_versions_of_a_package_are_all_recorded(tmp_path):
    (tmp_path / "uv.lock").write_text(
        'version = 1\n[[package]]\nname = "numpy"\nversion = "2.5.5"\n'
        '[[package]]\nname = "numpy"\nversion = "2.4.6"\n[[package]]\nname = "babel"\nversion = "2.17.0"\n')
    assert manifest.locked_versions(tmp_path) == {"babel": "2.17.0", "numpy": "2.4.6, 2.5.5"}
    assert manifest.locked_versions(tmp_path / "absent") is None


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True).stdout.strip()


def test_git_state_ignores_outputs_but_not_code_changes(tmp_path):
    git(tmp_path, "init", "-q")
    git(tmp_path, "config", "user.name", "Test")
    git(tmp_path, "config", "user.email", "test@example.org")
    (tmp_path / "params.yaml").write_text("annees: [2024]\n")
    git(tmp_path, "add", "params.yaml")
    git(tmp_path, "commit", "-q", "-m", "init")
    head = git(tmp_path, "rev-parse", "HEAD")
    for produced in ("reports/200040459/2024/index.html", "data/interim/x.ipynb", "data/processed/200040459/t.pq"):
        (tmp_path / produced).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / produced).write_text("x")
    assert manifest.git_state(tmp_path) == {"commit": head, "dirty": False}
    (tmp_path / "params.yaml").write_text("annees: [2025]\n")
    assert manifest.git_state(tmp_path) == {"commit": head, "dirty": True}


def test_verify_notes_when_the_code_changed_since_the_build(tmp_path):
    repo, layout = tmp_path / "depot", DataLayout(tmp_path / "donnees")
    (layout.caf).mkdir(parents=True)
    (layout.caf / "s_ben_com_f.csv").write_text("Numcom;NB\n26198;5000\n", encoding="utf-8")
    repo.mkdir()
    git(repo, "init", "-q")
    git(repo, "config", "user.name", "Test")
    git(repo, "config", "user.email", "test@example.org")
    (repo / "params.yaml").write_text("annees: [2024]\n")
    git(repo, "add", "params.yaml")
    git(repo, "commit", "-q", "-m", "init")
    built = git(repo, "rev-parse", "HEAD")
    report = repo / "reports" / "200040459" / "2024"
    report.mkdir(parents=True)
    (report / "index.html").write_text("rapport\n")
    manifest.write_manifest(report, layout=layout, params={}, annee=2024, root=repo)
    assert manifest.check(report, layout, repo).notes == []

    (repo / "params.yaml").write_text("annees: [2025]\n")
    git(repo, "commit", "-q", "-am", "2025")
    result = manifest.check(report, layout, repo)
    assert result.ok  # code changes are notes; the data inputs are what verify checks
    assert result.notes == [f"Les rapports ont été produits par le commit {built[:12]} ; le dépôt est maintenant "
                            f"au commit {git(repo, 'rev-parse', 'HEAD')[:12]} (le code a pu changer depuis)."]

    (repo / "params.yaml").write_text("annees: [2026]\n")
    manifest.write_manifest(report, layout=layout, params={}, annee=2024, root=repo)
    assert manifest.check(report, layout, repo).notes[0].startswith(
        "Les rapports ont été produits avec des modifications non commitées du dépôt")


# verify ------------------------------------------------------------------------------------------------------
def test_fresh_manifest_verifies(project):
    root, layout, report = project
    result = manifest.check(report, layout, root)
    assert result.ok and result.differences == [] and result.notes == []
    assert result.outputs == 3 and result.inputs == len(manifest.input_files(layout, root))
    assert manifest.report_lines(result, report)[-1] == (
        f"Tout correspond : les rapports de {report} sont ceux des données actuelles.")


def modify_output(root, layout, report):
    (report / "thematiques" / "enfance.html").write_text("<h1>Enfance (retouché)</h1>\n", encoding="utf-8")
    return Kind.OUTPUT_MODIFIED, "thematiques/enfance.html"


def delete_output(root, layout, report):
    (report / "rapport_ctg_2024.pdf").unlink()
    return Kind.OUTPUT_MISSING, "rapport_ctg_2024.pdf"


def add_output(root, layout, report):
    (report / "thematiques" / "notes.txt").write_text("ajouté à la main\n", encoding="utf-8")
    return Kind.OUTPUT_EXTRA, "thematiques/notes.txt"


def modify_input(root, layout, report):
    sheet = layout.suivi(2023) / "actions.csv"
    sheet.write_bytes(sheet.read_bytes() + b"\n")
    return Kind.INPUT_MODIFIED, f"{SUIVI}/2023/actions.csv"


def delete_input(root, layout, report):
    (root / "notebooks" / "jeunesse.ipynb").unlink()
    return Kind.INPUT_MISSING, "notebooks/jeunesse.ipynb"


def add_input(root, layout, report):
    layout.suivi(2026).mkdir()  # a new year's sheets arrive after the build
    (layout.suivi(2026) / "financements.csv").write_text("financeur;montant\nCaf;1000\n", encoding="utf-8")
    return Kind.INPUT_NEW, f"{SUIVI}/2026/financements.csv"


CHANGES = [modify_output, delete_output, add_output, modify_input, delete_input, add_input]


@pytest.mark.parametrize("change", CHANGES, ids=lambda f: f.__name__)
def test_verify_names_each_difference(project, change):
    root, layout, report = project
    kind, path = change(root, layout, report)
    (difference,) = manifest.verify(report, layout, root)
    assert (difference.kind, difference.path) == (kind, path)
    assert path in difference.message_fr


@pytest.mark.parametrize("change", CHANGES, ids=lambda f: f.__name__)
def test_ctg_verify_exit_code_and_message(project, change):
    _, layout, report = project
    _, path = change(*project)
    result = runner.invoke(app, ["verify", str(report), "--data-dir", str(layout.data_dir)])
    assert result.exit_code == 1, result.output
    assert path in result.output
    assert result.output.rstrip().splitlines()[-1].startswith("1 différence : les rapports de ")


def test_ctg_verify_accepts_a_fresh_report_set(project):
    _, layout, report = project
    result = runner.invoke(app, ["verify", str(report), "--data-dir", str(layout.data_dir)])
    assert result.exit_code == 0, result.output
    assert result.output.rstrip().splitlines()[-1] == (
        f"Tout correspond : les rapports de {report} sont ceux des données actuelles.")


def test_ctg_verify_lists_several_differences(project):
    root, layout, report = project
    changed = [change(root, layout, report)[1] for change in (modify_output, add_input)]
    result = runner.invoke(app, ["verify", str(report), "--data-dir", str(layout.data_dir)])
    assert result.exit_code == 1
    assert all(path in result.output for path in changed)
    assert "2 différences : " in result.output


@pytest.mark.parametrize("content", [None, "{pas du json", '{"annee": 2024}'], ids=["absent", "json", "champs"])
def test_ctg_verify_without_a_readable_manifest(project, content):
    _, layout, report = project
    target = report / "manifest.json"
    target.unlink()
    if content is not None:
        target.write_text(content, encoding="utf-8")
    result = runner.invoke(app, ["verify", str(report), "--data-dir", str(layout.data_dir)])
    assert result.exit_code == 1
    assert "manifest.json" in result.output
    assert ("Aucun manifest.json" if content is None else "illisible") in result.output
    with pytest.raises(manifest.ManifestError):
        manifest.verify(report, layout)


def test_ctg_verify_help_ends_with_an_example():
    result = runner.invoke(app, ["verify", "--help"], terminal_width=200)
    assert result.exit_code == 0
    assert "Exemple : ctg verify reports/200040459/2024" in result.output


# dvc.lock ----------------------------------------------------------------------------------------------------
def write_dvc_lock(root: Path, deps: dict[str, str]) -> None:
    """A dvc.lock in the DVC 3 format, with the given file deps (path -> md5) and the data/raw directory."""
    entries = [{"path": "data/raw", "hash": "md5", "md5": "0" * 32 + ".dir", "size": 1, "nfiles": 1}]
    entries += [{"path": path, "hash": "md5", "md5": value, "size": 1} for path, value in deps.items()]
    stages = {"prepare": {"cmd": "ctg prepare", "deps": entries}, "publish@2024": {"cmd": "ctg publish", "deps": []}}
    (root / "dvc.lock").write_text(json.dumps({"schema": "2.0", "stages": stages}), encoding="utf-8")  # JSON is YAML


def test_dvc_lock_consistent_with_the_manifest(project):
    root, layout, report = project
    (root / "pipeline").mkdir()
    (root / "pipeline" / "prepare.py").write_text("print('prepare')\n")
    write_dvc_lock(root, {"metadata/indicateurs.yaml": manifest.md5(root / "metadata" / "indicateurs.yaml"),
                          "pipeline/prepare.py": manifest.md5(root / "pipeline" / "prepare.py")})
    result = manifest.check(report, layout, root)
    assert result.ok
    assert result.notes == ["dvc.lock (étape prepare) : data/raw est un dossier (empreinte « .dir »), "
                            "non comparé fichier par fichier."]


def test_dvc_lock_disagreeing_with_the_manifest_or_the_files(project):
    root, layout, report = project
    (root / "pipeline").mkdir()
    (root / "pipeline" / "prepare.py").write_text("print('prepare')\n")
    write_dvc_lock(root, {"metadata/indicateurs.yaml": "1" * 32, "pipeline/prepare.py": "2" * 32,
                          "pipeline/absent.py": "3" * 32})
    differences = manifest.verify(report, layout, root)
    assert [(d.kind, d.path) for d in differences] == [
        (Kind.DVC_LOCK, "metadata/indicateurs.yaml"), (Kind.DVC_LOCK, "pipeline/prepare.py"),
        (Kind.DVC_LOCK, "pipeline/absent.py")]
    assert "manifeste" in differences[0].message_fr and "dvc repro" in differences[1].message_fr
    assert "introuvable" in differences[2].message_fr


def test_dvc_lock_without_the_report_year(project):
    root, layout, report = project
    (root / "dvc.lock").write_text("schema: '2.0'\nstages:\n  prepare:\n    cmd: ctg prepare\n", encoding="utf-8")
    result = manifest.check(report, layout, root)
    assert result.ok
    assert result.notes == ["dvc.lock ne contient pas l'étape publish@2024 : pas de contrôle croisé pour elle."]


def test_unreadable_dvc_lock_is_a_difference(project):
    root, layout, report = project
    (root / "dvc.lock").write_text("stages: [non fermé\n", encoding="utf-8")
    (difference,) = manifest.verify(report, layout, root)
    assert (difference.kind, difference.path) == (Kind.DVC_LOCK, "dvc.lock")
    assert difference.message_fr.startswith("dvc.lock est illisible")
