"""The pick list's walk and the checks of a pick, without a database."""

from __future__ import annotations

from openoms.domain.picking import PickLine, PickProblem, pick_list, pick_problems, short_lines

SHIRT = PickLine("1", "TS-1", "T-shirt", "Tops", "111", 2)
BOOTS = PickLine("2", "BO-1", "Boots", "Shoes", "222", 1)
CAP = PickLine("3", "CA-1", "Cap", "accessories", "333", 1)
BLOUSE = PickLine("4", "BL-1", "Blouse", "Tops", "444", 1)


def test_the_pick_list_goes_by_category_then_name() -> None:
    assert pick_list([SHIRT, BOOTS, CAP, BLOUSE]) == [CAP, BOOTS, BLOUSE, SHIRT]


def test_a_short_line_must_be_declared_missing() -> None:
    lines = [SHIRT, BOOTS]
    assert pick_problems(lines, {"1": 1, "2": 1}, []) == [PickProblem("1", "short_not_declared")]
    assert pick_problems(lines, {"1": 1, "2": 1}, ["1"]) == []


def test_more_units_than_asked_is_a_problem() -> None:
    assert pick_problems([BOOTS], {"2": 2}, []) == [PickProblem("2", "more_than_asked")]


def test_short_lines_name_what_was_picked_of_each_short_line() -> None:
    assert short_lines([SHIRT, BOOTS, CAP], {"1": 1, "2": 1}) == {"1": 1, "3": 0}
