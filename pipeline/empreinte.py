"""Content fingerprints ("empreintes") of data: the same rows give the same sha256, on any machine.

Used for the provenance line under every figure and table (a short hash of the data it was computed from), for
the methodology chapter (the same hashes in full) and for the incremental build (a notebook reruns only when the
data it reads changed).
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from typing import Iterable, Sequence

import numpy as np
import pandas as pd

COURTE = 8  # hex digits shown in captions


def empreinte(*frames: pd.DataFrame) -> str:
    """sha256 (hex) of the rows of `frames`, in their order, with their column names and dtypes.

    Row order matters (processed tables are written sorted, so slices of them are deterministic); the index does
    not. pandas' `hash_pandas_object` uses a fixed key, so the value is the same across runs and machines.
    """
    types = [dict(zip(map(str, frame.columns), frame.dtypes)) for frame in frames]
    h = hashlib.sha256()
    for frame, types_frame, valeurs in zip(frames, types, _hachages_des_lignes(frames, types)):
        h.update(repr([(c, str(types_frame[c])) for c in sorted(types_frame)]).encode())
        h.update(len(frame).to_bytes(8, "little"))
        h.update(valeurs)
    return h.hexdigest()


def _hachages_des_lignes(frames: Sequence[pd.DataFrame], types: Sequence[dict]) -> list[bytes]:
    """Each frame's row hashes (`hash_pandas_object` of its columns in name order, as bytes; b"" for a frame with
    no row or no column); `types`: each frame's {column name: dtype}.

    For the dtypes of `_par_ligne`, a row's hash depends on that row's values only, so frames with the same columns
    and such dtypes are hashed in one call on their concatenation (figures are often drawn from dozens of small
    slices of one table), then split. Other frames are hashed one by one: pandas hashes a whole object column as
    text when one of its values is not text, and an Arrow column through a NumPy conversion that depends on
    whether the column has nulls."""
    groupes: dict[tuple, list[int]] = defaultdict(list)
    for i, (frame, types_frame) in enumerate(zip(frames, types)):
        if len(frame) and types_frame:
            par_ligne = all(_par_ligne(t) for t in types_frame.values())
            groupes[tuple(types_frame.items()) if par_ligne else ("seule", i)].append(i)
    resultat = [b""] * len(frames)
    for membres in groupes.values():
        morceaux = [frames[i] for i in membres]
        ensemble = pd.concat(morceaux, ignore_index=True) if len(morceaux) > 1 else morceaux[0]
        valeurs = pd.util.hash_pandas_object(ensemble[sorted(types[membres[0]])], index=False, categorize=False)
        bornes = np.cumsum([len(m) for m in morceaux])[:-1]
        for i, morceau in zip(membres, np.split(valeurs.to_numpy(), bornes)):
            resultat[i] = morceau.tobytes()
    return resultat


def _par_ligne(dtype) -> bool:
    """Whether pandas hashes each value of a column of this dtype on its own (see `_hachages_des_lignes`)."""
    if isinstance(dtype, np.dtype):
        return dtype.kind in "biufcmM"
    return isinstance(dtype, (pd.StringDtype, pd.CategoricalDtype, pd.DatetimeTZDtype))


def courte(hexa: str) -> str:
    """The short form printed in captions (first 8 hex digits)."""
    return hexa[:COURTE]


def combiner(empreintes: Iterable[str]) -> str:
    """One fingerprint for several (order-sensitive)."""
    h = hashlib.sha256()
    for e in empreintes:
        h.update(e.encode())
    return h.hexdigest()
