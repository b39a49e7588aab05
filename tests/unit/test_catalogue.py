from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest

from flexsupply.contracts.errors import InvalidField
from flexsupply.contracts.rules import whole_days_until
from flexsupply.matching.domain.planning import days_left
from flexsupply.suppliers.domain.catalogue import (
    Need,
    OfferFacts,
    check_offer_regions_served,
    check_regions_known,
    is_eligible,
)

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


def need(**changes) -> Need:
    values = {
        "sku": "candle",
        "needed_by": NOW + timedelta(days=7),
        "min_quality": 80,
        "regions": frozenset({"ningbo"}),
    }
    return Need(**(values | changes))


def offer(**changes) -> OfferFacts:
    values = {
        "sku": "candle",
        "lead_time_days": 7,
        "quality": 80,
        "shipping_regions": frozenset({"ningbo", "shanghai"}),
        "valid_from": None,
        "valid_until": None,
        "withdrawn": False,
    }
    return OfferFacts(**(values | changes))


def test_an_offer_that_just_makes_every_bound_is_eligible():
    assert is_eligible(offer(), need(), NOW)


@pytest.mark.parametrize(
    "changes",
    [
        {"sku": "soap"},
        {"lead_time_days": 8},
        {"quality": 79},
        {"shipping_regions": frozenset({"shanghai"})},
        {"withdrawn": True},
        {"valid_from": NOW + timedelta(seconds=1)},
        {"valid_until": NOW - timedelta(seconds=1)},
    ],
)
def test_an_offer_failing_one_condition_is_not_eligible(changes):
    assert not is_eligible(offer(**changes), need(), NOW)


def test_days_available_counts_whole_days_only():
    assert need(needed_by=NOW + timedelta(days=6, hours=23)).days_available(NOW) == 6
    assert not is_eligible(offer(), need(needed_by=NOW + timedelta(days=6, hours=23)), NOW)


# The longest span a datetime allows from NOW, a microsecond short of whole days: seconds as a float round it up.
FAR = timedelta(days=2_912_078) - timedelta(microseconds=1)


@pytest.mark.parametrize("until", [timedelta(days=7), timedelta(days=6, hours=23), FAR], ids=["7d", "6d23h", "far"])
def test_the_catalogue_and_matching_count_the_same_whole_days_until_needed_by(until: timedelta):
    days = until // timedelta(days=1)
    assert need(needed_by=NOW + until).days_available(NOW) == days
    assert days_left(uuid4(), NOW + until, NOW) == days
    assert whole_days_until(NOW + until, NOW) == days


def test_a_need_naming_no_region_accepts_any_region():
    assert is_eligible(offer(shipping_regions=frozenset({"chengdu"})), need(regions=frozenset()), NOW)


def test_a_naive_deadline_is_refused_naming_the_field():
    with pytest.raises(InvalidField) as raised:
        need(needed_by=datetime(2026, 12, 1))
    assert raised.value.field == "needed_by"


def test_unknown_regions_are_named():
    with pytest.raises(InvalidField) as raised:
        check_regions_known("regions", ["ningbo", "atlantis", "mu"], {"ningbo"})
    assert raised.value.field == "regions" and "atlantis, mu" in raised.value.message


def test_an_offer_may_only_ship_where_its_supplier_serves():
    check_offer_regions_served(["ningbo"], {"ningbo", "shanghai"})
    with pytest.raises(InvalidField) as raised:
        check_offer_regions_served(["ningbo", "chengdu"], {"ningbo"})
    assert raised.value.field == "shipping_cents" and "chengdu" in raised.value.message
