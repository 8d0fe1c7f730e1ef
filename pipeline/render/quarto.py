"""Optional engine: a Quarto project (`_quarto.yml` + `<stem>.qmd`) rendered by the `quarto` command.

Quarto cannot be installed from the package registries (see docs/rendu.md): this engine works where a user
has `quarto` on PATH and says so clearly elsewhere. Images given as `data:` URIs are written to `media/`
first, since Quarto's Typst output needs files.
"""

from __future__ import annotations

import logging
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Iterable

import yaml

from pipeline.render.base import FORMATS, check_formats, output_paths
from pipeline.render.document import HTML_ONLY_CLASS, Document
from pipeline.render.errors import RenderError, stderr_tail
from pipeline.render.media import extract_images

log = logging.getLogger(__name__)

QUARTO_TIMEOUT = 900  # seconds per format
QUARTO_FORMATS = {"html": "html", "pdf": "typst"}  # our format → Quarto's --to


def quarto_binary() -> str:
    found = shutil.which("quarto")
    if not found:
        raise RenderError(
            "Le moteur de rendu « quarto » est demandé (params.yaml : rendu.moteur) mais la commande `quarto` "
            "est introuvable : installez Quarto (https://quarto.org) ou choisissez « pandoc-typst »."
        )
    return found


class QuartoEngine:
    """`work_dir`: where the Quarto project is written (kept, for inspection); a temporary folder otherwise."""

    name = "quarto"

    def __init__(self, work_dir: Path | None = None) -> None:
        self.work_dir = Path(work_dir) if work_dir else None

    def render(self, doc: Document, out_dir: Path, formats: Iterable[str] = FORMATS) -> list[Path]:
        wanted = check_formats(formats)
        binary = quarto_binary()
        targets = output_paths(doc, out_dir, wanted)
        with tempfile.TemporaryDirectory(prefix="ctg-quarto-") as tmp:
            work = self.work_dir or Path(tmp)
            write_project(doc, work)
            for fmt in wanted:
                run_quarto(binary, doc, work, fmt)
            Path(out_dir).mkdir(parents=True, exist_ok=True)
            for fmt, target in zip(wanted, targets):
                shutil.copyfile(work / f"{doc.stem}.{fmt}", target)
        return targets


def write_project(doc: Document, work: Path) -> None:
    """`_quarto.yml` (lang, html and typst formats) and `<stem>.qmd` (front matter + body) in `work`."""
    work.mkdir(parents=True, exist_ok=True)
    (work / "_quarto.yml").write_text(_dump(project_config(doc)), encoding="utf-8")
    body = extract_images(doc.body, work / "media").replace(  # Quarto's own way of saying « HTML only »
        f"::: {{.{HTML_ONLY_CLASS}}}", '::: {.content-visible when-format="html"}')
    if doc.banner:
        body = f"::: {{.callout-warning appearance=\"simple\"}}\n**{doc.banner}**\n:::\n\n{body}"
    (work / f"{doc.stem}.qmd").write_text(f"---\n{_dump(front_matter(doc))}---\n\n{body}", encoding="utf-8")


def project_config(doc: Document) -> dict:
    toc = {"toc": doc.sommaire, "toc-title": "Sommaire"}
    typst = {"papersize": "a4", **toc}
    if doc.orientation == "paysage":
        typst["include-in-header"] = {"text": "#set page(flipped: true)"}
    return {
        "project": {"type": "default"},
        "lang": doc.lang,
        "format": {"html": {"embed-resources": True, **toc}, "typst": typst},
    }


def front_matter(doc: Document) -> dict:
    subtitle = " · ".join(part for part in (doc.subtitle, doc.territory) if part)
    matter = {**doc.metadata, "title": doc.title, "date": doc.date_text, "pagetitle": doc.title}
    if subtitle:
        matter["subtitle"] = subtitle
    return matter


def run_quarto(binary: str, doc: Document, work: Path, fmt: str) -> None:
    command = [binary, "render", f"{doc.stem}.qmd", "--to", QUARTO_FORMATS[fmt]]
    log.debug("quarto: %s (dans %s)", command, work)
    try:
        result = subprocess.run(
            command, cwd=work, stdin=subprocess.DEVNULL, capture_output=True, timeout=QUARTO_TIMEOUT
        )
    except subprocess.TimeoutExpired:
        raise RenderError(f"Quarto n'a pas terminé en {QUARTO_TIMEOUT} s ({fmt} « {doc.stem} »).") from None
    if result.returncode != 0:
        raise RenderError(
            f"Quarto a échoué (code {result.returncode}) en produisant le {fmt.upper()} « {doc.stem} » :\n"
            f"{stderr_tail(result.stderr or result.stdout)}"
        )
    if not (work / f"{doc.stem}.{fmt}").is_file():
        raise RenderError(
            f"Quarto s'est terminé sans produire « {doc.stem}.{fmt} » dans {work} :\n{stderr_tail(result.stderr)}"
        )


def _dump(data: dict) -> str:
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False)
