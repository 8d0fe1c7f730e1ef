"""Command-line interface `ctg` (typer + rich). Messages are in French.

Each command is a thin shell over a pipeline function: parse options, call, print, exit code.
Every command's help ends with an example ("Exemple : ...").
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer
from rich.console import Console

from pipeline import __version__
from pipeline.config import DEFAULT_TERRITOIRE, DataLayout

app = typer.Typer(
    name="ctg",
    help="Pipeline d'évaluation de la Convention territoriale globale (Caf de la Drôme × Montélimar Agglomération).",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode="rich",
)
console = Console()
err = Console(stderr=True)

# Shared options -------------------------------------------------------------------------------------------
DataDirOpt = typer.Option(Path("data"), "--data-dir", help="Dossier des données (entrées sous DIR/raw/, tables sous DIR/processed/).")
TerritoireOpt = typer.Option(DEFAULT_TERRITOIRE, "--territoire", help="SIREN de l'EPCI signataire de la CTG.")


def layout(data_dir: Path, territoire: str) -> DataLayout:
    return DataLayout(Path(data_dir), territoire)


def _version(value: bool) -> None:
    if value:
        console.print(f"ctg {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="Affiche la version et quitte."),
) -> None:
    """Pipeline d'évaluation de la CTG : validation des données, indicateurs, rapports HTML et PDF.

    Exemple : ctg run --annee 2024
    """


# Helpers shared by the commands ------------------------------------------------------------------------------
def years_in_data(lay: DataLayout) -> list[int]:
    """Years that have a follow-up folder (suivi/<annee>/) for the territory, sorted."""
    suivi = lay.territoire_dir / "suivi"
    return sorted(int(p.name) for p in suivi.iterdir() if p.is_dir() and p.name.isdigit()) if suivi.is_dir() else []


def resolve_years(lay: DataLayout, annee: Optional[list[int]], toutes: bool, params: dict) -> list[int]:
    available = years_in_data(lay)
    if toutes:
        return [a for a in params.get("annees", available) if a in available] or available
    if annee:
        missing = [a for a in annee if a not in available]
        if missing:
            err.print(f"[red]Aucune donnée de suivi pour {', '.join(map(str, missing))}[/red] "
                      f"(dossier attendu : {lay.territoire_dir / 'suivi' / str(missing[0])}).")
            raise typer.Exit(2)
        return sorted(annee)
    if not available:
        err.print(f"[red]Aucune année de suivi trouvée dans {lay.territoire_dir / 'suivi'}.[/red]")
        raise typer.Exit(2)
    return [available[-1]]


def fail(message: str, code: int) -> None:
    err.print(message)
    raise typer.Exit(code)


@app.command()
def run(
    territoire: str = TerritoireOpt,
    annee: Optional[list[int]] = typer.Option(None, "--annee", help="Année du rapport (répétable). Défaut : la dernière année présente dans les données."),
    toutes_annees: bool = typer.Option(False, "--toutes-annees", help="Toutes les années de params.yaml présentes dans les données."),
    thematique: Optional[list[str]] = typer.Option(None, "--thematique", help="Thématique à produire (répétable). Défaut : les six."),
    jobs: int = typer.Option(0, "--jobs", help="Notebooks exécutés en parallèle (0 = nombre de cœurs)."),
    data_dir: Path = DataDirOpt,
    reports_dir: Path = typer.Option(Path("reports"), "--reports-dir", help="Dossier où publier les rapports."),
) -> None:
    """Valide les données, calcule les indicateurs, exécute les notebooks et publie les rapports.

    Les rapports sont publiés dans REPORTS_DIR/<territoire>/<annee>/ seulement quand ils sont complets :
    une exécution qui échoue laisse les rapports déjà publiés intacts.

    Exemple : ctg run --annee 2024 --thematique petite_enfance --jobs 2
    """
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from pipeline.config import THEMATIQUES, load_params
    from pipeline.run import RunOptions, run as run_pipeline

    params = load_params()
    lay = layout(data_dir, territoire)
    annees = resolve_years(lay, annee, toutes_annees, params)
    themes = list(thematique or params.get("thematiques", THEMATIQUES))
    unknown = [t for t in themes if t not in params.get("thematiques", THEMATIQUES)]
    if unknown:
        fail(f"[red]Thématique inconnue : {', '.join(unknown)}[/red]. Valeurs possibles : {', '.join(params.get('thematiques', THEMATIQUES))}.", 2)
    total = 2 + len(annees) * len(themes) + len(annees)
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=err, transient=False) as progress:
        task = progress.add_task("Pipeline CTG", total=total)

        def step(message: str) -> None:
            progress.update(task, advance=1, description=message)

        opts = RunOptions(lay, params, annees, themes, Path(reports_dir), jobs, on_progress=step)
        try:
            published = run_pipeline(opts)
        except Exception as exc:  # noqa: BLE001 - turned into an exit code with a French message
            progress.stop()
            handle_error(exc)
    for path in published:
        console.print(f"[green]Rapports publiés :[/green] {path}")


def handle_error(exc: BaseException) -> None:
    """Print a pipeline error in French and exit: 2 for data errors, 1 for anything else."""
    code = 2 if getattr(exc, "exit_code", None) == 2 else 1
    err.print(f"[red]Erreur :[/red] {exc}", markup=True, highlight=False)
    raise typer.Exit(code)
