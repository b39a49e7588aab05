"""What a solved plan is checked against beyond the contract: that no SKU, and no pair of SKUs, could do better
given the rest (the improvement's promise)."""

import itertools

from flexsupply.allocation import Allocation, Plan, PlanStatus, Problem, Reserve, SolveParams, cost_cents, solve
from flexsupply.allocation.improve import sku_part

# Reproducible, so that what is proved does not depend on how busy the machine is.
WORK = SolveParams(time_limit_seconds=120, work_limit=20)


def assert_each_neighbourhood_at_its_optimum(
    problem: Problem, allocations: list[Allocation], reserves: list[Reserve]
) -> None:
    sku_of = {offer.id: offer.sku for offer in problem.offers}
    by_sku = {
        sku: ([a for a in allocations if sku_of[a.offer] == sku], [r for r in reserves if sku_of[r.offer] == sku])
        for sku in {package.sku for package in problem.packages}
    }
    skus = sorted(by_sku)
    for neighbourhood in [{sku} for sku in skus] + [set(pair) for pair in itertools.combinations(skus, 2)]:
        part = sku_part(problem, by_sku, frozenset(neighbourhood))
        best = solve(part, WORK)
        assert best.status == PlanStatus.OPTIMAL
        ours = Plan(
            status=PlanStatus.FEASIBLE,
            allocations=[a for sku in neighbourhood for a in by_sku[sku][0]],
            reserves=[r for sku in neighbourhood for r in by_sku[sku][1]],
        )
        assert cost_cents(part, ours) == best.total_cents, neighbourhood
