import pytest

from flexsupply.contracts.rules import MAX_UNITS
from flexsupply.suppliers.domain.scorecard import (
    MIN_UNITS_ON_RECORD,
    OUTCOME_KINDS,
    InvalidOutcome,
    Scorecard,
    effective_quality,
)


def card(**units: int) -> Scorecard:
    return Scorecard(**{f"{kind}_units": count for kind, count in units.items()})


def test_a_supplier_with_nothing_on_record_keeps_its_declared_quality():
    assert Scorecard().quality_score == 100
    assert not Scorecard().applies
    assert effective_quality(73, Scorecard()) == 73


def test_below_the_minimum_sample_even_total_failure_leaves_the_declared_quality():
    few = card(failed_to_deliver=MIN_UNITS_ON_RECORD - 1)
    assert few.quality_score == 0
    assert not few.applies
    assert effective_quality(90, few) == 90


def test_at_the_minimum_sample_the_score_caps_the_declared_quality():
    enough = card(failed_to_deliver=MIN_UNITS_ON_RECORD)
    assert enough.applies
    assert effective_quality(90, enough) == 0


def test_a_good_record_never_raises_an_offer_above_what_was_declared():
    perfect = card(delivered_on_time=1_000)
    assert perfect.quality_score == 100
    assert effective_quality(80, perfect) == 80


@pytest.mark.parametrize(
    ("units", "score"),
    [
        ({"delivered_on_time": 100}, 100),
        ({"delivered_late": 100}, 50),  # a late unit earns half
        ({"quality_failed": 100}, 0),
        ({"case_upheld": 100}, 0),
        ({"delivered_on_time": 90, "case_upheld": 10}, 90),
        ({"delivered_on_time": 150, "delivered_late": 50, "failed_to_deliver": 50}, 70),  # (150 + 25) / 250
        ({"delivered_on_time": 200, "quality_failed": 100}, 67),  # 66.67 rounds up
        ({"delivered_on_time": 100, "quality_failed": 200}, 33),  # 33.33 rounds down
        ({"delivered_on_time": 1, "quality_failed": 199}, 1),  # exactly 0.5: halves round up
        ({"delivered_late": 1, "quality_failed": 199}, 0),  # 0.25
        ({"delivered_on_time": 199, "delivered_late": 1}, 100),  # 99.75
        ({"delivered_on_time": 3, "delivered_late": 1, "quality_failed": 196}, 2),  # exactly 1.75
    ],
)
def test_the_score_is_the_credited_share_of_units_rounded_half_up(units: dict[str, int], score: int):
    result = card(**units).quality_score
    assert result == score
    assert type(result) is int


def test_the_score_stays_exact_where_floats_would_not():
    # 100 * on_time / total falls short of 51.5 by less than a double can tell apart.
    total = 2 * 10**17
    on_time = total * 103 // 200 - 1
    huge = card(delivered_on_time=on_time, quality_failed=total - on_time)
    assert round(100 * on_time / total) == 52  # what float arithmetic would give
    assert huge.quality_score == 51


def test_recording_an_outcome_adds_its_units_to_its_kind_only():
    before = card(delivered_on_time=5)
    after = before.recorded("quality_failed", 7)
    assert after == card(delivered_on_time=5, quality_failed=7)
    assert before == card(delivered_on_time=5)  # cards are values
    assert after.total_units == 12
    assert {kind: Scorecard().recorded(kind, 3).units(kind) for kind in OUTCOME_KINDS} == dict.fromkeys(
        OUTCOME_KINDS, 3
    )


@pytest.mark.parametrize("units", [-1, MAX_UNITS + 1])
def test_units_out_of_range_are_refused(units: int):
    with pytest.raises(InvalidOutcome, match="units"):
        Scorecard().recorded("delivered_on_time", units)


def test_zero_and_the_largest_unit_counts_are_taken():
    assert Scorecard().recorded("delivered_late", 0) == Scorecard()
    assert Scorecard().recorded("delivered_late", MAX_UNITS).delivered_late_units == MAX_UNITS
