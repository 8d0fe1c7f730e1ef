"""The one template of the thematic notebooks, and the script that writes them.

    python -m pipeline.report.template            # rewrites notebooks/<thematique>.ipynb for every thématique

`write_notebook(thematique, path)` is reusable (e.g. by a future `ctg nouvelle-thematique`). Notebooks are
stored without outputs or execution counts; the parameters cell is tagged `parameters` (papermill).
"""

from __future__ import annotations

import sys
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from pipeline.config import DEFAULT_TERRITOIRE, NOTEBOOKS_DIR, THEMATIQUES

ANNEE_PAR_DEFAUT = 2024
# (heading, helper call); calls end with ";" so that the returned string is not shown as a text/plain result.
SECTIONS = [
    ("Chiffres clés", "report.chiffres_cles(ctx);"),
    ("Évolution", "report.evolution(ctx);"),
    ("Carte", "report.carte(ctx);"),
    ("Feuille de route", "report.feuille_de_route(ctx);"),
    ("Équité territoriale", "report.equite(ctx);"),
    ("Ce que disent les données", "report.recit(ctx);"),
]
KERNELSPEC = {"name": "python3", "display_name": "Python 3", "language": "python"}


def notebook(thematique: str) -> nbformat.NotebookNode:
    """The thematic notebook: parameters, context, then one heading and one helper call per section."""
    parametres = new_code_cell(
        f'territoire = "{DEFAULT_TERRITOIRE}"\nannee = {ANNEE_PAR_DEFAUT}\ndata_dir = "data"\n'
        f'thematique = "{thematique}"',
        metadata={"tags": ["parameters"]},
    )
    cellules = [
        parametres,
        new_code_cell("from pipeline import report\n\nctx = report.contexte(territoire, annee, data_dir, thematique)"),
        new_code_cell("report.bandeau(ctx);\nreport.introduction(ctx);"),
    ]
    return assemble_notebook(thematique, cellules, SECTIONS)


def assemble_notebook(nom: str, cellules: list, sections) -> nbformat.NotebookNode:
    """First cells, then a `##` heading (when given) and one helper call per section; stable cell ids."""
    for titre, appel in sections:
        cellules = cellules + ([new_markdown_cell(f"## {titre}")] if titre else []) + [new_code_cell(appel)]
    nb = new_notebook(cells=cellules, metadata={"kernelspec": KERNELSPEC, "language_info": {"name": "python"}})
    for i, cellule in enumerate(nb.cells):
        cellule["id"] = f"{nom.replace('_', '-')}-{i:02d}"  # stable ids: same bytes on every run
    return nb


def save_notebook(nb: nbformat.NotebookNode, path: Path) -> Path:
    """Validate and write a notebook without outputs, byte-stable."""
    nbformat.validate(nb)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(nbformat.writes(nb) + "\n", encoding="utf-8")
    return path


def write_notebook(thematique: str, path: Path | None = None) -> Path:
    """Write the notebook of one thématique (default: notebooks/<thematique>.ipynb); returns its path."""
    return save_notebook(notebook(thematique), Path(path or NOTEBOOKS_DIR / f"{thematique}.ipynb"))


def main(thematiques: list[str] | None = None) -> list[Path]:
    return [write_notebook(t) for t in thematiques or THEMATIQUES]


if __name__ == "__main__":
    for chemin in main(sys.argv[1:]):
        print(chemin)
