"""Re-matching when a supplier drops out keeps as much of the previous award as possible."""

from pathlib import Path

import pytest

from flexsupply.allocation import (
    Allocation,
    ImpossibleFix,
    Plan,
    PlanStatus,
    Problem,
    SolveParams,
    greedy_plan,
    load_problem,
    moved_units,
    rematch,
    solve,
    violations,
)
from flexsupply.allocation.rematch import without_suppliers

INSTANCES = Path(__file__).parents[2] / "instances"
PARAMS = SolveParams(time_limit_seconds=120, work_limit=2)  # reproducible, whatever the load


@pytest.fixture(scope="module")
def problem() -> Problem:
    return load_problem((INSTANCES / "generated-6-packages.json").read_text())


@pytest.fixture(scope="module")
def awarded(problem: Problem) -> Plan:
    return solve(problem, PARAMS)


def units_from(problem: Problem, plan: Plan, supplier_id: str) -> int:
    return sum(a.quantity for a in plan.allocations if problem.offer(a.offer).supplier == supplier_id)


def test_only_the_failed_suppliers_units_move(problem: Problem, awarded: Plan) -> None:
    again = rematch(problem, awarded, excluded_suppliers=["s-2"], params=PARAMS)
    assert again.status == PlanStatus.OPTIMAL
    assert violations(problem, again) == []
    assert units_from(problem, again, "s-2") == 0
    assert moved_units(awarded, again) == units_from(problem, awarded, "s-2") == 1825

    # Solving from scratch is cheaper but moves far more of what was awarded.
    fresh = solve(without_suppliers(problem, {"s-2"}), PARAMS)
    assert fresh.total_cents is not None and again.total_cents is not None
    assert fresh.total_cents < again.total_cents
    assert moved_units(awarded, fresh) > moved_units(awarded, again)


def test_a_plan_that_nothing_forces_to_change_is_kept_whole_even_when_a_cheaper_one_exists(
    problem: Problem, awarded: Plan
) -> None:
    greedy = greedy_plan(problem)
    assert greedy is not None and greedy.total_cents is not None and awarded.total_cents is not None
    assert greedy.total_cents > awarded.total_cents
    again = rematch(problem, greedy, params=PARAMS)
    assert moved_units(greedy, again) == 0
    assert sorted(map(str, again.allocations)) == sorted(map(str, greedy.allocations))


def test_fixed_allocations_are_kept(problem: Problem, awarded: Plan) -> None:
    taken = {(a.package, a.region, a.offer) for a in awarded.allocations}
    package = problem.packages[0]
    line = package.lines[0]
    offer = next(
        o
        for o in problem.offers
        if o.sku == package.sku
        and o.lead_time_days <= package.needed_by_days
        and o.quality >= package.min_quality
        and line.region in o.shipping_cents
        and (package.id, line.region, o.id) not in taken
        and o.moq <= line.quantity
    )
    pinned = Allocation(package=package.id, offer=offer.id, region=line.region, quantity=line.quantity)
    again = rematch(problem, awarded, fixed=[pinned], params=PARAMS)
    assert again.status == PlanStatus.OPTIMAL
    assert violations(problem, again) == []
    assert pinned in again.allocations


def test_an_impossible_fixed_allocation_is_refused(problem: Problem, awarded: Plan) -> None:
    wrong_sku = next(o for o in problem.offers if o.sku != problem.packages[0].sku)
    pinned = Allocation(package=problem.packages[0].id, offer=wrong_sku.id, region="region-0", quantity=10)
    with pytest.raises(ImpossibleFix, match=problem.packages[0].id):
        rematch(problem, awarded, fixed=[pinned], params=PARAMS)


def test_losing_a_supplier_the_plan_cannot_do_without_is_explained() -> None:
    example = load_problem((INSTANCES / "example-problem.json").read_text())
    again = rematch(example, solve(example, PARAMS), excluded_suppliers=["s-hakko"], params=PARAMS)
    assert again.status == PlanStatus.INFEASIBLE
    assert "Package dp-bread cannot be planned" in again.explanation[0]


def test_a_plan_found_before_time_runs_out_is_kept() -> None:
    """Keeping the awarded units is found first; a budget too small for the cheaper search still returns it."""
    problem = load_problem((INSTANCES / "timed" / "generated-20-packages.json").read_text())
    awarded = solve(problem, SolveParams(time_limit_seconds=60, work_limit=1))
    failed = problem.offer(awarded.allocations[0].offer).supplier
    # A work limit that the first phase fits in and the second does not; the clock far enough away not to decide.
    plan = rematch(problem, awarded, [failed], params=SolveParams(time_limit_seconds=60, work_limit=0.06))
    assert plan.status == PlanStatus.FEASIBLE and plan.allocations
    assert violations(problem, plan) == []
    assert units_from(problem, plan, failed) == 0
    assert plan.total_cents is not None and plan.total_cents > 0
