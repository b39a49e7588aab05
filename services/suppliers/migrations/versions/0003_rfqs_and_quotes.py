"""requests for quotation and quotes

A sourcing round matching opens (rfq_round), one RFQ per supplier asked (rfq), and the quotes suppliers send for
an RFQ's skus (quote): an offer's terms for one round, superseded or withdrawn rather than deleted.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-30 02:00:00
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
        "rfq_round",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("reply_by", flexsupply.kit.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("created_at", flexsupply.kit.db.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "rfq",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("round_id", sa.Uuid(), nullable=False),
        sa.Column("supplier_id", sa.Uuid(), nullable=False),
        sa.Column("reply_by", flexsupply.kit.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("items", sa.JSON(), nullable=False),
        sa.Column("answered_at", flexsupply.kit.db.UtcDateTime(timezone=True), nullable=True),
        sa.Column("declined_at", flexsupply.kit.db.UtcDateTime(timezone=True), nullable=True),
        sa.Column("decline_reason", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
        sa.Column("created_at", flexsupply.kit.db.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["round_id"],
            ["rfq_round.id"],
        ),
        sa.ForeignKeyConstraint(
            ["supplier_id"],
            ["supplier.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("round_id", "supplier_id", name="uq_rfq_round_id_supplier_id"),
    )
    with op.batch_alter_table("rfq", schema=None) as batch_op:
        batch_op.create_index("ix_rfq_supplier_id_created_at", ["supplier_id", "created_at"], unique=False)

    op.create_table(
        "quote",
        sa.Column("sku", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("moq", sa.Integer(), nullable=False),
        sa.Column("capacity", sa.Integer(), nullable=False),
        sa.Column("lead_time_days", sa.Integer(), nullable=False),
        sa.Column("quality", sa.Integer(), nullable=False),
        sa.Column("fixed_cents", sa.BigInteger(), nullable=False),
        sa.Column("reserve_cents", sa.BigInteger(), nullable=False),
        sa.Column("currency", sqlmodel.sql.sqltypes.AutoString(length=3), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("rfq_id", sa.Uuid(), nullable=False),
        sa.Column("supplier_id", sa.Uuid(), nullable=False),
        sa.Column("price_tiers", sa.JSON(), nullable=False),
        sa.Column("shipping_cents", sa.JSON(), nullable=False),
        sa.Column("valid_from", flexsupply.kit.db.UtcDateTime(timezone=True), nullable=True),
        sa.Column("valid_until", flexsupply.kit.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column(
            "status",
            sa.Enum("current", "superseded", "withdrawn", name="quotestatus", native_enum=False, length=20),
            nullable=False,
        ),
        sa.Column("created_at", flexsupply.kit.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("replaced_at", flexsupply.kit.db.UtcDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["rfq_id"],
            ["rfq.id"],
        ),
        sa.ForeignKeyConstraint(
            ["supplier_id"],
            ["supplier.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("quote", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_quote_rfq_id"), ["rfq_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_quote_sku"), ["sku"], unique=False)
        batch_op.create_index(batch_op.f("ix_quote_supplier_id"), ["supplier_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("quote", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_quote_supplier_id"))
        batch_op.drop_index(batch_op.f("ix_quote_sku"))
        batch_op.drop_index(batch_op.f("ix_quote_rfq_id"))

    op.drop_table("quote")
    with op.batch_alter_table("rfq", schema=None) as batch_op:
        batch_op.drop_index("ix_rfq_supplier_id_created_at")

    op.drop_table("rfq")
    op.drop_table("rfq_round")
