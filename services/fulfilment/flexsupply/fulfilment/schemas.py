"""Bodies only the fulfilment API uses."""

from datetime import datetime
from typing import Literal
from uuid import UUID

from sqlmodel import Field, SQLModel

from flexsupply.contracts.events import AwardedAllocation, AwardedReserve, PickupPoint
from flexsupply.contracts.rules import Boolean
from flexsupply.contracts.text import Code, Description, Note, Reason
from flexsupply.fulfilment.domain.states import (
    BatchStatus,
    CaseKind,
    CaseStatus,
    ProductionStatus,
    Resolution,
    ShipmentStatus,
    ShipmentStep,
)
from flexsupply.fulfilment.models import ExceptionKind, JobStatus, StopStatus


class AwardedPackagePublic(SQLModel):
    package_id: UUID
    sku: str
    needed_by: datetime
    currency: str
    firm_quantities: dict[str, int]
    allocations: list[AwardedAllocation]
    reserves: list[AwardedReserve]
    pickup_points: dict[str, PickupPoint]
    received_at: datetime
    assignment_status: JobStatus
    assignment_note: str | None


class BatchCreate(SQLModel):
    quantity: int = Field(ge=1, le=1_000_000)
    lot_number: Code
    quality_passed: Boolean


class ShipmentStepBody(SQLModel):
    step: Literal[ShipmentStep.SHIP, ShipmentStep.DELIVER, ShipmentStep.REPORT_EXCEPTION] = Field(
        description="ship (with carrier and tracking number), deliver, or report_exception."
    )
    carrier: Code | None = None
    tracking_number: Code | None = None
    note: Note | None = None


class ShipmentMoveItem(ShipmentStepBody):
    shipment_id: UUID


class ShipmentMoves(SQLModel):
    moves: list[ShipmentMoveItem] = Field(min_length=1, max_length=1000)


class BatchPublic(SQLModel):
    id: UUID
    production_order_id: UUID
    quantity: int
    lot_number: str
    quality_passed: bool
    status: BatchStatus
    reported_at: datetime
    shipment_count: int = 0


class MovePublic(SQLModel):
    step: str
    from_status: str | None
    to_status: str
    actor: str
    note: str | None
    at: datetime


class ProductionOrderPublic(SQLModel):
    id: UUID
    package_id: UUID
    supplier_id: UUID
    offer_id: str
    sku: str
    region: str
    quantity: int
    unit_cents: int
    shipping_cents: int
    currency: str
    due_by: datetime
    status: ProductionStatus
    failed_units: int
    failure_id: UUID | None = Field(description="The failure whose units this backup production order makes.")
    created_at: datetime
    updated_at: datetime


class ProductionOrderDetail(ProductionOrderPublic):
    made_units: int = Field(description="Units in batches that passed their check.")
    shipped_units: int = Field(description="Units handed to a carrier.")
    order_count: int = Field(description="Buyers' orders this production order delivers to.")
    batches: list[BatchPublic]
    moves: list[MovePublic]


class ShipmentPublic(SQLModel):
    id: UUID
    package_id: UUID
    production_order_id: UUID
    batch_id: UUID | None
    order_id: UUID
    quantity: int
    case_id: UUID | None
    status: ShipmentStatus
    carrier: str | None
    tracking_number: str | None
    note: str | None
    created_at: datetime
    shipped_at: datetime | None
    delivered_at: datetime | None


class FailureCreate(SQLModel):
    reason: Reason


class SupplierStopCreate(SQLModel):
    supplier_id: UUID = Field(description="The supplier that stops: every open production order of it fails.")
    reason: Reason


class TakeoverPublic(SQLModel):
    supplier_id: UUID
    offer_id: str
    region: str
    quantity: int
    unit_cents: int
    shipping_cents: int


class StopStepPublic(SQLModel):
    production_order_id: UUID
    package_id: UUID
    region: str
    units: int = Field(description="Its unshipped remainder, which fails.")
    takeovers: list[TakeoverPublic] = Field(description="The backups that take the remainder over.")
    no_takeover: str | None = Field(description="Why no backup can take it: its units wait (an exception for staff).")


class SupplierStopPublic(SQLModel):
    """One action failing a supplier across all its open production orders, with its take-over plan."""

    id: UUID
    supplier_id: UUID
    reason: str
    requested_by: str
    status: StopStatus = Field(description="previewed (nothing changed yet), or applied.")
    steps: list[StopStepPublic]
    failure_ids: list[UUID] = Field(description="Once applied: the failures, one per production order.")
    created_at: datetime
    applied_at: datetime | None


class SupplierFailurePublic(SQLModel):
    id: UUID
    package_id: UUID
    production_order_id: UUID
    supplier_id: UUID
    units: int
    reason: str
    reported_by: str
    status: JobStatus
    outcome: str | None
    created_at: datetime
    finished_at: datetime | None


class ExceptionPublic(SQLModel):
    id: UUID
    package_id: UUID
    kind: ExceptionKind
    subject_id: UUID | None
    message: str
    raised_at: datetime
    handled_at: datetime | None
    handled_by: str | None


class CaseCreate(SQLModel):
    kind: CaseKind
    description: Description


class CaseResolution(SQLModel):
    resolution: Resolution
    refund_cents: int | None = Field(default=None, ge=1, le=10**12, description="Required for a refund.")
    note: Reason | None = None


class CasePublic(SQLModel):
    id: UUID
    order_id: UUID
    package_id: UUID
    kind: CaseKind
    description: str
    supplier_id: UUID | None
    status: CaseStatus
    resolution: Resolution | None
    refund_cents: int | None
    resolution_note: str | None
    opened_at: datetime
    resolved_at: datetime | None


class ParcelPublic(SQLModel):
    shipment_id: UUID
    quantity: int
    status: ShipmentStatus
    carrier: str | None
    tracking_number: str | None
    shipped_at: datetime | None
    delivered_at: datetime | None


class NoticePublic(SQLModel):
    message: str
    at: datetime


class BuyerCasePublic(SQLModel):
    id: UUID
    kind: CaseKind
    status: CaseStatus
    resolution: Resolution | None
    refund_cents: int | None = Field(default=None, description="What the buyer gets back, for a refund.")
    opened_at: datetime


class BuyerDeliveryPublic(SQLModel):
    """What a buyer sees of their order's delivery, by the order's token."""

    order_id: UUID
    package_id: UUID
    sku: str
    needed_by: datetime = Field(description="When the group was promised delivery by.")
    currency: str
    region: str
    quantity: int
    pickup_point: PickupPoint | None = Field(description="Where to collect the order, when the group picks up.")
    parcels: list[ParcelPublic]
    notices: list[NoticePublic]
    cases: list[BuyerCasePublic]


class AssignmentPublic(SQLModel):
    package_id: UUID
    status: JobStatus
    note: str | None
    order_count: int
    split_orders: int = Field(description="Orders delivered by more than one production order.")
