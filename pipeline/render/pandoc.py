"""Calling pandoc: where its binary is, the metadata our templates read, one process per output."""

from __future__ import annotations

import functools
import importlib.util
import logging
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from pipeline import orphans
from pipeline.render.document import Document
from pipeline.render.errors import RenderError, stderr_tail

log = logging.getLogger(__name__)

TEMPLATES = Path(__file__).resolve().parent / "templates"
LUA_FILTER = TEMPLATES / "ctg.lua"
PANDOC_TIMEOUT = 300  # seconds


@functools.cache
def pandoc_binary() -> str:
    """The pandoc shipped by pypandoc-binary, found without importing pypandoc (its import costs 0.15 s)."""
    spec = importlib.util.find_spec("pypandoc")
    if spec and spec.submodule_search_locations:
        bundled = Path(next(iter(spec.submodule_search_locations))) / "files" / "pandoc"
        if bundled.is_file() and os.access(bundled, os.X_OK):
            return str(bundled)
    found = shutil.which("pandoc")
    if found:
        return found
    raise RenderError(
        "pandoc est introuvable : réinstallez l'environnement du projet (paquet pypandoc-binary) "
        "ou installez pandoc (https://pandoc.org)."
    )


def metadata(doc: Document, heading_base: int) -> dict[str, str | bool]:
    """The variables our templates and Lua filter read (see templates/ctg.html, ctg.typ, ctg.lua).

    Texts get the typographic apostrophe that pandoc's `smart` extension gives the body (-M values are
    literal strings, not Markdown, so a title with `*` or `#` prints as written).
    """
    texts = {
        "title": doc.title,
        "pagetitle": doc.title,
        "subtitle": doc.subtitle,
        "territory": doc.territory,
        "date": doc.date_text,
        "date-fr": doc.date_text,
        "running-title": doc.header_title,
        "banner": doc.banner,
    }
    values: dict[str, str | bool] = {
        **{str(key): value for key, value in doc.metadata.items()},
        **{key: text.replace("'", "\u2019") for key, text in texts.items()},
        "lang": doc.lang,
        "lang-code": doc.lang.split("-")[0].lower(),  # Typst wants the bare language code ("fr")
        "date-iso": doc.date.isoformat(),
        "paysage": doc.orientation == "paysage",
        "couverture": doc.couverture,
        "sommaire": doc.sommaire,
        "ctg-heading-base": str(heading_base),
    }
    return {key: value for key, value in values.items() if value != ""}


def metadata_args(values: dict[str, str | bool]) -> list[str]:
    """`-M key=value` arguments: pandoc reads `true`/`false` as booleans and anything else as a literal string."""
    args = []
    for key, value in values.items():
        if isinstance(value, bool):
            args.append(f"--metadata={key}={'true' if value else 'false'}")
        else:
            args.append(f"--metadata={key}={value}")
    return args


@dataclass
class PandocRun:
    """A pandoc process started by `start`; `wait()` ends it (so two formats can run side by side)."""

    process: subprocess.Popen
    stderr_path: Path
    what: str

    def wait(self) -> None:
        """Wait for pandoc; a failure becomes a French RenderError naming what was being produced."""
        try:
            code = self.process.wait(timeout=PANDOC_TIMEOUT)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            raise RenderError(f"pandoc n'a pas terminé en {PANDOC_TIMEOUT} s en produisant {self.what}.") from None
        errors = stderr_tail(self.stderr_path.read_bytes())
        if code != 0:
            raise RenderError(f"pandoc a échoué (code {code}) en produisant {self.what} :\n{errors}")
        for line in errors.splitlines():
            log.warning("pandoc (%s) : %s", self.what, line)


def start(args: list[str], source: Path, what: str, log_name: str) -> PandocRun:
    """Start pandoc on `source`, in its folder (relative media paths resolve there): a Markdown file, or a `.json`
    file that pandoc wrote (its document tree, read much faster than Markdown).

    Its messages go to `<folder>/<log_name>.log` (a file, not a pipe: two runs can go on side by side).
    """
    reader = "json" if source.suffix == ".json" else "markdown"
    command = [pandoc_binary(), f"--from={reader}", f"--lua-filter={LUA_FILTER}", *args, source.name]
    log.debug("pandoc: %s", command)
    stderr_path = source.parent / f"{log_name}.log"
    with open(stderr_path, "wb") as stderr:
        process = subprocess.Popen(command, cwd=source.parent, stdin=subprocess.DEVNULL, stderr=stderr,
                                   preexec_fn=orphans.child_dies_with_us())  # no pandoc outlives a killed run
    return PandocRun(process, stderr_path, what)
