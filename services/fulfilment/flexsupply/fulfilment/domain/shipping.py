"""Which orders a ready batch of a production order goes to.

Earlier buyers are served by earlier batches, whole orders whenever they fit: the scan goes on past an order too
large for what is left of the batch to the later orders that still fit whole, and only the earliest order that no
longer fits takes the remainder. So a batch splits at most one order, and the next batch finishes it first.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from uuid import UUID


@dataclass(frozen=True, slots=True)
class OpenPiece:
    order_id: UUID
    units: int  # units of this order, on this production order, not yet in any shipment (>= 1)
    rank: int  # placement order: earlier buyers are served by earlier batches


class BatchTooLarge(ValueError):
    """The batch holds more units than its production order's orders still wait for."""


def fill_batch(batch_quantity: int, open_pieces: Sequence[OpenPiece]) -> list[tuple[UUID, int]]:
    """(order_id, units) for each order the batch ships to, in placement order, summing to batch_quantity."""
    if batch_quantity < 1:
        raise ValueError("a batch has at least one unit")
    if any(piece.units < 1 for piece in open_pieces):
        raise ValueError("an open piece has at least one unit")
    if len({piece.order_id for piece in open_pieces}) != len(open_pieces):
        raise ValueError("an order appears twice among the open pieces")
    open_units = sum(piece.units for piece in open_pieces)
    if batch_quantity > open_units:
        raise BatchTooLarge(f"the batch has {batch_quantity} units, its orders wait for {open_units}")
    left = batch_quantity
    taken: dict[UUID, int] = {}
    first_skipped: OpenPiece | None = None
    for piece in sorted(open_pieces, key=lambda piece: (piece.rank, piece.order_id)):
        if piece.units <= left:
            taken[piece.order_id] = piece.units
            left -= piece.units
            if not left:
                break
        elif first_skipped is None:
            first_skipped = piece
    if left:
        # Open units cover the batch, so some order was skipped; it was larger than `left` already then.
        assert first_skipped is not None
        taken[first_skipped.order_id] = left
    rank = {piece.order_id: (piece.rank, piece.order_id) for piece in open_pieces}
    return sorted(taken.items(), key=lambda item: rank[item[0]])
