"""The flash sale's pure rules: caps, stock rows, the order's life and a statement's reconciliation."""

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from flexsupply.contracts.errors import InvalidField
from flexsupply.matching.domain.award import check_firm_quantities
from flexsupply.matching.domain.sale import (
    InvalidOrderMove,
    OrderStatus,
    OrderStep,
    Payable,
    find_reference,
    move_order,
    new_payment_reference,
    parse_amount_cents,
    parse_statement,
    pay_by,
    reconcile,
    sale_caps,
    shard_units,
)


@given(st.dictionaries(st.sampled_from("abcdefgh"), st.integers(0, 10_000), min_size=1), st.integers(1, 20_000))
def test_sale_caps_never_pass_the_leaders_cap_nor_the_plan(plan: dict[str, int], cap: int):
    caps = sale_caps(plan, cap)
    assert caps.keys() == plan.keys()
    assert sum(caps.values()) == min(cap, sum(plan.values()))
    assert all(0 <= caps[region] <= plan[region] for region in plan)


def test_sale_caps_split_the_leaders_cap_by_largest_remainder():
    assert sale_caps({"ningbo": 80, "shanghai": 60}, 100) == {"ningbo": 57, "shanghai": 43}
    assert sale_caps({"ningbo": 80, "shanghai": 80}, 100) == {"ningbo": 50, "shanghai": 50}
    assert sale_caps({"a": 2, "b": 1}, 2) == {"a": 1, "b": 1}
    assert sale_caps({"a": 30, "b": 10}, 100) == {"a": 30, "b": 10}


def test_firm_quantities_sold_elsewhere_are_held_to_the_caps_the_flash_sale_sells():
    caps = sale_caps({"ningbo": 80, "shanghai": 60}, 100)
    with pytest.raises(InvalidField) as raised:
        check_firm_quantities({"ningbo": 80, "shanghai": 60}, caps)
    assert raised.value.field == "quantities.ningbo"
    assert check_firm_quantities({"ningbo": 57, "shanghai": 43}, caps) == caps


@given(st.integers(0, 100_000), st.integers(1, 16))
def test_stock_rows_hold_the_units_evenly(units: int, shards: int):
    rows = shard_units(units, shards)
    assert len(rows) == shards and sum(rows) == units and max(rows) - min(rows) <= 1


def test_an_order_moves_only_as_its_life_allows():
    assert move_order(OrderStatus.PLACED, OrderStep.PAY) is OrderStatus.PAID
    assert move_order(OrderStatus.PAID, OrderStep.CANCEL) is OrderStatus.REFUND_DUE
    assert move_order(OrderStatus.RELEASED, OrderStep.PAY) is OrderStatus.REFUND_DUE  # late money is owed back
    with pytest.raises(InvalidOrderMove, match="a confirmed order cannot cancel"):
        move_order(OrderStatus.CONFIRMED, OrderStep.CANCEL)
    with pytest.raises(InvalidOrderMove, match="refunded is final"):
        move_order(OrderStatus.REFUNDED, OrderStep.PAY)


def test_payment_is_due_within_the_payment_time_and_by_the_close():
    placed = datetime(2026, 11, 30, 20, 0, tzinfo=UTC)
    assert pay_by(placed, 30, placed + timedelta(hours=2)) == placed + timedelta(minutes=30)
    assert pay_by(placed, 30, placed + timedelta(minutes=10)) == placed + timedelta(minutes=10)


def test_references_are_found_however_the_payer_typed_them():
    reference = new_payment_reference()
    assert reference.startswith("FS-") and len(reference) == 11
    assert find_reference(f"transfer {reference.lower()} thanks") == reference
    assert find_reference(f"memo {reference.replace('-', '')}") == reference
    assert find_reference("rent for november") is None


def test_amounts_are_read_exactly_in_minor_units():
    assert parse_amount_cents("1,234.50") == 123450
    assert parse_amount_cents("¥30") == 3000
    assert parse_amount_cents("0.1") == 10
    with pytest.raises(ValueError, match="fractions of a cent"):
        parse_amount_cents("1.005")
    with pytest.raises(ValueError, match="not an amount"):
        parse_amount_cents("n/a")


def test_a_statement_is_reconciled_by_reference_and_amount():
    paid, other, short = "FS-AAAAAAAA", "FS-BBBBBBBB", "FS-CCCCCCCC"
    orders = {
        paid: Payable(paid, 3000, OrderStatus.PLACED),
        other: Payable(other, 5000, OrderStatus.PAID),
        short: Payable(short, 2000, OrderStatus.PLACED),
    }
    statement = (
        "\ufeffDate,Memo,Amount\n"
        f"2026-11-30,{paid},30.00\n"
        f"2026-11-30,{paid},30.00\n"
        f"2026-11-30,{other},50.00\n"
        f"2026-11-30,{short},19.99\n"
        "2026-11-30,FS-ZZZZZZZZ,10.00\n"
        "2026-11-30,coffee,abc\n"
    )
    report = reconcile(parse_statement(statement), orders)
    assert [line.line for line, _ in report.matched] == [2]
    assert [line.line for line, _ in report.already_paid] == [3, 4]
    assert [line.line for line, _ in report.mismatched] == [5]
    assert [line.line for line, _ in report.unmatched] == [6, 7]


def test_a_statement_without_the_columns_says_which_are_needed():
    with pytest.raises(InvalidField, match="amount column"):
        parse_statement("Date,Who\n2026-11-30,Li\n")


def test_a_statement_that_is_not_csv_is_refused_with_the_reason():
    with pytest.raises(InvalidField, match="not a CSV file"):
        parse_statement("Date,Memo,Amount\n2026-11-30," + "x" * 200_000 + ",1.00\n")
