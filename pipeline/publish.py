"""Publish a report set: build in a staging folder, then swap it into place atomically.

Whatever happens during a run (bad input, exception, Ctrl-C, SIGKILL), the published folder
`reports/<territoire>/<annee>/` is either the previous set, untouched, or the new complete set — never a mix, never
half-written. Staging folders and swapped-out sets are hidden siblings (`.staging-*`, `.ancien-*`) removed by
`recover()` at the start of the next run.
"""

from __future__ import annotations

import ctypes
import os
import shutil
import uuid
from pathlib import Path

_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


def staging_dir(target: Path) -> Path:
    """A fresh, empty staging folder next to `target` (same filesystem, so the final rename is atomic)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    path = target.parent / f".staging-{target.name}-{uuid.uuid4().hex[:8]}"
    path.mkdir()
    return path


def _exchange(a: Path, b: Path) -> bool:
    """Atomically swap two paths with renameat2(RENAME_EXCHANGE). False if the system cannot."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    renameat2.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    res = renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE)
    return res == 0


def publish(staging: Path, target: Path) -> Path:
    """Replace `target` by the complete `staging` folder in one atomic step; return target."""
    if not target.exists():
        os.rename(staging, target)
        return target
    if _exchange(staging, target):
        shutil.rmtree(staging)  # now holds the previous set
        return target
    # Fallback without renameat2: two renames; recover() restores the old set if we die in between.
    old = target.parent / f".ancien-{target.name}-{uuid.uuid4().hex[:8]}"
    os.rename(target, old)
    os.rename(staging, target)
    shutil.rmtree(old)
    return target


def recover(parent: Path, only: str | None = None) -> None:
    """Clean up after an interrupted run: drop staging folders, restore a set left swapped out.

    `only`: the name of one set (e.g. "2024") — leave other sets' folders alone (another year may be being
    published at the same time, by a parallel worker)."""
    if not parent.is_dir():
        return
    for path in sorted(parent.iterdir()):
        if only is not None and not path.name.startswith((f".staging-{only}-", f".ancien-{only}-")):
            continue
        if path.name.startswith(".staging-"):
            shutil.rmtree(path, ignore_errors=True)
        elif path.name.startswith(".ancien-"):
            name = path.name[len(".ancien-"):].rsplit("-", 1)[0]
            if (parent / name).exists():
                shutil.rmtree(path, ignore_errors=True)
            else:
                os.rename(path, parent / name)
