"""Assigning buyers' orders to production: every unit exact, an order split only when no whole assignment exists."""

import itertools
import random
from collections import Counter, defaultdict
from uuid import UUID

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from flexsupply.fulfilment.domain.assignment import (
    AssignmentMismatch,
    OrderNeed,
    Piece,
    Share,
    assign,
    solve_assignment,
)

A, B, C = UUID(int=0xA), UUID(int=0xB), UUID(int=0xC)


def needs(*quantities: int, region: str = "north", first: int = 1) -> list[OrderNeed]:
    return [OrderNeed(UUID(int=first + n), region, quantity, rank=first + n) for n, quantity in enumerate(quantities)]


def units_by_order(pieces: list[Piece]) -> Counter[UUID]:
    totals: Counter[UUID] = Counter()
    for piece in pieces:
        totals[piece.order_id] += piece.quantity
    return totals


def units_by_share(pieces: list[Piece], orders: list[OrderNeed]) -> Counter[tuple[UUID, str]]:
    region = {order.order_id: order.region for order in orders}
    totals: Counter[tuple[UUID, str]] = Counter()
    for piece in pieces:
        totals[piece.production_order_id, region[piece.order_id]] += piece.quantity
    return totals


def assert_exact(pieces: list[Piece], orders: list[OrderNeed], shares: list[Share]) -> None:
    assert all(piece.quantity >= 1 for piece in pieces)
    assert units_by_order(pieces) == {order.order_id: order.quantity for order in orders}
    assert units_by_share(pieces, orders) == {
        (share.production_order_id, share.region): share.quantity for share in shares
    }


def split_orders(pieces: list[Piece]) -> set[UUID]:
    return {order_id for order_id, count in Counter(piece.order_id for piece in pieces).items() if count > 1}


def fewest_splits(quantities: list[int], capacities: list[int]) -> int:
    """Brute force: the fewest orders to set aside so that the others fit whole; those set aside then fill the
    room left, which is exactly their units."""
    best = len(quantities)
    for choice in itertools.product(range(-1, len(capacities)), repeat=len(quantities)):
        load = [0] * len(capacities)
        for quantity, share in zip(quantities, choice, strict=True):
            if share >= 0:
                load[share] += quantity
        if all(used <= capacity for used, capacity in zip(load, capacities, strict=True)):
            best = min(best, choice.count(-1))
    return best


def test_a_split_is_made_when_no_whole_assignment_exists_and_the_later_buyer_takes_it() -> None:
    orders = needs(3, 3, 4)
    shares = [Share(A, "north", 5), Share(B, "north", 5)]

    result = solve_assignment(orders, shares)

    assert_exact(result.pieces, orders, shares)
    assert result.split_orders == 1
    assert result.proved_minimal
    assert split_orders(result.pieces) == {orders[1].order_id}


def test_one_order_split_over_three_shares_is_fewer_splits_than_one_per_boundary() -> None:
    orders = needs(4, 4, 4, 3)
    shares = [Share(A, "north", 5), Share(B, "north", 5), Share(C, "north", 5)]

    pieces = assign(orders, shares)

    assert_exact(pieces, orders, shares)
    assert len(split_orders(pieces)) == 1


def test_a_whole_assignment_the_quick_fill_misses_is_found_by_the_search() -> None:
    # Filling the smallest share first with the larger orders takes 2 + 2, and then no whole orders left make 5.
    orders = needs(3, 3, 3, 2, 2, 1)
    shares = [Share(A, "north", 4), Share(B, "north", 5), Share(C, "north", 5)]

    result = solve_assignment(orders, shares)

    assert_exact(result.pieces, orders, shares)
    assert result.regions_searched == 1
    assert result.split_orders == 0
    assert len(result.pieces) == len(orders)


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 2**32 - 1))
def test_a_whole_assignment_is_found_whenever_one_exists(seed: int) -> None:
    generator = random.Random(seed)
    orders: list[OrderNeed] = []
    shares: list[Share] = []
    for region in ("north", "south", "east")[: generator.randint(1, 3)]:
        for _ in range(generator.randint(1, 5)):
            quantities = [generator.choice((1, 1, 2, 2, 3, 4, 5, 7)) for _ in range(generator.randint(1, 12))]
            shares.append(Share(UUID(int=generator.getrandbits(128)), region, sum(quantities)))
            orders.extend(
                OrderNeed(UUID(int=generator.getrandbits(128)), region, quantity, generator.randint(0, 20))
                for quantity in quantities
            )
    generator.shuffle(orders)
    generator.shuffle(shares)

    result = solve_assignment(orders, shares)

    assert_exact(result.pieces, orders, shares)
    assert result.split_orders == 0
    assert len(result.pieces) == len(orders)


@st.composite
def small_instances(draw: st.DrawFn) -> tuple[list[OrderNeed], list[Share]]:
    orders: list[OrderNeed] = []
    shares: list[Share] = []
    for region in ("north", "south")[: draw(st.integers(1, 2))]:
        quantities = draw(st.lists(st.integers(1, 9), min_size=1, max_size=6))
        total = sum(quantities)
        cuts = draw(st.sets(st.integers(1, total - 1), max_size=min(2, total - 1))) if total > 1 else set()
        bounds = [0, *sorted(cuts), total]
        for low, high in itertools.pairwise(bounds):
            shares.append(Share(UUID(int=draw(st.integers(1, 2**64))), region, high - low))
        first = len(orders) + 1
        orders.extend(
            OrderNeed(UUID(int=first + n), region, quantity, draw(st.integers(0, 3)))
            for n, quantity in enumerate(quantities)
        )
    return orders, shares


@settings(max_examples=150, deadline=None)
@given(small_instances())
def test_every_unit_is_exact_and_the_splits_are_the_fewest_possible(
    instance: tuple[list[OrderNeed], list[Share]],
) -> None:
    orders, shares = instance
    if len({(share.production_order_id, share.region) for share in shares}) != len(shares):
        return  # drew the same production order twice in a region

    result = solve_assignment(orders, shares)

    assert_exact(result.pieces, orders, shares)
    assert result.proved_minimal
    fewest = 0
    for region in {order.region for order in orders}:
        fewest += fewest_splits(
            [order.quantity for order in orders if order.region == region],
            [share.quantity for share in shares if share.region == region],
        )
    assert result.split_orders == len(split_orders(result.pieces)) == fewest


def test_a_region_with_one_share_takes_every_order_whole() -> None:
    orders = needs(5, 1, 2, region="west")
    shares = [Share(A, "west", 8)]

    pieces = assign(orders, shares)

    assert pieces == [Piece(order.order_id, A, order.quantity) for order in orders]


def test_regions_are_assigned_apart() -> None:
    north, south = needs(2, 2, region="north"), needs(4, first=10, region="south")
    shares = [Share(A, "north", 4), Share(A, "south", 4)]

    pieces = assign([*north, *south], shares)

    assert {piece.order_id: piece.production_order_id for piece in pieces} == {
        order.order_id: A for order in [*north, *south]
    }


def test_orders_and_shares_that_do_not_add_up_are_refused_naming_the_region() -> None:
    with pytest.raises(AssignmentMismatch, match=r"south.*6.*5"):
        assign([*needs(2, 2), *needs(6, region="south", first=10)], [Share(A, "north", 4), Share(B, "south", 5)])


def test_a_region_with_shares_and_no_orders_is_a_mismatch() -> None:
    with pytest.raises(AssignmentMismatch, match="east"):
        assign(needs(2), [Share(A, "north", 2), Share(B, "east", 3)])


def test_an_order_without_units_is_refused() -> None:
    with pytest.raises(ValueError, match="at least one unit"):
        assign(needs(0, 2), [Share(A, "north", 2)])


def test_the_same_input_in_any_order_gives_the_same_pieces_sorted_by_rank() -> None:
    orders = [OrderNeed(UUID(int=n + 1), "north" if n % 3 else "south", 1 + n % 4, rank=n // 2) for n in range(40)]
    north = sum(order.quantity for order in orders if order.region == "north")
    south = sum(order.quantity for order in orders if order.region == "south")
    shares = [
        Share(A, "north", north // 3),
        Share(B, "north", north - north // 3 - 7),
        Share(C, "north", 7),
        Share(A, "south", south - 9),
        Share(B, "south", 9),
    ]
    shuffled_orders, shuffled_shares = list(orders), list(shares)
    random.Random(7).shuffle(shuffled_orders)
    random.Random(8).shuffle(shuffled_shares)

    pieces = assign(orders, shares)

    assert_exact(pieces, orders, shares)
    assert assign(shuffled_orders, shuffled_shares) == pieces
    rank = {order.order_id: order.rank for order in orders}
    keys = [(rank[piece.order_id], piece.order_id, piece.production_order_id) for piece in pieces]
    assert keys == sorted(keys)


def test_pieces_of_one_order_are_one_per_production_order() -> None:
    orders = needs(7, 7, 7)
    shares = [Share(A, "north", 10), Share(B, "north", 11)]

    pieces = assign(orders, shares)

    per_order: dict[UUID, list[UUID]] = defaultdict(list)
    for piece in pieces:
        per_order[piece.order_id].append(piece.production_order_id)
    assert all(len(set(ids)) == len(ids) for ids in per_order.values())
    assert len(split_orders(pieces)) == fewest_splits([7, 7, 7], [10, 11]) == 1


def test_a_search_stopped_by_its_time_limit_still_meets_every_unit() -> None:
    generator = random.Random(0)
    orders = [OrderNeed(UUID(int=n + 1), "north", generator.randint(50, 500), rank=n) for n in range(12)]
    total = sum(order.quantity for order in orders)
    cuts = sorted(generator.sample(range(1, total), 4))
    shares = [
        Share(UUID(int=0x100 + n), "north", high - low)
        for n, (low, high) in enumerate(itertools.pairwise([0, *cuts, total]))
    ]

    result = solve_assignment(orders, shares, time_limit_seconds=0.001)

    assert result.regions_searched == 1
    assert_exact(result.pieces, orders, shares)
    assert result.split_orders <= len(shares) - 1
