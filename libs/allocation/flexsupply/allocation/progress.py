"""Progress of the searches a solve runs: the incumbent and the bound as CP-SAT finds them.

A caller that wants it (the command line, a worker's log) listens for the duration of a solve; nothing is recorded
otherwise. CP-SAT calls back from its own threads, so a listener only stores or prints; it never blocks.
"""

import math
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

from ortools.sat.python.cp_model import CpSolver, CpSolverSolutionCallback


@dataclass(frozen=True)
class SearchProgress:
    search: int  # which search of the solve (each part, start and improvement is one), from 1
    incumbent_cents: int | None
    bound_cents: int | None

    @property
    def gap(self) -> float | None:
        if self.incumbent_cents is None or self.bound_cents is None:
            return None
        return abs(self.incumbent_cents - self.bound_cents) / max(1, abs(self.incumbent_cents))


Listener = Callable[[SearchProgress], None]
_listener: ContextVar[Listener | None] = ContextVar("flexsupply_search_listener", default=None)
_searches: ContextVar[int] = ContextVar("flexsupply_search_count", default=0)


@contextmanager
def reporting(listener: Listener) -> Iterator[None]:
    """Call `listener` with each new incumbent and bound of every search started inside the block."""
    token, count = _listener.set(listener), _searches.set(0)
    try:
        yield
    finally:
        _listener.reset(token)
        _searches.reset(count)


class _Watcher(CpSolverSolutionCallback):
    def __init__(self, listener: Listener, search: int) -> None:
        super().__init__()
        self.listener, self.search = listener, search
        self.incumbent: int | None = None
        self.bound: int | None = None

    def on_solution_callback(self) -> None:
        self.incumbent = round(self.objective_value)
        self.bound = math.ceil(self.best_objective_bound - 1e-6)
        self._tell()

    def on_bound(self, bound: float) -> None:
        self.bound = math.ceil(bound - 1e-6)
        self._tell()

    def _tell(self) -> None:
        self.listener(SearchProgress(self.search, self.incumbent, self.bound))


def watcher(solver: CpSolver) -> CpSolverSolutionCallback | None:
    """A solution callback for `solver.solve` when someone listens (and the bound watched too), else None."""
    listener = _listener.get()
    if listener is None:
        return None
    search = _searches.get() + 1
    _searches.set(search)
    watching = _Watcher(listener, search)
    solver.best_bound_callback = watching.on_bound
    return watching
