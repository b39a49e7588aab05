"""production, delivery, after-sales and staff

Packages awarded before this had no orders to deliver: their assignment counts as done.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-04 07:14:58.503341
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

import flexsupply.kit.db

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "delivery_order",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("package_id", sa.Uuid(), nullable=False),
        sa.Column("token_sha256", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("rank", sa.Integer(), nullable=False),
        sa.Column("region", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("phone", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("address", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token_sha256"),
    )
    with op.batch_alter_table("delivery_order", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_delivery_order_package_id"), ["package_id"], unique=False)

    op.create_table(
        "fulfilment_exception",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("package_id", sa.Uuid(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "quality_failed",
                "late",
                "supplier_failed",
                "no_backup",
                "delivery",
                "assignment",
                name="exceptionkind",
                native_enum=False,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("subject_id", sa.Uuid(), nullable=True),
        sa.Column("message", sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=False),
        sa.Column("raised_at", flexsupply.kit.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("handled_at", flexsupply.kit.db.UtcDateTime(timezone=True), nullable=True),
        sa.Column("handled_by", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("fulfilment_exception", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_fulfilment_exception_package_id"), ["package_id"], unique=False)

    op.create_table(
        "move",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("subject", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("subject_id", sa.Uuid(), nullable=False),
        sa.Column("step", sqlmodel.sql.sqltypes.AutoString(length=30), nullable=False),
        sa.Column("from_status", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=True),
        sa.Column("to_status", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("actor", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("note", sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=True),
        sa.Column("at", flexsupply.kit.db.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("move", schema=None) as batch_op:
        batch_op.create_index("ix_move_subject_id_at", ["subject_id", "at"], unique=False)

    op.create_table(
        "production_order",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("package_id", sa.Uuid(), nullable=False),
        sa.Column("supplier_id", sa.Uuid(), nullable=False),
        sa.Column("offer_id", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("sku", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("region", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("unit_cents", sa.BigInteger(), nullable=False),
        sa.Column("shipping_cents", sa.BigInteger(), nullable=False),
        sa.Column("currency", sqlmodel.sql.sqltypes.AutoString(length=3), nullable=False),
        sa.Column("due_by", flexsupply.kit.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "issued",
                "accepted",
                "in_production",
                "shipped",
                "failed",
                name="productionstatus",
                native_enum=False,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("failed_units", sa.Integer(), nullable=False),
        sa.Column("failure_id", sa.Uuid(), nullable=True),
        sa.Column("late_noticed", sa.Boolean(), nullable=False),
        sa.Column("created_at", flexsupply.kit.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", flexsupply.kit.db.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("production_order", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_production_order_failure_id"), ["failure_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_production_order_package_id"), ["package_id"], unique=False)
        batch_op.create_index("ix_production_order_supplier_id_created_at", ["supplier_id", "created_at"], unique=False)

    op.create_table(
        "staff_account",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("email", sqlmodel.sql.sqltypes.AutoString(length=254), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("password_hash", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("sessions_valid_after", flexsupply.kit.db.UtcDateTime(timezone=True), nullable=True),
        sa.Column("created_at", flexsupply.kit.db.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("email"),
    )
    op.create_table(
        "after_sales_case",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("order_id", sa.Uuid(), nullable=False),
        sa.Column("package_id", sa.Uuid(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum("damaged", "wrong", "missing", "late", name="casekind", native_enum=False, length=20),
            nullable=False,
        ),
        sa.Column("description", sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=False),
        sa.Column("supplier_id", sa.Uuid(), nullable=True),
        sa.Column(
            "status", sa.Enum("open", "resolved", name="casestatus", native_enum=False, length=20), nullable=False
        ),
        sa.Column(
            "resolution",
            sa.Enum("refund", "resend", "reject", name="resolution", native_enum=False, length=20),
            nullable=True,
        ),
        sa.Column("refund_cents", sa.BigInteger(), nullable=True),
        sa.Column("resolution_note", sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=True),
        sa.Column("opened_at", flexsupply.kit.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("resolved_at", flexsupply.kit.db.UtcDateTime(timezone=True), nullable=True),
        sa.Column("resolved_by", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
        sa.ForeignKeyConstraint(
            ["order_id"],
            ["delivery_order.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("after_sales_case", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_after_sales_case_order_id"), ["order_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_after_sales_case_package_id"), ["package_id"], unique=False)

    op.create_table(
        "batch",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("production_order_id", sa.Uuid(), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("lot_number", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("quality_passed", sa.Boolean(), nullable=False),
        sa.Column(
            "status",
            sa.Enum("ready", "rejected", "shipped", name="batchstatus", native_enum=False, length=20),
            nullable=False,
        ),
        sa.Column("reported_at", flexsupply.kit.db.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["production_order_id"],
            ["production_order.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("batch", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_batch_production_order_id"), ["production_order_id"], unique=False)

    op.create_table(
        "buyer_notice",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("order_id", sa.Uuid(), nullable=False),
        sa.Column("message", sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=False),
        sa.Column("at", flexsupply.kit.db.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["order_id"],
            ["delivery_order.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("buyer_notice", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_buyer_notice_order_id"), ["order_id"], unique=False)

    op.create_table(
        "piece",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("order_id", sa.Uuid(), nullable=False),
        sa.Column("production_order_id", sa.Uuid(), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("moved_at", flexsupply.kit.db.UtcDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["order_id"],
            ["delivery_order.id"],
        ),
        sa.ForeignKeyConstraint(
            ["production_order_id"],
            ["production_order.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("piece", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_piece_order_id"), ["order_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_piece_production_order_id"), ["production_order_id"], unique=False)

    op.create_table(
        "supplier_failure",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("package_id", sa.Uuid(), nullable=False),
        sa.Column("production_order_id", sa.Uuid(), nullable=False),
        sa.Column("supplier_id", sa.Uuid(), nullable=False),
        sa.Column("units", sa.Integer(), nullable=False),
        sa.Column("reason", sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=False),
        sa.Column("reported_by", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column(
            "status",
            sa.Enum("queued", "done", "failed", name="jobstatus", native_enum=False, length=20),
            nullable=False,
        ),
        sa.Column("outcome", sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=True),
        sa.Column("job_due_at", flexsupply.kit.db.UtcDateTime(timezone=True), nullable=True),
        sa.Column("created_at", flexsupply.kit.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("finished_at", flexsupply.kit.db.UtcDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["production_order_id"],
            ["production_order.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("production_order_id"),
    )
    with op.batch_alter_table("supplier_failure", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_supplier_failure_package_id"), ["package_id"], unique=False)

    op.create_table(
        "shipment",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("package_id", sa.Uuid(), nullable=False),
        sa.Column("production_order_id", sa.Uuid(), nullable=False),
        sa.Column("batch_id", sa.Uuid(), nullable=True),
        sa.Column("order_id", sa.Uuid(), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Uuid(), nullable=True),
        sa.Column(
            "status",
            sa.Enum(
                "planned", "shipped", "delivered", "exception", name="shipmentstatus", native_enum=False, length=20
            ),
            nullable=False,
        ),
        sa.Column("carrier", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("tracking_number", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("note", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
        sa.Column("created_at", flexsupply.kit.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("shipped_at", flexsupply.kit.db.UtcDateTime(timezone=True), nullable=True),
        sa.Column("delivered_at", flexsupply.kit.db.UtcDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["batch_id"],
            ["batch.id"],
        ),
        sa.ForeignKeyConstraint(
            ["order_id"],
            ["delivery_order.id"],
        ),
        sa.ForeignKeyConstraint(
            ["production_order_id"],
            ["production_order.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("shipment", schema=None) as batch_op:
        batch_op.create_index("ix_shipment_batch_id", ["batch_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_shipment_order_id"), ["order_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_shipment_package_id"), ["package_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_shipment_production_order_id"), ["production_order_id"], unique=False)

    with op.batch_alter_table("awarded_package", schema=None) as batch_op:
        batch_op.add_column(sa.Column("rematch_problem", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("pickup_points", sa.JSON(), nullable=False, server_default=sa.text("'{}'")))
        batch_op.add_column(
            sa.Column(
                "assignment_status",
                sa.Enum("queued", "done", "failed", name="jobstatus", native_enum=False, length=20),
                nullable=False,
                server_default="done",
            )
        )
        batch_op.add_column(sa.Column("assignment_note", sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=True))
        batch_op.add_column(sa.Column("job_due_at", flexsupply.kit.db.UtcDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("awarded_package", schema=None) as batch_op:
        batch_op.drop_column("job_due_at")
        batch_op.drop_column("assignment_note")
        batch_op.drop_column("assignment_status")
        batch_op.drop_column("pickup_points")
        batch_op.drop_column("rematch_problem")

    with op.batch_alter_table("shipment", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_shipment_production_order_id"))
        batch_op.drop_index(batch_op.f("ix_shipment_package_id"))
        batch_op.drop_index(batch_op.f("ix_shipment_order_id"))
        batch_op.drop_index("ix_shipment_batch_id")

    op.drop_table("shipment")
    with op.batch_alter_table("supplier_failure", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_supplier_failure_package_id"))

    op.drop_table("supplier_failure")
    with op.batch_alter_table("piece", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_piece_production_order_id"))
        batch_op.drop_index(batch_op.f("ix_piece_order_id"))

    op.drop_table("piece")
    with op.batch_alter_table("buyer_notice", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_buyer_notice_order_id"))

    op.drop_table("buyer_notice")
    with op.batch_alter_table("batch", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_batch_production_order_id"))

    op.drop_table("batch")
    with op.batch_alter_table("after_sales_case", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_after_sales_case_package_id"))
        batch_op.drop_index(batch_op.f("ix_after_sales_case_order_id"))

    op.drop_table("after_sales_case")
    op.drop_table("staff_account")
    with op.batch_alter_table("production_order", schema=None) as batch_op:
        batch_op.drop_index("ix_production_order_supplier_id_created_at")
        batch_op.drop_index(batch_op.f("ix_production_order_package_id"))
        batch_op.drop_index(batch_op.f("ix_production_order_failure_id"))

    op.drop_table("production_order")
    with op.batch_alter_table("move", schema=None) as batch_op:
        batch_op.drop_index("ix_move_subject_id_at")

    op.drop_table("move")
    with op.batch_alter_table("fulfilment_exception", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_fulfilment_exception_package_id"))

    op.drop_table("fulfilment_exception")
    with op.batch_alter_table("delivery_order", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_delivery_order_package_id"))

    op.drop_table("delivery_order")
