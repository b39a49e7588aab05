"""Courier manifests: one line per order in a shipment, as CSV (RFC 4180) and as JSON rows.

A CSV is opened in spreadsheets, which run a cell beginning with =, +, -, @, a tab or a carriage return as a formula
(OWASP's CSV injection). Every such text cell gets a leading apostrophe, phones included: an E.164 number starts
with "+", and a spreadsheet shows "'+8613800138000" as the text +8613800138000 (without the apostrophe it would turn
it into the number 8.6138E+12). The JSON rows carry the values unchanged.
"""

import codecs
import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final
from uuid import UUID


@dataclass(frozen=True, slots=True)
class ManifestLine:
    shipment_id: UUID
    order_id: UUID
    recipient: str
    phone: str
    address: str
    region: str
    sku: str
    quantity: int
    lot_number: str | None


COLUMNS: Final[tuple[str, ...]] = (
    "shipment_id",
    "order_id",
    "recipient",
    "phone",
    "address",
    "region",
    "sku",
    "quantity",
    "lot_number",
)
FORMULA_STARTS: Final = ("=", "+", "-", "@", "\t", "\r")


def to_csv(lines: Iterable[ManifestLine]) -> str:
    """The manifest as CSV: a header row, then a row per line, \\r\\n line ends, no cell a spreadsheet runs."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    writer.writerows(
        (
            str(line.shipment_id),
            str(line.order_id),
            _inert(line.recipient),
            _inert(line.phone),
            _inert(line.address),
            _inert(line.region),
            _inert(line.sku),
            line.quantity,
            "" if line.lot_number is None else _inert(line.lot_number),
        )
        for line in lines
    )
    return buffer.getvalue()


def to_csv_file(lines: Iterable[ManifestLine]) -> bytes:
    """The CSV as a download: UTF-8 after a byte-order mark. Without the mark, Excel on a Chinese Windows reads the
    file as GBK and garbles every name and address."""
    return codecs.BOM_UTF8 + to_csv(lines).encode("utf-8")


def to_json_rows(lines: Iterable[ManifestLine]) -> list[dict[str, object]]:
    """The manifest as plain dicts keyed by COLUMNS, ids as strings."""
    return [
        {
            "shipment_id": str(line.shipment_id),
            "order_id": str(line.order_id),
            "recipient": line.recipient,
            "phone": line.phone,
            "address": line.address,
            "region": line.region,
            "sku": line.sku,
            "quantity": line.quantity,
            "lot_number": line.lot_number,
        }
        for line in lines
    ]


def _inert(text: str) -> str:
    return "'" + text if text.startswith(FORMULA_STARTS) else text
