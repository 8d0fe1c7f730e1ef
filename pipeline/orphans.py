"""Child processes that die with their parent, so that a SIGKILLed `ctg run` (kill -9, OOM killer) leaves no
pool worker or pandoc process behind; spawned pool workers that end without tearing their interpreter down.

Dying with the parent is Linux only (prctl PR_SET_PDEATHSIG through ctypes); elsewhere it is a no-op. The kernel sends the
signal when the *thread* that created the child ends: start children from a thread that outlives them (the main
thread for the worker pool; pandoc is started and waited for by the same render thread).
"""

from __future__ import annotations

import atexit
import ctypes
import gc
import logging
import os
import signal
import sys
import threading
from typing import Callable, NoReturn

PR_SET_PDEATHSIG = 1


def _load_prctl() -> Callable[..., int] | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None
    prctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong]
    prctl.restype = ctypes.c_int
    return prctl


_PRCTL = _load_prctl()  # resolved at import: `die_with_parent` may run between fork and exec


def supported() -> bool:
    return _PRCTL is not None


def die_with_parent(parent: int) -> None:
    """Have this process SIGKILLed when its parent ends; `parent` is the pid of the expected parent.

    If the parent ended before the request took effect (this process was already reparented), exit at once.
    """
    if _PRCTL is None:
        return
    _PRCTL(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != parent:
        os._exit(1)


def child_dies_with_us() -> Callable[[], None] | None:
    """A `preexec_fn` for subprocess.Popen: the child is SIGKILLed when this process ends; None where unsupported.

    It only calls prctl and getppid (prctl is resolved at import): nothing that could wait, between fork and exec,
    on a lock held by another thread (CPython resets its own locks in the child before calling preexec_fn).
    """
    if _PRCTL is None:
        return None
    parent = os.getpid()
    return lambda: die_with_parent(parent)


def pool_worker(parent: int, nice: int = 0) -> None:
    """Initializer of the pipeline's spawned worker processes: die with `parent` (`die_with_parent`), lower the
    priority by `nice` (inherited by the processes the worker starts), and end without freeing the heap once the
    pool stops (`exit_without_teardown`)."""
    die_with_parent(parent)
    if nice:
        os.nice(nice)
    atexit.register(exit_without_teardown)  # registered first, so run last: after the handlers of what tasks import


def exit_without_teardown() -> None:
    """atexit handler: flush logging and stdio, then end the process at once. A spawned interpreter otherwise frees
    every module and object at exit: ~1.2 s of wall time and ~1.8 s of CPU for one that built a great-expectations
    context (measured), while its pool's owner waits for it. Handlers registered before this one are skipped: a
    worker has two, logging's (called here) and multiprocessing's (already run when the worker's main returned)."""
    logging.shutdown()
    _flush_stdio()
    os._exit(0)


def end_process(code: int = 0, collect: bool = False) -> NoReturn:
    """End like the interpreter does — wait for non-daemon threads, run every atexit handler, flush stdio — but
    without freeing the heap (module teardown; ~0.6 s for `ctg run`'s process after planning a report set,
    measured). `collect`: run the cyclic garbage collector first, so that objects in cycles are finalised."""
    threading._shutdown()  # what interpreter shutdown calls first
    atexit._run_exitfuncs()
    if collect:
        gc.collect()
    _flush_stdio()
    os._exit(code)


def _flush_stdio() -> None:
    for stream in (sys.stdout, sys.stderr):
        if stream is not None:
            stream.flush()
