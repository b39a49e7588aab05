"""Courier manifests: RFC 4180 CSV that no spreadsheet runs as formulas, and plain JSON rows."""

import codecs
import csv
import io
from dataclasses import replace
from typing import Any
from uuid import UUID

from flexsupply.fulfilment.domain.manifest import COLUMNS, ManifestLine, to_csv, to_csv_file, to_json_rows

SHIPMENT, ORDER = UUID(int=0x51), UUID(int=0x01)


BASE = ManifestLine(
    shipment_id=SHIPMENT,
    order_id=ORDER,
    recipient="Li Wei",
    phone="13800138000",
    address="12 Garden Road, Block 3",
    region="north",
    sku="rice-5kg",
    quantity=2,
    lot_number="LOT-7",
)


def line(**changes: Any) -> ManifestLine:
    return replace(BASE, **changes)


def rows(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text, newline="")))


def test_the_csv_has_the_header_then_one_row_per_line_with_crlf_ends() -> None:
    text = to_csv([line(), line(order_id=UUID(int=2), quantity=1, lot_number=None)])

    assert text.split("\r\n")[0] == ",".join(COLUMNS)
    assert text.endswith("\r\n") and "\n" not in text.replace("\r\n", "")
    contact = ["Li Wei", "13800138000", "12 Garden Road, Block 3", "north", "rice-5kg"]
    assert rows(text) == [
        list(COLUMNS),
        [str(SHIPMENT), str(ORDER), *contact, "2", "LOT-7"],
        [str(SHIPMENT), str(UUID(int=2)), *contact, "1", ""],
    ]


def test_quotes_commas_and_line_breaks_in_an_address_survive_the_csv() -> None:
    address = 'Flat 2, "Blue" House\nBack door'

    assert rows(to_csv([line(address=address)]))[1][4] == address


def test_a_cell_a_spreadsheet_would_run_gets_a_leading_apostrophe() -> None:
    risky = ['=HYPERLINK("http://x","y")', "+1+2", "-2+3", "@SUM(A1)", "\tcmd", "\rcmd"]

    for text in risky:
        cells = rows(to_csv([line(recipient=text, address=text, sku=text, region=text, lot_number=text)]))[1]
        assert [cells[2], cells[4], cells[5], cells[6], cells[8]] == ["'" + text] * 5


def test_an_e164_phone_is_kept_as_text_behind_an_apostrophe() -> None:
    assert rows(to_csv([line(phone="+8613800138000")]))[1][3] == "'+8613800138000"


def test_harmless_cells_are_unchanged() -> None:
    cells = rows(to_csv([line(recipient="Ann = Bob", address="1+1 Lane", phone="020 7946 0018")]))[1]

    assert cells[2:5] == ["Ann = Bob", "020 7946 0018", "1+1 Lane"]


def test_json_rows_are_plain_values_with_ids_as_strings() -> None:
    rows = to_json_rows([line(phone="+8613800138000", lot_number=None)])

    assert rows == [
        {
            "shipment_id": str(SHIPMENT),
            "order_id": str(ORDER),
            "recipient": "Li Wei",
            "phone": "+8613800138000",
            "address": "12 Garden Road, Block 3",
            "region": "north",
            "sku": "rice-5kg",
            "quantity": 2,
            "lot_number": None,
        }
    ]
    assert tuple(rows[0]) == COLUMNS


def test_no_lines_is_the_header_alone() -> None:
    assert to_csv([]) == ",".join(COLUMNS) + "\r\n"
    assert to_json_rows([]) == []


def test_the_csv_file_starts_with_a_utf8_byte_order_mark_so_excel_reads_chinese_text() -> None:
    manifest = [line(recipient="王芳", address="宁波市海曙区中山路8号")]
    data = to_csv_file(manifest)
    assert data.startswith(codecs.BOM_UTF8)
    assert data.decode("utf-8-sig") == to_csv(manifest)
    assert rows(data.decode("utf-8-sig"))[1][2:5] == ["王芳", "13800138000", "宁波市海曙区中山路8号"]
