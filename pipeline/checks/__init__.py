"""Data checks (great-expectations): every raw input and every processed table against the rule table.

    result = validate(layout, params, output=path)   # ValidationResult: .ok, .problems, .warnings, .files,
                                                      #   .rules_run, .rules_passed
    validate_or_raise(layout, params, output=path)   # raises DataError (exit code 2) when a rule is broken
    print_result(result, console=, err=)              # one French line per problem, then a summary
    quality_markdown(result_or_json_path)             # the report set's data-quality page (pandoc Markdown)
    secondary_suppression(table, structures, catalogue)   # statistical secrecy of the indicator table

Rules are declared in one place (`pipeline.checks.rules.RULES`). A file the readers refuse is one problem and
its other checks are skipped; every other file is still checked, so the user sees all problems at once.
Warnings (a coverage rate above 100, a missing expected value…) are printed but do not fail.
Each dataset frame's outcome is kept (`pipeline.checks.cache`, keyed by content): an unchanged frame is replayed,
and great-expectations is not even imported when nothing changed (`cache=False` or `CTG_CACHE=0`: off).
"""

from __future__ import annotations

from pathlib import Path

from pipeline.checks.quality import quality_markdown
from pipeline.checks.result import DataError, Problem, ValidationResult, print_result
from pipeline.checks.secret import secondary_suppression
from pipeline.config import DataLayout

__all__ = ["DataError", "Problem", "ValidationResult", "print_result", "quality_markdown", "secondary_suppression",
           "validate", "validate_or_raise", "validate_processed_or_raise"]


def validate(layout: DataLayout, params: dict, output: Path | None = None,
             processed: bool | str = "auto", cache: bool | None = None) -> ValidationResult:
    """Check every raw input of `layout` (and the processed tables: `processed=True`, `False`, or `"auto"` =
    when they exist and are newer than the raw inputs). Writes the result as JSON to `output` when given.

    A dataset frame validated before with the same content, rules and code is not validated again: its stored
    outcome is replayed (same result). `cache=False`, or `CTG_CACHE=0` when `cache` is None, turns that off."""
    from pipeline.checks import datasets, engine
    from pipeline.checks.rules import RULES

    collector, ctx, frames = datasets.build(layout, params, processed)
    store = _store(layout, cache)
    for dataset in RULES:
        if dataset in frames:
            engine.run(dataset, frames[dataset], ctx, collector, store)
    datasets.confirm(collector)
    result = collector.result
    result.data_dir = str(layout.data_dir)
    result.sorted()
    if output is not None:
        result.write_json(output)
    return result


def validate_or_raise(layout: DataLayout, params: dict, output: Path | None = None,
                      processed: bool | str = False, cache: bool | None = None) -> ValidationResult:
    """`validate`, then raise `DataError` (exit code 2, French message listing the problems) if any."""
    result = validate(layout, params, output=output, processed=processed, cache=cache)
    if not result.ok:
        raise DataError(result)
    return result


def validate_processed_or_raise(layout: DataLayout, params: dict, previous: ValidationResult | None = None,
                                output: Path | None = None, cache: bool | None = None) -> ValidationResult:
    """Check the processed tables only (after the prepare stage), merged with the raw inputs' `previous`
    result; write `output`; raise `DataError` if a processed table breaks a rule. `cache`: as for `validate`."""
    from pipeline.checks import datasets, engine, tables

    collector = datasets.Collector(layout.data_dir)
    ctx, vocab = datasets.processed_context(layout, params)
    frames = tables.processed_frames(layout, params, ctx, collector, vocab)
    store = _store(layout, cache)
    for name, frame in frames.items():
        engine.run(name, frame, ctx, collector, store)
    result = collector.result
    result.data_dir = str(layout.data_dir)
    result = previous.merge(result) if previous is not None else result.sorted()
    if output is not None:
        result.write_json(output)
    if not result.ok:
        raise DataError(result)
    return result


def _store(layout: DataLayout, cache: bool | None):
    """The validation cache of `layout` (entries unused for a month removed), or None when it is off."""
    from pipeline.checks import cache as validation_cache

    if not validation_cache.enabled(cache):
        return None
    store = validation_cache.Store(validation_cache.folder(layout))
    store.purge()
    return store
