"""WeChat Pay orders, refunds as state machines, and the community's payee for transfers

Revision ID: 0012
Revises: 0008
Create Date: 2026-12-07 23:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

import flexsupply.kit.db

revision: str = "0012"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _enum(name: str, *values: str) -> sa.Enum:
    return sa.Enum(*values, name=name, native_enum=False, length=20)


def upgrade() -> None:
    with op.batch_alter_table("community", schema=None) as batch_op:
        batch_op.add_column(sa.Column("payee_name", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True))
        batch_op.add_column(sa.Column("payee_account", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True))

    op.create_table(
        "wechat_payment",
        sa.Column("order_id", sa.Uuid(), nullable=False),
        sa.Column("code_url", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
        sa.Column("transaction_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("error", sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=True),
        sa.Column("requested_at", flexsupply.kit.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("prepared_at", flexsupply.kit.db.UtcDateTime(timezone=True), nullable=True),
        sa.Column("checked_at", flexsupply.kit.db.UtcDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["order_id"], ["sale_order.id"]),
        sa.PrimaryKeyConstraint("order_id"),
    )
    with op.batch_alter_table("wechat_payment", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_wechat_payment_requested_at"), ["requested_at"], unique=False)

    op.create_table(
        "refund",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("order_id", sa.Uuid(), nullable=False),
        sa.Column("package_id", sa.Uuid(), nullable=False),
        sa.Column("source_key", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column(
            "cause",
            _enum(
                "refundcause",
                "package_cancelled",
                "order_cancelled",
                "late_payment",
                "after_sales",
                "takeover_failed",
            ),
            nullable=False,
        ),
        sa.Column("method", _enum("refundmethod", "wechatpay", "transfer"), nullable=False),
        sa.Column("amount_cents", sa.BigInteger(), nullable=False),
        sa.Column("currency", sqlmodel.sql.sqltypes.AutoString(length=3), nullable=False),
        sa.Column("status", _enum("refundstatus", "owed", "requested", "succeeded", "failed"), nullable=False),
        sa.Column("reason", sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", flexsupply.kit.db.UtcDateTime(timezone=True), nullable=True),
        sa.Column("requested_at", flexsupply.kit.db.UtcDateTime(timezone=True), nullable=True),
        sa.Column("provider_refund_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("transfer_reference", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
        sa.Column("recorded_by", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
        sa.Column("error", sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=True),
        sa.Column("settled_at", flexsupply.kit.db.UtcDateTime(timezone=True), nullable=True),
        sa.Column("created_at", flexsupply.kit.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", flexsupply.kit.db.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["order_id"], ["sale_order.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("source_key"),
    )
    with op.batch_alter_table("refund", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_refund_order_id"), ["order_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_refund_package_id"), ["package_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_refund_status"), ["status"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("refund", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_refund_status"))
        batch_op.drop_index(batch_op.f("ix_refund_package_id"))
        batch_op.drop_index(batch_op.f("ix_refund_order_id"))
    op.drop_table("refund")
    with op.batch_alter_table("wechat_payment", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_wechat_payment_requested_at"))
    op.drop_table("wechat_payment")
    with op.batch_alter_table("community", schema=None) as batch_op:
        batch_op.drop_column("payee_account")
        batch_op.drop_column("payee_name")
