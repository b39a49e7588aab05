"""Decisions a leader can act on, priced by solving, not guessed.

- No plan: the cheapest few single relaxations (one backup fewer, needed a day later, a quality floor five points
  lower, a region's quantity lower, a supplier making more), each with the cost of the plan it gives.
- A plan: the price of each promise it keeps, per package: what N backups cost against N-1 and 0, what the quality
  floor and the deadline cost against five points lower and a day later.

Packages interact only within a connected part of the problem (`split_components`), so a change is solved on the
part that holds its package, the other parts keep their cost, and the time is shared among the alternatives.
"""

import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel, Field

from flexsupply.allocation.check import cost_cents
from flexsupply.allocation.params import SolveParams
from flexsupply.allocation.plan import NoPlanInTime, Plan, PlanStatus
from flexsupply.allocation.problem import Offer, Package, Problem, Supplier
from flexsupply.allocation.solve import solve, split_components

QUALITY_STEP = 5
DEADLINE_STEP_DAYS = 1
LEAST_SECONDS_PER_SOLVE = 0.2
BISECTED = frozenset({"smaller_line", "more_capacity"})

RelaxationKind = Literal["fewer_backups", "later_deadline", "lower_quality", "smaller_line", "more_capacity"]
Promise = Literal["backups", "quality", "deadline"]


class Relaxation(BaseModel):
    """One change to the problem that makes room for a plan, and what that plan costs."""

    kind: RelaxationKind
    package: str
    change: str = Field(description="The change, as a sentence a leader reads.")
    region: str | None = None
    supplier: str | None = None
    amount: int = Field(description="Backups fewer, days later, points lower, units fewer or more.")
    status: PlanStatus = Field(description="The relaxed plan's: optimal or feasible (a time limit).")
    part_cents: int = Field(description="The relaxed part's cost (the packages that share offers with it).")
    total_cents: int | None = Field(description="The whole plan's cost, when this change alone makes one possible.")


class PromisePrice(BaseModel):
    """What one promise of a package costs: the plan's cost against the cost without it (or with less of it)."""

    package: str
    promise: Promise
    alternative: str = Field(description="What is given up, as a sentence.")
    relaxation: RelaxationKind = Field(description="The alternative as a relaxation (apply_relaxation).")
    amount: int
    plan_cents: int = Field(description="The cost, with the promise, of the plan's part holding the package.")
    alternative_cents: int = Field(description="The best known cost of that part without it.")
    premium_cents: int = Field(description="plan_cents - alternative_cents: what the promise costs.")
    premium_unit_cents: int = Field(description="The premium per unit of the package, rounded half up.")
    alternative_status: PlanStatus


class Decisions(BaseModel):
    """What `flexsupply match --decisions` adds to the plan: relaxations without a plan, promise prices with one."""

    relaxations: list[Relaxation] = Field(default_factory=list)
    promise_prices: list[PromisePrice] = Field(default_factory=list)


@dataclass(frozen=True)
class _Candidate:
    """A relaxation to try; `amount` is the most that may be asked (bisected for the least that is enough when
    the kind changes by an amount)."""

    kind: RelaxationKind
    package: str
    amount: int
    region: str | None = None
    supplier: str | None = None


def apply_relaxation(
    problem: Problem,
    kind: RelaxationKind,
    package_id: str,
    amount: int,
    region: str | None = None,
    supplier: str | None = None,
) -> Problem:
    """The problem with one relaxation applied (a Relaxation's own fields say which)."""
    package = problem.package(package_id)
    match kind:
        case "fewer_backups":
            return _with_package(problem, package_id, backups=package.backups - amount)
        case "later_deadline":
            return _with_package(problem, package_id, needed_by_days=package.needed_by_days + amount)
        case "lower_quality":
            return _with_package(problem, package_id, min_quality=package.min_quality - amount)
        case "smaller_line":
            lines = [
                line.model_copy(update={"quantity": line.quantity - amount}) if line.region == region else line
                for line in package.lines
            ]
            return _with_package(problem, package_id, lines=[line for line in lines if line.quantity > 0])
        case "more_capacity":
            return _with_more_capacity(problem, supplier or "", amount)


def describe_relaxation(
    kind: RelaxationKind, package_id: str, amount: int, region: str | None, supplier: str | None, problem: Problem
) -> str:
    package = problem.package(package_id)
    match kind:
        case "fewer_backups":
            return f"package {package_id}: {_backups(package.backups - amount)} instead of {package.backups}"
        case "later_deadline":
            later = package.needed_by_days + amount
            return f"package {package_id}: needed by day {later} instead of {package.needed_by_days}"
        case "lower_quality":
            return (
                f"package {package_id}: quality floor {package.min_quality - amount} instead of {package.min_quality}"
            )
        case "smaller_line":
            return f"package {package_id}: {amount} units fewer in {region}"
        case "more_capacity":
            return f"supplier {supplier} makes {amount} more units"


def _backups(count: int) -> str:
    return f"{count} backup" if count == 1 else f"{count} backups"


def relaxations(problem: Problem, params: SolveParams | None = None, limit: int = 3) -> list[Relaxation]:
    """The `limit` cheapest single changes that give a plan, for a problem without one; [] when it has one."""
    params = params or SolveParams()
    parts = split_components(problem)
    budget = Budget(params, len(parts) + 1)
    part_costs: dict[frozenset[str], int] = {}
    stuck: list[Problem] = []
    for part in parts:
        plan = _solve(part, budget.share())
        if plan is None:
            continue  # neither a plan nor a proof in time: nothing to say about this part
        if plan.status == PlanStatus.INFEASIBLE:
            stuck.append(part)
        else:
            part_costs[_ids(part)] = plan.total_cents or 0
    candidates = [c for part in stuck for package in part.packages for c in _candidates(problem, package)]
    budget.spread(len(candidates))
    found: list[Relaxation] = []
    for change in candidates:
        if budget.over:
            break
        if (result := _try(problem, change, budget)) is None:
            continue
        part, plan, amount = result
        touched = _ids(part)
        still_stuck = [other for other in stuck if not _ids(other) <= touched]
        others = sum(cost for ids, cost in part_costs.items() if not ids & touched)
        found.append(
            Relaxation(
                kind=change.kind,
                package=change.package,
                change=describe_relaxation(
                    change.kind, change.package, amount, change.region, change.supplier, problem
                ),
                region=change.region,
                supplier=change.supplier,
                amount=amount,
                status=plan.status,
                part_cents=plan.total_cents or 0,
                total_cents=None if still_stuck else others + (plan.total_cents or 0),
            )
        )
    found.sort(key=lambda r: (r.total_cents is None, r.total_cents or r.part_cents, r.package, r.kind))
    return found[:limit]


def promise_prices(problem: Problem, plan: Plan, params: SolveParams | None = None) -> list[PromisePrice]:
    """Per package of a planned problem: backups N against N-1 and 0, the quality floor against five points
    lower, the deadline against a day later. The plan stays a plan of each relaxed problem, so an alternative
    never costs more than the plan: its cost is the better of the two."""
    if not plan.has_plan:
        return []
    params = params or SolveParams()
    alternatives = [alternative for package in problem.packages for alternative in _alternatives(package)]
    budget = Budget(params, len(alternatives))
    prices: list[PromisePrice] = []
    # A plan for fewer backups is also a plan for none: each alternative costs at most the one before it.
    best_known: dict[tuple[str, Promise], int] = {}
    for package_id, promise, sentence, kind, amount in alternatives:
        relaxed = apply_relaxation(problem, kind, package_id, amount)
        part = _part_holding(relaxed, package_id)
        ids = _ids(part)
        planned = cost_cents(_restrict(problem, ids), _plan_of(plan, ids))
        if (share := budget.share()) is None:
            break  # the time limit: the promises not priced yet are left out
        found = _solve(part, share)
        known = best_known.get((package_id, promise), planned)
        if found is None or found.status == PlanStatus.INFEASIBLE:
            alternative_cents, status = known, PlanStatus.FEASIBLE  # only plans of stronger promises are known
        else:
            alternative_cents, status = min(known, found.total_cents or known), found.status
        best_known[package_id, promise] = alternative_cents
        premium = planned - alternative_cents
        units = problem.package(package_id).quantity
        prices.append(
            PromisePrice(
                package=package_id,
                promise=promise,
                alternative=sentence,
                relaxation=kind,
                amount=amount,
                plan_cents=planned,
                alternative_cents=alternative_cents,
                premium_cents=premium,
                premium_unit_cents=(2 * premium + units) // (2 * units),
                alternative_status=status,
            )
        )
    return prices


class Budget:
    """The time limit shared among the solves of one question: each gets its share of what is left, and none
    starts once the limit has passed (what it would have priced is then left out)."""

    def __init__(self, params: SolveParams, solves: int) -> None:
        self.params = params
        self.deadline = time.perf_counter() + params.time_limit_seconds
        self.solves_left = max(1, solves)

    def spread(self, solves: int) -> None:
        """The solves still to come (a bisection counts as three)."""
        self.solves_left = max(1, solves * 3)

    @property
    def over(self) -> bool:
        return self.deadline - time.perf_counter() < LEAST_SECONDS_PER_SOLVE

    def share(self) -> SolveParams | None:
        left = self.deadline - time.perf_counter()
        if left < LEAST_SECONDS_PER_SOLVE:
            return None
        seconds = max(LEAST_SECONDS_PER_SOLVE, left / self.solves_left)
        self.solves_left = max(1, self.solves_left - 1)
        return self.params.model_copy(update={"time_limit_seconds": seconds, "work_limit": None})


def _solve(problem: Problem, params: SolveParams | None) -> Plan | None:
    if params is None:
        return None  # out of time
    try:
        return solve(problem, params, explain_infeasible=False)
    except NoPlanInTime:
        return None


def _try(problem: Problem, candidate: _Candidate, budget: Budget) -> tuple[Problem, Plan, int] | None:
    """Solve the candidate on its part; one changing by an amount (a line, a supplier) bisects for the least."""

    def attempt(amount: int) -> tuple[Problem, Plan, int] | None:
        relaxed = apply_relaxation(
            problem, candidate.kind, candidate.package, amount, candidate.region, candidate.supplier
        )
        part = _part_holding(relaxed, candidate.package)
        plan = _solve(part, budget.share())
        return (part, plan, amount) if plan is not None and plan.has_plan else None

    if candidate.kind not in BISECTED:
        return attempt(candidate.amount)
    best = attempt(candidate.amount)  # the most that may be asked: if that is not enough, nothing is
    low, high = 1, candidate.amount - 1
    for _ in range(candidate.amount.bit_length()):  # enough halvings to reach the least amount
        if best is None or low > high:
            break
        middle = (low + high) // 2
        if (found := attempt(middle)) is not None:
            best, high = found, middle - 1
        else:
            low = middle + 1
    return best


def _candidates(problem: Problem, package: Package) -> Iterator[_Candidate]:
    if package.backups > 0:
        yield _Candidate("fewer_backups", package.id, 1)
    yield _Candidate("later_deadline", package.id, DEADLINE_STEP_DAYS)
    if package.min_quality > 0:
        yield _Candidate("lower_quality", package.id, min(QUALITY_STEP, package.min_quality))
    for line in package.lines:
        if line.quantity > 1:
            yield _Candidate("smaller_line", package.id, line.quantity - 1, region=line.region)
    for supplier in problem.suppliers:
        if any(offer.supplier == supplier.id and offer.sku == package.sku for offer in problem.offers):
            yield _Candidate("more_capacity", package.id, package.quantity, supplier=supplier.id)


def _alternatives(package: Package) -> Iterator[tuple[str, Promise, str, RelaxationKind, int]]:
    """(package, promise, what is given up, the relaxation, its amount) for each price asked."""
    pid = package.id
    for fewer in sorted({1, package.backups}) if package.backups > 0 else []:
        left = package.backups - fewer
        yield pid, "backups", f"{_backups(left)} instead of {package.backups}", "fewer_backups", fewer
    if package.min_quality > 0:
        lower = min(QUALITY_STEP, package.min_quality)
        floor = package.min_quality - lower
        yield pid, "quality", f"quality floor {floor} instead of {package.min_quality}", "lower_quality", lower
    later = package.needed_by_days + DEADLINE_STEP_DAYS
    yield (
        pid,
        "deadline",
        f"needed by day {later} instead of {package.needed_by_days}",
        "later_deadline",
        (DEADLINE_STEP_DAYS),
    )


def _with_package(problem: Problem, package_id: str, **changes: object) -> Problem:
    packages = [p.model_copy(update=changes) if p.id == package_id else p for p in problem.packages]
    return problem.model_copy(update={"packages": packages})


def _with_more_capacity(problem: Problem, supplier_id: str, extra: int) -> Problem:
    """The supplier makes `extra` more: on each of its offers and on its own limit, if it has one."""
    suppliers: list[Supplier] = [
        s.model_copy(update={"capacity": s.capacity + extra}) if s.id == supplier_id and s.capacity is not None else s
        for s in problem.suppliers
    ]
    offers: list[Offer] = [
        o.model_copy(update={"capacity": o.capacity + extra}) if o.supplier == supplier_id else o
        for o in problem.offers
    ]
    return problem.model_copy(update={"suppliers": suppliers, "offers": offers})


def _part_holding(problem: Problem, package_id: str) -> Problem:
    return next(part for part in split_components(problem) if package_id in _ids(part))


def _ids(problem: Problem) -> frozenset[str]:
    return frozenset(package.id for package in problem.packages)


def _restrict(problem: Problem, package_ids: frozenset[str]) -> Problem:
    packages = [package for package in problem.packages if package.id in package_ids]
    return problem.model_copy(update={"packages": packages})


def _plan_of(plan: Plan, package_ids: frozenset[str]) -> Plan:
    return plan.model_copy(
        update={
            "allocations": [a for a in plan.allocations if a.package in package_ids],
            "reserves": [r for r in plan.reserves if r.package in package_ids],
        }
    )
