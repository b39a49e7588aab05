"""Solver settings shared by solving, explaining and re-matching."""

from ortools.sat.python.cp_model import CpSolver
from pydantic import BaseModel, Field


class SolveParams(BaseModel):
    time_limit_seconds: float = Field(default=30.0, gt=0)
    # Deterministic (the default): the same problem and params give the same plan. CP-SAT then searches on
    # one thread and stops after an amount of its deterministic work units calibrated to the time limit,
    # not by the clock. The clock still stops it at `clock_limit_factor` times the time limit, so that a time
    # limit holds; only a search stopped that way (a machine too slow or busy to do the calibrated work in
    # time) can differ between runs. On the bench instances this single search with the stronger LP
    # (linearization level 2) also beat the 2-worker portfolio and the interleaved search (bench/README.md).
    deterministic: bool = True
    clock_limit_factor: float = Field(default=1.0, ge=1.0, le=10.0)
    # Only when not deterministic. 9.15 has crash reports with many workers (ecosystem notes), hence <= 8.
    num_workers: int = Field(default=2, ge=1, le=8)
    random_seed: int = 0
    log_search: bool = False


# The single-thread search did 0.25-0.5 deterministic units per wall second on the bench instances, less on a
# loaded machine, so this many units fit in one second of the time limit.
DETERMINISTIC_UNITS_PER_SECOND = 0.2
# The parallel portfolio, best first: on 2 workers, max_lp (the stronger LP) beside default_lp proved
# optimality several times faster than CP-SAT's own choice for 2 workers.
PORTFOLIO = ["max_lp", "default_lp", "core", "quick_restart", "reduced_costs", "pseudo_costs", "no_lp", "fixed"]


def configured_solver(params: SolveParams, budget_seconds: float, wall_seconds: float) -> CpSolver:
    """A solver that stops after `budget_seconds` of work, and in any case after `wall_seconds`."""
    solver = CpSolver()
    solver.parameters.random_seed = params.random_seed
    solver.parameters.catch_sigint_signal = False  # the caller owns Ctrl-C (servers, workers, the command)
    solver.parameters.log_search_progress = params.log_search
    if params.deterministic:
        solver.parameters.num_workers = 1
        solver.parameters.linearization_level = 2
        solver.parameters.max_deterministic_time = budget_seconds * DETERMINISTIC_UNITS_PER_SECOND
        solver.parameters.max_time_in_seconds = wall_seconds
    else:
        solver.parameters.num_workers = params.num_workers
        if params.num_workers > 1:
            solver.parameters.subsolvers.extend(PORTFOLIO[: params.num_workers])
        else:
            solver.parameters.linearization_level = 2
        solver.parameters.max_time_in_seconds = min(budget_seconds, wall_seconds)
    return solver
