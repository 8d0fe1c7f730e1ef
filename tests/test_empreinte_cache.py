"""Fingerprints computed fast but unchanged: `empreinte` hashes many slices of one table in one call, with exactly
the values of hashing each slice on its own (the values are cache keys of `ctg run` and printed in captions), and
`Contexte.lignes` computes each slice once."""

from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd
import pytest

from pipeline.empreinte import empreinte
from pipeline.report.contexte import Contexte


def une_par_une(*frames: pd.DataFrame) -> str:
    """The definition of the fingerprint: each frame hashed on its own (columns in name order)."""
    h = hashlib.sha256()
    for frame in frames:
        colonnes = sorted(map(str, frame.columns))
        h.update(repr([(c, str(frame[c].dtype)) for c in colonnes]).encode())
        h.update(len(frame).to_bytes(8, "little"))
        if len(frame) and colonnes:
            h.update(pd.util.hash_pandas_object(frame[colonnes], index=False, categorize=False).to_numpy().tobytes())
    return h.hexdigest()


def table() -> pd.DataFrame:
    """An indicator table like the processed one: text (Arrow-backed `str`), integers, floats with NaN, booleans."""
    n = 60
    rng = np.random.default_rng(0)
    return pd.DataFrame({
        "annee": np.repeat([2021, 2022, 2023, 2024], n // 4),
        "indicateur": pd.array([f"ind_{i % 5}" for i in range(n)], dtype="str"),
        "niveau": pd.array(["epci", "commune", "qpv"] * (n // 3), dtype="str"),
        "code_geo": pd.array([f"26{i % 7:03d}" if i % 11 else None for i in range(n)], dtype="str"),
        "valeur": np.where(np.arange(n) % 9 == 0, np.nan, rng.normal(size=n)),
        "secret": np.arange(n) % 13 == 0,
        "millesime": np.full(n, 2024),
        "source": pd.array(["Caf - txcouv_pe"] * n, dtype="str"),
    })


def test_valeurs_inchangees_depuis_la_version_frame_par_frame():
    # values computed by the previous implementation (one hash_pandas_object call per frame): they are the cache
    # keys of already built projects (empreintes.json) and must not move
    t = pd.DataFrame({"indicateur": pd.array(["a", "a", "b", "b"], dtype="str"), "annee": [2022, 2023, 2022, 2023],
                      "valeur": [1.5, np.nan, 3.0, 4.25], "secret": [False, False, True, False]})
    assert empreinte(t) == "1a3e43465643230329b4060217746e37e4f75cb726938619ebcb18a9d45f4e0e"
    assert empreinte(t.iloc[:2], t.iloc[2:], t.iloc[:0]) == (
        "6936ea216b1b3592fa76fae21263c093ca3d04eb3910aa18f9b15c0e5cf5caf0")


def test_tranches_d_une_table_comme_une_par_une():
    t = table()
    tranches = [t[(t["indicateur"] == i) & (t["niveau"] == n)] for i in t["indicateur"].unique()
                for n in ("epci", "commune", "qpv", "france")]  # "france": empty slices in between
    tranches += [t[t["annee"] <= 2022], t.iloc[:0], t[["valeur", "annee"]].iloc[5:9], t[t.columns[::-1]].iloc[3:7]]
    assert empreinte(*tranches) == une_par_une(*tranches)
    # still order-sensitive, and every row counts
    assert empreinte(*tranches[::-1]) != empreinte(*tranches)
    modifiee = t.copy()
    modifiee.loc[17, "valeur"] = 123.0
    assert empreinte(*[modifiee.loc[x.index, x.columns] for x in tranches]) != empreinte(*tranches)


@pytest.mark.parametrize("x, y", [
    # object: pandas hashes a whole column as text when one value is not text (a tuple is hashed otherwise)
    (pd.Series([(1, 2), "a", None], dtype=object), pd.Series([3, "b"], dtype=object)),
    # Arrow: converted through NumPy as integers without nulls, as floats or objects with nulls
    (pd.array([1, 2, 3], dtype="int64[pyarrow]"), pd.array([None, 4], dtype="int64[pyarrow]")),
    (pd.Categorical(["x", "y", None], categories=["y", "x"]), pd.Categorical(["x", "x"], categories=["x", "y"])),
    (pd.array([1, None, 3], dtype="Int64"), pd.array([4, 5], dtype="Int64")),
    (pd.to_datetime(["2024-01-01", None, "2024-03-01"]).tz_localize("Europe/Paris"),
     pd.to_datetime(["2025-01-01", "2025-02-01"]).tz_localize("Europe/Paris")),
])
def test_autres_types_comme_une_par_une(x, y):
    a = pd.DataFrame({"x": x, "annee": [2021, 2022, 2023]})
    b = pd.DataFrame({"x": y, "annee": [2024, 2025]})
    for frames in [(a, b), (b, a, a.iloc[1:], b.iloc[:0]), (a[["annee"]], b, a)]:
        assert empreinte(*frames) == une_par_une(*frames)


def test_lignes_calculees_une_fois_et_justes():
    t = table()
    ctx = Contexte(territoire="26000", annee=2023, thematique="enfance", indicateurs=t,
                   catalogue=pd.DataFrame(), actions=pd.DataFrame(), cibles=pd.DataFrame(),
                   communes=pd.DataFrame({"code_insee": [], "commune": []}), geometries={})
    g = ctx.lignes("ind_1", "commune")
    attendu = t[(t["indicateur"] == "ind_1") & (t["niveau"] == "commune") & (t["annee"] <= 2023)]
    pd.testing.assert_frame_equal(g, attendu.sort_values("annee"))
    assert ctx.lignes("ind_1", "commune") is g  # the same frame: computed once
    code = g["code_geo"].dropna().iloc[0]
    lieu = ctx.lignes("ind_1", "commune", code)
    pd.testing.assert_frame_equal(lieu, g[g["code_geo"] == code])
    assert ctx.lignes("ind_1", "commune", code) is lieu
    assert ctx.lignes("absent", "epci").empty and list(ctx.lignes("absent", "epci").columns) == list(t.columns)
