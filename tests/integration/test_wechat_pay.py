"""Payments and refunds end to end: WeChat Pay against a fake that speaks its protocol (the app served on a real
port, so its notifications reach our notify URL), refunds executed through its refund API, a transfer refund
recorded by the leader, and a GBK WeChat bill uploaded and matched."""

import asyncio
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from typing import Any
from uuid import UUID

import httpx
import pytest
import uvicorn

from flexsupply.contracts.events import BuyerRefundOwed
from flexsupply.kit import outbox
from flexsupply.kit.clock import utc_now
from flexsupply.kit.db import Database
from flexsupply.matching import checkout, refunds
from flexsupply.matching.models import OutboxMessage
from flexsupply.matching.payments import sign_test_payment
from tests.integration.conftest import OPERATOR_TOKEN
from tests.integration.test_flash_sale import KeyClient, on_sale
from tests.support.bills import YUAN_GBK, wechat_bill
from tests.support.fake_wechatpay import FakeWechatPay, fake_wechatpay_server, rsa_key
from tests.support.matching import register_community
from tests.support.processes import free_port
from tests.support.sales import order
from tests.support.waiting import eventually

NOTIFICATIONS = "/api/v1/payments/wechatpay/notifications"


@pytest.fixture
def notify_port() -> int:
    return free_port()


@pytest.fixture
def wechat(
    database_urls: dict[str, str], tmp_path: Any, monkeypatch: pytest.MonkeyPatch, notify_port: int
) -> Iterator[FakeWechatPay]:
    """The merchant configured against the fake WeChat Pay (before the app starts: it reads its settings then)."""
    with fake_wechatpay_server() as fake:
        notify_url = f"http://127.0.0.1:{notify_port}{NOTIFICATIONS}"
        for name, value in fake.settings_environment(tmp_path, notify_url).items():
            monkeypatch.setenv(name, value)
        yield fake


@pytest.fixture
async def served(wechat: FakeWechatPay, app: Any, notify_port: int) -> AsyncIterator[None]:
    """The app (its lifespan already running) also served on a loopback port, for WeChat Pay's notifications."""
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=notify_port, lifespan="off", log_level="error"))
    serving = asyncio.create_task(server.serve())

    async def started() -> bool:
        return server.started

    await eventually(started)
    yield
    server.should_exit = True
    await serving


async def sweep(database_url: str, *, overdue_by: timedelta = timedelta(hours=1)) -> None:
    """The sweeper's payment passes, as if `overdue_by` had passed since the work was owed."""
    database = Database(database_url, pooled=False)
    try:
        async with database.transaction() as session:
            await checkout.sweep_wechat_payments(session, utc_now() + overdue_by)
            await refunds.sweep_refunds(session, utc_now() + overdue_by)
    finally:
        await database.dispose()


async def wechat_code(anonymous: httpx.AsyncClient, token: str) -> dict[str, Any]:
    asked = await anonymous.post(f"/api/v1/orders/{token}/wechat-pay")
    assert asked.status_code == 202, asked.text
    assert asked.json()["payment"]["wechatpay"]["status"] in {"preparing", "ready"}
    return await code_ready(anonymous, token)


async def code_ready(anonymous: httpx.AsyncClient, token: str) -> dict[str, Any]:
    async def ready() -> dict[str, Any] | None:
        action = (await anonymous.get(f"/api/v1/orders/{token}")).json()["payment"]["wechatpay"]
        return action if action["status"] == "ready" else None

    return await eventually(ready)


async def refund_of(leader: httpx.AsyncClient, package_id: str, status: str) -> dict[str, Any]:
    async def reached() -> dict[str, Any] | None:
        listed = (await leader.get(f"/api/v1/packages/{package_id}/refunds")).json()
        return listed[0] if listed and listed[0]["status"] == status else None

    return await eventually(reached)


async def test_a_wechat_paid_buyer_of_a_package_missing_its_threshold_is_refunded_through_the_refund_api(
    served: None, wechat: FakeWechatPay, operator: httpx.AsyncClient, anonymous: httpx.AsyncClient, as_key: KeyClient
):
    setup = await on_sale(operator, as_key, threshold_units=10, sale_price_cents=5900)
    placed = (await order(anonymous, setup.id)).json()
    reference, token = placed["payment_reference"], placed["token"]
    before = (await anonymous.get(f"/api/v1/orders/{token}")).json()
    assert before["payment"]["wechatpay"]["status"] == "not_asked"
    assert before["payment"]["amount_cents"] == 5900 and before["payment"]["payment_reference"] == reference

    action = await wechat_code(anonymous, token)
    assert action["code_url"] == wechat.trades[reference].code_url
    assert action["qr_svg_data_uri"].startswith("data:image/svg+xml")
    assert wechat.trades[reference].total_cents == 5900
    assert all(status == 200 for _, _, status in wechat.requests), wechat.requests  # every request verified

    assert await asyncio.to_thread(wechat.pay, reference) == 204
    paid = (await anonymous.get(f"/api/v1/orders/{token}")).json()
    assert paid["status"] == "paid" and paid["payment"] is None
    assert await asyncio.to_thread(wechat.pay, reference) == 204  # WeChat Pay's retry changes nothing
    assert (await anonymous.post(f"/api/v1/orders/{token}/wechat-pay")).status_code == 409  # nothing left to pay

    closed = await setup.leader.post(f"/api/v1/packages/{setup.id}/sale/close", json={"reason": "slow night"})
    assert closed.json()["went_ahead"] is False
    requested = await refund_of(setup.leader, setup.id, "requested")
    assert (requested["method"], requested["cause"], requested["amount_cents"]) == (
        "wechatpay",
        "package_cancelled",
        5900,
    )
    # Marked requested before the call (a worker dying mid-call leaves it to be queried): WeChat Pay has it soon.
    at_wechat = await eventually(lambda: asyncio.sleep(0, wechat.refunds.get(UUID(requested["id"]).hex)))
    assert (at_wechat.out_trade_no, at_wechat.refund_cents) == (reference, 5900)

    assert await asyncio.to_thread(wechat.settle_refund, at_wechat.out_refund_no) == 204
    await refund_of(setup.leader, setup.id, "succeeded")
    buyer = (await anonymous.get(f"/api/v1/orders/{token}")).json()
    assert buyer["status"] == "refunded"
    assert [(r["status"], r["amount_cents"]) for r in buyer["refunds"]] == [("succeeded", 5900)]
    assert [r["status"] for r in (await operator.get("/api/v1/refunds", params={"status": "succeeded"})).json()]


async def test_a_lost_payment_notification_is_found_by_the_sweepers_query(
    served: None,
    wechat: FakeWechatPay,
    operator: httpx.AsyncClient,
    anonymous: httpx.AsyncClient,
    as_key: KeyClient,
    database_urls: dict[str, str],
):
    setup = await on_sale(operator, as_key, sale_price_cents=1200)
    placed = (await order(anonymous, setup.id, quantity=2)).json()
    button = await anonymous.post(f"/order/{placed['token']}/wechat-pay")  # the order page's form, no JavaScript
    assert button.status_code == 303 and button.headers["location"] == f"/order/{placed['token']}"
    await code_ready(anonymous, placed["token"])
    await asyncio.to_thread(wechat.pay, placed["payment_reference"], notify=False)
    assert (await anonymous.get(f"/api/v1/orders/{placed['token']}")).json()["status"] == "placed"

    await sweep(database_urls["matching"])

    async def paid() -> bool:
        return (await anonymous.get(f"/api/v1/orders/{placed['token']}")).json()["status"] == "paid"

    await eventually(paid)
    assert any(path.startswith("/v3/pay/transactions/out-trade-no/") for _, path, _ in wechat.requests)


async def test_a_refused_refund_is_requested_again_after_its_backoff_and_settled_by_a_query(
    served: None,
    wechat: FakeWechatPay,
    operator: httpx.AsyncClient,
    anonymous: httpx.AsyncClient,
    as_key: KeyClient,
    database_urls: dict[str, str],
):
    setup = await on_sale(operator, as_key, sale_price_cents=3000)
    placed = (await order(anonymous, setup.id)).json()
    await wechat_code(anonymous, placed["token"])
    await asyncio.to_thread(wechat.pay, placed["payment_reference"])
    wechat.refuse_refunds.append("NOT_ENOUGH")

    cancelled = await anonymous.post(f"/api/v1/orders/{placed['token']}/cancel")
    assert cancelled.json()["status"] == "refund_due", cancelled.text
    failed = await refund_of(setup.leader, setup.id, "failed")
    assert "NOT_ENOUGH" in failed["error"] and failed["attempts"] == 1 and failed["cause"] == "order_cancelled"
    assert failed["next_attempt_at"] is not None

    await sweep(database_urls["matching"], overdue_by=timedelta(minutes=2))
    again = await refund_of(setup.leader, setup.id, "requested")
    assert again["attempts"] == 2
    await eventually(lambda: asyncio.sleep(0, wechat.refunds.get(UUID(again["id"]).hex)))
    # Its notification lost: the sweeper asks WeChat Pay what became of the refund.
    await asyncio.to_thread(wechat.settle_refund, UUID(again["id"]).hex, notify=False)
    await sweep(database_urls["matching"])
    await refund_of(setup.leader, setup.id, "succeeded")
    assert ("GET", f"/v3/refund/domestic/refunds/{UUID(again['id']).hex}", 200) in wechat.requests


async def test_a_forged_notification_is_refused(served: None, wechat: FakeWechatPay, anonymous: httpx.AsyncClient):
    body = wechat.encrypted_notification(
        "TRANSACTION.SUCCESS", "transaction", {"out_trade_no": "FS-00000000", "trade_state": "SUCCESS"}
    )
    forged = wechat.signed_headers(body, key=rsa_key())
    answer = await anonymous.post(NOTIFICATIONS, content=body, headers=forged)
    assert answer.status_code == 401, answer.text
    assert answer.headers["content-type"].startswith("application/problem+json")


async def test_a_transfer_refund_is_recorded_paid_by_the_leader_once(
    operator: httpx.AsyncClient, anonymous: httpx.AsyncClient, as_key: KeyClient
):
    setup = await on_sale(operator, as_key, sale_price_cents=2500)
    placed = (await order(anonymous, setup.id)).json()
    body, signature = sign_test_payment(OPERATOR_TOKEN, placed["payment_reference"], 2500)
    assert (await anonymous.post("/api/v1/payments/test/callbacks", content=body, headers=signature)).status_code == 200
    assert (await anonymous.post(f"/api/v1/orders/{placed['token']}/cancel")).status_code == 200

    owed = await refund_of(setup.leader, setup.id, "owed")
    assert (owed["method"], owed["amount_cents"], owed["name"]) == ("transfer", 2500, "Li Wei")
    path = f"/api/v1/refunds/{owed['id']}/transfer"
    _, other_key = await register_community(operator)
    assert (await as_key(other_key).post(path, json={"reference": "X"})).status_code == 404

    paid = await setup.leader.post(path, json={"reference": "ICBC 2026120800123"})
    assert paid.status_code == 200, paid.text
    assert paid.json()["status"] == "succeeded" and paid.json()["transfer_reference"] == "ICBC 2026120800123"
    assert (await setup.leader.post(path, json={"reference": "ICBC 2026120800123"})).json() == paid.json()
    other = await setup.leader.post(path, json={"reference": "another transfer"})
    assert other.status_code == 409
    buyer = (await anonymous.get(f"/api/v1/orders/{placed['token']}")).json()
    assert buyer["status"] == "refunded" and buyer["refunds"][0]["transfer_reference"] == "ICBC 2026120800123"


async def test_an_after_sales_refund_from_fulfilment_is_owed_once(
    operator: httpx.AsyncClient, anonymous: httpx.AsyncClient, as_key: KeyClient, database_urls: dict[str, str]
):
    setup = await on_sale(operator, as_key, sale_price_cents=2500)
    placed = (await order(anonymous, setup.id, quantity=2)).json()
    body, signature = sign_test_payment(OPERATOR_TOKEN, placed["payment_reference"], 5000)
    assert (await anonymous.post("/api/v1/payments/test/callbacks", content=body, headers=signature)).status_code == 200
    event = BuyerRefundOwed(
        refund_key=UUID(int=7),
        order_id=UUID(placed["id"]),
        amount_cents=1200,
        cause="after_sales",
        reason="one jar arrived broken",
    )
    database = Database(database_urls["matching"], pooled=False)
    try:
        for _ in range(2):  # delivered twice, owed once
            async with database.transaction() as session:
                outbox.publish(session, OutboxMessage, event)
    finally:
        await database.dispose()
    owed = await refund_of(setup.leader, setup.id, "owed")
    await asyncio.sleep(1)
    listed = (await setup.leader.get(f"/api/v1/packages/{setup.id}/refunds")).json()
    assert [(r["cause"], r["amount_cents"]) for r in listed] == [("after_sales", 1200)]
    assert owed["reason"] == "one jar arrived broken"
    assert (await anonymous.get(f"/api/v1/orders/{placed['token']}")).json()["status"] == "paid"


async def test_the_order_says_whom_to_pay_by_transfer(
    operator: httpx.AsyncClient, anonymous: httpx.AsyncClient, as_key: KeyClient
):
    setup = await on_sale(operator, as_key, sale_price_cents=5900)
    community_id = (await setup.leader.get(f"/api/v1/packages/{setup.id}")).json()["community_id"]
    payee = {"payee_name": "王小明", "payee_account": "招商银行 6214 8301 2345 6789"}
    assert (await setup.leader.put(f"/api/v1/communities/{community_id}/payee", json=payee)).status_code == 200
    placed = (await order(anonymous, setup.id)).json()
    buyer = (await anonymous.get(f"/api/v1/orders/{placed['token']}")).json()
    assert buyer["payment"]["transfer"] == payee
    assert buyer["payment"]["wechatpay"] is None  # not configured here
    assert "王小明" in buyer["payment_instructions"] and placed["payment_reference"] in buyer["payment_instructions"]
    refused = await anonymous.post(f"/api/v1/orders/{placed['token']}/wechat-pay")
    assert refused.status_code == 409


async def test_a_gbk_wechat_bill_pays_its_orders_and_lists_what_it_cannot_match(
    operator: httpx.AsyncClient, anonymous: httpx.AsyncClient, as_key: KeyClient
):
    setup = await on_sale(operator, as_key, sale_price_cents=5900)
    placed = (await order(anonymous, setup.id)).json()
    bill = wechat_bill(
        [
            ("收入", f"{YUAN_GBK}59.00", "已存入零钱", f"转账备注:{placed['payment_reference']}"),
            ("收入", f"{YUAN_GBK}20.00", "已存入零钱", "生日快乐"),
            ("支出", f"{YUAN_GBK}8.00", "支付成功", "/"),
        ]
    ).encode("gbk")
    files = {"statement": ("微信支付账单(20261201-20261208).csv", bill, "text/csv")}
    report = await setup.leader.post(f"/api/v1/packages/{setup.id}/payment-statements", files=files)
    assert report.status_code == 200, report.text
    matched, unmatched = report.json()["matched"], report.json()["unmatched"]
    assert [line["reference"] for line in matched] == [placed["payment_reference"]]
    assert [(line["amount_cents"], "生日快乐" in line["text"]) for line in unmatched] == [(2000, True)]
    assert (await anonymous.get(f"/api/v1/orders/{placed['token']}")).json()["status"] == "paid"
