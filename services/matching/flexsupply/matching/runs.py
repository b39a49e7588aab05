"""Matching runs as jobs: requested in a transaction, solved by a worker with no transaction held, recorded once.

The run's row is the owed work. A worker claims it with a lease (its time limit plus a margin); a worker killed
mid-solve leaves the lease to expire, and the sweeper publishes the run again, so it is solved again and recorded
once (`record_result` does nothing to a finished run). A peer that is down hands the run back (queued) and lets
dramatiq retry it with backoff.
"""

import logging
import time
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

import anyio
import httpx
from sqlalchemy import and_, or_
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from flexsupply.allocation import Allocation, NoPlanInTime, Plan, Problem, SolveParams, rematch, solve
from flexsupply.clients.suppliers import SuppliersClient
from flexsupply.contracts.errors import NotFound
from flexsupply.contracts.events import MatchRunRequested, SaleOpeningDue
from flexsupply.contracts.offers import EligibleOffer, SupplierCapacity
from flexsupply.contracts.sourcing import RoundResponses
from flexsupply.kit import outbox
from flexsupply.kit.clock import utc_now
from flexsupply.kit.db import Database
from flexsupply.matching.domain.cost_sharing import PlannedAllocation, split_plan
from flexsupply.matching.domain.package import PackageStatus, PackageStep
from flexsupply.matching.domain.planning import (
    InvalidRound,
    RoundPackage,
    build_round_problem,
    days_left,
    federation_saving_cents,
    firm_problem,
    standalone_problems,
)
from flexsupply.matching.domain.sale import sale_caps
from flexsupply.matching.models import (
    FINISHED_RUNS,
    DemandPackage,
    MatchRun,
    OutboxMessage,
    RunKind,
    RunStatus,
    SourcingRound,
)
from flexsupply.matching.schemas import MatchRunPublic, PackagePlanPublic, PlannedAllocationPublic
from flexsupply.matching.services import move_package

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 3  # a run that kills its worker three times is failed, not retried forever
SYSTEM = "system:deadline"


class NothingToMatch(Exception):
    """None of the round's packages is waiting for a plan."""


# --- requesting -----------------------------------------------------------------------------------------------


async def request_run(
    session: AsyncSession,
    *,
    round_id: UUID,
    kind: RunKind,
    actor: str,
    time_limit_seconds: float,
    package_ids: Sequence[UUID],
    reason: str | None = None,
    firm_quantities: dict[str, dict[str, int]] | None = None,
    previous_run_id: UUID | None = None,
    excluded_supplier_ids: Sequence[str] = (),
    fixed_allocations: Sequence[Allocation] = (),
) -> MatchRun:
    """Store a run and publish it for a worker, in the caller's transaction."""
    run = MatchRun(
        round_id=round_id,
        kind=kind,
        requested_by=actor,
        reason=reason,
        time_limit_seconds=time_limit_seconds,
        package_ids=[str(package_id) for package_id in package_ids],
        firm_quantities=firm_quantities,
        previous_run_id=previous_run_id,
        excluded_supplier_ids=list(excluded_supplier_ids),
        fixed_allocations=[allocation.model_dump() for allocation in fixed_allocations],
        lease_until=utc_now(),  # queued: when its message was last sent (the sweeper re-sends after the grace)
    )
    session.add(run)
    await session.flush()
    outbox.publish(session, OutboxMessage, MatchRunRequested(run_id=run.id))
    return run


async def request_round_run(
    session: AsyncSession, round_id: UUID, actor: str, time_limit_seconds: float
) -> MatchRun | None:
    """Match a round's packages still in sourcing (at the reply deadline, or earlier when asked). None when none is
    left to plan."""
    round_ = await session.get(SourcingRound, round_id)
    if round_ is None:
        raise NotFound(f"sourcing round {round_id} not found")
    packages = await round_packages(session, round_)
    waiting = [package.id for package in packages if package.status in {PackageStatus.SOURCING, PackageStatus.PLANNED}]
    if not waiting:
        return None
    return await request_run(
        session,
        round_id=round_id,
        kind=RunKind.SOURCING,
        actor=actor,
        time_limit_seconds=time_limit_seconds,
        package_ids=waiting,
    )


async def run_round_at_deadline(session: AsyncSession, round_id: UUID, time_limit_seconds: float) -> MatchRun | None:
    """The reply deadline came: match the round unless a run of it already exists (the leader asked earlier, or
    this event is a redelivery)."""
    existing = (
        await session.exec(select(MatchRun.id).where(MatchRun.round_id == round_id, MatchRun.kind == RunKind.SOURCING))
    ).first()
    if existing is not None:
        return None
    return await request_round_run(session, round_id, SYSTEM, time_limit_seconds)


async def round_packages(session: AsyncSession, round_: SourcingRound) -> list[DemandPackage]:
    ids = [UUID(package_id) for package_id in round_.package_ids]
    rows = (await session.exec(select(DemandPackage).where(col(DemandPackage.id).in_(ids)))).all()
    return sorted(rows, key=lambda package: str(package.id))


# --- claiming, solving, recording ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Claim:
    run_id: UUID
    round_id: UUID
    kind: RunKind
    time_limit_seconds: float
    currency: str
    packages: list[RoundPackage]
    firm_quantities: dict[str, dict[str, int]] | None
    previous_problem: dict[str, Any] | None
    previous_plan: dict[str, Any] | None
    excluded_supplier_ids: list[str]
    fixed_allocations: list[dict[str, Any]]


@dataclass(frozen=True)
class RunResult:
    problem: Problem
    plan: Plan | None
    left_out: list[str]
    error: str | None = None
    standalone_total_cents: int | None = None
    saving_cents: int | None = None
    build_seconds: float = 0.0
    standalone_seconds: float = 0.0


async def claim_run(session: AsyncSession, run_id: UUID, lease_margin_seconds: float) -> Claim | None:
    """Take the run for this worker; None when it is finished, or leased by a live worker (a duplicate message)."""
    run = await session.get(MatchRun, run_id, with_for_update=True)
    if run is None:
        log.warning("match run %s is not in this database: is the worker on another one?", run_id)
        return None
    now = utc_now()
    if run.status in FINISHED_RUNS:
        return None
    if run.status is RunStatus.RUNNING and run.lease_until is not None and run.lease_until > now:
        return None
    if run.attempts >= MAX_ATTEMPTS:
        run.status, run.finished_at = RunStatus.FAILED, now
        run.error = f"its worker stopped {run.attempts} times before finishing; request a new run"
        return None
    run.status, run.attempts, run.started_at = RunStatus.RUNNING, run.attempts + 1, now
    run.lease_until = now + timedelta(seconds=run.time_limit_seconds * 2 + lease_margin_seconds)
    packages = [await session.get(DemandPackage, UUID(package_id)) for package_id in run.package_ids]
    previous = await session.get(MatchRun, run.previous_run_id) if run.previous_run_id else None
    present = [package for package in packages if package is not None]
    return Claim(
        run_id=run.id,
        round_id=run.round_id,
        kind=run.kind,
        time_limit_seconds=run.time_limit_seconds,
        currency=present[0].currency if present else "CNY",
        packages=[
            RoundPackage(
                id=package.id,
                sku=package.sku,
                spec=package.spec,
                quantities=package.quantities,
                needed_by=package.needed_by,
                min_quality=package.min_quality,
                backups=package.backups,
            )
            for package in present
        ],
        firm_quantities=run.firm_quantities,
        previous_problem=previous.problem if previous else None,
        previous_plan=previous.plan if previous else None,
        excluded_supplier_ids=run.excluded_supplier_ids,
        fixed_allocations=run.fixed_allocations,
    )


async def release_run(session: AsyncSession, run_id: UUID, error: str) -> None:
    """Hand a run back after a failure worth retrying (a peer down): queued again, the retry will claim it."""
    run = await session.get(MatchRun, run_id, with_for_update=True)
    if run is not None and run.status is RunStatus.RUNNING:
        run.status, run.lease_until, run.error = RunStatus.QUEUED, utc_now(), error[:2000]


async def gather_and_solve(claim: Claim, suppliers: SuppliersClient) -> RunResult:
    """Everything between claim and record: read quotes and offers, build the problem, solve (off the loop)."""
    started = time.perf_counter()
    params = SolveParams(time_limit_seconds=claim.time_limit_seconds)
    try:
        if claim.kind is RunKind.SOURCING:
            return await _solve_round(claim, suppliers, params, started)
        return await _solve_again(claim, params, started)
    except (InvalidRound, NoPlanInTime) as exc:
        empty = Problem(currency=claim.currency, suppliers=[], offers=[], packages=[])
        return RunResult(problem=empty, plan=None, left_out=[], error=str(exc))


async def _solve_round(claim: Claim, suppliers: SuppliersClient, params: SolveParams, started: float) -> RunResult:
    try:
        responses = await suppliers.round_responses(claim.round_id)
    except httpx.HTTPStatusError as exc:
        if exc.response.status_code != 404:
            raise
        # No supplier was asked (none eligible, none named): the standing offers are all there is.
        responses = RoundResponses(round_id=claim.round_id, quotes=[], declined_supplier_ids=[], suppliers=[])
    capacities: dict[UUID, SupplierCapacity] = {supplier.id: supplier for supplier in responses.suppliers}
    standing: dict[UUID, EligibleOffer] = {}
    by_sku: dict[str, list[RoundPackage]] = defaultdict(list)
    for package in claim.packages:
        by_sku[package.sku].append(package)
    for sku, packages in sorted(by_sku.items()):
        found = await suppliers.eligible_offers(
            sku=sku,
            needed_by=max(package.needed_by for package in packages),
            min_quality=min(package.min_quality for package in packages),
            regions=sorted({region for package in packages for region in package.quantities}),
        )
        standing.update({offer.id: offer for offer in found.offers})
        capacities.update({supplier.id: supplier for supplier in found.suppliers})
    round_problem = build_round_problem(
        claim.packages,
        quotes=responses.quotes,
        standing_offers=list(standing.values()),
        declined_supplier_ids=responses.declined_supplier_ids,
        capacities=list(capacities.values()),
        now=utc_now(),
        currency=claim.currency,
    )
    build_seconds = time.perf_counter() - started
    plan = await anyio.to_thread.run_sync(solve, round_problem.problem, params)
    standalone_total = saving = None
    standalone_started = time.perf_counter()
    if plan.has_plan and len(claim.packages) > 1:
        # What federating saved: each package sourced alone, the time limit shared among them.
        share = max(0.5, params.time_limit_seconds / len(claim.packages))
        alone_params = params.model_copy(update={"time_limit_seconds": share})
        alone = [
            await anyio.to_thread.run_sync(solve, problem, alone_params)
            for problem in standalone_problems(round_problem.problem).values()
        ]
        saving = federation_saving_cents(plan, alone)
        standalone_total = None if saving is None else sum(p.total_cents or 0 for p in alone)
    return RunResult(
        problem=round_problem.problem,
        plan=plan,
        left_out=round_problem.left_out_sentences,
        standalone_total_cents=standalone_total,
        saving_cents=saving,
        build_seconds=build_seconds,
        standalone_seconds=time.perf_counter() - standalone_started,
    )


async def _solve_again(claim: Claim, params: SolveParams, started: float) -> RunResult:
    """Award and re-match runs: the previous run's problem (on firm quantities for an award), solved to keep as
    much of the previous plan as possible, without the excluded suppliers and with the accepted awards fixed."""
    if claim.previous_problem is None or claim.previous_plan is None:
        raise InvalidRound("there is no plan to award from: match the round first")
    previous_problem = Problem.model_validate(claim.previous_problem)
    previous_plan = Plan.model_validate(claim.previous_plan)
    problem = previous_problem
    if claim.kind is RunKind.AWARD:
        firm = {UUID(package_id): units for package_id, units in (claim.firm_quantities or {}).items()}
        now = utc_now()
        problem = firm_problem(
            previous_problem,
            firm,
            needed_by_days={package.id: days_left(package.id, package.needed_by, now) for package in claim.packages},
        )
    build_seconds = time.perf_counter() - started
    fixed = [Allocation.model_validate(allocation) for allocation in claim.fixed_allocations]
    plan = await anyio.to_thread.run_sync(
        lambda: rematch(problem, previous_plan, claim.excluded_supplier_ids, fixed, params)
    )
    return RunResult(problem=problem, plan=plan, left_out=[], build_seconds=build_seconds)


async def record_result(session: AsyncSession, run_id: UUID, result: RunResult) -> MatchRun | None:
    """Store what the run found and move its packages; a finished run is left as it is (a second worker's answer
    to a run that was solved twice changes nothing). Returns the run when this call recorded it."""
    run = await session.get(MatchRun, run_id, with_for_update=True)
    if run is None or run.status in FINISHED_RUNS:
        return None
    plan = result.plan
    run.problem = result.problem.model_dump(mode="json")
    run.left_out = result.left_out
    run.finished_at, run.lease_until = utc_now(), None
    run.standalone_total_cents, run.saving_cents = result.standalone_total_cents, result.saving_cents
    run.build_seconds, run.standalone_seconds = result.build_seconds, result.standalone_seconds
    actor = f"match-run:{run.id}"
    packages = [
        await session.get(DemandPackage, UUID(package_id), with_for_update=True) for package_id in run.package_ids
    ]
    if plan is None:
        run.status, run.error = RunStatus.FAILED, result.error
        return run
    run.plan = plan.model_dump(mode="json")
    run.total_cents, run.bound_cents, run.gap, run.solve_seconds = (
        plan.total_cents,
        plan.bound_cents,
        plan.gap,
        plan.solve_seconds,
    )
    run.explanation = plan.explanation
    if not plan.has_plan:
        run.status = RunStatus.INFEASIBLE
        if run.kind is RunKind.SOURCING:
            for package in packages:
                if package is not None and package.status is PackageStatus.PLANNED:
                    await move_package(session, package, PackageStep.REPLAN, actor, reason="; ".join(plan.explanation))
        return run
    run.status = RunStatus.PLANNED
    shares = split_plan(result.problem, plan)
    package_plans: dict[str, Any] = {}
    for package in packages:
        if package is None or package.id not in shares:
            continue
        caps = _sale_caps(shares[package.id].allocations, package.cap_units)
        package_plans[str(package.id)] = shares[package.id].model_dump(mode="json") | {"sale_caps": caps}
        package.plan_run_id = run.id
        if run.kind is RunKind.SOURCING and package.status is PackageStatus.SOURCING:
            await move_package(session, package, PackageStep.PLAN, actor)
            # Its sale opens by itself at the window's opening (at once when that has passed).
            outbox.publish(
                session, OutboxMessage, SaleOpeningDue(package_id=package.id), not_before=package.sale_opens_at
            )
    run.package_plans = package_plans
    if run.kind is not RunKind.SOURCING:
        from flexsupply.matching import awards  # awards request runs through this module

        await awards.issue(session, run, result.problem, plan)  # once: a finished run is never recorded again
    return run


async def execute(database: Database, suppliers: SuppliersClient, run_id: UUID, lease_margin_seconds: float) -> None:
    """The whole job: claim, gather and solve with no transaction held, record once."""
    async with database.transaction() as session:
        claim = await claim_run(session, run_id, lease_margin_seconds)
    if claim is None:
        return
    try:
        result = await gather_and_solve(claim, suppliers)
    except Exception as exc:
        async with database.transaction() as session:
            await release_run(session, run_id, f"{type(exc).__name__}: {exc}")
        raise  # dramatiq retries with backoff; the run is queued again meanwhile
    async with database.transaction() as session:
        await record_result(session, run_id, result)


async def sweep_stalled_runs(session: AsyncSession, overdue_before: datetime) -> int:
    """Publish again each run whose message was lost: queued and not picked up, or running on a dead worker."""
    stalled = (
        await session.exec(
            select(MatchRun).where(
                or_(
                    and_(col(MatchRun.status) == RunStatus.QUEUED, col(MatchRun.lease_until) < overdue_before),
                    and_(col(MatchRun.status) == RunStatus.RUNNING, col(MatchRun.lease_until) < overdue_before),
                )
            )
        )
    ).all()
    for run in stalled:
        if run.status is RunStatus.QUEUED:
            run.lease_until = utc_now()
        outbox.publish(session, OutboxMessage, MatchRunRequested(run_id=run.id))
    return len(stalled)


# --- reading ----------------------------------------------------------------------------------------------------


async def visible_run(session: AsyncSession, run_id: UUID, community_id: UUID | None) -> MatchRun:
    """A run; a leader sees it when one of its packages is their community's (else 'not found')."""
    run = await session.get(MatchRun, run_id)
    if run is not None and community_id is not None:
        communities = (
            await session.exec(
                select(DemandPackage.community_id).where(
                    col(DemandPackage.id).in_([UUID(package_id) for package_id in run.package_ids])
                )
            )
        ).all()
        if community_id not in communities:
            run = None
    if run is None:
        raise NotFound(f"match run {run_id} not found")
    return run


def run_public(run: MatchRun) -> MatchRunPublic:
    elapsed = None
    if run.started_at is not None:
        elapsed = ((run.finished_at or utc_now()) - run.started_at).total_seconds()
    packages = [
        PackagePlanPublic.model_validate(plan | {"run_id": run.id}) for plan in (run.package_plans or {}).values()
    ]
    return MatchRunPublic.model_validate(run, update={"elapsed_seconds": elapsed, "packages": packages})


async def current_plan(session: AsyncSession, package: DemandPackage) -> PackagePlanPublic:
    """The package's part of the newest run that planned it."""
    run = await session.get(MatchRun, package.plan_run_id) if package.plan_run_id else None
    plan = (run.package_plans or {}).get(str(package.id)) if run is not None else None
    if run is None or plan is None:
        raise NotFound(f"package {package.id} has no plan yet")
    public = PackagePlanPublic.model_validate(plan | {"run_id": run.id})
    # Derived again, not read: a plan recorded before the caps had one rule holds caps that may pass cap_units.
    return public.model_copy(update={"sale_caps": _sale_caps(public.allocations, package.cap_units)})


def _sale_caps(
    allocations: Iterable[PlannedAllocation] | Iterable[PlannedAllocationPublic], cap_units: int
) -> dict[str, int]:
    planned: dict[str, int] = defaultdict(int)
    for allocation in allocations:
        planned[allocation.region] += allocation.quantity
    return sale_caps(planned, cap_units)


async def round_runs(session: AsyncSession, round_id: UUID) -> Sequence[MatchRun]:
    query = select(MatchRun).where(MatchRun.round_id == round_id).order_by(col(MatchRun.created_at).desc())
    return (await session.exec(query)).all()
