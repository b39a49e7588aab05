"""A leader moves a planned package's sale window (postpones the sale) before it opens.

The window may move only as far as the plan allows: production starts at the close, so the sale must close at
least the longest lead time of the plan's offers (producing and reserve) before needed_by. The opening is scheduled
again (the old message finds the window not open and does nothing); every supplier of the plan hears of the move by
signed webhook, and the group's members see it on their sign-up link, from the package's history.
"""

from collections.abc import Collection
from typing import Any
from uuid import UUID, uuid5

from sqlmodel.ext.asyncio.session import AsyncSession

from flexsupply.allocation import Plan, Problem
from flexsupply.contracts.events import SaleOpeningDue, SupplierNotice
from flexsupply.kit import outbox
from flexsupply.kit.clock import utc_now
from flexsupply.matching import services
from flexsupply.matching.domain.package import PackageStatus, PackageStep, check_sale_move
from flexsupply.matching.models import DemandPackage, MatchRun, OutboxMessage
from flexsupply.matching.schemas import PackagePublic, PackageUpdate

SALE_MOVED = "sale.moved"  # what suppliers are told (SupplierNotice.event_type)


async def update_package(
    session: AsyncSession,
    package_id: UUID,
    community_id: UUID | None,
    data: PackageUpdate,
    known_regions: Collection[str] | None,
    actor: str,
) -> PackagePublic:
    """PATCH of a package: a draft's terms, or a planned package's sale window."""
    package = await services.get_package(session, package_id, community_id, lock=True)
    if package.status is not PackageStatus.PLANNED:
        return await services.update_package(session, package_id, community_id, data, known_regions)
    previous = (package.sale_opens_at, package.sale_closes_at)
    opens_at = data.sale_opens_at if "sale_opens_at" in data.model_fields_set else package.sale_opens_at
    closes_at = data.sale_closes_at if "sale_closes_at" in data.model_fields_set else package.sale_closes_at
    plan_offers = await _plan_offers(session, package)
    check_sale_move(
        fields=data.model_fields_set,
        opens_at=opens_at,
        closes_at=closes_at,
        current_opens_at=package.sale_opens_at,
        needed_by=package.needed_by,
        lead_times={offer_id: terms["lead_time_days"] for offer_id, terms in plan_offers.items()},
        now=utc_now(),
    )
    if (opens_at, closes_at) == previous:
        return services.package_public(package)
    package.sale_opens_at, package.sale_closes_at = opens_at, closes_at
    moved = f"the sale now opens {opens_at:%Y-%m-%d %H:%M} UTC and closes {closes_at:%Y-%m-%d %H:%M} UTC"
    was = f"(it was {previous[0]:%Y-%m-%d %H:%M} to {previous[1]:%Y-%m-%d %H:%M} UTC)"
    await services.move_package(session, package, PackageStep.MOVE_SALE, actor, reason=f"{moved} {was}")
    outbox.publish(session, OutboxMessage, SaleOpeningDue(package_id=package.id), not_before=opens_at)
    notice = {
        "package_id": str(package.id),
        "title": package.title,
        "sale_opens_at": opens_at.isoformat(),
        "sale_closes_at": closes_at.isoformat(),
        "previous_sale_opens_at": previous[0].isoformat(),
        "previous_sale_closes_at": previous[1].isoformat(),
        "needed_by": package.needed_by.isoformat(),
    }
    for supplier_id in sorted({terms["supplier"] for terms in plan_offers.values()}):
        # One notice per move and supplier: a retried request tells once.
        subject = uuid5(package.id, f"{SALE_MOVED}:{opens_at.isoformat()}:{closes_at.isoformat()}:{supplier_id}")
        event = SupplierNotice(supplier_id=UUID(supplier_id), event_type=SALE_MOVED, data=notice, notice_id=subject)
        outbox.publish(session, OutboxMessage, event)
    await session.flush()
    return services.package_public(package)


async def _plan_offers(session: AsyncSession, package: DemandPackage) -> dict[str, dict[str, Any]]:
    """The offers of the package's current plan, producing or holding its reserve: id -> supplier and lead time."""
    run = await session.get(MatchRun, package.plan_run_id) if package.plan_run_id else None
    if run is None or run.problem is None or run.plan is None:
        return {}
    problem, plan = Problem.model_validate(run.problem), Plan.model_validate(run.plan)
    used = {a.offer for a in plan.allocations if a.package == str(package.id)}
    used |= {r.offer for r in plan.reserves if r.package == str(package.id)}
    return {
        offer.id: {"supplier": offer.supplier, "lead_time_days": offer.lead_time_days}
        for offer in problem.offers
        if offer.id in used
    }
