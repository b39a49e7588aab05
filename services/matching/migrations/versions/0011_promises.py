"""promises kept: reserve units used by take-overs, suppliers held to their accepted awards

Revision ID: 0011
Revises: 0008
Create Date: 2026-12-08 00:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

import flexsupply.kit.db

revision: str = "0011"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "reserve_use",
        sa.Column("takeover_id", sa.Uuid(), nullable=False),
        sa.Column("package_id", sa.Uuid(), nullable=False),
        sa.Column("supplier_id", sa.Uuid(), nullable=False),
        sa.Column("offer_id", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("units", sa.Integer(), nullable=False),
        sa.Column("failed_supplier_id", sa.Uuid(), nullable=False),
        sa.Column("recorded_at", flexsupply.kit.db.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["package_id"], ["demand_package.id"]),
        sa.PrimaryKeyConstraint("takeover_id"),
    )
    op.create_index("ix_reserve_use_package_id", "reserve_use", ["package_id"], unique=False)
    with op.batch_alter_table("match_run", schema=None) as batch_op:
        batch_op.add_column(sa.Column("held_supplier_ids", sa.JSON(), nullable=False, server_default=sa.text("'[]'")))


def downgrade() -> None:
    with op.batch_alter_table("match_run", schema=None) as batch_op:
        batch_op.drop_column("held_supplier_ids")
    op.drop_index("ix_reserve_use_package_id", table_name="reserve_use")
    op.drop_table("reserve_use")
