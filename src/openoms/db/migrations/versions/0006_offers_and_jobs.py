"""offers of broadcast fulfilments, jobs of the worker

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-25 14:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import openoms.db.types

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "offers",
        sa.Column("fulfilment_id", sa.String(length=36), nullable=False),
        sa.Column("location_code", sa.String(length=64), nullable=False),
        sa.Column("wave", sa.Integer(), nullable=False),
        sa.Column("offered_at", openoms.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", openoms.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.ForeignKeyConstraint(
            ["fulfilment_id"], ["fulfilments.id"], name=op.f("fk_offers_fulfilment_id_fulfilments")
        ),
        sa.ForeignKeyConstraint(
            ["location_code"], ["locations.code"], name=op.f("fk_offers_location_code_locations")
        ),
        sa.PrimaryKeyConstraint("fulfilment_id", "location_code", name=op.f("pk_offers")),
    )
    with op.batch_alter_table("offers", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_offers_location_code_state"), ["location_code", "state"], unique=False
        )
    op.create_table(
        "jobs",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("subject", sa.String(length=36), nullable=False),
        sa.Column("due_at", openoms.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("leased_until", openoms.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("lease", sa.String(length=36), nullable=True),
        sa.Column("last_error", sa.String(length=500), nullable=True),
        sa.Column("created_at", openoms.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_jobs")),
        sa.UniqueConstraint("kind", "subject", name=op.f("uq_jobs_kind_subject")),
    )
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_jobs_due_at"), ["due_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_jobs_due_at"))
    op.drop_table("jobs")
    with op.batch_alter_table("offers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_offers_location_code_state"))
    op.drop_table("offers")
