"""Each constraint family of the CP-SAT model constrains: a small problem has no plan with every family and has
one without that family alone. The families can be added in any order."""

from collections.abc import Callable
from pathlib import Path

import pytest
from ortools.sat.python.cp_model import FEASIBLE, INFEASIBLE, OPTIMAL, CpModel, CpSolver, CpSolverStatus

from flexsupply.allocation import Offer, Package, PackageLine, PriceTier, Problem, Supplier, load_problem
from flexsupply.allocation.model import (
    CONSTRAINT_FAMILIES,
    Variables,
    add_backups,
    add_capacities,
    add_demand,
    add_minimum_order_quantities,
    add_price_tiers,
    cost_expression,
)

Family = Callable[[CpModel, Problem, Variables], None]
EXAMPLE = Path(__file__).parents[2] / "instances" / "example-problem.json"


def offer(offer_id: str, supplier: str, **changes: object) -> Offer:
    fields: dict[str, object] = {
        "id": offer_id,
        "supplier": supplier,
        "sku": "box",
        "moq": 10,
        "capacity": 1000,
        "lead_time_days": 1,
        "quality": 90,
        "fixed_cents": 500,
        "price_tiers": [PriceTier(min_quantity=0, unit_cents=300), PriceTier(min_quantity=200, unit_cents=250)],
        "shipping_cents": {"north": 10, "south": 20},
    }
    return Offer.model_validate(fields | changes)


def package(package_id: str, lines: dict[str, int], backups: int = 0) -> Package:
    return Package(
        id=package_id,
        sku="box",
        needed_by_days=5,
        min_quality=0,
        backups=backups,
        lines=[PackageLine(region=region, quantity=quantity) for region, quantity in lines.items()],
    )


def problem_of(offers: list[Offer], *packages: Package, **capacities: int) -> Problem:
    suppliers = sorted({o.supplier for o in offers})
    return Problem(
        currency="CNY",
        suppliers=[Supplier(id=s, capacity=capacities.get(s)) for s in suppliers],
        offers=offers,
        packages=list(packages),
    )


def status(problem: Problem, families: list[Family]) -> CpSolverStatus:
    model = CpModel()
    variables = Variables.create(model, problem)
    for add_family in families:
        add_family(model, problem, variables)
    solver = CpSolver()
    solver.parameters.num_workers = 1
    solver.parameters.max_time_in_seconds = 10
    return solver.solve(model)


def without(family: Family) -> list[Family]:
    return [other for other in CONSTRAINT_FAMILIES if other is not family]


CASES = {
    # Rule 2: 500 units asked, the only offer can make 300.
    "demand": (add_demand, problem_of([offer("o-1", "s-1", capacity=300)], package("dp-1", {"north": 500}))),
    # Rule 3 on reserves: 100 units need a reserve of 100, and the only backup's moq is 500.
    "moq": (
        add_minimum_order_quantities,
        problem_of(
            [offer("o-1", "s-1"), offer("o-2", "s-2", moq=500, capacity=400)],
            package("dp-1", {"north": 100}, backups=1),
        ),
    ),
    # Rule 4, per offer: o-2 must make dp-2 (only it ships south) and back dp-1 up, or make dp-1 too, with
    # o-1 backing it: 400 units either way on an offer of 300.
    "offer capacity": (
        add_capacities,
        problem_of(
            [offer("o-1", "s-1", shipping_cents={"north": 10}), offer("o-2", "s-2", capacity=300)],
            package("dp-1", {"north": 200}, backups=1),
            package("dp-2", {"south": 200}),
        ),
    ),
    # Rule 4, per supplier: two offers of 300 from a supplier that can make 300 in all.
    "supplier capacity": (
        add_capacities,
        problem_of(
            [offer("o-1", "s-1", capacity=300, shipping_cents={"north": 10}), offer("o-2", "s-1", capacity=300)],
            package("dp-1", {"north": 200, "south": 200}),
            **{"s-1": 300},
        ),
    ),
    # Rules 5-6: one backup asked, and the only supplier is the one making the package.
    "backups": (add_backups, problem_of([offer("o-1", "s-1")], package("dp-1", {"north": 100}, backups=1))),
}


@pytest.mark.parametrize(("family", "problem"), CASES.values(), ids=list(CASES))
def test_each_family_alone_makes_its_problem_infeasible(family: Family, problem: Problem) -> None:
    assert status(problem, CONSTRAINT_FAMILIES) == INFEASIBLE
    assert status(problem, without(family)) in (OPTIMAL, FEASIBLE)


def least_cost(problem: Problem, families: list[Family]) -> float:
    model = CpModel()
    variables = Variables.create(model, problem)
    for add_family in families:
        add_family(model, problem, variables)
    model.minimize(cost_expression(problem, variables))
    solver = CpSolver()
    solver.parameters.num_workers = 1
    solver.parameters.max_time_in_seconds = 20
    assert solver.solve(model) == OPTIMAL
    return solver.objective_value


def test_the_price_tiers_are_what_the_goods_cost() -> None:
    # 250 units reach the 250-cent tier: 62,500 for the goods, 2,500 shipping and the 500 fixed cost.
    problem = problem_of([offer("o-1", "s-1")], package("dp-1", {"north": 250}))
    assert least_cost(problem, CONSTRAINT_FAMILIES) == 250 * 250 + 250 * 10 + 500
    assert least_cost(problem, without(add_price_tiers)) == 250 * 10 + 500  # unlinked, the goods cost nothing


def test_the_families_can_be_added_in_any_order() -> None:
    example = load_problem(EXAMPLE.read_text())
    assert least_cost(example, list(reversed(CONSTRAINT_FAMILIES))) == 3_538_250
