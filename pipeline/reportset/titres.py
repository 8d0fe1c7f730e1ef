"""Chapters as Markdown pieces, and the heading levels that make them nest in the annual report."""

from __future__ import annotations

import re
from dataclasses import dataclass

_BLOCS = re.compile(r"^(```|~~~).*?^\1", flags=re.S | re.M)
_TITRE = re.compile(r"^(#{1,6})(?=[ \t])", flags=re.M)
_BANDEAU = re.compile(r"^:::+ *\{\.bandeau-illustration\}\n.*?^:::+ *\n?", flags=re.S | re.M)


SAUT_DE_PAGE = "```{=typst}\n#pagebreak(weak: true)\n```\n\n"  # PDF only: a chapter opens a page


@dataclass(frozen=True)
class Chapitre:
    stem: str  # HTML page name, without .html (may hold a folder: thematiques/enfance)
    titre: str
    corps: str  # Markdown body; its top heading level is free (pages shift it, the annual report nests it)


def niveaux(markdown: str) -> list[int]:
    """Levels of the ATX headings of a Markdown text (fenced blocks left out)."""
    return [len(m.group(1)) for m in _TITRE.finditer(_BLOCS.sub("", markdown))]


def decaler(markdown: str, haut: int) -> str:
    """Shift every heading so that the text's top level becomes `haut` (relative levels kept, 6 at most)."""
    presents = niveaux(markdown)
    if not presents:
        return markdown
    ecart = haut - min(presents)
    return _TITRE.sub(lambda m: "#" * min(6, max(1, len(m.group(1)) + ecart)), markdown)


def detacher_titre(markdown: str) -> tuple[str | None, str]:
    """(text of the opening heading, the rest) when the text opens with its only top-level heading; otherwise
    (None, the text unchanged)."""
    presents = niveaux(markdown)
    m = re.match(r"\s*(#{1,6})[ \t]+(.+?)[ \t#]*\n", markdown)
    if m is None or len(m.group(1)) != min(presents) or presents.count(min(presents)) != 1:
        return None, markdown
    return m.group(2).strip(), markdown[m.end():]


def sans_bandeau(markdown: str) -> str:
    """The text without its « Données d'illustration » box (the annual report shows it once, in every header)."""
    return _BANDEAU.sub("", markdown)


def en_chapitre(ch: Chapitre) -> str:
    """The chapter for the annual report, on a new page: one level-1 heading, everything else below it.

    A body that already opens with its own single top heading (a thematic notebook's « # Petite enfance ») keeps
    it as the chapter heading; otherwise the chapter's title is added above the body.
    """
    texte = _BLOCS.sub("", ch.corps)
    presents, premier = niveaux(ch.corps), _TITRE.search(texte)
    seul_en_tete = (premier is not None and not texte[:premier.start()].strip()
                    and presents[0] == min(presents) and presents.count(min(presents)) == 1)
    if seul_en_tete:
        return SAUT_DE_PAGE + decaler(ch.corps, 1)
    return f"{SAUT_DE_PAGE}# {ch.titre}\n\n{decaler(ch.corps, 2)}"
