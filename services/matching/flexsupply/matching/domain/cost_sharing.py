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

The arithmetic of goods, shipping and fixed is allocation.check's (`offer_shares`, which splits a fixed fee by
`share_in_proportion`, and `landed_unit_cents`); this module adds the reserves and gathers each package's parts.
"""

from uuid import UUID

from pydantic import BaseModel, ConfigDict

from flexsupply.allocation import Plan, Problem, offer_shares
from flexsupply.allocation.check import landed_unit_cents


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


def split_plan(problem: Problem, plan: Plan) -> dict[UUID, PackagePlan]:
    """Each package's allocations, reserves and share of the cost, by the rule of this module's docstring."""
    if not plan.has_plan:
        raise NoPlan("the plan is infeasible: it allocates nothing")
    shares = offer_shares(problem, plan)
    supplier_of = {offer.id: UUID(offer.supplier) for offer in problem.offers}
    reserve_of = {offer.id: offer.reserve_cents for offer in problem.offers}
    split: dict[UUID, PackagePlan] = {}
    for package in problem.packages:
        allocations = [a for a in plan.allocations if a.package == package.id]
        reserves = [r for r in plan.reserves if r.package == package.id]
        own = [share for share in shares if share.package == package.id]
        units = sum(a.quantity for a in allocations)
        cost = CostBreakdown(
            goods_cents=sum(share.goods_cents for share in own),
            shipping_cents=sum(share.shipping_cents for share in own),
            fixed_cents=sum(share.fixed_cents for share in own),
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
