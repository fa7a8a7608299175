"""Reading bulk files for the CLI: CSV and JSON in, validated rows out, in chunks.

Validation reuses the API's bodies, so a file is held to exactly the rules a request is. A
bad line stops the import with its line number; chunks before it stay applied, which is safe
because every feed is idempotent (re-run the corrected file).
"""

from __future__ import annotations

import csv
import io
import itertools
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import IO, Any, TypeVar

from pydantic import BaseModel, ValidationError

from openoms.api.errors import field_path
from openoms.api.schemas.catalog import SkuBody
from openoms.api.schemas.common import CODE_PATTERN
from openoms.api.schemas.network import LocationBody
from openoms.db.repositories.stock import SnapshotRow
from openoms.db.uow import Database
from openoms.domain.catalog import Sku
from openoms.domain.network import Location
from openoms.domain.stock import MAX_QUANTITY
from openoms.errors import FieldError, InvalidInput
from openoms.services import stock

M = TypeVar("M", bound=BaseModel)
LIST_FIELDS = {"capabilities", "tags"}
JSON_FIELDS = {"opening_hours"}


def _records(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """(line or item number, record) from a .json list or a .csv with a header."""
    if path.suffix.lower() == ".json":
        data = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(data, list):
            raise InvalidInput([FieldError("file", "a JSON import is a list of objects")])
        yield from enumerate(data, start=1)
        return
    with path.open(newline="", encoding="utf-8") as handle:
        for number, row in enumerate(csv.DictReader(handle), start=2):
            yield number, _from_csv(row)


def _from_csv(row: dict[str, str]) -> dict[str, Any]:
    record: dict[str, Any] = {}
    for key, value in row.items():
        if value in ("", None):
            continue
        if key in LIST_FIELDS:
            record[key] = [v for v in value.split("|") if v]
        elif key in JSON_FIELDS:
            record[key] = json.loads(value)
        else:
            record[key] = value
    return record


def _validate(model: type[M], number: int, record: dict[str, Any]) -> M:
    try:
        return model.model_validate(record, strict=False)
    except ValidationError as error:
        raise InvalidInput(
            [
                FieldError(f"line {number}: {field_path(tuple(e['loc']))}", e["msg"], e["type"])
                for e in error.errors()
            ]
        ) from error


_CODE = re.compile(CODE_PATTERN)
CODE_MAX = 64

LOCATION_INTEGERS = {"daily_capacity", "preparation_minutes", "handling_cost"}
SKU_INTEGERS = {"weight_g", "length_mm", "width_mm", "height_mm", "price"}


def read_locations(path: Path) -> list[Location]:
    return [
        _validate(LocationBody, n, _integers(r, LOCATION_INTEGERS)).to_domain()
        for n, r in _records(path)
    ]


def read_skus(path: Path) -> list[Sku]:
    return [
        _validate(SkuBody, n, _integers(r, SKU_INTEGERS)).to_domain() for n, r in _records(path)
    ]


def read_profiles(path: Path) -> list[dict[str, Any]]:
    """Sourcing profile documents from a .json file: one object, or a list of them."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as error:
        raise InvalidInput([FieldError("file", f"not JSON: {error}")]) from error
    documents = data if isinstance(data, list) else [data]
    for i, document in enumerate(documents):
        if not isinstance(document, dict):
            raise InvalidInput([FieldError(f"[{i}]", "a profile is a JSON object")])
    return documents


def _integers(record: dict[str, Any], fields: set[str]) -> dict[str, Any]:
    """CSV cells are text and the API's integer fields are strict: convert the integer ones."""
    out = dict(record)
    for key in fields & record.keys():
        value = record[key]
        if isinstance(value, str) and value.strip().lstrip("-").isdigit():
            out[key] = int(value)
    return out


def snapshot_chunks(handle: IO[str], chunk_size: int) -> Iterator[tuple[int, list[SnapshotRow]]]:
    """(line number of the chunk's first row, rows) from a CSV `location,sku,on_hand,as_of`."""
    reader = csv.reader(handle)
    header = next(reader, None)
    expected = ["location", "sku", "on_hand", "as_of"]
    if header is None or [h.strip() for h in header] != expected:
        raise InvalidInput([FieldError("line 1", f"the header must be {','.join(expected)}")])
    chunk: list[SnapshotRow] = []
    first = 2
    stamps: dict[str, datetime] = {}
    for number, cells in enumerate(reader, start=2):
        chunk.append(_snapshot_row(number, cells, stamps))
        if len(chunk) == chunk_size:
            yield first, chunk
            chunk, first = [], number + 1
    if chunk:
        yield first, chunk


def _snapshot_row(number: int, cells: list[str], stamps: dict[str, datetime]) -> SnapshotRow:
    """One validated row; `stamps` remembers parsed as_of texts (a file mostly repeats one)."""

    def bad(field: str, message: str) -> InvalidInput:
        return InvalidInput([FieldError(f"line {number}: {field}", message)])

    if len(cells) != 4:
        raise bad("row", f"expected 4 cells, found {len(cells)}")
    location, sku, on_hand_text, as_of_text = cells
    for field, code in (("location", location), ("sku", sku)):
        if not _CODE.fullmatch(code) or len(code) > CODE_MAX:
            raise bad(field, f"not a location or sku code: {code!r}")
    try:
        on_hand = int(on_hand_text)
    except ValueError:
        raise bad("on_hand", f"not an integer: {on_hand_text!r}") from None
    if not 0 <= on_hand <= MAX_QUANTITY:
        raise bad("on_hand", f"must be within [0, {MAX_QUANTITY}]")
    as_of = stamps.get(as_of_text)
    if as_of is None:
        try:
            as_of = datetime.fromisoformat(as_of_text)
        except ValueError:
            raise bad("as_of", f"not an ISO 8601 timestamp: {as_of_text!r}") from None
        if as_of.tzinfo is None:
            raise bad("as_of", "needs a UTC offset (e.g. 2026-11-25T08:00:00+00:00)")
        stamps[as_of_text] = as_of
    return SnapshotRow(location, sku, on_hand, as_of)


@dataclass
class SnapshotTotals:
    received: int = 0
    applied: int = 0
    changed: int = 0
    stale: int = 0
    drifted: int = 0
    """Positions counted below what is reserved there: their newest holds were re-routed."""


def import_snapshots(
    db: Database,
    handle: IO[bytes],
    now: datetime,
    *,
    chunk_size: int = 50_000,
    on_chunk: Callable[[SnapshotTotals], None] = lambda _: None,
) -> SnapshotTotals:
    """Stream a snapshot CSV into the database, one transaction per chunk of lines.

    Each chunk first tries the database's fast path (PostgreSQL: COPY and checks in SQL); a
    chunk that is not clean, or any chunk on SQLite, is parsed here, which names the bad line.
    Positions a chunk counts below what is reserved have their newest holds re-routed after
    that chunk commits (services/drift.py).
    """
    header = handle.readline().decode("utf-8").strip()
    if header.split(",") != list(SnapshotRow._fields):
        raise InvalidInput(
            [FieldError("line 1", f"the header must be {','.join(SnapshotRow._fields)}")]
        )
    totals = SnapshotTotals()
    first_line = 2
    while lines := list(itertools.islice(handle, chunk_size)):
        data = b"".join(lines)
        report = stock.ingest_snapshot_csv(db, data, now)
        if report is None:
            text = io.StringIO(data.decode("utf-8"), newline="")
            rows = [
                _snapshot_row(n, cells, {}) for n, cells in enumerate(csv.reader(text), first_line)
            ]
            report = stock.ingest_snapshots(db, rows, now, row_offset=first_line)
        first_line += len(lines)
        totals.received += report.received
        totals.applied += report.applied
        totals.changed += report.changed
        totals.stale += report.stale
        totals.drifted += report.drifted
        on_chunk(totals)
    return totals
