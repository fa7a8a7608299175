"""parcels labelled at pack (box or size, their pickup), carrier pickups, carrier-scoped keys

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01 20:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import openoms.db.types

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BOOKED = sa.text("state = 'booked'")


def upgrade() -> None:
    op.create_table(
        "pickups",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("location_code", sa.String(length=64), nullable=False),
        sa.Column("carrier", sa.String(length=64), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("collect_at", openoms.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("booked_by", sa.String(length=20), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("booked_at", openoms.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("handed_over_at", openoms.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["location_code"], ["locations.code"], name=op.f("fk_pickups_location_code_locations")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pickups")),
    )
    with op.batch_alter_table("pickups", schema=None) as batch_op:
        batch_op.create_index(
            "uq_pickups_booked_location_code_carrier",
            ["location_code", "carrier"],
            unique=True,
            sqlite_where=BOOKED,
            postgresql_where=BOOKED,
        )
        batch_op.create_index(
            batch_op.f("ix_pickups_location_code_state"), ["location_code", "state"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_pickups_carrier_state"), ["carrier", "state"], unique=False
        )
    with op.batch_alter_table("parcels", schema=None) as batch_op:
        batch_op.add_column(sa.Column("box", sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column("length_mm", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("width_mm", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("height_mm", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("pickup_id", sa.String(length=36), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_parcels_pickup_id_pickups"), "pickups", ["pickup_id"], ["id"]
        )
        batch_op.create_index(batch_op.f("ix_parcels_pickup_id"), ["pickup_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_parcels_status"), ["status"], unique=False)
    with op.batch_alter_table("api_keys", schema=None) as batch_op:
        batch_op.add_column(sa.Column("carrier", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("api_keys", schema=None) as batch_op:
        batch_op.drop_column("carrier")
    with op.batch_alter_table("parcels", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_parcels_status"))
        batch_op.drop_index(batch_op.f("ix_parcels_pickup_id"))
        batch_op.drop_constraint(batch_op.f("fk_parcels_pickup_id_pickups"), type_="foreignkey")
        batch_op.drop_column("pickup_id")
        batch_op.drop_column("height_mm")
        batch_op.drop_column("width_mm")
        batch_op.drop_column("length_mm")
        batch_op.drop_column("box")
    with op.batch_alter_table("pickups", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_pickups_carrier_state"))
        batch_op.drop_index(batch_op.f("ix_pickups_location_code_state"))
        batch_op.drop_index("uq_pickups_booked_location_code_carrier")
    op.drop_table("pickups")
