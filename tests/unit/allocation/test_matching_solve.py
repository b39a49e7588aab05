"""Solved plans satisfy the contract, the example's optimum is pinned, and solving is reproducible."""

import time
from pathlib import Path

import pytest

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
    Reserve,
    SolveParams,
    Supplier,
    cost_cents,
    greedy_plan,
    load_problem,
    rematch,
    solve,
    violations,
)
from flexsupply.allocation.params import configured_solver, machine_cores
from flexsupply.allocation.solve import NoPlanEvenWithoutBackups, split_components, start_without_backups_first

INSTANCES = Path(__file__).parents[2] / "instances"
INSTANCE_FILES = sorted(INSTANCES.glob("*.json"))
EXAMPLE = INSTANCES / "example-problem.json"
# Reproducible: the proofs asserted below must not depend on how busy the machine is.
QUICK = SolveParams(time_limit_seconds=120, work_limit=4)


def load(path: Path) -> Problem:
    return load_problem(path.read_text())


@pytest.fixture(scope="module")
def example() -> Problem:
    return load(EXAMPLE)


@pytest.fixture(scope="module")
def example_plan(example: Problem) -> Plan:
    return solve(example, QUICK)


def test_the_example_optimum_is_pinned(example: Problem, example_plan: Plan) -> None:
    assert example_plan.status == PlanStatus.OPTIMAL
    assert example_plan.total_cents == example_plan.bound_cents == 3_538_250
    assert example_plan.gap == 0
    assert violations(example, example_plan) == []
    assert cost_cents(example, example_plan) == 3_538_250


@pytest.mark.parametrize("path", INSTANCE_FILES, ids=lambda path: path.stem)
def test_every_instance_gets_a_checked_plan_or_an_explanation(path: Path) -> None:
    problem = load(path)
    plan = solve(problem, QUICK)
    if path.stem.startswith("infeasible"):
        assert plan.status == PlanStatus.INFEASIBLE
        assert plan.explanation
        assert (plan.allocations, plan.reserves, plan.total_cents, plan.bound_cents) == ([], [], None, None)
    else:
        assert plan.status == PlanStatus.OPTIMAL
        assert violations(problem, plan) == []
        assert cost_cents(problem, plan) == plan.total_cents == plan.bound_cents


def test_the_plan_json_has_the_contract_shape(example_plan: Plan) -> None:
    data = example_plan.model_dump(mode="json")
    assert data["status"] == "optimal"
    assert set(data) >= {"status", "total_cents", "bound_cents", "allocations", "reserves"}
    assert set(data["allocations"][0]) == {"package", "offer", "region", "quantity"}
    assert set(data["reserves"][0]) == {"package", "offer", "quantity"}


def broken_rules(problem: Problem, plan: Plan, **changes: object) -> set[str]:
    """The rule numbers the checker reports once `changes` are applied to the plan."""
    return {violation.split(":")[0] for violation in violations(problem, plan.model_copy(update=changes))}


def test_the_checker_finds_each_broken_rule(example: Problem, example_plan: Plan) -> None:
    allocations, reserves = example_plan.allocations, example_plan.reserves
    ineligible = Allocation(package="dp-candle", offer="o-hakko-candle", region="ningbo", quantity=1)
    assert broken_rules(example, example_plan) == set()
    assert broken_rules(example, example_plan, allocations=allocations[1:]) == {"rule 2"}
    assert "rule 1" in broken_rules(example, example_plan, allocations=[*allocations, ineligible])
    below_moq = [Reserve(package="dp-bread", offer="o-rumu-box", quantity=10)]
    assert "rule 3" in broken_rules(example, example_plan, reserves=below_moq)
    overloaded = [*reserves, Reserve(package="dp-candle", offer="o-wax-candle", quantity=190)]
    assert "rule 4" in broken_rules(example, example_plan, reserves=overloaded)
    own_backup = [*reserves, Reserve(package="dp-bread", offer="o-hakko-box", quantity=100)]
    assert "rule 5" in broken_rules(example, example_plan, reserves=own_backup)
    one_backup = [reserve for reserve in reserves if reserve.offer != "o-wax-candle"]
    assert broken_rules(example, example_plan, reserves=one_backup) == {"rule 6"}


def test_the_checker_finds_the_subtler_breaks(example: Problem, example_plan: Plan) -> None:
    def changed(items: list, item_id: str, **update: object) -> list:
        return [item.model_copy(update=update) if item.id == item_id else item for item in items]

    # Rule 5: the plan reserves dp-bread on o-rumu-box, which must ship to both of dp-bread's regions.
    ningbo_only = example.model_copy(
        update={"offers": changed(example.offers, "o-rumu-box", shipping_cents={"ningbo": 350})}
    )
    assert "rule 5" in broken_rules(ningbo_only, example_plan)
    # Rule 1: o-rumu-box ships to chengdu, but chengdu is not one of dp-bread's lines.
    elsewhere = Allocation(package="dp-bread", offer="o-rumu-box", region="chengdu", quantity=150)
    assert "rule 1" in broken_rules(example, example_plan, allocations=[*example_plan.allocations, elsewhere])
    # Rule 4, supplier-wide: o-hakko-box's 600 units fit the offer but not a supplier capped at 500.
    smaller = example.model_copy(update={"suppliers": changed(example.suppliers, "s-hakko", capacity=500)})
    assert broken_rules(smaller, example_plan) == {"rule 4"}
    # Rule 1: quantities are positive whole units, even in a plan built without validation.
    negative = example_plan.allocations[0].model_copy(update={"quantity": -100})
    assert "rule 1" in broken_rules(example, example_plan, allocations=[*example_plan.allocations, negative])


def test_the_cost_is_recomputed_from_the_contract(example: Problem) -> None:
    plan = Plan(
        status=PlanStatus.FEASIBLE,
        allocations=[Allocation(package="dp-bread", offer="o-hakko-box", region="shanghai", quantity=300)],
        reserves=[Reserve(package="dp-bread", offer="o-rumu-box", quantity=200)],
    )
    # 300 units reach the 3500 tier; shipping 600 each; fixed 20000; reserve 120 each.
    assert cost_cents(example, plan) == 300 * 3500 + 300 * 600 + 20000 + 200 * 120


def test_the_same_input_gives_the_same_plan_even_when_time_runs_out() -> None:
    problem = load(INSTANCES / "timed" / "generated-20-packages.json")
    # A work limit far too small to prove this instance, and the clock far enough away never to decide.
    params = SolveParams(time_limit_seconds=60, work_limit=0.06)
    first, second = solve(problem, params), solve(problem, params)
    assert first.status == PlanStatus.FEASIBLE and first.gap is not None and first.gap > 0
    assert (first.status, first.total_cents, first.bound_cents) == (
        second.status,
        second.total_cents,
        second.bound_cents,
    )
    assert (first.allocations, first.reserves) == (second.allocations, second.reserves)
    assert violations(problem, first) == []


def test_independent_skus_are_solved_as_separate_parts(example: Problem) -> None:
    unlimited = example.model_copy(
        update={"suppliers": [s.model_copy(update={"capacity": None}) for s in example.suppliers]}
    )
    parts = split_components(unlimited)
    assert sorted(p.id for part in parts for p in part.packages) == ["dp-bread", "dp-candle"]
    assert len(parts) == 2
    assert len(split_components(example)) == 1  # s-hakko and s-lumen share capacity across both SKUs
    plan = solve(unlimited, QUICK)
    assert plan.status == PlanStatus.OPTIMAL
    assert violations(unlimited, plan) == []
    assert cost_cents(unlimited, plan) == plan.total_cents


def test_the_greedy_plan_is_valid_and_never_beats_the_optimum() -> None:
    problem = load(INSTANCES / "generated-6-packages-tiers.json")
    greedy = greedy_plan(problem)
    assert greedy is not None
    assert violations(problem, greedy) == []
    assert greedy.total_cents is not None
    optimum = solve(problem, QUICK)
    assert optimum.bound_cents is not None
    assert greedy.total_cents > optimum.bound_cents


def test_the_start_is_a_whole_plan_even_when_the_cheapest_allocations_leave_no_backups() -> None:
    problem = load(INSTANCES / "tight-backups-need-repair.json")
    without_backups = problem.model_copy(
        update={"packages": [package.model_copy(update={"backups": 0}) for package in problem.packages]}
    )
    cheapest = solve(without_backups, QUICK)
    assert cheapest.status == PlanStatus.OPTIMAL
    # The case in point: no reserves can back up exactly these allocations, so the start has to move some.
    assert rematch(problem, cheapest, fixed=cheapest.allocations, params=QUICK).status == PlanStatus.INFEASIBLE
    start, _ = start_without_backups_first(problem, QUICK, QUICK.budget, time.perf_counter() + 60)
    assert start is not None
    assert start.complete
    plan = Plan(status=PlanStatus.FEASIBLE, allocations=start.allocations, reserves=start.reserves)
    assert violations(problem, plan) == []
    assert cost_cents(problem, plan) == start.total_cents
    assert start.allocations != cheapest.allocations
    # The problem without backups bounds the problem's cost: here its optimum, below the optimum with backups.
    with_backups = solve(problem, QUICK)
    assert start.bound_cents is not None and with_backups.total_cents is not None
    assert start.bound_cents == cheapest.total_cents
    assert start.bound_cents < with_backups.total_cents


def test_time_a_part_leaves_over_goes_back_to_the_parts_still_unproved() -> None:
    problem = generate_tight(packages=10, skus=3, offers=30, seed=2)
    smaller, larger = sorted(split_components(problem), key=lambda part: len(part.packages))
    # Reproducible, so the shares are exact: the smaller part first gets 2 units times its share of the sizes
    # (solve._size: 1 + lines x offers, 136 and 210).
    first_share = 2 * 136 / (136 + 210)
    assert (len(smaller.packages), len(larger.packages)) == (4, 6)
    assert solve(smaller, SolveParams(time_limit_seconds=120, work_limit=first_share)).status == PlanStatus.FEASIBLE
    plan = solve(problem, SolveParams(time_limit_seconds=120, work_limit=2))
    assert plan.status == PlanStatus.OPTIMAL
    assert violations(problem, plan) == []


def test_a_part_whose_first_search_finds_no_plan_searches_on_with_what_is_left() -> None:
    # Reproducible, so the order of events is exact: the greedy start finds no plan; the allocations without
    # backups admit no reserves, and their repair finds none in its share; the first search (10% of what is left)
    # finds none either. The search goes on with the rest and finds a plan, rather than give up with most of the
    # budget unspent.
    problem = generate_tight(packages=10, skus=3, offers=30, seed=6)
    assert greedy_plan(problem) is None
    assert len(split_components(problem)) == 1
    plan = solve(problem, SolveParams(time_limit_seconds=60, work_limit=0.1))
    assert plan.status == PlanStatus.FEASIBLE
    assert violations(problem, plan) == []


def test_a_plan_proved_on_the_clock_is_the_same_from_run_to_run() -> None:
    problem = load(INSTANCES / "generated-6-packages.json")
    first, second = (solve(problem, SolveParams(time_limit_seconds=60, num_workers=1)) for _ in range(2))
    assert first.status == second.status == PlanStatus.OPTIMAL
    assert (first.allocations, first.reserves) == (second.allocations, second.reserves)


def test_the_time_limit_is_the_limit_unless_a_work_limit_asks_for_reproducibility() -> None:
    clock = configured_solver(SolveParams(time_limit_seconds=30), budget=30, wall_seconds=30).parameters
    assert clock.max_time_in_seconds == 30
    assert clock.num_workers == min(machine_cores(), 8)
    assert clock.max_deterministic_time > 1e9  # CP-SAT's default: no work limit
    work = configured_solver(SolveParams(time_limit_seconds=30, work_limit=4), budget=4, wall_seconds=30).parameters
    assert (work.max_deterministic_time, work.max_time_in_seconds, work.num_workers) == (4, 30, 1)


def test_no_plan_even_without_backups_is_proved_by_the_start() -> None:
    # 160 units from offers of moq 100 (capacities 100 and 150): 100 + 60 breaks a moq, 160 from one exceeds both.
    # Capacity is ample overall, so no necessary condition sees it; the backup-free start proves it.
    def offer(offer_id: str, moq: int, capacity: int) -> Offer:
        return Offer(
            id=offer_id,
            supplier=f"s-{offer_id}",
            sku="kettle",
            moq=moq,
            capacity=capacity,
            lead_time_days=1,
            quality=90,
            price_tiers=[PriceTier(min_quantity=moq, unit_cents=100)],
            shipping_cents={"north": 0},
        )

    problem = Problem(
        currency="EUR",
        suppliers=[Supplier(id=f"s-{name}") for name in ("a", "b")],
        offers=[offer("a", 100, 100), offer("b", 100, 150)],
        packages=[
            Package(
                id="p", sku="kettle", needed_by_days=5, backups=1, lines=[PackageLine(region="north", quantity=160)]
            )
        ],
    )
    with pytest.raises(NoPlanEvenWithoutBackups):
        start_without_backups_first(problem, QUICK, QUICK.budget, time.perf_counter() + 60)
    plan = solve(problem, QUICK)
    assert plan.status == PlanStatus.INFEASIBLE
    assert plan.explanation
