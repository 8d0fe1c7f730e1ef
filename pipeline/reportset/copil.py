"""The steering committee's one-page support (« support synthétique et lisible ») — A4 landscape.

Per thématique: the key indicators (N-1 → N, target, light) and the roadmap's progress; then the three biggest
alerts. With a period (S1, S2) the roadmap is read at the end of that semester (see suivi.py).
"""

from __future__ import annotations

import dataclasses
import re

from pipeline.render.base import nombre_de_pages  # noqa: F401 (part of this module's interface)
from pipeline.report import fmt
from pipeline.report.chiffres import notes_du_tableau
from pipeline.report.sortie import tableau, texte, tracer
from pipeline.reportset.donnees import Bilan
from pipeline.reportset.suivi import NOMS_PERIODES, actions_de_la_periode, date_de_fin
from pipeline.reportset.synthese import (TableauDeBord, legende_feux, lignes_indicateurs, tableau_de_bord,
                                         texte_avancement, trace_feuilles, trace_indicateurs)
from pipeline.reportset.titres import Chapitre

NOMBRE_ALERTES = 3
TAILLES = (9.0, 8.5, 8.0, 7.5)  # font sizes (pt) tried in turn until the page fits on one A4 landscape page


def mise_en_page(taille: float) -> str:
    """Typst only: a denser page, at `taille` points, so that six thématiques fit on one A4 landscape page (the
    HTML ignores this raw block)."""
    return f"""```{{=typst}}
#set text(size: {taille}pt)
#set par(spacing: 0.8em, leading: 0.58em)
#show table: set text(size: {taille - 0.4}pt)
#set table(inset: (x: 4.5pt, y: 3pt), fill: none, stroke: (x, y) => (
  top: if y == 0 {{ 0.8pt + rgb("#1f4e79") }} else if y == 1 {{ 0.5pt + rgb("#1f4e79") }} else {{ 0.3pt + luma(205) }}))
#show figure: set block(above: 0.5em, below: 0.7em)
#show heading: set block(above: 1em, below: 0.5em)
#show heading.where(level: 1): set text(size: {taille + 3}pt)
```"""


_MISE_EN_PAGE = re.compile(r"\A```\{=typst\}\n#set text\(size: [\d.]+pt\).*?^```", flags=re.S | re.M)


def a_la_taille(ch: Chapitre, taille: float) -> Chapitre:
    """The same COPIL page at another font size (only its opening layout block changes: nothing is recomputed)."""
    return dataclasses.replace(ch, corps=_MISE_EN_PAGE.sub(lambda _: mise_en_page(taille), ch.corps, count=1))


def bilan_de_la_periode(bilan: Bilan, periode: str | None) -> Bilan:
    """The Bilan with the roadmap as known at the end of `periode` (None: the whole year)."""
    if periode is None:
        return bilan
    actions = bilan.premier.actions
    return bilan.memo(("periode", periode), lambda: bilan.avec_actions(
        actions_de_la_periode(actions, bilan.annee, periode, bilan.params)))


def nom_periode(annee: int, periode: str | None) -> str:
    """'bilan 2024', '1er semestre 2024'."""
    return f"{NOMS_PERIODES.get(periode, periode)} {annee}" if periode else f"bilan {annee}"


def stem(annee: int, periode: str | None) -> str:
    return f"copil_{annee}" + (f"_{periode}" if periode else "")


def tableau_copil(tdb: TableauDeBord) -> str:
    def feuille(th: str, e, rang: int) -> str:
        return texte_avancement(tdb.avancements.get(th)) if rang == 0 else ""

    lignes = lignes_indicateurs(tdb, tdb.bilan.thematiques, feuille)
    n, ths = tdb.bilan.annee, tdb.bilan.thematiques
    (s1, l1), (s2, l2) = trace_indicateurs(tdb, ths), trace_feuilles(tdb, ths)
    legende = tracer(f"Indicateurs clés et avancement des feuilles de route, {n}.", [*s1, *s2], *l1, *l2)
    return tableau(["Thématique", "Indicateur clé", str(n - 1), str(n), "Cible", "Feu", "Feuille de route"], lignes,
                   legende,
                   ["left", "left", "right", "right", "left", "left", "left"],
                   [" ".join(notes_du_tableau(tdb.bilan.premier, lignes) + [legende_feux()])])


def copil(bilan: Bilan, periode: str | None = None, taille: float = TAILLES[0]) -> Chapitre:
    """The COPIL page's body (its title is given to the Document by the caller)."""
    tdb = tableau_de_bord(bilan_de_la_periode(bilan, periode))
    n = bilan.annee
    fin = date_de_fin(n, periode, bilan.params) if periode else None
    situation = (f"Actions : état connu au {fmt.date_longue(fin)}" if fin
                 else f"Actions : suivi de l'année {n}") + (
        " · Indicateurs : dernière valeur publiée (année entre parenthèses si elle précède l'année indiquée en "
        "tête de colonne) · Règles des feux et des alertes : méthodologie du rapport annuel.")
    principales = tdb.alertes[:NOMBRE_ALERTES]
    alertes = ("\n".join(f"{i}. **{texte(a.libelle_thematique)}** (gravité {a.mot_gravite.lower()}) — "
                         f"{texte(a.constat)} *{texte(a.interrogation[:1].upper() + a.interrogation[1:])}*"
                         for i, a in enumerate(principales, 1))
               or f"Aucune alerte ne ressort des données {n}.")
    corps = [mise_en_page(taille), situation, tableau_copil(tdb),
             f"## {'Les trois alertes principales' if len(principales) == 3 else 'Alertes principales'}", alertes]
    return Chapitre(stem(n, periode), f"Comité de pilotage — {nom_periode(n, periode)}", "\n\n".join(corps) + "\n")
