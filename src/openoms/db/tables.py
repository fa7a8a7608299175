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
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
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
