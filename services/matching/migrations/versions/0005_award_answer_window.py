"""how long suppliers have to answer an award run's awards

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30 02:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("match_run", schema=None) as batch_op:
        batch_op.add_column(sa.Column("answer_within_hours", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("match_run", schema=None) as batch_op:
        batch_op.drop_column("answer_within_hours")
