"""named events in the outbox, with a not-before time

The outbox held actor calls; it now holds named events (contracts.events) that the relay routes to subscribed
queues when due. Rows of the old shape name actors that no longer exist, so the table is made anew.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-30 01:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

import flexsupply.kit.db

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.drop_index("ix_outbox_message_created_at", table_name="outbox_message")
    op.drop_index("ix_outbox_message_sent_at", table_name="outbox_message")
    op.drop_table("outbox_message")
    op.create_table(
        "outbox_message",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("event_name", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("not_before", flexsupply.kit.db.UtcDateTime(timezone=True), nullable=True),
        sa.Column("created_at", flexsupply.kit.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("sent_at", flexsupply.kit.db.UtcDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_outbox_message_created_at", "outbox_message", ["created_at"], unique=False)
    op.create_index("ix_outbox_message_not_before", "outbox_message", ["not_before"], unique=False)
    op.create_index("ix_outbox_message_sent_at", "outbox_message", ["sent_at"], unique=False)

    # Owed deliveries are scheduled by their own row from now on; existing ones are due at once (the sweeper
    # re-sends them, so the old outbox rows dropped above lose nothing).
    with op.batch_alter_table("webhook_delivery", schema=None) as batch_op:
        batch_op.add_column(sa.Column("next_attempt_at", flexsupply.kit.db.UtcDateTime(timezone=True), nullable=True))
    op.execute("UPDATE webhook_delivery SET next_attempt_at = created_at")
    with op.batch_alter_table("webhook_delivery", schema=None) as batch_op:
        batch_op.alter_column("next_attempt_at", nullable=False)
        batch_op.create_index(batch_op.f("ix_webhook_delivery_next_attempt_at"), ["next_attempt_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("webhook_delivery", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_webhook_delivery_next_attempt_at"))
        batch_op.drop_column("next_attempt_at")
    op.drop_index("ix_outbox_message_sent_at", table_name="outbox_message")
    op.drop_index("ix_outbox_message_not_before", table_name="outbox_message")
    op.drop_index("ix_outbox_message_created_at", table_name="outbox_message")
    op.drop_table("outbox_message")
    op.create_table(
        "outbox_message",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("queue_name", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("actor_name", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("args", sa.JSON(), nullable=False),
        sa.Column("created_at", flexsupply.kit.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("sent_at", flexsupply.kit.db.UtcDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_outbox_message_created_at", "outbox_message", ["created_at"], unique=False)
    op.create_index("ix_outbox_message_sent_at", "outbox_message", ["sent_at"], unique=False)
