"""What a leader types into the console, read exactly, and the photo check by the file's own bytes."""

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from flexsupply.contracts.errors import InvalidField
from flexsupply.matching.domain.photo import MAX_PHOTO_BYTES, photo_type
from flexsupply.matching.lead import forms

SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.mark.parametrize(
    ("typed", "cents"), [("59.90", 5990), ("59.9", 5990), ("59", 5900), (" ¥0.01 ", 1), ("0.10", 10), ("1e2", 10000)]
)
def test_yuan_become_exact_cents(typed: str, cents: int) -> None:
    assert forms.yuan_to_cents(typed, "sale_price_cents") == cents


@pytest.mark.parametrize("typed", ["", "abc", "59.999", "-1", "NaN", "Infinity", "1e999999999", "10000000001"])
def test_what_is_not_an_amount_in_yuan_is_refused_naming_the_field(typed: str) -> None:
    with pytest.raises(InvalidField) as refused:
        forms.yuan_to_cents(typed, "sale_price_cents")
    assert refused.value.field == "sale_price_cents"


def test_a_local_time_is_read_in_the_community_s_zone_as_utc() -> None:
    moment = forms.local_to_utc("2026-12-08T20:00", "sale_opens_at", SHANGHAI)
    assert moment == datetime(2026, 12, 8, 12, 0, tzinfo=UTC)
    assert forms.utc_to_local_input(moment, SHANGHAI) == "2026-12-08T20:00"


@pytest.mark.parametrize("typed", ["", "tomorrow", "2026-12-08T20:00+08:00", "2026-13-01T00:00"])
def test_a_time_that_is_not_a_local_date_and_time_is_refused(typed: str) -> None:
    with pytest.raises(InvalidField) as refused:
        forms.local_to_utc(typed, "needed_by", SHANGHAI)
    assert refused.value.field == "needed_by"


def test_regions_left_blank_or_zero_are_left_out_and_none_at_all_is_refused() -> None:
    fields = {"quantity_ningbo": "12", "quantity_shanghai": "", "quantity_chengdu": "0"}
    assert forms.quantities(fields, ["ningbo", "shanghai", "chengdu"]) == {"ningbo": 12}
    with pytest.raises(InvalidField, match="quantities"):
        forms.quantities({"quantity_ningbo": ""}, ["ningbo"])
    with pytest.raises(InvalidField, match="quantities"):
        forms.quantities({"quantity_ningbo": "1.5"}, ["ningbo"])


@pytest.mark.parametrize(
    ("first_bytes", "media_type"),
    [
        (b"\xff\xd8\xff\xe0\x00\x10JFIF", "image/jpeg"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "image/png"),
        (b"RIFF\x24\x00\x00\x00WEBPVP8 ", "image/webp"),
    ],
)
def test_a_photo_is_told_by_its_bytes(first_bytes: bytes, media_type: str) -> None:
    assert photo_type(first_bytes + b"\x00" * 64) == media_type


@pytest.mark.parametrize(
    "data", [b"", b"GIF89a\x01\x00", b"<svg xmlns='http://www.w3.org/2000/svg'/>", b"RIFF\x00\x00\x00\x00WAVE"]
)
def test_what_is_not_a_jpeg_png_or_webp_is_refused(data: bytes) -> None:
    with pytest.raises(InvalidField) as refused:
        photo_type(data)
    assert refused.value.field == "photo"


def test_a_photo_over_the_limit_is_refused() -> None:
    with pytest.raises(InvalidField, match="larger"):
        photo_type(b"\x89PNG\r\n\x1a\n" + b"\x00" * MAX_PHOTO_BYTES)
