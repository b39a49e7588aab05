"""The fulfilment service's tables: nothing else reads them."""

from datetime import datetime
from enum import StrEnum
from typing import Any
from uuid import UUID, uuid4

from sqlalchemy import JSON, BigInteger, Index
from sqlalchemy.orm import registry
from sqlmodel import Field, SQLModel

from flexsupply.fulfilment.domain.states import (
    BatchStatus,
    CaseKind,
    CaseStatus,
    ProductionStatus,
    Resolution,
    ShipmentStatus,
)
from flexsupply.kit.clock import utc_now
from flexsupply.kit.db import UtcDateTime, varchar_enum
from flexsupply.kit.idempotency import IdempotencyRecordBase
from flexsupply.kit.outbox import OutboxMessageBase


class FulfilmentTable(SQLModel, registry=registry()):
    """Base of this service's tables: its own metadata, migrated by its own alembic history."""


class JobStatus(StrEnum):
    QUEUED = "queued"
    DONE = "done"
    FAILED = "failed"  # it could not finish: staff see why (an exception is raised with it)


class OutboxMessage(OutboxMessageBase, FulfilmentTable, table=True):
    __tablename__ = "outbox_message"  # type: ignore[assignment]


class IdempotencyRecord(IdempotencyRecordBase, FulfilmentTable, table=True):
    __tablename__ = "idempotency_record"  # type: ignore[assignment]


class AwardedPackage(FulfilmentTable, table=True):
    """A package whose awards were all accepted, as matching announced it: what production is to make.

    The package id is the key, so an event delivered twice records the package once."""

    __tablename__ = "awarded_package"  # type: ignore[assignment]

    package_id: UUID = Field(primary_key=True)
    sku: str = Field(max_length=64)
    needed_by: datetime = Field(sa_type=UtcDateTime)  # type: ignore[call-overload]
    currency: str = Field(max_length=3)
    firm_quantities: dict[str, int] = Field(sa_type=JSON)
    allocations: list[dict[str, Any]] = Field(sa_type=JSON)
    reserves: list[dict[str, Any]] = Field(sa_type=JSON)
    event_id: UUID
    received_at: datetime = Field(default_factory=utc_now, sa_type=UtcDateTime, index=True)  # type: ignore[call-overload]
    # Regions whose buyers collect at a pickup point: region -> {name, address, phone}; their parcels go there.
    pickup_points: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    # The package alone in the matching contract, to re-match a failed supplier's remainder onto the reserves.
    rematch_problem: dict[str, Any] | None = Field(default=None, sa_type=JSON)
    # Assigning the buyers' orders to production (a job): queued until done, or failed with the reason.
    assignment_status: JobStatus = Field(default=JobStatus.QUEUED, sa_type=varchar_enum(JobStatus))
    assignment_note: str | None = Field(default=None, max_length=1000)
    # When the sweeper sends the queued job again, in case its message was lost (an in-process queue at a restart).
    job_due_at: datetime | None = Field(default=None, sa_type=UtcDateTime)  # type: ignore[call-overload]


class DeliveryOrder(FulfilmentTable, table=True):
    """A buyer's confirmed order as matching handed it over: whom to deliver to, where, how many."""

    __tablename__ = "delivery_order"  # type: ignore[assignment]

    id: UUID = Field(primary_key=True)  # matching's order id
    package_id: UUID = Field(index=True)
    token_sha256: str = Field(max_length=64, unique=True)
    rank: int  # placement order within the package: earlier buyers are served by earlier batches
    region: str = Field(max_length=40)
    quantity: int
    name: str = Field(max_length=100)
    phone: str = Field(max_length=16)
    address: str = Field(max_length=500)


class ProductionOrder(FulfilmentTable, table=True):
    """What one supplier makes of a package for one region, from one offer: exactly the awarded quantity."""

    __tablename__ = "production_order"  # type: ignore[assignment]
    __table_args__ = (Index("ix_production_order_supplier_id_created_at", "supplier_id", "created_at"),)

    id: UUID = Field(default_factory=uuid4, primary_key=True)
    package_id: UUID = Field(index=True)
    supplier_id: UUID
    offer_id: str = Field(max_length=100)
    sku: str = Field(max_length=64)
    region: str = Field(max_length=40)
    quantity: int
    unit_cents: int = Field(sa_type=BigInteger)
    shipping_cents: int = Field(sa_type=BigInteger)
    currency: str = Field(max_length=3)
    due_by: datetime = Field(sa_type=UtcDateTime)  # type: ignore[call-overload]
    status: ProductionStatus = Field(default=ProductionStatus.ISSUED, sa_type=varchar_enum(ProductionStatus))
    # Units it will not make, once it failed (its unshipped remainder); backups make them.
    failed_units: int = 0
    # A backup's production order names the failure it takes units over from.
    failure_id: UUID | None = Field(default=None, index=True)
    late_noticed: bool = False  # staff were shown it is late (once)
    created_at: datetime = Field(default_factory=utc_now, sa_type=UtcDateTime)  # type: ignore[call-overload]
    updated_at: datetime = Field(default_factory=utc_now, sa_type=UtcDateTime)  # type: ignore[call-overload]


class Piece(FulfilmentTable, table=True):
    """Units of a buyer's order that a production order makes. An order split across suppliers has several; a
    piece moved to a backup ends (`moved_at`) and the backup's piece begins."""

    __tablename__ = "piece"  # type: ignore[assignment]

    id: UUID = Field(default_factory=uuid4, primary_key=True)
    order_id: UUID = Field(foreign_key="delivery_order.id", index=True)
    production_order_id: UUID = Field(foreign_key="production_order.id", index=True)
    quantity: int
    moved_at: datetime | None = Field(default=None, sa_type=UtcDateTime)  # type: ignore[call-overload]


class Batch(FulfilmentTable, table=True):
    """Units of a production order made together, reported by the supplier with their lot and quality check."""

    id: UUID = Field(default_factory=uuid4, primary_key=True)
    production_order_id: UUID = Field(foreign_key="production_order.id", index=True)
    quantity: int
    lot_number: str = Field(max_length=64)
    quality_passed: bool
    status: BatchStatus = Field(sa_type=varchar_enum(BatchStatus))
    reported_at: datetime = Field(default_factory=utc_now, sa_type=UtcDateTime)  # type: ignore[call-overload]


class Shipment(FulfilmentTable, table=True):
    """A parcel: units of one batch (or a resend) to one buyer's order."""

    __table_args__ = (Index("ix_shipment_batch_id", "batch_id"),)

    id: UUID = Field(default_factory=uuid4, primary_key=True)
    package_id: UUID = Field(index=True)
    production_order_id: UUID = Field(foreign_key="production_order.id", index=True)
    batch_id: UUID | None = Field(default=None, foreign_key="batch.id")
    order_id: UUID = Field(foreign_key="delivery_order.id", index=True)
    quantity: int
    case_id: UUID | None = None  # a resend made to resolve this after-sales case
    status: ShipmentStatus = Field(default=ShipmentStatus.PLANNED, sa_type=varchar_enum(ShipmentStatus))
    carrier: str | None = Field(default=None, max_length=64)
    tracking_number: str | None = Field(default=None, max_length=64)
    note: str | None = Field(default=None, max_length=500)
    created_at: datetime = Field(default_factory=utc_now, sa_type=UtcDateTime)  # type: ignore[call-overload]
    shipped_at: datetime | None = Field(default=None, sa_type=UtcDateTime)  # type: ignore[call-overload]
    delivered_at: datetime | None = Field(default=None, sa_type=UtcDateTime)  # type: ignore[call-overload]


class Move(FulfilmentTable, table=True):
    """Every move of a production order, batch, shipment or case: what, from, to, when, who."""

    __table_args__ = (Index("ix_move_subject_id_at", "subject_id", "at"),)

    id: UUID = Field(default_factory=uuid4, primary_key=True)
    subject: str = Field(max_length=20)  # production_order | batch | shipment | case
    subject_id: UUID
    step: str = Field(max_length=30)
    from_status: str | None = Field(default=None, max_length=20)
    to_status: str = Field(max_length=20)
    actor: str = Field(max_length=100)
    note: str | None = Field(default=None, max_length=1000)
    at: datetime = Field(default_factory=utc_now, sa_type=UtcDateTime)  # type: ignore[call-overload]


class ExceptionKind(StrEnum):
    QUALITY_FAILED = "quality_failed"
    LATE = "late"
    SUPPLIER_FAILED = "supplier_failed"
    NO_BACKUP = "no_backup"  # backups could not take a failure's units over: staff must find another way
    DELIVERY = "delivery"  # a shipment reported lost, refused or damaged in transit
    ASSIGNMENT = "assignment"  # buyers' orders could not be assigned to production
    RESERVE_SHORT = "reserve_short"  # after take-overs, the reserves left no longer cover 1+N (matching says so)


class FulfilmentException(FulfilmentTable, table=True):
    """Something staff must look at, until they mark it handled."""

    __tablename__ = "fulfilment_exception"  # type: ignore[assignment]

    id: UUID = Field(default_factory=uuid4, primary_key=True)
    package_id: UUID = Field(index=True)
    kind: ExceptionKind = Field(sa_type=varchar_enum(ExceptionKind))
    subject_id: UUID | None = None  # the production order, batch or shipment concerned
    message: str = Field(max_length=1000)
    raised_at: datetime = Field(default_factory=utc_now, sa_type=UtcDateTime)  # type: ignore[call-overload]
    handled_at: datetime | None = Field(default=None, sa_type=UtcDateTime)  # type: ignore[call-overload]
    handled_by: str | None = Field(default=None, max_length=100)


class SupplierFailure(FulfilmentTable, table=True):
    """A production order marked failed, whole or for its unshipped remainder, and the backups' take-over (a job)."""

    __tablename__ = "supplier_failure"  # type: ignore[assignment]

    id: UUID = Field(default_factory=uuid4, primary_key=True)
    package_id: UUID = Field(index=True)
    production_order_id: UUID = Field(foreign_key="production_order.id", unique=True)
    supplier_id: UUID
    units: int  # the units backups are to make
    reason: str = Field(max_length=1000)
    reported_by: str = Field(max_length=100)
    status: JobStatus = Field(default=JobStatus.QUEUED, sa_type=varchar_enum(JobStatus))
    outcome: str | None = Field(default=None, max_length=2000)  # what the take-over did, or why it could not
    job_due_at: datetime | None = Field(default=None, sa_type=UtcDateTime)  # type: ignore[call-overload]
    created_at: datetime = Field(default_factory=utc_now, sa_type=UtcDateTime)  # type: ignore[call-overload]
    finished_at: datetime | None = Field(default=None, sa_type=UtcDateTime)  # type: ignore[call-overload]


class StopStatus(StrEnum):
    PREVIEWED = "previewed"
    APPLIED = "applied"


class SupplierStop(FulfilmentTable, table=True):
    """A supplier that stops altogether: every open production order of it failed in one action, with one take-over
    plan, previewed first and applied as previewed (or refused if what it was made from has changed)."""

    __tablename__ = "supplier_stop"  # type: ignore[assignment]

    id: UUID = Field(default_factory=uuid4, primary_key=True)
    supplier_id: UUID = Field(index=True)
    reason: str = Field(max_length=1000)
    requested_by: str = Field(max_length=100)
    status: StopStatus = Field(default=StopStatus.PREVIEWED, sa_type=varchar_enum(StopStatus))
    # Per production order failing: its package, region and remainder, and who takes it over (or why nobody).
    plan: list[dict[str, Any]] = Field(sa_type=JSON)
    # What the plan was made from, per package: what each production order makes and what is unshipped.
    state: dict[str, Any] = Field(sa_type=JSON)
    failure_ids: list[str] = Field(default_factory=list, sa_type=JSON)
    created_at: datetime = Field(default_factory=utc_now, sa_type=UtcDateTime)  # type: ignore[call-overload]
    applied_at: datetime | None = Field(default=None, sa_type=UtcDateTime)  # type: ignore[call-overload]
    applied_by: str | None = Field(default=None, max_length=100)


class PackageMilestone(FulfilmentTable, table=True):
    """When a package's production started, and when it was completed: each reached once, told to matching once.

    No foreign key to the awarded package: writing one would wait for that row's lock, which failures take first."""

    __tablename__ = "package_milestone"  # type: ignore[assignment]

    package_id: UUID = Field(primary_key=True)
    kind: str = Field(max_length=20, primary_key=True)  # started | completed
    at: datetime = Field(default_factory=utc_now, sa_type=UtcDateTime)  # type: ignore[call-overload]


class BuyerNotice(FulfilmentTable, table=True):
    """What a buyer is told about their delivery (shown with their parcels)."""

    __tablename__ = "buyer_notice"  # type: ignore[assignment]

    id: UUID = Field(default_factory=uuid4, primary_key=True)
    order_id: UUID = Field(foreign_key="delivery_order.id", index=True)
    message: str = Field(max_length=1000)
    at: datetime = Field(default_factory=utc_now, sa_type=UtcDateTime)  # type: ignore[call-overload]


class AfterSalesCase(FulfilmentTable, table=True):
    """A buyer's complaint about an order, until staff resolve it."""

    __tablename__ = "after_sales_case"  # type: ignore[assignment]

    id: UUID = Field(default_factory=uuid4, primary_key=True)
    order_id: UUID = Field(foreign_key="delivery_order.id", index=True)
    package_id: UUID = Field(index=True)
    kind: CaseKind = Field(sa_type=varchar_enum(CaseKind))
    description: str = Field(max_length=2000)
    # The supplier whose parcel the case is about (the latest shipped to the order), for its scorecard.
    supplier_id: UUID | None = None
    status: CaseStatus = Field(default=CaseStatus.OPEN, sa_type=varchar_enum(CaseStatus))
    resolution: Resolution | None = Field(default=None, sa_type=varchar_enum(Resolution))
    refund_cents: int | None = Field(default=None, sa_type=BigInteger)
    resolution_note: str | None = Field(default=None, max_length=1000)
    opened_at: datetime = Field(default_factory=utc_now, sa_type=UtcDateTime)  # type: ignore[call-overload]
    resolved_at: datetime | None = Field(default=None, sa_type=UtcDateTime)  # type: ignore[call-overload]
    resolved_by: str | None = Field(default=None, max_length=100)


class StaffAccount(FulfilmentTable, table=True):
    """A member of the fulfilment staff who logs in to the board."""

    __tablename__ = "staff_account"  # type: ignore[assignment]

    id: UUID = Field(default_factory=uuid4, primary_key=True)
    email: str = Field(max_length=254, unique=True)  # stored lower-cased
    name: str = Field(max_length=100)
    password_hash: str = Field(max_length=200)  # argon2id, with its parameters
    # Sessions begun before this are over: a logout ends every copy of the cookie, not just the browser's.
    sessions_valid_after: datetime | None = Field(default=None, sa_type=UtcDateTime)  # type: ignore[call-overload]
    created_at: datetime = Field(default_factory=utc_now, sa_type=UtcDateTime)  # type: ignore[call-overload]
