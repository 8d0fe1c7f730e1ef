"""`create_year`: the four prefilled workbooks of a new follow-up year (`ctg nouvelle-annee`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from pipeline.config import DataLayout
from pipeline.inputs.common import TABLE_SUFFIXES
from pipeline.inputs.suivi import SHEETS
from pipeline.inputs.vocabulary import Vocabulary, load_vocabulary
from pipeline.referential import load_referentiel
from pipeline.territory import load_communes
from pipeline.workbooks import prefill, texts
from pipeline.workbooks.specs import SPECS
from pipeline.workbooks.xlsx import write_workbook


@dataclass
class NewYear:
    """What `create_year` did: files written, existing files kept, and the year each sheet was prefilled from."""

    folder: Path
    written: list[Path] = field(default_factory=list)
    kept: list[Path] = field(default_factory=list)
    sources: dict[str, int | None] = field(default_factory=dict)


def existing_sheet_files(folder: Path, sheet: str) -> list[Path]:
    return [folder / f"{sheet}{suffix}" for suffix in TABLE_SUFFIXES if (folder / f"{sheet}{suffix}").exists()]


def create_year(layout: DataLayout, annee: int, vocab: Vocabulary | None = None) -> NewYear:
    """Write `suivi/<annee>/<sheet>.xlsx` for every sheet that has no file yet (CSV or XLSX); never overwrite.

    Raises the readers' `InputError` (exit code 2) if last year's sheets cannot be read, and
    `ReferentielError` if the referential is invalid.
    """
    vocab = vocab or load_vocabulary()
    result = NewYear(layout.suivi(annee))
    todo = []
    for sheet in SHEETS:
        existing = existing_sheet_files(result.folder, sheet)
        result.kept += existing
        if not existing:
            todo.append(sheet)
    if not todo:
        return result

    referentiel = load_referentiel(layout.referentiel)
    previous = prefill.previous_sheets(layout, annee, vocab)
    structures = prefill.carried_structures(previous.get("equipements"), annee)
    rows = {
        "actions": lambda: prefill.actions_rows(referentiel, previous.get("actions"), vocab),
        "equipements": lambda: prefill.equipements_rows(structures, vocab),
        "activite": lambda: prefill.activite_rows(previous.get("activite"), previous.get("equipements"),
                                                  structures, annee, vocab),
        "financements": lambda: prefill.financements_rows(previous.get("financements"), annee, vocab),
    }
    lists = texts.vocabulary_lists(vocab, referentiel, load_communes(layout))
    territoire = referentiel.convention.territoire.nom
    result.folder.mkdir(parents=True, exist_ok=True)
    for sheet in todo:
        spec = SPECS[sheet]
        source = previous.get(sheet)
        result.sources[sheet] = source.year if source else None
        path = write_workbook(
            result.folder / f"{sheet}.xlsx", spec, rows[sheet](), annee=annee,
            titles=texts.titles(spec, annee, territoire),
            instructions=texts.instructions(spec, annee, layout.territoire, result.sources[sheet]),
            lists=texts.used_lists(spec, lists),
        )
        result.written.append(path)
    return result
