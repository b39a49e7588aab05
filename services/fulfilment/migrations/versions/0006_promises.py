"""promises kept: a package's fulfilment milestones, suppliers that stop altogether

Revision ID: 0006
Revises: 0004
Create Date: 2026-12-08 00:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

import flexsupply.kit.db

revision: str = "0006"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "package_milestone",
        sa.Column("package_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("at", flexsupply.kit.db.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("package_id", "kind"),
    )
    op.create_table(
        "supplier_stop",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("supplier_id", sa.Uuid(), nullable=False),
        sa.Column("reason", sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=False),
        sa.Column("requested_by", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column(
            "status",
            sa.Enum("previewed", "applied", name="stopstatus", native_enum=False, length=20),
            nullable=False,
        ),
        sa.Column("plan", sa.JSON(), nullable=False),
        sa.Column("state", sa.JSON(), nullable=False),
        sa.Column("failure_ids", sa.JSON(), nullable=False),
        sa.Column("created_at", flexsupply.kit.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("applied_at", flexsupply.kit.db.UtcDateTime(timezone=True), nullable=True),
        sa.Column("applied_by", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_supplier_stop_supplier_id", "supplier_stop", ["supplier_id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_supplier_stop_supplier_id", table_name="supplier_stop")
    op.drop_table("supplier_stop")
    op.drop_table("package_milestone")
