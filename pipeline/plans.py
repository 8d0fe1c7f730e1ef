"""Report sets planned ahead: a year's set is planned (`assemble.plan_report_set`, Python work in this process) in a
background thread as soon as the year's notebooks are executed, while the other notebooks still run, instead of
after the last notebook. Its renders are still queued only after every notebook (`run._publish_years`): the render
workers and Typst never compete with the kernels for memory.

    with plans.Plans(opts, en_avance=True) as p:
        run.stage_execute(opts, annee_prete=p.preparer)   # plans each year whose notebooks are all executed
        run.stage_publish_all(opts, pool, p)              # takes the plans made (or plans what is missing)

One thread, years planned one at a time (`plan_report_set` is not meant to run twice at once in one process). A
year is planned ahead only when its set will be published (same test as `run.stage_publish_all`); a plan not used
is dropped with its staging folder when the block ends, as are the staging folders of a failed run.
"""

from __future__ import annotations

import shutil
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pipeline.assemble import Jeu
    from pipeline.run import RunOptions


class Plans:
    def __init__(self, opts: RunOptions, en_avance: bool = True) -> None:
        self.opts = opts
        self._fil = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ctg-plan") if en_avance else None
        self._futurs: dict[int, Future] = {}
        self._decisions: dict[int, tuple[str | None, bool]] = {}  # annee -> (publish key, set up to date)
        self.stagings: list[Path] = []  # every staging folder made by a plan (published ones no longer exist)

    def __enter__(self) -> Plans:
        return self

    def __exit__(self, *exc) -> None:
        if self._fil is not None:
            self._fil.shutdown(wait=True, cancel_futures=True)
        for staging in self.stagings:
            shutil.rmtree(staging, ignore_errors=True)

    def preparer(self, annee: int) -> None:
        """The notebooks of `annee` are all executed: plan its set in the background if it is to be published."""
        if self._fil is not None and annee not in self._futurs:
            self._futurs[annee] = self._fil.submit(self._si_a_publier, annee)

    def jeu(self, annee: int) -> Jeu:
        """The planned set of `annee` (waits for a plan under way; plans now when none was made ahead)."""
        futur = self._futurs.get(annee)
        jeu = futur.result() if futur is not None else None  # a failed plan raises here
        return jeu if jeu is not None else self._planifier(annee)

    def decision(self, annee: int) -> tuple[str | None, bool]:
        """(`run.publish_key`, `run.set_up_to_date`) of the year, as found ahead, or now. Valid once the year's
        notebooks are executed."""
        if annee not in self._decisions:
            from pipeline import run

            cle = run.publish_key(self.opts, annee)
            self._decisions[annee] = cle, run.set_up_to_date(self.opts, annee, cle)
        return self._decisions[annee]

    def _si_a_publier(self, annee: int) -> Jeu | None:
        return None if self.decision(annee)[1] else self._planifier(annee)

    def _planifier(self, annee: int) -> Jeu:
        from pipeline import assemble, publish, run

        staging = publish.staging_dir(run.report_dir(self.opts.reports_dir, self.opts.layout.territoire, annee))
        self.stagings.append(staging)
        return assemble.plan_report_set(self.opts.layout, self.opts.params, annee, self.opts.thematiques,
                                        run.interim_dir(self.opts.layout), staging, tuple(self.opts.periodes))
