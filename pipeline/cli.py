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


def programme(prog_name: str | None = None) -> None:
    """The `ctg` program (pyproject's [project.scripts], `python -m pipeline`): the CLI, then the process ends without
    freeing the modules and tables the command loaded (`orphans.end_process`, atexit handlers included: ~0.6 s saved
    after `ctg run`). Tests call `app` itself."""
    from pipeline import orphans

    try:
        app(prog_name=prog_name)
        code = 0
    except SystemExit as fin:  # how click ends, with the command's exit code
        code = fin.code
    if code is None:
        code = 0
    elif not isinstance(code, int):
        err.print(str(code), highlight=False, markup=False)
        code = 1
    orphans.end_process(code)


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
    jobs: int = typer.Option(0, "--jobs",
                             help="Notebooks exécutés, et documents rendus, en parallèle (0 = nombre de cœurs)."),
    data_dir: Path = DataDirOpt,
    reports_dir: Path = typer.Option(Path("reports"), "--reports-dir", help="Dossier où publier les rapports."),
    periode: Optional[list[str]] = typer.Option(None, "--periode", metavar="S1|S2", help="Ajoute le support du comité de pilotage du semestre (copil_<annee>_S1.pdf…), d'après les dates de suivi des actions (répétable)."),
    sans_cache: bool = typer.Option(False, "--sans-cache", help="Refait tout, sans réutiliser ce qu'une exécution précédente a produit à partir des mêmes données."),
) -> None:
    """Valide les données, calcule les indicateurs, exécute les notebooks et publie les rapports.

    Seul ce qui dépend d'une donnée, d'un paramètre ou d'un code modifié est refait : une thématique dont les
    données n'ont pas changé n'est pas recalculée, et si rien n'a changé depuis la dernière exécution la
    commande s'arrête aussitôt (« rien à refaire »). --sans-cache refait tout.

    Les rapports sont publiés dans REPORTS_DIR/<territoire>/<annee>/ seulement quand ils sont complets :
    une exécution qui échoue laisse les rapports déjà publiés intacts. Avec --periode S1, le support du comité
    de pilotage du 1er semestre (état des actions au 30 juin, params.yaml copil.periodes) s'ajoute au jeu.

    Exemple : ctg run --annee 2024 --thematique petite_enfance --jobs 2
    """
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from pipeline.config import THEMATIQUES, load_params
    from pipeline.run import RunOptions, run as run_pipeline, up_to_date

    params = load_params()
    lay = layout(data_dir, territoire)
    annees = resolve_years(lay, annee, toutes_annees, params)
    themes = list(thematique or params.get("thematiques", THEMATIQUES))
    unknown = [t for t in themes if t not in params.get("thematiques", THEMATIQUES)]
    if unknown:
        fail(f"[red]Thématique inconnue : {', '.join(unknown)}[/red]. Valeurs possibles : {', '.join(params.get('thematiques', THEMATIQUES))}.", 2)
    periodes_connues = list((params.get("copil") or {}).get("periodes") or {"S1": "", "S2": ""})
    periodes = [p.upper() for p in dict.fromkeys(periode or [])]
    if any(p not in periodes_connues for p in periodes):
        fail(f"[red]Période inconnue : {', '.join(p for p in periodes if p not in periodes_connues)}[/red]. Valeurs possibles : {', '.join(periodes_connues)}.", 2)
    opts = RunOptions(lay, params, annees, themes, Path(reports_dir), jobs, periodes=periodes, cache=not sans_cache)
    if up_to_date(opts):
        console.print("[green]Rien à refaire :[/green] données, paramètres et code inchangés depuis la dernière "
                      "exécution ; les rapports publiés sont à jour.")
        for a in annees:
            console.print(f"[green]Rapports à jour :[/green] {Path(reports_dir) / lay.territoire / str(a)}")
        return
    total = 2 + len(annees) * (len(themes) + len(params.get("chapitres", []))) + len(annees)
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=err, transient=False) as progress:
        task = progress.add_task("Pipeline CTG", total=total)

        def step(message: str) -> None:
            progress.update(task, advance=1, description=message)

        opts.on_progress = step
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
    from rich.markup import escape

    err.print(f"[red]Erreur :[/red] {escape(str(exc))}", markup=True, highlight=False, soft_wrap=True)
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
        execution = params.get("execution", {})
        path = ex.run_one(job, timeout=int(execution.get("timeout", 600)), fork=execution.get("fork"))
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


@app.command()
def bilan(
    territoire: str = TerritoireOpt,
    data_dir: Path = DataDirOpt,
    reports_dir: Path = typer.Option(Path("reports"), "--reports-dir", help="Dossier où publier le bilan."),
    sans_preparation: bool = typer.Option(False, "--sans-preparation", help="Utilise les tables préparées telles quelles (étape « bilan » de dvc.yaml, après « prepare »)."),
) -> None:
    """Produit le bilan final de la convention (HTML et PDF) : cibles, questions évaluatives, enseignements.

    Valide les données et calcule les indicateurs (sauf --sans-preparation), exécute notebooks/bilan.ipynb puis
    publie REPORTS_DIR/<territoire>/bilan_<début>_<fin>/ (période du référentiel) seulement quand il est complet.
    Les enseignements des évaluateurs sont lus dans DIR/raw/territoires/<territoire>/suivi/bilan/enseignements.csv
    (ou .xlsx), s'il existe.

    Exemple : ctg bilan --data-dir data
    """
    from pipeline.bilan import run_bilan
    from pipeline.config import load_params

    try:
        path = run_bilan(layout(data_dir, territoire), load_params(), reports_dir, preparer=not sans_preparation,
                         on_progress=lambda message: err.print(message))
    except Exception as exc:  # noqa: BLE001
        handle_error(exc)
    console.print(f"[green]Bilan publié :[/green] {path}")


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


# ctg nouvelle-annee, ctg statut: the evaluator's yearly round trip ---------------------------------------------
@app.command("nouvelle-annee")
def nouvelle_annee(
    annee: int = typer.Argument(..., metavar="AAAA", help="Année de suivi à préparer, par exemple 2026."),
    territoire: str = TerritoireOpt,
    data_dir: Path = DataDirOpt,
) -> None:
    """Prépare les classeurs Excel de suivi d'une nouvelle année, préremplis d'après l'année précédente.

    Crée DIR/raw/territoires/<territoire>/suivi/AAAA/ avec equipements.xlsx, activite.xlsx, actions.xlsx et
    financements.xlsx : toutes les actions du référentiel avec leur statut de l'année précédente, les structures
    encore ouvertes, les indicateurs d'activité et les lignes de financement attendus (valeurs à saisir), des
    listes déroulantes et un onglet « Instructions ». Le pipeline lit ces classeurs directement.

    Un fichier existant n'est jamais remplacé : il est conservé et signalé (code de sortie 1 si les quatre
    feuilles de l'année existent déjà).

    Exemple : ctg nouvelle-annee 2026
    """
    from rich.markup import escape

    from pipeline.workbooks import create_year

    if not 1900 <= annee <= 2999:
        fail(f"[red]Année invalide :[/red] {annee} (attendu : une année sur quatre chiffres, par exemple 2026).", 2)
    try:
        result = create_year(layout(data_dir, territoire), annee)
    except Exception as exc:  # noqa: BLE001
        handle_error(exc)
    for path in result.kept:
        console.print(f"Conservé (existe déjà, non modifié) : {escape(str(path))}", highlight=False, soft_wrap=True)
    if not result.written:
        fail(f"[red]Rien à créer :[/red] les quatre feuilles de {annee} existent déjà dans "
             f"{escape(str(result.folder))} ; aucun fichier n'a été remplacé.", 1)
    for path in result.written:
        source = result.sources.get(path.stem)
        origin = f"prérempli d'après le suivi {source}" if source else "aucune année précédente : à remplir entièrement"
        console.print(f"[green]Créé :[/green] {escape(str(path))} ({origin})", highlight=False, soft_wrap=True)
    console.print(f"Ensuite : remplissez les cellules jaunes, puis « ctg statut --annee {annee} », « ctg validate » "
                  f"et « ctg run --annee {annee} ».", highlight=False, soft_wrap=True)


@app.command("statut")
def statut(
    annee: Optional[int] = typer.Option(None, "--annee", help="Année de suivi. Défaut : la dernière année présente dans les données."),
    territoire: str = TerritoireOpt,
    data_dir: Path = DataDirOpt,
) -> None:
    """Liste ce qui manque encore pour une année de suivi, feuille par feuille, avec les nombres.

    Fichiers absents ou illisibles, actions sans statut, avancement ou date de suivi, indicateurs d'activité
    sans valeur, lignes de financement sans montant, structures sans capacité. Commande d'information : code de
    sortie 0 ; les valeurs erronées sont signalées par « ctg validate ».

    Exemple : ctg statut --annee 2026
    """
    from rich.markup import escape
    from rich.table import Table

    from pipeline.workbooks import year_status
    from pipeline.workbooks.status import count

    lay = layout(data_dir, territoire)
    if annee is None:
        years = years_in_data(lay)
        if not years:
            console.print(f"Aucune année de suivi dans {escape(str(lay.territoire_dir / 'suivi'))} : "
                          "créez-en une avec « ctg nouvelle-annee AAAA ».", highlight=False)
            return
        annee = years[-1]
    try:
        items = year_status(lay, annee)
    except Exception as exc:  # noqa: BLE001
        handle_error(exc)
    table = Table(title=f"Suivi {annee} : état de remplissage des feuilles", title_justify="left")
    table.add_column("Feuille")
    table.add_column("État")
    table.add_column("Détail")
    for item in items:
        state = "[green]complet[/green]" if item.complet else "[yellow]à compléter[/yellow]"
        table.add_row(escape(item.feuille), state, escape(item.texte))
    console.print(table, highlight=False)
    todo = sum(not item.complet for item in items)
    if todo:
        console.print(f"{count(todo, 'point', 'points')} à compléter pour {annee}. Une fois remplis : « ctg validate », "
                      f"puis « ctg run --annee {annee} ».", highlight=False, soft_wrap=True)
    else:
        console.print(f"[green]Tout est rempli pour {annee}.[/green] Vérifiez les valeurs avec « ctg validate », "
                      f"puis produisez les rapports avec « ctg run --annee {annee} ».", highlight=False, soft_wrap=True)


# ctg nouvelle-thematique: a seventh thématique (docs/etendre.md) --------------------------------------------------
@app.command("nouvelle-thematique")
def nouvelle_thematique(
    thematique: str = typer.Argument(..., metavar="ID", help="Identifiant snake_case de la thématique, par exemple logement."),
    libelle: Optional[str] = typer.Option(None, "--libelle", help="Libellé affiché. Défaut : celui du référentiel (thématiques sans feuille de route)."),
    territoire: str = TerritoireOpt,
    data_dir: Path = DataDirOpt,
) -> None:
    """Ajoute une thématique : référentiel, indicateurs de départ, notebook et params.yaml.

    Dans DIR/raw/territoires/<territoire>/ctg.yaml, la thématique reprend les priorités de la Caf notées pour elle
    sous « thematiques_sans_feuille_de_route », avec UN axe, UN objectif et UNE action provisoires « À compléter par
    le comité ». Le catalogue des indicateurs reçoit des indicateurs calculables avec les données existantes, le
    notebook notebooks/ID.ipynb est écrit d'après le modèle commun et ID rejoint « thematiques » de params.yaml :
    le prochain « ctg run » produit thematiques/ID.html et .pdf. Les commentaires des fichiers YAML sont conservés.

    Refuse un identifiant déjà utilisé (code de sortie 1) ou mal formé (code 2) ; ne remplace jamais un fichier.

    Exemple : ctg nouvelle-thematique logement --libelle "Logement et habitat"
    """
    from rich.markup import escape

    from pipeline.scaffold import ScaffoldError, nouvelle_thematique as scaffold

    try:
        result = scaffold(thematique, layout(data_dir, territoire), libelle)
    except ScaffoldError as exc:
        fail(f"[red]Erreur :[/red] {escape(str(exc))}", exc.exit_code)
    except Exception as exc:  # noqa: BLE001
        handle_error(exc)
    console.print(f"[green]Thématique « {escape(result.thematique)} » ({escape(result.libelle)}) ajoutée.[/green]")
    for path in result.created:
        console.print(f"Créé : {escape(str(path))}", highlight=False, soft_wrap=True)
    for path in result.modified:
        console.print(f"Modifié : {escape(str(path))}", highlight=False, soft_wrap=True)
    console.print(f"Indicateurs ajoutés : {', '.join(result.indicateurs)}", highlight=False, soft_wrap=True)
    for note in result.notes:
        console.print(escape(note), highlight=False, soft_wrap=True)
    console.print(f"Ensuite : complétez avec le comité l'axe, l'objectif et l'action « À compléter » de ctg.yaml, puis "
                  f"« ctg validate » et « ctg run --thematique {escape(result.thematique)} ».", highlight=False,
                  soft_wrap=True)
