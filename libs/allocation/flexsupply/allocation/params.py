"""Solver settings shared by solving, explaining and re-matching."""

import os

from ortools.sat.python.cp_model import CpSolver
from pydantic import BaseModel, ConfigDict, Field


class SolveParams(BaseModel):
    model_config = ConfigDict(extra="forbid")  # a setting that no longer exists must not be silently ignored

    # The wall clock's limit: the search uses up to this much time unless it proves the plan optimal sooner.
    time_limit_seconds: float = Field(default=30.0, gt=0)
    # Reproducible plans, when set: one search thread stopped after this many of CP-SAT's deterministic work
    # units, not by the clock, so that the same problem and params give the same plan. The time limit still
    # holds; only a search it stops (a machine too slow or busy for the work) can differ between runs. The bench
    # instances took 0.25-0.5 units per second of one thread (bench/README.md).
    work_limit: float | None = Field(default=None, gt=0)
    # Clock-limited search only: search threads, by default one per core of the machine. Given a whole start,
    # two workers on two cores ended 0.1-0.7% above HiGHS on the tight medium instances where one search ended
    # 0.4-1.5% above, because only a portfolio runs CP-SAT's large-neighbourhood search (README.md, "The
    # matching engine"). One worker proves the same plan from run to run; more prove the same cost, but may pick
    # another plan of that cost. 9.15 has crash reports with many workers (ecosystem notes), hence <= 8.
    num_workers: int = Field(default_factory=lambda: min(machine_cores(), 8), ge=1, le=8)
    random_seed: int = 0
    log_search: bool = False

    @property
    def reproducible(self) -> bool:
        return self.work_limit is not None

    @property
    def budget(self) -> float:
        """What the search may spend, in the unit that stops it: work units when reproducible, else seconds."""
        return self.time_limit_seconds if self.work_limit is None else self.work_limit


def machine_cores() -> int:
    """The cores this process may run on (a container's share, not the host's count)."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


# The parallel portfolio, best first: on 2 workers, max_lp (the stronger LP) beside default_lp proved
# optimality several times faster than CP-SAT's own choice for 2 workers.
PORTFOLIO = ["max_lp", "default_lp", "core", "quick_restart", "reduced_costs", "pseudo_costs", "no_lp", "fixed"]


def configured_solver(params: SolveParams, budget: float, wall_seconds: float) -> CpSolver:
    """A solver that stops after `budget` (in the unit of `params.budget`), and in any case after
    `wall_seconds`."""
    solver = CpSolver()
    solver.parameters.random_seed = params.random_seed
    solver.parameters.catch_sigint_signal = False  # the caller owns Ctrl-C (servers, workers, the command)
    solver.parameters.log_search_progress = params.log_search
    solver.parameters.max_time_in_seconds = wall_seconds
    workers = 1 if params.reproducible else params.num_workers
    solver.parameters.num_workers = workers
    if workers > 1:
        solver.parameters.subsolvers.extend(PORTFOLIO[:workers])
    else:  # one search: the stronger LP beat the default on the bench instances (bench/README.md)
        solver.parameters.linearization_level = 2
    if params.reproducible:
        solver.parameters.max_deterministic_time = budget
    else:
        solver.parameters.max_time_in_seconds = min(budget, wall_seconds)
    return solver


def spent(params: SolveParams, solver: CpSolver) -> float:
    """What a finished solve used of the budget, in the unit of `params.budget`."""
    return solver.deterministic_time if params.reproducible else solver.wall_time
