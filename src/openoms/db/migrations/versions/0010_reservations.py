"""e-reservations: units kept at a store for a customer; a store's holding time

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01 20:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import openoms.db.types

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("locations", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("reservation_hours", sa.Integer(), nullable=False, server_default="48")
        )
    op.create_table(
        "reservations",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("channel", sa.String(length=64), nullable=False),
        sa.Column("location_code", sa.String(length=64), nullable=False),
        sa.Column("customer_key", sa.String(length=254), nullable=False),
        sa.Column("customer", openoms.db.types.json_type(), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("idempotency_key", sa.String(length=200), nullable=False),
        sa.Column("request_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", openoms.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", openoms.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", openoms.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["channel"], ["channels.code"], name=op.f("fk_reservations_channel_channels")
        ),
        sa.ForeignKeyConstraint(
            ["location_code"],
            ["locations.code"],
            name=op.f("fk_reservations_location_code_locations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reservations")),
        sa.UniqueConstraint(
            "channel", "idempotency_key", name=op.f("uq_reservations_channel_idempotency_key")
        ),
    )
    with op.batch_alter_table("reservations", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_reservations_location_code_state"), ["location_code", "state"]
        )
        batch_op.create_index(
            batch_op.f("ix_reservations_customer_key_state"), ["customer_key", "state"]
        )
        batch_op.create_index(
            batch_op.f("ix_reservations_state_expires_at"), ["state", "expires_at"]
        )
    op.create_table(
        "reservation_lines",
        sa.Column("reservation_id", sa.String(length=36), nullable=False),
        sa.Column("line_id", sa.String(length=64), nullable=False),
        sa.Column("location_code", sa.String(length=64), nullable=False),
        sa.Column("sku_code", sa.String(length=64), nullable=False),
        sa.Column("units", sa.Integer(), nullable=False),
        sa.Column("holding_until", openoms.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.CheckConstraint("units > 0", name=op.f("ck_reservation_lines_units_positive")),
        sa.ForeignKeyConstraint(
            ["reservation_id"],
            ["reservations.id"],
            name=op.f("fk_reservation_lines_reservation_id_reservations"),
        ),
        sa.ForeignKeyConstraint(
            ["sku_code"], ["skus.code"], name=op.f("fk_reservation_lines_sku_code_skus")
        ),
        sa.PrimaryKeyConstraint("reservation_id", "line_id", name=op.f("pk_reservation_lines")),
    )
    with op.batch_alter_table("reservation_lines", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_reservation_lines_location_code_sku_code"),
            ["location_code", "sku_code"],
        )


def downgrade() -> None:
    with op.batch_alter_table("reservation_lines", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_reservation_lines_location_code_sku_code"))
    op.drop_table("reservation_lines")
    with op.batch_alter_table("reservations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_reservations_state_expires_at"))
        batch_op.drop_index(batch_op.f("ix_reservations_customer_key_state"))
        batch_op.drop_index(batch_op.f("ix_reservations_location_code_state"))
    op.drop_table("reservations")
    with op.batch_alter_table("locations", schema=None) as batch_op:
        batch_op.drop_column("reservation_hours")
