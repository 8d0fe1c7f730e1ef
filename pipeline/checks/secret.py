"""Statistical secrecy of the indicator table: secondary suppression, and the checks' view of it.

`pipeline.indicators` hides small counts at fine levels (primary secrecy: `secret` True, `valeur` NaN). A hidden
cell can still be recovered when it is the only hidden cell of a group whose total is published: the EPCI value
minus the other communes gives it. As the Caf does, `secondary_suppression` then hides the next smallest cell of
the group (or, when every other cell is zero, the total itself), and hides the cells computed from a hidden cell
(a ratio whose numerator is hidden, an evolution from a hidden value). Groups whose total does not include the
hidden cell (the Caf's blanks, not counted in the sums) are left alone: nothing can be recovered from them.

Groups (for one indicator and one year): the territory's communes under the EPCI; the structures under the EPCI,
under their commune, and under their QPV.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

import numpy as np
import pandas as pd

FINE_LEVELS = ("commune", "qpv", "structure")
CAF_COUNT_PREFIXES = ("indfoy_", "indnbp_")
SHARE_PREFIXES = ("part_", "avancement_", "couverture_")
MAX_PASSES = 50


# --- catalogue knowledge ---------------------------------------------------------------------------------------

def value_kind(entry: dict) -> str:
    """`evolution` (may be negative), `part` (0-100), `taux` (≥ 0, may exceed 100) or `compte` (≥ 0)."""
    unite = str(entry.get("unite", ""))
    if isinstance(entry.get("formule"), dict) and entry["formule"].get("type") == "evolution":
        return "evolution"
    if unite == "%" and str(entry.get("id", "")).startswith(SHARE_PREFIXES):
        return "part"
    if "%" in unite or "pour 100" in unite:
        return "taux"
    return "compte"


def secret_prone(catalogue: dict[str, dict], vocab=None) -> set[str]:
    """Indicators that are counts of people or households (masked below the threshold at fine levels)."""
    prone = set()
    for indicator_id, entry in catalogue.items():
        formula = entry.get("formule") if isinstance(entry.get("formule"), dict) else {}
        fields = formula.get("champ", [])
        fields = fields if isinstance(fields, list) else [fields]
        names = formula.get("indicateur", [])
        names = names if isinstance(names, list) else [names]
        if entry.get("secret") or (formula.get("type") == "champ" and any(
                str(f).startswith(CAF_COUNT_PREFIXES) for f in fields)) or (
                formula.get("type") == "activite" and vocab is not None and any(
                vocab.attribute("indicateurs_activite", n, "secret", False) for n in names)):
            prone.add(indicator_id)
    return prone


def dependents(catalogue: dict[str, dict]) -> dict[str, list[tuple[str, int | None]]]:
    """operand id -> [(indicator computed from it, reference year if it is an evolution else None)]."""
    out: dict[str, list[tuple[str, int | None]]] = defaultdict(list)

    def walk(indicator_id: str, formula, reference) -> None:
        if isinstance(formula, str):
            out[formula].append((indicator_id, reference))
        elif isinstance(formula, dict):
            for key in ("numerateur", "denominateur", "operande"):
                if key in formula:
                    walk(indicator_id, formula[key], reference)
            for term in formula.get("termes", []):
                walk(indicator_id, term, reference)

    for indicator_id, entry in catalogue.items():
        formula = entry.get("formule")
        reference = formula.get("annee_reference", 0) if isinstance(formula, dict) and \
            formula.get("type") == "evolution" else None
        walk(indicator_id, formula, reference)
    return out


# --- groups --------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Group:
    """Cells (row positions) whose sum is the published `total` cell, e.g. the communes under the EPCI."""

    members: np.ndarray
    total: int
    label: str


@dataclass
class Cells:
    """Values and hidden flags by row position, updated while suppressing."""

    valeur: np.ndarray
    secret: np.ndarray

    def hidden(self, group: Group) -> int:
        return int(self.secret[group.members].sum())

    def exposed(self, group: Group) -> bool:
        """Exactly one hidden cell, the total published and counting it: the cell is total minus the others."""
        if self.hidden(group) != 1 or self.secret[group.total] or np.isnan(self.valeur[group.total]):
            return False
        visible = group.members[~self.secret[group.members]]
        total = float(self.valeur[group.total])
        residual = total - float(np.nansum(self.valeur[visible]))
        return abs(residual) > 1e-6 * max(1.0, abs(total))   # else the hidden cell is not in the total


def _parents(table: pd.DataFrame, structures: pd.DataFrame | None) -> list[tuple[str, str, pd.Series]]:
    """(member level, parent level, parent code of each row) for every kind of group."""
    epci = table.loc[table["niveau"] == "epci", "code_geo"]
    territory = epci.iloc[0] if len(epci) else None
    specs = []
    if territory is not None:
        specs.append(("commune", "epci", pd.Series(territory, index=table.index)))
        specs.append(("structure", "epci", pd.Series(territory, index=table.index)))
    if structures is not None and len(structures):
        where = structures.drop_duplicates(["annee", "structure_id"]).set_index(["annee", "structure_id"])
        key = pd.MultiIndex.from_arrays([table["annee"], table["code_geo"]])
        for level, column in (("commune", "code_insee"), ("qpv", "qpv")):
            codes = pd.Series(where[column].reindex(key).to_numpy(), index=table.index)
            specs.append(("structure", level, codes.where(codes.astype(str).str.strip() != "")))
    return specs


def groups(table: pd.DataFrame, structures: pd.DataFrame | None = None) -> list[Group]:
    """Every group of fine cells whose total is a cell of the table (positions in `table`)."""
    table = table.reset_index(drop=True)
    totals = {k: i for i, k in enumerate(zip(table["indicateur"], table["annee"], table["niveau"], table["code_geo"]))}
    out = []
    for member, parent_level, parent_code in _parents(table, structures):
        rows = table[(table["niveau"] == member) & parent_code.notna()]
        for (indicator, annee, parent), group in rows.groupby(["indicateur", "annee", parent_code[rows.index]]):
            total = totals.get((indicator, annee, parent_level, parent))
            if total is not None:
                out.append(Group(group.index.to_numpy(), total, f"{parent_level} {parent}"))
    return out


def _cells(table: pd.DataFrame) -> Cells:
    return Cells(table["valeur"].to_numpy(dtype=float, copy=True), table["secret"].to_numpy(dtype=bool, copy=True))


def _second_cell(cells: Cells, group: Group, member_of: dict) -> int:
    """The smallest other positive cell of the group, preferring one whose hiding exposes no other group;
    the total itself when every other cell is zero."""
    visible = group.members[~cells.secret[group.members] & (np.nan_to_num(cells.valeur[group.members]) > 0)]
    if not len(visible):
        return group.total
    ordered = visible[np.argsort(cells.valeur[visible], kind="stable")]
    for position in ordered:
        others = [g for g in member_of.get(position, []) if g is not group]
        if not any(cells.hidden(g) == 0 and not cells.secret[g.total] for g in others):
            return int(position)
    return int(ordered[0])


def isolated(table: pd.DataFrame, structures: pd.DataFrame | None = None) -> pd.Series:
    """For each hidden cell a reader could recover from a total: a description of its group, else NaN."""
    out = pd.Series(np.nan, index=table.index, dtype=object)
    if not {"indicateur", "annee", "niveau", "code_geo", "valeur", "secret"} <= set(table.columns):
        return out
    cells = _cells(table)
    for group in groups(table, structures):
        if cells.exposed(group):
            cell = int(group.members[cells.secret[group.members]][0])
            out.iloc[cell] = f"{table['niveau'].iloc[cell]} {table['code_geo'].iloc[cell]} ({group.label})"
    return out


def secondary_suppression(table: pd.DataFrame, structures: pd.DataFrame | None = None,
                          catalogue: dict[str, dict] | None = None) -> pd.DataFrame:
    """Hide (valeur NaN, secret True) enough further cells that no hidden cell can be recovered from a
    published total; cells computed from a hidden cell are hidden too. Returns a new table."""
    table = table.copy()
    cells = _cells(table)
    deps = dependents(catalogue or {})
    keys = list(zip(table["indicateur"], table["annee"], table["niveau"], table["code_geo"]))
    place: dict = defaultdict(list)
    for position, (indicator, annee, niveau, code) in enumerate(keys):
        place[(indicator, niveau, code)].append((position, annee))
    all_groups = groups(table, structures)
    member_of: dict = defaultdict(list)
    for group in all_groups:
        for position in group.members:
            member_of[int(position)].append(group)
    for _ in range(MAX_PASSES):
        targets = [_second_cell(cells, g, member_of) for g in all_groups if cells.exposed(g)]
        if not targets:
            table["valeur"], table["secret"] = cells.valeur, cells.secret
            return table
        while targets:
            position = targets.pop()
            if cells.secret[position]:
                continue
            cells.valeur[position], cells.secret[position] = np.nan, True
            indicator, annee, niveau, code = keys[position]
            for dependent, reference in deps.get(indicator, []):
                for other, year in place.get((dependent, niveau, code), []):
                    from_reference = reference is not None and annee == (reference or annee)
                    if (year == annee or from_reference) and not cells.secret[other]:
                        targets.append(other)
    raise RuntimeError("secret secondaire : pas de solution stable")
