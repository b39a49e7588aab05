"""The CP-SAT model of the contract: variables, one function per constraint family, and the cost.

Every constraint family is guarded by `variables.guard(group)`: empty in a normal solve, one assumption
literal per group when explaining infeasibility (explain.py), so both use the same model.
"""

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum

from ortools.sat.python.cp_model import CpModel, IntVar, LinearExpr, LinearExprT

from flexsupply.allocation.plan import Allocation, Reserve
from flexsupply.allocation.problem import Offer, Problem, can_back_up, is_eligible


class GroupKind(StrEnum):
    """The kinds of constraint group that an infeasibility explanation can switch off."""

    DEMAND = "demand"  # a package line (region) gets its quantity
    MOQ = "moq"  # an offer's total and reserves are 0 or at least its moq
    OFFER_CAPACITY = "offer_capacity"
    SUPPLIER_CAPACITY = "supplier_capacity"
    BACKUPS = "backups"  # a package's backups, not its makers, cover 1+N resilience


@dataclass(frozen=True)
class Group:
    """A constraint group: one kind, for one package, offer or supplier (and a region, for a package line)."""

    kind: GroupKind
    item_id: str
    region: str | None = None


@dataclass
class TierPiece:
    """The part of an offer's total Q that falls in one price tier: `quantity` is Q when `chosen`, else 0."""

    chosen: IntVar
    quantity: IntVar
    low: int
    high: int
    unit_cents: int


@dataclass
class Resilience:
    """Auxiliaries of one package's 1+N rule (see _add_survives_losing_largest)."""

    largest_share: IntVar
    lost: int
    threshold: IntVar | None = None
    excess: dict[str, IntVar] = field(default_factory=dict)


@dataclass
class Variables:
    allocation: dict[tuple[str, str, str], IntVar]  # (package, region, offer) -> units
    reserve: dict[tuple[str, str], IntVar]  # (package, offer) -> reserved units
    reserve_used: dict[tuple[str, str], IntVar]
    offer_used: dict[str, IntVar]  # the offer's total primary quantity is above zero
    serves: dict[tuple[str, str], IntVar]  # (package, supplier): the supplier is allocated to the package
    primary_quantity: dict[str, LinearExprT]  # offer -> Q
    upper_bound: dict[str, int]  # offer -> the most Q can be
    tiers: dict[str, list[TierPiece]]  # offer -> the tiers Q can fall in
    resilience: dict[str, Resilience] = field(default_factory=dict)  # package -> its 1+N auxiliaries
    guards: dict[Group, IntVar] = field(default_factory=dict)
    explaining: bool = False

    @classmethod
    def create(cls, model: CpModel, problem: Problem, explaining: bool = False) -> "Variables":
        supplier_capacity = {s.id: s.capacity for s in problem.suppliers}

        def most(offer: Offer, limit: int) -> int:
            if explaining:  # capacities are constraints that the explanation may switch off, not bounds
                return limit
            capacity = supplier_capacity[offer.supplier]
            return min(offer.capacity, limit, offer.capacity if capacity is None else capacity)

        allocation, reserve, reserve_used, serves = {}, {}, {}, {}
        demand_reachable: dict[str, int] = defaultdict(int)
        for package in problem.packages:
            for offer in problem.offers:
                if not is_eligible(offer, package):
                    continue
                for line in package.lines:
                    if line.region in offer.shipping_cents and line.quantity > 0:
                        key = (package.id, line.region, offer.id)
                        allocation[key] = model.new_int_var(0, most(offer, line.quantity), f"x{key}")
                        demand_reachable[offer.id] += line.quantity
                        if (package.id, offer.supplier) not in serves:
                            serves[package.id, offer.supplier] = model.new_bool_var(
                                f"serves{package.id, offer.supplier}"
                            )
                if package.backups > 0 and package.quantity > 0 and can_back_up(offer, package):
                    # More than the package's demand never helps, unless the moq asks for it.
                    key = (package.id, offer.id)
                    reserve[key] = model.new_int_var(0, most(offer, max(package.quantity, offer.moq)), f"r{key}")
                    reserve_used[key] = model.new_bool_var(f"reserved{key}")
        parts_of: dict[str, list[IntVar]] = defaultdict(list)
        for (_, _, offer_id), var in allocation.items():
            parts_of[offer_id].append(var)
        upper_bound = {offer.id: most(offer, demand_reachable[offer.id]) for offer in problem.offers}
        return cls(
            allocation=allocation,
            reserve=reserve,
            reserve_used=reserve_used,
            offer_used={offer.id: model.new_bool_var(f"used{offer.id}") for offer in problem.offers},
            serves=serves,
            primary_quantity={offer.id: LinearExpr.sum(parts_of[offer.id]) for offer in problem.offers},
            upper_bound=upper_bound,
            tiers={offer.id: _tier_pieces(model, offer, upper_bound[offer.id], explaining) for offer in problem.offers},
            explaining=explaining,
        )

    def guard(self, model: CpModel, group: Group) -> list[IntVar]:
        if not self.explaining:
            return []
        if group not in self.guards:
            self.guards[group] = model.new_bool_var(f"holds{group.kind, group.item_id, group.region}")
        return [self.guards[group]]


def add_demand(model: CpModel, problem: Problem, variables: Variables) -> None:
    """Rules 1-2: each line gets exactly its quantity from eligible offers shipping to its region."""
    parts_of: dict[tuple[str, str], list[IntVar]] = defaultdict(list)
    for (package_id, region, _), var in variables.allocation.items():
        parts_of[package_id, region].append(var)
    for package in problem.packages:
        for line in package.lines:
            parts = parts_of[package.id, line.region]
            guard = variables.guard(model, Group(GroupKind.DEMAND, package.id, line.region))
            model.add(LinearExpr.sum(parts) == line.quantity).only_enforce_if(guard)


def add_minimum_order_quantities(model: CpModel, problem: Problem, variables: Variables) -> None:
    """Rule 3: an offer's total, and each reserve on it, is 0 or at least its moq."""
    for offer in problem.offers:
        total, used = variables.primary_quantity[offer.id], variables.offer_used[offer.id]
        guard = variables.guard(model, Group(GroupKind.MOQ, offer.id))
        # `used` means Q > 0, so that the fixed charge is exactly the contract's.
        model.add(total >= 1).only_enforce_if([used])
        model.add(total >= offer.moq).only_enforce_if([used, *guard])
        model.add(total <= variables.upper_bound[offer.id] * used)
    for (_, _, offer_id), var in variables.allocation.items():
        # Implied by the line above; per allocation it is facility location's strong formulation, whose LP
        # relaxation charges fixed costs more fully.
        model.add(var <= _largest(var) * variables.offer_used[offer_id])
    offers = {offer.id: offer for offer in problem.offers}
    for (package_id, offer_id), reserved in variables.reserve.items():
        offer, used = offers[offer_id], variables.reserve_used[package_id, offer_id]
        model.add(reserved >= 1).only_enforce_if([used])
        model.add(reserved >= offer.moq).only_enforce_if(
            [used, *variables.guard(model, Group(GroupKind.MOQ, offer_id))]
        )
        model.add(reserved <= _largest(reserved) * used)


def add_capacities(model: CpModel, problem: Problem, variables: Variables) -> None:
    """Rule 4: allocations and reserves share each offer's and each supplier's capacity."""
    load: dict[str, list[LinearExprT]] = defaultdict(list)
    for offer in problem.offers:
        load[offer.id].append(variables.primary_quantity[offer.id])
    for (_, offer_id), reserved in variables.reserve.items():
        load[offer_id].append(reserved)
    for offer in problem.offers:
        guard = variables.guard(model, Group(GroupKind.OFFER_CAPACITY, offer.id))
        model.add(LinearExpr.sum(load[offer.id]) <= offer.capacity).only_enforce_if(guard)
    for supplier in problem.suppliers:
        if supplier.capacity is None:
            continue
        parts = [part for offer in problem.offers if offer.supplier == supplier.id for part in load[offer.id]]
        guard = variables.guard(model, Group(GroupKind.SUPPLIER_CAPACITY, supplier.id))
        model.add(LinearExpr.sum(parts) <= supplier.capacity).only_enforce_if(guard)


def add_backups(model: CpModel, problem: Problem, variables: Variables) -> None:
    """Rules 5-6: backups come from suppliers not allocated to the package, and cover 1+N resilience."""
    supplier_of = {offer.id: offer.supplier for offer in problem.offers}
    for (package_id, _, offer_id), var in variables.allocation.items():
        serves = variables.serves[package_id, supplier_of[offer_id]]
        model.add(var <= _largest(var) * serves)
    shares: dict[str, dict[str, list[IntVar]]] = defaultdict(lambda: defaultdict(list))
    for (package_id, _, offer_id), var in variables.allocation.items():
        shares[package_id][supplier_of[offer_id]].append(var)
    backing: dict[str, dict[str, list[IntVar]]] = defaultdict(lambda: defaultdict(list))
    offers_backing: dict[str, list[str]] = defaultdict(list)
    for (package_id, offer_id), reserved in variables.reserve.items():
        backing[package_id][supplier_of[offer_id]].append(reserved)
        offers_backing[package_id].append(offer_id)
    for package in problem.packages:
        if package.backups == 0 or package.quantity == 0:
            continue
        guard = variables.guard(model, Group(GroupKind.BACKUPS, package.id))
        for offer_id in offers_backing[package.id]:
            serves = variables.serves.get((package.id, supplier_of[offer_id]))
            if serves is not None:
                model.add_bool_or([~variables.reserve_used[package.id, offer_id], ~serves]).only_enforce_if(guard)
        resilience = Resilience(
            largest_share=model.new_int_var(0, package.quantity, f"largest_share{package.id}"),
            lost=package.backups - 1,
        )
        for parts in shares[package.id].values():
            model.add(resilience.largest_share >= LinearExpr.sum(parts))
        _add_survives_losing_largest(model, resilience, backing[package.id], guard, package.id)
        variables.resilience[package.id] = resilience


def _add_survives_losing_largest(
    model: CpModel, resilience: Resilience, backing: dict[str, list[IntVar]], guard: list[IntVar], name: str
) -> None:
    """sum(R) - (sum of the `lost` largest R_s) >= largest_share, without enumerating subsets.

    The sum of the k largest R_s is the least k*u + sum(max(0, R_s - u)) over u, so it suffices that some
    u and v_s >= R_s - u, v_s >= 0 satisfy k*u + sum(v) <= sum(R) - largest_share.
    """
    totals = {supplier: LinearExpr.sum(parts) for supplier, parts in backing.items()}
    everything = LinearExpr.sum(list(totals.values()))
    if resilience.lost == 0:
        model.add(everything >= resilience.largest_share).only_enforce_if(guard)
        return
    most = max((sum(_largest(var) for var in parts) for parts in backing.values()), default=0)
    resilience.threshold = model.new_int_var(0, most, f"threshold{name}")
    for supplier, total in totals.items():
        excess = model.new_int_var(0, most, f"excess{name, supplier}")
        model.add(excess >= total - resilience.threshold)
        resilience.excess[supplier] = excess
    surviving = everything - resilience.largest_share
    lost_at_most = resilience.lost * resilience.threshold + LinearExpr.sum(list(resilience.excess.values()))
    model.add(lost_at_most <= surviving).only_enforce_if(guard)


def _largest(var: IntVar) -> int:
    return max(var.proto.domain)


def add_price_tiers(model: CpModel, problem: Problem, variables: Variables) -> None:
    """All-units tiers, disaggregated: Q is the quantity of the one tier it falls in, for a tight bound."""
    for offer in problem.offers:
        pieces = variables.tiers[offer.id]
        for piece in pieces:
            model.add(piece.quantity >= piece.low * piece.chosen)
            model.add(piece.quantity <= piece.high * piece.chosen)
        model.add(LinearExpr.sum([piece.chosen for piece in pieces]) == variables.offer_used[offer.id])
        model.add(LinearExpr.sum([piece.quantity for piece in pieces]) == variables.primary_quantity[offer.id])


def _tier_pieces(model: CpModel, offer: Offer, upper_bound: int, explaining: bool) -> list[TierPiece]:
    """The tiers that the offer's Q can fall in, each cut to the quantities Q can take."""
    # Solving, Q is 0 or at least the moq, so no tier starts below it (a tighter LP). Explaining, the moq is a
    # group that may be switched off, so the tiers must not impose it.
    least = 1 if explaining else max(offer.moq, 1)
    bounds = [tier.min_quantity for tier in offer.price_tiers[1:]] + [upper_bound + 1]
    pieces = []
    for tier, next_minimum in zip(offer.price_tiers, bounds, strict=True):
        low, high = max(tier.min_quantity, least), min(next_minimum - 1, upper_bound)
        if low > high:
            continue
        pieces.append(
            TierPiece(
                chosen=model.new_bool_var(f"tier{offer.id, tier.min_quantity}"),
                quantity=model.new_int_var(0, high, f"tier_quantity{offer.id, tier.min_quantity}"),
                low=low,
                high=high,
                unit_cents=tier.unit_cents,
            )
        )
    return pieces


# Independent of their order: each adds constraints over the variables that Variables.create made.
CONSTRAINT_FAMILIES: list[Callable[[CpModel, Problem, Variables], None]] = [
    add_demand,
    add_minimum_order_quantities,
    add_capacities,
    add_backups,
    add_price_tiers,
]


def cost_expression(problem: Problem, variables: Variables) -> LinearExprT:
    """The contract's cost (the tier pieces' quantities are Q only once add_price_tiers links them)."""
    offers = {offer.id: offer for offer in problem.offers}
    terms: list[LinearExprT] = []
    for offer in problem.offers:
        terms += [piece.unit_cents * piece.quantity for piece in variables.tiers[offer.id]]
        terms.append(offer.fixed_cents * variables.offer_used[offer.id])
    for (_, region, offer_id), var in variables.allocation.items():
        terms.append(offers[offer_id].shipping_cents[region] * var)
    for (_, offer_id), reserved in variables.reserve.items():
        terms.append(offers[offer_id].reserve_cents * reserved)
    return LinearExpr.sum(terms)


def units_moved_from(model: CpModel, variables: Variables, allocations: list[Allocation]) -> LinearExprT:
    """The units of `allocations` that the model's plan does not allocate the same way (package, region and
    offer), as an expression to minimise or bound. An allocation the model cannot make counts as moved."""
    previously: dict[tuple[str, str, str], int] = defaultdict(int)
    for allocation in allocations:
        previously[allocation.package, allocation.region, allocation.offer] += allocation.quantity
    kept = []
    for key, quantity in previously.items():
        if key in variables.allocation:
            kept_units = model.new_int_var(0, quantity, f"kept{key}")
            model.add(kept_units <= variables.allocation[key])
            kept.append(kept_units)
    return sum(previously.values()) - LinearExpr.sum(kept)


def build_model(problem: Problem, explaining: bool = False) -> tuple[CpModel, Variables]:
    model = CpModel()
    variables = Variables.create(model, problem, explaining)
    for add_family in CONSTRAINT_FAMILIES:
        add_family(model, problem, variables)
    if not explaining:
        model.minimize(cost_expression(problem, variables))
    return model, variables


def hint_plan(
    model: CpModel,
    problem: Problem,
    variables: Variables,
    allocations: list[Allocation],
    reserves: list[Reserve],
) -> None:
    """Hint every variable from a known plan (the greedy one) so that CP-SAT starts from a complete solution."""
    supplier_of = {offer.id: offer.supplier for offer in problem.offers}
    allocated = {(a.package, a.region, a.offer): a.quantity for a in allocations}
    reserved = {(r.package, r.offer): r.quantity for r in reserves}
    totals: dict[str, int] = defaultdict(int)
    shares: dict[tuple[str, str], int] = defaultdict(int)
    backing: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for (package_id, _, offer_id), quantity in allocated.items():
        totals[offer_id] += quantity
        shares[package_id, supplier_of[offer_id]] += quantity
    for (package_id, offer_id), quantity in reserved.items():
        backing[package_id][supplier_of[offer_id]] += quantity

    model.clear_hints()
    for key, var in variables.allocation.items():
        model.add_hint(var, allocated.get(key, 0))
    for key, var in variables.reserve.items():
        model.add_hint(var, reserved.get(key, 0))
        model.add_hint(variables.reserve_used[key], reserved.get(key, 0) > 0)
    for key, serves in variables.serves.items():
        model.add_hint(serves, shares[key] > 0)
    for offer in problem.offers:
        model.add_hint(variables.offer_used[offer.id], totals[offer.id] > 0)
        for tier in variables.tiers[offer.id]:
            picked = tier.low <= totals[offer.id] <= tier.high
            model.add_hint(tier.chosen, picked)
            model.add_hint(tier.quantity, totals[offer.id] if picked else 0)
    for package_id, resilience in variables.resilience.items():
        model.add_hint(
            resilience.largest_share,
            max((quantity for (p, _), quantity in shares.items() if p == package_id), default=0),
        )
        if resilience.threshold is None:
            continue
        ordered = sorted(backing[package_id].values(), reverse=True)
        threshold = ordered[resilience.lost - 1] if len(ordered) >= resilience.lost else 0
        model.add_hint(resilience.threshold, threshold)
        for supplier_id, excess in resilience.excess.items():
            model.add_hint(excess, max(0, backing[package_id][supplier_id] - threshold))
