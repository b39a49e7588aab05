"""flash sales, orders and market evenings

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30 03:52:12.529696
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

import flexsupply.kit.db

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "market",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("community_id", sa.Uuid(), nullable=True),
        sa.Column("title", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("starts_at", flexsupply.kit.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("ends_at", flexsupply.kit.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("package_ids", sa.JSON(), nullable=False),
        sa.Column("created_by", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("created_at", flexsupply.kit.db.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["community_id"],
            ["community.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("market", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_market_community_id"), ["community_id"], unique=False)

    op.create_table(
        "sale",
        sa.Column("package_id", sa.Uuid(), nullable=False),
        sa.Column("opens_at", flexsupply.kit.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("closes_at", flexsupply.kit.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("unit_price_cents", sa.BigInteger(), nullable=False),
        sa.Column("currency", sqlmodel.sql.sqltypes.AutoString(length=3), nullable=False),
        sa.Column("per_buyer_limit", sa.Integer(), nullable=False),
        sa.Column("payment_minutes", sa.Integer(), nullable=False),
        sa.Column("threshold_units", sa.Integer(), nullable=False),
        sa.Column("caps", sa.JSON(), nullable=False),
        sa.Column("shards", sa.Integer(), nullable=False),
        sa.Column("opened_at", flexsupply.kit.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("closed_at", flexsupply.kit.db.UtcDateTime(timezone=True), nullable=True),
        sa.Column("sold", sa.JSON(), nullable=True),
        sa.Column("went_ahead", sa.Boolean(), nullable=True),
        sa.Column("outcome", sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=True),
        sa.ForeignKeyConstraint(
            ["package_id"],
            ["demand_package.id"],
        ),
        sa.PrimaryKeyConstraint("package_id"),
    )
    op.create_table(
        "buyer_allowance",
        sa.Column("package_id", sa.Uuid(), nullable=False),
        sa.Column("phone", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("units", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["package_id"],
            ["sale.package_id"],
        ),
        sa.PrimaryKeyConstraint("package_id", "phone"),
    )
    op.create_table(
        "sale_order",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("package_id", sa.Uuid(), nullable=False),
        sa.Column("idempotency_key", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("request_hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("token", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("payment_reference", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("region", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("unit_price_cents", sa.BigInteger(), nullable=False),
        sa.Column("amount_cents", sa.BigInteger(), nullable=False),
        sa.Column("currency", sqlmodel.sql.sqltypes.AutoString(length=3), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("phone", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("address", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "placed",
                "paid",
                "confirmed",
                "cancelled",
                "released",
                "refund_due",
                "refunded",
                name="orderstatus",
                native_enum=False,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("placed_at", flexsupply.kit.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("pay_by", flexsupply.kit.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("paid_at", flexsupply.kit.db.UtcDateTime(timezone=True), nullable=True),
        sa.Column("paid_via", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
        sa.Column("reason", sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=True),
        sa.Column("updated_at", flexsupply.kit.db.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["package_id"],
            ["sale.package_id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("package_id", "idempotency_key"),
        sa.UniqueConstraint("payment_reference"),
        sa.UniqueConstraint("token"),
    )
    with op.batch_alter_table("sale_order", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_sale_order_package_id"), ["package_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_sale_order_pay_by"), ["pay_by"], unique=False)

    op.create_table(
        "sale_stock",
        sa.Column("package_id", sa.Uuid(), nullable=False),
        sa.Column("region", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("shard", sa.Integer(), nullable=False),
        sa.Column("remaining", sa.Integer(), nullable=False),
        sa.Column("selling", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["package_id"],
            ["sale.package_id"],
        ),
        sa.PrimaryKeyConstraint("package_id", "region", "shard"),
    )
    with op.batch_alter_table("demand_package", schema=None) as batch_op:
        batch_op.add_column(sa.Column("payment_minutes", sa.Integer(), nullable=False, server_default="30"))


def downgrade() -> None:
    with op.batch_alter_table("demand_package", schema=None) as batch_op:
        batch_op.drop_column("payment_minutes")

    op.drop_table("sale_stock")
    with op.batch_alter_table("sale_order", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sale_order_pay_by"))
        batch_op.drop_index(batch_op.f("ix_sale_order_package_id"))

    op.drop_table("sale_order")
    op.drop_table("buyer_allowance")
    op.drop_table("sale")
    with op.batch_alter_table("market", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_market_community_id"))

    op.drop_table("market")
