"""The database applies the feeds exactly as the domain model does, whatever the sequence.

Snapshots go through bulk SQL (a staging table and one upsert), movements through the domain;
this holds the SQL to the domain's rules (domain/stock.py) on random batches.
"""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from openoms.db.repositories.stock import MovementRow, SnapshotRow
from openoms.db.uow import Database
from openoms.domain.stock import Movement, StockPosition
from openoms.services import catalog, network, stock
from tests.conftest import NOW, location, sku

T0 = datetime(2026, 11, 25, 8, tzinfo=UTC)
LOCATIONS = ("L1", "L2")
counter = itertools.count()

feed = st.one_of(
    st.tuples(
        st.just("snapshot"), st.sampled_from(LOCATIONS), st.integers(0, 60), st.integers(0, 30)
    ),
    st.tuples(
        st.just("movement"), st.sampled_from(LOCATIONS), st.integers(-40, 40), st.integers(0, 30)
    ),
)
batches = st.lists(st.lists(feed, min_size=1, max_size=6), min_size=1, max_size=6)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(batches=batches)
def test_database_and_domain_agree_on_on_hand(
    db: Database, batches: list[list[tuple[str, str, int, int]]]
) -> None:
    run = next(counter)
    code = f"SKU{run}"
    network.upsert_locations(db, [location(c) for c in LOCATIONS], NOW)
    catalog.upsert_skus(db, [sku(code)], NOW)
    model = {loc: StockPosition(code, loc) for loc in LOCATIONS}
    for number, batch in enumerate(batches):
        snapshots = [
            SnapshotRow(loc, code, qty, T0 + timedelta(minutes=minute))
            for kind, loc, qty, minute in batch
            if kind == "snapshot"
        ]
        movements = [
            MovementRow(
                f"{run}-{number}-{i}", loc, code, qty, "adj", T0 + timedelta(minutes=minute)
            )
            for i, (kind, loc, qty, minute) in enumerate(batch)
            if kind == "movement"
        ]
        if snapshots:
            stock.ingest_snapshots(db, snapshots, NOW)
            for row in sorted(snapshots, key=lambda r: r.as_of, reverse=True):
                model[row.location] = model[row.location].apply_snapshot(row.on_hand, row.as_of)[0]
        if movements:
            stock.record_movements(db, movements, NOW)
            for moved in sorted(movements, key=lambda r: (r.occurred_at, r.movement_id)):
                movement = Movement(moved.movement_id, moved.delta, moved.reason, moved.occurred_at)
                model[moved.location] = model[moved.location].apply_movement(movement)[0]
        stored = {r.location: r.on_hand for r in stock.sku_positions(db, code)}
        assert stored == {loc: p.on_hand for loc, p in model.items() if loc in stored}
