"""The demo's scenario files: their shape, and the evening they expand into."""

import json
from pathlib import Path

import pytest
from pydantic import ValidationError

from flexsupply.cli import scenario
from flexsupply.cli.scenario import PaymentSpec, Scenario

SMALL_EVENING = Path(__file__).resolve().parents[1] / "instances" / "scenarios" / "small-evening.json"


def test_the_built_in_evening_is_valid_and_plays_the_real_case() -> None:
    built_in = scenario.load(None)
    assert built_in.version == scenario.SCENARIO_VERSION
    assert built_in.buyers == 500
    assert {package.key for package in built_in.packages} == {"loaf", "candle", "coffee"}
    assert built_in.package("candle").cap_units == 123  # one candle took 123 orders in one group


def test_an_evening_expands_the_same_way_every_time_in_time_order() -> None:
    small = scenario.load(SMALL_EVENING)
    first, second = scenario.order_attempts(small), scenario.order_attempts(small)
    assert first == second
    assert len(first) == 40 + 10 + 1
    assert [attempt.at_ms for attempt in first] == sorted(attempt.at_ms for attempt in first)
    assert max(attempt.at_ms for attempt in first if attempt.package == "loaf") == 2000
    assert all(attempt.buyer < small.buyers for attempt in first)
    assert len({buyer.phone for buyer in scenario.buyers(small)}) == small.buyers


def test_a_scenario_naming_what_it_does_not_define_is_refused_with_each_reason() -> None:
    data = json.loads(SMALL_EVENING.read_text(encoding="utf-8"))
    data["packages"][0]["community"] = "nobody"
    data["faults"][0]["supplier"] = "ghost"
    with pytest.raises(ValidationError) as refused:
        Scenario.model_validate(data)
    assert "unknown community 'nobody'" in str(refused.value)
    assert "unknown supplier 'ghost'" in str(refused.value)


def test_a_future_version_is_refused() -> None:
    data = json.loads(SMALL_EVENING.read_text(encoding="utf-8")) | {"version": 2}
    with pytest.raises(ValidationError):
        Scenario.model_validate(data)


@pytest.mark.parametrize(("count", "expected"), [(0, (0, 0)), (10, (5, 4)), (3, (2, 1)), (1, (0, 0))])
def test_payments_split_the_orders_in_order(count: int, expected: tuple[int, int]) -> None:
    assert scenario.payment_split(count, PaymentSpec(provider_share=0.5, statement_share=0.4)) == expected


def test_shares_over_everyone_are_refused() -> None:
    with pytest.raises(ValidationError, match="more than 1"):
        PaymentSpec(provider_share=0.7, statement_share=0.4)


def test_the_statement_carries_each_reference_and_amount() -> None:
    assert scenario.statement_csv([("FS-ABCD2345", 11800)]).splitlines() == [
        "Date,Memo,Amount",
        "2026-12-08,FS-ABCD2345 转账,118.00",
    ]
