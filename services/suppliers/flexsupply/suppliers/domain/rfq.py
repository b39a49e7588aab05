"""Request-for-quotation rules: who is asked about what, until when a supplier may answer, and what it may quote."""

from collections.abc import Collection, Iterable
from datetime import datetime
from uuid import UUID

from flexsupply.contracts.errors import InvalidField
from flexsupply.contracts.events import RfqItem
from flexsupply.contracts.sourcing import RfqStatus
from flexsupply.suppliers.domain.catalogue import Need


class ReplyDeadlinePassed(Exception):
    """The RFQ's reply deadline has passed: it takes no more answers."""

    def __init__(self, reply_by: datetime) -> None:
        super().__init__(f"the reply deadline {reply_by.isoformat()} has passed; answers are no longer accepted")
        self.reply_by = reply_by


def is_open(reply_by: datetime, now: datetime) -> bool:
    """An RFQ takes answers strictly before its deadline: at `reply_by` matching may already be reading them."""
    return now < reply_by


def check_open(reply_by: datetime, now: datetime) -> None:
    if not is_open(reply_by, now):
        raise ReplyDeadlinePassed(reply_by)


def rfq_status(answered_at: datetime | None, reply_by: datetime, now: datetime) -> RfqStatus:
    if answered_at is not None:
        return RfqStatus.ANSWERED
    return RfqStatus.OPEN if is_open(reply_by, now) else RfqStatus.EXPIRED


def check_sku_asked(sku: str, asked: Collection[str]) -> None:
    if sku not in asked:
        raise InvalidField("sku", f"this RFQ does not ask about {sku!r}; it asks about {', '.join(sorted(asked))}")


def check_quote_valid_until(valid_until: datetime, now: datetime) -> None:
    """A quote must still hold when matching reads it, so it cannot have lapsed already."""
    if valid_until <= now:
        raise InvalidField("valid_until", f"must be in the future (it is {valid_until.isoformat()})")


def need_for(item: RfqItem) -> Need:
    """The catalogue's eligibility need of one item: regions are those the item wants units in."""
    regions = frozenset(region for region, units in item.quantities.items() if units > 0)
    return Need(sku=item.sku, needed_by=item.needed_by, min_quality=item.min_quality, regions=regions)


def items_per_supplier(
    item_count: int, eligible: Iterable[tuple[UUID, int]], named_supplier_ids: Iterable[UUID]
) -> dict[UUID, list[int]]:
    """One RFQ per supplier: the indexes of the items it is asked about. A supplier with an eligible offer is asked
    about that offer's item; a named supplier about every item."""
    asked: dict[UUID, set[int]] = {}
    for supplier_id, index in eligible:
        asked.setdefault(supplier_id, set()).add(index)
    for supplier_id in named_supplier_ids:
        asked[supplier_id] = set(range(item_count))
    return {supplier_id: sorted(indexes) for supplier_id, indexes in asked.items() if indexes}
