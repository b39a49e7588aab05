"""Production: an awarded package becomes production orders; suppliers move them on, report batches and ship parcels.

Locks: a package's awarded row first (every change to who makes what for which buyer takes it: assignment, a
failure and its take-over), then a production order's row (moves, batches, shipping of its parcels), then
shipments. A supplier's move on one production order therefore waits for a failure of the same order, never the
other way round, so a failure arriving while a batch is being shipped sees every parcel either shipped or not.
"""

import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta
from uuid import UUID

from sqlalchemy import func, insert
from sqlalchemy import select as sa_select
from sqlmodel import SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from flexsupply.contracts.errors import InvalidField, NotFound
from flexsupply.contracts.events import PackageAwarded, SupplierNotice, SupplierOutcome
from flexsupply.fulfilment.domain.manifest import ManifestLine
from flexsupply.fulfilment.domain.shipping import BatchTooLarge, OpenPiece, fill_batch
from flexsupply.fulfilment.domain.states import (
    HANDED_OVER,
    MAKING,
    OPEN_PRODUCTION,
    SUPPLIER_SHIPMENT_STEPS,
    SUPPLIER_STEPS,
    BatchStatus,
    BatchStep,
    InvalidMove,
    ProductionStatus,
    ProductionStep,
    ShipmentStatus,
    ShipmentStep,
    next_batch_status,
    next_production_status,
    next_shipment_status,
)
from flexsupply.fulfilment.models import (
    AwardedPackage,
    Batch,
    DeliveryOrder,
    ExceptionKind,
    FulfilmentException,
    JobStatus,
    Move,
    OutboxMessage,
    Piece,
    ProductionOrder,
    Shipment,
)
from flexsupply.fulfilment.schemas import (
    BatchCreate,
    BatchPublic,
    ExceptionPublic,
    MovePublic,
    ProductionOrderDetail,
    ProductionOrderPublic,
    ShipmentMoveItem,
    ShipmentPublic,
)
from flexsupply.kit import outbox
from flexsupply.kit.clock import utc_now

# What suppliers are told (SupplierNotice.event_type: the webhook's type).
PRODUCTION_ISSUED, PRODUCTION_FAILED = "production_order.issued", "production_order.failed"
SYSTEM = "fulfilment"
# A queued job not finished by then is sent again by the sweeper (its message may have been lost).
JOB_LEASE = timedelta(minutes=2)
_NOTICES = uuid.UUID("6f1d3c52-3f0e-4a8e-9c55-5c1f0e7a2b10")  # namespace of outcome ids


def event_id(subject_id: UUID, kind: str) -> UUID:
    """The same id for the same fact, so a retried transaction or redelivered event tells once."""
    return uuid.uuid5(_NOTICES, f"{subject_id}:{kind}")


def tell_supplier(session: AsyncSession, supplier_id: UUID, event_type: str, subject_id: UUID, data: SQLModel) -> None:
    outbox.publish(session, OutboxMessage, SupplierNotice.about(subject_id, supplier_id, event_type, data))


def record_outcome(session: AsyncSession, supplier_id: UUID, kind: str, units: int, subject_id: UUID) -> None:
    """A fact for the supplier's scorecard (kept by the suppliers service)."""
    if units <= 0:
        return
    outcome = SupplierOutcome(
        outcome_id=event_id(subject_id, f"outcome:{kind}"),
        supplier_id=supplier_id,
        kind=kind,  # type: ignore[arg-type]
        units=units,
        occurred_at=utc_now(),
    )
    outbox.publish(session, OutboxMessage, outcome)


def record_move(
    session: AsyncSession,
    subject: str,
    subject_id: UUID,
    step: str,
    from_status: str | None,
    to_status: str,
    actor: str,
    note: str | None = None,
) -> None:
    session.add(
        Move(
            subject=subject,
            subject_id=subject_id,
            step=step,
            from_status=from_status,
            to_status=to_status,
            actor=actor,
            note=note[:1000] if note else None,
        )
    )


def raise_exception(
    session: AsyncSession, package_id: UUID, kind: ExceptionKind, subject_id: UUID | None, message: str
) -> None:
    session.add(FulfilmentException(package_id=package_id, kind=kind, subject_id=subject_id, message=message[:1000]))


# --- an award becomes production -------------------------------------------------------------------------------


async def record_award(session: AsyncSession, event: PackageAwarded, received_event_id: UUID) -> bool:
    """One production order per supplier allocation, for exactly its units, due by the package's needed-by date;
    each supplier is told; the buyers' orders are kept and their assignment to production queued. A redelivered
    event changes nothing. Returns whether it was new."""
    if await session.get(AwardedPackage, event.package_id) is not None:
        return False
    payload = event.model_dump(mode="json")
    session.add(
        AwardedPackage(
            package_id=event.package_id,
            sku=event.sku,
            needed_by=event.needed_by,
            currency=event.currency,
            firm_quantities=event.firm_quantities,
            allocations=payload["allocations"],
            reserves=payload["reserves"],
            event_id=received_event_id,
            rematch_problem=event.rematch_problem,
            pickup_points=payload["pickup_points"],
            assignment_status=JobStatus.QUEUED if event.orders else JobStatus.DONE,
            assignment_note=None if event.orders else "no buyers' orders: sold outside flexsupply",
            job_due_at=utc_now() + JOB_LEASE if event.orders else None,
        )
    )
    await session.flush()
    if event.orders:
        # Up to tens of thousands of rows: one multi-row insert, not an object each.
        await session.exec(
            insert(DeliveryOrder),  # type: ignore[call-overload]
            params=[
                {
                    "id": order.order_id,
                    "package_id": event.package_id,
                    "token_sha256": order.token_sha256,
                    "rank": rank,
                    "region": order.region,
                    "quantity": order.quantity,
                    "name": order.name,
                    "phone": order.phone,
                    "address": order.address,
                }
                for rank, order in enumerate(event.orders)
            ],
        )
    merged: dict[tuple[UUID, str, str], list[int]] = {}
    terms: dict[tuple[UUID, str, str], tuple[int, int]] = {}
    for allocation in event.allocations:
        key = (allocation.supplier_id, allocation.offer_id, allocation.region)
        merged.setdefault(key, []).append(allocation.quantity)
        terms[key] = (allocation.unit_cents, allocation.shipping_cents)
    for (supplier_id, offer_id, region), quantities in sorted(merged.items(), key=lambda item: str(item[0])):
        unit_cents, shipping_cents = terms[supplier_id, offer_id, region]
        issue_production_order(
            session,
            ProductionOrder(
                package_id=event.package_id,
                supplier_id=supplier_id,
                offer_id=offer_id,
                sku=event.sku,
                region=region,
                quantity=sum(quantities),
                unit_cents=unit_cents,
                shipping_cents=shipping_cents,
                currency=event.currency,
                due_by=event.needed_by,
            ),
            actor=SYSTEM,
            note="awarded",
        )
    await session.flush()
    return True


def issue_production_order(session: AsyncSession, production: ProductionOrder, *, actor: str, note: str) -> None:
    session.add(production)
    record_move(session, "production_order", production.id, "issue", None, production.status, actor, note)
    tell_supplier(
        session,
        production.supplier_id,
        PRODUCTION_ISSUED,
        production.id,
        ProductionOrderPublic.model_validate(production),
    )


# --- reading ---------------------------------------------------------------------------------------------------


async def get_awarded(session: AsyncSession, package_id: UUID, *, lock: bool = False) -> AwardedPackage:
    awarded = await session.get(AwardedPackage, package_id, with_for_update=lock)
    if awarded is None:
        raise NotFound(f"no awarded package {package_id} has reached fulfilment")
    return awarded


async def list_awarded(session: AsyncSession, limit: int, offset: int) -> Sequence[AwardedPackage]:
    query = select(AwardedPackage).order_by(col(AwardedPackage.received_at).desc()).limit(limit).offset(offset)
    return (await session.exec(query)).all()


async def own_production_order(
    session: AsyncSession, production_order_id: UUID, supplier_id: UUID | None, *, lock: bool = False
) -> ProductionOrder:
    """A production order the caller may see: a supplier's own (another's is 'not found'), or any for staff."""
    production = await session.get(ProductionOrder, production_order_id, with_for_update=lock)
    if production is None or (supplier_id is not None and production.supplier_id != supplier_id):
        raise NotFound(f"production order {production_order_id} not found")
    return production


async def list_production_orders(
    session: AsyncSession,
    supplier_id: UUID | None,
    package_id: UUID | None,
    status: ProductionStatus | None,
    limit: int,
    offset: int,
) -> list[ProductionOrderPublic]:
    query = select(ProductionOrder)
    if supplier_id is not None:
        query = query.where(ProductionOrder.supplier_id == supplier_id)
    if package_id is not None:
        query = query.where(ProductionOrder.package_id == package_id)
    if status is not None:
        query = query.where(ProductionOrder.status == status)
    query = query.order_by(col(ProductionOrder.created_at).desc(), col(ProductionOrder.id)).limit(limit).offset(offset)
    return [ProductionOrderPublic.model_validate(row) for row in (await session.exec(query)).all()]


async def shipped_units(session: AsyncSession, production_order_id: UUID) -> int:
    query = select(func.coalesce(func.sum(Shipment.quantity), 0)).where(
        Shipment.production_order_id == production_order_id,
        col(Shipment.status).in_(HANDED_OVER),
        col(Shipment.case_id).is_(None),  # a resend is a case's, not the production's
    )
    return int((await session.exec(query)).one())


async def production_detail(
    session: AsyncSession, production_order_id: UUID, supplier_id: UUID | None
) -> ProductionOrderDetail:
    production = await own_production_order(session, production_order_id, supplier_id)
    batches = (
        await session.exec(
            select(Batch).where(Batch.production_order_id == production.id).order_by(col(Batch.reported_at))
        )
    ).all()
    counts = dict(
        (
            await session.exec(
                select(Shipment.batch_id, func.count())
                .where(Shipment.production_order_id == production.id, Shipment.status != ShipmentStatus.CANCELLED)
                .group_by(col(Shipment.batch_id))
            )
        ).all()
    )
    moves = (
        await session.exec(select(Move).where(Move.subject_id == production.id).order_by(col(Move.at), col(Move.id)))
    ).all()
    order_count = (
        await session.exec(
            select(func.count(func.distinct(Piece.order_id))).where(
                Piece.production_order_id == production.id, col(Piece.moved_at).is_(None)
            )
        )
    ).one()
    return ProductionOrderDetail(
        **ProductionOrderPublic.model_validate(production).model_dump(),
        made_units=sum(batch.quantity for batch in batches if batch.status is not BatchStatus.REJECTED),
        shipped_units=await shipped_units(session, production.id),
        order_count=int(order_count),
        batches=[
            BatchPublic.model_validate(batch, update={"shipment_count": counts.get(batch.id, 0)}) for batch in batches
        ],
        moves=[
            # A supplier sees that staff did it, not who among them.
            MovePublic.model_validate(move, update={"actor": "staff"} if supplier_id and "@" in move.actor else {})
            for move in moves
        ],
    )


# --- suppliers move their production on ------------------------------------------------------------------------


async def move_production(
    session: AsyncSession, production_order_id: UUID, step: ProductionStep, *, supplier_id: UUID | None, actor: str
) -> ProductionOrder:
    """Accept or start (a supplier, its own). Failing goes through failures.mark_failed; finishing is the
    service's, when the last unit ships."""
    if step not in SUPPLIER_STEPS or step is ProductionStep.FAIL:
        raise InvalidMove(f"{step} is not a step a supplier takes here")
    production = await own_production_order(session, production_order_id, supplier_id, lock=True)
    _move_production(session, production, step, actor)
    await session.flush()
    return production


def _move_production(
    session: AsyncSession, production: ProductionOrder, step: ProductionStep, actor: str, note: str | None = None
) -> None:
    status = next_production_status(production.status, step)
    record_move(session, "production_order", production.id, step, production.status, status, actor, note)
    production.status, production.updated_at = status, utc_now()


async def report_batch(
    session: AsyncSession, production_order_id: UUID, supplier_id: UUID | None, data: BatchCreate, actor: str
) -> BatchPublic:
    """A batch made: its lot and quality check. A passed batch's parcels are planned at once (earliest buyers
    first, whole orders where they fit); a failed check or a batch after the due date raises an exception for
    staff. Refused while production is not running (409) and beyond what is left to make (400)."""
    production = await own_production_order(session, production_order_id, supplier_id, lock=True)
    if production.status not in MAKING:
        raise InvalidMove(f"a {production.status} production order takes no batches: start it first")
    made = (
        await session.exec(
            select(func.coalesce(func.sum(Batch.quantity), 0)).where(
                Batch.production_order_id == production.id, Batch.status != BatchStatus.REJECTED
            )
        )
    ).one()
    left = production.quantity - production.failed_units - int(made)
    if data.quantity > left:
        raise InvalidField("quantity", f"{data.quantity} units is more than the {left} left to make")
    status = BatchStatus.READY if data.quality_passed else BatchStatus.REJECTED
    batch = Batch(
        production_order_id=production.id,
        quantity=data.quantity,
        lot_number=data.lot_number,
        quality_passed=data.quality_passed,
        status=status,
    )
    session.add(batch)
    record_move(session, "batch", batch.id, "report", None, status, actor, f"lot {data.lot_number}")
    now = utc_now()
    if not data.quality_passed:
        raise_exception(
            session,
            production.package_id,
            ExceptionKind.QUALITY_FAILED,
            batch.id,
            f"batch {data.lot_number} of {data.quantity} units failed its quality check: to be made again",
        )
        record_outcome(session, production.supplier_id, "quality_failed", data.quantity, batch.id)
    if now > production.due_by:
        raise_exception(
            session,
            production.package_id,
            ExceptionKind.LATE,
            batch.id,
            f"batch {data.lot_number} was ready {now:%Y-%m-%d %H:%M} UTC, after the due date "
            f"{production.due_by:%Y-%m-%d %H:%M} UTC",
        )
    await session.flush()
    planned = await plan_shipments(session, production, batch) if data.quality_passed else 0
    return BatchPublic.model_validate(batch, update={"shipment_count": planned})


async def open_pieces(session: AsyncSession, production_order_id: UUID) -> list[OpenPiece]:
    """Per buyer's order: units this production order makes for it that no live parcel carries yet."""
    pieces = (
        await session.exec(
            select(Piece.order_id, func.sum(Piece.quantity))
            .where(Piece.production_order_id == production_order_id, col(Piece.moved_at).is_(None))
            .group_by(col(Piece.order_id))
        )
    ).all()
    carried = dict(
        (
            await session.exec(
                select(Shipment.order_id, func.sum(Shipment.quantity))
                .where(
                    Shipment.production_order_id == production_order_id,
                    Shipment.status != ShipmentStatus.CANCELLED,
                    col(Shipment.case_id).is_(None),
                )
                .group_by(col(Shipment.order_id))
            )
        ).all()
    )
    ranks = dict(
        (
            await session.exec(
                select(DeliveryOrder.id, DeliveryOrder.rank).where(
                    col(DeliveryOrder.id).in_([order_id for order_id, _ in pieces])
                )
            )
        ).all()
    )
    return [
        OpenPiece(order_id=order_id, units=int(units) - int(carried.get(order_id, 0)), rank=ranks[order_id])
        for order_id, units in pieces
        if int(units) > int(carried.get(order_id, 0))
    ]


async def plan_shipments(session: AsyncSession, production: ProductionOrder, batch: Batch) -> int:
    """Plan a ready batch's parcels (or what of it the assigned orders take: the rest is planned when orders are
    assigned). Returns the parcels planned."""
    in_parcels = (
        await session.exec(
            select(func.coalesce(func.sum(Shipment.quantity), 0)).where(
                Shipment.batch_id == batch.id, Shipment.status != ShipmentStatus.CANCELLED
            )
        )
    ).one()
    unplanned = batch.quantity - int(in_parcels)
    pieces = await open_pieces(session, production.id)
    units = min(unplanned, sum(piece.units for piece in pieces))
    if units <= 0:
        return 0
    try:
        parcels = fill_batch(units, pieces)
    except BatchTooLarge as error:  # cannot happen: units is at most what the pieces hold
        raise AssertionError(str(error)) from error
    now = utc_now()
    await session.exec(
        insert(Shipment),  # type: ignore[call-overload]
        params=[  # hundreds of parcels for a batch: one multi-row insert
            {
                "id": uuid.uuid4(),
                "package_id": production.package_id,
                "production_order_id": production.id,
                "batch_id": batch.id,
                "order_id": order_id,
                "quantity": quantity,
                "status": ShipmentStatus.PLANNED,
                "created_at": now,
            }
            for order_id, quantity in parcels
        ],
    )
    return len(parcels)


async def plan_waiting_batches(session: AsyncSession, package_id: UUID) -> None:
    """After orders were assigned: parcels for batches that were ready before their orders were known."""
    productions = (
        await session.exec(
            select(ProductionOrder)
            .where(ProductionOrder.package_id == package_id, col(ProductionOrder.status).in_(OPEN_PRODUCTION))
            .order_by(col(ProductionOrder.id))
            .with_for_update()  # as a batch report does: none is planned twice
            .execution_options(populate_existing=True)
        )
    ).all()
    for production in productions:
        batches = (
            await session.exec(
                select(Batch)
                .where(Batch.production_order_id == production.id, Batch.status == BatchStatus.READY)
                .order_by(col(Batch.reported_at))
            )
        ).all()
        for batch in batches:
            await plan_shipments(session, production, batch)


# --- parcels ---------------------------------------------------------------------------------------------------


async def list_shipments(
    session: AsyncSession,
    supplier_id: UUID | None,
    production_order_id: UUID,
    batch_id: UUID | None,
    status: ShipmentStatus | None,
    limit: int,
    offset: int,
) -> list[ShipmentPublic]:
    production = await own_production_order(session, production_order_id, supplier_id)
    query = select(Shipment).where(Shipment.production_order_id == production.id)
    if batch_id is not None:
        query = query.where(Shipment.batch_id == batch_id)
    if status is not None:
        query = query.where(Shipment.status == status)
    query = query.order_by(col(Shipment.created_at), col(Shipment.id)).limit(limit).offset(offset)
    return [ShipmentPublic.model_validate(row) for row in (await session.exec(query)).all()]


async def move_shipments(
    session: AsyncSession, moves: Sequence[ShipmentMoveItem], *, supplier_id: UUID | None, actor: str
) -> list[ShipmentPublic]:
    """Move parcels on (all or none): ship with a carrier and tracking number, deliver, or report an exception.
    A supplier moves only its own. The batch is shipped with its last parcel, the production order with its last
    unit; a delivery counts on time or late for the supplier's scorecard."""
    if len({move.shipment_id for move in moves}) != len(moves):
        raise InvalidField("moves", "a shipment appears more than once")
    ids = [move.shipment_id for move in moves]
    found = {
        shipment.id: shipment
        for shipment in (await session.exec(select(Shipment).where(col(Shipment.id).in_(ids)))).all()
    }
    owners = dict(
        (
            await session.exec(
                select(ProductionOrder.id, ProductionOrder.supplier_id).where(
                    col(ProductionOrder.id).in_({shipment.production_order_id for shipment in found.values()})
                )
            )
        ).all()
    )
    for shipment_id in ids:  # another supplier's parcel is 'not found', and names nothing of theirs
        shipment = found.get(shipment_id)
        if shipment is None or (supplier_id is not None and owners[shipment.production_order_id] != supplier_id):
            raise NotFound(f"shipment {shipment_id} not found")
    # The production orders' locks first, then the parcels', each in id order: one order for every transaction.
    productions = {
        production.id: production
        for production in (
            await session.exec(
                select(ProductionOrder)
                .where(col(ProductionOrder.id).in_(owners))
                .order_by(col(ProductionOrder.id))
                .with_for_update()
                .execution_options(populate_existing=True)
            )
        ).all()
    }
    found = {
        shipment.id: shipment
        for shipment in (
            await session.exec(
                select(Shipment)
                .where(col(Shipment.id).in_(ids))
                .order_by(col(Shipment.id))
                .with_for_update()
                .execution_options(populate_existing=True)
            )
        ).all()
    }
    moved = []
    for move in moves:
        shipment = found[move.shipment_id]
        production = productions[shipment.production_order_id]
        moved.append(_move_shipment(session, shipment, production, move, actor))
    await session.flush()
    for production in productions.values():
        await _finish_if_shipped(session, production, actor)
    await session.flush()
    return [ShipmentPublic.model_validate(shipment) for shipment in moved]


def _move_shipment(
    session: AsyncSession, shipment: Shipment, production: ProductionOrder, move: ShipmentMoveItem, actor: str
) -> Shipment:
    if move.step not in SUPPLIER_SHIPMENT_STEPS:
        raise InvalidMove(f"{move.step} is not a step taken here")
    if _repeated(shipment, move):  # a retry after a lost answer: done already, nothing changes
        return shipment
    status = next_shipment_status(shipment.status, move.step)
    now = utc_now()
    if move.step is ShipmentStep.SHIP:
        resend_after_finish = shipment.case_id is not None and production.status is ProductionStatus.SHIPPED
        if production.status not in MAKING and not resend_after_finish:
            raise InvalidMove(f"a parcel of a {production.status} production order cannot ship")
        if not move.carrier or not move.tracking_number:
            raise InvalidField("tracking_number", "shipping takes a carrier and a tracking number")
        shipment.carrier, shipment.tracking_number, shipment.shipped_at = move.carrier, move.tracking_number, now
    elif move.step is ShipmentStep.DELIVER:
        shipment.delivered_at = now
        if shipment.case_id is None:  # a resend makes good a case: it earns no delivery of its own
            on_time = now <= production.due_by
            kind = "delivered_on_time" if on_time else "delivered_late"
            record_outcome(session, production.supplier_id, kind, shipment.quantity, shipment.id)
    else:
        raise_exception(
            session,
            shipment.package_id,
            ExceptionKind.DELIVERY,
            shipment.id,
            f"parcel {shipment.tracking_number} ({shipment.carrier}): {move.note or 'reported by the carrier'}",
        )
    if move.note:
        shipment.note = move.note
    record_move(session, "shipment", shipment.id, move.step, shipment.status, status, actor, move.note)
    shipment.status = status
    return shipment


def _repeated(shipment: Shipment, move: ShipmentMoveItem) -> bool:
    if move.step is ShipmentStep.SHIP:
        return shipment.status is ShipmentStatus.SHIPPED and (shipment.carrier, shipment.tracking_number) == (
            move.carrier,
            move.tracking_number,
        )
    done = {ShipmentStep.DELIVER: ShipmentStatus.DELIVERED, ShipmentStep.REPORT_EXCEPTION: ShipmentStatus.EXCEPTION}
    return shipment.status is done.get(move.step)


async def _finish_if_shipped(session: AsyncSession, production: ProductionOrder, actor: str) -> None:
    for batch in (
        await session.exec(
            select(Batch).where(Batch.production_order_id == production.id, Batch.status == BatchStatus.READY)
        )
    ).all():
        waiting = (
            await session.exec(
                select(func.count()).where(Shipment.batch_id == batch.id, Shipment.status == ShipmentStatus.PLANNED)
            )
        ).one()
        in_parcels = (
            await session.exec(
                select(func.coalesce(func.sum(Shipment.quantity), 0)).where(
                    Shipment.batch_id == batch.id, col(Shipment.status).in_(HANDED_OVER)
                )
            )
        ).one()
        if not waiting and int(in_parcels) == batch.quantity:
            status = next_batch_status(batch.status, BatchStep.SHIP)
            record_move(session, "batch", batch.id, BatchStep.SHIP, batch.status, status, actor)
            batch.status = status
    if (
        production.status in MAKING
        and await shipped_units(session, production.id) >= production.quantity - production.failed_units
    ):
        _move_production(session, production, ProductionStep.FINISH, actor, "every unit shipped")


# --- manifests -------------------------------------------------------------------------------------------------


async def manifest_lines(
    session: AsyncSession, production_order_id: UUID, *, batch_id: UUID | None = None, supplier_id: UUID | None = None
) -> list[ManifestLine]:
    """A production order's parcels (or one batch's) with whom and where to deliver: for a courier. A supplier sees
    only its own production orders' addresses."""
    production = await own_production_order(session, production_order_id, supplier_id)
    query = (
        sa_select(  # the columns a courier needs, not 20,000 objects for 10,000 parcels
            col(Shipment.id),
            col(Shipment.batch_id),
            col(Shipment.quantity),
            col(DeliveryOrder.id),
            col(DeliveryOrder.name),
            col(DeliveryOrder.phone),
            col(DeliveryOrder.address),
            col(DeliveryOrder.region),
        )
        .join(DeliveryOrder, col(DeliveryOrder.id) == col(Shipment.order_id))
        .where(col(Shipment.production_order_id) == production.id, col(Shipment.status) != ShipmentStatus.CANCELLED)
    )
    if batch_id is not None:
        if (batch := await session.get(Batch, batch_id)) is None or batch.production_order_id != production.id:
            raise NotFound(f"batch {batch_id} of production order {production.id} not found")
        query = query.where(col(Shipment.batch_id) == batch_id)
    lots = dict(
        (await session.exec(select(Batch.id, Batch.lot_number).where(Batch.production_order_id == production.id))).all()
    )
    rows = (await session.exec(query.order_by(col(DeliveryOrder.rank), col(Shipment.id)))).all()  # type: ignore[call-overload]
    awarded = await get_awarded(session, production.package_id)
    # Group pickup: the courier takes the region's parcels to the point, each still named for its buyer.
    point = awarded.pickup_points.get(production.region)
    return [
        ManifestLine(
            shipment_id=shipment_id,
            order_id=order_id,
            recipient=f"{point['name']} (for {name})" if point else name,
            phone=point["phone"] if point else phone,
            address=point["address"] if point else address,
            region=region,
            sku=production.sku,
            quantity=quantity,
            lot_number=lots.get(batch_of) if batch_of else None,
        )
        for shipment_id, batch_of, quantity, order_id, name, phone, address, region in rows
    ]


# --- exceptions and lateness -----------------------------------------------------------------------------------


async def list_exceptions(
    session: AsyncSession, package_id: UUID | None, open_only: bool, limit: int, offset: int
) -> list[ExceptionPublic]:
    query = select(FulfilmentException)
    if package_id is not None:
        query = query.where(FulfilmentException.package_id == package_id)
    if open_only:
        query = query.where(col(FulfilmentException.handled_at).is_(None))
    query = query.order_by(col(FulfilmentException.raised_at).desc(), col(FulfilmentException.id))
    return [
        ExceptionPublic.model_validate(row) for row in (await session.exec(query.limit(limit).offset(offset))).all()
    ]


async def handle_exception(session: AsyncSession, exception_id: UUID, *, actor: str) -> FulfilmentException:
    """Staff mark an exception handled (again: nothing changes)."""
    found = await session.get(FulfilmentException, exception_id, with_for_update=True)
    if found is None:
        raise NotFound(f"exception {exception_id} not found")
    if found.handled_at is None:
        found.handled_at, found.handled_by = utc_now(), actor
        await session.flush()
    return found


async def sweep_late_production(session: AsyncSession, overdue_before: datetime) -> int:
    """A production order not shipped by its due date is late: staff are shown it once."""
    late = (
        await session.exec(
            select(ProductionOrder)
            .where(
                col(ProductionOrder.status).in_(OPEN_PRODUCTION),
                col(ProductionOrder.due_by) < utc_now(),
                col(ProductionOrder.late_noticed).is_(False),
            )
            .limit(500)
            .with_for_update(skip_locked=True)
        )
    ).all()
    for production in late:
        production.late_noticed = True
        raise_exception(
            session,
            production.package_id,
            ExceptionKind.LATE,
            production.id,
            f"production order for {production.quantity} units in {production.region} was due "
            f"{production.due_by:%Y-%m-%d %H:%M} UTC and is still {production.status}",
        )
    await session.flush()
    return len(late)
