"""Improving a plan one SKU (then two) at a time keeps it valid, never makes it dearer, and ends with every SKU's
part, and every pair's, at its own optimum given the others."""

import time

from bench.matching.generate import generate_tight
from flexsupply.allocation import (
    Allocation,
    Offer,
    Package,
    PackageLine,
    Plan,
    PlanStatus,
    PriceTier,
    Problem,
    SolveParams,
    Supplier,
    cost_cents,
    greedy_plan,
    violations,
)
from flexsupply.allocation.improve import improve_by_sku, sku_part
from tests.support.solving import WORK, assert_each_neighbourhood_at_its_optimum


def test_one_skus_part_has_its_packages_offers_and_what_the_other_skus_leave_of_a_supplier() -> None:
    def offer(offer_id: str, sku: str) -> Offer:
        return Offer(
            id=offer_id,
            supplier="shared",
            sku=sku,
            moq=0,
            capacity=100,
            lead_time_days=1,
            quality=90,
            price_tiers=[PriceTier(min_quantity=0, unit_cents=100)],
            shipping_cents={"north": 0},
        )

    problem = Problem(
        currency="EUR",
        suppliers=[Supplier(id="shared", capacity=120), Supplier(id="free")],
        offers=[offer("a-1", "a"), offer("b-1", "b")],
        packages=[
            Package(id=f"{sku}-package", sku=sku, needed_by_days=5, lines=[PackageLine(region="north", quantity=30)])
            for sku in ("a", "b")
        ],
    )
    plan = {
        "a": ([Allocation(package="a-package", offer="a-1", region="north", quantity=30)], []),
        "b": ([Allocation(package="b-package", offer="b-1", region="north", quantity=30)], []),
    }
    part = sku_part(problem, plan, frozenset({"a"}))
    assert [package.id for package in part.packages] == ["a-package"]
    assert [offer.id for offer in part.offers] == ["a-1"]
    assert part.suppliers == [Supplier(id="shared", capacity=90)]  # 120 less b's 30; "free" makes nothing for a


def test_a_greedy_plan_becomes_cheaper_and_each_sku_and_pair_ends_at_its_own_optimum() -> None:
    problem = generate_tight(packages=10, skus=3, offers=30, seed=11)
    greedy = greedy_plan(problem)
    assert greedy is not None and greedy.total_cents is not None
    allocations, reserves, spent = improve_by_sku(
        problem, greedy.allocations, greedy.reserves, WORK, WORK.budget, time.perf_counter() + 120
    )
    improved = Plan(status=PlanStatus.FEASIBLE, allocations=allocations, reserves=reserves)
    assert violations(problem, improved) == []
    assert cost_cents(problem, improved) < greedy.total_cents
    assert 0 < spent <= WORK.budget
    assert_each_neighbourhood_at_its_optimum(problem, allocations, reserves)


def test_an_improvement_stops_at_its_budget() -> None:
    problem = generate_tight(packages=10, skus=3, offers=30, seed=11)
    greedy = greedy_plan(problem)
    assert greedy is not None
    tiny = SolveParams(time_limit_seconds=120, work_limit=0.01)
    allocations, reserves, spent = improve_by_sku(
        problem, greedy.allocations, greedy.reserves, tiny, tiny.budget, time.perf_counter() + 120
    )
    assert spent <= 0.02  # one SKU's search at most, which stops at its share
    assert violations(problem, Plan(status=PlanStatus.FEASIBLE, allocations=allocations, reserves=reserves)) == []
