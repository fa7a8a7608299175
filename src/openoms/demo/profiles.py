"""The demo's sourcing profiles, as the documents an operations team would write.

Home delivery for the web shop and the app: the warehouses first (cheapest per order, claimed
at once), then stores within 40 km that ship, keeping their last unit (offered to the 3 best
stores for 20 minutes), then any store or supplier that ships. A store's last two units cost a
protection fee, and no order goes out in more than two parcels. Each profile carries the price
the customer pays for its method (standard delivery free from 50 EUR).
"""

from __future__ import annotations

from typing import Any

from openoms.demo.network import FRANCHISE_TAG

_OBJECTIVE = {"cost": 1, "carbon": 0.01, "parcels": 150, "protection": 200, "protect_below": 2}
_SPLIT = {"mode": "max_parcels", "max_parcels": 2}


def _home(channel: str) -> dict[str, Any]:
    return {
        "code": f"{channel}-home",
        "name": f"{channel.title()}: home delivery",
        "channel": channel,
        "delivery_method": "home_standard",
        "price": {"amount": 490, "currency": "EUR", "free_from": 5_000},
        "rules": [
            {
                "name": "warehouses",
                "filters": {"kinds": ["warehouse"], "capability": "ship"},
                "objective": _OBJECTIVE,
                "split": _SPLIT,
            },
            {
                "name": "stores nearby",
                "filters": {
                    "kinds": ["store"],
                    "capability": "ship",
                    "tags_out": [FRANCHISE_TAG],
                    "max_distance_km": 40,
                    "min_stock_kept": 1,
                },
                "objective": _OBJECTIVE,
                "split": _SPLIT,
                "offer": {"mode": "broadcast", "stores": 3, "minutes": 20},
            },
            {
                "name": "anywhere that ships",
                "filters": {
                    "kinds": ["warehouse", "store", "supplier"],
                    "capability": "ship",
                    "tags_out": [FRANCHISE_TAG],
                    "min_stock_kept": 1,
                },
                "objective": _OBJECTIVE,
                "split": _SPLIT,
                "offer": {"mode": "broadcast", "stores": 3, "minutes": 20},
            },
        ],
    }


def _express(channel: str) -> dict[str, Any]:
    """Next-day delivery leaves from the warehouses only: stores miss express cut-offs."""
    return {
        "code": f"{channel}-express",
        "name": f"{channel.title()}: express home delivery",
        "channel": channel,
        "delivery_method": "home_express",
        "price": {"amount": 990, "currency": "EUR"},
        "rules": [
            {
                "name": "warehouses",
                "filters": {"kinds": ["warehouse"], "capability": "ship"},
                "objective": _OBJECTIVE,
                "split": {"mode": "never"},
            }
        ],
    }


def _collect(channel: str) -> dict[str, Any]:
    """Click & collect: the pickup store's own shelf first (the destination is the store), then
    a transfer from a warehouse."""
    return {
        "code": f"{channel}-collect",
        "name": f"{channel.title()}: click & collect",
        "channel": channel,
        "delivery_method": "click_collect",
        "price": {"amount": 0, "currency": "EUR"},
        "rules": [
            {
                "name": "the pickup store's shelf",
                "filters": {"kinds": ["store"], "max_distance_km": 0.5},
                "objective": _OBJECTIVE,
                "split": {"mode": "never"},
            },
            {
                "name": "warehouses",
                "filters": {"kinds": ["warehouse"], "capability": "ship"},
                "objective": _OBJECTIVE,
                "split": _SPLIT,
            },
        ],
    }


def _express_collect(channel: str) -> dict[str, Any]:
    """Express click & collect: the pickup store's own shelf only (an order is refused when it
    cannot be, services/collect.py `check_express`), claimed at once: the store has the hour."""
    return {
        "code": f"{channel}-express-collect",
        "name": f"{channel.title()}: express click & collect",
        "channel": channel,
        "delivery_method": "express_collect",
        "price": {"amount": 0, "currency": "EUR"},
        "rules": [
            {
                "name": "the pickup store's shelf",
                "filters": {"kinds": ["store"], "max_distance_km": 0.5},
                "objective": _OBJECTIVE,
                "split": {"mode": "never"},
            }
        ],
    }


def demo_profiles() -> list[dict[str, Any]]:
    return [
        profile(channel)
        for channel in ("web", "app")
        for profile in (_home, _express, _collect, _express_collect)
    ]
