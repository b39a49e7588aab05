"""rounds owe their RFQs until the suppliers service acknowledges them

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30 02:24:51.887128
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import flexsupply.kit.db

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("sourcing_round", schema=None) as batch_op:
        batch_op.add_column(sa.Column("rfqs_requested_at", flexsupply.kit.db.UtcDateTime(timezone=True), nullable=True))
        batch_op.add_column(
            sa.Column("rfqs_acknowledged_at", flexsupply.kit.db.UtcDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(sa.Column("rfq_count", sa.Integer(), nullable=True))
    # Rounds started before this were sent as they started: nothing is owed for them.
    op.execute("UPDATE sourcing_round SET rfqs_requested_at = created_at, rfqs_acknowledged_at = created_at")
    with op.batch_alter_table("sourcing_round", schema=None) as batch_op:
        batch_op.alter_column("rfqs_requested_at", nullable=False)
        batch_op.create_index(batch_op.f("ix_sourcing_round_rfqs_requested_at"), ["rfqs_requested_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("sourcing_round", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sourcing_round_rfqs_requested_at"))
        batch_op.drop_column("rfq_count")
        batch_op.drop_column("rfqs_acknowledged_at")
        batch_op.drop_column("rfqs_requested_at")
