"""The whole pipeline, in order: validate → prepare → execute → render → publish.

`ctg run` calls `run()`; `dvc repro` calls the same stage functions one by one (see dvc.yaml), so both give the
same outputs. Each stage is a plain function you can read top to bottom.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from pipeline import execute
from pipeline.config import DataLayout


@dataclass
class RunOptions:
    layout: DataLayout
    params: dict
    annees: list[int]
    thematiques: list[str]
    reports_dir: Path = Path("reports")
    jobs: int = 0
    on_progress: Callable[[str], None] = field(default=lambda message: None)
    periodes: list[str] = field(default_factory=list)  # semester COPIL pages to add (S1, S2)


def interim_dir(layout: DataLayout) -> Path:
    """Intermediate products (executed notebooks, validation report) below the data directory."""
    return layout.data_dir / "interim" / layout.territoire


def report_dir(reports_dir: Path, territoire: str, annee: int | str) -> Path:
    return Path(reports_dir) / territoire / str(annee)


def stage_validate(layout: DataLayout, params: dict):
    """Run every data check; raise checks.DataError (exit 2) before anything is computed."""
    from pipeline import checks

    return checks.validate_or_raise(layout, params, output=interim_dir(layout) / "validation.json")


def stage_check_processed(layout: DataLayout, params: dict, raw_result=None):
    """Check the processed tables just written (contract, secrecy); raise checks.DataError (exit 2) if broken."""
    from pipeline import checks

    return checks.validate_processed_or_raise(layout, params, raw_result,
                                              output=interim_dir(layout) / "validation.json")


def stage_prepare(layout: DataLayout, params: dict) -> dict[str, Path]:
    from pipeline.prepare import prepare

    return prepare(layout, params)


def execution_jobs(layout: DataLayout, annees: list[int], thematiques: list[str]) -> list[execute.Job]:
    interim = interim_dir(layout)
    return [
        execute.Job(th, annee, layout.territoire, layout.data_dir, execute.executed_path(interim, annee, th))
        for annee in annees
        for th in thematiques
    ]


def chapters(params: dict) -> list[str]:
    """Notebooks executed every year besides the thématiques (params.yaml `chapitres`, e.g. impact_social)."""
    return list(params.get("chapitres", []))


def stage_execute(opts: RunOptions) -> list[Path]:
    jobs = execution_jobs(opts.layout, opts.annees, opts.thematiques + chapters(opts.params))
    timeout = int(opts.params.get("execution", {}).get("timeout", 600))
    workers = opts.jobs or int(opts.params.get("execution", {}).get("jobs", 0))
    return execute.run_all(
        jobs, workers=workers, timeout=timeout, fork=opts.params.get("execution", {}).get("fork"),
        on_done=lambda job: opts.on_progress(f"{job.thematique} {job.annee}"),
    )


def stage_publish(layout: DataLayout, params: dict, annee: int, thematiques: list[str], reports_dir: Path,
                  periodes: list[str] | tuple[str, ...] = ()) -> Path:
    """Render the year's report set (plus the COPIL page of each semester in `periodes`) into a staging folder and
    swap it into reports/ atomically."""
    from pipeline import assemble, publish

    target = report_dir(reports_dir, layout.territoire, annee)
    publish.recover(target.parent)
    staging = publish.staging_dir(target)
    try:
        assemble.build_report_set(layout, params, annee, thematiques, interim_dir(layout), staging, periodes)
    except BaseException:
        import shutil

        shutil.rmtree(staging, ignore_errors=True)
        raise
    return publish.publish(staging, target)


def run(opts: RunOptions) -> list[Path]:
    """Validate, prepare, execute every (thématique, année), then publish one report set per year."""
    from pipeline import publish

    publish.recover(Path(opts.reports_dir) / opts.layout.territoire)
    opts.on_progress("validation des données")
    checked = stage_validate(opts.layout, opts.params)
    opts.on_progress("préparation des tables")
    stage_prepare(opts.layout, opts.params)
    stage_check_processed(opts.layout, opts.params, checked)
    stage_execute(opts)
    published = []
    for annee in opts.annees:
        published.append(stage_publish(opts.layout, opts.params, annee, opts.thematiques, opts.reports_dir,
                                       opts.periodes))
        opts.on_progress(f"rapports {annee} publiés")
    return published
