"""The staff board's read model: what the board shows of each package, read from the tables in a few queries.

Nothing here changes anything; the board's buttons call the use cases (failures, production, cases).
"""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from uuid import UUID

from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from flexsupply.contracts.errors import NotFound
from flexsupply.fulfilment.domain.states import (
    HANDED_OVER,
    OPEN_PRODUCTION,
    BatchStatus,
    CaseStatus,
    ProductionStatus,
    ShipmentStatus,
)
from flexsupply.fulfilment.models import (
    AfterSalesCase,
    AwardedPackage,
    Batch,
    DeliveryOrder,
    FulfilmentException,
    JobStatus,
    Piece,
    ProductionOrder,
    Shipment,
    SupplierFailure,
)
from flexsupply.kit.clock import utc_now

# Units that count as made: a batch that passed its check, whether shipped yet or not.
MADE = (BatchStatus.READY, BatchStatus.SHIPPED)


def is_late(order: ProductionOrder, now: datetime) -> bool:
    """Still to be made or shipped after its due date, or flagged late by the service."""
    return order.status in OPEN_PRODUCTION and (order.late_noticed or order.due_by < now)


def percent(part: int, whole: int) -> int:
    """Whole percent, rounded down: 100 only when all of it is done."""
    return part * 100 // whole if whole else 0


@dataclass(frozen=True)
class PackageSummary:
    package_id: UUID
    sku: str
    needed_by: datetime
    units: int
    made_units: int
    open_exceptions: int
    late_orders: int
    assignment_status: JobStatus

    @property
    def made_percent(self) -> int:
        return percent(self.made_units, self.units)


@dataclass(frozen=True)
class BatchLine:
    id: UUID
    production_order_id: UUID
    supplier_id: UUID
    region: str
    quantity: int
    lot_number: str
    quality_passed: bool
    status: BatchStatus
    reported_at: datetime


@dataclass(frozen=True)
class ProductionLine:
    id: UUID
    supplier_id: UUID
    offer_id: str
    region: str
    quantity: int
    made_units: int
    shipped_units: int
    failed_units: int
    status: ProductionStatus
    due_by: datetime
    late: bool
    backup_for: UUID | None  # the failure this backup order takes units over from
    batches: list[BatchLine] = field(default_factory=list)

    @property
    def can_fail(self) -> bool:
        return self.status in OPEN_PRODUCTION


@dataclass(frozen=True)
class PackageBoard:
    package_id: UUID
    sku: str
    needed_by: datetime
    currency: str
    firm_quantities: dict[str, int]
    assignment_status: JobStatus
    assignment_note: str | None
    orders: int
    assigned_orders: int
    ordered_units: int
    production: list[ProductionLine]
    exceptions: list[FulfilmentException]
    failures: list[SupplierFailure]  # each a take-over job: queued, done or failed, with its outcome
    shipments_by_status: dict[ShipmentStatus, int]
    delivered_units: int
    open_cases: list[AfterSalesCase]
    resolved_cases: int

    @property
    def units(self) -> int:
        return sum(self.firm_quantities.values())

    @property
    def batches(self) -> list[BatchLine]:
        return sorted((b for line in self.production for b in line.batches), key=lambda b: b.reported_at)

    @property
    def late(self) -> list[ProductionLine]:
        return [line for line in self.production if line.late]

    @property
    def delivered_percent(self) -> int:
        return percent(self.delivered_units, self.ordered_units)

    @property
    def assigned_percent(self) -> int:
        return percent(self.assigned_orders, self.orders)

    @property
    def working(self) -> bool:
        """A job is queued: the board refreshes itself until it is done."""
        return self.assignment_status is JobStatus.QUEUED or any(f.status is JobStatus.QUEUED for f in self.failures)


async def package_summaries(session: AsyncSession, limit: int = 200) -> list[PackageSummary]:
    """The newest packages first, each with its progress, open exceptions and late production orders."""
    packages = (
        await session.exec(select(AwardedPackage).order_by(col(AwardedPackage.received_at).desc()).limit(limit))
    ).all()
    ids = [package.package_id for package in packages]
    if not ids:
        return []
    made = dict(
        (
            await session.exec(
                select(ProductionOrder.package_id, func.sum(Batch.quantity))
                .join(Batch, col(Batch.production_order_id) == col(ProductionOrder.id))
                .where(col(ProductionOrder.package_id).in_(ids), col(Batch.status).in_(MADE))
                .group_by(col(ProductionOrder.package_id))
            )
        ).all()
    )
    exceptions = dict(
        (
            await session.exec(
                select(FulfilmentException.package_id, func.count())
                .where(col(FulfilmentException.package_id).in_(ids), col(FulfilmentException.handled_at).is_(None))
                .group_by(col(FulfilmentException.package_id))
            )
        ).all()
    )
    now = utc_now()
    late: dict[UUID, int] = defaultdict(int)
    open_orders = await session.exec(
        select(ProductionOrder).where(
            col(ProductionOrder.package_id).in_(ids), col(ProductionOrder.status).in_(OPEN_PRODUCTION)
        )
    )
    for order in open_orders:
        late[order.package_id] += is_late(order, now)
    return [
        PackageSummary(
            package_id=package.package_id,
            sku=package.sku,
            needed_by=package.needed_by,
            units=sum(package.firm_quantities.values()),
            made_units=int(made.get(package.package_id) or 0),
            open_exceptions=int(exceptions.get(package.package_id) or 0),
            late_orders=late[package.package_id],
            assignment_status=package.assignment_status,
        )
        for package in packages
    ]


async def package_board(session: AsyncSession, package_id: UUID) -> PackageBoard:
    package = await session.get(AwardedPackage, package_id)
    if package is None:
        raise NotFound(f"no awarded package {package_id} has reached fulfilment")
    orders = (
        await session.exec(
            select(ProductionOrder)
            .where(ProductionOrder.package_id == package_id)
            .order_by(col(ProductionOrder.created_at), col(ProductionOrder.region))
        )
    ).all()
    batches = (
        await session.exec(
            select(Batch)
            .join(ProductionOrder, col(Batch.production_order_id) == col(ProductionOrder.id))
            .where(ProductionOrder.package_id == package_id)
            .order_by(col(Batch.reported_at))
        )
    ).all()
    shipments = (
        await session.exec(
            select(Shipment.production_order_id, Shipment.status, Shipment.case_id, Shipment.quantity).where(
                Shipment.package_id == package_id
            )
        )
    ).all()
    shipped: dict[UUID, int] = defaultdict(int)
    by_status: dict[ShipmentStatus, int] = dict.fromkeys(ShipmentStatus, 0)
    delivered_units = 0
    for production_order_id, stored_status, case_id, quantity in shipments:
        status = ShipmentStatus(stored_status)
        by_status[status] += 1
        if case_id is None and status in HANDED_OVER:  # a resend replaces a parcel: its units are not new
            shipped[production_order_id] += quantity
        if case_id is None and status is ShipmentStatus.DELIVERED:
            delivered_units += quantity
    orders_total, ordered_units = (
        await session.exec(
            select(func.count(), func.coalesce(func.sum(DeliveryOrder.quantity), 0)).where(
                DeliveryOrder.package_id == package_id
            )
        )
    ).one()
    assigned = (
        await session.exec(
            select(func.count(func.distinct(Piece.order_id)))
            .join(DeliveryOrder, col(Piece.order_id) == col(DeliveryOrder.id))
            .where(DeliveryOrder.package_id == package_id, col(Piece.moved_at).is_(None))
        )
    ).one()
    exceptions = (
        await session.exec(
            select(FulfilmentException)
            .where(FulfilmentException.package_id == package_id, col(FulfilmentException.handled_at).is_(None))
            .order_by(col(FulfilmentException.raised_at))
        )
    ).all()
    failures = (
        await session.exec(
            select(SupplierFailure)
            .where(SupplierFailure.package_id == package_id)
            .order_by(col(SupplierFailure.created_at))
        )
    ).all()
    cases = (
        await session.exec(
            select(AfterSalesCase)
            .where(AfterSalesCase.package_id == package_id)
            .order_by(col(AfterSalesCase.opened_at))
        )
    ).all()
    now = utc_now()
    by_order: dict[UUID, ProductionOrder] = {order.id: order for order in orders}
    batch_lines: dict[UUID, list[BatchLine]] = defaultdict(list)
    made: dict[UUID, int] = defaultdict(int)
    for batch in batches:
        order = by_order[batch.production_order_id]
        batch_lines[order.id].append(
            BatchLine(
                id=batch.id,
                production_order_id=order.id,
                supplier_id=order.supplier_id,
                region=order.region,
                quantity=batch.quantity,
                lot_number=batch.lot_number,
                quality_passed=batch.quality_passed,
                status=batch.status,
                reported_at=batch.reported_at,
            )
        )
        if batch.status in MADE:
            made[order.id] += batch.quantity
    return PackageBoard(
        package_id=package.package_id,
        sku=package.sku,
        needed_by=package.needed_by,
        currency=package.currency,
        firm_quantities=dict(package.firm_quantities),
        assignment_status=package.assignment_status,
        assignment_note=package.assignment_note,
        orders=int(orders_total),
        assigned_orders=int(assigned),
        ordered_units=int(ordered_units),
        production=[
            ProductionLine(
                id=order.id,
                supplier_id=order.supplier_id,
                offer_id=order.offer_id,
                region=order.region,
                quantity=order.quantity,
                made_units=made[order.id],
                shipped_units=shipped[order.id],
                failed_units=order.failed_units,
                status=order.status,
                due_by=order.due_by,
                late=is_late(order, now),
                backup_for=order.failure_id,
                batches=batch_lines[order.id],
            )
            for order in orders
        ],
        exceptions=list(exceptions),
        failures=list(failures),
        shipments_by_status=by_status,
        delivered_units=delivered_units,
        open_cases=[case for case in cases if case.status is CaseStatus.OPEN],
        resolved_cases=sum(case.status is CaseStatus.RESOLVED for case in cases),
    )
