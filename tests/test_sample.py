"""The illustrative dataset: deterministic bytes, committed copy up to date, the convention's facts, Caf traps."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pandas as pd
import pytest

from pipeline.config import DataLayout
from pipeline.inputs.caf import read_caf_file
from pipeline.inputs.common import read_strings
from pipeline.inputs.suivi import read_sheet
from pipeline.sample import MARKER, generate, is_illustrative

ROOT = Path(__file__).resolve().parent.parent
REPO = DataLayout(ROOT / "data")
SUIVI = REPO.territoire_dir / "suivi"


def digest(paths: list[Path], base: Path) -> dict[str, str]:
    return {str(p.relative_to(base)): hashlib.sha256(p.read_bytes()).hexdigest() for p in paths}


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    first, second = tmp_path_factory.mktemp("a"), tmp_path_factory.mktemp("b")
    return digest(generate(first, source=REPO), first), digest(generate(second, source=REPO), second)


def test_generation_is_byte_stable_and_matches_the_committed_files(generated):
    first, second = generated
    assert first == second
    committed = {name: hashlib.sha256((REPO.data_dir / name).read_bytes()).hexdigest() for name in first}
    assert committed == first, "data/raw est périmé : relancez `ctg echantillon`"
    assert len(first) == 7 + 5 * 4 + 1


def test_marker_and_is_illustrative(tmp_path):
    assert is_illustrative(REPO)
    assert "Données d'illustration" in (REPO.raw / MARKER).read_text(encoding="utf-8")
    assert not is_illustrative(DataLayout(tmp_path))


def test_sheet_formats_vary_so_every_reader_is_exercised():
    assert (SUIVI / "2022" / "activite.csv").read_bytes().decode("cp1252").count(",") > 0   # decimal commas
    with pytest.raises(UnicodeDecodeError):
        (SUIVI / "2022" / "equipements.csv").read_bytes().decode("utf-8")
    assert (SUIVI / "2023" / "actions.csv").read_bytes().startswith(b"\xef\xbb\xbfaction_id,")
    xlsx = read_strings(SUIVI / "2025" / "equipements.xlsx", ["structure_id", "nom"])
    assert xlsx["_ligne"].iloc[0] == 5                          # two title rows and a blank row above the header


def test_convention_facts_in_the_structures():
    eq = {year: read_sheet(SUIVI / str(year) / ("equipements.xlsx" if year == 2025 else "equipements.csv"),
                           "equipements") for year in range(2021, 2026)}
    psu_2021 = eq[2021][eq[2021]["type"] == "eaje_psu"]
    assert len(psu_2021) == 12
    cleon = {y: df.loc[df["structure_id"] == "EAJE_CLEON", "capacite"].item() for y, df in eq.items()}
    assert cleon[2023] - cleon[2021] == 5
    nord = eq[2025].set_index("structure_id").loc["EAJE_NORD_MONTELIMAR"]
    assert nord["capacite"] == 44 and nord["date_ouverture"].year == 2024
    assert eq[2025].set_index("structure_id").loc["MC_CENTRE_VILLE", "capacite"] == 12
    assert {"EAJE_BAGATELLE", "EAJE_MINI_POUSS"}.isdisjoint(eq[2025]["structure_id"])
    eustache = eq[2021].set_index("structure_id").loc["EVS_EUSTACHE"]
    assert eustache["date_ouverture"] == pd.Timestamp(2021, 4, 1) and eustache["qpv"] == "Centre ancien"
    assert set(eq[2022].loc[eq[2022]["type"] == "point_numerique_caf", "structure_id"]) == {"PN_COLUCCI", "PN_EUSTACHE"}
    assert eq[2022].set_index("structure_id").loc["CJC_MONTELIMAR", "date_ouverture"] == pd.Timestamp(2022, 9, 1)
    activity = read_sheet(SUIVI / "2024" / "activite.csv", "activite")
    referents = activity[activity["indicateur"] == "etp_referent_familles"].set_index("structure_id")["valeur"]
    assert referents.to_dict() == {"CS_COLUCCI": 1.0, "CS_NOCAZE": 1.0}


def test_some_actions_are_late_or_abandoned():
    actions = read_sheet(SUIVI / "2024" / "actions.csv", "actions")
    assert (actions["statut"] == "reportee").sum() >= 3 and (actions["statut"] == "abandonnee").sum() >= 3
    assert actions.set_index("action_id").loc["enfance.2.02", "statut"] == "realisee"   # 2022 pricing grid


def test_caf_exports_have_plausible_magnitudes_and_the_real_traps():
    s_ben = read_caf_file(REPO.caf / "s_ben_com_f.csv")
    households = s_ben[s_ben["champ"] == "indfoy_ndur"].groupby("annee")["valeur"].sum()
    assert households.between(11500, 13800).all()
    counts = s_ben[s_ben["champ"].str.startswith("indfoy_")]["valeur"].dropna()
    assert (counts % 5 == 0).all()                             # rounded to multiples of 5
    assert s_ben["valeur"].isna().any()                        # blanks for small communes
    raw = (REPO.caf / "s_ben_com_f.csv").read_text(encoding="utf-8-sig")
    assert "XXXXX" in raw and raw.startswith("dtreffre;numcomdo;")
    coverage = read_caf_file(REPO.caf / "txcouv_pe_epci.csv")
    rate = coverage[coverage["champ"] == "txcouv"]
    assert rate["valeur"].between(55, 65).all() and rate["annee"].max() == 2023
    assert ";XX;" in (REPO.caf / "txcouv_pe_epci.csv").read_text(encoding="utf-8-sig")
    com = read_caf_file(REPO.caf / "txcouv_pe_com.csv")
    assert set(com["code_geo"]) == {"26198"}
