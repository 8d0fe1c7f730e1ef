"""Measuring one command (or a sequence of commands) of a benchmark: wall time, CPU of all processes, memory.

The bench process makes itself a child subreaper, so that processes orphaned during a run (daemonised helpers,
templates of dead workers) come back to it and are counted. While a run goes on, a thread samples every 0.1 s the
process tree below the bench process — which is exactly the run, since the bench runs one thing at a time — and
keeps the peak of the summed RSS and the largest RSS of a single process. The summed PSS (shared pages split
between the processes sharing them, e.g. forked kernels and their template) is read every 1 s only: reading it
costs ~70 times more than the RSS, and sampling must not eat the 2 cores it measures. The sampler's own CPU is
recorded. CPU is user + system time of all descendants (getrusage RUSAGE_CHILDREN, before/after).
"""

from __future__ import annotations

import ctypes
import os
import resource
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass

import psutil

PR_SET_CHILD_SUBREAPER = 36
SAMPLE_EVERY = 0.1  # seconds
PSS_EVERY = 10  # samples
REAP_TIMEOUT = 30.0  # seconds to wait for orphans left running at the end of a run


@dataclass
class Mesure:
    """Figures of one measured run (memory in bytes)."""

    wall: float = 0.0
    cpu: float = 0.0
    peak_rss: int = 0  # peak of the summed RSS of all processes of the run
    peak_pss: int = 0  # peak of the summed PSS of all processes of the run
    max_rss: int = 0  # largest RSS of a single process
    sampler_cpu: float = 0.0  # CPU used by the sampling thread itself (not part of `cpu`)


def become_subreaper() -> None:
    """Orphaned descendants are re-parented to this process (Linux; a no-op elsewhere)."""
    try:
        ctypes.CDLL(None).prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
    except (OSError, AttributeError):
        pass


def reap_orphans(timeout: float = REAP_TIMEOUT) -> None:
    """Wait for re-parented processes still running, so that their CPU is counted (gives up after `timeout`)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            time.sleep(0.05)


class TreeSampler(threading.Thread):
    """Samples the memory of every descendant of this process until `stop()`."""

    def __init__(self, mesure: Mesure) -> None:
        super().__init__(daemon=True)
        self.mesure = mesure
        self._stop_event = threading.Event()

    def run(self) -> None:
        me = psutil.Process()
        count = 0
        while not self._stop_event.is_set():
            with_pss = count % PSS_EVERY == 0
            rss = pss = 0
            for proc in me.children(recursive=True):
                try:
                    info = proc.memory_full_info() if with_pss else proc.memory_info()
                except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
                    continue
                rss += info.rss
                pss += info.pss if with_pss else 0
                self.mesure.max_rss = max(self.mesure.max_rss, info.rss)
            self.mesure.peak_rss = max(self.mesure.peak_rss, rss)
            self.mesure.peak_pss = max(self.mesure.peak_pss, pss)
            count += 1
            self._stop_event.wait(SAMPLE_EVERY)
        self.mesure.sampler_cpu = time.thread_time()

    def stop(self) -> None:
        self._stop_event.set()
        self.join()


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


@contextmanager
def mesurer():
    """`with mesurer() as m: run(...)` fills `m` (a Mesure) with the figures of everything run in the block."""
    mesure = Mesure()
    sampler = TreeSampler(mesure)
    cpu_before = _children_cpu()
    start = time.perf_counter()
    sampler.start()
    try:
        yield mesure
    finally:
        mesure.wall = time.perf_counter() - start
        sampler.stop()
        reap_orphans()
        mesure.cpu = _children_cpu() - cpu_before
