"""The bench's reference MILP (bench/matching/highs.py) is a model of the contract: on the test instances its
plans pass the contract's checker, cost what its objective says, and its optimum is the engine's."""

from pathlib import Path

import pytest

from flexsupply.allocation import PlanStatus, Problem, SolveParams, cost_cents, load_problem, solve, violations

pytest.importorskip("highspy", reason="highspy is a bench dependency (the dev group)")

from bench.matching.generate import generate_tight
from bench.matching.highs import solve_highs

INSTANCES = Path(__file__).parents[2] / "instances"
INSTANCE_FILES = sorted(INSTANCES.glob("*.json"))


def check_agreement(problem: Problem) -> None:
    reference = solve_highs(problem, time_limit_seconds=60)
    ours = solve(problem, SolveParams(time_limit_seconds=60))
    assert reference.status == ours.status
    if reference.plan is None:
        return
    assert reference.status == PlanStatus.OPTIMAL
    assert violations(problem, reference.plan) == []
    assert cost_cents(problem, reference.plan) == reference.total_cents == reference.bound_cents
    assert reference.total_cents == ours.total_cents


@pytest.mark.parametrize("path", INSTANCE_FILES, ids=lambda path: path.stem)
def test_the_reference_milp_finds_the_engines_optimum(path: Path) -> None:
    check_agreement(load_problem(path.read_text()))


def test_the_reference_milp_agrees_on_a_small_tight_instance() -> None:
    problem = generate_tight(packages=6, skus=2, offers=14, seed=2)
    assert any(package.backups == 2 for package in problem.packages)
    check_agreement(problem)
