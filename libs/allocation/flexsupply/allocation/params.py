"""Solver settings shared by solving, explaining and re-matching."""

from ortools.sat.python.cp_model import CpSolver
from pydantic import BaseModel, Field


class SolveParams(BaseModel):
    time_limit_seconds: float = Field(default=30.0, gt=0)
    # 9.15 has crash reports with many workers (ecosystem notes, section 3), hence at most 8.
    num_workers: int = Field(default=2, ge=1, le=8)
    # Deterministic: the same problem and params give the same plan, at the price of CP-SAT's interleaved
    # search, whose time limit counts deterministic work units (about seconds) instead of wall seconds.
    deterministic: bool = True
    random_seed: int = 0
    log_search: bool = False


def configured_solver(params: SolveParams, budget_seconds: float) -> CpSolver:
    solver = CpSolver()
    solver.parameters.num_workers = params.num_workers
    solver.parameters.random_seed = params.random_seed
    solver.parameters.catch_sigint_signal = False  # the caller owns Ctrl-C (servers, workers, the command)
    solver.parameters.log_search_progress = params.log_search
    if params.deterministic:
        solver.parameters.interleave_search = True
        solver.parameters.max_deterministic_time = budget_seconds
    else:
        solver.parameters.max_time_in_seconds = budget_seconds
    return solver
