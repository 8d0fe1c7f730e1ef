"""Build the rule context and one frame per dataset of `rules.RULES` from a data directory.

Frames carry `_fichier` (file name as stored in problems) and `_ligne` (line as a spreadsheet shows it, NaN when
a row has no line), plus the derived `_…` columns the rules need. Files the readers refuse are reported through
the collector and left out of the frames.
"""

from __future__ import annotations

import hashlib
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from pipeline.checks import reading, sheets, tables
from pipeline.checks.reading import READ_ERRORS, Collector, read_located
from pipeline.checks.result import AVERTISSEMENT, Problem
from pipeline.checks.rules import Context
from pipeline.config import THEMATIQUES, DataLayout
from pipeline.inputs import caf
from pipeline.inputs.common import InputError, Schema, coerce, find_table, normalize_label
from pipeline.inputs.suivi import suivi_years
from pipeline.inputs.vocabulary import KINDS, load_vocabulary

POPULATIONS = Schema("populations_legales", {"code_insee": "str", "millesime": "int", "population_municipale": "int",
                                             "population_totale": "int", "source": "str"},
                     required=("code_insee", "millesime", "population_municipale"))
ENSEIGNEMENTS = Schema("enseignements", {"thematique": "str", "type": "str", "texte": "str"},
                       required=("type", "texte"))
INDICE_PRIX = Schema("indice_prix", {"annee": "int", "indice": "float", "source": "str"}, required=("annee", "indice"))
COMMUNES = Schema("communes", {"code_insee": "str", "commune": "str", "niveau_service": "str", "qpv": "str"},
                  required=("code_insee", "commune"))


def build(layout: DataLayout, params: dict, processed: bool | str = "auto") -> tuple[Collector, Context, dict]:
    """Read every input (and the processed tables when asked); return the collector, context and frames."""
    collector = Collector(layout.data_dir)
    ctx = Context(layout.territoire, thematiques=list(params.get("thematiques", THEMATIQUES)),
                  seuil=float(params.get("secret", {}).get("seuil", 5)))
    vocab = _vocabulary(ctx, collector)
    _referential(layout, params, ctx, collector)
    frames: dict[str, pd.DataFrame] = {}
    frames["territoire.communes"] = _communes(layout, ctx, collector)
    _geometries(layout, ctx, collector)
    frames.update(sheets.frames(layout, ctx, collector, vocab))
    frames["caf"], frames["caf.couverture"] = _caf(layout, ctx, collector)
    frames["insee.populations"], frames["insee.couverture"] = _populations(layout, ctx, collector)
    frames.update(_optional(layout, collector))
    if _want_processed(layout, processed):
        frames.update(tables.processed_frames(layout, params, ctx, collector, vocab))
    elif processed == "auto" and layout.processed.is_dir():
        collector.result.skipped.append("tables préparées (processed/) plus anciennes que les données : "
                                        "elles seront contrôlées après leur calcul")
    return collector, ctx, {k: v for k, v in frames.items() if v is not None}


def processed_context(layout: DataLayout, params: dict):
    """(context, vocabulary) for checking the processed tables alone (raw files already reported)."""
    scratch = Collector(layout.data_dir)
    ctx = Context(layout.territoire, thematiques=list(params.get("thematiques", THEMATIQUES)),
                  seuil=float(params.get("secret", {}).get("seuil", 5)))
    vocab = _vocabulary(ctx, scratch)
    _referential(layout, params, ctx, scratch)
    _communes(layout, ctx, scratch)
    return ctx, vocab


def _want_processed(layout: DataLayout, processed: bool | str) -> bool:
    if processed != "auto":
        return bool(processed)
    paths = [layout.processed / f"{name}.parquet" for name in tables.PROCESSED]
    if not all(p.is_file() for p in paths):
        return False
    newest_input = max((p.stat().st_mtime for p in layout.raw.rglob("*") if p.is_file()), default=0.0)
    return min(p.stat().st_mtime for p in paths) >= newest_input


def _concat(frames: list[pd.DataFrame]) -> pd.DataFrame | None:
    frames = [f for f in frames if f is not None]
    return pd.concat(frames, ignore_index=True) if frames else None


# --- metadata and territory ------------------------------------------------------------------------------------

def _vocabulary(ctx: Context, collector: Collector):
    from pipeline.inputs.vocabulary import VOCABULARY_FILE

    try:
        vocab = load_vocabulary()
    except (*READ_ERRORS, TypeError) as exc:
        collector.file(VOCABULARY_FILE)
        collector.reader_problem(VOCABULARY_FILE, exc)
        return None
    ctx.vocabulary = {kind: vocab.codes(kind) for kind in KINDS}
    return vocab


def _referential(layout: DataLayout, params: dict, ctx: Context, collector: Collector) -> None:
    from pipeline.referential import ReferentielError

    name = collector.file(layout.referentiel)
    folders = suivi_years(layout.territoire_dir)
    annees = [int(a) for a in params.get("annees", [])]
    try:
        ref = _load_referentiel(layout.referentiel)
    except ReferentielError as exc:
        collector.rule(False)
        for where, message in exc.erreurs:
            collector.add(Problem(name, message, column=where, hint="Voir docs/referentiel.md et ctg referentiel"))
        ctx.first_year = min(annees or folders or [0]) or None
        ctx.last_year = max(annees + folders or [0]) or None
        return
    collector.rule(True)
    ctx.action_ids = set(ref.actions_frame()["action_id"])
    # every thématique of the convention is valid in the inputs, even when params.yaml builds only some of them
    ctx.thematiques = list(dict.fromkeys([*ctx.thematiques, *(t.id for t in ref.thematiques)]))
    ctx.first_year = ref.convention.periode.debut
    ctx.last_year = max([ref.convention.periode.fin, *folders])


@lru_cache(maxsize=4)
def _parsed_referentiel(digest: str, path: Path):
    from pipeline.referential import load_referentiel

    return load_referentiel(path)


def _load_referentiel(path: Path):
    """The referential, parsed once per content (the YAML parser is slow; checks run often in one process)."""
    try:
        digest = hashlib.sha256(Path(path).read_bytes()).hexdigest()
    except OSError:
        digest = ""
    return _parsed_referentiel(digest, Path(path))


def _communes(layout: DataLayout, ctx: Context, collector: Collector) -> pd.DataFrame | None:
    from pipeline.territory import TerritoireError, load_communes

    path = layout.communes
    name = collector.file(path)
    df = read_located(collector, path, COMMUNES.names, lambda raw: coerce(raw, COMMUNES, path)) \
        if path.is_file() else None
    try:
        communes = load_communes(layout)   # the pipeline's own reader decides what is accepted
    except (*READ_ERRORS, TerritoireError) as exc:
        if df is not None:   # read above, refused by the territory reader: its reason unless a rule says why
            _defer(collector, name, exc, path)
        elif not path.is_file():
            collector.external_problem(path, "fichier introuvable", hint="Liste des communes du territoire")
        return df.assign(_fichier=name, code_insee=df["code_insee"].str.zfill(5)) if df is not None else None
    ctx.communes = set(communes["code_insee"].astype(str))
    from pipeline.territory import qpv_list

    ctx.qpv = {q for cell in communes["qpv"] for q in qpv_list(cell)}
    return df.assign(_fichier=name, code_insee=df["code_insee"].str.zfill(5)) if df is not None else None


def _defer(collector: Collector, name: str, exc: Exception, path: Path) -> None:
    """A territory reader refused a file our rules could read: report its reason after the rules, only if
    no rule found an error in that file (the rule's message has the line and value)."""
    def fail() -> None:
        raise InputError(path, str(exc).removeprefix(f"{path} : "), hint="Voir docs/donnees.md")

    collector.confirm.append((name, fail))


def _geometries(layout: DataLayout, ctx: Context, collector: Collector) -> None:
    from pipeline.territory import TerritoireError, geometries_path, load_geometries

    path = geometries_path(layout)
    if not path.exists() or ctx.communes is None:
        return
    collector.file(path)
    try:
        load_geometries(layout)
    except (*READ_ERRORS, TerritoireError) as exc:
        collector.rule(False)
        collector.add(Problem(collector.name(path), str(exc).split(" : ", 1)[-1], hint="Contours des communes "
                              "(GeoJSON, propriété code_insee) : voir docs/donnees.md"))
        return
    collector.rule(True)


# --- Caf exports and INSEE populations -------------------------------------------------------------------------

def _caf(layout: DataLayout, ctx: Context, collector: Collector):
    folder = layout.caf
    if not folder.is_dir():
        collector.external_problem(folder, "dossier des exports Caf absent", severity=AVERTISSEMENT,
                                   hint="Déposez les exports de data.caf.fr (voir docs/donnees.md)")
        return None, None
    frames, coverage = [], []
    for path in sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith(".")):
        if path.stem.lower() not in caf.DATASETS or path.suffix.lower() not in (".csv", ".xlsx"):
            collector.add(Problem(collector.name(path), "fichier non reconnu : il n'est pas lu",
                                  severity=AVERTISSEMENT,
                                  hint=f"Fichiers reconnus : {', '.join(sorted(caf.DATASETS))}"))
            continue
        name = collector.file(path)
        try:
            find_table(folder, path.stem)
        except READ_ERRORS as exc:
            collector.reader_problem(path, exc)
            continue

        def read(raw, path=path):
            caf.read_caf_file(path)   # the pipeline's own reader: what it refuses is a problem
            return reading.caf_long(path, raw)

        long = read_located(collector, path, reading.caf_expected_names(path), read)
        if long is None:
            continue
        frames.append(long.assign(_fichier=name))
        coverage.append(_caf_coverage(caf.dataset_for(path), long, ctx, name))
    return _concat(frames), _concat(coverage)


def _caf_coverage(dataset, long: pd.DataFrame, ctx: Context, name: str) -> pd.DataFrame | None:
    """One row per (year, expected code) with `_absent` set where the territory is missing from the export."""
    if dataset.niveau == "epci":
        expected = {ctx.territoire}
    elif dataset.niveau == "commune" and dataset.famille == dataset.name and ctx.communes:
        expected = ctx.communes     # communal files cover every commune (per-level files only large ones)
    else:
        return None
    rows = []
    for year, group in long.groupby("annee"):
        present = set(group["code_geo"])
        rows += [(year, code, None if code in present else code) for code in sorted(expected)]
    frame = pd.DataFrame(rows, columns=["annee", "code", "_absent"])
    return frame.assign(_fichier=name, _ligne=np.nan)


def _populations(layout: DataLayout, ctx: Context, collector: Collector):
    from pipeline.territory import TerritoireError, load_populations, millesime_population, populations_path

    path = populations_path(layout)
    if not path.is_file():
        collector.external_problem(path, "fichier introuvable",
                                   hint="Populations légales INSEE : voir docs/donnees.md")
        return None, None
    name = collector.file(path)
    df = read_located(collector, path, POPULATIONS.names, lambda raw: coerce(raw, POPULATIONS, path))
    if df is None:
        return None, None
    try:
        load_populations(layout)
    except (*READ_ERRORS, TerritoireError) as exc:
        _defer(collector, name, exc, path)
    df = df.assign(_fichier=name, code_insee=df["code_insee"].str.zfill(5))
    for column in ("millesime", "population_municipale", "population_totale"):
        df[column] = df[column].astype("float64")
    coverage = None
    if ctx.communes and ctx.first_year and ctx.last_year:
        have = set(zip(df["code_insee"], df["millesime"].astype(int)))
        missing = [f"{code}, millésime {millesime_population(y)}" for y in range(ctx.first_year, ctx.last_year + 1)
                   for code in sorted(ctx.communes) if (code, millesime_population(y)) not in have]
        coverage = pd.DataFrame({"code_insee": missing, "_absent": missing}, dtype=object).assign(
            _fichier=name, _ligne=np.nan)
    return df, coverage


def _optional(layout: DataLayout, collector: Collector) -> dict[str, pd.DataFrame]:
    """Optional inputs of the final evaluation (pipeline.impact), when present: the evaluators' lessons
    (`suivi/bilan/enseignements`) and a price index (`insee/indice_prix`)."""
    found = {}
    for dataset, folder, schema in (("bilan.enseignements", layout.territoire_dir / "suivi" / "bilan", ENSEIGNEMENTS),
                                    ("insee.indice_prix", layout.insee, INDICE_PRIX)):
        try:
            path = find_table(folder, schema.name) if folder.is_dir() else None
        except READ_ERRORS as exc:
            collector.file(exc.file)
            collector.reader_problem(Path(exc.file), exc)
            continue
        if path is None:
            continue
        name = collector.file(path)
        df = read_located(collector, path, schema.names,
                          lambda raw, path=path, schema=schema: coerce(raw, schema, path))
        if df is not None:
            found[dataset] = df.assign(_fichier=name)
    if "bilan.enseignements" in found:
        df = found["bilan.enseignements"]
        df["_theme"] = df["thematique"].map(normalize_label)
        df["_type"] = df["type"].map(lambda t: normalize_label(t).rstrip("s"))
    if "insee.indice_prix" in found:
        found["insee.indice_prix"]["annee"] = found["insee.indice_prix"]["annee"].astype("float64")
    return found


def confirm(collector: Collector) -> None:
    """Run the pipeline's own sheet readers on files with no error so far: what they refuse is a problem."""
    for name, read in collector.confirm:
        if collector.has_error(name):
            continue
        try:
            read()
        except READ_ERRORS as exc:
            collector.reader_problem(collector.data_dir / name, exc)
            collector.rule(False)
            continue
        collector.rule(True)
