"""Sourcing profiles: the retailer's rules for who may serve a basket, and how to choose.

A profile (per channel and delivery method) is an ordered list of rules, most favourable first.
Each rule screens locations with its filters (`screen_locations`), weighs plans with its
objective and split policy (mapped onto `sourcing.Objective` and `sourcing.SplitPolicy`), says
how the fulfilment is offered, and applies only within its calendar (`is_active`). Profiles are
data, read by `parse_profile` and written by `profile_to_data`, versioned (`versions`), and
extended by a retailer's own criteria (`criteria`) without forking the project.
"""

from openoms.domain.profiles.calendar import active_rules, is_active
from openoms.domain.profiles.criteria import (
    CRITERIA_GROUP,
    CostBasis,
    CostCriterion,
    CriteriaRegistry,
    Criterion,
    CriterionError,
    CriterionUse,
    DuplicateCriterion,
    FilterCriterion,
    NegativeCriterionCost,
    NotACriterion,
    UnknownCriterion,
    WrongCriterionUse,
    installed_criteria,
    load_criteria,
)
from openoms.domain.profiles.documents import profile_to_data
from openoms.domain.profiles.filters import (
    DuplicateLocation,
    Screening,
    Surcharge,
    SurchargedCost,
    admits_location,
    screen_locations,
)
from openoms.domain.profiles.model import (
    ActivityCalendar,
    BasketLine,
    CustomTerm,
    DeliveryMethod,
    DeliveryPrice,
    Filters,
    Hours,
    LocationFacts,
    ObjectiveWeights,
    OfferMode,
    OfferPolicy,
    Profile,
    ProfileRule,
    SplitChoice,
    SplitRule,
)
from openoms.domain.profiles.parsing import InvalidProfile, parse_profile
from openoms.domain.profiles.reader import FieldError
from openoms.domain.profiles.reasons import Exclusion, FilterReason
from openoms.domain.profiles.versions import (
    AlreadyPublished,
    EmptyProfile,
    ProfileHistory,
    ProfileVersion,
    PublishInThePast,
    UnknownVersion,
    VersionError,
    VersionState,
    WrongProfile,
    add_draft,
    live_version,
    publish,
)

__all__ = [
    "CRITERIA_GROUP",
    "ActivityCalendar",
    "AlreadyPublished",
    "BasketLine",
    "CostBasis",
    "CostCriterion",
    "CriteriaRegistry",
    "Criterion",
    "CriterionError",
    "CriterionUse",
    "CustomTerm",
    "DeliveryMethod",
    "DeliveryPrice",
    "DuplicateCriterion",
    "DuplicateLocation",
    "EmptyProfile",
    "Exclusion",
    "FieldError",
    "FilterCriterion",
    "FilterReason",
    "Filters",
    "Hours",
    "InvalidProfile",
    "LocationFacts",
    "NegativeCriterionCost",
    "NotACriterion",
    "ObjectiveWeights",
    "OfferMode",
    "OfferPolicy",
    "Profile",
    "ProfileHistory",
    "ProfileRule",
    "ProfileVersion",
    "PublishInThePast",
    "Screening",
    "SplitChoice",
    "SplitRule",
    "Surcharge",
    "SurchargedCost",
    "UnknownCriterion",
    "UnknownVersion",
    "VersionError",
    "VersionState",
    "WrongCriterionUse",
    "WrongProfile",
    "active_rules",
    "add_draft",
    "admits_location",
    "installed_criteria",
    "is_active",
    "live_version",
    "load_criteria",
    "parse_profile",
    "profile_to_data",
    "publish",
    "screen_locations",
]
