"""One CP-SAT search of a model, in the plan's terms."""

import math
import time
from dataclasses import dataclass, field

from ortools.sat.python.cp_model import FEASIBLE, INFEASIBLE, MODEL_INVALID, OPTIMAL, CpModel, CpSolver

from flexsupply.allocation import progress
from flexsupply.allocation.model import Variables
from flexsupply.allocation.params import SolveParams, configured_solver, spent
from flexsupply.allocation.plan import Allocation, PlanStatus, Reserve


@dataclass
class Outcome:
    """One solve of one model: what CP-SAT found, in plan terms; status None when neither a plan nor a proof.
    `total_cents` and `bound_cents` are the model's objective and bound, in cents: re-match's first phase, whose
    objective is the units it moves, counts them from its allocations instead."""

    status: PlanStatus | None
    allocations: list[Allocation] = field(default_factory=list)
    reserves: list[Reserve] = field(default_factory=list)
    total_cents: int | None = None
    bound_cents: int | None = None
    spent: float = 0.0  # of the budget, in its unit (SolveParams.budget)


def run(model: CpModel, variables: Variables, params: SolveParams, budget: float, deadline: float) -> Outcome:
    solver = configured_solver(params, max(budget, 0.01), max(deadline - time.perf_counter(), 0.01))
    status = solver.solve(model, progress.watcher(solver))
    used = spent(params, solver)
    if status == MODEL_INVALID:
        raise RuntimeError(f"invalid CP-SAT model: {model.validate()}")
    if status == INFEASIBLE:
        return Outcome(PlanStatus.INFEASIBLE, spent=used)
    if status not in (OPTIMAL, FEASIBLE):
        return Outcome(None, bound_cents=_bound(solver), spent=used)
    total = round(solver.objective_value)
    return Outcome(
        status=PlanStatus.OPTIMAL if status == OPTIMAL else PlanStatus.FEASIBLE,
        allocations=[
            Allocation(package=package_id, offer=offer_id, region=region, quantity=solver.value(var))
            for (package_id, region, offer_id), var in variables.allocation.items()
            if solver.value(var) > 0
        ],
        reserves=[
            Reserve(package=package_id, offer=offer_id, quantity=solver.value(var))
            for (package_id, offer_id), var in variables.reserve.items()
            if solver.value(var) > 0
        ],
        total_cents=total,
        bound_cents=total if status == OPTIMAL else _bound(solver),
        spent=used,
    )


def _bound(solver: CpSolver) -> int:
    return math.ceil(solver.best_objective_bound - 1e-6)  # costs are whole cents
