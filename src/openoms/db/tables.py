"""The schema. Alembic migrations under db/migrations are generated from and checked against it.

Stock rows are keyed (location_code, sku_code) so that a distributed SQL engine can partition
them by location.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    UniqueConstraint,
    text,
)

from openoms.db.types import UTCDateTime, json_type

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = MetaData(naming_convention=NAMING_CONVENTION)

CODE = 64

locations = Table(
    "locations",
    metadata,
    Column("code", String(CODE), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("kind", String(20), nullable=False),
    Column("latitude", Float(), nullable=False),
    Column("longitude", Float(), nullable=False),
    Column("timezone", String(64), nullable=False),
    Column("address", String(300), nullable=False, default=""),
    Column("city", String(120), nullable=False, default=""),
    Column("postal_code", String(20), nullable=False, default=""),
    Column("country", String(2), nullable=False, default="FR"),
    Column("opening_hours", json_type(), nullable=False),
    Column("capabilities", json_type(), nullable=False),
    Column("daily_capacity", Integer(), nullable=False, default=0),
    Column("preparation_minutes", Integer(), nullable=False, default=0),
    Column("handling_cost", Integer(), nullable=False, default=0),
    Column("currency", String(3), nullable=False, default="EUR"),
    Column("tags", json_type(), nullable=False),
    Column("active", Boolean(), nullable=False, default=True),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
    # How long a store keeps e-reserved units for the customer (migration 0010).
    Column("reservation_hours", Integer(), nullable=False, server_default="48"),
)

skus = Table(
    "skus",
    metadata,
    Column("code", String(CODE), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("category", String(80), nullable=False, default=""),
    Column("weight_g", Integer(), nullable=False),
    Column("length_mm", Integer(), nullable=False),
    Column("width_mm", Integer(), nullable=False),
    Column("height_mm", Integer(), nullable=False),
    Column("price", Integer(), nullable=False),
    Column("currency", String(3), nullable=False, default="EUR"),
    Column("barcode", String(64), nullable=False, default=""),
    Column("tags", json_type(), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
)

stock_positions = Table(
    "stock_positions",
    metadata,
    Column("location_code", String(CODE), ForeignKey("locations.code"), primary_key=True),
    Column("sku_code", String(CODE), ForeignKey("skus.code"), primary_key=True),
    Column("on_hand", Integer(), nullable=False, default=0),
    Column("reserved", Integer(), nullable=False, default=0),
    Column("safety_stock", Integer(), nullable=False, default=0),
    Column("snapshot_as_of", UTCDateTime(), nullable=True),
    # The newest movement's time: a snapshot older than it must net the movements in.
    Column("last_movement_at", UTCDateTime(), nullable=True),
    # What the last applied snapshot changed on_hand by: the count's drift from what we thought.
    Column("snapshot_delta", Integer(), nullable=False, default=0),
    CheckConstraint("on_hand >= 0", name="on_hand_not_negative"),
    CheckConstraint("reserved >= 0", name="reserved_not_negative"),
    CheckConstraint("safety_stock >= 0", name="safety_stock_not_negative"),
    Index(None, "sku_code"),
)

stock_changes = Table(
    "stock_changes",
    metadata,
    # The log of positions whose ATP changed, keyed by the change stamp of the transaction
    # (db/changes.py). A log rather than an indexed column on stock_positions: updating an
    # indexed column forbids PostgreSQL's in-page (HOT) updates, which make bulk feeds 2-3x faster.
    Column("seq", BigInteger(), primary_key=True),
    Column("location_code", String(CODE), primary_key=True),
    Column("sku_code", String(CODE), primary_key=True),
    Column("changed_at", UTCDateTime(), nullable=False),
    Index(None, "changed_at"),
)

stock_movements = Table(
    "stock_movements",
    metadata,
    Column("movement_id", String(CODE), primary_key=True),
    Column("location_code", String(CODE), ForeignKey("locations.code"), nullable=False),
    Column("sku_code", String(CODE), ForeignKey("skus.code"), nullable=False),
    Column("delta", Integer(), nullable=False),
    Column("reason", String(40), nullable=False),
    Column("occurred_at", UTCDateTime(), nullable=False),
    Column("received_at", UTCDateTime(), nullable=False),
    Index(None, "location_code", "sku_code", "occurred_at"),
)

channels = Table(
    "channels",
    metadata,
    Column("code", String(CODE), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("publication", json_type(), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
)

api_keys = Table(
    "api_keys",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("role", String(20), nullable=False),
    Column("location_code", String(CODE), ForeignKey("locations.code"), nullable=True),
    # A channel key may be scoped to one channel (None: every channel, as before 0005).
    Column("channel", String(CODE), nullable=True),
    # A carrier key may be scoped to one carrier: it reads that carrier's pickups only.
    Column("carrier", String(CODE), nullable=True),
    Column("key_hash", String(64), nullable=False, unique=True),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("revoked_at", UTCDateTime(), nullable=True),
)

feed_clock = Table(
    "feed_clock",
    metadata,
    # SQLite's change stamps: one writer at a time, so a counter orders commits exactly.
    Column("name", String(32), primary_key=True),
    Column("value", BigInteger(), nullable=False),
)

profile_versions = Table(
    "profile_versions",
    metadata,
    # Sourcing profiles are data: each version keeps its document as it was published, so a
    # decision record can always say which rules were in force.
    Column("code", String(CODE), primary_key=True),
    Column("number", Integer(), primary_key=True),
    Column("channel", String(CODE), nullable=False),
    Column("delivery_method", String(20), nullable=False),
    Column("state", String(20), nullable=False),
    Column("publish_at", UTCDateTime(), nullable=True),
    Column("document", json_type(), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Index(None, "channel", "delivery_method"),
)

ID = 36
"""Generated ids: UUIDv7 as text, so that they sort by creation time."""

orders = Table(
    "orders",
    metadata,
    Column("id", String(ID), primary_key=True),
    Column("channel", String(CODE), ForeignKey("channels.code"), nullable=False),
    Column("customer", json_type(), nullable=False),
    Column("delivery_method", String(20), nullable=False),
    Column("latitude", Float(), nullable=True),
    Column("longitude", Float(), nullable=True),
    Column("country", String(2), nullable=True),
    Column("pickup_store", String(CODE), ForeignKey("locations.code"), nullable=True),
    Column("promise_option", json_type(), nullable=True),
    # Derived from the fulfilments and the backorder (domain/orders.py `order_status`), written
    # again by every change of them: kept only so that listings can filter on it.
    Column("status", String(20), nullable=False),
    Column("idempotency_key", String(200), nullable=False),
    Column("request_hash", String(64), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
    UniqueConstraint("channel", "idempotency_key"),
    Index(None, "channel", "id"),
    Index(None, "status", "id"),
)

order_lines = Table(
    "order_lines",
    metadata,
    Column("order_id", String(ID), ForeignKey("orders.id"), primary_key=True),
    Column("line_id", String(CODE), primary_key=True),
    Column("position", Integer(), nullable=False),
    Column("sku_code", String(CODE), ForeignKey("skus.code"), nullable=False),
    Column("quantity", Integer(), nullable=False),
    Column("unit_price", Integer(), nullable=False),
    Column("currency", String(3), nullable=False),
    # The buckets no fulfilment holds: units waiting for stock (and why) and units cancelled
    # before any location held them. The other buckets are the allocations' units.
    Column("unallocated", Integer(), nullable=False, default=0),
    Column("unallocated_reason", String(300), nullable=True),
    Column("cancelled", Integer(), nullable=False, default=0),
    # Units returned and received (migration 0011): they left their fulfilment's allocation.
    Column("returned", Integer(), nullable=False, server_default="0"),
    CheckConstraint("quantity > 0", name="quantity_positive"),
    CheckConstraint("unallocated >= 0", name="unallocated_not_negative"),
    CheckConstraint("cancelled >= 0", name="cancelled_not_negative"),
    CheckConstraint("returned >= 0", name="returned_not_negative"),
)

fulfilments = Table(
    "fulfilments",
    metadata,
    Column("id", String(ID), primary_key=True),
    Column("order_id", String(ID), ForeignKey("orders.id"), nullable=False),
    Column("location_code", String(CODE), ForeignKey("locations.code"), nullable=False),
    Column("status", String(20), nullable=False),
    Column("rule", String(200), nullable=True),
    # Bumped by every change: a transition applies only to the version it read.
    Column("version", Integer(), nullable=False, default=1),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
    Index(None, "order_id"),
    Index(None, "location_code", "status"),
)

allocations = Table(
    "allocations",
    metadata,
    # `units` are the units of the line that the fulfilment stands for now: held at the
    # location, or shipped and beyond, as the fulfilment's status says (domain `place_for`).
    # Units cancelled or given back leave it, so a set-aside fulfilment keeps none.
    Column("fulfilment_id", String(ID), ForeignKey("fulfilments.id"), primary_key=True),
    Column("line_id", String(CODE), primary_key=True),
    Column("order_id", String(ID), ForeignKey("orders.id"), nullable=False),
    Column("location_code", String(CODE), nullable=False),
    Column("sku_code", String(CODE), nullable=False),
    Column("units", Integer(), nullable=False),
    CheckConstraint("units >= 0", name="units_not_negative"),
    Index(None, "order_id"),
)

decisions = Table(
    "decisions",
    metadata,
    # An order's decision history: every sourcing of it, the lost races too.
    Column("order_id", String(ID), ForeignKey("orders.id"), primary_key=True),
    Column("seq", Integer(), primary_key=True),
    Column("outcome", String(20), nullable=False),
    Column("record", json_type(), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
)

events = Table(
    "events",
    metadata,
    # The outbox. Read in (stamp, seq) order below the change watermark (db/changes.py): on
    # PostgreSQL a sequence hands out seq N+1 to a transaction that may commit before N's.
    Column("seq", BigInteger().with_variant(Integer(), "sqlite"), primary_key=True),
    Column("stamp", BigInteger(), nullable=False),
    Column("order_id", String(ID), nullable=True),  # null for a hold's events (hold.*)
    Column("fulfilment_id", String(ID), nullable=True),
    Column("type", String(40), nullable=False),
    Column("payload", json_type(), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Index(None, "stamp", "seq"),
)

parcels = Table(
    "parcels",
    metadata,
    # What a shipped fulfilment left in; the carrier's tracking events find it by its number.
    Column("tracking_number", String(CODE), primary_key=True),
    Column("fulfilment_id", String(ID), ForeignKey("fulfilments.id"), nullable=False),
    Column("carrier_service", String(CODE), nullable=False),
    Column("weight_g", Integer(), nullable=False),
    # labelled (at pack, waiting for its pickup), shipped, then the carrier's latest:
    # in_transit, exception; delivered is final. void: labelled, its fulfilment then cancelled.
    Column("status", String(20), nullable=False),
    Column("status_at", UTCDateTime(), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    # A parcel labelled at pack: its box or its size, and the pickup that collects it.
    Column("box", String(20), nullable=True),
    Column("length_mm", Integer(), nullable=True),
    Column("width_mm", Integer(), nullable=True),
    Column("height_mm", Integer(), nullable=True),
    Column("pickup_id", String(ID), ForeignKey("pickups.id"), nullable=True),
    CheckConstraint("weight_g > 0", name="weight_positive"),
    Index(None, "fulfilment_id"),
    Index(None, "pickup_id"),
    Index(None, "status"),
)

tracking_events = Table(
    "tracking_events",
    metadata,
    # Every carrier event received, once: a replay finds its row and changes nothing.
    Column(
        "tracking_number",
        String(CODE),
        ForeignKey("parcels.tracking_number"),
        primary_key=True,
    ),
    Column("status", String(20), primary_key=True),
    Column("at", UTCDateTime(), primary_key=True),
    Column("received_at", UTCDateTime(), nullable=False),
)

location_closures = Table(
    "location_closures",
    metadata,
    # A store that rejected for want of capacity takes no new offer for the rest of its local
    # day: re-routes leave it out while (location, its local date) is here.
    Column("location_code", String(CODE), ForeignKey("locations.code"), primary_key=True),
    Column("day", Date(), primary_key=True),
    Column("reason", String(40), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
)
offers = Table(
    "offers",
    metadata,
    # A broadcast fulfilment offered to a store, by waves: its units are held once, at the
    # fulfilment's location; any store with an open offer may claim it (the hold moves then).
    Column("fulfilment_id", String(ID), ForeignKey("fulfilments.id"), primary_key=True),
    Column("location_code", String(CODE), ForeignKey("locations.code"), primary_key=True),
    Column("wave", Integer(), nullable=False),
    Column("offered_at", UTCDateTime(), nullable=False),
    Column("expires_at", UTCDateTime(), nullable=False),
    # open, claimed (this store won), withdrawn (another claimed, or the fulfilment moved on),
    # expired (its wave timed out)
    Column("state", String(20), nullable=False),
    Index(None, "location_code", "state"),
)
jobs = Table(
    "jobs",
    metadata,
    # Timers carried out by `oms worker`: one row per (kind, subject), deleted when done. A
    # worker leases due rows (leased_until, lease) so that two workers never run one job.
    Column("id", String(ID), primary_key=True),
    Column("kind", String(40), nullable=False),
    Column("subject", String(ID), nullable=False),
    Column("due_at", UTCDateTime(), nullable=False),
    Column("attempts", Integer(), nullable=False, default=0),
    Column("leased_until", UTCDateTime(), nullable=True),
    Column("lease", String(ID), nullable=True),
    Column("last_error", String(500), nullable=True),
    Column("created_at", UTCDateTime(), nullable=False),
    UniqueConstraint("kind", "subject"),
    Index(None, "due_at"),
)
holds = Table(
    "holds",
    metadata,
    # A basket's units held for a channel during payment. Its units count against ATP while
    # state is active and expires_at is ahead (db/repositories/holds.py): expiry is a matter of
    # time, no job changes the row. converted: an order took them (order_id); released: early.
    Column("id", String(ID), primary_key=True),
    Column("channel", String(CODE), ForeignKey("channels.code"), nullable=False),
    Column("rule", String(200), nullable=True),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("expires_at", UTCDateTime(), nullable=False),
    Column("state", String(20), nullable=False),
    Column("order_id", String(ID), nullable=True),
    Index(None, "state", "expires_at"),
)
hold_lines = Table(
    "hold_lines",
    metadata,
    Column("hold_id", String(ID), ForeignKey("holds.id"), primary_key=True),
    Column("line_id", String(CODE), primary_key=True),
    Column("location_code", String(CODE), primary_key=True),
    Column("sku_code", String(CODE), nullable=False),
    Column("units", Integer(), nullable=False),
    CheckConstraint("units > 0", name="units_positive"),
    Index(None, "location_code", "sku_code"),
)
reservations = Table(
    "reservations",
    metadata,
    # An e-reservation: units kept at one store for a customer, paid at the till. Its units
    # count against ATP while state is open or set_aside and expires_at is ahead, as a hold's
    # do (db/repositories/holds.py); the worker writes `expired` down afterwards.
    Column("id", String(ID), primary_key=True),
    Column("channel", String(CODE), ForeignKey("channels.code"), nullable=False),
    Column("location_code", String(CODE), ForeignKey("locations.code"), nullable=False),
    # The customer's e-mail, lower case: what the hoarding limits count by.
    Column("customer_key", String(254), nullable=False),
    Column("customer", json_type(), nullable=False),
    Column("state", String(20), nullable=False),
    Column("idempotency_key", String(200), nullable=False),
    Column("request_hash", String(64), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("expires_at", UTCDateTime(), nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
    UniqueConstraint("channel", "idempotency_key"),
    Index(None, "location_code", "state"),
    Index(None, "customer_key", "state"),
    Index(None, "state", "expires_at"),
)
reservation_lines = Table(
    "reservation_lines",
    metadata,
    Column("reservation_id", String(ID), ForeignKey("reservations.id"), primary_key=True),
    Column("line_id", String(CODE), primary_key=True),
    Column("location_code", String(CODE), nullable=False),
    Column("sku_code", String(CODE), ForeignKey("skus.code"), nullable=False),
    Column("units", Integer(), nullable=False),
    # The reservation's expires_at while it holds (open, set aside), null once it ended: the
    # ATP checks on the hot path read this table alone (no join with reservations).
    Column("holding_until", UTCDateTime(), nullable=True),
    CheckConstraint("units > 0", name="units_positive"),
    Index(None, "location_code", "sku_code"),
)
returns = Table(
    "returns",
    metadata,
    # A return of units of an order: asked for (requested), then received at a location and
    # inspected, with the refund it made due.
    Column("id", String(ID), primary_key=True),
    Column("order_id", String(ID), ForeignKey("orders.id"), nullable=False),
    Column("method", String(20), nullable=False),
    # in_store: where the customer brings it (a location with the returns capability).
    Column("location_code", String(CODE), ForeignKey("locations.code"), nullable=True),
    Column("reason", String(40), nullable=False),
    Column("note", String(300), nullable=False, default=""),
    Column("state", String(20), nullable=False),
    Column("idempotency_key", String(200), nullable=False),
    Column("request_hash", String(64), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("received_at", UTCDateTime(), nullable=True),
    Column("received_location", String(CODE), ForeignKey("locations.code"), nullable=True),
    Column("currency", String(3), nullable=False),
    # Minor units; a large return of dear items passes 2^31 cents.
    Column("refund_amount", BigInteger(), nullable=True),
    Column("fee", BigInteger(), nullable=True),
    UniqueConstraint("order_id", "idempotency_key"),
    Index(None, "order_id"),
    Index(None, "location_code", "state"),
)
return_lines = Table(
    "return_lines",
    metadata,
    Column("return_id", String(ID), ForeignKey("returns.id"), primary_key=True),
    Column("line_id", String(CODE), primary_key=True),
    Column("sku_code", String(CODE), nullable=False),
    Column("units", Integer(), nullable=False),
    Column("unit_price", Integer(), nullable=False),
    CheckConstraint("units > 0", name="units_positive"),
)
return_items = Table(
    "return_items",
    metadata,
    # What the inspection found: units of a line and what became of them (where they went).
    Column("return_id", String(ID), ForeignKey("returns.id"), primary_key=True),
    Column("seq", Integer(), primary_key=True),
    Column("line_id", String(CODE), nullable=False),
    Column("outcome", String(20), nullable=False),
    Column("grade", String(20), nullable=True),
    Column("units", Integer(), nullable=False),
    Column("location_code", String(CODE), ForeignKey("locations.code"), nullable=False),
    CheckConstraint("units > 0", name="units_positive"),
)
users = Table(
    "users",
    metadata,
    # A store associate's account: one location, a role, an argon2 hash of the password. After
    # repeated failures the account is locked until `locked_until` (domain/users.py).
    Column("id", String(ID), primary_key=True),
    Column("username", String(CODE), nullable=False, unique=True),
    Column("display_name", String(200), nullable=False),
    Column("location_code", String(CODE), ForeignKey("locations.code"), nullable=False),
    Column("role", String(20), nullable=False),
    Column("password_hash", String(200), nullable=False),
    Column("failed_attempts", Integer(), nullable=False, default=0),
    Column("locked_until", UTCDateTime(), nullable=True),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
)
web_sessions = Table(
    "web_sessions",
    metadata,
    # A signed-in browser: the cookie carries a random token, only its SHA-256 is kept here.
    # Every form POST must carry `csrf_token`; signing out deletes the row.
    Column("token_hash", String(64), primary_key=True),
    Column("user_id", String(ID), ForeignKey("users.id"), nullable=False),
    Column("csrf_token", String(64), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("expires_at", UTCDateTime(), nullable=False),
    Index(None, "user_id"),
    Index(None, "expires_at"),
)
pickups = Table(
    "pickups",
    metadata,
    # A carrier's collection at a location: booked (by the worker before the cut-off, or by
    # hand) with the parcels waiting there, then handed_over (every fulfilment shipped). One
    # booked pickup per location and carrier at a time: parcels labelled later join it.
    Column("id", String(ID), primary_key=True),
    Column("location_code", String(CODE), ForeignKey("locations.code"), nullable=False),
    Column("carrier", String(CODE), nullable=False),
    Column("state", String(20), nullable=False),
    Column("collect_at", UTCDateTime(), nullable=False),
    Column("booked_by", String(20), nullable=False),
    # Bumped by every change (a parcel joining, the handover), so that they queue on one row.
    Column("version", Integer(), nullable=False, default=1),
    Column("booked_at", UTCDateTime(), nullable=False),
    Column("handed_over_at", UTCDateTime(), nullable=True),
    Index(
        "uq_pickups_booked_location_code_carrier",
        "location_code",
        "carrier",
        unique=True,
        sqlite_where=text("state = 'booked'"),
        postgresql_where=text("state = 'booked'"),
    ),
    Index(None, "location_code", "state"),
    Index(None, "carrier", "state"),
)
collect_settings = Table(
    "collect_settings",
    metadata,
    # A pickup store's own click & collect settings; a store without a row has the defaults
    # of domain/collect.py `CollectSettings`.
    Column("location_code", String(CODE), ForeignKey("locations.code"), primary_key=True),
    Column("holding_days", Integer(), nullable=False),
    Column("express_minutes", Integer(), nullable=False),
    Column("uncollected", String(20), nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
)
collect_orders = Table(
    "collect_orders",
    metadata,
    # One per click & collect order, written with the order: its store's queue row, the
    # express deadline, and once the whole order is at the store the code (hashed) and how
    # long it is kept; then who handed it over.
    Column("order_id", String(ID), ForeignKey("orders.id"), primary_key=True),
    Column("store", String(CODE), ForeignKey("locations.code"), nullable=False),
    Column("method", String(20), nullable=False),
    # preparing (not all units at the store), ready, collected, uncollected (kept too long),
    # cancelled (nothing of the order left to collect)
    Column("state", String(20), nullable=False),
    Column("ready_by", UTCDateTime(), nullable=True),  # express only: the promised deadline
    Column("late", Boolean(), nullable=False, default=False),
    Column("ready_at", UTCDateTime(), nullable=True),
    Column("holding_until", UTCDateTime(), nullable=True),
    Column("code_hash", String(64), nullable=True),
    Column("failed_tries", Integer(), nullable=False, default=0),
    Column("collected_at", UTCDateTime(), nullable=True),
    Column("collected_by", String(ID), nullable=True),  # the API key that handed it over
    Column("associate", String(200), nullable=True),
    Column("handover", String(10), nullable=True),  # code | name
    Column("created_at", UTCDateTime(), nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
    Index(None, "store", "state"),
)
transfers = Table(
    "transfers",
    metadata,
    # A click & collect fulfilment shipped to its pickup store from another location: where
    # from, when it should be there, and its receipt. The fulfilment moves to the pickup
    # store when it is received (its location_code then says where the units are).
    Column("fulfilment_id", String(ID), ForeignKey("fulfilments.id"), primary_key=True),
    Column("order_id", String(ID), ForeignKey("orders.id"), nullable=False),
    Column("from_location", String(CODE), ForeignKey("locations.code"), nullable=False),
    Column("to_location", String(CODE), ForeignKey("locations.code"), nullable=False),
    Column("shipped_at", UTCDateTime(), nullable=False),
    Column("latest_arrival", Date(), nullable=False),
    Column("overdue_at", UTCDateTime(), nullable=False),
    Column("overdue", Boolean(), nullable=False, default=False),
    Column("received_at", UTCDateTime(), nullable=True),
    Column("received_by", String(ID), nullable=True),
    Index(None, "to_location", "received_at"),
)
notifications = Table(
    "notifications",
    metadata,
    # Messages to customers (the pickup code), written in the transaction that owes them and
    # sent after it committed by the worker's relay (services/notifications.py), leased like
    # jobs so that two workers never send one. The body is cleared once it is sent.
    Column("id", String(ID), primary_key=True),
    Column("order_id", String(ID), ForeignKey("orders.id"), nullable=False),
    Column("recipient", String(320), nullable=False),
    Column("subject", String(200), nullable=False),
    Column("body", String(4000), nullable=False),
    Column("state", String(20), nullable=False),  # pending, sent
    Column("attempts", Integer(), nullable=False, default=0),
    Column("due_at", UTCDateTime(), nullable=False),
    Column("leased_until", UTCDateTime(), nullable=True),
    Column("lease", String(ID), nullable=True),
    Column("last_error", String(500), nullable=True),
    Column("sent_at", UTCDateTime(), nullable=True),
    Column("created_at", UTCDateTime(), nullable=False),
    Index(None, "state", "due_at"),
)
