"""Reading the store app's forms: each problem a message key with its values, for the page.

Nothing here decides a business rule: text is bounded, quantities parsed and bounded, choices
checked against their list; the rules are the services' and the domain's. Every problem of a
form is collected, so that the page names all of them at once.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field

MAX_TEXT = 200
MAX_UNITS = 100_000


@dataclass(frozen=True, slots=True)
class Problem:
    key: str
    values: dict[str, object] = field(default_factory=dict)


class FormErrors(Exception):
    """The form cannot be acted on; nothing was changed."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__(", ".join(p.key for p in problems))
        self.problems = problems


class Checks:
    """Reads fields of one form, noting each problem; `done()` raises them all."""

    def __init__(self, data: Mapping[str, object]) -> None:
        self.data = data
        self.problems: list[Problem] = []

    def text(self, name: str, label: str, *, max_length: int = MAX_TEXT) -> str:
        value = self.data.get(name)
        found = value.strip() if isinstance(value, str) else ""
        if not found:
            self.problems.append(Problem("error.required", {"field": label}))
        elif len(found) > max_length:
            self.problems.append(Problem("error.too_long", {"field": label, "max": max_length}))
        return found

    def quantity(self, name: str, label: str, *, low: int = 0, high: int = MAX_UNITS) -> int:
        value = self.data.get(name)
        raw = value.strip() if isinstance(value, str) else ""
        if not raw:
            self.problems.append(Problem("error.required", {"field": label}))
            return 0
        if not (raw.isascii() and raw.isdigit()) or len(raw) > 7 or not low <= int(raw) <= high:
            bounds = {"field": label, "min": low, "max": high}
            self.problems.append(Problem("error.quantity", bounds))
            return 0
        return int(raw)

    def choice(self, name: str, label: str, choices: Collection[str]) -> str:
        value = self.data.get(name)
        if not isinstance(value, str) or value not in choices:
            self.problems.append(Problem("error.choose", {"field": label}))
            return ""
        return value

    def done(self) -> None:
        if self.problems:
            raise FormErrors(self.problems)
