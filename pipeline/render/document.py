"""What a report is (`Document`) and how an executed notebook becomes its Markdown body.

The body is pandoc Markdown: markdown cells as written, and for each code cell only its outputs
(`text/markdown` as is, else an image as a `data:` URI, else `text/html` as a raw HTML block).
Code, `text/plain` reprs and `stream` outputs never reach a report; an `error` output stops the render.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import logging
import os
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from babel.dates import format_date

from pipeline.render.errors import RenderError

log = logging.getLogger(__name__)

ORIENTATIONS = ("portrait", "paysage")
# Cells carrying one of these tags (Jupyter Book / nbconvert conventions) are left out of reports.
REMOVE_TAGS = {"remove-cell", "remove_cell", "remove-output", "remove_output"}
IMAGE_TYPES = ("image/png", "image/svg+xml", "image/jpeg")
DEFAULT_ALT = "Graphique sans description textuelle"  # for bare image outputs, which the helpers should not make
HTML_ONLY_CLASS = "html-seulement"  # a div of this class reaches the HTML output only (see html_only)


@dataclass(frozen=True, kw_only=True)
class Document:
    """One report to render, whatever the engine.

    `body` is pandoc Markdown (see docs/rendu.md for the contract). `banner` (e.g. « Données d'illustration »)
    is printed on the cover, at the top of every PDF page and at the top of the HTML page. `stem` names the
    output files (`<stem>.html`, `<stem>.pdf`). `orientation="paysage"` with `couverture=False` and
    `sommaire=False` gives a landscape one-pager. `metadata` is passed to the templates as extra pandoc
    metadata (e.g. `author`). `parties` (optional): the body as independent parts joined by blank lines (e.g. the
    annual report's chapters, each opening with its level-1 heading): a PDF alone is then converted part by part,
    and a part unchanged since an earlier render is not converted again (pipeline/render/parties.py).
    """

    title: str
    date: dt.date
    body: str
    subtitle: str = ""
    territory: str = ""
    lang: str = "fr"
    running_title: str = ""
    banner: str = ""
    stem: str = "rapport"
    orientation: str = "portrait"
    couverture: bool = True
    sommaire: bool = True
    metadata: dict[str, str] = field(default_factory=dict)
    parties: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.parties and "\n\n".join(self.parties) != self.body:
            raise RenderError(f"Le corps du document « {self.title} » n'est pas la suite de ses parties.")
        if not self.title.strip():
            raise RenderError("Le document à produire n'a pas de titre.")
        if not isinstance(self.date, dt.date):
            raise RenderError(f"La date du document « {self.title} » doit être une date (reçu : {self.date!r}).")
        if self.orientation not in ORIENTATIONS:
            raise RenderError(
                f"Orientation inconnue : « {self.orientation} ». Valeurs possibles : « portrait », « paysage »."
            )
        if not self.stem or Path(self.stem).name != self.stem or self.stem.startswith("."):
            raise RenderError(f"Nom de fichier de sortie invalide : « {self.stem} » (un nom simple, sans dossier).")

    @property
    def header_title(self) -> str:
        """The running title printed in the page header (the title when none is given)."""
        return self.running_title or self.title

    @property
    def date_text(self) -> str:
        """The date as a reader expects it, e.g. « 28 novembre 2026 » (« 1er mars 2026 » in French)."""
        text = format_date(self.date, format="long", locale=self.lang.replace("-", "_"))
        if self.lang.startswith("fr") and self.date.day == 1:
            text = "1er" + text[1:]
        return text

    def timestamp(self) -> int:
        """PDF creation time: `SOURCE_DATE_EPOCH` when set (reproducible builds), else the document's date."""
        epoch = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
        if epoch.isdigit():
            return int(epoch)
        midnight = dt.datetime(self.date.year, self.date.month, self.date.day, tzinfo=dt.UTC)
        return int(midnight.timestamp())


_ALIGN_MARKS = {"left": ":---", "right": "---:", "center": ":---:"}


def pipe_table(header: Sequence[str], rows: Iterable[Sequence[str]], align: Sequence[str | None] | None = None) -> str:
    """A pandoc pipe table of cells already formatted and escaped (one line each), without padding: pandoc reads a
    padded table much more slowly (reading a year's whole report: ~1.3 → ~0.8 s of CPU) and builds the same
    document from both. `align`: "left" (default), "right" or "center" per column."""
    header = list(header)
    marks = [_ALIGN_MARKS[a or "left"] for a in (align or [None] * len(header))]
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(marks) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def html_only(markdown: str) -> str:
    """`markdown` marked for the HTML output only (e.g. a page's navigation menu): the PDF leaves it out, so one
    body serves both formats. Empty text stays empty."""
    return f"::: {{.{HTML_ONLY_CLASS}}}\n{markdown.strip()}\n:::\n" if markdown.strip() else ""


def notebook_to_markdown(nb_or_path: Mapping | str | Path, *, name: str | None = None) -> str:
    """One pandoc-Markdown document from an executed notebook (code hidden, outputs kept).

    `nb_or_path`: a path to an .ipynb file, or a notebook already read (`nbformat.NotebookNode` or the
    JSON as a dict). `name` is used in error messages (defaults to the file name, or to papermill's
    recorded path). Raises `RenderError` when a cell's output is an error.
    """
    if isinstance(nb_or_path, (str, Path)):
        name = name or Path(nb_or_path).name
        nb = _read(Path(nb_or_path))
    else:
        nb = nb_or_path
        papermill = nb.get("metadata", {}).get("papermill", {})
        name = name or Path(papermill.get("output_path") or papermill.get("input_path") or "notebook").name
    blocks: list[str] = []
    for number, cell in enumerate(nb.get("cells", []), start=1):
        if REMOVE_TAGS & set(cell.get("metadata", {}).get("tags", [])):
            continue
        if cell.get("cell_type") == "markdown":
            blocks.append(_with_attachments(_text(cell.get("source", "")), cell.get("attachments") or {}))
        elif cell.get("cell_type") == "code":
            blocks.extend(_outputs_markdown(cell, number, name))
    return "\n\n".join(block.strip("\n") for block in blocks if block.strip()) + "\n"


def _read(path: Path) -> dict:
    """Read a notebook as JSON (nbformat's import costs ~2 s); only pre-v4 notebooks go through nbformat."""
    try:
        with open(path, encoding="utf-8") as f:
            nb = json.load(f)
    except (OSError, ValueError) as error:
        raise RenderError(f"Le notebook « {path.name} » est illisible : {error}") from error
    if nb.get("nbformat", 0) < 4:
        import nbformat

        nb = nbformat.read(str(path), as_version=4)
    return nb


def _outputs_markdown(cell, number: int, name: str) -> list[str]:
    blocks = []
    for output in cell.get("outputs", []):
        kind = output.get("output_type")
        if kind == "error":
            raise RenderError(
                f"Le notebook « {name} » s'est arrêté sur une erreur dans la cellule {number} "
                f"({output.get('ename', 'Erreur')} : {output.get('evalue', '')}). "
                "Le rapport n'est pas produit : corrigez la cause (données ou notebook) puis relancez."
            )
        if kind == "stream":
            log.debug("%s, cellule %d : sortie %s ignorée : %r", name, number, output.get("name"), output.get("text"))
            continue
        data = output.get("data", {})
        block = _rich_output(data)
        if "text/markdown" not in data and any(mime in data for mime in IMAGE_TYPES):
            log.warning(
                "%s, cellule %d : image affichée sans texte alternatif (les aides doivent afficher du Markdown "
                "avec une description) ; texte par défaut « %s ».", name, number, DEFAULT_ALT,
            )
        if block is None:
            log.debug("%s, cellule %d : sortie sans Markdown ni image ni HTML ignorée", name, number)
        else:
            blocks.append(block)
    return blocks


def _rich_output(data: dict) -> str | None:
    if "text/markdown" in data:
        return _text(data["text/markdown"])
    for mime in IMAGE_TYPES:
        if mime in data:
            return f'![]({_data_uri(mime, data[mime])}){{alt="{DEFAULT_ALT}"}}'
    if "text/html" in data:
        html = _text(data["text/html"])
        fence = "`" * max(3, 1 + max((len(run) for run in re.findall(r"`+", html)), default=0))
        return f"{fence}{{=html}}\n{html.strip()}\n{fence}"
    return None


def _data_uri(mime: str, payload) -> str:
    text = _text(payload)
    if mime == "image/svg+xml":  # SVG is stored as text in notebooks
        encoded = base64.b64encode(text.encode("utf-8")).decode("ascii")
    else:  # binary images are stored base64-encoded, possibly wrapped
        encoded = "".join(text.split())
    return f"data:{mime};base64,{encoded}"


def _with_attachments(source: str, attachments: dict) -> str:
    """Replace `attachment:NAME` links of a markdown cell with data: URIs (pandoc cannot read attachments)."""
    for filename, bundle in attachments.items():
        mime = next((m for m in IMAGE_TYPES if m in bundle), None)
        if mime:
            source = source.replace(f"attachment:{filename}", _data_uri(mime, bundle[mime]))
    return source


def _text(value) -> str:
    return "".join(value) if isinstance(value, list) else str(value)
