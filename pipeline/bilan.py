"""The final evaluation of the convention (« bilan »): `ctg bilan`, DVC stage `bilan`.

    reports/<siren>/bilan_<début>_<fin>/bilan_<début>_<fin>.html   one self-contained page
    reports/<siren>/bilan_<début>_<fin>/bilan_<début>_<fin>.pdf    the same as an A4 PDF
    reports/<siren>/bilan_<début>_<fin>/manifest.json              outputs and inputs with their hashes

The notebook `notebooks/bilan.ipynb` is executed once (papermill, report year = last year of the convention)
into `DIR/interim/<siren>/bilan/`, rendered into a staging folder and swapped into place atomically
(`pipeline.publish`), like the yearly report sets. The period comes from the referential (`convention.periode`).
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Callable

import nbformat

from pipeline import execute, manifest, publish
from pipeline.config import DataLayout
from pipeline.impact.donnees import lire_enseignements, lire_indice_prix
from pipeline.referential import load_referentiel
from pipeline.render import Document, get_engine, notebook_to_markdown
from pipeline.run import interim_dir, stage_check_processed, stage_prepare, stage_validate
from pipeline.sample import is_illustrative

NOTEBOOK = "bilan"


def periode(layout: DataLayout) -> tuple[int, int]:
    """First and last year of the convention (referential)."""
    p = load_referentiel(layout.referentiel).convention.periode
    return int(p.debut), int(p.fin)


def nom_dossier(layout: DataLayout) -> str:
    debut, fin = periode(layout)
    return f"bilan_{debut}_{fin}"


def dossier_bilan(reports_dir: Path, layout: DataLayout) -> Path:
    return Path(reports_dir) / layout.territoire / nom_dossier(layout)


def notebook_execute(layout: DataLayout) -> Path:
    return interim_dir(layout) / "bilan" / "notebooks" / f"{NOTEBOOK}.ipynb"


def verifier_entrees(layout: DataLayout) -> None:
    """Read the optional inputs first: a bad evaluators' sheet or price index stops with its file, line and column
    (InputError, exit code 2) instead of failing inside the notebook."""
    ref = load_referentiel(layout.referentiel)
    lire_enseignements(layout, [t.id for t in ref.thematiques])
    lire_indice_prix(layout)


def build_bilan(layout: DataLayout, params: dict, out: Path) -> list[Path]:
    """Execute the bilan notebook, render it (HTML and PDF) into `out` and write the manifest (last)."""
    from pipeline.assemble import BANNER, report_date

    verifier_entrees(layout)
    ref = load_referentiel(layout.referentiel)
    debut, fin = periode(layout)
    job = execute.Job(NOTEBOOK, fin, layout.territoire, layout.data_dir, notebook_execute(layout))
    execute.run_one(job, timeout=int(params.get("execution", {}).get("timeout", 600)))
    territoire = ref.convention.territoire.nom
    doc = Document(
        title=f"Bilan de la Convention territoriale globale {debut}-{fin}",
        subtitle=f"{ref.convention.caf} et {territoire} · évaluation finale",
        territory=territoire, date=report_date(fin),
        body=notebook_to_markdown(nbformat.read(str(job.output), as_version=4), name=NOTEBOOK),
        running_title=f"CTG {territoire} — bilan {debut}-{fin}",
        banner=BANNER if is_illustrative(layout) else "", stem=nom_dossier(layout))
    rendu = params.get("rendu", {})
    formats = tuple(rendu.get("formats", ("html", "pdf")))
    written = get_engine(rendu.get("moteur", "pandoc-typst")).render(doc, out, formats)
    return [*written, manifest.write_manifest(out, layout=layout, params=params, annee=fin)]


def stage_bilan(layout: DataLayout, params: dict, reports_dir: Path) -> Path:
    """Build the final evaluation in a staging folder and swap it into reports/ atomically; return its folder."""
    target = dossier_bilan(reports_dir, layout)
    publish.recover(target.parent)
    staging = publish.staging_dir(target)
    try:
        build_bilan(layout, params, staging)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return publish.publish(staging, target)


def run_bilan(layout: DataLayout, params: dict, reports_dir: Path, preparer: bool = True,
              on_progress: Callable[[str], None] = lambda message: None) -> Path:
    """Validate and prepare the data (unless `preparer` is False: the tables are already there, as in the DVC
    stage), then build and publish the final evaluation."""
    verifier_entrees(layout)
    if preparer:
        on_progress("validation des données")
        checked = stage_validate(layout, params)
        on_progress("préparation des tables")
        stage_prepare(layout, params)
        stage_check_processed(layout, params, checked)
    on_progress("exécution et mise en forme du bilan")
    return stage_bilan(layout, params, reports_dir)
