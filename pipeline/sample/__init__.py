"""Deterministic generator of the illustrative 2021-2025 dataset (`ctg echantillon`, `python -m pipeline.sample`).

Real inputs it reads (never writes): the territory's communes, INSEE legal populations and the referential
(`ctg.yaml`). Illustrative files it writes: the Caf exports in `raw/caf/`, the local sheets in
`raw/territoires/<siren>/suivi/<annee>/`, and the marker `raw/ILLUSTRATION.md` that reports test with
`is_illustrative(layout)` to show a « Données d'illustration » banner. Same seed, same bytes.

Sheet formats vary on purpose so that every reader is exercised: 2021 and 2024 UTF-8 `;`; 2022 as re-saved by
Excel (Windows-1252, decimal commas, dates JJ/MM/AAAA); 2023 UTF-8 with BOM and `,`; 2025 XLSX with title rows
above the header.
"""

from __future__ import annotations

from pathlib import Path

from pipeline.config import DataLayout
from pipeline.sample.writers import COMMA_UTF8, EXCEL_FR, PLAIN_UTF8, write_csv, write_xlsx

SEED = "ctg-montelimar-2021-2025"
MARKER = "ILLUSTRATION.md"
SHEET_FORMATS = {2021: PLAIN_UTF8, 2022: EXCEL_FR, 2023: COMMA_UTF8, 2024: PLAIN_UTF8, 2025: "xlsx"}
SHEET_TITLES = {"equipements": "Équipements et structures", "activite": "Activité des structures",
                "actions": "Suivi des actions de la CTG", "financements": "Financements"}
MARKER_TEXT = """# Données d'illustration

Les fichiers suivants sont **fictifs** : ils ont été produits par le générateur `ctg echantillon`
(`pipeline/sample/`, graine `{seed}`) pour illustrer le pipeline d'évaluation de la CTG.
Ils reprennent les faits de la convention et les populations légales réelles, mais leurs valeurs
ne sont pas des données observées et ne doivent pas être citées.

- `raw/caf/` : exports Caf (s_ben_com_f, ndur_s_qf_400_com_f, txcouv_pe_*, nbpla_pe_epci) ;
- `raw/territoires/{siren}/suivi/2021` à `2025` : feuilles de suivi locales (equipements, activite,
  actions, financements).

Remplacez ces fichiers par les exports réels et les feuilles de suivi réelles, puis supprimez ce fichier :
les rapports n'afficheront plus le bandeau « Données d'illustration ».
"""


def is_illustrative(layout: DataLayout) -> bool:
    """True when the data directory holds the sample's marker `raw/ILLUSTRATION.md` (reports show a banner)."""
    return (layout.raw / MARKER).is_file()


def _write_sheet(folder: Path, name: str, header: list[str], rows: list[list], year: int) -> Path:
    for suffix in (".csv", ".xlsx"):
        (folder / f"{name}{suffix}").unlink(missing_ok=True)
    fmt = SHEET_FORMATS[year]
    if fmt == "xlsx":
        titles = [f"Montélimar Agglomération — suivi de la CTG {year}", SHEET_TITLES[name]]
        return write_xlsx(folder / f"{name}.xlsx", header, rows, titles)
    return write_csv(folder / f"{name}.csv", header, rows, fmt)


def generate(target: Path, source: DataLayout | None = None, seed: str = SEED) -> list[Path]:
    """Write the illustrative files below `target` (a data directory); real inputs are read from `source`
    (default: the same data directory). Returns the written paths."""
    from pipeline.inputs.vocabulary import load_vocabulary
    from pipeline.referential import load_referentiel
    from pipeline.sample import suivi_sheets as sheets
    from pipeline.sample.caf_exports import population, write_caf_exports
    from pipeline.sample.structures import STRUCTURES, periscolaire_sites
    from pipeline.territory import load_communes, load_populations

    target_layout = DataLayout(Path(target), (source or DataLayout(Path(target))).territoire)
    source = source or target_layout
    communes = load_communes(source)
    table = load_populations(source)
    pops = {code: dict(zip(group["millesime"], group["population_municipale"].astype(float)))
            for code, group in table[table["code_insee"].isin(communes["code_insee"])].groupby("code_insee")}
    pairs = list(zip(communes["code_insee"].astype(str), communes["commune"].astype(str)))
    actions = load_referentiel(source.referentiel).actions_frame()
    units = {code: entry["unite"] for code, entry in load_vocabulary().entries["indicateurs_activite"].items()}

    written = write_caf_exports(target_layout.caf, pairs, pops, source.territoire, seed)
    structures = STRUCTURES + periscolaire_sites([(c, n, population(pops, c, 2021)) for c, n in pairs])
    for year in sheets.YEARS:
        pop_epci = sum(population(pops, c, year) for c, _ in pairs)
        folder = target_layout.suivi(year)
        folder.mkdir(parents=True, exist_ok=True)
        written += [
            _write_sheet(folder, "equipements", sheets.EQUIPEMENTS_HEADER, sheets.equipements_rows(structures, year), year),
            _write_sheet(folder, "activite", sheets.ACTIVITE_HEADER,
                         sheets.activite_rows(structures, year, pop_epci, units, seed), year),
            _write_sheet(folder, "actions", sheets.ACTIONS_HEADER, sheets.actions_rows(actions, year, seed), year),
            _write_sheet(folder, "financements", sheets.FINANCEMENTS_HEADER,
                         sheets.financements_rows(structures, year, seed), year),
        ]
    marker = target_layout.raw / MARKER
    marker.write_text(MARKER_TEXT.format(seed=seed, siren=source.territoire), encoding="utf-8")
    return [*written, marker]
