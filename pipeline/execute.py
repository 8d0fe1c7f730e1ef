"""Execute the parameterized thematic notebooks with papermill (stage `execute`).

One notebook run = one fresh kernel, discarded afterwards. Runs go in parallel in worker processes; a kernel that
fails to start (papermill's known race on kernel ports) is retried. Executed notebooks are normalised: papermill's
timestamps, durations and kernel details are removed so that the same inputs give the same bytes.
"""

from __future__ import annotations

import logging
import os
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Iterable

if TYPE_CHECKING:
    import nbformat

from pipeline.config import NOTEBOOKS_DIR, ROOT

log = logging.getLogger(__name__)

KERNEL_NAME = "python3"
START_RETRIES = 3
# Errors raised while a kernel starts (port race, slow start) — worth a retry, unlike an error in a cell.
_RETRYABLE = (
    "Address already in use", "Kernel died before replying", "Kernel didn't respond", "ZMQError", "KernelStartError",
)


class ExecutionError(RuntimeError):
    """A notebook failed; the message is in French and names the notebook."""


@dataclass(frozen=True)
class Job:
    thematique: str
    annee: int
    territoire: str
    data_dir: Path
    output: Path
    notebook: Path | None = None

    @property
    def source(self) -> Path:
        return self.notebook or NOTEBOOKS_DIR / f"{self.thematique}.ipynb"

    def parameters(self, cwd: Path | None = None) -> dict:
        """The notebook's parameters. `data_dir` is absolute, or relative to `cwd` (the kernel's working
        directory) when it lies below it: an executed notebook must not depend on where the project is."""
        data_dir = Path(self.data_dir).resolve()
        if cwd is not None and data_dir.is_relative_to(Path(cwd).resolve()):
            data_dir = data_dir.relative_to(Path(cwd).resolve())
        return {
            "territoire": self.territoire,
            "annee": int(self.annee),
            "data_dir": data_dir.as_posix(),
            "thematique": self.thematique,
        }


def executed_path(interim: Path, annee: int, thematique: str) -> Path:
    """Where the executed notebook of (annee, thematique) is written."""
    return interim / str(annee) / "notebooks" / f"{thematique}.ipynb"


_VOLATILE_NB_KEYS = ("papermill", "widgets")
_VOLATILE_CELL_KEYS = ("papermill", "execution", "collapsed", "scrolled")


def normalise(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Drop run-specific metadata (timestamps, durations, versions) so outputs depend on inputs only."""
    for key in _VOLATILE_NB_KEYS:
        nb.metadata.pop(key, None)
    nb.metadata.pop("language_info", None)
    for cell in nb.cells:
        for key in _VOLATILE_CELL_KEYS:
            cell.metadata.pop(key, None)
        cell.pop("id", None)
        if cell.cell_type == "code":
            cell.execution_count = None
            for out in cell.get("outputs", []):
                if "execution_count" in out:
                    out["execution_count"] = None
    nb.nbformat_minor = 4
    return nb


def run_one(job: Job, timeout: int = 600, fork: bool | None = None) -> Path:
    """Execute one notebook with papermill into job.output (written atomically).

    fork: params.yaml `execution.fork` (None = default on); the kernel is then forked from a pre-imported
    template process (pipeline.kernels), unless CTG_KERNEL_FORK=0.
    """
    import papermill as pm
    from papermill.exceptions import PapermillExecutionError

    from pipeline import kernels

    manager = kernels.kernel_manager_class(fork)
    engine_kwargs = {"kernel_manager_class": manager} if manager else {}
    job.output.parent.mkdir(parents=True, exist_ok=True)
    tmp = job.output.with_suffix(f".{os.getpid()}.tmp.ipynb")
    for attempt in range(1, START_RETRIES + 1):
        try:
            nb = pm.execute_notebook(
                str(job.source),
                str(tmp),
                parameters=job.parameters(cwd=ROOT),
                kernel_name=KERNEL_NAME,
                cwd=str(ROOT),
                progress_bar=False,
                log_output=False,
                execution_timeout=timeout,
                report_mode=False,
                **engine_kwargs,
            )
            break
        except PapermillExecutionError as exc:
            tmp.unlink(missing_ok=True)
            raise ExecutionError(
                f"Le notebook « {job.thematique} » ({job.annee}) a échoué dans la cellule {exc.exec_count} : "
                f"{exc.ename} : {exc.evalue}"
            ) from exc
        except KeyboardInterrupt:
            tmp.unlink(missing_ok=True)  # Ctrl-C: leave no half-written notebook behind
            raise
        except Exception as exc:  # kernel start problems: retry, then give up with a French message
            tmp.unlink(missing_ok=True)
            if attempt < START_RETRIES and any(marker in repr(exc) for marker in _RETRYABLE):
                log.warning("kernel start failed (%s), retry %d", exc, attempt)
                time.sleep(0.2 * attempt)
                continue
            raise ExecutionError(
                f"Impossible d'exécuter le notebook « {job.thematique} » ({job.annee}) : {exc}"
            ) from exc
    import nbformat  # imported here: its import costs seconds, and the publish stage needs only executed_path

    nbformat.write(normalise(nb), str(tmp))
    os.replace(tmp, job.output)
    return job.output


def _start_worker(template, parent: int) -> None:
    """Pool worker initializer: die with the parent (a SIGKILLed run leaves no worker waiting on the task queue,
    see pipeline.orphans), then use the parent's kernel template."""
    from pipeline import kernels, orphans

    orphans.die_with_parent(parent)
    kernels.attach(template)


def run_all(
    jobs: Iterable[Job],
    workers: int = 0,
    timeout: int = 600,
    on_done: Callable[[Job], None] | None = None,
    fork: bool | None = None,
) -> list[Path]:
    """Execute every job, `workers` at a time (0 = number of cores). Stops at the first failure.

    With forking on (see run_one), one template process serves the whole call, workers included, and is
    stopped before returning.
    """
    from pipeline import kernels

    jobs = list(jobs)
    workers = workers or os.cpu_count() or 1
    with kernels.template_scope(bool(jobs) and kernels.fork_enabled(fork), KERNEL_NAME) as template:
        if workers == 1 or len(jobs) <= 1:
            paths = []
            for job in jobs:
                paths.append(run_one(job, timeout, fork))
                if on_done:
                    on_done(job)
            return paths
        results: dict[Job, Path] = {}
        with ProcessPoolExecutor(
            max_workers=min(workers, len(jobs)), initializer=_start_worker, initargs=(template, os.getpid())
        ) as pool:
            futures = {pool.submit(run_one, job, timeout, fork): job for job in jobs}
            try:
                for fut in as_completed(futures):
                    job = futures[fut]
                    results[job] = fut.result()  # re-raises ExecutionError
                    if on_done:
                        on_done(job)
            except BaseException:
                pool.shutdown(wait=True, cancel_futures=True)  # the notebooks not started yet never start
                raise
        return [results[job] for job in jobs]
