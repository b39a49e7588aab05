from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest

from flexsupply.contracts.errors import InvalidField
from flexsupply.contracts.events import RfqItem
from flexsupply.contracts.sourcing import RfqStatus
from flexsupply.suppliers.domain.rfq import (
    ReplyDeadlinePassed,
    check_open,
    check_quote_valid_until,
    check_sku_asked,
    is_open,
    items_per_supplier,
    need_for,
    rfq_status,
)

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
SECOND = timedelta(seconds=1)


def test_an_rfq_is_open_until_just_before_its_deadline():
    assert is_open(NOW + SECOND, NOW)
    assert not is_open(NOW, NOW)
    assert not is_open(NOW - SECOND, NOW)


def test_answering_at_or_after_the_deadline_names_the_deadline():
    check_open(NOW + SECOND, NOW)
    with pytest.raises(ReplyDeadlinePassed, match="2026-12-01T12:00:00"):
        check_open(NOW, NOW)


@pytest.mark.parametrize(
    ("answered_at", "reply_by", "status"),
    [
        (None, NOW + SECOND, RfqStatus.OPEN),
        (None, NOW, RfqStatus.EXPIRED),
        (NOW - SECOND, NOW + SECOND, RfqStatus.ANSWERED),
        (NOW - 2 * SECOND, NOW - SECOND, RfqStatus.ANSWERED),  # an answer stays an answer after the deadline
    ],
)
def test_an_rfqs_status_follows_its_answer_and_deadline(answered_at, reply_by, status):
    assert rfq_status(answered_at, reply_by, NOW) is status


def test_a_sku_the_rfq_does_not_ask_about_is_refused_naming_sku():
    check_sku_asked("candle", {"candle", "soap"})
    with pytest.raises(InvalidField) as raised:
        check_sku_asked("bread", {"candle", "soap"})
    assert raised.value.field == "sku" and "candle, soap" in raised.value.message


def test_a_quote_must_still_hold_after_now():
    check_quote_valid_until(NOW + SECOND, NOW)
    with pytest.raises(InvalidField) as raised:
        check_quote_valid_until(NOW, NOW)
    assert raised.value.field == "valid_until"


def test_an_items_need_names_only_the_regions_it_wants_units_in():
    item = RfqItem(
        package_id=uuid4(),
        sku="candle",
        spec="soy wax, 200 g",
        quantities={"ningbo": 120, "shanghai": 0},
        needed_by=NOW + timedelta(days=9),
        min_quality=80,
    )
    need = need_for(item)
    assert (need.sku, need.min_quality, need.regions) == ("candle", 80, frozenset({"ningbo"}))
    assert need.days_available(NOW) == 9


def test_each_supplier_gets_one_rfq_for_its_eligible_items_and_named_ones_get_all():
    eligible_twice, eligible_once, named, named_and_eligible = uuid4(), uuid4(), uuid4(), uuid4()
    eligible = [
        (eligible_twice, 2),
        (eligible_twice, 0),
        (eligible_twice, 2),  # two offers for one item: still asked once about it
        (eligible_once, 1),
        (named_and_eligible, 1),
    ]

    asked = items_per_supplier(3, eligible, [named, named_and_eligible])

    assert asked == {
        eligible_twice: [0, 2],
        eligible_once: [1],
        named: [0, 1, 2],
        named_and_eligible: [0, 1, 2],
    }


def test_a_round_without_items_asks_nobody():
    assert items_per_supplier(0, [], [uuid4()]) == {}
