"""The order page's payment include, rendered as the app renders it (kit.i18n on a Jinja environment)."""

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from jinja2 import Environment, FileSystemLoader

from flexsupply.kit import i18n

MATCHING = Path(__file__).resolve().parents[3] / "services" / "matching" / "flexsupply" / "matching"


@pytest.fixture
def environment() -> Environment:
    i18n.register_catalogues([MATCHING / "locale"])
    environment = Environment(loader=FileSystemLoader(MATCHING / "templates"), autoescape=True)
    i18n.install(environment)
    return environment


def an_order(**payment: Any) -> dict[str, Any]:
    return {
        "token": "t0ken-of-the-buyer-123",
        "payment": {
            "amount_cents": 5900,
            "currency": "CNY",
            "payment_reference": "FS-ABCD1234",
            "pay_by": datetime(2026, 12, 8, 12, 30, tzinfo=UTC),
            "wechatpay": None,
            "transfer": None,
        }
        | payment,
        "refunds": [],
    }


def test_without_wechat_pay_the_order_says_whom_to_transfer_to_in_chinese(environment: Environment) -> None:
    transfer = {"payee_name": "王小明", "payee_account": "招商银行 6214 8301 2345 6789"}
    page = environment.get_template("_payment.html").render(order=an_order(transfer=transfer))
    assert "收款人" in page and "王小明" in page and "6214 8301" in page
    assert "¥59.00" in page and "FS-ABCD1234" in page
    assert "20:30" in page  # 12:30 UTC, in Beijing time
    assert "How to pay" not in page and "wechat-pay-button" not in page


def test_with_wechat_pay_the_order_offers_its_button_then_its_code(environment: Environment) -> None:
    action = {"status": "not_asked", "code_url": None, "qr_svg_data_uri": None, "error": None}
    page = environment.get_template("_payment.html").render(order=an_order(wechatpay=action))
    assert 'action="/order/t0ken-of-the-buyer-123/wechat-pay"' in page and "微信支付 ¥59.00" in page
    ready = action | {"status": "ready", "qr_svg_data_uri": "data:image/svg+xml,x"}
    page = environment.get_template("_payment.html").render(order=an_order(wechatpay=ready))
    assert 'src="data:image/svg+xml,x"' in page and "扫一扫" in page


def test_refunds_are_told_in_buyer_words(environment: Environment) -> None:
    refund = {"status": "requested", "amount_cents": 5900, "currency": "CNY", "method": "wechatpay", "settled_at": None}
    page = environment.get_template("_payment.html").render(order={"payment": None, "refunds": [refund]})
    assert "正在原路退回您的微信" in page and "¥59.00" in page
