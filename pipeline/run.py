"""The whole pipeline, in order: validate → prepare → execute → render → publish.

`ctg run` calls `run()`; `dvc repro` calls the same stage functions one by one (see dvc.yaml), so both give the
same outputs. Each stage is a plain function you can read top to bottom.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import threading
from concurrent.futures import Executor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Iterator

from pipeline import incremental
from pipeline.config import DataLayout

if TYPE_CHECKING:  # pipeline.execute imports nbformat and papermill: only when notebooks are executed
    from pipeline import execute
    from pipeline.plans import Plans


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
    cache: bool = True  # reuse what an earlier run produced from the same inputs (pipeline.incremental)


def interim_dir(layout: DataLayout) -> Path:
    """Intermediate products (executed notebooks, validation report) below the data directory."""
    return layout.data_dir / "interim" / layout.territoire


def report_dir(reports_dir: Path, territoire: str, annee: int | str) -> Path:
    return Path(reports_dir) / territoire / str(annee)


def stage_validate(layout: DataLayout, params: dict, cache: bool | None = None):
    """Run every data check; raise checks.DataError (exit 2) before anything is computed. `cache`: reuse the
    results of frames already checked (pipeline.checks.cache; None = unless CTG_CACHE=0)."""
    from pipeline import checks

    return checks.validate_or_raise(layout, params, output=interim_dir(layout) / "validation.json", cache=cache)


def stage_check_processed(layout: DataLayout, params: dict, raw_result=None, cache: bool | None = None):
    """Check the processed tables just written (contract, secrecy); raise checks.DataError (exit 2) if broken."""
    from pipeline import checks

    return checks.validate_processed_or_raise(layout, params, raw_result,
                                              output=interim_dir(layout) / "validation.json", cache=cache)


def stage_prepare(layout: DataLayout, params: dict, out: Path | None = None) -> dict[str, Path]:
    from pipeline.prepare import prepare

    return prepare(layout, params, out)


def execution_jobs(layout: DataLayout, annees: list[int], thematiques: list[str]) -> list[execute.Job]:
    from pipeline import execute

    interim = interim_dir(layout)
    return [
        execute.Job(th, annee, layout.territoire, layout.data_dir, execute.executed_path(interim, annee, th))
        for annee in annees
        for th in thematiques
    ]


def chapters(params: dict) -> list[str]:
    """Notebooks executed every year besides the thématiques (params.yaml `chapitres`, e.g. impact_social)."""
    return list(params.get("chapitres", []))


def notebook_keys(opts: RunOptions, jobs: list[execute.Job]) -> dict[execute.Job, str | None]:
    """Each notebook's key (pipeline.incremental): its data slice is its thématique's, or every thématique's
    ("*") for a chapter such as impact_social."""
    commune = incremental.cle_commune(opts.layout, opts.params)
    empreintes = incremental.lire_empreintes(opts.layout)
    return {
        job: incremental.cle_notebook(
            job.source, job.parameters(), commune,
            empreintes.get(job.thematique if job.thematique in opts.thematiques else "*", {}).get(str(job.annee)))
        for job in jobs
    }


def stage_execute(opts: RunOptions, annee_prete: Callable[[int], object] | None = None) -> list[Path]:
    """Execute the notebooks whose inputs changed since they were last executed (all of them without cache), year
    after year. `annee_prete(annee)` is called once all of a year's notebooks are executed, in year order, from the
    first notebook done on (the workers are forked by then), e.g. to plan that year's report set meanwhile
    (pipeline.plans)."""
    from pipeline import execute

    jobs = execution_jobs(opts.layout, opts.annees, opts.thematiques + chapters(opts.params))
    registre = incremental.Registre(interim_dir(opts.layout) / incremental.CLES_NOTEBOOKS)
    keys = notebook_keys(opts, jobs)
    todo = [job for job in jobs if not (opts.cache and registre.a_jour(job.output, keys[job]))]
    todo.sort(key=lambda job: (job.annee, job.thematique not in chapters(opts.params)))  # chapters (longest) first
    for job in jobs:
        if job not in todo:
            opts.on_progress(f"{job.thematique} {job.annee} (inchangé)")
    timeout = int(opts.params.get("execution", {}).get("timeout", 600))
    workers = opts.jobs or int(opts.params.get("execution", {}).get("jobs", 0))
    restants = {annee: sum(job.annee == annee for job in todo) for annee in opts.annees}

    def annoncer() -> None:
        while restants and next(iter(restants.values())) == 0:
            annee = next(iter(restants))
            del restants[annee]
            if annee_prete is not None:
                annee_prete(annee)

    def done(job: execute.Job) -> None:
        registre.noter(job.output, keys[job])
        opts.on_progress(f"{job.thematique} {job.annee}")
        restants[job.annee] -= 1
        annoncer()
        if not preload:  # the notebook workers are forked by now: import the report code while they work
            preload.append(threading.Thread(target=importlib.import_module, args=("pipeline.assemble",), daemon=True))
            preload[0].start()

    preload: list[threading.Thread] = []

    try:
        execute.run_all(todo, workers=workers, timeout=timeout, fork=opts.params.get("execution", {}).get("fork"),
                        on_done=done)
    finally:
        registre.enregistrer()  # what was executed before a failure is not executed again
    annoncer()  # nothing was executed at all
    return [job.output for job in jobs]


def stage_publish(layout: DataLayout, params: dict, annee: int, thematiques: list[str], reports_dir: Path,
                  periodes: list[str] | tuple[str, ...] = ()) -> Path:
    """Render the year's report set (plus the COPIL page of each semester in `periodes`) into a staging folder and
    swap it into reports/ atomically."""
    from pipeline import assemble, publish

    target = report_dir(reports_dir, layout.territoire, annee)
    publish.recover(target.parent, only=target.name)  # other years may be being published side by side
    staging = publish.staging_dir(target)
    try:
        assemble.build_report_set(layout, params, annee, thematiques, interim_dir(layout), staging, periodes)
    except BaseException:
        import shutil

        shutil.rmtree(staging, ignore_errors=True)
        raise
    return publish.publish(staging, target)


def run_state(opts: RunOptions) -> incremental.Etat:
    """The key of this run (inputs, parameters, code, options) and its outputs: see pipeline.incremental."""
    return incremental.etat_run(opts.layout, opts.annees, opts.thematiques, chapters(opts.params), opts.reports_dir,
                                opts.periodes, interim_dir(opts.layout))


def up_to_date(opts: RunOptions) -> bool:
    """True when an identical run already produced every output and nothing was touched since (cheap check)."""
    return opts.cache and run_state(opts).a_jour()


def stage_validate_prepare(opts: RunOptions, on_prepared: Callable[[], object] | None = None) -> None:
    """Validate, prepare and check the processed tables — skipped when the inputs, parameters and code are those
    of the last successful preparation and its outputs are untouched. `on_prepared()` is called as soon as the
    tables are prepared (while the checks may still run), or at once when all this is skipped.

    Two spawned child processes work side by side: one checks the raw inputs (great-expectations), the other
    prepares the processed tables into a staging folder of data/interim. Only when the checks passed are the tables
    installed into data/processed, then checked by the first child. great-expectations and the data tables
    (~300 MB) leave with the children, so the notebook workers forked next, and the run's peak memory, stay small.
    A data error comes back as the same exception (`checks.DataError`, `InputError`), with its French message."""
    layout, params = opts.layout, opts.params
    registre = incremental.Registre(interim_dir(layout) / incremental.CLES_PREPARATION)
    key = incremental.cle_preparation(layout, params)
    outputs = {str(path) for path in incremental.sorties_preparation(layout, interim_dir(layout))}
    if opts.cache and outputs and outputs == set(registre.entrees) and all(
            registre.a_jour(Path(path), key) for path in outputs):
        opts.on_progress("données inchangées : validation et préparation déjà faites")
        opts.on_progress("tables préparées inchangées")
        if on_prepared is not None:
            on_prepared()
        return
    opts.on_progress("validation des données")
    cache = None if opts.cache else False
    remove_dead_stagings(interim_dir(layout))
    staging = interim_dir(layout) / f"{PREPARATION_STAGING}{os.getpid()}"
    try:
        with _spawned() as validation, _spawned() as preparation:
            checked = validation.submit(stage_validate, layout, params, cache)
            prepared = preparation.submit(stage_prepare, layout, params, staging)
            if prepared.exception() is None and on_prepared is not None:  # waits, raises nothing
                on_prepared()
            checked = checked.result()  # a bad input stops the run here, whatever the preparation did
            prepared.result()
            opts.on_progress("préparation des tables")
            from pipeline.prepare import install

            install(staging, layout.processed)
            validation.submit(check_processed_and_record, layout, params, key, checked, cache).result()
    finally:
        import shutil

        shutil.rmtree(staging, ignore_errors=True)


PREPARATION_STAGING = ".preparation-"  # + the pid of the run preparing tables there


def remove_dead_stagings(interim: Path) -> None:
    """Remove the preparation staging folders of runs that are no longer alive (e.g. killed by the system)."""
    import shutil

    for folder in Path(interim).glob(f"{PREPARATION_STAGING}*"):
        pid = folder.name.removeprefix(PREPARATION_STAGING)
        if not pid.isdigit() or not _alive(int(pid)):
            shutil.rmtree(folder, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process
        return True
    return True


def check_processed_and_record(layout: DataLayout, params: dict, key: str, checked, cache: bool | None) -> None:
    """Check the processed tables just installed, then record the preparation's key (pipeline.incremental)."""
    stage_check_processed(layout, params, checked, cache)
    registre = incremental.Registre(interim_dir(layout) / incremental.CLES_PREPARATION)
    registre.entrees.clear()
    for path in incremental.sorties_preparation(layout, interim_dir(layout)):
        registre.noter(path, key)
    registre.enregistrer()


def _spawned(workers: int = 1, nice: int = 0) -> contextlib.AbstractContextManager[Executor]:
    """`workers` spawned worker processes (not forked: the parent may have threads) that die with us, run at
    niceness `nice` and end without tearing their interpreter down (`orphans.pool_worker`); tasks run there, their
    exceptions are raised here by `.result()`."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    from pipeline import orphans

    return ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn"),
                               initializer=orphans.pool_worker, initargs=(os.getpid(), nice))


def run(opts: RunOptions) -> list[Path]:
    """Validate, prepare, execute every (thématique, année), then publish one report set per year.

    With the cache on (default), whatever an earlier run produced from the same inputs is reused
    (pipeline.incremental); the reports are the same bytes either way.
    """
    from pipeline import publish

    state = run_state(opts)
    state.oublier()  # until this run succeeds
    publish.recover(Path(opts.reports_dir) / opts.layout.territoire)
    from pipeline.plans import Plans

    with contextlib.ExitStack() as pools:
        with contextlib.ExitStack() as template:
            # the kernel template starts once the tables are prepared, and imports while they are checked
            stage_validate_prepare(opts, on_prepared=lambda: template.enter_context(kernel_template(opts)))
            pool = pools.enter_context(render_pool(opts))  # the render workers import while notebooks run
            plans = pools.enter_context(Plans(opts))  # each year's set planned as soon as its notebooks are done
            stage_execute(opts, annee_prete=plans.preparer)
        published = stage_publish_all(opts, pool, plans)
    state.enregistrer()
    return published


def kernel_template(opts: RunOptions):
    """The template process the notebooks' kernels are forked from (pipeline.kernels), started now for the whole
    block, or nothing when forking is off."""
    from pipeline import execute, kernels

    return kernels.template_scope(kernels.fork_enabled(opts.params.get("execution", {}).get("fork")),
                                  execute.KERNEL_NAME)


RENDER_NICE = 10  # niceness of the render workers and their pandoc and Typst processes (see render_pool)


@contextlib.contextmanager
def render_pool(opts: RunOptions) -> Iterator[Executor]:
    """The `--jobs` worker processes that render the report sets (pipeline.render.taches), started now and warmed
    up (each imports the renderer), stopped at exit.

    They run at a lower priority (RENDER_NICE): while they render the queued documents, this process plans the next
    year's set, and every later render waits for that plan; on a busy machine the renders would otherwise slow the
    planning down (measured on two cores: a year's planning ~4.8 s of wall time instead of ~2 s alone). Renders
    have the cores to themselves once the last year is planned."""
    from pipeline.render import taches

    workers = opts.jobs or int(opts.params.get("execution", {}).get("jobs", 0)) or os.cpu_count() or 1
    pool = _spawned(workers, nice=RENDER_NICE)
    try:
        for _ in range(workers):
            pool.submit(taches.pret)
        yield pool
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def publish_key(opts: RunOptions, annee: int) -> str | None:
    """What one year's report set is made of: its executed notebooks, the data checks' report, every-thématique
    data slice of the year, shared inputs, parameters, code and options (None: unknown, always publish)."""
    from pipeline import execute

    interim = interim_dir(opts.layout)
    donnees = incremental.lire_empreintes(opts.layout).get("*", {}).get(str(annee))
    if not donnees:
        return None
    notebooks = [execute.executed_path(interim, annee, th) for th in opts.thematiques + chapters(opts.params)]
    return incremental.cle_notebook(
        interim / "validation.json",
        {"params": opts.params, "thematiques": opts.thematiques, "periodes": list(opts.periodes), "annee": annee,
         "notebooks": incremental.empreinte_fichiers(notebooks, interim),
         "SOURCE_DATE_EPOCH": os.environ.get("SOURCE_DATE_EPOCH", "")},
        incremental.cle_commune(opts.layout, opts.params), donnees)


def refresh_manifest(opts: RunOptions, annee: int) -> None:
    """Rewrite the manifest of a report set that did not need rebuilding (current inputs and code state), as a
    full build would."""
    from pipeline import manifest

    target = report_dir(opts.reports_dir, opts.layout.territoire, annee)
    data = manifest.build_manifest(target, layout=opts.layout, params=opts.params, annee=annee)
    incremental.ecrire_texte(target / manifest.MANIFEST_NAME, manifest.dumps(data))


def published_intact(target: Path) -> bool:
    """True when every output listed in the set's manifest is there, unmodified, and nothing else was added."""
    from pipeline import manifest

    try:
        listed = manifest.read_manifest(target).sorties
    except manifest.ManifestError:
        return False
    present = {p.relative_to(target).as_posix(): p for p in manifest.output_files(target)}
    return set(present) == set(listed) and all(
        incremental.sha256_fichier(present[name]) == out.sha256 for name, out in listed.items())


def set_up_to_date(opts: RunOptions, annee: int, key: str | None) -> bool:
    """True when the year's published set was built from the inputs whose `publish_key` is `key` and is intact."""
    registre = incremental.Registre(interim_dir(opts.layout) / incremental.CLES_PUBLICATION)
    target = report_dir(opts.reports_dir, opts.layout.territoire, annee)
    entree = registre.entrees.get(str(target))
    return bool(opts.cache and key and entree and entree[0] == key and published_intact(target))


def stage_publish_all(opts: RunOptions, pool: Executor | None = None, plans: Plans | None = None) -> list[Path]:
    """Publish every year's report set whose content may have changed (all years' documents rendered together by
    `pool`, see `_publish_years`; `plans`: sets already planned, pipeline.plans); a set whose inputs are those it was
    built from only gets its manifest refreshed."""
    from pipeline.plans import Plans

    registre = incremental.Registre(interim_dir(opts.layout) / incremental.CLES_PUBLICATION)
    decisions = plans or Plans(opts, en_avance=False)
    keys, todo, inchanges = {}, [], []
    for annee in opts.annees:
        keys[annee], a_jour = decisions.decision(annee)
        (inchanges if a_jour else todo).append(annee)
        if not a_jour:
            registre.entrees.pop(str(report_dir(opts.reports_dir, opts.layout.territoire, annee)), None)
    registre.enregistrer()

    def refresh_unchanged() -> None:
        for annee in inchanges:
            refresh_manifest(opts, annee)
            opts.on_progress(f"rapports {annee} inchangés")

    _publish_years(opts, todo, pool, plans, pendant=refresh_unchanged)
    for annee in todo:
        registre.entrees[str(report_dir(opts.reports_dir, opts.layout.territoire, annee))] = [keys[annee], ""]
    registre.entrees = {k: v for k, v in registre.entrees.items() if v[0]}
    registre.enregistrer()
    return [report_dir(opts.reports_dir, opts.layout.territoire, a) for a in opts.annees]


def _publish_years(opts: RunOptions, annees: list[int], pool: Executor | None = None,
                   plans: Plans | None = None, pendant: Callable[[], object] | None = None) -> None:
    """Publish the years' report sets: this process computes each year's pages in turn (`plan_report_set`, unless
    `plans` made them ahead) while `pool` (default: a new `render_pool`) renders whatever is queued, all years
    together; `pendant()` runs once every render is queued; a year is swapped into reports/ once all its renders
    are done. On any failure, the staging folders not yet published are removed."""
    from pipeline.plans import Plans

    if pool is None:
        with render_pool(opts) as own:
            return _publish_years(opts, annees, own, plans, pendant)
    if plans is None:
        with Plans(opts, en_avance=False) as own:
            return _publish_years(opts, annees, pool, own, pendant)
    from pipeline import assemble, publish
    from pipeline.render import cache
    from pipeline.report import memo

    rendus = assemble.render_cache(interim_dir(opts.layout))
    for dossier in (rendus, cache.dossier_des_parties(rendus), memo.emplacement(interim_dir(opts.layout))):
        cache.purger(dossier)  # renders, annual-report chapters and figures unused for a month
    futures: list = []
    try:
        planned = []
        for annee in annees:
            jeu = plans.jeu(annee)
            mine = jeu.assembleur.lancer(pool)
            futures.extend(mine)
            planned.append((annee, jeu, mine))
        if pendant is not None:
            pendant()
        for annee, jeu, mine in planned:
            jeu.finir([chemin for futur in mine for chemin in futur.result()])
            publish.publish(jeu.assembleur.out, report_dir(opts.reports_dir, opts.layout.territoire, annee))
            opts.on_progress(f"rapports {annee} publiés")
    except BaseException:
        for futur in futures:
            futur.cancel()
        for futur in futures:  # let the renders already running end before `plans` removes their folders
            if not futur.cancelled():
                try:
                    futur.exception()
                except BaseException:
                    pass
        raise
