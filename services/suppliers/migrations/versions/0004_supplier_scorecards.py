"""supplier scorecards

Each supplier's units per delivery outcome (supplier_scorecard), and the outcome ids already counted
(recorded_outcome), so an outcome fulfilment reports twice is counted once.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-30 03:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

import flexsupply.kit.db

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "supplier_scorecard",
        sa.Column("supplier_id", sa.Uuid(), nullable=False),
        sa.Column("delivered_on_time_units", sa.BigInteger(), nullable=False),
        sa.Column("delivered_late_units", sa.BigInteger(), nullable=False),
        sa.Column("quality_failed_units", sa.BigInteger(), nullable=False),
        sa.Column("failed_to_deliver_units", sa.BigInteger(), nullable=False),
        sa.Column("case_upheld_units", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", flexsupply.kit.db.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["supplier_id"], ["supplier.id"]),
        sa.PrimaryKeyConstraint("supplier_id"),
    )
    op.create_table(
        "recorded_outcome",
        sa.Column("outcome_id", sa.Uuid(), nullable=False),
        sa.Column("supplier_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=30), nullable=False),
        sa.Column("units", sa.BigInteger(), nullable=False),
        sa.Column("occurred_at", flexsupply.kit.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("recorded_at", flexsupply.kit.db.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["supplier_id"], ["supplier.id"]),
        sa.PrimaryKeyConstraint("outcome_id"),
    )
    with op.batch_alter_table("recorded_outcome", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_recorded_outcome_supplier_id"), ["supplier_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("recorded_outcome", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_recorded_outcome_supplier_id"))

    op.drop_table("recorded_outcome")
    op.drop_table("supplier_scorecard")
