"""Solve a matching problem to proved optimality (or the best plan and bound within the time limit)."""

import time
from dataclasses import dataclass, replace

from flexsupply.allocation.check import cost_cents
from flexsupply.allocation.explain import explain, necessary_conditions
from flexsupply.allocation.greedy import greedy_plan
from flexsupply.allocation.improve import improve_by_sku
from flexsupply.allocation.model import build_model, hint_plan, units_moved_from
from flexsupply.allocation.params import SolveParams
from flexsupply.allocation.plan import Allocation, NoPlanInTime, Plan, PlanStatus, Reserve, relative_gap
from flexsupply.allocation.problem import Problem, is_eligible
from flexsupply.allocation.search import Outcome, run


def solve(problem: Problem, params: SolveParams | None = None, *, explain_infeasible: bool = True) -> Plan:
    """The least-cost plan; its explanation says why when there is none (unless not asked: the explaining search
    can take as long again). Raises NoPlanInTime."""
    params = params or SolveParams()
    started = time.perf_counter()
    reasons = necessary_conditions(problem)
    if reasons:
        return Plan(status=PlanStatus.INFEASIBLE, explanation=reasons, solve_seconds=time.perf_counter() - started)
    # Smallest first, so that the time a quick part leaves over goes to the larger parts after it.
    components = sorted(split_components(problem), key=_size)
    sizes = [_size(component) for component in components]
    budget_left = params.budget
    deadline = started + params.time_limit_seconds
    outcomes = []
    for index, component in enumerate(components):
        if not params.reproducible:  # what the clock leaves, including the time spent outside the solver
            budget_left = deadline - time.perf_counter()
        budget = max(budget_left, 0.05) * sizes[index] / sum(sizes[index:])
        outcome = solve_component(component, params, budget, deadline)
        budget_left -= outcome.spent
        if outcome.status == PlanStatus.INFEASIBLE:
            return Plan(
                status=PlanStatus.INFEASIBLE,
                explanation=explain(component, min(params.time_limit_seconds, 20.0)) if explain_infeasible else [],
                solve_seconds=time.perf_counter() - started,
            )
        if outcome.status is None:
            raise NoPlanInTime(params.time_limit_seconds, params.work_limit)
        outcomes.append(outcome)
    # A part proved within its share leaves the rest to the parts after it, but not to the smaller ones before it,
    # which stopped at their share unproved: they search again, in turn, from their plans with what is left. A
    # 10-package instance in two parts otherwise stopped at 4.3 s of its 10, unproved.
    unproved = [index for index, outcome in enumerate(outcomes) if outcome.status != PlanStatus.OPTIMAL]
    for position, index in enumerate(unproved):
        if not params.reproducible:
            budget_left = deadline - time.perf_counter()
        budget = budget_left * sizes[index] / sum(sizes[later] for later in unproved[position:])
        if budget < LEAST_BUDGET_TO_CONTINUE:
            continue
        outcomes[index] = continue_component(components[index], outcomes[index], params, budget, deadline)
        budget_left -= outcomes[index].spent
    return combine(outcomes, time.perf_counter() - started)


# Below this (seconds, or work units when reproducible) a second search of a part is not worth building its model.
LEAST_BUDGET_TO_CONTINUE = 0.1


def combine(outcomes: list[Outcome], solve_seconds: float) -> Plan:
    proved = all(outcome.status == PlanStatus.OPTIMAL for outcome in outcomes)
    total = sum(outcome.total_cents or 0 for outcome in outcomes)
    bound = sum(outcome.bound_cents or 0 for outcome in outcomes)
    return Plan(
        status=PlanStatus.OPTIMAL if proved else PlanStatus.FEASIBLE,
        total_cents=total,
        bound_cents=total if proved else bound,
        allocations=[allocation for outcome in outcomes for allocation in outcome.allocations],
        reserves=[reserve for outcome in outcomes for reserve in outcome.reserves],
        gap=0.0 if proved else relative_gap(total, bound),
        solve_seconds=solve_seconds,
    )


# Shares of a component's budget for the quick solves that build the start when packages have backups.
PRIMARY_START_SHARE = 0.1
RESERVE_START_SHARE = 0.05
REPAIR_START_SHARE = 0.1
# The first search's share of what the start leaves, when there are SKUs to improve one at a time, and at most
# the share of the whole budget for that improvement (which usually stops sooner).
FIRST_SEARCH_SHARE = 0.1
IMPROVE_SHARE = 0.4
# The start is stopped by work even when the search is stopped by the clock: on a busy machine a share of the
# clock can be too little to find any start (a large bench instance then had no plan at all in 60 s), and the
# same start every time makes the clock-limited search less variable. The single search did 0.25-0.5 units a
# second on the bench instances.
START_UNITS_PER_SECOND = 0.2


@dataclass
class Start:
    """A plan to start the search from, or (total_cents None) allocations that have no backups yet; with the
    bound that the search of the problem without backups proved, which bounds the problem's cost too (the same
    allocations, plus reserves that cost something or nothing)."""

    allocations: list[Allocation]
    reserves: list[Reserve]
    total_cents: int | None
    bound_cents: int | None = None

    @property
    def complete(self) -> bool:
        return self.total_cents is not None


def solve_component(problem: Problem, params: SolveParams, budget: float, deadline: float) -> Outcome:
    greedy = greedy_plan(problem)
    starts = [] if greedy is None else [Start(greedy.allocations, greedy.reserves, greedy.total_cents or 0)]
    used, began = 0.0, time.perf_counter()
    if any(package.backups > 0 for package in problem.packages):
        try:
            if params.reproducible:
                start, used = start_without_backups_first(problem, params, budget, deadline)
            else:
                by_work = params.model_copy(update={"work_limit": budget * START_UNITS_PER_SECOND})
                start, _ = start_without_backups_first(problem, by_work, by_work.budget, deadline)
                used = time.perf_counter() - began
        except NoPlanEvenWithoutBackups as proof:
            return Outcome(PlanStatus.INFEASIBLE, spent=proof.spent)
        if start is not None:
            starts.append(start)
    complete = [start for start in starts if start.complete]
    relaxed_bound = max((start.bound_cents or 0 for start in starts), default=0)
    start = min(complete, key=lambda start: start.total_cents or 0, default=next(iter(starts), None))
    # A first search, which often proves a small problem at once; if it does not, the plan it found is improved
    # one SKU at a time (improve.py) and searched again from there with what is left.
    several_skus = len({package.sku for package in problem.packages}) > 1
    first_budget = (budget - used) * (FIRST_SEARCH_SHARE if several_skus else 1.0)
    model, variables = build_model(problem)
    if start is not None:
        hint_plan(model, problem, variables, start.allocations, start.reserves)
    outcome = run(model, variables, params, first_budget, deadline)
    if outcome.status is None and several_skus and not (start and start.complete):
        # No plan yet and none to improve: the search goes on with what is left rather than give up.
        later = run(model, variables, params, budget - used - outcome.spent, deadline)
        outcome = replace(later, spent=outcome.spent + later.spent)
    outcome.spent += used
    if outcome.status in (PlanStatus.OPTIMAL, PlanStatus.FEASIBLE):
        # CP-SAT reports its objective as a double; the contract's integer formula is exact at any size.
        found = Plan(status=PlanStatus.FEASIBLE, allocations=outcome.allocations, reserves=outcome.reserves)
        outcome.total_cents = cost_cents(problem, found)
        if outcome.status == PlanStatus.OPTIMAL:
            outcome.bound_cents = outcome.total_cents
    if outcome.status is None and start is not None and start.complete:  # CP-SAT found no plan in time
        outcome.status, outcome.total_cents = PlanStatus.FEASIBLE, start.total_cents
        outcome.allocations, outcome.reserves = start.allocations, start.reserves
    if outcome.status == PlanStatus.FEASIBLE and relaxed_bound > (outcome.bound_cents or 0):
        # A search stopped before it has a bound (a large part in its first seconds) reports 0; the relaxed one bounds.
        outcome.bound_cents = relaxed_bound
    if outcome.status != PlanStatus.FEASIBLE or not several_skus:
        return outcome
    allocations, reserves, spent = improve_by_sku(
        problem,
        outcome.allocations,
        outcome.reserves,
        params,
        min(budget * IMPROVE_SHARE, budget - outcome.spent),
        deadline,
    )
    found = Plan(status=PlanStatus.FEASIBLE, allocations=allocations, reserves=reserves)
    improved = replace(
        outcome,
        allocations=allocations,
        reserves=reserves,
        total_cents=cost_cents(problem, found),
        spent=outcome.spent + spent,
    )
    if improved.total_cents == improved.bound_cents:
        return replace(improved, status=PlanStatus.OPTIMAL)
    if budget - improved.spent < LEAST_BUDGET_TO_CONTINUE:
        return improved
    again = continue_component(problem, improved, params, budget - improved.spent, deadline)
    return replace(again, spent=improved.spent + again.spent)


def continue_component(
    problem: Problem, found: Outcome, params: SolveParams, budget: float, deadline: float
) -> Outcome:
    """Search a part again from the plan found before; the better plan, with the higher bound."""
    model, variables = build_model(problem)
    hint_plan(model, problem, variables, found.allocations, found.reserves)
    again = run(model, variables, params, budget, deadline)
    bound = max(found.bound_cents or 0, again.bound_cents or 0)
    improved = again.total_cents is not None and again.total_cents < (found.total_cents or 0)
    if again.allocations and (again.status == PlanStatus.OPTIMAL or improved):
        plan = Plan(status=PlanStatus.FEASIBLE, allocations=again.allocations, reserves=again.reserves)
        total = cost_cents(problem, plan)
        proved = again.status == PlanStatus.OPTIMAL
        return replace(again, total_cents=total, bound_cents=total if proved else bound)
    return replace(found, bound_cents=bound, spent=again.spent)


class NoPlanEvenWithoutBackups(Exception):
    """The problem with every package's backups dropped has no plan, so the problem has none: the full model need
    not prove it again."""

    def __init__(self, spent: float) -> None:
        super().__init__("no plan even without backups")
        self.spent = spent


def start_without_backups_first(
    problem: Problem, params: SolveParams, budget: float, deadline: float
) -> tuple[Start | None, float]:
    """A start for the full model, and the budget spent on it: the allocations of the problem with every
    package's backups set to 0 (which CP-SAT solves several times faster), then the cheapest reserves for
    exactly those allocations, or, when they admit none, the plan nearest to them.

    With the greedy start alone, the single-thread search spent most of its time finding the optimum, not
    proving it (hinted with the optimum, the small bench instances were proved in a tenth of the work). This
    start was 0.02-0.2% above the optimum on them, against 2-4% for the greedy one (bench/README.md).
    """
    relaxed = problem.model_copy(
        update={"packages": [package.model_copy(update={"backups": 0}) for package in problem.packages]}
    )
    model, variables = build_model(relaxed)
    greedy = greedy_plan(relaxed)
    if greedy is not None:
        hint_plan(model, relaxed, variables, greedy.allocations, greedy.reserves)
    primary = run(model, variables, params, budget * PRIMARY_START_SHARE, deadline)
    used = primary.spent
    if primary.status == PlanStatus.INFEASIBLE:
        raise NoPlanEvenWithoutBackups(used)
    if not primary.allocations:
        return None, used
    model, variables = build_model(problem)
    chosen = {(a.package, a.region, a.offer): a.quantity for a in primary.allocations}
    for key, var in variables.allocation.items():
        model.add(var == chosen.get(key, 0))
    reserved = run(model, variables, params, budget * RESERVE_START_SHARE, deadline)
    used += reserved.spent
    if reserved.total_cents is not None and reserved.allocations:
        return Start(reserved.allocations, reserved.reserves, reserved.total_cents, primary.bound_cents), used
    # These allocations leave some package without enough backups (the suppliers that could back it up are
    # allocated to it or out of capacity): the nearest complete plan, moving as few of their units as it can.
    # From the allocations alone, the search found no plan for 8.6 s of 30 on a tight bench instance.
    model, variables = build_model(problem)
    model.minimize(units_moved_from(model, variables, primary.allocations))
    hint_plan(model, problem, variables, primary.allocations, [])
    repaired = run(model, variables, params, budget * REPAIR_START_SHARE, deadline)
    used += repaired.spent
    if not repaired.allocations:
        # Hinted with no reserves, the allocations still guide the search: on the large bench instance where
        # this happened, the gap at the limit fell from 2.2% to 0.8% (bench/README.md).
        return Start(primary.allocations, [], None, primary.bound_cents), used
    found = Plan(status=PlanStatus.FEASIBLE, allocations=repaired.allocations, reserves=repaired.reserves)
    return Start(repaired.allocations, repaired.reserves, cost_cents(problem, found), primary.bound_cents), used


def split_components(problem: Problem) -> list[Problem]:
    """Packages interact only through offers they may share and capacity-limited suppliers; solve each
    connected group of packages alone."""
    parent = {package.id: package.id for package in problem.packages}

    def root(package_id: str) -> str:
        while parent[package_id] != package_id:
            parent[package_id] = parent[parent[package_id]]
            package_id = parent[package_id]
        return package_id

    limited = {supplier.id for supplier in problem.suppliers if supplier.capacity is not None}
    first_user: dict[str, str] = {}  # offer id or supplier id -> the first package that may use it
    for package in problem.packages:
        for offer in problem.offers:
            if not is_eligible(offer, package):
                continue
            for shared in (offer.id, offer.supplier) if offer.supplier in limited else (offer.id,):
                other = first_user.setdefault(shared, package.id)
                parent[root(other)] = root(package.id)
    groups: dict[str, list[str]] = {}
    for package in problem.packages:
        groups.setdefault(root(package.id), []).append(package.id)
    return [_restricted(problem, set(package_ids)) for package_ids in groups.values()]


def _restricted(problem: Problem, package_ids: set[str]) -> Problem:
    packages = [package for package in problem.packages if package.id in package_ids]
    offers = [offer for offer in problem.offers if any(is_eligible(offer, package) for package in packages)]
    supplier_ids = {offer.supplier for offer in offers}
    suppliers = [supplier for supplier in problem.suppliers if supplier.id in supplier_ids]
    return problem.model_copy(update={"packages": packages, "offers": offers, "suppliers": suppliers})


def _size(problem: Problem) -> int:
    return 1 + sum(len(package.lines) for package in problem.packages) * len(problem.offers)
