"""What sourcing and the promise read, kept in process: locations, skus, live profiles, ATP.

A promise weighs five plans (home standard and express, click & collect at three stores); read
from the database each time, the network and its opening hours alone cost more than the whole
budget of a promise. So the view serves them from memory, and stays true the way the
availability index does (services/availability.py): before each use it catches the index up,
which reads one watermark; a write to a location, channel, sku or profile bumps the config
version there (`db.changes.bump_config`), and the view then drops what it had cached. ATP comes
from the index itself, as stale as the index may be: a promise or a dry run may read a
position a few milliseconds old; order placement re-checks in the database when it allocates.

Shipping origins (when each location's parcels are ready and leave) depend on `now`; they are
worked out once per service level and minute, from the end of the minute, so every promise of
that minute shares them and none is earlier than the truth by even a second: a parcel is at
most a minute later than it could be, never sooner.
"""

from __future__ import annotations

import math
import threading
from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from openoms.db.repositories import profiles as profiles_repo
from openoms.db.repositories import skus as skus_repo
from openoms.db.uow import Database
from openoms.domain.carriers import CarrierService, ServiceLevel, demo_carrier_services
from openoms.domain.catalog import Sku
from openoms.domain.network import EARTH_RADIUS_KM, ByLatitude, Capability, GeoPoint, Location
from openoms.domain.profiles import (
    CriteriaRegistry,
    DeliveryMethod,
    LocationFacts,
    Profile,
    ProfileRule,
    admits_location,
    live_version,
    screen_locations,
)
from openoms.domain.profiles.versions import ProfileHistory
from openoms.domain.shipping import Destination
from openoms.domain.shipping_costs import ShippingOrigins, shipping_origins
from openoms.domain.sourcing import Objective, SplitPolicy
from openoms.errors import FieldError, InvalidInput, NotFound
from openoms.services.availability import AvailabilityIndex

MAX_CACHED_SKUS = 200_000
KM_PER_DEGREE_OF_LATITUDE = math.radians(EARTH_RADIUS_KM)


@dataclass(frozen=True, slots=True)
class ExcludedLocation:
    """A location a rule left out: `reason` is a filter (`FilterReason`) or the optimizer's."""

    location: str
    rule: str
    reason: str
    detail: str


@dataclass(frozen=True, slots=True)
class _Admitted:
    """A rule's admitted locations, and the same sorted by latitude for distance bands."""

    rule: ProfileRule
    locations: tuple[Location, ...]
    by_latitude: tuple[Location, ...]
    latitudes: tuple[float, ...]

    @classmethod
    def of(cls, rule: ProfileRule, locations: Sequence[Location]) -> _Admitted:
        ordered = sorted(locations, key=lambda at: (at.point.latitude, at.code))
        latitudes = tuple(at.point.latitude for at in ordered)
        return cls(rule, tuple(locations), tuple(ordered), latitudes)


class SourcingView:
    """One per process (the API keeps it in `app.state`); safe to share between threads."""

    def __init__(
        self,
        db: Database,
        *,
        criteria: CriteriaRegistry | None = None,
        index: AvailabilityIndex | None = None,
        services: Sequence[CarrierService] | None = None,
    ) -> None:
        self.db = db
        self.criteria = criteria if criteria is not None else CriteriaRegistry()
        self.index = index if index is not None else AvailabilityIndex(db)
        self.services = tuple(services if services is not None else demo_carrier_services())
        self._of_level = {
            level: tuple(s for s in self.services if s.level == level) for level in ServiceLevel
        }
        self._lock = threading.Lock()
        self._version = -1
        self._locations: tuple[Location, ...] = ()
        self._by_code: dict[str, Location] = {}
        self._skus: dict[str, Sku] = {}
        self._histories: dict[tuple[str, DeliveryMethod], tuple[ProfileHistory, ...]] = {}
        self._origins: dict[tuple[ServiceLevel, datetime], ShippingOrigins] = {}
        self._admitted: dict[int, _Admitted] = {}
        self._turned_away: dict[int, tuple[ProfileRule, tuple[ExcludedLocation, ...]]] = {}
        self._terms: dict[int, tuple[ProfileRule, SplitPolicy, Objective]] = {}
        self._pickup: tuple[tuple[Location, ...], ByLatitude] | None = None

    def refresh(self) -> None:
        """Catch up with the database; drop the cache if the configuration changed."""
        self.index.catch_up()
        if self.index.config_version != self._version:
            with self._lock:
                self._version = self.index.config_version
                self._locations = self.index.locations
                self._by_code = {location.code: location for location in self._locations}
                self._skus = {}
                self._histories = {}
                self._origins = {}
                self._admitted = {}
                self._turned_away = {}
                self._terms = {}
                self._pickup = None

    @property
    def locations(self) -> tuple[Location, ...]:
        """The network as of the view's last refresh (not the index's: another caller may
        catch the index up meanwhile, and the view's caches must agree with what it serves)."""
        return self._locations

    @property
    def behind(self) -> bool:
        """Whether the index read a configuration that the view has not taken up yet (another
        caller caught it up, or the view was never refreshed)."""
        return self._version != self.index.config_version

    @property
    def locations_by_code(self) -> Mapping[str, Location]:
        return self._by_code

    def location(self, code: str) -> Location | None:
        return self._by_code.get(code)

    def load_catalogue(self) -> int:
        """Load the skus now, up to the cache's size, instead of one by one on first use: a
        server does it before its first request, which would otherwise wait on the database
        for every sku it meets first (the promise's tail). Returns how many were loaded."""
        version = self._version
        loaded: dict[str, Sku] = {}
        after: str | None = None
        with self.db.read() as conn:
            while len(loaded) < MAX_CACHED_SKUS:
                found = skus_repo.page(conn, after=after, limit=5_000)
                loaded.update((sku.code, sku) for sku in found)
                if len(found) < 5_000:
                    break
                after = found[-1].code
        with self._lock:
            if self._version == version:  # not dropped by a refresh meanwhile
                self._skus.update(loaded)
        return len(loaded)

    def skus(self, codes: Sequence[str], field: str = "lines[{i}].sku") -> dict[str, Sku]:
        """The skus by code; unknown ones are a 422 naming each position (`field` formatted
        with its index)."""
        known = self._skus
        found = {code: known[code] for code in codes if code in known}
        missing = [code for code in dict.fromkeys(codes) if code not in found]
        if missing:
            with self.db.read() as conn:
                loaded = skus_repo.get_many(conn, missing)
            found.update(loaded)
            with self._lock:
                if len(self._skus) > MAX_CACHED_SKUS:
                    self._skus = {}
                self._skus.update(loaded)
        errors = [
            FieldError(field.format(i=i), f"unknown sku {code!r}", "unknown")
            for i, code in enumerate(codes)
            if code not in found
        ]
        if errors:
            raise InvalidInput(errors)
        return found

    def atp(self, skus: Iterable[str], now: datetime | None = None) -> dict[str, dict[str, int]]:
        """Positive ATP per location and sku, less the holds not expired at `now`."""
        return self.index.atp_by_location(list(skus), now)

    def live_profile(self, channel: str, method: DeliveryMethod, now: datetime) -> Profile:
        """The first profile (by code) of the channel and method that has a live version."""
        key = (channel, method)
        histories = self._histories.get(key)
        if histories is None:
            with self.db.read() as conn:
                histories = tuple(
                    profiles_repo.history(conn, code, self.criteria)
                    for code in profiles_repo.codes_for(conn, channel, method.value)
                )
            with self._lock:
                self._histories[key] = histories
        for history in histories:
            live = live_version(history, now)
            if live is not None:
                return live.profile
        raise NotFound("sourcing profile", f"{channel}/{method.value}")

    def admitted(self, rule: ProfileRule, near: GeoPoint | None = None) -> Sequence[Location]:
        """The locations the rule's filters on the location alone let through (kind,
        capability, tags, active): the same for every basket until the network changes.

        With `near` and a rule that has a maximum distance, only those whose latitude is within
        that distance of `near` (a band found by bisection): the others are too far anyway.
        """
        found = self._admitted.get(id(rule))
        if found is None or found.rule is not rule:
            found = _Admitted.of(rule, [at for at in self.locations if admits_location(rule, at)])
            with self._lock:
                self._admitted[id(rule)] = found
        limit = rule.filters.max_distance_km
        if near is None or limit is None:
            return found.locations
        band = limit / KM_PER_DEGREE_OF_LATITUDE + 1e-9
        start = bisect_left(found.latitudes, near.latitude - band)
        end = bisect_right(found.latitudes, near.latitude + band)
        return found.by_latitude[start:end]

    def search_terms(self, rule: ProfileRule) -> tuple[SplitPolicy, Objective]:
        """The rule's split policy and objective as the optimizer takes them: made once per
        rule, not once per search (the promise runs seven)."""
        found = self._terms.get(id(rule))
        if found is None or found[0] is not rule:
            found = (rule, rule.split.to_policy(), rule.objective.to_objective())
            with self._lock:
                self._terms[id(rule)] = found
        return found[1], found[2]

    def turned_away(self, rule: ProfileRule, now: datetime) -> tuple[ExcludedLocation, ...]:
        """Why the rule's filters on the location alone leave out each location `admitted`
        does not let through, by location code: the same for every basket until the network
        changes. `now`: a moment the rule is active at (outside its calendar a rule leaves
        every location out, for that reason instead)."""
        found = self._turned_away.get(id(rule))
        if found is not None and found[0] is rule:
            return found[1]
        admitted = {at.code for at in self.admitted(rule)}
        others = [
            LocationFacts(at, {}, distance_km=0.0)
            for at in self.locations
            if at.code not in admitted
        ]
        anywhere = Destination(GeoPoint(0.0, 0.0), "FR")
        screening = screen_locations(rule, anywhere, (), others, now, criteria=self.criteria)
        assert not screening.candidates, "a location admits_location refused was admitted"
        excluded = tuple(
            ExcludedLocation(e.location, e.rule, e.reason.value, e.detail)
            for e in screening.excluded
        )
        with self._lock:
            self._turned_away[id(rule)] = (rule, excluded)
        return excluded

    def pickup_stores(self, near: GeoPoint, count: int) -> list[Location]:
        """The `count` active click & collect stores nearest to `near` (ties to the code).

        Kept with the network they were found in: a thread that read the network just before
        a refresh cannot leave its stores for the new network."""
        network = self.locations
        found = self._pickup
        if found is None or found[0] is not network:
            stores = ByLatitude(
                at for at in network if at.active and Capability.CLICK_COLLECT in at.capabilities
            )
            found = (network, stores)
            with self._lock:
                self._pickup = found
        return found[1].nearest(near, count)

    def origins(self, level: ServiceLevel, now: datetime) -> ShippingOrigins:
        """Ready and leaving times of every location for `level`, shared within `now`'s minute."""
        minute = now.replace(second=0, microsecond=0)
        if minute < now:
            minute += timedelta(minutes=1)
        key = (level, minute)
        found = self._origins.get(key)
        if found is None:
            found = shipping_origins(self.locations, self.services, (), minute, level)
            with self._lock:
                if len(self._origins) > 64:
                    self._origins = {k: v for k, v in self._origins.items() if k[1] == minute}
                self._origins[key] = found
        return found

    def of_level(self, level: ServiceLevel) -> tuple[CarrierService, ...]:
        return self._of_level[level]


def weights(skus: Mapping[str, Sku]) -> dict[str, int]:
    return {code: sku.weight_g for code, sku in skus.items()}
