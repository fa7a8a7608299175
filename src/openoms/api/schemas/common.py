"""Field types shared by the API's bodies."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field, StrictInt, StringConstraints

from openoms.domain.stock import MAX_QUANTITY

MAX_BULK_ROWS = 10_000
MAX_AVAILABILITY_SKUS = 500

CODE_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.:\-]*$"
"""Retailer codes (locations, skus, channels): safe in URLs, CSV and COPY without escaping."""
PRINTABLE = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]*$"
"""No control characters (PostgreSQL refuses NUL in text; none has a place in a name)."""

Code = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=CODE_PATTERN)]
Text = Annotated[str, StringConstraints(max_length=300, pattern=PRINTABLE)]
Name = Annotated[str, StringConstraints(min_length=1, max_length=200, pattern=PRINTABLE)]
Label = Annotated[str, StringConstraints(max_length=80, pattern=PRINTABLE)]
Tag = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=PRINTABLE)]
Currency = Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")]
Quantity = Annotated[StrictInt, Field(ge=0, le=MAX_QUANTITY)]
Delta = Annotated[StrictInt, Field(ge=-MAX_QUANTITY, le=MAX_QUANTITY)]
Money = Annotated[StrictInt, Field(ge=0, le=MAX_QUANTITY)]


class Body(BaseModel):
    """Unknown fields are refused: a typo must not be silently ignored."""

    model_config = ConfigDict(extra="forbid")


T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None = Field(
        description="Pass as `cursor` for the next page; null on the last page."
    )

    @classmethod
    def of(cls, items: list[T], limit: int, last_key: Callable[[T], str]) -> Page[T]:
        """A full page may have a next one: its cursor is the last item's key."""
        return cls(items=items, next_cursor=last_key(items[-1]) if len(items) == limit else None)
