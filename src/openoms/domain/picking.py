"""The pick list: a fulfilment's lines in the order that saves walking, and what a pick says.

Stores shelve by department, so the list goes by category, then by name within one (the same
walk every time, whatever the order of the lines). A line picked short must be declared missing
by the associate (a scan forgotten is not a missing unit): the units not found are then given
back and re-routed by the OMS (services/fulfilment.py `pick_fulfilment`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class PickLine:
    line_id: str
    sku: str
    name: str
    category: str
    barcode: str
    units: int


@dataclass(frozen=True, slots=True)
class PickProblem:
    line_id: str
    problem: str
    """`more_than_asked`, or `short_not_declared`: fewer units than asked, not declared missing."""


def pick_list(lines: Iterable[PickLine]) -> list[PickLine]:
    return sorted(
        lines, key=lambda line: (line.category.casefold(), line.name.casefold(), line.sku)
    )


def pick_problems(
    lines: Sequence[PickLine], picked: Mapping[str, int], missing: Iterable[str]
) -> list[PickProblem]:
    """What is wrong with a pick of `picked` units per line, `missing` the lines declared short."""
    declared = set(missing)
    problems = []
    for line in lines:
        units = picked.get(line.line_id, 0)
        if units > line.units:
            problems.append(PickProblem(line.line_id, "more_than_asked"))
        elif units < line.units and line.line_id not in declared:
            problems.append(PickProblem(line.line_id, "short_not_declared"))
    return problems


def short_lines(lines: Sequence[PickLine], picked: Mapping[str, int]) -> dict[str, int]:
    """line id -> units picked, for the lines picked short (what the pick use case takes)."""
    return {
        line.line_id: picked.get(line.line_id, 0)
        for line in lines
        if picked.get(line.line_id, 0) < line.units
    }
