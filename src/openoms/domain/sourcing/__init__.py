"""The sourcing optimizer: which locations serve a basket, at the lowest weighted cost.

`optimize` finds the plan with the lowest objective for a basket, its candidate locations (their
stock once the profile's filters are applied), a cost model and a split policy, and says whether
it proved it the best (`Decision.exact`). `score` weighs a plan given from outside with the same
objective and names the rules it breaks. Standard library only; `sourcing_milp` states the same
problem for HiGHS, as the reference the tests and benchmarks hold this search to.
"""

from openoms.domain.sourcing.linear import LinearCostModel, ShippingTerms
from openoms.domain.sourcing.model import (
    Allocation,
    Breakdown,
    Candidate,
    CostModel,
    Decision,
    Excluded,
    ExclusionReason,
    InvalidProblem,
    Line,
    Objective,
    Plan,
    PlanBreakdown,
    Rule,
    Scored,
    Shipment,
    Shortfall,
    SplitMode,
    SplitPolicy,
    Violation,
)
from openoms.domain.sourcing.plans import protected_units, score
from openoms.domain.sourcing.search import optimize, out_of_reach

__all__ = [
    "Allocation",
    "Breakdown",
    "Candidate",
    "CostModel",
    "Decision",
    "Excluded",
    "ExclusionReason",
    "InvalidProblem",
    "Line",
    "LinearCostModel",
    "Objective",
    "Plan",
    "PlanBreakdown",
    "Rule",
    "Scored",
    "Shipment",
    "ShippingTerms",
    "Shortfall",
    "SplitMode",
    "SplitPolicy",
    "Violation",
    "optimize",
    "out_of_reach",
    "protected_units",
    "score",
]
