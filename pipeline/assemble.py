"""Assemble one year's report set from the executed notebooks (stage `publish`, into a staging folder).

Nothing is executed here: the thematic notebooks were executed once by the `execute` stage; this module only
turns their outputs into documents and renders them.

    <out>/thematiques/<id>.html|.pdf     one report per thématique
    <out>/index.html                     the annual report (synthesis + one chapter per thématique)
    <out>/rapport_ctg_<annee>.pdf        the same content as one A4 PDF
    <out>/manifest.json                  outputs and inputs with their hashes (written last)
"""

from __future__ import annotations

import datetime as dt
import os
import re
from pathlib import Path

import nbformat

from pipeline import execute, manifest
from pipeline.config import DataLayout
from pipeline.referential import load_referentiel
from pipeline.render import Document, get_engine, notebook_to_markdown
from pipeline.sample import is_illustrative

BANNER = "Données d'illustration — ces chiffres ne sont pas des données observées"


def report_date(annee: int) -> dt.date:
    """The date printed on a report: SOURCE_DATE_EPOCH when set, else 31 December of the report year.

    Derived from the inputs (never the clock), so two builds of the same inputs give the same bytes.
    """
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch:
        return dt.datetime.fromtimestamp(int(epoch), tz=dt.timezone.utc).date()
    return dt.date(annee, 12, 31)


def shift_headings(markdown: str, by: int) -> str:
    """Push every ATX heading `by` levels down (for chapters inside the annual report)."""
    return re.sub(r"^(#{1,5}) ", lambda m: "#" * (len(m.group(1)) + by) + " ", markdown, flags=re.MULTILINE)


def thematic_markdown(interim: Path, annee: int, thematique: str) -> str:
    path = execute.executed_path(interim, annee, thematique)
    return notebook_to_markdown(nbformat.read(str(path), as_version=4))


def build_report_set(
    layout: DataLayout, params: dict, annee: int, thematiques: list[str], interim: Path, out: Path
) -> list[Path]:
    """Render the year's documents into `out` (a staging folder) and write its manifest."""
    engine = get_engine(params.get("rendu", {}).get("moteur", "pandoc-typst"))
    formats = tuple(params.get("rendu", {}).get("formats", ("html", "pdf")))
    ref = load_referentiel(layout.referentiel)
    territoire_nom = ref.convention.territoire.nom
    banner = BANNER if is_illustrative(layout) else ""
    date = report_date(annee)
    written: list[Path] = []

    chapters = []
    for th in thematiques:
        label = ref.thematique(th).libelle
        body = thematic_markdown(interim, annee, th)
        doc = Document(
            title=f"{label} — bilan {annee}",
            subtitle="Convention territoriale globale 2021-2025",
            territory=territoire_nom,
            date=date,
            body=body,
            running_title=f"CTG {territoire_nom} — {label} {annee}",
            banner=banner,
            stem=th,
        )
        written += engine.render(doc, out / "thematiques", formats)
        chapters.append(f"# {label}\n\n{shift_headings(body, 1)}")

    links = "\n".join(
        f"- [{ref.thematique(th).libelle}](thematiques/{th}.html) ([PDF](thematiques/{th}.pdf))" for th in thematiques
    )
    intro = (
        f"# Rapports par thématique\n\n{links}\n\n"
        if "html" in formats
        else ""
    )
    annual = Document(
        title=f"Évaluation de la Convention territoriale globale — {annee}",
        subtitle=f"Caf de la Drôme × {territoire_nom}",
        territory=territoire_nom,
        date=date,
        body=intro + "\n\n".join(chapters),
        running_title=f"CTG {territoire_nom} — rapport {annee}",
        banner=banner,
        stem="index",
    )
    if "html" in formats:
        written += engine.render(annual, out, ("html",))
    if "pdf" in formats:
        pdf_doc = Document(**{**annual.__dict__, "body": "\n\n".join(chapters), "stem": f"rapport_ctg_{annee}"})
        written += engine.render(pdf_doc, out, ("pdf",))
    written.append(manifest.write_manifest(out, layout=layout, params=params, annee=annee))
    return written
