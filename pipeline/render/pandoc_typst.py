"""Default engine: pandoc writes the HTML page and a Typst source, the Typst compiler (in-process) the PDF.

Everything happens in a temporary folder; outputs are copied to `out_dir` only when everything succeeded.
Images given as `data:` URIs are first written to files (pandoc reads Markdown with large `data:` URIs slowly;
`--embed-resources` puts them back into the HTML). When both formats are asked, pandoc reads the Markdown once
into its document tree (JSON), then the HTML and Typst writers run side by side from that tree. Fonts are the
ones embedded in Typst, so the PDF is identical on every machine; its creation date is the document's date (or
SOURCE_DATE_EPOCH).

The Typst compiler (python package `typst`) runs in a short-lived child process (`python -c`, ~30 ms to start): it
keeps its memoisation caches for the life of the process (~250 MB after a 110-page report), so compiling in the
long-lived publishing process would make it grow with every document.

A PDF alone of a document given by parts (`Document.parties`, the annual report) is converted part by part, each
part's Typst kept in the folder `parties` (pipeline/render/parties.py): a rebuilt report converts only the parts
that changed, then Typst compiles the whole.
"""

from __future__ import annotations

import json
import logging
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Iterable

from pipeline import orphans
from pipeline.render import pandoc, parties
from pipeline.render.base import FORMATS, check_formats, output_paths
from pipeline.render.document import Document
from pipeline.render.errors import RenderError
from pipeline.render.media import RASTER, extract_images

log = logging.getLogger(__name__)


class PandocTypstEngine:
    name = "pandoc-typst"

    def __init__(self, parties: Path | None = None):
        self.parties = parties  # folder keeping the Typst of each part of a document (pipeline/render/parties.py)

    def render(self, doc: Document, out_dir: Path, formats: Iterable[str] = FORMATS) -> list[Path]:
        wanted = check_formats(formats)
        targets = output_paths(doc, out_dir, wanted)
        with tempfile.TemporaryDirectory(prefix="ctg-rendu-") as tmp:
            work = Path(tmp)
            if doc.parties and wanted == ("pdf",):  # e.g. the annual report: only its changed chapters converted
                compile_pdf(parties.write_typst(doc, work, self.parties), work / "rapport.pdf", doc)
                Path(out_dir).mkdir(parents=True, exist_ok=True)
                shutil.copyfile(work / "rapport.pdf", targets[0])
                return targets
            source = work / "source.md"
            source.write_text(extract_images(doc.body, work / "media", RASTER), encoding="utf-8")
            if len(wanted) > 1:  # read the Markdown once; each writer starts from the document tree
                pandoc.start(reading_args(doc), source, f"la lecture du document « {doc.stem} »", "lecture").wait()
                source = work / "source.json"
            runs = {fmt: self._start(fmt, doc, source) for fmt in wanted}
            try:
                for fmt, run in sorted(runs.items(), key=lambda item: item[0] != "pdf"):  # PDF first: Typst
                    run.wait()  # then compiles while pandoc still writes the HTML
                    if fmt == "pdf":
                        compile_pdf(work / "rapport.typ", work / "rapport.pdf", doc)
            finally:
                for run in runs.values():
                    if run.process.poll() is None:
                        run.process.kill()
                        run.process.wait()
            Path(out_dir).mkdir(parents=True, exist_ok=True)
            for fmt, target in zip(wanted, targets):
                shutil.copyfile(work / f"rapport.{fmt}", target)
        return targets

    def _start(self, fmt: str, doc: Document, source: Path) -> pandoc.PandocRun:
        if fmt == "html":
            return pandoc.start(html_args(doc), source, f"la page HTML « {doc.stem} »", "html")
        return pandoc.start(typst_args(doc), source, f"la source Typst du PDF « {doc.stem} »", "typst")


def reading_args(doc: Document) -> list[str]:
    """Markdown → pandoc's document tree, with what does not depend on the output done (see templates/ctg.lua)."""
    return ["--to=json", "--output=source.json", *pandoc.metadata_args({"lang": doc.lang})]


def html_args(doc: Document) -> list[str]:
    return [
        "--to=html5",
        "--standalone",
        "--embed-resources",
        f"--template={pandoc.TEMPLATES / 'ctg.html'}",
        f"--css={pandoc.TEMPLATES / 'ctg.css'}",
        "--toc",
        "--toc-depth=3",
        "--output=rapport.html",
        *pandoc.metadata_args(pandoc.metadata(doc, heading_base=2)),
    ]


def typst_args(doc: Document) -> list[str]:
    return [
        "--to=typst",
        "--standalone",
        f"--template={pandoc.TEMPLATES / 'ctg.typ'}",
        "--extract-media=media",
        "--output=rapport.typ",
        *pandoc.metadata_args(pandoc.metadata(doc, heading_base=1)),
    ]


# Run by `compile_pdf` in a child process: argv = typ, pdf, root, timestamp; prints {"warnings": [...]} or
# {"error": message, "diagnostic": text} as JSON.
TYPST_CHILD = """
import json, sys, typst
typ, pdf, root, timestamp = sys.argv[1:5]
try:
    _, warnings = typst.compile_with_warnings(typ, output=pdf, root=root, ignore_system_fonts=True,
                                              timestamp=int(timestamp))
except typst.TypstError as error:
    print(json.dumps({"error": error.message, "diagnostic": str(error.diagnostic or "")}))
else:
    print(json.dumps({"warnings": [w.message for w in warnings]}))
"""
TYPST_TIMEOUT = 300  # seconds


def compile_pdf(typ: Path, pdf: Path, doc: Document) -> None:
    """Compile with Typst's embedded fonts only (in a child process, see above); the timestamp makes two
    compilations byte-identical."""
    command = [sys.executable, "-c", TYPST_CHILD, str(typ), str(pdf), str(typ.parent), str(doc.timestamp())]
    try:
        run = subprocess.run(command, capture_output=True, text=True, timeout=TYPST_TIMEOUT,
                             stdin=subprocess.DEVNULL, preexec_fn=orphans.child_dies_with_us())
    except subprocess.TimeoutExpired:
        raise RenderError(f"Typst n'a pas terminé en {TYPST_TIMEOUT} s le PDF « {doc.stem} ».") from None
    try:
        result = json.loads(run.stdout.strip().splitlines()[-1])
    except (IndexError, ValueError):
        raise RenderError(f"Typst s'est arrêté (code {run.returncode}) sur le PDF « {doc.stem} » :\n"
                          f"{run.stderr.strip()[-2000:]}".strip()) from None
    if "error" in result:
        raise RenderError(
            f"Typst n'a pas pu composer le PDF « {doc.stem} » : {result['error']}\n{result['diagnostic']}".strip())
    for message in result["warnings"]:
        log.warning("typst (%s) : %s", doc.stem, message)
