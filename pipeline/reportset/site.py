"""The report set as a small site: the pages, their order, and the navigation menu on every page."""

from __future__ import annotations

import html
from dataclasses import dataclass


@dataclass(frozen=True)
class Lien:
    chemin: str  # relative to the report folder, e.g. "thematiques/enfance.html"
    libelle: str


def liens(annee: int, thematiques: dict[str, str], periodes: tuple[str, ...] = (), pdf: bool = True) -> list[Lien]:
    """Every page of the set, in reading order (thématique id → label)."""
    pages = [Lien("index.html", "Synthèse")]
    pages += [Lien(f"thematiques/{th}.html", libelle) for th, libelle in thematiques.items()]
    pages += [Lien("impact_social.html", "Impact social"), Lien("qualite_donnees.html", "Qualité des données"),
              Lien("methodologie.html", "Méthodologie et sources"), Lien("glossaire.html", "Glossaire"),
              Lien("feuilles_de_route.html", "Feuilles de route"), Lien(f"copil_{annee}.html", "Comité de pilotage")]
    pages += [Lien(f"copil_{annee}_{p}.html", f"Comité de pilotage ({p})") for p in periodes]
    pages.append(Lien(f"lettre_habitants_{annee}.html", "Lettre aux habitants"))
    if pdf:
        pages.append(Lien(f"rapport_ctg_{annee}.pdf", "Rapport complet (PDF)"))
    return pages


def relatif(cible: str, depuis: str) -> str:
    """Link from page `depuis` to `cible` (both relative to the report folder)."""
    return "../" * depuis.count("/") + cible


def menu(pages: list[Lien], courante: str, annee: int) -> str:
    """A raw-HTML navigation block for the page `courante`: a disclosure (no script) that stays closed except on
    the home page, so that a phone shows the page's content first. Inline styles: no stylesheet change needed."""
    items = []
    for lien in pages:
        actuel = ' aria-current="page" style="font-weight:700;text-decoration:none"' if lien.chemin == courante else ""
        items.append(f'<li style="margin:0"><a href="{html.escape(relatif(lien.chemin, courante))}"{actuel}>'
                     f"{html.escape(lien.libelle)}</a></li>")
    ouvert = " open" if courante == "index.html" else ""
    return (
        "```{=html}\n"
        f'<nav aria-label="Pages du rapport {annee}" style="margin:0 0 1.5rem;padding:.6rem .9rem;'
        'background:#e8eef5;border-radius:4px;font-size:.95rem;line-height:1.5">\n'
        f'<details{ouvert}><summary style="cursor:pointer;font-weight:700;color:#1f4e79">'
        f"Pages du rapport {annee}</summary>\n"
        '<ul style="display:flex;flex-wrap:wrap;gap:.2rem 1.1rem;margin:.5rem 0 0;padding:0;list-style:none">\n'
        + "\n".join(items) + "\n</ul>\n</details>\n</nav>\n```\n"
    )
