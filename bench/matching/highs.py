"""A reference MILP of the matching contract (matching-problem.md), solved with HiGHS through highspy.

Bench only: it tells how good the engine's plans and bounds are, on the same instances and time limits. It is
written from the contract, not from the engine's CP-SAT model, and shares only the eligibility rules
(`is_eligible`, `can_back_up`) and the checker (`violations`, `cost_cents`) that verifies its plans.

Variables (all integer or binary):
- x[p, r, o] units of package p's line in region r from eligible offer o that ships there; y[o] offer used;
- all-units tiers, disaggregated: per tier t of offer o, z[o, t] (Q falls in t) and q[o, t] (Q when it does),
  with low_t * z <= q <= high_t * z, sum_t z = y, sum_t q = Q = sum x; low_t >= moq, so rule 3 follows;
- w[p, s] supplier s is allocated to package p; reserves v[p, o] with u[p, o] (held), moq * u <= v <= ub * u,
  and u[p, o] + w[p, supplier(o)] <= 1 (rule 5);
- rule 6 per package with N backups: P >= each supplier's share, and with k = N - 1 the sum of the k largest
  R_s is at most sum(R) - P, written as k * t + sum_s e_s <= sum(R) - P with e_s >= R_s - t, e_s >= 0
  (the sum of the k largest is the least k * t + sum max(0, R_s - t) over t).
"""

import math
import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

import highspy
import numpy as np

from flexsupply.allocation import Allocation, Plan, PlanStatus, Problem, Reserve, cost_cents, violations
from flexsupply.allocation.problem import can_back_up, is_eligible

INFINITY = highspy.kHighsInf


@dataclass
class _Builder:
    """Columns and rows gathered in Python lists, handed to HiGHS in one call each (much faster than its
    expression API on 20,000-variable models)."""

    lower: list[float] = field(default_factory=list)
    upper: list[float] = field(default_factory=list)
    cost: list[float] = field(default_factory=list)
    row_lower: list[float] = field(default_factory=list)
    row_upper: list[float] = field(default_factory=list)
    row_starts: list[int] = field(default_factory=list)
    row_index: list[int] = field(default_factory=list)
    row_value: list[float] = field(default_factory=list)

    def variable(self, upper: float, cost: float = 0.0) -> int:
        self.lower.append(0.0)
        self.upper.append(upper)
        self.cost.append(cost)
        return len(self.cost) - 1

    def row(self, terms: Sequence[tuple[int, float]], lower: float = -INFINITY, upper: float = INFINITY) -> None:
        self.row_starts.append(len(self.row_index))
        for index, value in terms:
            self.row_index.append(index)
            self.row_value.append(value)
        self.row_lower.append(lower)
        self.row_upper.append(upper)

    def load(self, highs: highspy.Highs) -> None:
        count = len(self.cost)
        highs.addVars(count, np.array(self.lower), np.array(self.upper))
        highs.changeColsCost(count, np.arange(count, dtype=np.int32), np.array(self.cost))
        # Every variable is integer (binaries are integers in [0, 1]), so costs and bounds are exact.
        highs.changeColsIntegrality(
            count, np.arange(count, dtype=np.int32), np.full(count, highspy.HighsVarType.kInteger)
        )
        highs.addRows(
            len(self.row_lower),
            np.array(self.row_lower),
            np.array(self.row_upper),
            len(self.row_index),
            np.array(self.row_starts, dtype=np.int32),
            np.array(self.row_index, dtype=np.int32),
            np.array(self.row_value),
        )


@dataclass
class HighsResult:
    status: PlanStatus | None  # None: neither a plan nor a proof within the time limit
    plan: Plan | None
    total_cents: int | None
    bound_cents: int | None
    seconds: float
    model_status: str


def solve_highs(problem: Problem, time_limit_seconds: float, threads: int = 1) -> HighsResult:
    """HiGHS's best plan and bound within the time limit; raises if its plan breaks the contract."""
    started = time.perf_counter()
    model = _Builder()
    offers = {offer.id: offer for offer in problem.offers}
    supplier_capacity = {supplier.id: supplier.capacity for supplier in problem.suppliers}

    def most(offer_id: str, limit: int) -> int:
        offer = offers[offer_id]
        capacity = supplier_capacity[offer.supplier]
        return min(limit, offer.capacity, offer.capacity if capacity is None else capacity)

    allocation: dict[tuple[str, str, str], int] = {}
    serves: dict[tuple[str, str], int] = {}
    reserve: dict[tuple[str, str], int] = {}
    for package in problem.packages:
        for offer in problem.offers:
            if not is_eligible(offer, package):
                continue
            for line in package.lines:
                if line.quantity > 0 and line.region in offer.shipping_cents:
                    allocation[package.id, line.region, offer.id] = model.variable(
                        most(offer.id, line.quantity), offer.shipping_cents[line.region]
                    )
                    serves.setdefault((package.id, offer.supplier), model.variable(1))
            if package.backups > 0 and package.quantity > 0 and can_back_up(offer, package):
                # A reserve above the package's quantity (or the moq, if larger) only costs more.
                reserve[package.id, offer.id] = model.variable(
                    most(offer.id, max(package.quantity, offer.moq)), offer.reserve_cents
                )

    # Rule 2: each line gets exactly its quantity (rule 1 by construction: only eligible, shipping offers).
    parts_of_line: dict[tuple[str, str], list[int]] = defaultdict(list)
    parts_of_offer: dict[str, list[int]] = defaultdict(list)
    for (package_id, region, offer_id), column in allocation.items():
        parts_of_line[package_id, region].append(column)
        parts_of_offer[offer_id].append(column)
    for package in problem.packages:
        for line in package.lines:
            model.row([(column, 1) for column in parts_of_line[package.id, line.region]], line.quantity, line.quantity)

    # Rule 3 and the tiers: Q is 0 or the quantity of exactly one tier, each tier starting at the moq or above.
    for offer in problem.offers:
        parts = parts_of_offer[offer.id]
        if not parts:
            continue
        reachable = most(offer.id, int(sum(model.upper[column] for column in parts)))
        used = model.variable(1, offer.fixed_cents)
        for column in parts:  # implied by the tiers; the strong form gives the LP the fixed costs
            model.row([(column, 1), (used, -model.upper[column])], upper=0)
        chosen, quantities = [], []
        ends = [tier.min_quantity - 1 for tier in offer.price_tiers[1:]] + [reachable]
        for tier, end in zip(offer.price_tiers, ends, strict=True):
            low, high = max(tier.min_quantity, offer.moq, 1), min(end, reachable)
            if low > high:
                continue
            picked, quantity = model.variable(1), model.variable(high, tier.unit_cents)
            model.row([(quantity, 1), (picked, -low)], lower=0)
            model.row([(quantity, 1), (picked, -high)], upper=0)
            chosen.append(picked)
            quantities.append(quantity)
        model.row([(picked, 1) for picked in chosen] + [(used, -1)], 0, 0)
        model.row([(quantity, 1) for quantity in quantities] + [(column, -1) for column in parts], 0, 0)

    # Rule 3 for reserves, and rule 5: a reserve is 0 or at least the moq, from a supplier not allocated.
    held: dict[tuple[str, str], int] = {}
    for (package_id, offer_id), column in reserve.items():
        offer = offers[offer_id]
        held[package_id, offer_id] = model.variable(1)
        model.row([(column, 1), (held[package_id, offer_id], -max(offer.moq, 1))], lower=0)
        model.row([(column, 1), (held[package_id, offer_id], -model.upper[column])], upper=0)
        if (package_id, offer.supplier) in serves:
            model.row([(held[package_id, offer_id], 1), (serves[package_id, offer.supplier], 1)], upper=1)
    for (package_id, _, offer_id), column in allocation.items():
        model.row([(column, 1), (serves[package_id, offers[offer_id].supplier], -model.upper[column])], upper=0)

    # Rule 4: allocations and reserves share the offer's and the supplier's capacity.
    load: dict[str, list[int]] = defaultdict(list)
    for offer_id, parts in parts_of_offer.items():
        load[offer_id] += parts
    for (_, offer_id), column in reserve.items():
        load[offer_id].append(column)
    for offer in problem.offers:
        if load[offer.id]:
            model.row([(column, 1) for column in load[offer.id]], upper=offer.capacity)
    for supplier in problem.suppliers:
        columns = [column for offer in problem.offers if offer.supplier == supplier.id for column in load[offer.id]]
        if supplier.capacity is not None and columns:
            model.row([(column, 1) for column in columns], upper=supplier.capacity)

    # Rule 6: losing the largest primary supplier and any N - 1 backup suppliers leaves enough reserve.
    share: dict[tuple[str, str], list[int]] = defaultdict(list)
    for (package_id, _, offer_id), column in allocation.items():
        share[package_id, offers[offer_id].supplier].append(column)
    backing: dict[tuple[str, str], list[int]] = defaultdict(list)
    for (package_id, offer_id), column in reserve.items():
        backing[package_id, offers[offer_id].supplier].append(column)
    for package in problem.packages:
        if package.backups == 0 or package.quantity == 0:
            continue
        largest = model.variable(package.quantity)
        for (package_id, _), columns in share.items():
            if package_id == package.id:
                model.row([(largest, 1)] + [(column, -1) for column in columns], lower=0)
        backers = {supplier: columns for (package_id, supplier), columns in backing.items() if package_id == package.id}
        surviving = [(column, 1.0) for columns in backers.values() for column in columns] + [(largest, -1.0)]
        lost = package.backups - 1
        if lost == 0:
            model.row(surviving, lower=0)
            continue
        most_backed = max((sum(model.upper[column] for column in columns) for columns in backers.values()), default=0)
        threshold = model.variable(most_backed)
        lost_at_most = [(threshold, -lost)]
        for columns in backers.values():
            excess = model.variable(most_backed)
            model.row([(excess, 1), (threshold, 1)] + [(column, -1) for column in columns], lower=0)
            lost_at_most.append((excess, -1))
        model.row(surviving + lost_at_most, lower=0)

    highs = highspy.Highs()
    highs.setOptionValue("output_flag", False)
    highs.setOptionValue("time_limit", float(time_limit_seconds))
    highs.setOptionValue("threads", threads)
    highs.setOptionValue("random_seed", 0)
    # Proved means proved exactly, as for CP-SAT: costs are whole cents, so a gap below one cent is zero.
    highs.setOptionValue("mip_rel_gap", 0.0)
    highs.setOptionValue("mip_abs_gap", 0.99)
    model.load(highs)
    highs.run()
    seconds = time.perf_counter() - started

    model_status = highs.getModelStatus()
    info = highs.getInfo()
    status_name = highs.modelStatusToString(model_status)
    if model_status == highspy.HighsModelStatus.kInfeasible:
        return HighsResult(PlanStatus.INFEASIBLE, None, None, None, seconds, status_name)
    if info.primal_solution_status != highspy.SolutionStatus.kSolutionStatusFeasible:
        bound = _bound(info.mip_dual_bound)
        return HighsResult(None, None, None, bound, seconds, status_name)
    values = highs.getSolution().col_value
    plan = Plan(
        status=PlanStatus.FEASIBLE,
        allocations=[
            Allocation(package=package_id, offer=offer_id, region=region, quantity=round(values[column]))
            for (package_id, region, offer_id), column in allocation.items()
            if round(values[column]) > 0
        ],
        reserves=[
            Reserve(package=package_id, offer=offer_id, quantity=round(values[column]))
            for (package_id, offer_id), column in reserve.items()
            if round(values[column]) > 0
        ],
    )
    broken = violations(problem, plan)
    if broken:
        raise AssertionError(f"HiGHS's plan breaks the contract: {broken[:3]}")
    total = cost_cents(problem, plan)
    if abs(info.objective_function_value - total) > 0.5:
        raise AssertionError(f"HiGHS's objective {info.objective_function_value} is not the contract's cost {total}")
    proved = model_status == highspy.HighsModelStatus.kOptimal
    dual = _bound(info.mip_dual_bound)
    bound = total if proved or dual is None else min(total, dual)
    plan = plan.model_copy(
        update={
            "status": PlanStatus.OPTIMAL if proved else PlanStatus.FEASIBLE,
            "total_cents": total,
            "bound_cents": bound,
            "gap": (total - bound) / max(1, total),
            "solve_seconds": seconds,
        }
    )
    return HighsResult(plan.status, plan, total, bound, seconds, status_name)


def _bound(value: float) -> int | None:
    # Every cost is >= 0, so 0 is a bound too: before its root LP ends, HiGHS may report a negative one.
    return None if not math.isfinite(value) else max(0, math.ceil(value - 1e-6))  # costs are whole cents
