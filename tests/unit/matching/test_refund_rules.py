from datetime import UTC, datetime, timedelta

import pytest

from flexsupply.matching.domain.refund import (
    LONGEST_RETRY,
    InvalidRefundMove,
    RefundMethod,
    RefundStatus,
    RefundStep,
    check_amount,
    method_for,
    move_refund,
    retry_at,
)

NOON = datetime(2026, 12, 8, 12, tzinfo=UTC)


def test_a_refund_is_requested_then_settled_by_the_provider() -> None:
    requested = move_refund(RefundStatus.OWED, RefundStep.REQUEST)
    assert requested is RefundStatus.REQUESTED
    assert move_refund(requested, RefundStep.SUCCEED) is RefundStatus.SUCCEEDED
    assert move_refund(requested, RefundStep.FAIL) is RefundStatus.FAILED


def test_a_failed_refund_is_requested_again() -> None:
    assert move_refund(RefundStatus.FAILED, RefundStep.REQUEST) is RefundStatus.REQUESTED


def test_a_transfer_refund_is_recorded_paid_by_the_leader() -> None:
    assert move_refund(RefundStatus.OWED, RefundStep.RECORD_PAID) is RefundStatus.SUCCEEDED


@pytest.mark.parametrize("step", list(RefundStep))
def test_a_succeeded_refund_never_moves_again(step: RefundStep) -> None:
    with pytest.raises(InvalidRefundMove, match="settled"):
        move_refund(RefundStatus.SUCCEEDED, step)


def test_a_refund_requested_and_unanswered_cannot_be_recorded_paid() -> None:
    with pytest.raises(InvalidRefundMove):
        move_refund(RefundStatus.REQUESTED, RefundStep.RECORD_PAID)


def test_retries_wait_longer_each_time_up_to_a_day() -> None:
    waits = [retry_at(NOON, attempts) - NOON for attempts in range(1, 5)]
    assert waits == [timedelta(minutes=minutes) for minutes in (1, 2, 4, 8)]
    assert retry_at(NOON, 40) - NOON == LONGEST_RETRY


def test_money_goes_back_the_way_it_came() -> None:
    assert method_for("wechatpay") is RefundMethod.WECHATPAY
    assert method_for("statement") is RefundMethod.TRANSFER
    assert method_for("test") is RefundMethod.TRANSFER


def test_refunds_never_pass_what_was_paid() -> None:
    check_amount(1000, 5900, 4900)
    with pytest.raises(ValueError, match="pass what was paid"):
        check_amount(1001, 5900, 4900)
    with pytest.raises(ValueError, match="positive"):
        check_amount(0, 5900, 0)
