"""supplier desk

When a supplier last logged out of the desk (supplier.desk_sessions_valid_after): every desk session begun before
then is over, a copy of its cookie too.

Revision ID: 0006
Revises: 0004
Create Date: 2026-12-08 00:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import flexsupply.kit.db

revision: str = "0006"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("supplier", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("desk_sessions_valid_after", flexsupply.kit.db.UtcDateTime(timezone=True), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("supplier", schema=None) as batch_op:
        batch_op.drop_column("desk_sessions_valid_after")
