"""the leader console: what buyers read of a package (display name, description) and its photo

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07 23:45:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

import flexsupply.kit.db

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("demand_package", schema=None) as batch_op:
        batch_op.add_column(sa.Column("display_name", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True))
        batch_op.add_column(
            sa.Column(
                "description",
                sqlmodel.sql.sqltypes.AutoString(length=4000),
                nullable=False,
                server_default=sa.text("''"),
            )
        )
        batch_op.add_column(sa.Column("photo_id", sa.Uuid(), nullable=True))
    op.create_table(
        "package_photo",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("package_id", sa.Uuid(), nullable=False),
        sa.Column("content_type", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", flexsupply.kit.db.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["package_id"], ["demand_package.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("package_photo", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_package_photo_package_id"), ["package_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("package_photo", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_package_photo_package_id"))
    op.drop_table("package_photo")
    with op.batch_alter_table("demand_package", schema=None) as batch_op:
        batch_op.drop_column("photo_id")
        batch_op.drop_column("description")
        batch_op.drop_column("display_name")
