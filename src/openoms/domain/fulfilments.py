"""The fulfilment state machine: which action moves a fulfilment from which status to which.

A fulfilment is the part of an order that one location prepares. It is born `offered` (to one or
more stores; a warehouse's fulfilment is claimed at once by the `system` actor, so there is one
entry point). `TRANSITIONS` below is the only place that says what may follow what; services ask
`next_status` and never compare statuses themselves.

    offered ─claim─> claimed ─pick─> picking ─pack─> packed ─ship─> shipped ─deliver─> delivered
                                                       │ │
                                                       │ └─transfer─> in_transfer ─receive─┐
                                                       └─ready─> ready_for_pickup <────────┘
                                                                   └─collect─> collected
    reject   (store)  offered, claimed, picking  -> rejected   units released, re-routed
    withdraw (system) offered, claimed           -> withdrawn  units released, re-routed
    cancel   (channel, system) offered ... packed, ready_for_pickup -> cancelled

Why these choices:
- `in_transfer` (not `in_transit_to_store`): the word of DESIGN.md for stock moving between
  locations is "transfer"; a packed click & collect parcel from another location is transferred
  to the pickup store, and the pickup store `receive`s it when it arrives (a distinct action
  from `ready`: a store key of the pickup store takes it, not one of the sending location).
- `withdrawn` is apart from `rejected` and `cancelled`: the OMS took the work back (an offer
  nobody claimed after the last wave, or stock drift under a claimed fulfilment). Nobody refused
  and nobody cancelled, and reports must tell the three apart.
- A store may reject while picking: picking none of the units is a reject; picking fewer is a
  quantity change decided by the service, not a status.
- No cancel once the units have left the location (`shipped`, `in_transfer`): they are on a
  truck; the customer refuses or returns them instead. A fulfilment waiting at the pickup store
  may be cancelled (the customer never came: the `system` timer does it).

The stock a fulfilment stands for follows from its status (`holding`): `held` at its location
(reserved there, still in on_hand), `consumed` (left the shelf: on_hand and reserved both went
down), or `released` (reserved went down, the units are sellable again). `in_transfer` is
consumed at the sending location; on arrival (`receive`) the pickup store receives the units and
holds them. Released is only ever reached from held: units are released where they are held,
never at a shelf they already left.

Exceptions, carrying data:

    IllegalTransition          status, action, allowed (the actions legal from that status)
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from types import MappingProxyType


class FulfilmentStatus(StrEnum):
    OFFERED = "offered"
    CLAIMED = "claimed"
    PICKING = "picking"
    PACKED = "packed"
    SHIPPED = "shipped"
    DELIVERED = "delivered"
    IN_TRANSFER = "in_transfer"
    READY_FOR_PICKUP = "ready_for_pickup"
    COLLECTED = "collected"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"
    CANCELLED = "cancelled"


class Transition(StrEnum):
    """An action on a fulfilment; each is an endpoint (`POST /v1/fulfilments/{id}/<action>`)."""

    CLAIM = "claim"
    PICK = "pick"
    PACK = "pack"
    SHIP = "ship"
    DELIVER = "deliver"
    TRANSFER = "transfer"
    READY = "ready"
    RECEIVE = "receive"
    COLLECT = "collect"
    REJECT = "reject"
    WITHDRAW = "withdraw"
    CANCEL = "cancel"


class Actor(StrEnum):
    """Who acts: the API key roles, plus `system` for the worker's timers."""

    ADMIN = "admin"
    STORE = "store"
    CHANNEL = "channel"
    CARRIER = "carrier"
    SYSTEM = "system"


class Holding(StrEnum):
    HELD = "held"
    CONSUMED = "consumed"
    RELEASED = "released"


INITIAL_STATUS = FulfilmentStatus.OFFERED

_S = FulfilmentStatus
_T = Transition

TRANSITIONS: Mapping[FulfilmentStatus, Mapping[Transition, FulfilmentStatus]] = MappingProxyType(
    {
        _S.OFFERED: MappingProxyType(
            {
                _T.CLAIM: _S.CLAIMED,
                _T.REJECT: _S.REJECTED,
                _T.WITHDRAW: _S.WITHDRAWN,
                _T.CANCEL: _S.CANCELLED,
            }
        ),
        _S.CLAIMED: MappingProxyType(
            {
                _T.PICK: _S.PICKING,
                _T.REJECT: _S.REJECTED,
                _T.WITHDRAW: _S.WITHDRAWN,
                _T.CANCEL: _S.CANCELLED,
            }
        ),
        _S.PICKING: MappingProxyType(
            {_T.PACK: _S.PACKED, _T.REJECT: _S.REJECTED, _T.CANCEL: _S.CANCELLED}
        ),
        _S.PACKED: MappingProxyType(
            {
                _T.SHIP: _S.SHIPPED,
                _T.TRANSFER: _S.IN_TRANSFER,
                _T.READY: _S.READY_FOR_PICKUP,
                _T.CANCEL: _S.CANCELLED,
            }
        ),
        _S.SHIPPED: MappingProxyType({_T.DELIVER: _S.DELIVERED}),
        _S.IN_TRANSFER: MappingProxyType({_T.RECEIVE: _S.READY_FOR_PICKUP}),
        _S.READY_FOR_PICKUP: MappingProxyType({_T.COLLECT: _S.COLLECTED, _T.CANCEL: _S.CANCELLED}),
        _S.DELIVERED: MappingProxyType({}),
        _S.COLLECTED: MappingProxyType({}),
        _S.REJECTED: MappingProxyType({}),
        _S.WITHDRAWN: MappingProxyType({}),
        _S.CANCELLED: MappingProxyType({}),
    }
)
"""The one place that says which action goes from which status to which."""

TERMINAL_STATUSES = frozenset(status for status, moves in TRANSITIONS.items() if not moves)

PERMISSIONS: Mapping[Actor, frozenset[Transition]] = MappingProxyType(
    {
        Actor.ADMIN: frozenset(Transition),
        Actor.STORE: frozenset(
            {
                _T.CLAIM,
                _T.REJECT,
                _T.PICK,
                _T.PACK,
                _T.SHIP,
                _T.TRANSFER,
                _T.READY,
                _T.RECEIVE,
                _T.COLLECT,
            }
        ),
        Actor.CARRIER: frozenset({_T.DELIVER}),
        Actor.CHANNEL: frozenset({_T.CANCEL}),
        # The worker: auto-claim at warehouses, withdraw after the last offer wave or under
        # stock drift, cancel a parcel nobody collected in time.
        Actor.SYSTEM: frozenset({_T.CLAIM, _T.WITHDRAW, _T.CANCEL}),
    }
)
"""Which role may do which action; the location scope of a store is checked by the service."""

_HOLDINGS: Mapping[FulfilmentStatus, Holding] = MappingProxyType(
    {
        _S.OFFERED: Holding.HELD,
        _S.CLAIMED: Holding.HELD,
        _S.PICKING: Holding.HELD,
        _S.PACKED: Holding.HELD,
        _S.READY_FOR_PICKUP: Holding.HELD,
        _S.SHIPPED: Holding.CONSUMED,
        _S.DELIVERED: Holding.CONSUMED,
        _S.IN_TRANSFER: Holding.CONSUMED,
        _S.COLLECTED: Holding.CONSUMED,
        _S.REJECTED: Holding.RELEASED,
        _S.WITHDRAWN: Holding.RELEASED,
        _S.CANCELLED: Holding.RELEASED,
    }
)


class IllegalTransition(Exception):
    """An action the state machine does not allow from the fulfilment's status (API: 409)."""

    def __init__(self, status: FulfilmentStatus, action: Transition) -> None:
        self.status = status
        self.action = action
        self.allowed = allowed_actions(status)
        allowed = ", ".join(sorted(self.allowed)) or "nothing (it is final)"
        super().__init__(
            f"cannot {action} a fulfilment that is {status}; allowed from {status}: {allowed}"
        )


def next_status(status: FulfilmentStatus, action: Transition) -> FulfilmentStatus:
    try:
        return TRANSITIONS[status][action]
    except KeyError:
        raise IllegalTransition(status, action) from None


def allowed_actions(status: FulfilmentStatus) -> frozenset[Transition]:
    return frozenset(TRANSITIONS[status])


def may_act(actor: Actor, action: Transition) -> bool:
    return action in PERMISSIONS[actor]


def is_open(status: FulfilmentStatus) -> bool:
    """Open: some action may still move it (a shipped parcel still awaits delivery)."""
    return status not in TERMINAL_STATUSES


def holding(status: FulfilmentStatus) -> Holding:
    return _HOLDINGS[status]


def holds_allocation(status: FulfilmentStatus) -> bool:
    """Its units are reserved at its location: they count in that position's `reserved`."""
    return _HOLDINGS[status] is Holding.HELD
