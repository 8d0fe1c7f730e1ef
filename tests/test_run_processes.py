"""How `ctg run` uses processes (issue #9: speed and memory): the years are planned by the parent and rendered by
a pool of light worker processes, Typst compiles in short-lived children, data errors cross the process boundary intact, the kernel template is shared by
nested scopes, and jsonschema's costly IRI parser is not imported by the pipeline's processes."""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path

import pytest

from pipeline import assemble, publish, run
from pipeline.checks.result import DataError, Problem, ValidationResult
from pipeline.config import DataLayout
from pipeline.inputs.common import InputError


def test_input_and_data_errors_survive_pickling():
    """Validation runs in a child process: its exceptions come back with the same French message and fields."""
    err = InputError("raw/suivi/petite_enfance_2025.xlsx", "date invalide", line=12, column="echeance",
                     value="31/02/2025", hint="Format attendu : JJ/MM/AAAA")
    back = pickle.loads(pickle.dumps(err))
    assert type(back) is InputError and str(back) == str(err)
    assert (back.file, back.line, back.column, back.value, back.hint) == (err.file, 12, "echeance", "31/02/2025",
                                                                          err.hint)
    result = ValidationResult(problems=[Problem(file="raw/caf/x.csv", rule="valeur négative", column="nb",
                                                lines=(3,), line_count=1, values=("-2",))])
    data_error = pickle.loads(pickle.dumps(DataError(result)))
    assert type(data_error) is DataError and str(data_error) == str(DataError(result))
    assert data_error.result.problems == result.problems


def test_an_error_raised_in_the_child_is_raised_in_the_parent():
    with pytest.raises(InputError, match=r"x\.csv, ligne 4, colonne « a » : règle"):
        with run._spawned() as child:
            child.submit(_raise_input_error).result()


def _raise_input_error():
    raise InputError("x.csv", "règle", line=4, column="a")


def _fake_render(out: Path, annee: int, fail: bool) -> list[Path]:
    """A render task (module-level: it runs in a worker process) writing one page, or failing."""
    if fail:
        raise OSError("disque plein")
    (out / "index.html").write_text(f"<p>{annee}</p>", encoding="utf-8")
    return [out / "index.html"]


@dataclass
class _FakeAssembleur:
    out: Path
    annee: int
    fail: bool

    def lancer(self, pool) -> list[Future]:
        return [pool.submit(_fake_render, self.out, self.annee, self.fail)]


@dataclass
class _FakeJeu:
    assembleur: _FakeAssembleur

    def finir(self, rendus: list[Path]) -> list[Path]:
        return rendus


def _options(tmp_path: Path, **kwargs) -> run.RunOptions:
    return run.RunOptions(layout=DataLayout(tmp_path / "data"), params={}, annees=[2023, 2024, 2025],
                          thematiques=["petite_enfance"], reports_dir=tmp_path / "reports", jobs=2, **kwargs)


def test_years_are_published_together_and_each_swapped_in_whole(tmp_path, monkeypatch):
    planned = []

    def plan(layout, params, annee, thematiques, interim, out, periodes):
        planned.append((annee, os.getpid()))
        return _FakeJeu(_FakeAssembleur(out, annee, fail=False))

    monkeypatch.setattr(assemble, "plan_report_set", plan)
    messages = []
    opts = _options(tmp_path, on_progress=messages.append)
    run._publish_years(opts, [2023, 2024, 2025])
    assert planned == [(2023, os.getpid()), (2024, os.getpid()), (2025, os.getpid())]  # planned here, rendered
    # by the worker processes
    for annee in (2023, 2024, 2025):
        target = run.report_dir(opts.reports_dir, opts.layout.territoire, annee)
        assert (target / "index.html").read_text(encoding="utf-8") == f"<p>{annee}</p>"
    assert messages == [f"rapports {a} publiés" for a in (2023, 2024, 2025)]
    assert not [p for p in (opts.reports_dir / opts.layout.territoire).iterdir() if p.name.startswith(".")]


def test_a_failed_render_publishes_nothing_more_and_leaves_no_staging(tmp_path, monkeypatch):
    opts = _options(tmp_path)
    old = run.report_dir(opts.reports_dir, opts.layout.territoire, 2024)
    old.mkdir(parents=True)
    (old / "index.html").write_text("ancien", encoding="utf-8")

    def plan(layout, params, annee, thematiques, interim, out, periodes):
        return _FakeJeu(_FakeAssembleur(out, annee, fail=annee == 2024))

    monkeypatch.setattr(assemble, "plan_report_set", plan)
    with pytest.raises(OSError, match="disque plein"):
        run._publish_years(opts, [2023, 2024, 2025])
    assert (old / "index.html").read_text(encoding="utf-8") == "ancien"  # the published set is untouched
    assert not run.report_dir(opts.reports_dir, opts.layout.territoire, 2025).exists()
    assert not [p for p in old.parent.iterdir() if p.name.startswith(".")]
    publish.recover(old.parent)


def test_each_year_is_announced_once_its_notebooks_are_executed(tmp_path, monkeypatch):
    """stage_execute runs the notebooks year after year and calls `annee_prete` as soon as a year has none left
    (years with nothing to execute at the first notebook done), in year order."""
    from pipeline import execute

    evenements = []

    def run_all(jobs, workers, timeout, fork, on_done):
        for job in jobs:
            evenements.append(f"{job.thematique} {job.annee}")
            on_done(job)

    monkeypatch.setattr(execute, "run_all", run_all)
    monkeypatch.setattr(run, "notebook_keys", lambda opts, jobs: {job: f"cle {job.annee}" for job in jobs})
    opts = _options(tmp_path)
    opts.params, opts.annees = {"chapitres": ["impact_social"]}, [2022, 2023, 2024, 2025]
    registre = run.incremental.Registre(run.interim_dir(opts.layout) / run.incremental.CLES_NOTEBOOKS)
    for th in ("petite_enfance", "impact_social"):  # 2022 is up to date: nothing to execute
        sortie = execute.executed_path(run.interim_dir(opts.layout), 2022, th)
        sortie.parent.mkdir(parents=True, exist_ok=True)
        sortie.write_text("{}", encoding="utf-8")
        registre.noter(sortie, "cle 2022")
    registre.enregistrer()
    run.stage_execute(opts, annee_prete=lambda annee: evenements.append(f"prête {annee}"))
    assert evenements == ["impact_social 2023", "prête 2022", "petite_enfance 2023", "prête 2023",
                          "impact_social 2024", "petite_enfance 2024", "prête 2024",
                          "impact_social 2025", "petite_enfance 2025", "prête 2025"]


def test_plans_are_made_ahead_in_one_thread_and_unused_ones_leave_no_staging(tmp_path, monkeypatch):
    import threading

    from pipeline.plans import Plans

    planned = []

    def plan(layout, params, annee, thematiques, interim, out, periodes):
        planned.append((annee, threading.current_thread().name))
        if annee == 2025:
            raise ValueError("plan impossible")
        return _FakeJeu(_FakeAssembleur(out, annee, fail=False))

    monkeypatch.setattr(assemble, "plan_report_set", plan)
    monkeypatch.setattr(run, "set_up_to_date", lambda opts, annee, *a, **k: annee == 2023)
    opts = _options(tmp_path)
    with Plans(opts) as plans:
        for annee in (2023, 2024, 2025):
            plans.preparer(annee)
        jeu = plans.jeu(2024)
        assert jeu.assembleur.annee == 2024 and jeu.assembleur.out.is_dir()
        with pytest.raises(ValueError, match="plan impossible"):  # a failed plan is raised where it is used
            plans.jeu(2025)
        assert plans.jeu(2023).assembleur.annee == 2023  # up to date, so not planned ahead: planned when asked
    assert planned[:2] == [(2024, "ctg-plan_0"), (2025, "ctg-plan_0")]  # 2023 skipped ahead
    assert planned[2] == (2023, threading.current_thread().name)
    assert not list((opts.reports_dir / opts.layout.territoire).iterdir())  # no staging folder left


def _python(code: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300,
                          env={**os.environ, **env})


def test_typst_compiles_in_a_child_process(tmp_path):
    """The publishing process never loads the Typst compiler (its caches would grow with every document)."""
    code = f"""
import sys, datetime
from pathlib import Path
from pipeline.render import Document, get_engine
doc = Document(title="Essai", date=datetime.date(2025, 12, 31), body="# Titre\\n\\nUn paragraphe.", stem="essai")
pdf, = get_engine("pandoc-typst").render(doc, Path({str(tmp_path)!r}), ("pdf",))
assert pdf.read_bytes().startswith(b"%PDF")
print("typst" in sys.modules)
"""
    proc = _python(code)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "False"


def test_the_iri_parser_is_not_imported_by_pipeline_processes():
    code = "import pipeline, jsonschema, nbformat, sys; print('lark' in sys.modules)"
    proc = _python(code)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "False"
    try:
        import importlib.util
        installed = importlib.util.find_spec("rfc3987_syntax") is not None
    except ValueError:
        installed = False
    if installed:  # the escape hatch restores jsonschema's usual behaviour
        proc = _python(code, CTG_RFC3987="1")
        assert proc.stdout.strip() == "True", proc.stderr


def test_a_nested_template_scope_shares_the_running_template():
    from pipeline import execute, kernels

    if not kernels.fork_enabled(None):
        pytest.skip("kernels are not forked on this system")
    with kernels.template_scope(True, execute.KERNEL_NAME) as outer:
        pid = kernels.template_pid()
        with kernels.template_scope(True, execute.KERNEL_NAME) as inner:
            assert inner is outer and kernels.template_pid() == pid
        assert kernels.template_pid() == pid  # the inner block did not stop it
        template = kernels._state.template
        assert template.alive()
    assert not template.alive()


def test_render_tasks_import_neither_pandas_nor_the_report_code():
    """A publishing worker unpickles `pipeline.render.taches` functions: it stays small."""
    proc = _python("import sys, pipeline.render.taches; "
                   "print(sorted(m for m in ('pandas', 'matplotlib', 'nbformat', 'typst', 'pipeline.report') "
                   "if m in sys.modules))")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]"


def test_prepared_tables_are_installed_from_the_staging_folder(tmp_path):
    """The preparation writes into a staging folder (side by side with the checks); installing moves every file
    and drops the fingerprint files of thématiques it no longer wrote."""
    from pipeline.prepare import install

    staging, processed = tmp_path / ".preparation", tmp_path / "processed"
    for name, text in {"indicateurs.parquet": "neuf", "empreintes.json": "{}", "empreintes/enfance.json": "e"}.items():
        (staging / name).parent.mkdir(parents=True, exist_ok=True)
        (staging / name).write_text(text, encoding="utf-8")
    for name in ("indicateurs.parquet", "empreintes/ancienne.json", "empreintes/enfance.json", "autre.txt"):
        (processed / name).parent.mkdir(parents=True, exist_ok=True)
        (processed / name).write_text("vieux", encoding="utf-8")
    install(staging, processed)
    assert (processed / "indicateurs.parquet").read_text(encoding="utf-8") == "neuf"
    assert (processed / "empreintes" / "enfance.json").read_text(encoding="utf-8") == "e"
    assert not (processed / "empreintes" / "ancienne.json").exists()
    assert (processed / "autre.txt").exists()  # not the preparation's: left alone
    assert not [p for p in staging.rglob("*") if p.is_file()]


def test_the_kernel_template_can_start_as_soon_as_the_tables_are_prepared(sample_data, tmp_path):
    """`on_prepared` (ctg run starts the kernel template there) comes once the tables are prepared, before they
    are installed (the checks may still be running), once; and at once when validation and preparation are
    skipped because nothing changed."""
    import shutil

    from pipeline.config import load_params

    shutil.copytree(sample_data / "raw", tmp_path / "data" / "raw")
    layout = DataLayout(tmp_path / "data")
    messages, calls = [], []
    opts = run.RunOptions(layout=layout, params=load_params(), annees=[2025], thematiques=["petite_enfance"],
                          reports_dir=tmp_path / "reports", on_progress=messages.append)
    run.stage_validate_prepare(opts, on_prepared=lambda: calls.append(layout.processed.exists()))
    assert calls == [False] and layout.processed.is_dir()  # called before the tables were installed
    run.stage_validate_prepare(opts, on_prepared=lambda: calls.append("inchangé"))
    assert calls == [False, "inchangé"]
    assert "données inchangées : validation et préparation déjà faites" in messages


def test_staging_folders_of_dead_runs_are_removed(tmp_path):
    """A run killed while preparing leaves its staging folder; the next run removes it, not a live run's."""
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    mort = tmp_path / f"{run.PREPARATION_STAGING}{dead.stdout.strip()}"
    vivant = tmp_path / f"{run.PREPARATION_STAGING}{os.getpid()}"
    for folder in (mort, vivant):
        (folder / "processed").mkdir(parents=True)
    (tmp_path / "autre").mkdir()
    run.remove_dead_stagings(tmp_path)
    assert not mort.exists() and vivant.is_dir() and (tmp_path / "autre").is_dir()
