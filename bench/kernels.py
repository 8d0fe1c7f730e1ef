"""Benchmark: papermill's plain kernels vs kernels forked from the template process (pipeline.kernels).

Not a test. Usage (from the repository root)::

    .venv/bin/python bench/kernels.py [--notebooks 6] [--repeat 3] [--workers 2]

N small notebooks (pandas + matplotlib + seaborn, one chart each) are executed with `execute.run_all`, each run in
a fresh Python process so that template start and stop are paid by every run, as by a `ctg run`. Configurations:
plain and forked, sequential and with W workers, plus forked with one template per worker (the alternative to the
shared template). Timing runs are interleaved and repeated; a separate run per configuration samples memory
(sampling would perturb the timings). Printed: medians, ratios, CPU of all processes, peak memory.
"""

from __future__ import annotations

import argparse
import ctypes
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from functools import partial
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_notebook

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from pipeline import execute  # noqa: E402

CONFIGS = {
    "plain, sequential": {"fork": False, "workers": 1},
    "forked, sequential": {"fork": True, "workers": 1},
    "plain, W workers": {"fork": False, "workers": 0},
    "forked, W workers, shared template": {"fork": True, "workers": 0},
    "forked, W workers, template per worker": {"fork": True, "workers": 0, "per_worker": True},
}

CHART = """\
import numpy as np
import pandas as pd
import matplotlib.pyplot as plt
import seaborn as sns

rng = np.random.default_rng(int(annee))
df = pd.DataFrame({
    "annee": np.repeat(np.arange(2019, 2026), 4),
    "commune": ["Montélimar", "Pierrelatte", "Cléon-d'Andran", "Sauzet"] * 7,
    "valeur": rng.integers(50, 500, 28),
})
fig, ax = plt.subplots(figsize=(6, 3.5))
sns.lineplot(data=df, x="annee", y="valeur", hue="commune", marker="o", ax=ax)
ax.set_title(f"Thématique {thematique}")
plt.show()
df.groupby("commune")["valeur"].describe()
"""


def write_notebooks(folder: Path, count: int) -> list[execute.Job]:
    jobs = []
    for i in range(count):
        nb = new_notebook(cells=[
            new_code_cell(f'territoire = "x"\nannee = {2020 + i}\ndata_dir = "."\nthematique = "t{i}"',
                          metadata={"tags": ["parameters"]}),
            new_code_cell(CHART),
        ])
        nb.metadata.kernelspec = {"name": "python3", "display_name": "Python 3", "language": "python"}
        path = folder / f"t{i}.ipynb"
        nbformat.write(nb, str(path))
        jobs.append(execute.Job(f"t{i}", 2020 + i, "x", folder, folder / "out" / f"t{i}.ipynb", notebook=path))
    return jobs


class PssSampler(threading.Thread):
    """Peak of the summed PSS (shared pages split between sharers) of a process and all its descendants.

    Runs in the parent of the measured process: a sampling thread inside it would be inherited, mid-lock, by the
    worker processes it forks.
    """

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid = pid
        self.peak = 0
        self.running = True

    def run(self) -> None:
        import psutil

        try:
            root = psutil.Process(self.pid)
        except psutil.NoSuchProcess:
            return
        while self.running:
            total = 0
            try:
                procs = [root, *root.children(recursive=True)]
            except psutil.NoSuchProcess:
                return
            for proc in procs:
                try:
                    total += proc.memory_full_info().pss
                except (psutil.NoSuchProcess, psutil.AccessDenied):
                    pass
            self.peak = max(self.peak, total)
            time.sleep(0.1)


def reap_orphans() -> None:
    """Wait for re-parented processes (templates of dead workers) so that their usage is counted."""
    while True:
        try:
            os.waitpid(-1, 0)
        except ChildProcessError:
            return


def one_run(config: dict, jobs: list[execute.Job], workers: int) -> dict:
    """One measured run, in its own process. Returns wall time, CPU of all processes, largest RSS."""
    ctypes.CDLL(None).prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER: orphans come back to us for accounting
    start = time.perf_counter()
    if config.get("per_worker"):
        with ProcessPoolExecutor(workers) as pool:  # no initializer: each worker starts its own template
            list(pool.map(partial(execute.run_one, fork=True), jobs))
    else:
        execute.run_all(jobs, workers=config["workers"] or workers, fork=config["fork"])
    wall = time.perf_counter() - start
    reap_orphans()
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return {
        "wall": wall,
        "cpu": own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime,
        "max_rss_mb": children.ru_maxrss / 1024,  # largest single descendant (kB on Linux)
    }


def spawn_run(name: str, folder: Path, count: int, workers: int, memory: bool) -> dict:
    """Run one configuration in a fresh process; with `memory`, sample its memory from here."""
    args = [sys.executable, __file__, "--run", name, "--dir", str(folder), "--notebooks", str(count),
            "--workers", str(workers)]
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        proc = subprocess.Popen(args, stdout=out, stderr=err, text=True)
        sampler = PssSampler(proc.pid) if memory else None
        if sampler:
            sampler.start()
        proc.wait()
        if sampler:
            sampler.running = False
            sampler.join()
        out.seek(0)
        err.seek(0)
        if proc.returncode != 0:
            raise SystemExit(f"{name} failed:\n{err.read()[-3000:]}")
        result = json.loads(out.read().strip().splitlines()[-1])
    result["peak_pss_mb"] = sampler.peak / 2**20 if sampler else None
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--notebooks", type=int, default=6)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--run", help=argparse.SUPPRESS)
    parser.add_argument("--dir", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.run:  # child: one measured run
        jobs = write_notebooks(Path(args.dir), args.notebooks)
        print(json.dumps(one_run(CONFIGS[args.run], jobs, args.workers)))
        return

    os.environ.pop("CTG_KERNEL_FORK", None)
    print(f"{args.notebooks} notebooks, {args.repeat} repetitions, W = {args.workers} workers, "
          f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}")
    times: dict[str, list[float]] = {name: [] for name in CONFIGS}
    cpu: dict[str, list[float]] = {name: [] for name in CONFIGS}
    memory: dict[str, dict] = {}
    with tempfile.TemporaryDirectory(prefix="ctg-bench-") as tmp:
        for rep in range(args.repeat):
            for name in CONFIGS:
                result = spawn_run(name, Path(tmp), args.notebooks, args.workers, memory=False)
                times[name].append(result["wall"])
                cpu[name].append(result["cpu"])
                print(f"  run {rep + 1}: {name:42s} {result['wall']:6.2f} s", flush=True)
        for name in CONFIGS:
            memory[name] = spawn_run(name, Path(tmp), args.notebooks, args.workers, memory=True)

    median = {name: statistics.median(values) for name, values in times.items()}
    baseline = {1: median["plain, sequential"], 0: median["plain, W workers"]}
    print(f"\n{'configuration':42s} {'median':>8s} {'min-max':>13s} {'vs plain':>9s} {'CPU':>7s} "
          f"{'peak PSS':>9s} {'max RSS':>8s}")
    for name, config in CONFIGS.items():
        print(f"{name:42s} {median[name]:7.2f}s {min(times[name]):5.2f}-{max(times[name]):5.2f} s "
              f"{median[name] / baseline[config['workers']]:8.2f}x {statistics.median(cpu[name]):6.1f}s "
              f"{memory[name]['peak_pss_mb']:7.0f}MB {memory[name]['max_rss_mb']:6.0f}MB")
    print("\nvs plain: median / median of plain with the same parallelism. CPU: user+system of all processes.\n"
          "peak PSS: peak of the summed proportional memory of all processes of the run (sampled every 0.1 s).\n"
          "max RSS: largest resident size reached by a single child process (getrusage RUSAGE_CHILDREN).")


if __name__ == "__main__":
    main()
