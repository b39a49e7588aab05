"""Solver settings shared by solving, explaining and re-matching."""

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
    # Clock-limited search only. One search with the stronger LP (linearization level 2) did as well as the
    # 2-worker portfolio or better at equal wall time on this busy 2-core machine, with milder worst cases, and a
    # plan it proves is the same from run to run (README.md, "The matching engine"). 9.15 has crash reports with
    # many workers (ecosystem notes), hence <= 8.
    num_workers: int = Field(default=1, ge=1, le=8)
    random_seed: int = 0
    log_search: bool = False

    @property
    def reproducible(self) -> bool:
        return self.work_limit is not None

    @property
    def budget(self) -> float:
        """What the search may spend, in the unit that stops it: work units when reproducible, else seconds."""
        return self.time_limit_seconds if self.work_limit is None else self.work_limit


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
