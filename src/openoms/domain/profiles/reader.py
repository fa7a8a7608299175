"""Reading untrusted JSON-like data field by field, collecting every error with its path.

Each helper records what is wrong under the field's path and returns a harmless default, so
that the reading goes on and one answer names every mistake in the document.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from math import isfinite
from typing import TypeVar

E = TypeVar("E", bound=StrEnum)


@dataclass(frozen=True, slots=True)
class FieldError:
    path: str
    message: str


def join(path: str, key: str | int) -> str:
    """`rules[2].filters.kinds[0]`; a key that would not read as a name is quoted: `custom['']`."""
    if isinstance(key, int):
        return f"{path}[{key}]"
    if not key.replace("_", "").isalnum():
        return f"{path}[{key!r}]"
    return f"{path}.{key}" if path else key


@dataclass(slots=True)
class Reader:
    errors: list[FieldError] = field(default_factory=list)

    def fail(self, path: str, message: str) -> None:
        self.errors.append(FieldError(path, message))

    def mapping(
        self,
        value: object,
        path: str,
        allowed: frozenset[str],
        required: frozenset[str] = frozenset(),
    ) -> Mapping[str, object]:
        """The object's fields; unknown ones are refused, since a typo would be silently ignored."""
        if not isinstance(value, Mapping):
            self.fail(path or "$", "must be an object")
            return {}
        for key in sorted(set(value) - allowed, key=str):
            self.fail(join(path, str(key)), "unknown field")
        for key in sorted(required - set(value)):
            self.fail(join(path, key), "is required")
        return value

    def sequence(self, data: Mapping[str, object], path: str, key: str) -> Sequence[object]:
        value = data.get(key, [])
        if isinstance(value, str) or not isinstance(value, Sequence):
            self.fail(join(path, key), "must be a list")
            return []
        return value

    def text(self, data: Mapping[str, object], path: str, key: str, default: str = "") -> str:
        value = data.get(key, default)
        if not isinstance(value, str) or not value.strip():
            self.fail(join(path, key), "must be a non-empty string")
            return default
        return value

    def flag(self, data: Mapping[str, object], path: str, key: str) -> bool:
        value = data.get(key, False)
        if not isinstance(value, bool):
            self.fail(join(path, key), "must be true or false")
            return False
        return value

    def number(
        self, data: Mapping[str, object], path: str, key: str, default: float, minimum: float = 0
    ) -> float:
        value = data.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int | float) or not isfinite(value):
            self.fail(join(path, key), "must be a finite number")
            return default
        if value < minimum:
            self.fail(join(path, key), f"must be at least {minimum:g}, got {value:g}")
            return default
        return float(value)

    def integer(
        self, data: Mapping[str, object], path: str, key: str, default: int, minimum: int = 0
    ) -> int:
        value = data.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int):
            self.fail(join(path, key), "must be a whole number")
            return default
        if value < minimum:
            self.fail(join(path, key), f"must be at least {minimum}, got {value}")
            return default
        return value

    def choice(self, value: object, path: str, enum: type[E], default: E) -> E:
        if isinstance(value, str) and value in enum._value2member_map_:
            return enum(value)
        names = ", ".join(member.value for member in enum)
        self.fail(path, f"unknown value {value!r}; use one of {names}")
        return default

    def strings(self, data: Mapping[str, object], path: str, key: str) -> tuple[str, ...]:
        items: list[str] = []
        for i, value in enumerate(self.sequence(data, path, key)):
            if isinstance(value, str) and value.strip():
                items.append(value)
            else:
                self.fail(join(join(path, key), i), "must be a non-empty string")
        return tuple(items)
