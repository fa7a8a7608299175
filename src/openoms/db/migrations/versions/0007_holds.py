"""holds of a basket's units during payment; events of a hold have no order

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-26 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import openoms.db.types

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "holds",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("channel", sa.String(length=64), nullable=False),
        sa.Column("rule", sa.String(length=200), nullable=True),
        sa.Column("created_at", openoms.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", openoms.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("order_id", sa.String(length=36), nullable=True),
        sa.ForeignKeyConstraint(
            ["channel"], ["channels.code"], name=op.f("fk_holds_channel_channels")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_holds")),
    )
    with op.batch_alter_table("holds", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_holds_state_expires_at"), ["state", "expires_at"], unique=False
        )
    op.create_table(
        "hold_lines",
        sa.Column("hold_id", sa.String(length=36), nullable=False),
        sa.Column("line_id", sa.String(length=64), nullable=False),
        sa.Column("location_code", sa.String(length=64), nullable=False),
        sa.Column("sku_code", sa.String(length=64), nullable=False),
        sa.Column("units", sa.Integer(), nullable=False),
        sa.CheckConstraint("units > 0", name=op.f("ck_hold_lines_units_positive")),
        sa.ForeignKeyConstraint(
            ["hold_id"], ["holds.id"], name=op.f("fk_hold_lines_hold_id_holds")
        ),
        sa.PrimaryKeyConstraint("hold_id", "line_id", "location_code", name=op.f("pk_hold_lines")),
    )
    with op.batch_alter_table("hold_lines", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_hold_lines_location_code_sku_code"),
            ["location_code", "sku_code"],
            unique=False,
        )
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.alter_column("order_id", existing_type=sa.String(length=36), nullable=True)


def downgrade() -> None:
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.alter_column("order_id", existing_type=sa.String(length=36), nullable=False)
    with op.batch_alter_table("hold_lines", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_hold_lines_location_code_sku_code"))
    op.drop_table("hold_lines")
    with op.batch_alter_table("holds", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_holds_state_expires_at"))
    op.drop_table("holds")
