"""Child processes that die with their parent, so that a SIGKILLed `ctg run` (kill -9, OOM killer) leaves no
pool worker or pandoc process behind.

Linux only (prctl PR_SET_PDEATHSIG through ctypes); elsewhere every function is a no-op. The kernel sends the
signal when the *thread* that created the child ends: start children from a thread that outlives them (the main
thread for the worker pool; pandoc is started and waited for by the same render thread).
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys
from typing import Callable

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
