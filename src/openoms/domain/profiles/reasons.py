"""Why a rule excluded a location: a code for machines, a sentence for the decision record."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class FilterReason(StrEnum):
    RULE_INACTIVE = "rule_inactive"
    LOCATION_INACTIVE = "location_inactive"
    KIND = "kind"
    CAPABILITY = "capability"
    TAGS_IN = "tags_in"
    TAGS_OUT = "tags_out"
    MAX_DISTANCE = "max_distance"
    CAPACITY = "capacity"
    NO_STOCK = "no_stock"
    MIN_STOCK_KEPT = "min_stock_kept"
    CARRIER = "carrier"
    PROMISE = "promise"
    CUSTOM = "custom"


@dataclass(frozen=True, slots=True)
class Exclusion:
    """`criterion` names the retailer's criterion when `reason` is CUSTOM."""

    location: str
    rule: str
    reason: FilterReason
    detail: str
    criterion: str = ""
