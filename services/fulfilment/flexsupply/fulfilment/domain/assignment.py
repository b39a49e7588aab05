"""Which production order makes each buyer's order: every share met exactly, as few orders split as possible.

Regions are independent. In a region, orders of the same quantity are interchangeable, so the search runs on counts
(how many orders of each quantity go whole to each share, and the quantities of the split orders with their pieces)
and only the last step picks the orders: the earlier buyers (by rank) are kept whole, the later ones are split.
Filling the shares one after the other splits at most one order per boundary between shares, so a region of k
shares never needs more than k - 1 split orders, and k - 1 split slots make the model exact.

First, whole orders fill the shares one by one (the largest orders, then an exact subset sum finishing the share),
the largest share taking what is left; a share no whole orders fill exactly gets one split order, shared with the
largest. A plan that splits nothing is optimal and returned without a solver; with many small orders, the common
case, it is all it takes. So is one that splits a single order when some share's units are not a multiple of every
order's quantity (then no whole assignment exists). Otherwise CP-SAT searches, starting from that plan.
Among assignments with the fewest split orders it takes one with the fewest pieces (parcels for the buyers).
"""

import math
import time
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from uuid import UUID

from ortools.sat.python.cp_model import FEASIBLE, OPTIMAL, CpModel, CpSolver, IntVar, LinearExpr

# CP-SAT's single-thread search did 0.25-0.5 deterministic work units per second on the matching engine's bench
# (flexsupply/allocation/params.py), so this much work fits in a second on a loaded machine too.
WORK_UNITS_PER_SECOND = 0.2


@dataclass(frozen=True, slots=True)
class OrderNeed:
    order_id: UUID
    region: str
    quantity: int  # units of this order still to assign (>= 1)
    rank: int  # placement order (earlier = smaller); ties broken by order_id


@dataclass(frozen=True, slots=True)
class Share:
    production_order_id: UUID
    region: str
    quantity: int  # units this production order makes for that region that still need orders (>= 1)


@dataclass(frozen=True, slots=True)
class Piece:
    order_id: UUID
    production_order_id: UUID
    quantity: int  # >= 1


class AssignmentMismatch(ValueError):
    """A region's orders and its shares do not add up to the same units."""


@dataclass(frozen=True, slots=True)
class Assignment:
    pieces: list[Piece]
    split_orders: int
    proved_minimal: bool  # False only when the solver stopped at the time limit before proving it
    regions_searched: int  # regions the greedy could not fill whole, decided by CP-SAT


def assign(orders: Sequence[OrderNeed], shares: Sequence[Share], time_limit_seconds: float = 8.0) -> list[Piece]:
    """The pieces, sorted by (rank, order_id, production_order_id): every order's and every share's units exact."""
    return solve_assignment(orders, shares, time_limit_seconds).pieces


def solve_assignment(
    orders: Sequence[OrderNeed], shares: Sequence[Share], time_limit_seconds: float = 8.0
) -> Assignment:
    """`assign`, with how many orders it split and whether no assignment splits fewer."""
    orders_by_region, shares_by_region = _by_region(orders, shares)
    deadline = time.monotonic() + time_limit_seconds
    regions = [
        _Region(
            sorted(orders_by_region[region], key=lambda order: (order.rank, order.order_id)),
            sorted(shares_by_region[region], key=lambda share: share.production_order_id),
        )
        for region in sorted(orders_by_region)
    ]
    to_search = [region for region in regions if len(region.plan.split) > region.fewest_possible]
    proved = True
    for left, region in enumerate(to_search):
        # Each region searches for a share of the time limit in CP-SAT's deterministic work units, so that the same
        # input gives the same pieces even when a search is stopped; the clock stops it too, at its share of the time
        # that is left.
        work = time_limit_seconds * WORK_UNITS_PER_SECOND / len(to_search)
        wall_seconds = max((deadline - time.monotonic()) / (len(to_search) - left), 0.05)
        found, region_proved = _solve_region(region.counts, region.capacities, region.plan, work, wall_seconds)
        if _cost(found) <= _cost(region.plan):
            region.plan = found
        proved = proved and region_proved
    pieces = [
        Piece(region.orders[order_index].order_id, region.shares[share_index].production_order_id, quantity)
        for region in regions
        for order_index, share_index, quantity in _placed(region.plan, [order.quantity for order in region.orders])
    ]
    rank = {order.order_id: order.rank for order in orders}
    pieces.sort(key=lambda piece: (rank[piece.order_id], piece.order_id, piece.production_order_id))
    _check_totals(pieces, orders, shares)
    split = sum(1 for count in Counter(piece.order_id for piece in pieces).values() if count > 1)
    return Assignment(pieces=pieces, split_orders=split, proved_minimal=proved, regions_searched=len(to_search))


def _by_region(
    orders: Sequence[OrderNeed], shares: Sequence[Share]
) -> tuple[dict[str, list[OrderNeed]], dict[str, list[Share]]]:
    if any(order.quantity < 1 for order in orders) or any(share.quantity < 1 for share in shares):
        raise ValueError("every order and every share needs at least one unit")
    if len({order.order_id for order in orders}) != len(orders):
        raise ValueError("an order appears twice")
    if len({(share.production_order_id, share.region) for share in shares}) != len(shares):
        raise ValueError("a production order has two shares in one region")
    orders_by_region: dict[str, list[OrderNeed]] = defaultdict(list)
    shares_by_region: dict[str, list[Share]] = defaultdict(list)
    for order in orders:
        orders_by_region[order.region].append(order)
    for share in shares:
        shares_by_region[share.region].append(share)
    for region in sorted(orders_by_region.keys() | shares_by_region.keys()):
        ordered = sum(order.quantity for order in orders_by_region[region])
        made = sum(share.quantity for share in shares_by_region[region])
        if ordered != made:
            raise AssignmentMismatch(f"region {region}: orders need {ordered} units, production makes {made}")
    return orders_by_region, shares_by_region


@dataclass
class _RegionPlan:
    """A region's assignment by counts: share indexes are positions in the region's sorted shares."""

    whole: Counter[tuple[int, int]] = field(default_factory=Counter)  # (quantity, share) -> whole orders
    split: list[tuple[int, list[int]]] = field(default_factory=list)  # (quantity, units per share) per split order


class _Region:
    """A region's orders by rank and shares by id, a first plan, and a bound on the orders any plan splits."""

    def __init__(self, orders: list[OrderNeed], shares: list[Share]) -> None:
        self.orders = orders
        self.shares = shares
        self.counts = Counter(order.quantity for order in orders)
        self.capacities = [share.quantity for share in shares]
        self.plan = _share_by_share(self.counts, self.capacities)
        # A share whose units are not a multiple of every order's quantity needs a piece of a split order.
        divisor = math.gcd(*self.counts)
        self.fewest_possible = 1 if any(capacity % divisor for capacity in self.capacities) else 0


def _cost(plan: _RegionPlan) -> tuple[int, int]:
    return len(plan.split), sum(1 for _, units in plan.split for share_units in units if share_units)


def _share_by_share(counts: Counter[int], capacities: list[int]) -> _RegionPlan:
    """Whole orders filling the shares one by one, smallest first; the largest share takes the rest.

    A share takes the largest orders while they leave it room for four more of the largest, then an exact subset sum
    of the orders left fills the rest. When no whole orders fill it exactly, they fill all but a few units, which one
    order larger than those units gives, its other units going to the largest share (or, when that has no room left
    for them, to the next shares). (Of 22,774 random small
    instances that had a whole assignment, this missed one in 420 with the shares smallest first; one in 88 in a
    fixed order of the shares, and one in 16 leaving room for only one more of the largest.)
    """
    plan = _RegionPlan()
    left = Counter(counts)
    largest = max(counts)
    rooms = list(capacities)
    order = sorted(range(len(capacities)), key=lambda share: (capacities[share], share))
    last = order[-1]
    for position, share in enumerate(order[:-1]):
        room = rooms[share]
        for size in sorted(left, reverse=True):
            taken = min(left[size], max(room - 4 * largest, 0) // size)
            if taken:
                plan.whole[size, share] += taken
                left[size] -= taken
                room -= taken * size
        chosen = _subset_summing_to(room, left)
        if chosen is None:
            size, chosen = _split_and_subset(room, left)
            left[size] -= 1
            units = [0] * len(capacities)
            units[share] = room - sum(size * count for size, count in chosen.items())
            rest = size - units[share]
            # The rest goes to the largest share when it has room for it, else to the next shares in turn.
            for other in [last] if rooms[last] >= rest else order[position + 1 :]:
                units[other] = min(rest, rooms[other])
                rooms[other] -= units[other]
                rest -= units[other]
            plan.split.append((size, units))
        for size, count in chosen.items():
            plan.whole[size, share] += count
            left[size] -= count
        rooms[share] = 0
    for size, count in left.items():
        if count:
            plan.whole[size, last] += count
    return plan


def _split_and_subset(room: int, available: Counter[int]) -> tuple[int, Counter[int]]:
    """An order to split, and whole orders filling all of `room` but fewer units than that order has."""
    for size in sorted((size for size, count in available.items() if count), reverse=True):
        rest = available - Counter({size: 1})
        sums = _SubsetSums(rest, room)
        within = sums.reachable & ((1 << room) - 1) & ~((1 << max(room - size + 1, 0)) - 1)
        if within:
            return size, sums.chosen(within.bit_length() - 1)
    # Unless no later share has room left (then the orders left fill this room exactly), they add up to more than
    # the room; filling it with the largest orders in turn then stops at an order too large for what is left of it.
    raise AssertionError("no order can be split to fill the room")


def _subset_summing_to(target: int, available: Counter[int]) -> Counter[int] | None:
    """How many orders of each quantity add up to exactly `target` units, or None when no choice does."""
    sums = _SubsetSums(available, target)
    return sums.chosen(target) if sums.reachable >> target & 1 else None


class _SubsetSums:
    """The sums of up to `limit` units that orders can make, as a bitset (bit u set: u units reachable).

    Each quantity's orders come in bundles of 1, 2, 4... so that any count is a sum of bundles. Walking back, a
    bundle is taken only when its units were not reachable without it: the larger quantities, bundled first, are
    preferred, and the smaller orders kept for the later shares.
    """

    def __init__(self, available: Counter[int], limit: int) -> None:
        self.bundles: list[tuple[int, int]] = []
        for size in sorted((size for size, count in available.items() if count), reverse=True):
            count, bundle = available[size], 1
            while count:
                taken = min(bundle, count)
                self.bundles.append((size, taken))
                count -= taken
                bundle *= 2
        within = (1 << (limit + 1)) - 1
        self.reachable = 1
        self.reachable_before: list[int] = []
        for size, taken in self.bundles:
            self.reachable_before.append(self.reachable)
            self.reachable = (self.reachable | self.reachable << (size * taken)) & within

    def chosen(self, target: int) -> Counter[int]:
        chosen = Counter[int]()
        units = target
        for (size, taken), before in zip(reversed(self.bundles), reversed(self.reachable_before), strict=True):
            if not before >> units & 1:
                chosen[size] += taken
                units -= size * taken
        return chosen


def _solve_region(
    counts: Counter[int], capacities: list[int], start: _RegionPlan, work: float, wall_seconds: float
) -> tuple[_RegionPlan, bool]:
    sizes = sorted(counts)
    shares = range(len(capacities))
    slots = range(len(capacities) - 1)
    largest = sizes[-1]
    model = CpModel()
    whole = {
        (size, share): model.new_int_var(0, min(counts[size], capacities[share] // size), f"whole_{size}_{share}")
        for size in sizes
        for share in shares
    }
    # Slot j, when used, is one split order: its size, and its units on each share (two shares or more).
    is_size = {(slot, size): model.new_bool_var(f"slot_{slot}_is_{size}") for slot in slots for size in sizes}
    used = [model.new_bool_var(f"slot_{slot}_used") for slot in slots]
    units = {
        (slot, share): model.new_int_var(0, min(largest, capacities[share]), f"slot_{slot}_on_{share}")
        for slot in slots
        for share in shares
    }
    on = {(slot, share): model.new_bool_var(f"slot_{slot}_uses_{share}") for slot in slots for share in shares}
    for slot in slots:
        model.add(sum(is_size[slot, size] for size in sizes) == used[slot])
        model.add(sum(units[slot, share] for share in shares) == sum(size * is_size[slot, size] for size in sizes))
        for share in shares:
            model.add(units[slot, share] >= 1).only_enforce_if(on[slot, share])
            model.add(units[slot, share] == 0).only_enforce_if(~on[slot, share])
        model.add(sum(on[slot, share] for share in shares) >= 2).only_enforce_if(used[slot])
        if slot:
            model.add_implication(used[slot], used[slot - 1])  # used slots first: fewer symmetric solutions
    for size in sizes:
        model.add(
            sum(whole[size, share] for share in shares) + sum(is_size[slot, size] for slot in slots) == counts[size]
        )
    for share in shares:
        model.add(
            sum(size * whole[size, share] for size in sizes) + sum(units[slot, share] for slot in slots)
            == capacities[share]
        )
    # One split order more always outweighs every extra piece: pieces are at most slots * shares.
    weight = len(slots) * len(capacities) + 1
    model.minimize(weight * LinearExpr.sum(used) + LinearExpr.sum(list(on.values())))
    _hint(model, start, whole, is_size, used, units, on)

    solver = CpSolver()
    solver.parameters.num_workers = 1  # deterministic, and the machine has two cores for everything else
    solver.parameters.max_deterministic_time = work
    solver.parameters.max_time_in_seconds = wall_seconds
    solver.parameters.catch_sigint_signal = False
    status = solver.solve(model)
    if status not in (OPTIMAL, FEASIBLE):
        return start, False
    plan = _RegionPlan()
    for (size, share), variable in whole.items():
        if count := solver.value(variable):
            plan.whole[size, share] = count
    for slot in slots:
        if solver.boolean_value(used[slot]):
            size = next(size for size in sizes if solver.boolean_value(is_size[slot, size]))
            plan.split.append((size, [solver.value(units[slot, share]) for share in shares]))
    return plan, status == OPTIMAL


def _hint(
    model: CpModel,
    start: _RegionPlan,
    whole: dict[tuple[int, int], IntVar],
    is_size: dict[tuple[int, int], IntVar],
    used: list[IntVar],
    units: dict[tuple[int, int], IntVar],
    on: dict[tuple[int, int], IntVar],
) -> None:
    for key, variable in whole.items():
        model.add_hint(variable, start.whole[key])
    split = sorted(start.split, reverse=True)
    for (slot, size), variable in is_size.items():
        model.add_hint(variable, slot < len(split) and split[slot][0] == size)
    for slot, variable in enumerate(used):
        model.add_hint(variable, slot < len(split))
    for (slot, share), variable in units.items():
        quantity = split[slot][1][share] if slot < len(split) else 0
        model.add_hint(variable, quantity)
        model.add_hint(on[slot, share], quantity > 0)


def _placed(plan: _RegionPlan, quantities: list[int]) -> list[tuple[int, int, int]]:
    """(order index, share index, units): of each quantity, the earliest orders whole, the latest split."""
    indexes_by_size: dict[int, list[int]] = defaultdict(list)
    for index, quantity in enumerate(quantities):
        indexes_by_size[quantity].append(index)
    placed: list[tuple[int, int, int]] = []
    for size, indexes in indexes_by_size.items():
        queue = iter(indexes)
        for (whole_size, share), count in sorted(plan.whole.items(), key=lambda item: item[0][1]):
            if whole_size == size:
                placed.extend((next(queue), share, size) for _ in range(count))
        for split_size, pieces in plan.split:
            if split_size == size:
                index = next(queue)
                placed.extend((index, share, units) for share, units in enumerate(pieces) if units)
    return placed


def _check_totals(pieces: list[Piece], orders: Sequence[OrderNeed], shares: Sequence[Share]) -> None:
    """A last guard: an assignment off by one unit would ship the wrong parcels."""
    by_order: Counter[UUID] = Counter()
    by_share: Counter[tuple[UUID, str]] = Counter()
    region = {order.order_id: order.region for order in orders}
    for piece in pieces:
        by_order[piece.order_id] += piece.quantity
        by_share[piece.production_order_id, region[piece.order_id]] += piece.quantity
    if by_order != Counter({order.order_id: order.quantity for order in orders}) or by_share != Counter(
        {(share.production_order_id, share.region): share.quantity for share in shares}
    ):
        raise RuntimeError("the assignment does not meet every order and every share exactly")
