"""Awards: a package's firm quantities, its award run, the awards and reservations issued from the run's plan, the
suppliers' answers, re-matches without a supplier that declined or stayed silent, and the package awarded once every
award is accepted.

Every change to a package's awards holds the package's row lock first (then the award's), so answers, deadlines and
recorded runs of one package happen one at a time. At most one award or re-match run of a package is queued or
running: a decline meanwhile is left to it, and its plan is checked against every decline when it is recorded.
Suppliers hear of their awards through the suppliers service (SupplierNotice: one signed webhook per notice id);
every event goes through the outbox in the transaction that makes it true.
"""

import hashlib
from collections import defaultdict
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from uuid import UUID

import sqlalchemy as sa
from sqlmodel import SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from flexsupply.allocation import Plan, Problem
from flexsupply.contracts.errors import NotFound
from flexsupply.contracts.events import (
    AwardAnswerDue,
    AwardedAllocation,
    AwardedReserve,
    ConfirmedOrder,
    PackageAwarded,
    SupplierNotice,
)
from flexsupply.kit import outbox
from flexsupply.kit.clock import utc_now
from flexsupply.matching import runs, services
from flexsupply.matching.domain.award import (
    LIVE,
    AwardConflict,
    AwardStatus,
    ReservationStatus,
    answer,
    beyond_accepted,
    check_firm_quantities,
    covers,
    declined_reason,
    excluded_suppliers,
    fixed_allocations,
    is_overdue,
    keeps_accepted,
    silence_reason,
)
from flexsupply.matching.domain.package import InvalidTransition, PackageStatus, PackageStep
from flexsupply.matching.domain.planning import OfferAward, package_awards, rematch_problem
from flexsupply.matching.domain.sale import OrderStatus
from flexsupply.matching.models import (
    Award,
    DemandPackage,
    MatchRun,
    OutboxMessage,
    Reservation,
    RunKind,
    RunStatus,
    Sale,
    SaleOrder,
)
from flexsupply.matching.schemas import (
    AwardPublic,
    AwardRunPublic,
    FirmQuantitiesPublic,
    PackageAwardsPublic,
    ReservationPublic,
)
from flexsupply.matching.settings import MatchingSettings

AWARD_RUNS = (RunKind.AWARD, RunKind.REMATCH)
PENDING_RUNS = (RunStatus.QUEUED, RunStatus.RUNNING)
# What suppliers are told (SupplierNotice.event_type: the webhook's type).
AWARD_OFFERED, AWARD_WITHDRAWN = "award.offered", "award.withdrawn"
RESERVATION_HELD, RESERVATION_RELEASED = "reservation.held", "reservation.released"


# --- firm quantities and the award run -------------------------------------------------------------------------


async def set_firm_quantities(
    session: AsyncSession, package_id: UUID, community_id: UUID | None, quantities: Mapping[str, int], actor: str
) -> FirmQuantitiesPublic:
    """What was sold per region, until awarding starts. A planned package's sale ran outside flexsupply: entering
    them closes it (the firm_up step)."""
    package = await services.get_package(session, package_id, community_id, lock=True)
    if package.status not in {PackageStatus.PLANNED, PackageStatus.CLOSED}:
        raise InvalidTransition(
            f"a {package.status} package cannot take firm quantities: only a planned or closed one can"
        )
    sale = await session.get(Sale, package.id)
    if sale is not None and sale.went_ahead:
        # Its paid orders are what was sold: fulfilment delivers them, so the quantities cannot differ from them.
        raise AwardConflict(
            f"package {package.id} was sold through flexsupply: its firm quantities are its paid orders"
        )
    awards = await _awards_of(session, package.id)
    if any(award.status in LIVE for award in awards):
        raise AwardConflict(f"package {package.id} has awards out: its firm quantities are what they were made for")
    await _check_no_pending_run(session, package)
    caps = (await runs.current_plan(session, package)).sale_caps
    firm = check_firm_quantities(quantities, caps)
    package.firm_quantities, package.updated_at = firm, utc_now()
    if package.status is PackageStatus.PLANNED:
        sold = ", ".join(f"{units} in {region}" for region, units in firm.items())
        reason = f"sold outside flexsupply: {sold}"[:1000]
        await services.move_package(session, package, PackageStep.FIRM_UP, actor, reason=reason)
    await session.flush()
    return FirmQuantitiesPublic(package_id=package.id, status=package.status, firm_quantities=firm, sale_caps=caps)


async def request_award(
    session: AsyncSession,
    package_id: UUID,
    community_id: UUID | None,
    actor: str,
    time_limit_seconds: float,
    answer_within_hours: int,
) -> MatchRun:
    """Match the firm quantities again, keeping the planned suppliers where possible; the run's plan becomes the
    awards. Asked again after a re-match found no plan, it keeps the accepted awards and leaves out the suppliers
    that declined, as a re-match does."""
    package = await services.get_package(session, package_id, community_id, lock=True)
    if package.status is not PackageStatus.CLOSED:
        raise AwardConflict(f"a {package.status} package cannot be awarded: only a closed one can")
    if not package.firm_quantities:
        raise AwardConflict(f"package {package.id} has no firm quantities: set what was sold first")
    await _check_no_pending_run(session, package)
    awards = await _awards_of(session, package.id)
    if any(award.status is AwardStatus.OFFERED for award in awards):
        raise AwardConflict(f"awards of package {package.id} are waiting for their suppliers' answers")
    return await _request(
        session,
        package,
        awards,
        RunKind.AWARD,
        actor=actor,
        reason="award the firm quantities",
        time_limit_seconds=time_limit_seconds,
        answer_within_hours=answer_within_hours,
    )


async def _request(
    session: AsyncSession,
    package: DemandPackage,
    awards: Sequence[Award],
    kind: RunKind,
    *,
    actor: str,
    reason: str,
    time_limit_seconds: float,
    answer_within_hours: int,
) -> MatchRun:
    """An award or re-match run from the current plan: without every supplier that refused an award of the
    package, with the accepted awards' allocations fixed."""
    if package.round_id is None or package.plan_run_id is None:
        raise AwardConflict(f"package {package.id} has no plan to award from")
    accepted = [line for award in awards if award.status is AwardStatus.ACCEPTED for line in _lines(award)]
    run = await runs.request_run(
        session,
        round_id=package.round_id,
        kind=kind,
        actor=actor,
        reason=reason[:1000],
        time_limit_seconds=time_limit_seconds,
        package_ids=[package.id],
        firm_quantities={str(package.id): dict(package.firm_quantities or {})},
        previous_run_id=package.plan_run_id,
        excluded_supplier_ids=sorted(str(supplier) for supplier in _excluded(awards)),
        fixed_allocations=fixed_allocations(package.id, accepted),
    )
    run.answer_within_hours = answer_within_hours
    return run


async def _rematch(session: AsyncSession, package: DemandPackage, actor: str, reason: str) -> MatchRun | None:
    """After a decline or silence: re-match from the run that made the current awards, keeping its time limit and
    answer window. None while another run is queued or running (its plan is checked when it is recorded), or when
    the package is no longer waiting for awards."""
    if package.status is not PackageStatus.CLOSED or await _pending_run(session, package) is not None:
        return None
    previous = await session.get(MatchRun, package.plan_run_id) if package.plan_run_id else None
    if previous is None:
        return None
    return await _request(
        session,
        package,
        await _awards_of(session, package.id),
        RunKind.REMATCH,
        actor=actor,
        reason=reason,
        time_limit_seconds=previous.time_limit_seconds,
        answer_within_hours=_answer_hours(previous),
    )


async def _pending_run(session: AsyncSession, package: DemandPackage) -> MatchRun | None:
    query = select(MatchRun).where(
        MatchRun.round_id == package.round_id,
        col(MatchRun.kind).in_(AWARD_RUNS),
        col(MatchRun.status).in_(PENDING_RUNS),
    )
    return next((run for run in (await session.exec(query)).all() if str(package.id) in run.package_ids), None)


async def _check_no_pending_run(session: AsyncSession, package: DemandPackage) -> None:
    pending = await _pending_run(session, package)
    if pending is not None:
        raise AwardConflict(f"{pending.kind} run {pending.id} of package {package.id} is {pending.status}: wait for it")


def _excluded(awards: Sequence[Award]) -> set[UUID]:
    return excluded_suppliers((award.supplier_id, award.status) for award in awards)


def _answer_hours(run: MatchRun) -> int:
    return run.answer_within_hours if run.answer_within_hours is not None else MatchingSettings().award_answer_hours


# --- issuing a recorded plan -----------------------------------------------------------------------------------


async def issue(session: AsyncSession, run: MatchRun, problem: Problem, plan: Plan) -> None:
    """runs.record_result's hook for an award or re-match run recorded with a plan, so once per run: make the plan's
    awards and reservations the package's, changing only what differs from the current ones."""
    for package_id in run.package_ids:
        package = await session.get(DemandPackage, UUID(package_id))  # locked by record_result
        if package is not None and package.status is PackageStatus.CLOSED:
            await _issue_package(session, run, package, problem, plan)


async def _issue_package(
    session: AsyncSession, run: MatchRun, package: DemandPackage, problem: Problem, plan: Plan
) -> None:
    actor = f"match-run:{run.id}"
    awards = await _awards_of(session, package.id)
    accepted: dict[UUID, list[OfferAward]] = defaultdict(list)
    for award in awards:
        if award.status is AwardStatus.ACCEPTED:
            accepted[award.supplier_id].extend(_lines(award))
    wanted = package_awards(problem, plan, package.id)

    # Answers that came while the run was solving: a supplier that refused since, or an award accepted since that
    # the plan moved. The plan is not issued; another re-match starts from the current awards.
    late = sorted(_excluded(awards) & wanted.keys(), key=str)
    if late or not keeps_accepted(plan, package.id, [line for lines in accepted.values() for line in lines]):
        why = (
            f"supplier {', '.join(map(str, late))} refused its award while the run was solving"
            if late
            else "it moves an award accepted while the run was solving"
        )
        package.plan_run_id = run.previous_run_id  # the awards still come from that run's plan
        again = await _rematch(session, package, actor, f"run {run.id} was not issued: {why}")
        after = f"; re-matching in run {again.id}" if again else ""
        run.explanation = [*run.explanation, f"Not issued: {why}{after}."]
        return

    answer_by = utc_now() + timedelta(hours=_answer_hours(run))
    live = [award for award in awards if award.status in LIVE]
    held = await _held_reservations(session, package.id)
    for supplier_id in sorted({*wanted, *(a.supplier_id for a in live), *(r.supplier_id for r in held)}, key=str):
        want = wanted.get(supplier_id)
        production = beyond_accepted(want.offers if want else (), accepted[supplier_id])
        lines = [line.model_dump(mode="json") for line in production]
        offered = [a for a in live if a.supplier_id == supplier_id and a.status is AwardStatus.OFFERED]
        kept = next((award for award in offered if award.lines == lines), None)
        for award in offered:
            if award is not kept:
                award.status, award.reason = AwardStatus.WITHDRAWN, f"re-matched in run {run.id}: {run.reason}"[:500]
                _tell(session, award.supplier_id, AWARD_WITHDRAWN, award.id, award_public(award))
        if lines and kept is None:
            _offer(session, run, package, supplier_id, production, answer_by)

        reserve_lines = [reserve.model_dump(mode="json") for reserve in want.reservations] if want else []
        holding = [reservation for reservation in held if reservation.supplier_id == supplier_id]
        kept_reservation = next((r for r in holding if r.lines == reserve_lines), None)
        for reservation in holding:
            if reservation is not kept_reservation:
                reservation.status = ReservationStatus.RELEASED
                _tell(
                    session,
                    supplier_id,
                    RESERVATION_RELEASED,
                    reservation.id,
                    ReservationPublic.model_validate(reservation),
                )
        if reserve_lines and kept_reservation is None:
            reservation = Reservation(
                package_id=package.id,
                run_id=run.id,
                supplier_id=supplier_id,
                lines=reserve_lines,
                total_cents=sum(line["total_cents"] for line in reserve_lines),
            )
            session.add(reservation)
            _tell(session, supplier_id, RESERVATION_HELD, reservation.id, ReservationPublic.model_validate(reservation))
    await session.flush()
    await _award_if_all_accepted(session, package, actor)


def _offer(
    session: AsyncSession,
    run: MatchRun,
    package: DemandPackage,
    supplier_id: UUID,
    production: Sequence[OfferAward],
    answer_by: datetime,
) -> None:
    award = Award(
        package_id=package.id,
        run_id=run.id,
        supplier_id=supplier_id,
        lines=[line.model_dump(mode="json") for line in production],
        total_cents=sum(line.total_cents for line in production),
        currency=package.currency,
        due_by=package.needed_by,
        answer_by=answer_by,
        status=AwardStatus.OFFERED,
    )
    session.add(award)
    _tell(session, supplier_id, AWARD_OFFERED, award.id, award_public(award))
    # Silence counts as a decline: the deadline is a row in the outbox, so it survives a restart.
    outbox.publish(session, OutboxMessage, AwardAnswerDue(award_id=award.id), not_before=answer_by)


def _tell(session: AsyncSession, supplier_id: UUID, event_type: str, subject_id: UUID, data: SQLModel) -> None:
    outbox.publish(session, OutboxMessage, SupplierNotice.about(subject_id, supplier_id, event_type, data))


# --- the suppliers' answers ------------------------------------------------------------------------------------


async def answer_award(
    session: AsyncSession, award_id: UUID, supplier_id: UUID, *, accept: bool, reason: str | None = None
) -> AwardPublic:
    """Accept or decline an offered award before its deadline (409 otherwise, nothing changed). A decline
    re-matches the package without the supplier; the last acceptance awards the package."""
    award = await _own_award(session, award_id, supplier_id)
    package = await services.get_package(session, award.package_id, lock=True)
    await session.refresh(award, with_for_update=True)  # as it is now that the package is ours
    now = utc_now()
    status = answer(award.status, award.answer_by, now, accept=accept)
    if package.status is not PackageStatus.CLOSED:
        raise AwardConflict(f"package {package.id} is {package.status}: its awards can no longer be answered")
    award.status, award.answered_at, award.reason = status, now, reason
    actor = f"supplier:{supplier_id}"
    if accept:
        await _award_if_all_accepted(session, package, actor)
    else:
        await _rematch(session, package, actor, declined_reason(supplier_id, reason or ""))
    await session.flush()
    return award_public(award)


async def expire_award(session: AsyncSession, award_id: UUID, now: datetime) -> bool:
    """The answer deadline came (AwardAnswerDue): an award still offered expires, which counts as a decline. An
    answered or withdrawn one is left as it is. Returns whether it expired."""
    award = await session.get(Award, award_id)
    if award is None or award.status is not AwardStatus.OFFERED:
        return False
    package = await services.get_package(session, award.package_id, lock=True)
    await session.refresh(award, with_for_update=True)
    if award.status is not AwardStatus.OFFERED:
        return False
    if not is_overdue(award.status, award.answer_by, now):
        # Sent early (the relay's clock ahead of ours): look again at the deadline.
        outbox.publish(session, OutboxMessage, AwardAnswerDue(award_id=award.id), not_before=award.answer_by)
        return False
    award.status, award.reason = AwardStatus.EXPIRED, silence_reason(award.supplier_id, award.answer_by)
    await _rematch(session, package, runs.SYSTEM, award.reason)
    await session.flush()
    return True


async def _award_if_all_accepted(session: AsyncSession, package: DemandPackage, actor: str) -> bool:
    """Every current award accepted, no run pending and the accepted awards make exactly the firm quantities: the
    package is awarded and fulfilment hears of it, in this transaction: with the sale's confirmed orders to deliver,
    and the package's problem to re-match on its reserves should a supplier fail."""
    if package.status is not PackageStatus.CLOSED or not package.firm_quantities:
        return False
    awards = await _awards_of(session, package.id)
    if any(award.status is AwardStatus.OFFERED for award in awards):
        return False
    accepted = sorted(
        (award for award in awards if award.status is AwardStatus.ACCEPTED),
        key=lambda award: (str(award.supplier_id), award.created_at),
    )
    if not covers([line for award in accepted for line in _lines(award)], package.firm_quantities):
        return False
    if await _pending_run(session, package) is not None:
        return False
    held = await _held_reservations(session, package.id)
    await services.move_package(session, package, PackageStep.AWARD, actor, reason="every award was accepted")
    allocations = [
        AwardedAllocation(
            supplier_id=award.supplier_id,
            offer_id=str(line.offer_id),
            region=region,
            quantity=quantity,
            unit_cents=line.unit_cents,
            shipping_cents=line.shipping_unit_cents[region],
        )
        for award in accepted
        for line in _lines(award)
        for region, quantity in sorted(line.quantities.items())
    ]
    reserves = [
        AwardedReserve(supplier_id=reservation.supplier_id, offer_id=str(line["offer_id"]), quantity=line["quantity"])
        for reservation in sorted(held, key=lambda reservation: str(reservation.supplier_id))
        for line in reservation.lines
    ]
    # Placement order, so fulfilment can serve the early buyers first. Columns, not rows: a sale may have 10,000.
    confirmed = await (await session.connection()).execute(
        sa.select(
            col(SaleOrder.id),
            col(SaleOrder.token),
            col(SaleOrder.region),
            col(SaleOrder.quantity),
            col(SaleOrder.name),
            col(SaleOrder.phone),
            col(SaleOrder.address),
        )
        .where(col(SaleOrder.package_id) == package.id, col(SaleOrder.status) == OrderStatus.CONFIRMED)
        .order_by(col(SaleOrder.placed_at), col(SaleOrder.id))
    )
    orders = [
        ConfirmedOrder(
            order_id=order_id,
            token_sha256=hashlib.sha256(token.encode()).hexdigest(),
            region=region,
            quantity=quantity,
            name=name,
            phone=phone,
            address=address,
        )
        for order_id, token, region, quantity, name, phone, address in confirmed
    ]
    # The run that made the current awards: every award and reservation of the package came from its problem's
    # offers (an award run keeps its previous run's offers, a re-match its whole problem).
    run = await session.get(MatchRun, package.plan_run_id) if package.plan_run_id else None
    problem = None
    if run is not None and run.problem is not None:
        offer_ids = {allocation.offer_id for allocation in allocations} | {reserve.offer_id for reserve in reserves}
        alone = rematch_problem(Problem.model_validate(run.problem), package.id, package.firm_quantities, offer_ids)
        problem = alone.model_dump(mode="json")
    awarded = PackageAwarded(
        package_id=package.id,
        sku=package.sku,
        needed_by=package.needed_by,
        currency=package.currency,
        firm_quantities=package.firm_quantities,
        allocations=allocations,
        reserves=reserves,
        orders=orders,
        rematch_problem=problem,
        pickup_points=package.pickup_points,
    )
    outbox.publish(session, OutboxMessage, awarded)
    return True


# --- reading ---------------------------------------------------------------------------------------------------


def award_public(award: Award) -> AwardPublic:
    return AwardPublic.model_validate(award)


async def _own_award(session: AsyncSession, award_id: UUID, supplier_id: UUID) -> Award:
    """A supplier's own award; another's is 'not found', so ids reveal nothing."""
    award = await session.get(Award, award_id)
    if award is None or award.supplier_id != supplier_id:
        raise NotFound(f"award {award_id} not found")
    return award


async def supplier_award(session: AsyncSession, award_id: UUID, supplier_id: UUID) -> AwardPublic:
    return award_public(await _own_award(session, award_id, supplier_id))


async def supplier_awards(
    session: AsyncSession, supplier_id: UUID, status: AwardStatus | None, limit: int, offset: int
) -> list[AwardPublic]:
    query = select(Award).where(Award.supplier_id == supplier_id)
    if status is not None:
        query = query.where(Award.status == status)
    query = query.order_by(col(Award.created_at).desc(), col(Award.id)).limit(limit).offset(offset)
    return [award_public(award) for award in (await session.exec(query)).all()]


async def supplier_reservations(
    session: AsyncSession, supplier_id: UUID, limit: int, offset: int
) -> list[ReservationPublic]:
    query = select(Reservation).where(
        Reservation.supplier_id == supplier_id, Reservation.status == ReservationStatus.HELD
    )
    query = query.order_by(col(Reservation.created_at).desc(), col(Reservation.id)).limit(limit).offset(offset)
    return [ReservationPublic.model_validate(reservation) for reservation in (await session.exec(query)).all()]


async def package_awards_view(
    session: AsyncSession, package_id: UUID, community_id: UUID | None
) -> PackageAwardsPublic:
    """Everything awarding did for the package: each award and reservation with its status and why, and the runs
    that made them (with the explanation when one found no plan)."""
    package = await services.get_package(session, package_id, community_id)
    awards = sorted(await _awards_of(session, package.id), key=lambda a: (a.created_at, a.id), reverse=True)
    reservations = (
        await session.exec(
            select(Reservation)
            .where(Reservation.package_id == package.id)
            .order_by(col(Reservation.created_at).desc(), col(Reservation.id))
        )
    ).all()
    award_runs = []
    if package.round_id is not None:
        query = (
            select(MatchRun)
            .where(MatchRun.round_id == package.round_id, col(MatchRun.kind).in_(AWARD_RUNS))
            .order_by(col(MatchRun.created_at).desc())
        )
        award_runs = [run for run in (await session.exec(query)).all() if str(package.id) in run.package_ids]
    return PackageAwardsPublic(
        package_id=package.id,
        status=package.status,
        firm_quantities=package.firm_quantities,
        awards=[award_public(award) for award in awards],
        reservations=[ReservationPublic.model_validate(reservation) for reservation in reservations],
        runs=[AwardRunPublic.model_validate(run) for run in award_runs],
    )


async def _awards_of(session: AsyncSession, package_id: UUID) -> Sequence[Award]:
    query = select(Award).where(Award.package_id == package_id).order_by(col(Award.created_at), col(Award.id))
    return (await session.exec(query)).all()


async def _held_reservations(session: AsyncSession, package_id: UUID) -> Sequence[Reservation]:
    query = select(Reservation).where(
        Reservation.package_id == package_id, Reservation.status == ReservationStatus.HELD
    )
    return (await session.exec(query.order_by(col(Reservation.created_at), col(Reservation.id)))).all()


def _lines(award: Award) -> list[OfferAward]:
    return [OfferAward.model_validate(line) for line in award.lines]
