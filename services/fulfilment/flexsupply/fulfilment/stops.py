"""A supplier that stops altogether: one action fails every open production order of it, with one take-over plan.

Staff first preview the stop (nothing changes): its take-overs are planned with the engine, per package, one
production order after the other as their jobs would place them (domain.takeover.plan_stop), reading what is
made now in one transaction and solving in none. Applying it fails the production orders as `failures.mark_failed`
does and issues exactly the previewed backups' production orders, in one transaction under the packages' locks;
if anything the plan was made from has changed meanwhile (a parcel shipped, another failure, a new production
order), nothing is applied and staff preview again. The failures' jobs then assign the buyers' orders, as after
any failure; a production order no backup could take ends its job failed, with an exception, as it would alone.
"""

import asyncio
import json
from collections import defaultdict
from typing import Any
from uuid import UUID

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from flexsupply.allocation import Problem
from flexsupply.contracts.errors import NotFound
from flexsupply.fulfilment import failures
from flexsupply.fulfilment.domain.states import OPEN_PRODUCTION, InvalidMove
from flexsupply.fulfilment.domain.takeover import Making, StopStep, Takeover, plan_stop
from flexsupply.fulfilment.models import ProductionOrder, StopStatus, SupplierStop
from flexsupply.fulfilment.production import get_awarded, shipped_units
from flexsupply.fulfilment.schemas import StopStepPublic, SupplierStopPublic, TakeoverPublic
from flexsupply.kit.clock import utc_now
from flexsupply.kit.db import Database


class StopOutdated(Exception):
    """What the stop's plan was made from has changed: preview it again."""


async def _read_state(
    session: AsyncSession, supplier_id: UUID, *, lock: bool = False
) -> tuple[dict[str, Any], dict[UUID, list[tuple[UUID, Making]]], dict[UUID, dict[UUID, int]]]:
    """Per package with an open production order of the supplier: what each of its production orders makes, and
    what each of the supplier's would leave unshipped; also as JSON, to tell later whether any of it changed."""
    query = select(ProductionOrder).where(
        ProductionOrder.supplier_id == supplier_id, col(ProductionOrder.status).in_(OPEN_PRODUCTION)
    )
    if lock:  # after the packages' locks, as every writer of production orders takes them
        query = query.with_for_update().execution_options(populate_existing=True)
    open_orders = (await session.exec(query.order_by(col(ProductionOrder.id)))).all()
    remainders: dict[UUID, dict[UUID, int]] = defaultdict(dict)
    for production in open_orders:
        left = production.quantity - await shipped_units(session, production.id)
        if left > 0:
            remainders[production.package_id][production.id] = left
    making = {package_id: await failures.making_of(session, package_id, None) for package_id in remainders}
    state = {
        str(package_id): {
            "making": [
                [str(pid), str(m.supplier_id), m.offer_id, m.region, m.units, m.failed, m.held_out]
                for pid, m in making[package_id]
            ],
            "remainders": {str(pid): units for pid, units in sorted(units_by.items(), key=lambda item: str(item[0]))},
        }
        for package_id, units_by in sorted(remainders.items(), key=lambda item: str(item[0]))
    }
    return json.loads(json.dumps(state)), making, dict(remainders)


async def preview(database: Database, supplier_id: UUID, reason: str, actor: str) -> SupplierStopPublic:
    """Plan the stop and keep it, previewed: nothing else changes. 409 when the supplier has nothing open."""
    async with database.transaction() as session:
        state, making, remainders = await _read_state(session, supplier_id)
        inputs = []
        for package_id in remainders:
            awarded = await get_awarded(session, package_id)
            reserves: dict[str, int] = defaultdict(int)
            for reserve in awarded.reserves:
                reserves[reserve["offer_id"]] += reserve["quantity"]
            inputs.append((package_id, awarded.rematch_problem, dict(reserves)))
    if not inputs:
        raise InvalidMove(f"supplier {supplier_id} has no open production order with units left to fail")
    plan: list[dict[str, Any]] = []
    for package_id, rematch_problem, reserves in inputs:
        steps = await asyncio.to_thread(
            _plan_package, rematch_problem, package_id, making[package_id], remainders[package_id], reserves
        )
        regions = {production_id: m.region for production_id, m in making[package_id]}
        plan.extend(_step_json(package_id, regions[step.production_order_id], step) for step in steps)
    async with database.transaction() as session:
        stop = SupplierStop(supplier_id=supplier_id, reason=reason[:1000], requested_by=actor, plan=plan, state=state)
        session.add(stop)
        await session.flush()
        return stop_public(stop)


def _plan_package(
    rematch_problem: dict[str, Any] | None,
    package_id: UUID,
    making: list[tuple[UUID, Making]],
    remainders: dict[UUID, int],
    reserves: dict[str, int],
) -> list[StopStep]:
    ordered = [production_id for production_id, _ in making if production_id in remainders]
    if rematch_problem is None:
        why = "matching sent no re-match problem with this package's award"
        return [StopStep(production_id, remainders[production_id], (), why) for production_id in ordered]
    problem = Problem.model_validate(rematch_problem)
    return plan_stop(problem, str(package_id), making, remainders, reserves, failures.TAKEOVER_SECONDS)


def _step_json(package_id: UUID, region: str, step: StopStep) -> dict[str, Any]:
    return StopStepPublic(
        production_order_id=step.production_order_id,
        package_id=package_id,
        region=region,
        units=step.units,
        takeovers=[
            TakeoverPublic(
                supplier_id=t.supplier_id,
                offer_id=t.offer_id,
                region=t.region,
                quantity=t.quantity,
                unit_cents=t.unit_cents,
                shipping_cents=t.shipping_cents,
            )
            for t in step.takeovers
        ],
        no_takeover=step.no_takeover,
    ).model_dump(mode="json")


async def get_stop(session: AsyncSession, stop_id: UUID, *, lock: bool = False) -> SupplierStop:
    stop = await session.get(SupplierStop, stop_id, with_for_update=lock)
    if stop is None:
        raise NotFound(f"supplier stop {stop_id} not found")
    return stop


async def apply(session: AsyncSession, stop_id: UUID, actor: str) -> SupplierStop:
    """Fail the production orders and issue the previewed take-overs, all or none; applying it again changes
    nothing. StopOutdated (409) when anything the plan was made from has changed."""
    stop = await get_stop(session, stop_id, lock=True)
    if stop.status is StopStatus.APPLIED:
        return stop
    package_ids = sorted((UUID(package_id) for package_id in stop.state), key=str)
    awarded = {package_id: await get_awarded(session, package_id, lock=True) for package_id in package_ids}
    state, _, _ = await _read_state(session, stop.supplier_id, lock=True)
    if state != stop.state:
        raise StopOutdated(f"what supplier stop {stop.id} was planned from has changed: preview it again")
    failure_ids = []
    for step in (StopStepPublic.model_validate(step) for step in stop.plan):
        failure = await failures.mark_failed(session, step.production_order_id, actor=actor, reason=stop.reason)
        takeovers = [Takeover(**takeover.model_dump()) for takeover in step.takeovers]
        failures.issue_takeovers(session, awarded[step.package_id], failure, takeovers)
        failure_ids.append(str(failure.id))
    stop.status, stop.applied_at, stop.applied_by, stop.failure_ids = StopStatus.APPLIED, utc_now(), actor, failure_ids
    await session.flush()
    return stop


def stop_public(stop: SupplierStop) -> SupplierStopPublic:
    return SupplierStopPublic.model_validate(
        stop, update={"steps": [StopStepPublic.model_validate(step) for step in stop.plan]}
    )
