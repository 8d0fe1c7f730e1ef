"""Rendering layer: executed notebooks → self-contained HTML page and A4 PDF, behind one small interface.

    from pipeline.render import Document, get_engine, notebook_to_markdown
    doc = Document(title="Petite enfance", date=date(2026, 11, 28), body=notebook_to_markdown(path))
    paths = get_engine("pandoc-typst").render(doc, out_dir, formats=("html", "pdf"))

Engines: « pandoc-typst » (default: pandoc + the Typst compiler, nothing else to install) and « quarto »
(needs the `quarto` command). See docs/rendu.md.
"""

from __future__ import annotations

import importlib

from pipeline.render.base import FORMATS, Engine, check_formats
from pipeline.render.document import Document, html_only, notebook_to_markdown, pipe_table
from pipeline.render.errors import RenderError

DEFAULT_ENGINE = "pandoc-typst"


# name (params.yaml: rendu.moteur) → "module:class"; engines are imported only when asked for.
_ENGINES = {
    "pandoc-typst": "pipeline.render.pandoc_typst:PandocTypstEngine",
    "quarto": "pipeline.render.quarto:QuartoEngine",
}
ENGINE_NAMES = tuple(_ENGINES)


def get_engine(name: str = DEFAULT_ENGINE) -> Engine:
    """The engine called `name` (params.yaml: rendu.moteur); an unknown name is a French RenderError."""
    if name not in _ENGINES:
        raise RenderError(
            f"Moteur de rendu inconnu : « {name} » (params.yaml : rendu.moteur). "
            f"Moteurs disponibles : {', '.join(f'« {n} »' for n in ENGINE_NAMES)}."
        )
    module, cls = _ENGINES[name].split(":")
    return getattr(importlib.import_module(module), cls)()


__all__ = [
    "DEFAULT_ENGINE",
    "ENGINE_NAMES",
    "FORMATS",
    "Document",
    "Engine",
    "RenderError",
    "check_formats",
    "get_engine",
    "html_only",
    "notebook_to_markdown",
    "pipe_table",
]
