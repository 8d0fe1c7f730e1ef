"""What every rendering engine offers: `render(doc, out_dir, formats) -> list[Path]`."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Iterable, Protocol

from pipeline.render.document import Document
from pipeline.render.errors import RenderError

FORMATS = ("html", "pdf")


class Engine(Protocol):
    """A rendering engine. `render` writes `<out_dir>/<doc.stem>.<format>` for each format, in that order,
    and returns those paths; it raises `RenderError` (French message) when it cannot."""

    name: str

    def render(self, doc: Document, out_dir: Path, formats: Iterable[str] = FORMATS) -> list[Path]: ...


def check_formats(formats: Iterable[str]) -> tuple[str, ...]:
    """The requested formats, without duplicates; an unknown one is a French RenderError."""
    wanted = tuple(dict.fromkeys(str(f).lower() for f in ([formats] if isinstance(formats, str) else formats)))
    unknown = [f for f in wanted if f not in FORMATS]
    if unknown or not wanted:
        raise RenderError(
            f"Format de sortie inconnu : « {', '.join(unknown) or '(aucun)'} ». "
            f"Formats disponibles : {', '.join(f'« {f} »' for f in FORMATS)}."
        )
    return wanted


def output_paths(doc: Document, out_dir: Path, formats: tuple[str, ...]) -> list[Path]:
    return [Path(out_dir) / f"{doc.stem}.{fmt}" for fmt in formats]


def nombre_de_pages(pdf: bytes) -> int | None:
    """Page count read from the PDF's page tree (« /Type /Pages … /Count n »); None when not found."""
    for dico in re.findall(rb"<<(?:(?!<<).)*?/Type\s*/Pages\b.*?>>", pdf, flags=re.S):
        if m := re.search(rb"/Count\s+(\d+)", dico):
            return int(m.group(1))
    return None
