"""A refund's life, pure: owed -> requested -> succeeded | failed, a failed one requested again after a backoff.

A refund is owed when money a buyer paid must go back: the package missed its threshold or was cancelled, the order
was cancelled after payment, the payment came after the order had ended, an after-sales case was resolved with a
refund, or a failed supplier's units could not be taken over. One paid through WeChat Pay goes back through its
refund API (requested, then its answer or notification settles it); one paid by transfer is paid back by the leader,
who records the transfer's reference.
"""

from datetime import datetime, timedelta
from enum import StrEnum
from typing import Final


class InvalidRefundMove(Exception):
    """The refund's status does not allow this step."""


class RefundStatus(StrEnum):
    OWED = "owed"
    REQUESTED = "requested"  # asked of the payment provider; its answer or notification settles it
    SUCCEEDED = "succeeded"
    FAILED = "failed"  # the provider refused or closed it: requested again after a backoff


class RefundStep(StrEnum):
    REQUEST = "request"
    SUCCEED = "succeed"
    FAIL = "fail"
    RECORD_PAID = "record_paid"  # the leader paid it back by transfer, with the transfer's reference


class RefundCause(StrEnum):
    PACKAGE_CANCELLED = "package_cancelled"  # the threshold was missed, or the leader or an operator cancelled
    ORDER_CANCELLED = "order_cancelled"  # by the buyer, after paying
    LATE_PAYMENT = "late_payment"  # the money came after the order had ended
    AFTER_SALES = "after_sales"
    TAKEOVER_FAILED = "takeover_failed"  # no backup supplier could make the buyer's units


class RefundMethod(StrEnum):
    WECHATPAY = "wechatpay"  # through WeChat Pay's refund API, to the account that paid
    TRANSFER = "transfer"  # paid back by the leader, by bank or wallet transfer


REFUND_MOVES: Final[dict[tuple[RefundStatus, RefundStep], RefundStatus]] = {
    (RefundStatus.OWED, RefundStep.REQUEST): RefundStatus.REQUESTED,
    (RefundStatus.FAILED, RefundStep.REQUEST): RefundStatus.REQUESTED,
    (RefundStatus.REQUESTED, RefundStep.SUCCEED): RefundStatus.SUCCEEDED,
    (RefundStatus.REQUESTED, RefundStep.FAIL): RefundStatus.FAILED,
    (RefundStatus.OWED, RefundStep.RECORD_PAID): RefundStatus.SUCCEEDED,
    (RefundStatus.FAILED, RefundStep.RECORD_PAID): RefundStatus.SUCCEEDED,
}

# A provider may refuse for a while (the merchant's balance is short until the day's takings settle): wait longer
# each time, up to a day, and never give up; staff see the failed ones and their error.
FIRST_RETRY: Final = timedelta(minutes=1)
LONGEST_RETRY: Final = timedelta(hours=24)


def move_refund(status: RefundStatus, step: RefundStep) -> RefundStatus:
    if (status, step) not in REFUND_MOVES:
        allowed = sorted(s for (source, s) in REFUND_MOVES if source == status)
        choices = f"allowed: {', '.join(allowed)}" if allowed else "it is settled"
        raise InvalidRefundMove(f"a {status} refund cannot {step}; {choices}")
    return REFUND_MOVES[status, step]


def method_for(paid_via: str | None) -> RefundMethod:
    """A refund goes back the way the money came: WeChat Pay's refunds through its API, every other by transfer."""
    return RefundMethod.WECHATPAY if paid_via == RefundMethod.WECHATPAY.value else RefundMethod.TRANSFER


def retry_at(failed_at: datetime, attempts: int) -> datetime:
    """When a refund that failed `attempts` times is requested again: 1, 2, 4... minutes, at most a day."""
    delay = FIRST_RETRY * 2 ** min(max(attempts - 1, 0), 20)
    return failed_at + min(delay, LONGEST_RETRY)


def check_amount(refund_cents: int, paid_cents: int, already_owed_cents: int) -> None:
    """Never more back than was paid, in all the order's refunds together."""
    if refund_cents <= 0:
        raise ValueError("a refund is of a positive amount")
    if already_owed_cents + refund_cents > paid_cents:
        raise ValueError(
            f"the order was paid {paid_cents} cents and already owes {already_owed_cents} back; "
            f"{refund_cents} more would pass what was paid"
        )
