"""click & collect: store settings, collect orders (code, deadlines, handover), transfers,
notifications

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-01 20:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import openoms.db.types

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_at = openoms.db.types.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "collect_settings",
        sa.Column("location_code", sa.String(length=64), nullable=False),
        sa.Column("holding_days", sa.Integer(), nullable=False),
        sa.Column("express_minutes", sa.Integer(), nullable=False),
        sa.Column("uncollected", sa.String(length=20), nullable=False),
        sa.Column("updated_at", _at, nullable=False),
        sa.ForeignKeyConstraint(
            ["location_code"],
            ["locations.code"],
            name=op.f("fk_collect_settings_location_code_locations"),
        ),
        sa.PrimaryKeyConstraint("location_code", name=op.f("pk_collect_settings")),
    )
    op.create_table(
        "collect_orders",
        sa.Column("order_id", sa.String(length=36), nullable=False),
        sa.Column("store", sa.String(length=64), nullable=False),
        sa.Column("method", sa.String(length=20), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("ready_by", _at, nullable=True),
        sa.Column("late", sa.Boolean(), nullable=False),
        sa.Column("ready_at", _at, nullable=True),
        sa.Column("holding_until", _at, nullable=True),
        sa.Column("code_hash", sa.String(length=64), nullable=True),
        sa.Column("failed_tries", sa.Integer(), nullable=False),
        sa.Column("collected_at", _at, nullable=True),
        sa.Column("collected_by", sa.String(length=36), nullable=True),
        sa.Column("associate", sa.String(length=200), nullable=True),
        sa.Column("handover", sa.String(length=10), nullable=True),
        sa.Column("created_at", _at, nullable=False),
        sa.Column("updated_at", _at, nullable=False),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders.id"], name=op.f("fk_collect_orders_order_id_orders")
        ),
        sa.ForeignKeyConstraint(
            ["store"], ["locations.code"], name=op.f("fk_collect_orders_store_locations")
        ),
        sa.PrimaryKeyConstraint("order_id", name=op.f("pk_collect_orders")),
    )
    with op.batch_alter_table("collect_orders", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_collect_orders_store_state"), ["store", "state"], unique=False
        )
    op.create_table(
        "transfers",
        sa.Column("fulfilment_id", sa.String(length=36), nullable=False),
        sa.Column("order_id", sa.String(length=36), nullable=False),
        sa.Column("from_location", sa.String(length=64), nullable=False),
        sa.Column("to_location", sa.String(length=64), nullable=False),
        sa.Column("shipped_at", _at, nullable=False),
        sa.Column("latest_arrival", sa.Date(), nullable=False),
        sa.Column("overdue_at", _at, nullable=False),
        sa.Column("overdue", sa.Boolean(), nullable=False),
        sa.Column("received_at", _at, nullable=True),
        sa.Column("received_by", sa.String(length=36), nullable=True),
        sa.ForeignKeyConstraint(
            ["fulfilment_id"],
            ["fulfilments.id"],
            name=op.f("fk_transfers_fulfilment_id_fulfilments"),
        ),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders.id"], name=op.f("fk_transfers_order_id_orders")
        ),
        sa.ForeignKeyConstraint(
            ["from_location"],
            ["locations.code"],
            name=op.f("fk_transfers_from_location_locations"),
        ),
        sa.ForeignKeyConstraint(
            ["to_location"], ["locations.code"], name=op.f("fk_transfers_to_location_locations")
        ),
        sa.PrimaryKeyConstraint("fulfilment_id", name=op.f("pk_transfers")),
    )
    with op.batch_alter_table("transfers", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_transfers_to_location_received_at"),
            ["to_location", "received_at"],
            unique=False,
        )
    op.create_table(
        "notifications",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("order_id", sa.String(length=36), nullable=False),
        sa.Column("recipient", sa.String(length=320), nullable=False),
        sa.Column("subject", sa.String(length=200), nullable=False),
        sa.Column("body", sa.String(length=4000), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("due_at", _at, nullable=False),
        sa.Column("leased_until", _at, nullable=True),
        sa.Column("lease", sa.String(length=36), nullable=True),
        sa.Column("last_error", sa.String(length=500), nullable=True),
        sa.Column("sent_at", _at, nullable=True),
        sa.Column("created_at", _at, nullable=False),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders.id"], name=op.f("fk_notifications_order_id_orders")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notifications")),
    )
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_notifications_state_due_at"), ["state", "due_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_notifications_state_due_at"))
    op.drop_table("notifications")
    with op.batch_alter_table("transfers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_transfers_to_location_received_at"))
    op.drop_table("transfers")
    with op.batch_alter_table("collect_orders", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_collect_orders_store_state"))
    op.drop_table("collect_orders")
    op.drop_table("collect_settings")
