"""A package's fulfilment as matching follows it: production started, then every parcel delivered or closed.

Each milestone is a row reached once (its key settles two requests reaching it together) and told to matching
once, through the outbox, in the transaction that reaches it.
"""

from uuid import UUID

from sqlalchemy import func
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from flexsupply.contracts.events import Event, FulfilmentCompleted, FulfilmentStarted
from flexsupply.fulfilment.domain.states import OPEN_PRODUCTION, ShipmentStatus
from flexsupply.fulfilment.models import (
    DeliveryOrder,
    JobStatus,
    OutboxMessage,
    PackageMilestone,
    Piece,
    ProductionOrder,
    Shipment,
    SupplierFailure,
)
from flexsupply.kit import outbox

STARTED, COMPLETED = "started", "completed"
# Parcels still on their way: a package with any is not completed.
UNDER_WAY = (ShipmentStatus.PLANNED, ShipmentStatus.SHIPPED)


async def _reach(session: AsyncSession, package_id: UUID, kind: str, event: Event) -> bool:
    if await session.get(PackageMilestone, (package_id, kind)) is not None:
        return False
    try:
        async with session.begin_nested():
            session.add(PackageMilestone(package_id=package_id, kind=kind))
            await session.flush()
    except IntegrityError:
        return False  # reached at the same moment by another request, which tells matching
    outbox.publish(session, OutboxMessage, event)
    return True


async def note_started(session: AsyncSession, package_id: UUID) -> bool:
    """A production order of the package started: the first one puts the package in fulfilment."""
    return await _reach(session, package_id, STARTED, FulfilmentStarted(package_id=package_id))


async def is_completed(session: AsyncSession, package_id: UUID) -> bool:
    """Nothing is left to make, take over, assign or carry: every production order shipped or failed, no take-over
    waits, every buyer's unit is with production, and every parcel is delivered, cancelled or in exception (which
    after-sales, not delivery, goes on with)."""
    open_production = (
        await session.exec(
            select(func.count()).where(
                ProductionOrder.package_id == package_id, col(ProductionOrder.status).in_(OPEN_PRODUCTION)
            )
        )
    ).one()
    waiting_takeovers = (
        await session.exec(
            select(func.count()).where(
                SupplierFailure.package_id == package_id, SupplierFailure.status == JobStatus.QUEUED
            )
        )
    ).one()
    under_way = (
        await session.exec(
            select(func.count()).where(Shipment.package_id == package_id, col(Shipment.status).in_(UNDER_WAY))
        )
    ).one()
    if open_production or waiting_takeovers or under_way:
        return False
    ordered = (
        await session.exec(
            select(func.coalesce(func.sum(DeliveryOrder.quantity), 0)).where(DeliveryOrder.package_id == package_id)
        )
    ).one()
    with_production = (
        await session.exec(
            select(func.coalesce(func.sum(Piece.quantity), 0))
            .join(DeliveryOrder, col(DeliveryOrder.id) == col(Piece.order_id))
            .where(DeliveryOrder.package_id == package_id, col(Piece.moved_at).is_(None))
        )
    ).one()
    return int(with_production) >= int(ordered)


async def note_if_completed(session: AsyncSession, package_id: UUID) -> bool:
    if not await is_completed(session, package_id):
        return False
    await note_started(session, package_id)  # a package whose start was never seen still started
    return await _reach(session, package_id, COMPLETED, FulfilmentCompleted(package_id=package_id))
