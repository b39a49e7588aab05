"""Solver settings shared by solving, explaining and re-matching."""

from ortools.sat.python.cp_model import CpSolver
from pydantic import BaseModel, Field


class SolveParams(BaseModel):
    time_limit_seconds: float = Field(default=30.0, gt=0)
    # 9.15 has crash reports with many workers (ecosystem notes, section 3), hence at most 8.
    num_workers: int = Field(default=2, ge=1, le=8)
    # Deterministic: the same problem and params give the same plan, because the search stops after an amount
    # of CP-SAT's deterministic work units calibrated to the time limit rather than by the clock. A busy
    # machine then takes longer; at twice the time limit the clock stops it anyway, and only then can two
    # runs differ.
    deterministic: bool = True
    random_seed: int = 0
    log_search: bool = False


# Interleaved search on 2 workers did 0.25-0.5 deterministic units per wall second on the bench instances,
# less on a loaded machine, so this many units fit in one second of the time limit.
DETERMINISTIC_UNITS_PER_SECOND = 0.2
WALL_CLOCK_SLACK = 2.0


def configured_solver(params: SolveParams, budget_seconds: float, wall_seconds: float) -> CpSolver:
    """A solver that stops after `budget_seconds` of work, and in any case after `wall_seconds`."""
    solver = CpSolver()
    solver.parameters.num_workers = params.num_workers
    solver.parameters.random_seed = params.random_seed
    solver.parameters.catch_sigint_signal = False  # the caller owns Ctrl-C (servers, workers, the command)
    solver.parameters.log_search_progress = params.log_search
    # Interleaved search runs the subsolvers in a fixed order. It is what makes a solve reproducible, and on
    # 2 workers it also closed gaps that the default parallel portfolio left at 2-3% (bench/README.md).
    solver.parameters.interleave_search = params.num_workers > 1
    if params.deterministic:
        solver.parameters.max_deterministic_time = budget_seconds * DETERMINISTIC_UNITS_PER_SECOND
        solver.parameters.max_time_in_seconds = wall_seconds * WALL_CLOCK_SLACK
    else:
        solver.parameters.max_time_in_seconds = min(budget_seconds, wall_seconds)
    return solver
