"""Which orders a ready batch goes to: earliest first, whole orders where they fit, at most one split."""

from uuid import UUID

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from flexsupply.fulfilment.domain.shipping import BatchTooLarge, OpenPiece, fill_batch

O1, O2, O3, O4 = (UUID(int=n) for n in range(1, 5))


def test_the_earliest_orders_are_shipped_whole_first() -> None:
    pieces = [OpenPiece(O3, 2, rank=3), OpenPiece(O1, 2, rank=1), OpenPiece(O2, 3, rank=2)]

    assert fill_batch(5, pieces) == [(O1, 2), (O2, 3)]


def test_the_scan_goes_on_to_later_orders_that_fit_whole() -> None:
    pieces = [OpenPiece(O1, 4, rank=1), OpenPiece(O2, 2, rank=2), OpenPiece(O3, 1, rank=3)]

    assert fill_batch(3, pieces) == [(O2, 2), (O3, 1)]


def test_the_earliest_order_that_does_not_fit_takes_the_remainder() -> None:
    pieces = [OpenPiece(O1, 5, rank=1), OpenPiece(O2, 3, rank=2), OpenPiece(O3, 4, rank=3), OpenPiece(O4, 1, rank=4)]

    assert fill_batch(7, pieces) == [(O1, 5), (O2, 1), (O4, 1)]


def test_equal_ranks_go_by_order_id() -> None:
    pieces = [OpenPiece(O2, 3, rank=1), OpenPiece(O1, 3, rank=1)]

    assert fill_batch(4, pieces) == [(O1, 3), (O2, 1)]


def test_a_batch_larger_than_the_open_units_is_refused() -> None:
    with pytest.raises(BatchTooLarge, match=r"5 units.*4"):
        fill_batch(5, [OpenPiece(O1, 3, rank=1), OpenPiece(O2, 1, rank=2)])


def test_an_empty_batch_is_refused() -> None:
    with pytest.raises(ValueError, match="at least one unit"):
        fill_batch(0, [OpenPiece(O1, 3, rank=1)])


@st.composite
def batches(draw: st.DrawFn) -> tuple[int, list[OpenPiece]]:
    units = draw(st.lists(st.integers(1, 8), min_size=1, max_size=12))
    pieces = [OpenPiece(UUID(int=n + 1), amount, draw(st.integers(0, 5))) for n, amount in enumerate(units)]
    return draw(st.integers(1, sum(units))), pieces


@settings(max_examples=300)
@given(batches())
def test_a_batch_ships_exactly_its_units_and_splits_at_most_one_order(batch: tuple[int, list[OpenPiece]]) -> None:
    quantity, pieces = batch
    open_units = {piece.order_id: piece.units for piece in pieces}

    shipped = fill_batch(quantity, pieces)

    assert sum(units for _, units in shipped) == quantity
    assert all(1 <= units <= open_units[order_id] for order_id, units in shipped)
    assert len({order_id for order_id, _ in shipped}) == len(shipped)
    partial = [order_id for order_id, units in shipped if units < open_units[order_id]]
    assert len(partial) <= 1
    if partial:
        # The split order is the earliest one not shipped whole: every earlier order went whole.
        order = sorted(pieces, key=lambda piece: (piece.rank, piece.order_id))
        whole = {order_id for order_id, units in shipped if units == open_units[order_id]}
        earlier = order[: [piece.order_id for piece in order].index(partial[0])]
        assert {piece.order_id for piece in earlier} <= whole
