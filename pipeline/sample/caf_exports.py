"""Illustrative Caf open-data exports with the real traps.

Magnitudes follow the real legal populations (millésime N-3, nearest available for earlier years); rates per
household are illustrative. Traps reproduced: counts rounded to the nearest multiple of 5 and left blank below 5,
placeholder rows (`numcomdo="XXXXX"`, `numepci="XX"`), coverage published two years late (2019-2023), the commune
coverage file holding Montélimar only (the only commune over 10,000 inhabitants), a global coverage rate computed
from unrounded places (so it differs from the sum of the rounded partial rates).
"""

from __future__ import annotations

import random
from pathlib import Path

from pipeline.sample.structures import MONTELIMAR, STRUCTURES
from pipeline.sample.writers import CAF_EXPORT, write_csv

CAF_YEARS = range(2020, 2025)        # December 2020 … December 2024 (published the following year)
COVERAGE_YEARS = range(2019, 2024)   # coverage of year N is published around N+2
EPCI_NAME = "CA Montélimar Agglomération"
S_BEN_FIELDS = ["indfoy_ndur", "indnbp_ndur", "indfoy_af", "indfoy_cf", "indfoy_asf", "indfoy_ab", "indfoy_cmg",
                "indfoy_apl", "indfoy_als", "indfoy_alf", "indfoy_ndural", "indfoy_ndurpaje", "indfoy_rsa",
                "indfoy_ppa", "indmtt_rsa", "indmtt_ppa"]
# share of allocataire households receiving each benefit: (Montélimar, other communes)
SHARES = {"indfoy_af": (0.35, 0.40), "indfoy_cf": (0.07, 0.08), "indfoy_asf": (0.09, 0.05), "indfoy_ab": (0.10, 0.11),
          "indfoy_cmg": (0.05, 0.08), "indfoy_apl": (0.30, 0.12), "indfoy_als": (0.17, 0.08), "indfoy_alf": (0.05, 0.03),
          "indfoy_rsa": (0.125, 0.055), "indfoy_ppa": (0.26, 0.23)}
RSA_TREND = {2020: 1.06, 2021: 1.02, 2022: 0.98, 2023: 0.97, 2024: 0.98}
PPA_TREND = {2020: 0.95, 2021: 0.97, 2022: 1.00, 2023: 1.06, 2024: 1.07}
QF_BANDS = ["Moins de 400 euros", "Entre 400 et 799 euros", "Entre 800 et 1199 euros", "Entre 1200 et 1599 euros",
            "Entre 1600 et 1999 euros", "Entre 2000 et 2399 euros", "Entre 2400 et 2799 euros",
            "Entre 2800 et 3199 euros", "Entre 3200 et 3599 euros", "Entre 3600 et 3999 euros",
            "4000 euros ou plus", "Inconnu"]
QF_SHARES = {True: [0.22, 0.24, 0.17, 0.11, 0.07, 0.05, 0.03, 0.02, 0.015, 0.01, 0.02, 0.045],
             False: [0.11, 0.18, 0.19, 0.15, 0.10, 0.07, 0.05, 0.03, 0.02, 0.015, 0.03, 0.055]}
COVERAGE_PARTS = ["psu_col", "hors_psu_col", "eaje", "prescol", "am_ind", "gad_ind", "ind"]


def caf_round(value: float) -> int | None:
    """Caf secrecy: nearest multiple of 5; blank (None) below 5."""
    if value < 5:
        return None
    return int(5 * round(value / 5))


def population(pops: dict, code: str, year: int) -> float:
    """Legal population in force in `year` (millésime N-3, nearest millésime when absent)."""
    by_millesime = pops[code]
    millesime = min(by_millesime, key=lambda m: (abs(m - (year - 3)), m))
    return float(by_millesime[millesime])


def s_ben(communes: list[tuple[str, str]], pops: dict, rng: random.Random) -> tuple[list[str], list[list]]:
    header = ["dtreffre", "numcomdo", "nomcom", *S_BEN_FIELDS]
    rows = []
    for year in CAF_YEARS:
        for code, name in communes:
            urban = code == MONTELIMAR
            households = population(pops, code, year) * (0.205 if urban else 0.165) * rng.uniform(0.97, 1.03)
            counts = {f: households * SHARES[f][0 if urban else 1] * rng.uniform(0.92, 1.08) for f in SHARES}
            counts["indfoy_rsa"] *= RSA_TREND[year]
            counts["indfoy_ppa"] *= PPA_TREND[year]
            counts["indfoy_ndural"] = counts["indfoy_apl"] + counts["indfoy_als"] + counts["indfoy_alf"]
            counts["indfoy_ndurpaje"] = counts["indfoy_ab"] + 0.6 * counts["indfoy_cmg"]
            values = {"indfoy_ndur": caf_round(households),
                      "indnbp_ndur": caf_round(households * (2.25 if urban else 2.55) * rng.uniform(0.98, 1.02))}
            values |= {f: caf_round(v) for f, v in counts.items()}
            rsa, ppa = values["indfoy_rsa"], values["indfoy_ppa"]
            values["indmtt_rsa"] = None if rsa is None else int(round(rsa * rng.uniform(590, 640), -2))
            values["indmtt_ppa"] = None if ppa is None else int(round(ppa * rng.uniform(175, 200), -2))
            rows.append([f"{year}-12", code, name, *(values[f] for f in S_BEN_FIELDS)])
        rows.append([f"{year}-12", "XXXXX", "Commune inconnue", *(caf_round(12) for _ in S_BEN_FIELDS)])
    return header, rows


def qf(communes: list[tuple[str, str]], pops: dict, rng: random.Random) -> tuple[list[str], list[list]]:
    header = ["dtreffre", "numcomdo", "nomcom", "qf_400", "indfoy_ndur", "indnbp_ndur"]
    rows = []
    for year in CAF_YEARS:
        for code, name in communes:
            urban = code == MONTELIMAR
            households = population(pops, code, year) * (0.205 if urban else 0.165)
            for band, share in zip(QF_BANDS, QF_SHARES[urban]):
                n = households * share * rng.uniform(0.9, 1.1)
                rows.append([f"{year}-12", code, name, band, caf_round(n), caf_round(n * rng.uniform(2.2, 2.8))])
    return header, rows


def _under3(population_total: float, year: int, rate: float) -> float:
    return population_total * rate * (1 - 0.012 * (year - 2019))


def _places(year: int, codes: set[str]) -> dict[str, float]:
    """Collective places open at the end of `year` in the given communes (from the sample's structures)."""
    def open_end(s):
        return s.code_insee in codes and s.open_fraction(year) > 0 and (s.fermeture is None or s.fermeture.year > year)
    psu = sum(s.capacity(year) or 0 for s in STRUCTURES if s.type in ("eaje_psu", "creche_familiale") and open_end(s))
    micro = sum(s.capacity(year) or 0 for s in STRUCTURES if s.type == "micro_creche" and open_end(s))
    return {"psu_col": psu, "hors_psu_col": micro}


def coverage(pops: dict, communes: list[tuple[str, str]], territoire: str, rng: random.Random) -> dict[str, tuple]:
    """txcouv_pe_{epci,com,dep,nat} and nbpla_pe_epci tables."""
    epci_codes = {code for code, _ in communes}
    tables: dict[str, tuple[list[str], list[list]]] = {}
    rate_rows = {"epci": [], "com": [], "dep": [], "nat": []}
    place_rows = []
    for year in COVERAGE_YEARS:
        for level, codes, under3_rate, private_micro, am in (
            ("epci", epci_codes, 0.0295, 24.0, 760 - 17 * (year - 2019)),
            ("com", {MONTELIMAR}, 0.032, 12.0, 385 - 9 * (year - 2019)),
        ):
            total_pop = sum(population(pops, c, year) for c in codes)
            children = _under3(total_pop, year, under3_rate)
            places = _places(year, codes)
            places["hors_psu_col"] += private_micro
            places["prescol"] = children * rng.uniform(0.032, 0.038)
            places["am_ind"] = am * rng.uniform(0.98, 1.02)
            places["gad_ind"] = children * rng.uniform(0.006, 0.009)
            places["eaje"] = places["psu_col"] + places["hors_psu_col"]
            places["ind"] = places["am_ind"] + places["gad_ind"]
            total = places["eaje"] + places["prescol"] + places["ind"]
            rates = [round(total / children * 100, 1)] + [round(places[p] / children * 100, 1) for p in COVERAGE_PARTS]
            key = (territoire, EPCI_NAME) if level == "epci" else (MONTELIMAR, "Montélimar")
            rate_rows[level].append([year, *key, *rates])
            if level == "epci":
                place_rows.append([year, *key, *(int(round(places[p])) for p in COVERAGE_PARTS), int(round(total))])
        for level, key, parts in (("dep", ("26", "Drôme"), (17.6, 3.2, 3.1, 40.2, 0.9)),
                                  ("nat", (), (19.4, 4.6, 3.4, 31.0, 1.9))):
            psu, hors, prescol, am, gad = (p * rng.uniform(0.98, 1.02) for p in parts)
            am *= 1 - 0.015 * (year - 2019)
            values = {"psu_col": psu, "hors_psu_col": hors * (1 + 0.06 * (year - 2019)), "prescol": prescol,
                      "am_ind": am, "gad_ind": gad}
            values["eaje"] = values["psu_col"] + values["hors_psu_col"]
            values["ind"] = values["am_ind"] + values["gad_ind"]
            total = values["eaje"] + values["prescol"] + values["ind"]
            rate_rows[level].append([year, *key, round(total, 1), *(round(values[p], 1) for p in COVERAGE_PARTS)])
    for year in COVERAGE_YEARS:   # placeholder rows of the EPCI files
        rate_rows["epci"].append([year, "XX", "Non réparti", *([None] * (len(COVERAGE_PARTS) + 1))])
        place_rows.append([year, "XX", "Non réparti", *([None] * (len(COVERAGE_PARTS) + 1))])
    keys = {"epci": ["numepci", "nomepci"], "com": ["numcom", "nomcom"], "dep": ["numdep", "nomdep"], "nat": []}
    for level, rows in rate_rows.items():
        header = ["annee", *keys[level], f"txcouv_{level}", *(f"txcouv_{p}_{level}" for p in COVERAGE_PARTS)]
        tables[f"txcouv_pe_{level}"] = (header, rows)
    tables["nbpla_pe_epci"] = (["annee", "numepci", "nomepci", *(f"pl_{p}_epci" for p in COVERAGE_PARTS),
                                "tot_offre_epci"], place_rows)
    return tables


def write_caf_exports(folder: Path, communes: list[tuple[str, str]], pops: dict, territoire: str, seed: str) -> list[Path]:
    """Write the seven Caf exports into `folder` (the sample's `raw/caf/`)."""
    tables = {
        "s_ben_com_f": s_ben(communes, pops, random.Random(f"{seed}-s_ben")),
        "ndur_s_qf_400_com_f": qf(communes, pops, random.Random(f"{seed}-qf")),
        **coverage(pops, communes, territoire, random.Random(f"{seed}-txcouv")),
    }
    return [write_csv(folder / f"{name}.csv", header, rows, CAF_EXPORT) for name, (header, rows) in sorted(tables.items())]
