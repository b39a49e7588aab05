"""Delivery: buyers' orders assigned to production (a job), and what a buyer sees of their parcels.

The assignment reads what is open, solves without holding a transaction (it may take seconds), then writes under
the package's lock only if what is open has not changed meanwhile; otherwise it starts again from what is open now.
Open means: units of an order no live piece covers, and units of a production order no live piece takes. So the
same job serves an award (everything open) and a supplier's failure (the moved units open, the backups' room open),
and running it twice assigns nothing twice.
"""

import asyncio
import hashlib
from collections import defaultdict
from uuid import UUID

from sqlalchemy import func, insert
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from flexsupply.contracts.errors import NotFound
from flexsupply.fulfilment.domain.assignment import OrderNeed, Share, assign
from flexsupply.fulfilment.domain.assignment import Piece as Assigned
from flexsupply.fulfilment.domain.states import OPEN_PRODUCTION, ShipmentStatus
from flexsupply.fulfilment.models import (
    AfterSalesCase,
    AwardedPackage,
    BuyerNotice,
    DeliveryOrder,
    ExceptionKind,
    JobStatus,
    Piece,
    ProductionOrder,
    Shipment,
    SupplierFailure,
)
from flexsupply.fulfilment.production import plan_waiting_batches, raise_exception
from flexsupply.fulfilment.schemas import (
    AssignmentPublic,
    BuyerCasePublic,
    BuyerDeliveryPublic,
    NoticePublic,
    ParcelPublic,
)
from flexsupply.kit.db import Database
from flexsupply.kit.i18n import N_

ATTEMPTS = 5
# Marked for the catalogue: stored in English (the API's words), translated when a page shows it (notices.py).
MOVED_NOTICE = N_(
    "{units} of your {quantity} units will now come from another supplier, because the one making them could not "
    "deliver. They arrive as a separate parcel; nothing else changes for you."
)

Open = tuple[tuple[OrderNeed, ...], tuple[Share, ...]]


async def open_units(session: AsyncSession, package_id: UUID) -> Open:
    """What the package still has to assign: orders' uncovered units and production orders' free room."""
    covered = dict(
        (
            await session.exec(
                select(Piece.order_id, func.sum(Piece.quantity))
                .join(DeliveryOrder, col(DeliveryOrder.id) == col(Piece.order_id))
                .where(DeliveryOrder.package_id == package_id, col(Piece.moved_at).is_(None))
                .group_by(col(Piece.order_id))
            )
        ).all()
    )
    orders = (
        await session.exec(
            select(DeliveryOrder.id, DeliveryOrder.region, DeliveryOrder.quantity, DeliveryOrder.rank)
            .where(DeliveryOrder.package_id == package_id)
            .order_by(col(DeliveryOrder.rank))
        )
    ).all()
    needs = tuple(
        OrderNeed(order_id, region, quantity - int(covered.get(order_id, 0)), rank)
        for order_id, region, quantity, rank in orders
        if quantity > int(covered.get(order_id, 0))
    )
    taken = dict(
        (
            await session.exec(
                select(Piece.production_order_id, func.sum(Piece.quantity))
                .join(ProductionOrder, col(ProductionOrder.id) == col(Piece.production_order_id))
                .where(ProductionOrder.package_id == package_id, col(Piece.moved_at).is_(None))
                .group_by(col(Piece.production_order_id))
            )
        ).all()
    )
    productions = (
        await session.exec(
            select(ProductionOrder)
            .where(ProductionOrder.package_id == package_id, col(ProductionOrder.status).in_(OPEN_PRODUCTION))
            .order_by(col(ProductionOrder.created_at), col(ProductionOrder.id))
        )
    ).all()
    shares = tuple(
        Share(production.id, production.region, room)
        for production in productions
        if (room := production.quantity - production.failed_units - int(taken.get(production.id, 0))) > 0
    )
    return needs, shares


def balanced(needs: tuple[OrderNeed, ...], shares: tuple[Share, ...]) -> tuple[set[str], dict[str, str]]:
    """Regions whose open order units and open production room agree, and for each that does not, why."""
    wanted: dict[str, int] = defaultdict(int)
    room: dict[str, int] = defaultdict(int)
    for need in needs:
        wanted[need.region] += need.quantity
    for share in shares:
        room[share.region] += share.quantity
    good = {region for region in wanted.keys() | room.keys() if wanted[region] == room[region]}
    problems = {
        region: f"{region}: {wanted[region]} ordered units wait for production, production has room for {room[region]}"
        for region in sorted(wanted.keys() | room.keys())
        if region not in good and wanted[region] > 0
    }
    return good, problems


async def regions_taken_over(session: AsyncSession, package_id: UUID) -> set[str]:
    """Regions with a failure whose take-over is still queued: their open units wait for its backups."""
    query = (
        select(ProductionOrder.region)
        .join(SupplierFailure, col(SupplierFailure.production_order_id) == col(ProductionOrder.id))
        .where(SupplierFailure.package_id == package_id, SupplierFailure.status == JobStatus.QUEUED)
    )
    return set((await session.exec(query)).all())


async def assign_open_units(database: Database, package_id: UUID) -> AssignmentPublic:
    """The job: assign every open unit of the package that can be (DeliveryAssignmentDue, or after a failure)."""
    for _ in range(ATTEMPTS):
        async with database.transaction() as session:
            await _awarded(session, package_id)
            needs, shares = await open_units(session, package_id)
            waiting = await regions_taken_over(session, package_id)
        good, problems = balanced(needs, shares)
        solvable_needs = [need for need in needs if need.region in good]
        solvable_shares = [share for share in shares if share.region in good]
        pieces = await asyncio.to_thread(assign, solvable_needs, solvable_shares) if solvable_needs else []
        async with database.transaction() as session:
            awarded = await _awarded(session, package_id, lock=True)
            if await open_units(session, package_id) != (needs, shares):
                continue  # a failure or another run changed what is open: solve again
            unexplained = [problem for region, problem in problems.items() if region not in waiting]
            await _write(session, awarded, pieces, unexplained)
        async with database.transaction() as session:
            return await assignment_view(session, package_id)
    raise RuntimeError(f"package {package_id}'s open units kept changing during {ATTEMPTS} assignments")


async def _write(session: AsyncSession, awarded: AwardedPackage, pieces: list[Assigned], problems: list[str]) -> None:
    if pieces:
        # In production order id order, like every lock on those rows (a piece's foreign key takes a share lock).
        ordered = sorted(pieces, key=lambda p: (str(p.production_order_id), str(p.order_id)))
        await session.exec(
            insert(Piece),  # type: ignore[call-overload]
            params=[
                {"order_id": p.order_id, "production_order_id": p.production_order_id, "quantity": p.quantity}
                for p in ordered
            ],
        )
        await _tell_moved_buyers(session, pieces)
    if problems:
        note = ("some orders wait for production: " + "; ".join(problems))[:1000]
        if (awarded.assignment_status, awarded.assignment_note) != (JobStatus.FAILED, note):  # told once
            raise_exception(session, awarded.package_id, ExceptionKind.ASSIGNMENT, None, note)
        awarded.assignment_status, awarded.assignment_note = JobStatus.FAILED, note
    else:
        awarded.assignment_status, awarded.assignment_note = JobStatus.DONE, None
    await session.flush()
    await plan_waiting_batches(session, awarded.package_id)


async def _tell_moved_buyers(session: AsyncSession, pieces: list[Assigned]) -> None:
    """Orders that had units moved away from a failed supplier hear where they now come from."""
    order_ids = {piece.order_id for piece in pieces}
    moved = set(
        (
            await session.exec(
                select(Piece.order_id).where(col(Piece.order_id).in_(order_ids), col(Piece.moved_at).is_not(None))
            )
        ).all()
    )
    if not moved:
        return
    units: dict[UUID, int] = defaultdict(int)
    for piece in pieces:
        if piece.order_id in moved:
            units[piece.order_id] += piece.quantity
    quantities = dict(
        (
            await session.exec(select(DeliveryOrder.id, DeliveryOrder.quantity).where(col(DeliveryOrder.id).in_(moved)))
        ).all()
    )
    for order_id, count in units.items():
        session.add(
            BuyerNotice(order_id=order_id, message=MOVED_NOTICE.format(units=count, quantity=quantities[order_id]))
        )


async def _awarded(session: AsyncSession, package_id: UUID, *, lock: bool = False) -> AwardedPackage:
    awarded = await session.get(AwardedPackage, package_id, with_for_update=lock)
    if awarded is None:
        raise NotFound(f"no awarded package {package_id} has reached fulfilment")
    return awarded


async def assignment_view(session: AsyncSession, package_id: UUID) -> AssignmentPublic:
    awarded = await _awarded(session, package_id)
    order_count = (await session.exec(select(func.count()).where(DeliveryOrder.package_id == package_id))).one()
    per_order = (
        select(Piece.order_id)
        .join(DeliveryOrder, col(DeliveryOrder.id) == col(Piece.order_id))
        .where(DeliveryOrder.package_id == package_id, col(Piece.moved_at).is_(None))
        .group_by(col(Piece.order_id))
        .having(func.count() > 1)
        .subquery()
    )
    split = (await session.exec(select(func.count()).select_from(per_order))).one()
    return AssignmentPublic(
        package_id=package_id,
        status=awarded.assignment_status,
        note=awarded.assignment_note,
        order_count=int(order_count),
        split_orders=int(split),
    )


# --- the buyer's view ------------------------------------------------------------------------------------------


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def order_by_token(session: AsyncSession, token: str) -> DeliveryOrder:
    order = (await session.exec(select(DeliveryOrder).where(DeliveryOrder.token_sha256 == token_hash(token)))).first()
    if order is None:
        raise NotFound("no order with this link is being delivered yet")
    return order


async def buyer_view(session: AsyncSession, token: str) -> BuyerDeliveryPublic:
    """The buyer's order: each parcel and its state, what they were told, their after-sales cases."""
    order = await order_by_token(session, token)
    awarded = await _awarded(session, order.package_id)
    parcels = (
        await session.exec(
            select(Shipment)
            .where(Shipment.order_id == order.id, Shipment.status != ShipmentStatus.CANCELLED)
            .order_by(col(Shipment.created_at), col(Shipment.id))
        )
    ).all()
    notices = (
        await session.exec(select(BuyerNotice).where(BuyerNotice.order_id == order.id).order_by(col(BuyerNotice.at)))
    ).all()
    cases = (
        await session.exec(
            select(AfterSalesCase).where(AfterSalesCase.order_id == order.id).order_by(col(AfterSalesCase.opened_at))
        )
    ).all()
    return BuyerDeliveryPublic(
        order_id=order.id,
        package_id=order.package_id,
        sku=awarded.sku,
        needed_by=awarded.needed_by,
        currency=awarded.currency,
        region=order.region,
        quantity=order.quantity,
        pickup_point=awarded.pickup_points.get(order.region),
        parcels=[
            ParcelPublic(
                shipment_id=parcel.id,
                quantity=parcel.quantity,
                status=parcel.status,
                carrier=parcel.carrier,
                tracking_number=parcel.tracking_number,
                shipped_at=parcel.shipped_at,
                delivered_at=parcel.delivered_at,
            )
            for parcel in parcels
        ],
        notices=[NoticePublic(message=notice.message, at=notice.at) for notice in notices],
        cases=[BuyerCasePublic.model_validate(case) for case in cases],
    )
