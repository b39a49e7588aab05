"""How a round's plan is shared among its packages.

A sourcing round may federate several packages (even of different SKUs) that share suppliers, and one plan serves
them all. Each package's share of the plan's cost is the sum of four parts, and the shares add up exactly, to the
cent, to the plan's total by the contract's formula:

- goods: each unit the package gets from an offer costs the price of the tier that the offer's pooled quantity (its
  units over every package of the round) reaches, so every package gets the pooled volume price;
- shipping: the shipping of the package's own allocations, at each offer's price per unit to the region;
- reserve: the reserve fees of the package's own backup reserves;
- fixed: each used offer's fixed fee is divided among the packages that get units from it, in proportion to those
  units. Cents that do not divide evenly go by largest remainder: each package first gets the whole cents of its
  exact share, then the cents left over go one each to the packages with the largest fractions, equal fractions to
  the smaller package id.

A package's landed unit cost is its share divided by its units, rounded half up to a whole cent (the landed costs
times the units need not add up to the total; the shares do).
"""

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from uuid import UUID

from pydantic import BaseModel, ConfigDict

from flexsupply.allocation import Plan, Problem


class NoPlan(ValueError):
    """The plan is infeasible: it allocates nothing, so there is no cost to share and nothing to award."""


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class CostBreakdown(_Frozen):
    goods_cents: int
    shipping_cents: int
    fixed_cents: int
    reserve_cents: int

    @property
    def total_cents(self) -> int:
        return self.goods_cents + self.shipping_cents + self.fixed_cents + self.reserve_cents


class PlannedAllocation(_Frozen):
    offer_id: UUID
    supplier_id: UUID
    region: str
    quantity: int


class PlannedReserve(_Frozen):
    offer_id: UUID
    supplier_id: UUID
    quantity: int


class PackagePlan(_Frozen):
    """One package's part of a round's plan and its share of the cost."""

    package_id: UUID
    allocations: tuple[PlannedAllocation, ...]
    reserves: tuple[PlannedReserve, ...]
    cost: CostBreakdown
    units: int
    landed_unit_cents: int


@dataclass(frozen=True)
class PooledPricing:
    """What the plan's offers cost once pooled over the round's packages (problem ids, not UUIDs)."""

    units: Mapping[str, int]  # offer -> its total primary units over every package
    unit_cents: Mapping[str, int]  # offer -> the tier price those units reach
    fixed_cents: Mapping[tuple[str, str], int]  # (offer, package) -> the package's share of the offer's fixed fee


def pooled_pricing(problem: Problem, plan: Plan) -> PooledPricing:
    if not plan.has_plan:
        raise NoPlan("the plan is infeasible: it allocates nothing")
    units_by_package: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for allocation in plan.allocations:
        units_by_package[allocation.offer][allocation.package] += allocation.quantity
    units = {offer_id: sum(by_package.values()) for offer_id, by_package in units_by_package.items()}
    offers = {offer_id: problem.offer(offer_id) for offer_id in units}
    return PooledPricing(
        units=units,
        unit_cents={offer_id: offer.unit_cents(units[offer_id]) for offer_id, offer in offers.items()},
        fixed_cents={
            (offer_id, package_id): cents
            for offer_id, by_package in units_by_package.items()
            for package_id, cents in share_in_proportion(offers[offer_id].fixed_cents, by_package).items()
        },
    )


def share_in_proportion(amount_cents: int, weights: Mapping[str, int]) -> dict[str, int]:
    """Split whole cents in proportion to the weights, by largest remainder (equal remainders: smaller key first);
    the shares add up to `amount_cents` exactly."""
    total_weight = sum(weights.values())
    if amount_cents < 0 or total_weight <= 0 or any(weight < 0 for weight in weights.values()):
        raise ValueError(f"cannot share {amount_cents} cents by the weights {dict(weights)}")
    shares = {key: amount_cents * weight // total_weight for key, weight in weights.items()}
    left = amount_cents - sum(shares.values())  # fewer than the keys with a nonzero remainder
    by_remainder = sorted(weights, key=lambda key: (-(amount_cents * weights[key] % total_weight), key))
    for key in by_remainder[:left]:
        shares[key] += 1
    return shares


def landed_unit_cents(total_cents: int, units: int) -> int:
    """Cents per unit, rounded half up."""
    return (2 * total_cents + units) // (2 * units)


def split_plan(problem: Problem, plan: Plan) -> dict[UUID, PackagePlan]:
    """Each package's allocations, reserves and share of the cost, by the rule of this module's docstring."""
    pricing = pooled_pricing(problem, plan)
    supplier_of = {offer.id: UUID(offer.supplier) for offer in problem.offers}
    shipping_of = {offer.id: offer.shipping_cents for offer in problem.offers}
    reserve_of = {offer.id: offer.reserve_cents for offer in problem.offers}
    split: dict[UUID, PackagePlan] = {}
    for package in problem.packages:
        allocations = [a for a in plan.allocations if a.package == package.id]
        reserves = [r for r in plan.reserves if r.package == package.id]
        units = sum(a.quantity for a in allocations)
        cost = CostBreakdown(
            goods_cents=sum(pricing.unit_cents[a.offer] * a.quantity for a in allocations),
            shipping_cents=sum(shipping_of[a.offer][a.region] * a.quantity for a in allocations),
            fixed_cents=sum(
                cents for (_, package_id), cents in pricing.fixed_cents.items() if package_id == package.id
            ),
            reserve_cents=sum(reserve_of[r.offer] * r.quantity for r in reserves),
        )
        split[UUID(package.id)] = PackagePlan(
            package_id=UUID(package.id),
            allocations=tuple(
                PlannedAllocation(
                    offer_id=UUID(a.offer), supplier_id=supplier_of[a.offer], region=a.region, quantity=a.quantity
                )
                for a in allocations
            ),
            reserves=tuple(
                PlannedReserve(offer_id=UUID(r.offer), supplier_id=supplier_of[r.offer], quantity=r.quantity)
                for r in reserves
            ),
            cost=cost,
            units=units,
            landed_unit_cents=landed_unit_cents(cost.total_cents, units) if units else 0,
        )
    return split
