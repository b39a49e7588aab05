"""The supplier desk's forms: amounts typed in yuan become exact fen, a quote's last day ends where the group lives,
and a quote form becomes the API's quote or the corrections to make."""

from datetime import UTC, date, datetime

import pytest

from flexsupply.kit import i18n
from flexsupply.suppliers.desk import HERE, cents_of, end_of_local_day, quote_from_form


@pytest.fixture(autouse=True)
def chinese() -> None:
    """The desk's catalogue, as the app registers it; outside a request the language is zh-CN."""
    i18n.register_catalogues([HERE / "locale"])


@pytest.mark.parametrize(
    ("typed", "cents"),
    # Full-width digits, as a Chinese input method may type them, are digits too.
    [
        ("12.50", 1250),
        ("12.5", 1250),
        ("0", 0),
        (" 3 ", 300),
        ("\uff11\uff12.\uff15\uff10", 1250),
        ("10000000000", 10**12),
    ],
)
def test_an_amount_in_yuan_is_exact_fen(typed: str, cents: int) -> None:
    assert cents_of(typed) == cents


@pytest.mark.parametrize("typed", ["", "abc", "12.505", "-1", "1e999999999", "NaN", "Infinity", "10000000000.01"])
def test_what_is_not_an_amount_is_none(typed: str) -> None:
    assert cents_of(typed) is None


def test_a_day_ends_at_midnight_in_shanghai() -> None:
    assert end_of_local_day(date(2026, 12, 8)) == datetime(2026, 12, 8, 15, 59, 59, tzinfo=UTC)


FORM = {
    "sku": "bread-gift-box",
    "moq": "10",
    "capacity": "200",
    "lead_time_days": "3",
    "quality": "90",
    "fixed_yuan": "150",
    "reserve_yuan": "0.80",
    "tier_min_0": "0",
    "tier_price_0": "31.90",
    "tier_min_1": "",
    "tier_price_1": "",
    "ship_ningbo": "4",
    "ship_shanghai": "",
    "valid_until": "2099-01-31",
}


def test_a_quote_form_becomes_the_api_s_quote() -> None:
    quote, errors = quote_from_form(FORM)
    assert errors == [] and quote is not None
    assert (quote.moq, quote.capacity, quote.fixed_cents, quote.reserve_cents) == (10, 200, 15000, 80)
    assert [(tier.min_quantity, tier.unit_cents) for tier in quote.price_tiers] == [(0, 3190)]
    assert quote.shipping_cents == {"ningbo": 400}  # a region left blank is not shipped to
    assert quote.valid_until == datetime(2099, 1, 31, 15, 59, 59, tzinfo=UTC)


@pytest.mark.parametrize(
    ("changes", "error"),
    [
        ({"moq": "ten"}, "起订量：请填写整数"),
        ({"tier_min_1": "²", "tier_price_1": "30"}, "阶梯价：每一行都要填写数量和单价（元）"),
        ({"tier_min_0": "", "tier_price_0": ""}, "阶梯价：至少填写一个单价"),
        ({"ship_ningbo": ""}, "运费：至少填写一个地区的运费"),
        ({"valid_until": "31/01/2099"}, "报价有效期至：须为今天之后的日期"),
        ({"capacity": "5"}, "产能：不能低于起订量"),
    ],
)
def test_a_wrong_field_is_named_in_chinese_and_no_quote_is_made(changes: dict[str, str], error: str) -> None:
    quote, errors = quote_from_form(FORM | changes)
    assert quote is None
    assert error in errors
