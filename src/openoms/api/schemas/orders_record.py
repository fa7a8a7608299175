"""The decision record an order keeps: `DecisionBody`'s document, built from plain dicts.

Every order writes one or more records (the plan, its runners-up, the locations left out and
why). Through the models (`DecisionBody.of(result).model_dump(mode="json")`) a demo basket's
whole record (155 exclusions) costs ~0.2 ms, as dicts ~0.02 ms; an order's record keeps the
network's exclusions apart (`ordering._decision`), which leaves ~0.02 ms of the difference per
record. The same document, field for field and type for type (tests/unit/test_order_record.py
checks it against the models on random problems).
"""

from __future__ import annotations

from typing import Any

from openoms.api.schemas.sourcing import plan_document
from openoms.domain.sourcing import Shortfall
from openoms.services.sourcing import SourcingResult


def decision_record(result: SourcingResult) -> dict[str, Any]:
    decision = result.decision
    attempts = result.attempts
    return {
        "profile": result.profile,
        "rule": result.rule,
        "plan": plan_document(decision.plan) if decision and decision.plan else None,
        "runners_up": [plan_document(p) for p in decision.runners_up] if decision else [],
        "exact": bool(decision.exact if decision else all(a.decision.exact for a in attempts)),
        "nodes": int(sum(a.decision.nodes for a in attempts)),
        "elapsed_ms": float(sum(a.decision.elapsed_ms for a in attempts)),
        "excluded": [
            {"location": e.location, "rule": e.rule, "reason": e.reason, "detail": e.detail}
            for e in result.excluded
        ],
        "shortfall": _shortfall(result.shortfall),
        "attempts": [
            {
                "rule": a.rule,
                "found": a.decision.plan is not None,
                "exact": bool(a.decision.exact),
                "nodes": int(a.decision.nodes),
                "elapsed_ms": float(a.decision.elapsed_ms),
                "shortfall": _shortfall(a.decision.shortfall),
            }
            for a in attempts
        ],
    }


def _shortfall(shortfall: tuple[Shortfall, ...]) -> list[dict[str, Any]]:
    return [{"line_id": s.line_id, "units": int(s.units)} for s in shortfall]
