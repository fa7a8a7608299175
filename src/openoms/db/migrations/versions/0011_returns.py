"""returns: units of an order sent back, received, inspected and refunded

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01 20:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import openoms.db.types

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("order_lines", schema=None) as batch_op:
        batch_op.add_column(sa.Column("returned", sa.Integer(), nullable=False, server_default="0"))
        batch_op.create_check_constraint(
            op.f("ck_order_lines_returned_not_negative"), "returned >= 0"
        )
    op.create_table(
        "returns",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("order_id", sa.String(length=36), nullable=False),
        sa.Column("method", sa.String(length=20), nullable=False),
        sa.Column("location_code", sa.String(length=64), nullable=True),
        sa.Column("reason", sa.String(length=40), nullable=False),
        sa.Column("note", sa.String(length=300), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("idempotency_key", sa.String(length=200), nullable=False),
        sa.Column("request_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", openoms.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("received_at", openoms.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("received_location", sa.String(length=64), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("refund_amount", sa.BigInteger(), nullable=True),
        sa.Column("fee", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders.id"], name=op.f("fk_returns_order_id_orders")
        ),
        sa.ForeignKeyConstraint(
            ["location_code"], ["locations.code"], name=op.f("fk_returns_location_code_locations")
        ),
        sa.ForeignKeyConstraint(
            ["received_location"],
            ["locations.code"],
            name=op.f("fk_returns_received_location_locations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_returns")),
        sa.UniqueConstraint(
            "order_id", "idempotency_key", name=op.f("uq_returns_order_id_idempotency_key")
        ),
    )
    with op.batch_alter_table("returns", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_returns_order_id"), ["order_id"])
        batch_op.create_index(
            batch_op.f("ix_returns_location_code_state"), ["location_code", "state"]
        )
    op.create_table(
        "return_lines",
        sa.Column("return_id", sa.String(length=36), nullable=False),
        sa.Column("line_id", sa.String(length=64), nullable=False),
        sa.Column("sku_code", sa.String(length=64), nullable=False),
        sa.Column("units", sa.Integer(), nullable=False),
        sa.Column("unit_price", sa.Integer(), nullable=False),
        sa.CheckConstraint("units > 0", name=op.f("ck_return_lines_units_positive")),
        sa.ForeignKeyConstraint(
            ["return_id"], ["returns.id"], name=op.f("fk_return_lines_return_id_returns")
        ),
        sa.PrimaryKeyConstraint("return_id", "line_id", name=op.f("pk_return_lines")),
    )
    op.create_table(
        "return_items",
        sa.Column("return_id", sa.String(length=36), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("line_id", sa.String(length=64), nullable=False),
        sa.Column("outcome", sa.String(length=20), nullable=False),
        sa.Column("grade", sa.String(length=20), nullable=True),
        sa.Column("units", sa.Integer(), nullable=False),
        sa.Column("location_code", sa.String(length=64), nullable=False),
        sa.CheckConstraint("units > 0", name=op.f("ck_return_items_units_positive")),
        sa.ForeignKeyConstraint(
            ["return_id"], ["returns.id"], name=op.f("fk_return_items_return_id_returns")
        ),
        sa.ForeignKeyConstraint(
            ["location_code"],
            ["locations.code"],
            name=op.f("fk_return_items_location_code_locations"),
        ),
        sa.PrimaryKeyConstraint("return_id", "seq", name=op.f("pk_return_items")),
    )


def downgrade() -> None:
    op.drop_table("return_items")
    op.drop_table("return_lines")
    with op.batch_alter_table("returns", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_returns_location_code_state"))
        batch_op.drop_index(batch_op.f("ix_returns_order_id"))
    op.drop_table("returns")
    with op.batch_alter_table("order_lines", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_order_lines_returned_not_negative"), type_="check")
        batch_op.drop_column("returned")
