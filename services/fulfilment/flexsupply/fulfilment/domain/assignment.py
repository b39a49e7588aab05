"""Which production order makes each buyer's order: every share met exactly, as few orders split as possible.

Regions are independent. In a region, orders of the same quantity are interchangeable, so the search runs on counts
(how many orders of each quantity go whole to each share, and the quantities of the split orders with their pieces)
and only the last step picks the orders: the earlier buyers (by rank) are kept whole, the later ones are split.
Filling the shares one after the other splits at most one order per boundary between shares, so a region of k
shares never needs more than k - 1 split orders, and k - 1 split slots make the model exact.

A greedy whole assignment (largest orders first, each into the share with the most room left) that fills every
share splits nothing, so it is optimal and returned without a solver; with many small orders, the common case, that
is all it takes. Otherwise CP-SAT decides, hinted with the greedy's whole orders and the rest filled in sequence.
Among assignments with the fewest split orders it takes one with the fewest pieces (parcels for the buyers).
"""

import heapq
import time
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from uuid import UUID

from ortools.sat.python.cp_model import FEASIBLE, OPTIMAL, CpModel, CpSolver, IntVar, LinearExpr


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


def assign(orders: Sequence[OrderNeed], shares: Sequence[Share], time_limit_seconds: float = 8.0) -> list[Piece]:
    """The pieces, sorted by (rank, order_id, production_order_id): every order's and every share's units exact."""
    return solve_assignment(orders, shares, time_limit_seconds).pieces


def solve_assignment(
    orders: Sequence[OrderNeed], shares: Sequence[Share], time_limit_seconds: float = 8.0
) -> Assignment:
    """`assign`, with how many orders it split and whether no assignment splits fewer."""
    orders_by_region, shares_by_region = _by_region(orders, shares)
    deadline = time.monotonic() + time_limit_seconds
    pieces: list[Piece] = []
    proved = True
    for region in sorted(orders_by_region):
        region_orders = sorted(orders_by_region[region], key=lambda order: (order.rank, order.order_id))
        region_shares = sorted(shares_by_region[region], key=lambda share: share.production_order_id)
        plan, region_proved = _plan_region(
            [order.quantity for order in region_orders],
            [share.quantity for share in region_shares],
            max(deadline - time.monotonic(), 0.1),
        )
        for order_index, share_index, quantity in _placed(plan, [order.quantity for order in region_orders]):
            pieces.append(
                Piece(region_orders[order_index].order_id, region_shares[share_index].production_order_id, quantity)
            )
        proved = proved and region_proved
    rank = {order.order_id: order.rank for order in orders}
    pieces.sort(key=lambda piece: (rank[piece.order_id], piece.order_id, piece.production_order_id))
    _check_totals(pieces, orders, shares)
    split = sum(1 for count in Counter(piece.order_id for piece in pieces).values() if count > 1)
    return Assignment(pieces=pieces, split_orders=split, proved_minimal=proved)


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


def _plan_region(quantities: list[int], capacities: list[int], time_limit_seconds: float) -> tuple[_RegionPlan, bool]:
    counts = Counter(quantities)
    whole, rooms = _greedy_whole(counts, capacities)
    if not any(rooms):
        return whole, True
    start = _filled_in_sequence(whole, counts, rooms)
    return _solve_region(counts, capacities, start, time_limit_seconds)


def _greedy_whole(counts: Counter[int], capacities: list[int]) -> tuple[_RegionPlan, list[int]]:
    """Largest orders first, each whole into the share with the most room left (the lowest index among equals)."""
    plan = _RegionPlan()
    heap = [(-capacity, index) for index, capacity in enumerate(capacities)]
    heapq.heapify(heap)
    for quantity in sorted(counts, reverse=True):
        for _ in range(counts[quantity]):
            room, index = -heap[0][0], heap[0][1]
            if room < quantity:
                break  # no share has room for this quantity now, nor later: rooms only shrink
            plan.whole[quantity, index] += 1
            heapq.heapreplace(heap, (-(room - quantity), index))
    rooms = [0] * len(capacities)
    for negative_room, index in heap:
        rooms[index] = -negative_room
    return plan, rooms


def _filled_in_sequence(whole: _RegionPlan, counts: Counter[int], rooms: list[int]) -> _RegionPlan:
    """The greedy's whole orders, and the orders it left poured into the rooms left, share after share."""
    plan = _RegionPlan(whole=Counter(whole.whole))
    placed = Counter[int]()
    for (quantity, _), count in whole.whole.items():
        placed[quantity] += count
    rooms = list(rooms)
    index = 0
    for quantity in sorted(counts, reverse=True):
        for _ in range(counts[quantity] - placed[quantity]):
            units = [0] * len(rooms)
            left = quantity
            while left:
                while rooms[index] == 0:
                    index += 1
                taken = min(left, rooms[index])
                units[index] += taken
                rooms[index] -= taken
                left -= taken
            if units.count(0) == len(units) - 1:
                plan.whole[quantity, units.index(quantity)] += 1
            else:
                plan.split.append((quantity, units))
    return plan


def _solve_region(
    counts: Counter[int], capacities: list[int], start: _RegionPlan, time_limit_seconds: float
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
    solver.parameters.max_time_in_seconds = time_limit_seconds
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
