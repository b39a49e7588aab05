"""Payment statements as leaders export them, pure: WeChat Pay's and Alipay's bills (Chinese headers below a block
of account lines, the table after a dashed title) and a bank's plain CSV (domain.sale.parse_statement).

Only money received counts: a bill lists what the leader spent too (收/支 = 支出), which is nobody's order payment
and is left out; a received line that was refunded or closed since is reported, never paid. The text arrives
decoded (the service detects GBK or UTF-8); line numbers are the file's, so a leader finds the line in the export.
"""

import csv
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Final

from flexsupply.contracts.errors import InvalidField
from flexsupply.matching.domain.sale import StatementLine, find_reference, parse_amount_cents, parse_statement


class StatementFormat(StrEnum):
    WECHAT = "wechat"
    ALIPAY = "alipay"
    CSV = "csv"  # a bank's export: an amount column and a memo column, English headers


@dataclass(frozen=True)
class BillLayout:
    format: StatementFormat
    amount: tuple[str, ...]  # the amount column's names (NFKC: a full-width parenthesis is a plain one)
    direction: str  # 收/支: 收入 (received), 支出 (spent), or neither (a transfer between own accounts)
    status: tuple[str, ...]
    memo: tuple[str, ...]  # where a payer's note (and so the order reference) can be


WECHAT: Final = BillLayout(
    StatementFormat.WECHAT,
    amount=("金额(元)",),
    direction="收/支",
    status=("当前状态",),
    memo=("备注", "商品", "商户单号", "交易对方"),
)
ALIPAY: Final = BillLayout(
    StatementFormat.ALIPAY,
    amount=("金额", "金额(元)"),
    direction="收/支",
    status=("交易状态", "资金状态"),
    memo=("备注", "商品说明", "商品名称", "商家订单号", "商户订单号", "交易对方"),
)
RECEIVED: Final = "收入"
# Statuses of a received line whose money did not stay: refunded, closed or failed.
NOT_KEPT: Final = ("退", "关闭", "失败")


@dataclass(frozen=True)
class ParsedStatement:
    format: StatementFormat
    lines: list[StatementLine]


def parse_any_statement(text: str) -> ParsedStatement:
    """A statement in whichever of the known layouts it is."""
    rows = text.lstrip("\ufeff").splitlines()
    for number, row in enumerate(rows):
        cells = [unicodedata.normalize("NFKC", cell) for cell in _cells(row)]
        if "交易时间" in cells or "交易创建时间" in cells:
            layout = WECHAT if any(name in cells for name in ("交易单号", "当前状态")) else ALIPAY
            return ParsedStatement(layout.format, _parse_bill(layout, cells, rows, number))
    return ParsedStatement(StatementFormat.CSV, parse_statement(text))


def _cells(row: str) -> list[str]:
    try:
        parsed = next(csv.reader([row]), [])
    except csv.Error as error:
        raise InvalidField("statement", f"not a CSV file this can read: {error}") from None
    # Wallets pad cells with spaces and end long numbers with a tab (so spreadsheets keep their digits).
    return [cell.strip() for cell in parsed]


def _index(header: Sequence[str], names: Sequence[str]) -> int | None:
    for name in names:
        if name in header:
            return header.index(name)
    return None


def _parse_bill(layout: BillLayout, header: list[str], rows: list[str], header_at: int) -> list[StatementLine]:
    amount_at, direction_at = _index(header, layout.amount), _index(header, (layout.direction,))
    if amount_at is None or direction_at is None:
        raise InvalidField(
            "statement",
            f"the {layout.format} bill's header needs {layout.amount[0]} and {layout.direction}; "
            f"it has: {', '.join(header)}",
        )
    status_at = _index(header, layout.status)
    memo_at = [index for name in layout.memo if (index := _index(header, (name,))) is not None]
    lines = []
    for number, row in enumerate(rows[header_at + 1 :], start=header_at + 2):
        cells = _cells(row)
        if not any(cells) or len(cells) <= max(amount_at, direction_at):
            continue  # a blank line, or the dashed line or totals a bill ends with
        if cells[direction_at] != RECEIVED:
            continue
        text = ",".join(cells)
        reference = next(
            (found for index in memo_at if index < len(cells) and (found := find_reference(cells[index]))), None
        )
        status = cells[status_at] if status_at is not None and status_at < len(cells) else ""
        if any(word in status for word in NOT_KEPT):
            lines.append(StatementLine(number, reference, None, text, f"the payment was not kept: {status}"))
            continue
        try:
            amount = parse_amount_cents(cells[amount_at])
        except ValueError as error:
            lines.append(StatementLine(number, reference, None, text, str(error)))
            continue
        lines.append(StatementLine(number, reference, amount, text))
    return lines
