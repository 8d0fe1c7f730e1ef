"""The Typst source of a PDF given as parts (`Document.parties`, e.g. the chapters of the annual report), each part's
pandoc conversion kept by content, so that a rebuilt report converts only the parts that changed.

    write_typst(doc, work, cache)   # -> work/rapport.typ (images below work/media/); cache: a folder, or None

A part is pandoc Markdown that stands alone (its own headings at their final levels, no reference to another part).
The parts missing from the cache are converted together in one pandoc run (separated by a raw Typst comment) and
split again; the template (cover, contents, page setup) is applied in a second, tiny run to a placeholder that the
parts then replace, and that frame is kept too, by its options (title, dates…). Headings get no automatic identifier
(`markdown-auto_identifiers`): an identifier would depend on the other parts converted in the same run (pandoc
numbers duplicates), and nothing in the PDF links to one.

The key of a part is a sha256 of the rendering code and templates, the versions of pandoc and Typst (as for the
render cache), the conversion's options and the part's text after its images were written to `media/`. A part
whose Typst refers to an image not written from the part itself (a file path of the author's) is not kept.
"""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path

from pipeline.incremental import ecrire_texte
from pipeline.render import pandoc
from pipeline.render.document import Document
from pipeline.render.errors import RenderError
from pipeline.render.media import extract_images

SEPARATEUR = "// ctg-partie"
EMPLACEMENT = "// ctg-corps-du-document"
LONG_DOCUMENT_HEADINGS = 3  # as in templates/ctg.lua: the contents are printed from 3 headings on
_TITRE = re.compile(r"^=+ ", re.MULTILINE)  # a heading in pandoc's Typst output (a literal "=" is escaped there)
_IMAGE_TYPST = re.compile(r'\bimage\("([^"]+)"')
_IMAGE_MEDIA = re.compile(r"\]\((media/[^)\s]+)\)")


def options(doc: Document) -> list[str]:
    """pandoc's options for the parts: they depend on the document's language only."""
    return ["--from=markdown-auto_identifiers", "--to=typst", "--extract-media=media",
            *pandoc.metadata_args({"lang": doc.lang, "ctg-heading-base": "1", "ctg-parties": True})]


def cle(texte: str, args: list[str]) -> str:
    from pipeline.render.cache import _code

    return hashlib.sha256("\0".join([_code(), *args, texte]).encode()).hexdigest()


def write_typst(doc: Document, work: Path, cache: Path | None) -> Path:
    """Write `work/rapport.typ`: the template filled with the parts' Typst, in order."""
    args = options(doc)
    textes = [extract_images(partie, work / "media") for partie in doc.parties]
    cles = [cle(texte, args) for texte in textes]
    typst = [_charger(cache, k) for k in cles]
    manquants = [i for i, t in enumerate(typst) if t is None]
    if manquants:
        for i, converti in zip(manquants, convertir([textes[i] for i in manquants], args, work, doc.stem)):
            typst[i] = converti
            if cache is not None and _autonome(converti, textes[i]):
                _garder(cache, cles[i], converti)
    corps = "\n".join(typst)
    cadre = _cadre(doc, work, cache, long=len(_TITRE.findall(corps)) >= LONG_DOCUMENT_HEADINGS)
    source = work / "rapport.typ"
    source.write_text(cadre.replace(EMPLACEMENT + "\n", corps, 1), encoding="utf-8")
    return source


def convertir(textes: list[str], args: list[str], work: Path, stem: str) -> list[str]:
    """The Typst of each Markdown part, from one pandoc run (each part ends with one newline)."""
    separateur = f"\n\n```{{=typst}}\n{SEPARATEUR}\n```\n\n"
    source = work / "parties.md"
    source.write_text(separateur.join(textes), encoding="utf-8")
    pandoc.start([*args, "--output=parties.typ"], source, f"la source Typst du PDF « {stem} »", "parties").wait()
    sortie = (work / "parties.typ").read_text(encoding="utf-8")
    morceaux = [sortie] if len(textes) == 1 else sortie.split(f"{SEPARATEUR}\n")
    if len(morceaux) != len(textes):  # a part swallowed a separator (e.g. an unclosed code fence): one by one
        return [convertir([t], args, work, stem)[0] for t in textes]
    return [m.rstrip("\n") + "\n" for m in morceaux]


def _cadre(doc: Document, work: Path, cache: Path | None, long: bool) -> str:
    """The template applied to a placeholder: cover, contents (when `long`), page setup; kept in `cache` by the
    options (title, dates, language…), like a part."""
    from pipeline.render.pandoc_typst import typst_args

    args = [a for a in typst_args(doc) if not a.startswith("--output=")]
    args += [*pandoc.metadata_args({"ctg-parties": True, "ctg-long": long}), "--output=cadre.typ"]
    source = f"```{{=typst}}\n{EMPLACEMENT}\n```\n"
    k = cle(source, ["cadre", *args])
    cadre = _charger(cache, k)
    if cadre is None:
        (work / "cadre.md").write_text(source, encoding="utf-8")
        pandoc.start(args, work / "cadre.md", f"la source Typst du PDF « {doc.stem} »", "cadre").wait()
        cadre = (work / "cadre.typ").read_text(encoding="utf-8")
        if cache is not None and EMPLACEMENT + "\n" in cadre:
            _garder(cache, k, cadre)
    if EMPLACEMENT + "\n" not in cadre:
        raise RenderError(f"Le modèle Typst n'a pas reproduit l'emplacement du corps du PDF « {doc.stem} ».")
    return cadre


def _autonome(typst: str, texte: str) -> bool:
    """True when every image of the part's Typst is a file written from the part's own `data:` images."""
    propres = set(_IMAGE_MEDIA.findall(texte))
    return all(chemin in propres for chemin in _IMAGE_TYPST.findall(typst))


def _charger(cache: Path | None, k: str) -> str | None:
    if cache is None:
        return None
    chemin = cache / f"{k}.typ"
    try:
        texte = chemin.read_text(encoding="utf-8")
        os.utime(chemin)
    except OSError:
        return None
    return texte


def _garder(cache: Path, k: str, typst: str) -> None:
    try:
        ecrire_texte(cache / f"{k}.typ", typst)
    except OSError:  # a read-only cache: only slower next time
        pass
