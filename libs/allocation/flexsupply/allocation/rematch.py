"""Re-matching after a supplier fails or declines: solve again, changing as little as possible.

Lexicographic, not a penalty per moved unit: first keep as many of the previously awarded units as
possible (each is a production commitment someone has acted on), then the least cost among the plans that
keep that many. A penalty would need a price per moved unit that nobody can state, and any finite one
lets a large enough saving move awarded units.
"""

import time
from collections import defaultdict
from collections.abc import Iterable

from flexsupply.allocation.check import cost_cents
from flexsupply.allocation.explain import explain
from flexsupply.allocation.model import build_model, cost_expression, hint_plan, units_moved_from
from flexsupply.allocation.params import SolveParams
from flexsupply.allocation.plan import Allocation, NoPlanInTime, Plan, PlanStatus, relative_gap
from flexsupply.allocation.problem import Problem
from flexsupply.allocation.search import run


class ImpossibleFix(ValueError):
    """A fixed allocation that no plan can contain: an unknown, ineligible or excluded offer."""


def rematch(
    problem: Problem,
    previous: Plan,
    excluded_suppliers: Iterable[str] = (),
    fixed: Iterable[Allocation] = (),
    params: SolveParams | None = None,
) -> Plan:
    """The least-cost plan without `excluded_suppliers`, containing every `fixed` allocation, that keeps as
    many of `previous`'s allocated units as any such plan can. Raises NoPlanInTime."""
    params = params or SolveParams()
    started = time.perf_counter()
    deadline = started + params.time_limit_seconds
    remaining = without_suppliers(problem, set(excluded_suppliers))
    model, variables = build_model(remaining)

    fixed = list(fixed)
    for allocation in fixed:
        var = variables.allocation.get((allocation.package, allocation.region, allocation.offer))
        if var is None:
            raise ImpossibleFix(f"{allocation.package} cannot get {allocation.region} units from {allocation.offer}")
        model.add(var == allocation.quantity)

    moved = units_moved_from(model, variables, previous.allocations)
    model.minimize(moved)
    least_moved = run(model, variables, params, params.budget / 2, deadline)
    if least_moved.status is None:
        raise NoPlanInTime(params.time_limit_seconds, params.work_limit)
    if least_moved.status == PlanStatus.INFEASIBLE:
        return _no_plan(remaining, fixed, time.perf_counter() - started)

    # Counted on the plan found, not read from the solver's objective: a plan found before time ran out may keep
    # more than its objective value says, and the second phase may then keep as many.
    fewest_moved_units = moved_units(previous, Plan(status=PlanStatus.FEASIBLE, allocations=least_moved.allocations))
    model.add(moved <= fewest_moved_units)
    model.minimize(cost_expression(remaining, variables))
    hint_plan(model, remaining, variables, least_moved.allocations, least_moved.reserves)
    # Whatever the first phase left, usually most of it: it is quickly proved.
    cheapest = run(model, variables, params, params.budget - least_moved.spent, deadline)
    if cheapest.status is PlanStatus.OPTIMAL or cheapest.status is PlanStatus.FEASIBLE:
        status, found = cheapest.status, cheapest
    else:  # no cheaper plan in time: the first phase's plan still keeps the most and is valid
        status, found = PlanStatus.FEASIBLE, least_moved
    plan = Plan(status=status, allocations=found.allocations, reserves=found.reserves)
    total = cost_cents(remaining, plan)  # the contract's integer formula, exact at any size
    bound = total if status == PlanStatus.OPTIMAL else cheapest.bound_cents
    return plan.model_copy(
        update={
            "total_cents": total,
            "bound_cents": bound,
            "gap": None if bound is None else relative_gap(total, bound),
            "solve_seconds": time.perf_counter() - started,
        }
    )


def moved_units(previous: Plan, plan: Plan) -> int:
    """Previously allocated units that the new plan no longer allocates the same way."""
    now = _per_key(plan.allocations)
    return sum(max(0, quantity - now.get(key, 0)) for key, quantity in _per_key(previous.allocations).items())


def without_suppliers(problem: Problem, supplier_ids: set[str]) -> Problem:
    return problem.model_copy(
        update={
            "suppliers": [s for s in problem.suppliers if s.id not in supplier_ids],
            "offers": [o for o in problem.offers if o.supplier not in supplier_ids],
        }
    )


def _no_plan(problem: Problem, fixed: list[Allocation], solve_seconds: float) -> Plan:
    reasons = explain(problem)
    if fixed:
        listed = ", ".join(f"{a.quantity} {a.package} {a.region} from {a.offer}" for a in fixed)
        reasons = [f"With these allocations fixed ({listed}), no plan exists.", *reasons]
    return Plan(status=PlanStatus.INFEASIBLE, explanation=reasons, solve_seconds=solve_seconds)


def _per_key(allocations: list[Allocation]) -> dict[tuple[str, str, str], int]:
    totals: dict[tuple[str, str, str], int] = defaultdict(int)
    for allocation in allocations:
        totals[allocation.package, allocation.region, allocation.offer] += allocation.quantity
    return totals
