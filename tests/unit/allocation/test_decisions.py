"""Decisions priced by solving: every relaxation and promise price checked by solving its changed problem again."""

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from flexsupply.allocation import PlanStatus, SolveParams, load_problem, solve, violations
from flexsupply.allocation.decisions import apply_relaxation, promise_prices, relaxations
from flexsupply.allocation.problem import Problem
from flexsupply.allocation.progress import SearchProgress, reporting
from flexsupply.cli.main import app

INSTANCES = Path(__file__).resolve().parents[2] / "instances"
INFEASIBLE = ["infeasible-backup-capacity", "infeasible-moq-and-capacity"]
# One search thread: the same proofs on every run, on a loaded machine too.
PARAMS = SolveParams(time_limit_seconds=10, num_workers=1)


def load(name: str) -> Problem:
    return load_problem((INSTANCES / f"{name}.json").read_text(encoding="utf-8"))


@pytest.mark.parametrize("name", INFEASIBLE)
def test_each_relaxation_gives_the_plan_it_prices(name: str) -> None:
    problem = load(name)
    found = relaxations(problem, PARAMS)
    assert found, "an infeasible instance with no way out"
    for relaxation in found:
        relaxed = apply_relaxation(
            problem, relaxation.kind, relaxation.package, relaxation.amount, relaxation.region, relaxation.supplier
        )
        plan = solve(relaxed, PARAMS)
        assert plan.has_plan, relaxation.change
        assert violations(relaxed, plan) == []
        if relaxation.status == PlanStatus.OPTIMAL and plan.status == PlanStatus.OPTIMAL:
            assert plan.total_cents == relaxation.total_cents, relaxation.change
    costs = [relaxation.total_cents for relaxation in found if relaxation.total_cents is not None]
    assert costs == sorted(costs)


@pytest.mark.parametrize("name", INFEASIBLE)
def test_a_change_by_an_amount_asks_for_no_more_than_is_needed(name: str) -> None:
    problem = load(name)
    for relaxation in relaxations(problem, PARAMS, limit=10):
        if relaxation.kind not in ("smaller_line", "more_capacity") or relaxation.amount == 1:
            continue
        less = apply_relaxation(
            problem, relaxation.kind, relaxation.package, relaxation.amount - 1, relaxation.region, relaxation.supplier
        )
        assert solve(less, PARAMS).status == PlanStatus.INFEASIBLE, relaxation.change


def test_a_problem_with_a_plan_needs_no_relaxation() -> None:
    assert relaxations(load("example-problem"), PARAMS) == []


def test_each_promise_price_is_the_cost_of_the_problem_without_it() -> None:
    problem = load("example-problem")
    plan = solve(problem, PARAMS)
    prices = promise_prices(problem, plan, PARAMS)
    # N backups against N-1 and 0, the quality floor, the deadline: for each package.
    assert {(price.package, price.alternative) for price in prices} >= {
        ("dp-candle", "1 backup instead of 2"),
        ("dp-candle", "0 backups instead of 2"),
        ("dp-bread", "0 backups instead of 1"),
        ("dp-bread", "needed by day 8 instead of 7"),
    }
    for price in prices:
        assert price.plan_cents == plan.total_cents  # the example is one part: the whole plan
        assert 0 <= price.premium_cents == price.plan_cents - price.alternative_cents
        alternative = solve(apply_relaxation(problem, price.relaxation, price.package, price.amount), PARAMS)
        assert alternative.has_plan
        if price.alternative_status == PlanStatus.OPTIMAL and alternative.status == PlanStatus.OPTIMAL:
            assert alternative.total_cents == price.alternative_cents, price.alternative
    backups = {p.alternative: p.premium_cents for p in prices if p.package == "dp-candle" and p.promise == "backups"}
    assert backups["0 backups instead of 2"] >= backups["1 backup instead of 2"] > 0


def test_a_plan_reports_its_searches_progress() -> None:
    seen: list[SearchProgress] = []
    with reporting(seen.append):
        plan = solve(load("example-problem"), PARAMS)
    assert all(p.incumbent_cents is None or p.bound_cents is None or p.bound_cents <= p.incumbent_cents for p in seen)
    assert plan.total_cents in {p.incumbent_cents for p in seen}  # the plan was one search's incumbent
    assert min(p.search for p in seen) == 1  # numbered per solve, from its first search


def test_the_command_adds_the_decisions_to_the_plan_json() -> None:
    answer = CliRunner().invoke(
        app, ["match", str(INSTANCES / "infeasible-moq-and-capacity.json"), "--json", "--decisions", "--quiet"]
    )
    assert answer.exit_code == 3
    document = json.loads(answer.stdout)
    assert document["status"] == "infeasible"
    assert document["decisions"]["relaxations"][0]["total_cents"] > 0
