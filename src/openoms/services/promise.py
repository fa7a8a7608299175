"""The delivery promise: every way a basket can reach the customer, with price, date and carbon.

Home delivery and click & collect reuse `sourcing.plan_basket` with each method's live profile,
and their dates come from the same `shipping` functions the order lifecycle uses, so the shop
promises what the OMS will then do. Express collect needs no plan: the pickup store's own shelf
serves it, or it is not offered. A method that cannot serve (no live profile, no plan) is listed
in `unavailable` with the reason: the customer still sees the others. Nothing is reserved.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import NamedTuple

from openoms.demo.geography import town_named
from openoms.domain.calendars import (
    UnknownCountry,
    local_instant,
    open_intervals,
    public_holidays,
)
from openoms.domain.carriers import (
    ServiceLevel,
    check_carriage,
)
from openoms.domain.catalog import Sku
from openoms.domain.network import (
    Capability,
    GeoPoint,
    Location,
    great_circle_km,
)
from openoms.domain.pricing import PriceList, demo_price_list
from openoms.domain.profiles import DeliveryMethod
from openoms.domain.shipping import (
    DeliveryWindow,
    Destination,
    ShippingQuote,
    parcel_weight_g,
    quote_shipping,
    ready_time,
)
from openoms.domain.sourcing import (
    Allocation,
    Breakdown,
    Plan,
    PlanBreakdown,
    Shipment,
)
from openoms.errors import Conflict, FieldError, InvalidInput, NotFound
from openoms.services.sourcing import (
    LEVELS,
    BasketStock,
    RequestedLine,
    SourcingResult,
    plan_basket,
    read_basket,
)
from openoms.services.sourcing_view import SourcingView

HOME_METHODS = (DeliveryMethod.HOME_STANDARD, DeliveryMethod.HOME_EXPRESS)


@dataclass(frozen=True, slots=True)
class DeliveryOption:
    """One way to serve the basket. Home delivery has a `window`; collecting in store has a
    `ready_at` when the pickup store's own shelf serves it all, else the window of the transfer.
    """

    method: DeliveryMethod
    price: int
    currency: str
    window: DeliveryWindow | None
    ready_at: datetime | None
    carbon_g: int
    parcels: int
    plan: Plan
    pickup_store: str | None = None
    profile: str | None = None
    rule: str | None = None


@dataclass(frozen=True, slots=True)
class Unavailable:
    method: DeliveryMethod
    reason: str
    pickup_store: str | None = None


@dataclass(frozen=True, slots=True)
class Promise:
    basket_amount: int
    currency: str
    options: tuple[DeliveryOption, ...]
    unavailable: tuple[Unavailable, ...]


@dataclass(frozen=True, slots=True)
class ProductPromise:
    """The product page's line: `option` delivered in its window if ordered before `order_by`.

    `cut_off` is the carrier's cut-off at `location` on the departure day; `order_by` is earlier
    by the preparation time, since an order placed at the cut-off would miss the pickup.
    """

    sku: str
    option: DeliveryOption | None
    location: str | None
    cut_off: datetime | None
    order_by: datetime | None
    time_left: timedelta | None
    unavailable: tuple[Unavailable, ...]


@dataclass(frozen=True, slots=True)
class _Basket:
    lines: tuple[RequestedLine, ...]
    read: BasketStock
    locations: Mapping[str, Location]

    @property
    def skus(self) -> Mapping[str, Sku]:
        return self.read.skus

    @property
    def atp(self) -> Mapping[str, Mapping[str, int]]:
        return self.read.stock

    @property
    def amount(self) -> int:
        return sum(self.skus[line.sku].price * line.quantity for line in self.lines)

    def sku_of(self, line_id: str) -> Sku:
        return next(self.skus[line.sku] for line in self.lines if line.line_id == line_id)


@dataclass(frozen=True, slots=True)
class _Setting:
    """What every option of one promise shares."""

    view: SourcingView
    channel: str
    destination: Destination
    now: datetime
    prices: PriceList
    basket: _Basket


def place_city(name: str) -> Destination:
    """A city of the demo geography as a destination; an unknown one is the caller's mistake."""
    try:
        town = town_named(name)
    except LookupError as error:
        raise InvalidInput([FieldError("destination.city", str(error), "unknown")]) from error
    return Destination(GeoPoint(town.latitude, town.longitude), "FR")


def promise(
    view: SourcingView,
    *,
    channel: str,
    lines: Sequence[RequestedLine],
    destination: Destination,
    now: datetime,
    pickup_store: str | None = None,
    nearest: int = 3,
    prices: PriceList | None = None,
    refresh: bool = True,
) -> Promise:
    """Home options, then click & collect and express collect at each pickup store.

    `refresh` False: the caller caught the view up (the route, in a worker thread)."""
    setting = _setting(
        view,
        channel=channel,
        lines=lines,
        destination=destination,
        now=now,
        prices=prices,
        refresh=refresh,
    )
    options: list[DeliveryOption] = []
    unavailable: list[Unavailable] = []
    for method in HOME_METHODS:
        _add(_home_option(setting, method), options, unavailable)
    stores = _pickup_stores(setting, pickup_store, nearest)
    if not stores:
        reason = "no click & collect store in the network"
        unavailable.append(Unavailable(DeliveryMethod.CLICK_COLLECT, reason))
    for store in stores:
        collect = _click_collect(setting, store)
        _add(collect, options, unavailable)
        if isinstance(collect, Unavailable) and collect.pickup_store is None:
            break
    for store in stores:
        _add(_express_collect(setting, store), options, unavailable)
    return Promise(
        setting.basket.amount, setting.prices.currency, tuple(options), tuple(unavailable)
    )


def promise_product(
    view: SourcingView,
    *,
    channel: str,
    sku: str,
    destination: Destination,
    now: datetime,
    prices: PriceList | None = None,
    refresh: bool = True,
) -> ProductPromise:
    """One unit of `sku` delivered home: the earliest window, and how long an order still makes
    the departure that gives it."""
    lines = [RequestedLine("1", sku, 1)]
    setting = _setting(
        view,
        channel=channel,
        lines=lines,
        destination=destination,
        now=now,
        prices=prices,
        refresh=refresh,
    )
    options: list[DeliveryOption] = []
    unavailable: list[Unavailable] = []
    for method in HOME_METHODS:
        _add(_home_option(setting, method), options, unavailable)
    if not options:
        return ProductPromise(sku, None, None, None, None, None, tuple(unavailable))
    best = min(options, key=_earliest)
    shipment = best.plan.shipments[0]
    location = setting.basket.locations[shipment.location]
    quote = _quote(setting, best.method, shipment)
    service = next(s for s in setting.view.services if s.code == quote.service_code)
    departure_day = quote.leaves_at.astimezone(location.zone).date()
    cut_off = local_instant(departure_day, service.cut_off_at(location.code), location.zone)
    order_by = _latest_order(location, now, quote.leaves_at)
    return ProductPromise(
        sku, best, location.code, cut_off, order_by, order_by - now, tuple(unavailable)
    )


def _earliest(option: DeliveryOption) -> tuple[object, ...]:
    window = option.window
    assert window is not None, "home options always have a window"
    return (window.earliest, window.latest, option.price)


def _latest_order(location: Location, now: datetime, leaves_at: datetime) -> datetime:
    """The last minute an order is still ready for the pickup at `leaves_at`.

    Preparation counts open minutes only, so subtracting it from the pickup would be wrong
    across a closing time; `ready_time` grows with the order time, so bisect on it instead.
    """

    def in_time(minutes: int) -> bool:
        return ready_time(location, now + timedelta(minutes=minutes)) <= leaves_at

    early, late = 0, (leaves_at - now) // timedelta(minutes=1)
    if in_time(late):
        return now + timedelta(minutes=late)
    while late - early > 1:
        middle = (early + late) // 2
        if in_time(middle):
            early = middle
        else:
            late = middle
    return now + timedelta(minutes=early)


def _add(
    found: DeliveryOption | Unavailable,
    options: list[DeliveryOption],
    unavailable: list[Unavailable],
) -> None:
    if isinstance(found, Unavailable):
        unavailable.append(found)
    else:
        options.append(found)


def _setting(
    view: SourcingView,
    *,
    channel: str,
    lines: Sequence[RequestedLine],
    destination: Destination,
    now: datetime,
    prices: PriceList | None,
    refresh: bool,
) -> _Setting:
    try:
        public_holidays(destination.country, now.year)
    except UnknownCountry as error:
        raise InvalidInput([FieldError("destination.country", str(error), "unknown")]) from error
    return _Setting(
        view=view,
        channel=channel,
        destination=destination,
        now=now,
        prices=prices or demo_price_list(),
        basket=_load(view, lines, now, refresh),
    )


def _load(
    view: SourcingView, lines: Sequence[RequestedLine], now: datetime, refresh: bool
) -> _Basket:
    """The basket's skus (an unknown one is a 422 naming its line), every location, and ATP."""
    read = read_basket(view, lines, now, refresh=refresh)
    return _Basket(tuple(lines), read, view.locations_by_code)


def _plan(
    setting: _Setting, method: DeliveryMethod, destination: Destination, store: str | None
) -> SourcingResult | Unavailable:
    try:
        result = plan_basket(
            setting.view,
            channel=setting.channel,
            method=method,
            lines=setting.basket.lines,
            destination=destination,
            now=setting.now,
            explain=False,
            basket=setting.basket.read,
        )
    except NotFound:
        reason = f"no live sourcing profile for channel {setting.channel!r} and {method.value}"
        return Unavailable(method, reason)
    except Conflict as error:
        return Unavailable(method, error.detail, store)
    if result.plan is None:
        missing = ", ".join(f"line {s.line_id}: {s.units}" for s in result.shortfall)
        return Unavailable(method, f"no location can serve the basket (missing {missing})", store)
    return result


def _home_option(setting: _Setting, method: DeliveryMethod) -> DeliveryOption | Unavailable:
    result = _plan(setting, method, setting.destination, None)
    if isinstance(result, Unavailable):
        return result
    plan = result.plan
    assert plan is not None
    quotes = [_quote(setting, method, shipment) for shipment in plan.shipments]
    charge = _price(setting, method)
    return DeliveryOption(
        method=method,
        price=charge.amount,
        currency=charge.currency,
        window=_window(quotes),
        ready_at=None,
        carbon_g=plan.breakdown.carbon_g,
        parcels=plan.breakdown.parcels,
        plan=plan,
        profile=result.profile,
        rule=result.rule,
    )


def _click_collect(setting: _Setting, store: Location) -> DeliveryOption | Unavailable:
    """Sourced with the click_collect profile towards the store; units already on its shelf
    travel nowhere, so only the other shipments count for the date, carbon and parcels."""
    method = DeliveryMethod.CLICK_COLLECT
    result = _plan(setting, method, Destination(store.point, store.country), store.code)
    if isinstance(result, Unavailable):
        return result
    plan = result.plan
    assert plan is not None
    transfers = [s for s in plan.shipments if s.location != store.code]
    charge = _price(setting, method)
    return DeliveryOption(
        method=method,
        price=charge.amount,
        currency=charge.currency,
        window=_window([_quote(setting, method, s, store) for s in transfers])
        if transfers
        else None,
        ready_at=None if transfers else ready_time(store, setting.now),
        carbon_g=sum(s.breakdown.carbon_g for s in transfers),
        parcels=sum(s.breakdown.parcels for s in transfers),
        plan=plan,
        pickup_store=store.code,
        profile=result.profile,
        rule=result.rule,
    )


def _express_collect(setting: _Setting, store: Location) -> DeliveryOption | Unavailable:
    """Only the store's own shelf, only while it is open: ready once its preparation is done."""
    method = DeliveryMethod.EXPRESS_COLLECT
    if Capability.EXPRESS_COLLECT not in store.capabilities:
        return Unavailable(method, f"{store.code} does not offer express collect", store.code)
    if not _open_at(store, setting.now):
        return Unavailable(method, f"{store.code} is closed now", store.code)
    shelf = setting.basket.atp.get(store.code, {})
    needed: dict[str, int] = {}
    for line in setting.basket.lines:
        needed[line.sku] = needed.get(line.sku, 0) + line.quantity
    short = sorted(sku for sku, units in needed.items() if shelf.get(sku, 0) < units)
    if short:
        reason = f"{store.code} lacks units of {', '.join(short)} on its own shelf"
        return Unavailable(method, reason, store.code)
    allocations = tuple(
        Allocation(line.line_id, store.code, line.quantity) for line in setting.basket.lines
    )
    shipment = Shipment(store.code, allocations, Breakdown(0, 0, 0, 0), 0)
    charge = _price(setting, method)
    return DeliveryOption(
        method=method,
        price=charge.amount,
        currency=charge.currency,
        window=None,
        ready_at=ready_time(store, setting.now),
        carbon_g=0,
        parcels=0,
        plan=Plan((shipment,), PlanBreakdown(0, 0, 0, 0, 0, 0.0)),
        pickup_store=store.code,
    )


class _Charge(NamedTuple):
    amount: int
    currency: str


def _price(setting: _Setting, method: DeliveryMethod) -> _Charge:
    """The live profile's price for the method, else the default price list's."""
    try:
        price = setting.view.live_profile(setting.channel, method, setting.now).price
    except NotFound:
        price = None
    basket = setting.basket.amount
    if price is not None:
        return _Charge(price.for_basket(basket), price.currency)
    return _Charge(setting.prices.price(method, basket), setting.prices.currency)


def _open_at(location: Location, now: datetime) -> bool:
    """`open_intervals` clips its first interval to start at `now` when open at `now`."""
    first = next(open_intervals(location.opening_hours, location.zone, now, 0), None)
    return first is not None and first[0] <= now


def _pickup_stores(setting: _Setting, asked: str | None, nearest: int) -> list[Location]:
    locations = setting.basket.locations
    if asked is not None:
        store = locations.get(asked)
        if store is None or not store.active:
            raise InvalidInput([FieldError("pickup_store", f"no location {asked!r}", "unknown")])
        if Capability.CLICK_COLLECT not in store.capabilities:
            message = f"{asked} does not offer click & collect"
            raise InvalidInput([FieldError("pickup_store", message, "not_a_pickup_store")])
        return [store]
    return setting.view.pickup_stores(setting.destination.point, nearest)


def _quote(
    setting: _Setting,
    method: DeliveryMethod,
    shipment: Shipment,
    store: Location | None = None,
) -> ShippingQuote:
    """The shipment's parcel with the cheapest service of the method's level that carries it,
    as the cost model picks it. A shipment of several parcels is quoted as its heaviest one."""
    location = setting.basket.locations[shipment.location]
    destination = Destination(store.point, store.country) if store else setting.destination
    level = LEVELS.get(method, ServiceLevel.STANDARD)
    distance = great_circle_km(location.point, destination.point)
    weight = parcel_weight_g(
        (setting.basket.sku_of(a.line_id), a.units) for a in shipment.allocations
    )
    of_level = [s for s in setting.view.of_level(level) if s.currency == location.currency]
    largest = max(s.max_weight_g for s in of_level if distance <= s.reach_km)
    parcel = min(weight, largest)
    carried = [s for s in of_level if check_carriage(s, parcel, distance) is None]
    service = min(carried, key=lambda s: (s.rate(parcel, distance), s.code))
    return quote_shipping(location, service, destination, parcel, setting.now)


def _window(quotes: Sequence[ShippingQuote]) -> DeliveryWindow:
    """The customer has the order when its last parcel arrives."""
    return DeliveryWindow(
        max(q.arrives.earliest for q in quotes), max(q.arrives.latest for q in quotes)
    )
