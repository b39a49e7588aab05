"""A supplier fails: its unshipped remainder goes to the package's backups, and the buyers' orders follow.

Marking a production order failed (staff, or the supplier itself) happens at once, under the package's lock and
then the production order's: what is shipped stays shipped (it keeps its pieces), parcels not yet handed to a
carrier are cancelled, the pieces beyond what shipped end, and a take-over job is queued. The job re-matches with
the engine (domain.takeover), issues the backups' production orders, then assigns the open units like any
assignment (delivery.assign_open_units), whose buyers are told. A failure is marked once: a second is a 409; a
redelivered job finds its production orders issued and only finishes what is left.
"""

import asyncio
from collections.abc import Sequence
from datetime import datetime
from uuid import UUID

from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from flexsupply.allocation import NoPlanInTime, Problem
from flexsupply.contracts.errors import NotFound
from flexsupply.contracts.events import DeliveryAssignmentDue, ReservesShort, ReserveUsed, SupplierFailureDue
from flexsupply.fulfilment import cases, delivery
from flexsupply.fulfilment.domain.states import (
    HANDED_OVER,
    OPEN_PRODUCTION,
    InvalidMove,
    ProductionStatus,
    ProductionStep,
    ShipmentStatus,
    ShipmentStep,
    next_production_status,
    next_shipment_status,
)
from flexsupply.fulfilment.domain.takeover import Making, NoTakeover, Takeover, plan_takeover
from flexsupply.fulfilment.models import (
    AwardedPackage,
    BuyerNotice,
    ExceptionKind,
    FulfilmentException,
    JobStatus,
    OutboxMessage,
    Piece,
    ProductionOrder,
    Shipment,
    SupplierFailure,
)
from flexsupply.fulfilment.production import (
    JOB_LEASE,
    PRODUCTION_FAILED,
    get_awarded,
    issue_production_order,
    own_production_order,
    raise_exception,
    record_move,
    record_outcome,
    tell_supplier,
)
from flexsupply.fulfilment.schemas import ProductionOrderPublic, SupplierFailurePublic
from flexsupply.kit import outbox
from flexsupply.kit.clock import utc_now
from flexsupply.kit.db import Database
from flexsupply.kit.i18n import N_

TAKEOVER_SECONDS = 5.0
WAITING_NOTICE = N_(  # stored in English, translated when shown (notices.py)
    "The supplier making {units} of your units cannot deliver them, and no backup could take them over at once. "
    "We are finding another way and will tell you here; if none is found, you are refunded."
)


async def mark_failed(
    session: AsyncSession, production_order_id: UUID, *, actor: str, reason: str, supplier_id: UUID | None = None
) -> SupplierFailure:
    """The production order will not make its unshipped remainder; backups take it over (a job). A supplier
    marks only its own; a production order fails once (409 after that), and one with everything shipped cannot."""
    production = await own_production_order(session, production_order_id, supplier_id)
    await get_awarded(session, production.package_id, lock=True)
    await session.refresh(production, with_for_update=True)
    if production.status not in OPEN_PRODUCTION:
        raise InvalidMove(f"a {production.status} production order cannot fail")
    shipped = dict(
        (
            await session.exec(
                select(Shipment.order_id, func.sum(Shipment.quantity))
                .where(
                    Shipment.production_order_id == production.id,
                    col(Shipment.status).in_(HANDED_OVER),
                    col(Shipment.case_id).is_(None),
                )
                .group_by(col(Shipment.order_id))
            )
        ).all()
    )
    remainder = production.quantity - sum(int(units) for units in shipped.values())
    if remainder <= 0:
        raise InvalidMove("every unit of this production order has shipped: there is nothing left to fail")
    now = utc_now()
    for parcel in (
        await session.exec(
            select(Shipment)
            .where(Shipment.production_order_id == production.id, Shipment.status == ShipmentStatus.PLANNED)
            .with_for_update()
        )
    ).all():
        status = next_shipment_status(parcel.status, ShipmentStep.CANCEL)
        record_move(session, "shipment", parcel.id, ShipmentStep.CANCEL, parcel.status, status, actor, reason)
        parcel.status = status
        if parcel.case_id is not None:
            await cases.reopen_for_failure(session, parcel.case_id, actor)
    for piece in (
        await session.exec(
            select(Piece).where(Piece.production_order_id == production.id, col(Piece.moved_at).is_(None))
        )
    ).all():
        kept = min(piece.quantity, int(shipped.get(piece.order_id, 0)))
        shipped[piece.order_id] = int(shipped.get(piece.order_id, 0)) - kept
        if kept < piece.quantity:
            piece.moved_at = now
            if kept:
                session.add(Piece(order_id=piece.order_id, production_order_id=production.id, quantity=kept))
    status = next_production_status(production.status, ProductionStep.FAIL)
    note = f"{remainder} of {production.quantity} units to backups: {reason}"
    record_move(session, "production_order", production.id, ProductionStep.FAIL, production.status, status, actor, note)
    production.status, production.failed_units, production.updated_at = status, remainder, now
    failure = SupplierFailure(
        package_id=production.package_id,
        production_order_id=production.id,
        supplier_id=production.supplier_id,
        units=remainder,
        reason=reason[:1000],
        reported_by=actor,
        job_due_at=now + JOB_LEASE,
    )
    session.add(failure)
    raise_exception(
        session,
        production.package_id,
        ExceptionKind.SUPPLIER_FAILED,
        production.id,
        f"supplier {production.supplier_id} will not make {remainder} units for {production.region}: {reason}",
    )
    record_outcome(session, production.supplier_id, "failed_to_deliver", remainder, production.id)
    tell_supplier(
        session,
        production.supplier_id,
        PRODUCTION_FAILED,
        production.id,
        ProductionOrderPublic.model_validate(production),
    )
    outbox.publish(session, OutboxMessage, SupplierFailureDue(failure_id=failure.id))
    await session.flush()
    return failure


async def get_failure(session: AsyncSession, failure_id: UUID, supplier_id: UUID | None = None) -> SupplierFailure:
    failure = await session.get(SupplierFailure, failure_id)
    if failure is None or (supplier_id is not None and failure.supplier_id != supplier_id):
        raise NotFound(f"failure {failure_id} not found")
    return failure


async def list_failures(
    session: AsyncSession, package_id: UUID | None, limit: int, offset: int
) -> list[SupplierFailurePublic]:
    query = select(SupplierFailure)
    if package_id is not None:
        query = query.where(SupplierFailure.package_id == package_id)
    query = query.order_by(col(SupplierFailure.created_at).desc(), col(SupplierFailure.id)).limit(limit).offset(offset)
    return [SupplierFailurePublic.model_validate(row) for row in (await session.exec(query)).all()]


async def take_over(database: Database, failure_id: UUID) -> None:
    """The job (SupplierFailureDue): backups' production orders, then the buyers' orders moved to them."""
    async with database.transaction() as session:
        failure = await session.get(SupplierFailure, failure_id)
        if failure is None or failure.status is not JobStatus.QUEUED:
            return
        package_id = failure.package_id
        issued = (await session.exec(select(func.count()).where(ProductionOrder.failure_id == failure_id))).one()
    if not issued:
        try:
            await _issue_backups(database, failure_id)
        except (NoTakeover, NoPlanInTime) as error:
            await _finish(database, failure_id, JobStatus.FAILED, f"no backup could take the units over: {error}")
            return
    await delivery.assign_open_units(database, package_id)
    async with database.transaction() as session:
        failure = await get_failure(session, failure_id)
        region = (await session.get(ProductionOrder, failure.production_order_id)).region  # type: ignore[union-attr]
        needs, _ = await delivery.open_units(session, package_id)
        waiting = sum(need.quantity for need in needs if need.region == region)
        # Units of the region may still wait for another failure's take-over, not for this one's backups.
        others = await _other_queued_failures(session, failure, region)
    if waiting and not others:
        await _finish(database, failure_id, JobStatus.FAILED, f"{waiting} units for {region} wait for production")
    else:
        await _finish(database, failure_id, JobStatus.DONE, None)


async def _other_queued_failures(session: AsyncSession, failure: SupplierFailure, region: str) -> int:
    query = (
        select(func.count())
        .select_from(SupplierFailure)
        .join(ProductionOrder, col(ProductionOrder.id) == col(SupplierFailure.production_order_id))
        .where(
            SupplierFailure.package_id == failure.package_id,
            SupplierFailure.status == JobStatus.QUEUED,
            SupplierFailure.id != failure.id,
            ProductionOrder.region == region,
        )
    )
    return int((await session.exec(query)).one())


async def retry(session: AsyncSession, failure_id: UUID, *, actor: str) -> SupplierFailure:
    """Staff try a take-over again that found no backup (after adding reserve with matching, say): 409 unless it
    failed."""
    failure = await session.get(SupplierFailure, failure_id, with_for_update=True)
    if failure is None:
        raise NotFound(f"failure {failure_id} not found")
    if failure.status is not JobStatus.FAILED:
        raise InvalidMove(f"a {failure.status} take-over cannot be tried again")
    failure.status, failure.finished_at, failure.job_due_at = JobStatus.QUEUED, None, utc_now() + JOB_LEASE
    record_move(session, "failure", failure.id, "retry", JobStatus.FAILED, JobStatus.QUEUED, actor)
    outbox.publish(session, OutboxMessage, SupplierFailureDue(failure_id=failure.id))
    await session.flush()
    return failure


async def _issue_backups(database: Database, failure_id: UUID) -> None:
    """Re-match off the loop, then issue the backups' production orders if the package is still as it was."""
    for _ in range(3):
        async with database.transaction() as session:
            failure = await get_failure(session, failure_id)
            awarded = await get_awarded(session, failure.package_id)
            making = await _making(session, failure)
        if awarded.rematch_problem is None:
            raise NoTakeover("matching sent no re-match problem with this package's award")
        problem = Problem.model_validate(awarded.rematch_problem)
        reserves: dict[str, int] = {}
        for reserve in awarded.reserves:
            reserves[reserve["offer_id"]] = reserves.get(reserve["offer_id"], 0) + reserve["quantity"]
        takeovers = await asyncio.to_thread(
            plan_takeover, problem, str(failure.package_id), making, reserves, TAKEOVER_SECONDS
        )
        async with database.transaction() as session:
            awarded = await get_awarded(session, failure.package_id, lock=True)
            failure = await get_failure(session, failure_id)
            await session.refresh(failure)  # as it is now that the package is ours
            issued = (await session.exec(select(func.count()).where(ProductionOrder.failure_id == failure.id))).one()
            if failure.status is not JobStatus.QUEUED or issued:
                return  # another delivery of this job got here first
            if await _making(session, failure) != making:
                continue  # another failure meanwhile: re-match from what is made now
            issue_takeovers(session, awarded, failure, takeovers)
        return
    raise RuntimeError(f"failure {failure_id}: the package kept changing during the take-over")


def issue_takeovers(
    session: AsyncSession, awarded: AwardedPackage, failure: SupplierFailure, takeovers: Sequence[Takeover]
) -> None:
    """The backups' production orders for a failure's units; matching hears what each used of its reserve."""
    for takeover in takeovers:
        production = ProductionOrder(
            package_id=awarded.package_id,
            supplier_id=takeover.supplier_id,
            offer_id=takeover.offer_id,
            sku=awarded.sku,
            region=takeover.region,
            quantity=takeover.quantity,
            unit_cents=takeover.unit_cents,
            shipping_cents=takeover.shipping_cents,
            currency=awarded.currency,
            due_by=awarded.needed_by,
            failure_id=failure.id,
        )
        issue_production_order(session, production, actor="fulfilment:backup", note=f"backup for failure {failure.id}")
        used = ReserveUsed(
            takeover_id=production.id,
            package_id=awarded.package_id,
            supplier_id=takeover.supplier_id,
            offer_id=takeover.offer_id,
            units=takeover.quantity,
            failed_supplier_id=failure.supplier_id,
        )
        outbox.publish(session, OutboxMessage, used)
    if takeovers:
        failure.outcome = "; ".join(
            f"{t.quantity} units for {t.region} to supplier {t.supplier_id}" for t in takeovers
        )[:2000]


async def record_reserves_short(session: AsyncSession, event: ReservesShort) -> None:
    """Matching says the reserves left no longer cover 1+N: staff see it among the package's exceptions, once."""
    seen = (
        await session.exec(
            select(func.count()).where(
                FulfilmentException.package_id == event.package_id,
                FulfilmentException.kind == ExceptionKind.RESERVE_SHORT,
                FulfilmentException.message == event.message[:1000],
            )
        )
    ).one()
    if not seen:
        raise_exception(session, event.package_id, ExceptionKind.RESERVE_SHORT, None, event.message)


async def _making(session: AsyncSession, failure: SupplierFailure) -> list[Making]:
    return [making for _, making in await making_of(session, failure.package_id, failure.id)]


async def making_of(session: AsyncSession, package_id: UUID, failure_id: UUID | None) -> list[tuple[UUID, Making]]:
    """What each production order of the package makes now, from failure `failure_id`'s point of view: the units of
    other failures that no backup took are theirs to place (or to wait), so they are held out."""
    productions = (
        await session.exec(
            select(ProductionOrder)
            .where(ProductionOrder.package_id == package_id)
            .order_by(col(ProductionOrder.created_at), col(ProductionOrder.id))
        )
    ).all()
    failures = {
        row.production_order_id: row.id
        for row in (await session.exec(select(SupplierFailure).where(SupplierFailure.package_id == package_id)))
    }
    taken = {production.failure_id for production in productions if production.failure_id is not None}
    return [
        (
            production.id,
            Making(
                supplier_id=production.supplier_id,
                offer_id=production.offer_id,
                region=production.region,
                units=production.quantity - production.failed_units,
                failed=production.status is ProductionStatus.FAILED,
                held_out=production.failed_units
                if failures.get(production.id) not in (None, failure_id) and failures[production.id] not in taken
                else 0,
            ),
        )
        for production in productions
    ]


async def _finish(database: Database, failure_id: UUID, status: JobStatus, problem: str | None) -> None:
    async with database.transaction() as session:
        failure = await session.get(SupplierFailure, failure_id, with_for_update=True)
        if failure is None or failure.status is not JobStatus.QUEUED:
            return
        failure.status, failure.finished_at = status, utc_now()
        if problem:
            failure.outcome = "; ".join(filter(None, [failure.outcome, problem]))[:2000]
            raise_exception(session, failure.package_id, ExceptionKind.NO_BACKUP, failure.production_order_id, problem)
            await _tell_waiting_buyers(session, failure)


async def _tell_waiting_buyers(session: AsyncSession, failure: SupplierFailure) -> None:
    """No backup could take the units: their buyers hear it now, not when a way is found."""
    region = (await session.get(ProductionOrder, failure.production_order_id)).region  # type: ignore[union-attr]
    needs, _ = await delivery.open_units(session, failure.package_id)
    for need in needs:
        if need.region == region:
            session.add(BuyerNotice(order_id=need.order_id, message=WAITING_NOTICE.format(units=need.quantity)))


async def sweep_stalled_jobs(session: AsyncSession, overdue_before: datetime) -> int:
    """Send again each queued assignment or take-over not finished in its lease: its message may have been lost
    (a worker killed mid-job, an in-process queue at a restart). Running one twice changes nothing."""
    now = utc_now()
    failures = (
        await session.exec(
            select(SupplierFailure)
            .where(SupplierFailure.status == JobStatus.QUEUED, col(SupplierFailure.job_due_at) < overdue_before)
            .with_for_update(skip_locked=True)  # a job holding it is running: it is not stalled
        )
    ).all()
    for failure in failures:
        failure.job_due_at = now + JOB_LEASE
        outbox.publish(session, OutboxMessage, SupplierFailureDue(failure_id=failure.id))
    assignments = (
        await session.exec(
            select(AwardedPackage)
            .where(
                AwardedPackage.assignment_status == JobStatus.QUEUED, col(AwardedPackage.job_due_at) < overdue_before
            )
            .with_for_update(skip_locked=True)
        )
    ).all()
    for awarded in assignments:
        awarded.job_due_at = now + JOB_LEASE
        outbox.publish(session, OutboxMessage, DeliveryAssignmentDue(package_id=awarded.package_id))
    return len(failures) + len(assignments)
