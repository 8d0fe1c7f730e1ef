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


@app.command()
def validate(
    territoire: str = TerritoireOpt,
    data_dir: Path = DataDirOpt,
    rapport: Optional[Path] = typer.Option(None, "--rapport", help="Écrit aussi le bilan des contrôles (JSON) dans ce fichier."),
) -> None:
    """Contrôle toutes les données d'entrée ; une ligne par problème (fichier, ligne, colonne, règle, valeur).

    Code de sortie : 0 si tout est correct, 2 si des données sont erronées, 1 pour toute autre erreur.

    Exemple : ctg validate --data-dir data
    """
    from pipeline import checks
    from pipeline.config import load_params

    try:
        result = checks.validate(layout(data_dir, territoire), load_params(), output=rapport)
    except Exception as exc:  # noqa: BLE001
        handle_error(exc)
    checks.print_result(result, console=console, err=err)
    if not result.ok:
        raise typer.Exit(2)


@app.command()
def prepare(territoire: str = TerritoireOpt, data_dir: Path = DataDirOpt) -> None:
    """Calcule les tables préparées (indicateurs, actions, financements, équipements) dans DIR/processed/.

    Étape « prepare » de dvc.yaml ; `ctg run` l'enchaîne automatiquement.

    Exemple : ctg prepare --data-dir data
    """
    from pipeline.config import load_params
    from pipeline.run import stage_prepare

    try:
        paths = stage_prepare(layout(data_dir, territoire), load_params())
    except Exception as exc:  # noqa: BLE001
        handle_error(exc)
    for name, path in paths.items():
        console.print(f"{name} : {path}")


@app.command()
def execute(
    annee: int = typer.Option(..., "--annee", help="Année du rapport."),
    thematique: str = typer.Option(..., "--thematique", help="Identifiant de la thématique."),
    territoire: str = TerritoireOpt,
    data_dir: Path = DataDirOpt,
) -> None:
    """Exécute le notebook d'une thématique pour une année (étape « execute » de dvc.yaml).

    Exemple : ctg execute --annee 2024 --thematique petite_enfance
    """
    from pipeline import execute as ex
    from pipeline.config import load_params
    from pipeline.run import execution_jobs

    params = load_params()
    (job,) = execution_jobs(layout(data_dir, territoire), [annee], [thematique])
    try:
        path = ex.run_one(job, timeout=int(params.get("execution", {}).get("timeout", 600)))
    except Exception as exc:  # noqa: BLE001
        handle_error(exc)
    console.print(f"Notebook exécuté : {path}")


@app.command()
def publish(
    annee: int = typer.Option(..., "--annee", help="Année du rapport."),
    territoire: str = TerritoireOpt,
    data_dir: Path = DataDirOpt,
    reports_dir: Path = typer.Option(Path("reports"), "--reports-dir", help="Dossier où publier les rapports."),
) -> None:
    """Met en forme les notebooks exécutés d'une année (HTML, PDF) et publie le jeu de rapports (étape « publish »).

    Exemple : ctg publish --annee 2024
    """
    from pipeline.config import load_params
    from pipeline.run import stage_publish

    params = load_params()
    try:
        path = stage_publish(layout(data_dir, territoire), params, annee, list(params["thematiques"]), reports_dir)
    except Exception as exc:  # noqa: BLE001
        handle_error(exc)
    console.print(f"[green]Rapports publiés :[/green] {path}")


# ctg referentiel ----------------------------------------------------------------------------------------------
from enum import Enum  # noqa: E402


class FormatReferentiel(str, Enum):
    json = "json"
    markdown = "markdown"


@app.command("referentiel")
def referentiel(
    territoire: str = TerritoireOpt,
    data_dir: Path = DataDirOpt,
    format: FormatReferentiel = typer.Option(FormatReferentiel.json, "--format", help="json (lisible par une machine) ou markdown (annexe « feuille de route »)."),
) -> None:
    """Affiche le référentiel de la CTG (thématiques, axes, objectifs, actions, cibles) après l'avoir validé.

    Lit DIR/raw/territoires/<territoire>/ctg.yaml. Code de sortie 2 si le fichier est absent ou invalide.

    Exemple : ctg referentiel --format markdown > feuille_de_route.md
    """
    import sys

    from pipeline.referential import ReferentielError, load_referentiel, to_json, to_markdown

    try:
        ref = load_referentiel(layout(data_dir, territoire).referentiel)
    except ReferentielError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from None
    sys.stdout.write(to_json(ref) + "\n" if format is FormatReferentiel.json else to_markdown(ref))


# ctg indicateurs, ctg echantillon -----------------------------------------------------------------------------
class FormatTable(str, Enum):
    csv = "csv"
    json = "json"


@app.command("indicateurs")
def indicateurs(
    annee: int = typer.Option(..., "--annee", help="Année de référence des données (ex. 2024)."),
    format: FormatTable = typer.Option(FormatTable.csv, "--format", help="csv, ou json (liste d'enregistrements ; valeur absente = null)."),
    territoire: str = TerritoireOpt,
    data_dir: Path = DataDirOpt,
) -> None:
    """Affiche la table des indicateurs d'une année (colonnes de indicateurs.parquet).

    Lit DIR/processed/<territoire>/indicateurs.parquet s'il est à jour, sinon calcule depuis DIR/raw/.
    Code de sortie 2 si une donnée d'entrée est illisible.

    Exemple : ctg indicateurs --annee 2024 --format json
    """
    import sys

    from pipeline.config import load_params
    from pipeline.prepare import indicator_table

    try:
        table = indicator_table(layout(data_dir, territoire), load_params(), annee)
    except Exception as exc:  # noqa: BLE001
        handle_error(exc)
    if format is FormatTable.json:
        sys.stdout.write(table.to_json(orient="records", force_ascii=False, indent=1) + "\n")
    else:
        sys.stdout.write(table.to_csv(index=False))


@app.command("echantillon")
def echantillon(data_dir: Path = DataDirOpt) -> None:
    """Régénère les données d'illustration 2021-2025 (exports Caf et feuilles de suivi) sous DIR/raw/.

    Générateur déterministe : deux exécutions écrivent les mêmes octets. Écrit aussi DIR/raw/ILLUSTRATION.md,
    qui fait afficher le bandeau « Données d'illustration » dans les rapports.

    Exemple : ctg echantillon --data-dir data
    """
    from pipeline.sample import generate

    try:
        paths = generate(Path(data_dir))
    except Exception as exc:  # noqa: BLE001
        handle_error(exc)
    console.print(f"[green]{len(paths)} fichiers d'illustration écrits[/green] sous {Path(data_dir) / 'raw'}")


# ctg verify ---------------------------------------------------------------------------------------------------
@app.command("verify")
def verify(
    report_dir: Path = typer.Argument(..., metavar="REPORT_DIR",
                                      help="Dossier d'un jeu de rapports publié, par exemple reports/200040459/2024."),
    data_dir: Path = DataDirOpt,
) -> None:
    """Vérifie qu'un jeu de rapports publié est bien celui des données actuelles (grâce à son manifest.json).

    Recalcule l'empreinte de chaque rapport et de chaque fichier d'entrée (données, catalogue, notebooks), les
    compare au manifest.json écrit à la publication et, s'il existe, à dvc.lock. Affiche chaque différence :
    rapport modifié, manquant ou en trop ; entrée modifiée, disparue ou nouvelle ; désaccord avec dvc.lock.

    Code de sortie : 0 si tout correspond, 1 sinon (ou si manifest.json est absent ou illisible).

    Exemple : ctg verify reports/200040459/2024
    """
    from rich.markup import escape

    from pipeline import manifest

    try:
        result = manifest.check(report_dir, layout(data_dir, DEFAULT_TERRITOIRE))
    except manifest.ManifestError as exc:
        fail(f"[red]Erreur :[/red] {escape(str(exc))}", 1)
    for line in manifest.report_lines(result, report_dir):
        console.print(line, markup=False, highlight=False, soft_wrap=True)
    if not result.ok:
        raise typer.Exit(1)
