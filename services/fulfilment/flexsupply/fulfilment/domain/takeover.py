"""Backups taking over a failed supplier's units: the re-match problem, and what the engine's answer means.

The rule (README, "When a supplier fails"): a take-over places its own failure's units, no other's. Every supplier
that failed a production order of the package is left out; what it shipped stays with it, and every other supplier
keeps exactly what it makes now (fixed). Only the
package's reserve offers may take units: each up to the quantity it holds in reserve, less what earlier take-overs
already gave it, and with no minimum order (holding the reserve is what its fee paid for). Among the plans that do
this, the engine's re-match keeps every fixed unit and takes the least cost.
"""

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from uuid import UUID

from flexsupply.allocation import Allocation, NoPlanInTime, Offer, Plan, PlanStatus, Problem, SolveParams, rematch


@dataclass(frozen=True, slots=True)
class Making:
    """What one production order of the package makes now."""

    supplier_id: UUID
    offer_id: str
    region: str
    units: int  # its quantity less what it will not make after a failure
    failed: bool
    # Failed units another take-over places (or could not): not this one's to place.
    held_out: int = 0


@dataclass(frozen=True, slots=True)
class Takeover:
    """Units a reserve offer's supplier now makes for a region, at the offer's terms."""

    supplier_id: UUID
    offer_id: str
    region: str
    quantity: int
    unit_cents: int
    shipping_cents: int


class NoTakeover(Exception):
    """The reserves cannot make the failed units: staff must find another way."""


def takeover_problem(
    problem: Problem, package_id: str, making: Iterable[Making], reserves: Mapping[str, int]
) -> tuple[Problem, list[Allocation]]:
    """The package's problem with failed suppliers left out, every other production fixed, and room only on
    reserve offers (`reserves`: offer id -> units held). Returns it and the fixed allocations."""
    making = list(making)
    excluded = {str(m.supplier_id) for m in making if m.failed}
    package = problem.package(package_id)
    kept_by_excluded: dict[str, int] = defaultdict(int)
    fixed_units: dict[tuple[str, str], int] = defaultdict(int)
    for m in making:
        kept_by_excluded[m.region] += m.held_out
        if str(m.supplier_id) in excluded:
            kept_by_excluded[m.region] += m.units
        elif m.units > 0:
            fixed_units[m.offer_id, m.region] += m.units
    lines = [
        line.model_copy(update={"quantity": line.quantity - kept_by_excluded[line.region]}) for line in package.lines
    ]
    per_offer: dict[str, int] = defaultdict(int)
    for (offer_id, _), units in fixed_units.items():
        per_offer[offer_id] += units
    offers = []
    for offer in problem.offers:
        if offer.supplier in excluded:
            continue
        if offer.id in reserves:
            capacity = min(offer.capacity, max(reserves[offer.id], per_offer[offer.id]))
            offers.append(_without_minimum(offer).model_copy(update={"capacity": capacity}))
        elif offer.id in per_offer:
            # An awarded supplier keeps what it makes: no more, and its minimum is already met or waived.
            units = per_offer[offer.id]
            offers.append(_without_minimum(offer).model_copy(update={"capacity": units}))
    used = {offer.supplier for offer in offers}
    return (
        problem.model_copy(
            update={
                "suppliers": [supplier for supplier in problem.suppliers if supplier.id in used],
                "offers": offers,
                "packages": [package.model_copy(update={"lines": lines, "backups": 0})],
            }
        ),
        [
            Allocation(package=package_id, offer=offer_id, region=region, quantity=units)
            for (offer_id, region), units in sorted(fixed_units.items())
        ],
    )


def _without_minimum(offer: Offer) -> Offer:
    # The first price tier starts at the minimum (the contract's rule), so it moves down with it.
    first = offer.price_tiers[0].model_copy(update={"min_quantity": min(offer.price_tiers[0].min_quantity, 1)})
    return offer.model_copy(update={"moq": min(offer.moq, 1), "price_tiers": [first, *offer.price_tiers[1:]]})


def plan_takeover(
    problem: Problem,
    package_id: str,
    making: Iterable[Making],
    reserves: Mapping[str, int],
    time_limit_seconds: float = 5.0,
) -> list[Takeover]:
    """The reserves' new production for the failed units, at least cost. Raises NoTakeover."""
    making = list(making)
    remaining, fixed = takeover_problem(problem, package_id, making, reserves)
    previous = Plan(status=PlanStatus.FEASIBLE, allocations=fixed)
    plan = rematch(remaining, previous, fixed=fixed, params=SolveParams(time_limit_seconds=time_limit_seconds))
    if not plan.has_plan:
        raise NoTakeover(" ".join(plan.explanation) or "no reserve can make the failed units")
    before = {(a.offer, a.region): a.quantity for a in fixed}
    offer_totals: dict[str, int] = defaultdict(int)
    for allocation in plan.allocations:
        offer_totals[allocation.offer] += allocation.quantity
    takeovers = []
    for allocation in plan.allocations:
        extra = allocation.quantity - before.get((allocation.offer, allocation.region), 0)
        if extra <= 0:
            continue
        offer = remaining.offer(allocation.offer)
        takeovers.append(
            Takeover(
                supplier_id=UUID(offer.supplier),
                offer_id=offer.id,
                region=allocation.region,
                quantity=extra,
                unit_cents=offer.unit_cents(offer_totals[offer.id]),
                shipping_cents=offer.shipping_cents[allocation.region],
            )
        )
    return takeovers


@dataclass(frozen=True, slots=True)
class StopStep:
    """One production order of a stopping supplier: who takes its remainder over, or why nobody can."""

    production_order_id: UUID
    units: int
    takeovers: tuple[Takeover, ...]
    no_takeover: str | None = None


def plan_stop(
    problem: Problem,
    package_id: str,
    making: Sequence[tuple[UUID, Making]],
    remainders: Mapping[UUID, int],
    reserves: Mapping[str, int],
    time_limit_seconds: float = 5.0,
) -> list[StopStep]:
    """A supplier stops altogether: each of its open production orders of the package (`remainders`: id -> units
    not shipped) fails, and their take-overs are planned one after the other, in `making`'s order, as their jobs
    would place them: each its own failure's units, the later ones held out until their turn, every earlier
    take-over's production kept."""
    now = {production_id: m for production_id, m in making}
    for production_id, units in remainders.items():
        m = now[production_id]
        now[production_id] = replace(m, units=m.units - units, failed=True, held_out=units)
    steps: list[StopStep] = []
    added: list[Making] = []
    for production_id, _ in making:
        if production_id not in remainders:
            continue
        now[production_id] = replace(now[production_id], held_out=0)
        try:
            takeovers = plan_takeover(
                problem, package_id, [*now.values(), *added], reserves, time_limit_seconds=time_limit_seconds
            )
        except (NoTakeover, NoPlanInTime) as error:
            # Its units wait, as a failed take-over's do: no later take-over places them.
            now[production_id] = replace(now[production_id], held_out=remainders[production_id])
            steps.append(StopStep(production_id, remainders[production_id], (), str(error)))
            continue
        added.extend(Making(t.supplier_id, t.offer_id, t.region, t.quantity, failed=False) for t in takeovers)
        steps.append(StopStep(production_id, remainders[production_id], tuple(takeovers)))
    return steps
