"""Run the rule table with great-expectations: one suite per dataset frame, one validation per frame.

great-expectations is imported once per process, lazily (it takes seconds), with an ephemeral context and no
progress bars. Each failing expectation's `unexpected_index_list` (the frame's index) is mapped back to the rows'
`_fichier` and `_ligne`, and grouped into one `Problem` per (file, rule, column).

The rules are resolved (`plan`) without GX, so that with a cache (`pipeline.checks.cache`) a frame validated before
is replayed from its stored outcome and GX is imported only when some frame must really be validated.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import pandas as pd

from pipeline.checks import cache
from pipeline.checks.reading import Collector
from pipeline.checks.result import MAX_VALUES, Problem, value_text
from pipeline.checks.rules import RULES, Context, Rule

FIRST_PASS = "BOOLEAN_ONLY"   # cheaper; failing expectations are run again with COMPLETE for their rows
MAX_LISTED = 20   # values of a set listed in a hint


@lru_cache(maxsize=1)
def _gx():
    """(great_expectations module, expectations module, batch definition) — built once per process. The modules
    great-expectations imports only for expectations and renderers the rules never use are deferred
    (pipeline.differe: ~1.7 s of CPU)."""
    from pipeline.differe import differer

    differer("scipy.stats", "altair")
    import great_expectations as gx
    import great_expectations.expectations as gxe
    from great_expectations.data_context.types.base import ProgressBarsConfig

    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    batch_definition = (context.data_sources.add_pandas("ctg").add_dataframe_asset("donnees")
                        .add_batch_definition_whole_dataframe("tout"))
    return gx, gxe, batch_definition


@dataclass(frozen=True)
class Planned:
    """One rule that can run on the frame, with its resolved arguments (no GX object: see `_expectation`)."""

    number: int
    rule: Rule
    kwargs: dict
    hint: str

    def described(self) -> dict:
        """Everything of the expectation the outcome depends on, as plain data (for the cache key)."""
        rule = self.rule
        return {"regle": self.number, "attente": rule.expectation, "arguments": self.kwargs, "quand": rule.when,
                "indice": self.hint, "texte": rule.text, "gravite": rule.severity, "colonne": rule.column_shown,
                "valeurs": _value_columns(rule)}


def plan(dataset: str, ctx: Context, frame: pd.DataFrame) -> list[Planned]:
    """The rules of `dataset` that can run on `frame`, with their run-time values (GX is not imported)."""
    planned = []
    for number, rule in enumerate(RULES[dataset]):
        resolved = _resolved(rule, ctx, frame)
        if resolved is not None:
            planned.append(Planned(number, rule, *resolved))
    return planned


def _resolved(rule: Rule, ctx: Context, frame: pd.DataFrame) -> tuple[dict, str] | None:
    """The expectation's arguments (without its row condition) and the hint with run-time values; None when the
    rule cannot run."""
    if rule.expectation != "ExpectColumnToExist" and not all(c in frame.columns for c in rule.columns):
        return None
    kwargs = dict(rule.kwargs)
    hint = rule.hint
    if rule.values is not None:
        value = rule.values(ctx)
        if value is None:
            return None
        if rule.argument == "value_set":
            value = sorted({str(v) for v in value})
            shown = [v for v in value if v != ""]
            listed = ", ".join(shown[:MAX_LISTED]) + (", …" if len(shown) > MAX_LISTED else "")
        else:
            listed = str(value)
        kwargs[rule.argument] = value
        hint = hint.replace("{valeurs}", listed)
    return kwargs, hint


def _expectation(gxe, planned: Planned):
    """The GX expectation object of a planned rule (its `when` becomes a row condition)."""
    kwargs = dict(planned.kwargs)
    if planned.rule.when:
        from great_expectations.expectations.row_conditions import Column

        column, operator, value = planned.rule.when
        kwargs["row_condition"] = Column(column) == value if operator == "==" else Column(column) != value
    return getattr(gxe, planned.rule.expectation)(**kwargs, meta={"regle": planned.number})


def run(dataset: str, frame: pd.DataFrame, ctx: Context, collector: Collector,
        store: cache.Store | None = None) -> None:
    """Validate one dataset frame against its rules; record counts and problems. With a `store`, a frame
    validated before with the same rules and code is not validated again: its stored outcome is replayed."""
    if frame is None or frame.empty:
        return
    frame = frame.reset_index(drop=True)
    planned = plan(dataset, ctx, frame)
    if not planned:
        return
    if store is None:
        validate(dataset, frame, planned, collector).apply(collector)
        return
    key = cache.key(dataset, frame, [p.described() for p in planned], collector)
    outcome = store.load(key)
    if outcome is None:
        outcome = validate(dataset, frame, planned, collector)
        store.save(key, outcome)
    outcome.apply(collector)


def validate(dataset: str, frame: pd.DataFrame, planned: list[Planned], collector: Collector) -> cache.Outcome:
    """Run the planned expectations with great-expectations (imported here); failing ones are run again with
    their rows, which become problems. `collector` is only read (sheet names, column letters)."""
    gx, gxe, batch_definition = _gx()
    expectations = [_expectation(gxe, p) for p in planned]
    hints = {p.number: p.hint for p in planned}
    batch = batch_definition.get_batch(batch_parameters={"dataframe": frame})
    outcome, failed = cache.Outcome(), []
    for result in _validate(gx, batch, dataset, expectations, FIRST_PASS):
        outcome.passed.append(bool(result.success))
        if not result.success:
            failed.append(expectations[[e.meta["regle"] for e in expectations].index(_number(result))])
    if failed:
        for result in _validate(gx, batch, dataset, failed, "COMPLETE"):
            number = _number(result)
            outcome.problems += problems(dataset, RULES[dataset][number], hints[number], result.result, frame,
                                         collector)
    return outcome


def _number(result) -> int:
    return int(result.expectation_config.meta["regle"])


def _validate(gx, batch, dataset: str, expectations: list, result_format: str) -> list:
    outcome = batch.validate(gx.ExpectationSuite(name=dataset, expectations=expectations),
                             result_format=result_format)
    for result in outcome.results:
        if result.exception_info and result.exception_info.get("raised_exception"):
            raise RuntimeError(f"règle {dataset} n° {_number(result)} : "
                               f"{result.exception_info.get('exception_message')}")
    return outcome.results


def _value_columns(rule: Rule) -> list[str]:
    if rule.values_from:
        return list(rule.values_from)
    if rule.expectation == "ExpectCompoundColumnsToBeUnique":
        return [c for c in rule.columns if c != "_fichier"]
    if rule.expectation == "ExpectColumnValuesToBeNull":
        return rule.columns[:1]
    if rule.shown and not rule.shown.startswith("_"):
        return [rule.shown]
    return rule.columns


def problems(dataset: str, rule: Rule, hint: str, result: dict, frame: pd.DataFrame,
             collector: Collector) -> list[Problem]:
    """Group a failing expectation's rows by (file, column) into problems."""
    index = result.get("unexpected_index_list")
    if index is None:   # table-level expectation (column missing, wrong type): one problem per file
        observed = result.get("observed_value")
        return [Problem(name, rule.text, severity=rule.severity, column=rule.column_shown,
                        values=(value_text(observed),) if observed is not None else (), hint=hint, dataset=dataset)
                for name in sorted(frame["_fichier"].unique())]
    rows = frame.loc[list(index)]
    columns = _value_columns(rule)
    per_row = rule.column_shown.startswith("_") and rule.column_shown in rows.columns
    shown = rows[rule.column_shown] if per_row else pd.Series(rule.column_shown, index=rows.index)
    out = []
    for (name, column), group in rows.groupby([rows["_fichier"], shown], sort=True):
        lines = sorted({int(v) for v in group["_ligne"].dropna()})
        values = []
        for record in group[columns].itertuples(index=False):
            text = value_text(record[0] if len(columns) == 1 else tuple(record))
            if text not in values:
                values.append(text)
        if len(values) > MAX_VALUES:
            values = values[:MAX_VALUES] + ["…"]
        out.append(Problem(name, rule.text, severity=rule.severity, column=column, lines=tuple(lines),
                           line_count=len(lines), values=tuple(values), hint=hint,
                           sheet=collector.sheets.get(name, ""), letter=collector.letters.get((name, column), ""),
                           dataset=dataset))
    return out
