"""communities, their leaders and keys, demand packages and their history, sign-ups, sourcing rounds

Statuses and steps are VARCHARs (non-native enums): a later status needs no migration of a type.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-30 00:47:05
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
        "community",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("created_at", flexsupply.kit.db.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_community_name"), "community", ["name"], unique=False)
    op.create_table(
        "sourcing_round",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("package_ids", sa.JSON(), nullable=False),
        sa.Column("reply_by", flexsupply.kit.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("named_supplier_ids", sa.JSON(), nullable=False),
        sa.Column("status", sa.Enum("open", name="roundstatus", native_enum=False, length=20), nullable=False),
        sa.Column("started_by", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("created_at", flexsupply.kit.db.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_sourcing_round_status"), "sourcing_round", ["status"], unique=False)
    op.create_table(
        "demand_package",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("community_id", sa.Uuid(), nullable=False),
        sa.Column("title", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("sku", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("spec", sqlmodel.sql.sqltypes.AutoString(length=4000), nullable=False),
        sa.Column("quantities", sa.JSON(), nullable=False),
        sa.Column("needed_by", flexsupply.kit.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("min_quality", sa.Integer(), nullable=False),
        sa.Column("backups", sa.Integer(), nullable=False),
        sa.Column("target_unit_cents", sa.BigInteger(), nullable=True),
        sa.Column("currency", sqlmodel.sql.sqltypes.AutoString(length=3), nullable=False),
        sa.Column("sale_opens_at", flexsupply.kit.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("sale_closes_at", flexsupply.kit.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("threshold_units", sa.Integer(), nullable=False),
        sa.Column("cap_units", sa.Integer(), nullable=False),
        sa.Column("per_buyer_limit", sa.Integer(), nullable=False),
        sa.Column("sale_price_cents", sa.BigInteger(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "draft",
                "sourcing",
                "planned",
                "on_sale",
                "closed",
                "awarded",
                "in_fulfilment",
                "completed",
                "cancelled",
                name="packagestatus",
                native_enum=False,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("round_id", sa.Uuid(), nullable=True),
        sa.Column("created_at", flexsupply.kit.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", flexsupply.kit.db.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["community_id"],
            ["community.id"],
        ),
        sa.ForeignKeyConstraint(
            ["round_id"],
            ["sourcing_round.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_demand_package_community_id"), "demand_package", ["community_id"], unique=False)
    op.create_index(op.f("ix_demand_package_created_at"), "demand_package", ["created_at"], unique=False)
    op.create_index(op.f("ix_demand_package_round_id"), "demand_package", ["round_id"], unique=False)
    op.create_index(op.f("ix_demand_package_sku"), "demand_package", ["sku"], unique=False)
    op.create_index(op.f("ix_demand_package_status"), "demand_package", ["status"], unique=False)
    op.create_table(
        "leader",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("community_id", sa.Uuid(), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("contact", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("created_at", flexsupply.kit.db.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["community_id"],
            ["community.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("community_id"),
    )
    op.create_table(
        "leader_key",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("leader_id", sa.Uuid(), nullable=False),
        sa.Column("secret_hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("created_at", flexsupply.kit.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", flexsupply.kit.db.UtcDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["leader_id"],
            ["leader.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_leader_key_leader_id"), "leader_key", ["leader_id"], unique=False)
    op.create_table(
        "package_transition",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("package_id", sa.Uuid(), nullable=False),
        sa.Column("at", flexsupply.kit.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("actor", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column(
            "from_status",
            sa.Enum(
                "draft",
                "sourcing",
                "planned",
                "on_sale",
                "closed",
                "awarded",
                "in_fulfilment",
                "completed",
                "cancelled",
                name="packagestatus",
                native_enum=False,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column(
            "to_status",
            sa.Enum(
                "draft",
                "sourcing",
                "planned",
                "on_sale",
                "closed",
                "awarded",
                "in_fulfilment",
                "completed",
                "cancelled",
                name="packagestatus",
                native_enum=False,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column(
            "step",
            sa.Enum(
                "request_quotes",
                "plan",
                "replan",
                "open_sale",
                "reach_threshold",
                "miss_threshold",
                "award",
                "start_fulfilment",
                "complete",
                "cancel",
                name="packagestep",
                native_enum=False,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("reason", sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=True),
        sa.ForeignKeyConstraint(
            ["package_id"],
            ["demand_package.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_package_transition_package_id"), "package_transition", ["package_id"], unique=False)
    op.create_table(
        "signup",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("package_id", sa.Uuid(), nullable=False),
        sa.Column("token", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("per_person_max", sa.Integer(), nullable=False),
        sa.Column("closes_at", flexsupply.kit.db.UtcDateTime(timezone=True), nullable=True),
        sa.Column("closed_at", flexsupply.kit.db.UtcDateTime(timezone=True), nullable=True),
        sa.Column("created_at", flexsupply.kit.db.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["package_id"],
            ["demand_package.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("package_id"),
        sa.UniqueConstraint("token"),
    )
    op.create_table(
        "signup_entry",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("signup_id", sa.Uuid(), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("phone", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("region", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("created_at", flexsupply.kit.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", flexsupply.kit.db.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["signup_id"],
            ["signup.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("signup_id", "phone"),
    )
    op.create_index(op.f("ix_signup_entry_signup_id"), "signup_entry", ["signup_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_signup_entry_signup_id"), table_name="signup_entry")
    op.drop_table("signup_entry")
    op.drop_table("signup")
    op.drop_index(op.f("ix_package_transition_package_id"), table_name="package_transition")
    op.drop_table("package_transition")
    op.drop_index(op.f("ix_leader_key_leader_id"), table_name="leader_key")
    op.drop_table("leader_key")
    op.drop_table("leader")
    op.drop_index(op.f("ix_demand_package_status"), table_name="demand_package")
    op.drop_index(op.f("ix_demand_package_sku"), table_name="demand_package")
    op.drop_index(op.f("ix_demand_package_round_id"), table_name="demand_package")
    op.drop_index(op.f("ix_demand_package_created_at"), table_name="demand_package")
    op.drop_index(op.f("ix_demand_package_community_id"), table_name="demand_package")
    op.drop_table("demand_package")
    op.drop_index(op.f("ix_sourcing_round_status"), table_name="sourcing_round")
    op.drop_table("sourcing_round")
    op.drop_index(op.f("ix_community_name"), table_name="community")
    op.drop_table("community")
