"""The flash sale's rules, pure: the stock a sale may sell, a buyer's order and its life, payment references and
the reconciliation of a bank's statement. The service applies them to its tables; nothing here touches one.

An order is live (it holds stock) while placed, paid or confirmed. Placed means unpaid: it is released to the next
buyer when its payment deadline passes. At the close the package either goes ahead (paid orders are confirmed) or
is cancelled (every live order ends, a paid one owing a refund).
"""

import csv
import io
import re
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Final

from flexsupply.allocation.check import share_in_proportion
from flexsupply.contracts import moves
from flexsupply.contracts.errors import InvalidField


class SaleNotOpen(Exception):
    """An order or a cancellation outside the sale's window."""

    def __init__(self, message: str, opens_at: datetime, closes_at: datetime) -> None:
        super().__init__(message)
        self.opens_at, self.closes_at = opens_at, closes_at
        self.problem_extra = {"opens_at": opens_at.isoformat(), "closes_at": closes_at.isoformat()}


class SoldOut(Exception):
    """Not enough units left in the region: a normal answer in a flash sale, with what is left."""

    def __init__(self, region: str, left: int, asked: int) -> None:
        super().__init__(f"sold out in {region}: {left} left, {asked} asked")
        self.region, self.left = region, left
        self.problem_extra = {"region": region, "left": left}


class BuyerLimitReached(Exception):
    """The phone already holds the most a buyer may order of this package."""

    def __init__(self, limit: int, asked: int) -> None:
        super().__init__(f"one buyer may order at most {limit} units of this package; this order would pass it")
        self.limit = limit
        self.problem_extra = {"limit": limit}


class SaleNotOnSale(Exception):
    """The package is not on sale: there is no sale to close."""


class InvalidOrderMove(Exception):
    """The order's status does not allow this (a cancellation after the close, say)."""


class OrderStatus(StrEnum):
    PLACED = "placed"  # waiting for payment; holds its units until the payment deadline
    PAID = "paid"
    CONFIRMED = "confirmed"  # the package went ahead: this order is made and delivered
    CANCELLED = "cancelled"  # by the buyer, or with the package, before any payment
    RELEASED = "released"  # not paid by its deadline: its units went back on sale
    REFUND_DUE = "refund_due"  # paid, then cancelled (by the buyer or with the package)
    REFUNDED = "refunded"


LIVE: Final = frozenset({OrderStatus.PLACED, OrderStatus.PAID, OrderStatus.CONFIRMED})


class OrderStep(StrEnum):
    PAY = "pay"
    CANCEL = "cancel"
    RELEASE = "release"
    CONFIRM = "confirm"
    VOID = "void"  # the package was cancelled
    REFUND = "refund"


ORDER_MOVES: Final[dict[tuple[OrderStatus, OrderStep], OrderStatus]] = {
    (OrderStatus.PLACED, OrderStep.PAY): OrderStatus.PAID,
    (OrderStatus.PLACED, OrderStep.CANCEL): OrderStatus.CANCELLED,
    (OrderStatus.PAID, OrderStep.CANCEL): OrderStatus.REFUND_DUE,
    (OrderStatus.PLACED, OrderStep.RELEASE): OrderStatus.RELEASED,
    (OrderStatus.PAID, OrderStep.CONFIRM): OrderStatus.CONFIRMED,
    (OrderStatus.PLACED, OrderStep.VOID): OrderStatus.CANCELLED,
    (OrderStatus.PAID, OrderStep.VOID): OrderStatus.REFUND_DUE,
    (OrderStatus.CONFIRMED, OrderStep.VOID): OrderStatus.REFUND_DUE,
    # Money that arrives for an order no longer live is owed back, not lost.
    (OrderStatus.CANCELLED, OrderStep.PAY): OrderStatus.REFUND_DUE,
    (OrderStatus.RELEASED, OrderStep.PAY): OrderStatus.REFUND_DUE,
    (OrderStatus.REFUND_DUE, OrderStep.REFUND): OrderStatus.REFUNDED,
}


def move_order(status: OrderStatus, step: OrderStep) -> OrderStatus:
    return moves.next_status(ORDER_MOVES, status, step, subject="order", refuse=InvalidOrderMove)


# --- stock ----------------------------------------------------------------------------------------------------------


def sale_caps(planned_units: Mapping[str, int], cap_units: int) -> dict[str, int]:
    """What any sale of the package may sell per region, held here or outside flexsupply: the units the plan
    allocates there, scaled down in proportion (largest remainder) when together they pass the leader's cap, the
    most the package may sell in all. The only source of the caps: the plan records them, the flash sale stocks
    them and firm quantities are checked against them."""
    if sum(planned_units.values()) <= cap_units:
        return dict(planned_units)
    return share_in_proportion(cap_units, planned_units)


def shard_units(units: int, shards: int) -> list[int]:
    """A region's stock spread evenly over `shards` rows, so that concurrent orders rarely wait on the same row."""
    return [units // shards + (1 if index < units % shards else 0) for index in range(shards)]


def check_in_window(now: datetime, opens_at: datetime, closes_at: datetime) -> None:
    if now < opens_at:
        raise SaleNotOpen(f"the sale opens at {opens_at.isoformat()}", opens_at, closes_at)
    if now >= closes_at:
        raise SaleNotOpen(f"the sale closed at {closes_at.isoformat()}", opens_at, closes_at)


def pay_by(placed_at: datetime, payment_minutes: int, closes_at: datetime) -> datetime:
    """An order is paid within the package's payment time, and by the close at the latest: what is sold at the
    close is what was paid for."""
    return min(placed_at + timedelta(minutes=payment_minutes), closes_at)


# --- payment ----------------------------------------------------------------------------------------------------------

# Crockford's base32 without I, L, O and U: read aloud and typed into a bank transfer's memo without mistakes.
_REFERENCE_ALPHABET: Final = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
REFERENCE_PREFIX: Final = "FS-"
_REFERENCE_IN_TEXT = re.compile(r"FS-?([0-9A-HJKMNP-TV-Z]{8})", re.IGNORECASE)


def new_payment_reference() -> str:
    return REFERENCE_PREFIX + "".join(secrets.choice(_REFERENCE_ALPHABET) for _ in range(8))


def find_reference(text: str) -> str | None:
    """The order reference in a statement line's memo, however the payer typed it (case, a missing dash)."""
    found = _REFERENCE_IN_TEXT.search(text.replace(" ", ""))
    return REFERENCE_PREFIX + found.group(1).upper() if found else None


def parse_amount_cents(text: str) -> int:
    """A statement's amount ("1,234.50", "¥30.00", "30") in minor units, exactly: no float anywhere."""
    cleaned = re.sub(r"[^0-9.\-]", "", text)
    try:
        amount = Decimal(cleaned)
    except InvalidOperation:
        raise ValueError(f"{text!r} is not an amount") from None
    cents = amount * 100
    if cents != cents.to_integral_value():
        raise ValueError(f"{text!r} has fractions of a cent")
    return int(cents)


@dataclass(frozen=True)
class StatementLine:
    line: int  # 1-based line number in the file, the header being line 1
    reference: str | None
    amount_cents: int | None
    text: str  # the line as the bank wrote it, for the report
    problem: str | None = None


REFERENCE_COLUMNS: Final = ("reference", "memo", "description", "remark", "note", "details", "narrative")
AMOUNT_COLUMNS: Final = ("amount", "credit", "paid", "value")


def parse_statement(text: str) -> list[StatementLine]:
    """A bank's or wallet's CSV export: a header naming an amount column and a memo (or reference) column."""
    try:
        return _parse_statement(text)
    except csv.Error as error:
        raise InvalidField("statement", f"not a CSV file this can read: {error}") from None


def _parse_statement(text: str) -> list[StatementLine]:
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff")))
    header = [name.strip().lower() for name in next(reader, [])]
    amount_at = _column(header, AMOUNT_COLUMNS)
    memo_columns = [index for index, name in enumerate(header) if any(word in name for word in REFERENCE_COLUMNS)]
    if amount_at is None or not memo_columns:
        raise InvalidField(
            "statement",
            f"the header needs an amount column ({', '.join(AMOUNT_COLUMNS)}) and a memo column "
            f"({', '.join(REFERENCE_COLUMNS)}); it has: {', '.join(header) or 'nothing'}",
        )
    lines = []
    for number, row in enumerate(reader, start=2):
        if not any(cell.strip() for cell in row):
            continue
        raw = ",".join(row)
        memo = " ".join(row[index] for index in memo_columns if index < len(row))
        reference = find_reference(memo)
        try:
            amount = parse_amount_cents(row[amount_at]) if amount_at < len(row) else None
        except ValueError as error:
            lines.append(StatementLine(number, reference, None, raw, str(error)))
            continue
        lines.append(StatementLine(number, reference, amount, raw, None if amount is not None else "no amount"))
    return lines


def _column(header: list[str], names: Iterable[str]) -> int | None:
    for name in names:
        for index, column in enumerate(header):
            if name in column:
                return index
    return None


@dataclass(frozen=True)
class Payable:
    """What the reconciliation needs of an order."""

    reference: str
    amount_cents: int
    status: OrderStatus


class LineOutcome(StrEnum):
    MATCHED = "matched"  # reference and amount agree: the order is paid
    ALREADY_PAID = "already_paid"  # the same payment seen before (a statement uploaded twice)
    MISMATCHED = "mismatched"  # an order's reference with another amount: someone has to look
    UNMATCHED = "unmatched"  # no order's reference in it (another payment on the account)


@dataclass
class Reconciliation:
    matched: list[tuple[StatementLine, str]] = field(default_factory=list)
    already_paid: list[tuple[StatementLine, str]] = field(default_factory=list)
    mismatched: list[tuple[StatementLine, str]] = field(default_factory=list)
    unmatched: list[tuple[StatementLine, str]] = field(default_factory=list)

    def add(self, outcome: LineOutcome, line: StatementLine, why: str) -> None:
        getattr(self, outcome.value).append((line, why))


def reconcile(lines: Iterable[StatementLine], orders: Mapping[str, Payable]) -> Reconciliation:
    """Each line against the orders by reference and amount. A reference twice in one statement pays once."""
    report = Reconciliation()
    paid_now: set[str] = set()
    for line in lines:
        if line.problem is not None or line.amount_cents is None:
            report.add(LineOutcome.UNMATCHED, line, line.problem or "no amount")
            continue
        order = orders.get(line.reference) if line.reference else None
        if order is None:
            why = f"no order has reference {line.reference}" if line.reference else "no order reference in the line"
            report.add(LineOutcome.UNMATCHED, line, why)
        elif line.amount_cents != order.amount_cents:
            report.add(
                LineOutcome.MISMATCHED,
                line,
                f"{order.reference} is owed {order.amount_cents} cents; this line pays {line.amount_cents}",
            )
        elif order.status not in (OrderStatus.PLACED, OrderStatus.CANCELLED, OrderStatus.RELEASED) or (
            order.reference in paid_now
        ):
            report.add(LineOutcome.ALREADY_PAID, line, f"{order.reference} is {order.status}: counted once")
        else:
            paid_now.add(order.reference)
            report.add(LineOutcome.MATCHED, line, f"{order.reference} paid")
    return report
