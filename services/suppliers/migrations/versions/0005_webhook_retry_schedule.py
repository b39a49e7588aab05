"""webhook retry schedule

A delivery's attempt in flight holds a lease of its own (`leased_until`), apart from when the next attempt is due
(`next_attempt_at`), so the sweeper sends an abandoned attempt again as soon as its lease ends.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-07 23:45:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import flexsupply.kit.db

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("webhook_delivery", schema=None) as batch_op:
        batch_op.add_column(sa.Column("leased_until", flexsupply.kit.db.UtcDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("webhook_delivery", schema=None) as batch_op:
        batch_op.drop_column("leased_until")
