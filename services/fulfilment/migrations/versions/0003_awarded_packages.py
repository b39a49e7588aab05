"""awarded packages received from matching

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-30 01:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

import flexsupply.kit.db

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "awarded_package",
        sa.Column("package_id", sa.Uuid(), nullable=False),
        sa.Column("sku", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("needed_by", flexsupply.kit.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("currency", sqlmodel.sql.sqltypes.AutoString(length=3), nullable=False),
        sa.Column("firm_quantities", sa.JSON(), nullable=False),
        sa.Column("allocations", sa.JSON(), nullable=False),
        sa.Column("reserves", sa.JSON(), nullable=False),
        sa.Column("event_id", sa.Uuid(), nullable=False),
        sa.Column("received_at", flexsupply.kit.db.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("package_id"),
    )
    op.create_index("ix_awarded_package_received_at", "awarded_package", ["received_at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_awarded_package_received_at", table_name="awarded_package")
    op.drop_table("awarded_package")
