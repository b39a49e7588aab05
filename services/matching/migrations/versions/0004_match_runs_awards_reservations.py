"""match runs, awards and reservations; firm quantities on packages

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-30 01:11:39.946369
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
        "match_run",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("round_id", sa.Uuid(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum("sourcing", "award", "rematch", name="runkind", native_enum=False, length=20),
            nullable=False,
        ),
        sa.Column(
            "status",
            sa.Enum(
                "queued", "running", "planned", "infeasible", "failed", name="runstatus", native_enum=False, length=20
            ),
            nullable=False,
        ),
        sa.Column("requested_by", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("reason", sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=True),
        sa.Column("time_limit_seconds", sa.Float(), nullable=False),
        sa.Column("package_ids", sa.JSON(), nullable=False),
        sa.Column("firm_quantities", sa.JSON(), nullable=True),
        sa.Column("previous_run_id", sa.Uuid(), nullable=True),
        sa.Column("excluded_supplier_ids", sa.JSON(), nullable=False),
        sa.Column("fixed_allocations", sa.JSON(), nullable=False),
        sa.Column("problem", sa.JSON(), nullable=True),
        sa.Column("plan", sa.JSON(), nullable=True),
        sa.Column("package_plans", sa.JSON(), nullable=True),
        sa.Column("left_out", sa.JSON(), nullable=False),
        sa.Column("explanation", sa.JSON(), nullable=False),
        sa.Column("total_cents", sa.BigInteger(), nullable=True),
        sa.Column("bound_cents", sa.BigInteger(), nullable=True),
        sa.Column("gap", sa.Float(), nullable=True),
        sa.Column("solve_seconds", sa.Float(), nullable=True),
        sa.Column("build_seconds", sa.Float(), nullable=True),
        sa.Column("standalone_seconds", sa.Float(), nullable=True),
        sa.Column("standalone_total_cents", sa.BigInteger(), nullable=True),
        sa.Column("saving_cents", sa.BigInteger(), nullable=True),
        sa.Column("error", sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("lease_until", flexsupply.kit.db.UtcDateTime(timezone=True), nullable=True),
        sa.Column("created_at", flexsupply.kit.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("started_at", flexsupply.kit.db.UtcDateTime(timezone=True), nullable=True),
        sa.Column("finished_at", flexsupply.kit.db.UtcDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["previous_run_id"],
            ["match_run.id"],
        ),
        sa.ForeignKeyConstraint(
            ["round_id"],
            ["sourcing_round.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("match_run", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_match_run_created_at"), ["created_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_match_run_lease_until"), ["lease_until"], unique=False)
        batch_op.create_index(batch_op.f("ix_match_run_round_id"), ["round_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_match_run_status"), ["status"], unique=False)

    op.create_table(
        "award",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("package_id", sa.Uuid(), nullable=False),
        sa.Column("run_id", sa.Uuid(), nullable=False),
        sa.Column("supplier_id", sa.Uuid(), nullable=False),
        sa.Column("lines", sa.JSON(), nullable=False),
        sa.Column("total_cents", sa.BigInteger(), nullable=False),
        sa.Column("currency", sqlmodel.sql.sqltypes.AutoString(length=3), nullable=False),
        sa.Column("due_by", flexsupply.kit.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("answer_by", flexsupply.kit.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "offered",
                "accepted",
                "declined",
                "expired",
                "withdrawn",
                name="awardstatus",
                native_enum=False,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("reason", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
        sa.Column("answered_at", flexsupply.kit.db.UtcDateTime(timezone=True), nullable=True),
        sa.Column("created_at", flexsupply.kit.db.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["package_id"],
            ["demand_package.id"],
        ),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["match_run.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("award", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_award_package_id"), ["package_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_award_run_id"), ["run_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_award_status"), ["status"], unique=False)
        batch_op.create_index(batch_op.f("ix_award_supplier_id"), ["supplier_id"], unique=False)

    op.create_table(
        "reservation",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("package_id", sa.Uuid(), nullable=False),
        sa.Column("run_id", sa.Uuid(), nullable=False),
        sa.Column("supplier_id", sa.Uuid(), nullable=False),
        sa.Column("lines", sa.JSON(), nullable=False),
        sa.Column("total_cents", sa.BigInteger(), nullable=False),
        sa.Column(
            "status",
            sa.Enum("held", "released", name="reservationstatus", native_enum=False, length=20),
            nullable=False,
        ),
        sa.Column("created_at", flexsupply.kit.db.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["package_id"],
            ["demand_package.id"],
        ),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["match_run.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("reservation", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_reservation_package_id"), ["package_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_reservation_run_id"), ["run_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_reservation_status"), ["status"], unique=False)
        batch_op.create_index(batch_op.f("ix_reservation_supplier_id"), ["supplier_id"], unique=False)

    with op.batch_alter_table("demand_package", schema=None) as batch_op:
        batch_op.add_column(sa.Column("firm_quantities", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("plan_run_id", sa.Uuid(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("demand_package", schema=None) as batch_op:
        batch_op.drop_column("plan_run_id")
        batch_op.drop_column("firm_quantities")

    with op.batch_alter_table("reservation", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_reservation_supplier_id"))
        batch_op.drop_index(batch_op.f("ix_reservation_status"))
        batch_op.drop_index(batch_op.f("ix_reservation_run_id"))
        batch_op.drop_index(batch_op.f("ix_reservation_package_id"))

    op.drop_table("reservation")
    with op.batch_alter_table("award", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_award_supplier_id"))
        batch_op.drop_index(batch_op.f("ix_award_status"))
        batch_op.drop_index(batch_op.f("ix_award_run_id"))
        batch_op.drop_index(batch_op.f("ix_award_package_id"))

    op.drop_table("award")
    with op.batch_alter_table("match_run", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_match_run_status"))
        batch_op.drop_index(batch_op.f("ix_match_run_round_id"))
        batch_op.drop_index(batch_op.f("ix_match_run_lease_until"))
        batch_op.drop_index(batch_op.f("ix_match_run_created_at"))

    op.drop_table("match_run")
