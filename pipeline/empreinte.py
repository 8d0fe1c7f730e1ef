"""Content fingerprints ("empreintes") of data: the same rows give the same sha256, on any machine.

Used for the provenance line under every figure and table (a short hash of the data it was computed from), for
the methodology chapter (the same hashes in full) and for the incremental build (a notebook reruns only when the
data it reads changed).
"""

from __future__ import annotations

import hashlib
from typing import Iterable

import pandas as pd

COURTE = 8  # hex digits shown in captions


def empreinte(*frames: pd.DataFrame) -> str:
    """sha256 (hex) of the rows of `frames`, in their order, with their column names and dtypes.

    Row order matters (processed tables are written sorted, so slices of them are deterministic); the index does
    not. pandas' `hash_pandas_object` uses a fixed key, so the value is the same across runs and machines.
    """
    h = hashlib.sha256()
    for frame in frames:
        colonnes = sorted(map(str, frame.columns))
        h.update(repr([(c, str(frame[c].dtype)) for c in colonnes]).encode())
        h.update(len(frame).to_bytes(8, "little"))
        if len(frame) and colonnes:
            valeurs = pd.util.hash_pandas_object(frame[colonnes], index=False, categorize=False)
            h.update(valeurs.to_numpy().tobytes())
    return h.hexdigest()


def courte(hexa: str) -> str:
    """The short form printed in captions (first 8 hex digits)."""
    return hexa[:COURTE]


def combiner(empreintes: Iterable[str]) -> str:
    """One fingerprint for several (order-sensitive)."""
    h = hashlib.sha256()
    for e in empreintes:
        h.update(e.encode())
    return h.hexdigest()
