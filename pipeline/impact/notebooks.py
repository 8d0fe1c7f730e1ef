"""The two notebooks of this package, written from one small template, and the script that writes them.

    python -m pipeline.impact.notebooks      # rewrites notebooks/impact_social.ipynb and notebooks/bilan.ipynb

`impact_social` is executed for every report year, like a thématique (`pipeline.execute.Job(thematique=
"impact_social", ...)`); `bilan` once, for the last year of the convention (`pipeline.bilan`). Both are stored
without outputs; their first cell, tagged `parameters`, holds `territoire`, `annee` and `data_dir`.
"""

from __future__ import annotations

import sys
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell

from pipeline.config import DEFAULT_TERRITOIRE, NOTEBOOKS_DIR
from pipeline.report.template import assemble_notebook, save_notebook

# (heading, helper call); calls end with ";" so that the returned string is not shown as a text/plain result.
SECTIONS: dict[str, list[tuple[str | None, str]]] = {
    "impact_social": [
        (None, "impact.introduction(d);"),
        ("Modèle logique des feuilles de route", "impact.modeles_logiques(d);"),
        ("Investissement social", "impact.investissement(d);"),
        ("Égalité des chances : écarts territoriaux", "impact.equite_sociale(d);"),
        ("Évolution de tous les indicateurs", "impact.tableau_evolution(d, annee);"),
        ("Ce que les données ne montrent pas", "impact.limites(d);"),
    ],
    "bilan": [
        (None, "impact.introduction_bilan(d);"),
        ("Le bilan en bref", "impact.synthese_bilan(d);"),
        ("Les cibles chiffrées de la convention", "impact.tableau_cibles(d);"),
        ("Les quatre questions évaluatives", "impact.questions_evaluatives(d);"),
        ("Réalisation des feuilles de route", "impact.realisation_feuilles_de_route(d);"),
        ("Investissement social", "impact.investissement(d);"),
        ("Égalité des chances : écarts territoriaux", "impact.equite_sociale(d);"),
        ("Modèle logique des feuilles de route", "impact.modeles_logiques(d);"),
        ("Évolution de tous les indicateurs", "impact.tableau_evolution_periode(d);"),
        ("Enseignements et propositions pour la prochaine convention", "impact.enseignements(d);"),
        ("Ce que les données ne montrent pas", "impact.limites(d);"),
    ],
}
ANNEES_PAR_DEFAUT = {"impact_social": 2024, "bilan": 2025}


def notebook(nom: str) -> nbformat.NotebookNode:
    """The notebook `nom` (a key of SECTIONS): parameters, data, then one heading and one call per section."""
    cellules = [
        new_code_cell(f'territoire = "{DEFAULT_TERRITOIRE}"\nannee = {ANNEES_PAR_DEFAUT[nom]}\ndata_dir = "data"',
                      metadata={"tags": ["parameters"]}),
        new_code_cell("from pipeline import impact\n\nd = impact.contexte(territoire, annee, data_dir)"),
    ]
    return assemble_notebook(nom, cellules, SECTIONS[nom])


def write_notebook(nom: str, path: Path | None = None) -> Path:
    """Write notebooks/<nom>.ipynb (or `path`); returns its path."""
    return save_notebook(notebook(nom), Path(path or NOTEBOOKS_DIR / f"{nom}.ipynb"))


def main(noms: list[str] | None = None) -> list[Path]:
    return [write_notebook(n) for n in noms or SECTIONS]


if __name__ == "__main__":
    for chemin in main(sys.argv[1:]):
        print(chemin)
