"""parcels, tracking events, location closures

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25 11:43:14.669864
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import openoms.db.types

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "location_closures",
        sa.Column("location_code", sa.String(length=64), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("reason", sa.String(length=40), nullable=False),
        sa.Column("created_at", openoms.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["location_code"],
            ["locations.code"],
            name=op.f("fk_location_closures_location_code_locations"),
        ),
        sa.PrimaryKeyConstraint("location_code", "day", name=op.f("pk_location_closures")),
    )
    op.create_table(
        "parcels",
        sa.Column("tracking_number", sa.String(length=64), nullable=False),
        sa.Column("fulfilment_id", sa.String(length=36), nullable=False),
        sa.Column("carrier_service", sa.String(length=64), nullable=False),
        sa.Column("weight_g", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("status_at", openoms.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_at", openoms.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("weight_g > 0", name=op.f("ck_parcels_weight_positive")),
        sa.ForeignKeyConstraint(
            ["fulfilment_id"], ["fulfilments.id"], name=op.f("fk_parcels_fulfilment_id_fulfilments")
        ),
        sa.PrimaryKeyConstraint("tracking_number", name=op.f("pk_parcels")),
    )
    with op.batch_alter_table("parcels", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_parcels_fulfilment_id"), ["fulfilment_id"], unique=False
        )

    op.create_table(
        "tracking_events",
        sa.Column("tracking_number", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("at", openoms.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("received_at", openoms.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["tracking_number"],
            ["parcels.tracking_number"],
            name=op.f("fk_tracking_events_tracking_number_parcels"),
        ),
        sa.PrimaryKeyConstraint("tracking_number", "status", "at", name=op.f("pk_tracking_events")),
    )


def downgrade() -> None:
    op.drop_table("tracking_events")
    with op.batch_alter_table("parcels", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_parcels_fulfilment_id"))

    op.drop_table("parcels")
    op.drop_table("location_closures")
