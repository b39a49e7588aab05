"""group pickup: a package's pickup points per region

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-04 08:15:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("demand_package", schema=None) as batch_op:
        batch_op.add_column(sa.Column("pickup_points", sa.JSON(), nullable=False, server_default=sa.text("'{}'")))


def downgrade() -> None:
    with op.batch_alter_table("demand_package", schema=None) as batch_op:
        batch_op.drop_column("pickup_points")
