"""The flash sale through the public API: it opens by itself, sells the cap exactly, retries count once, buyers
cancel, payments reconcile from a statement and a signed provider callback, and the close confirms or refunds.

CI runs it embedded (SQLite, in-process broker) and on PostgreSQL with RabbitMQ and with Redis."""

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import uuid4

import httpx

from flexsupply.kit.clock import travel, utc_now
from flexsupply.matching.payments import sign_test_payment
from tests.integration.conftest import OPERATOR_TOKEN
from tests.integration.test_match_runs import finished_run
from tests.support.sales import SaleSetup, order, planned_sale
from tests.support.waiting import eventually

KeyClient = Callable[[str], httpx.AsyncClient]


async def on_sale(operator: httpx.AsyncClient, as_key: KeyClient, **terms: Any) -> SaleSetup:
    """A sale already open (its first order would open it too; here the scheduled message does)."""
    setup = await planned_sale(operator, as_key, finished_run, opens_in_seconds=0.5, **terms)

    async def opened() -> dict[str, Any] | None:
        package = (await setup.leader.get(f"/api/v1/packages/{setup.id}")).json()
        return package if package["status"] == "on_sale" else None

    await eventually(opened, timeout_seconds=30)
    return setup


async def stock_left(client: httpx.AsyncClient, package_id: str) -> dict[str, int]:
    await asyncio.sleep(0.6)  # the polled counter may be half a second old
    stock = (await client.get(f"/api/v1/sales/{package_id}/stock")).json()
    return {region["region"]: region["left"] for region in stock["regions"]}


async def test_an_order_before_the_opening_says_when_it_opens_then_the_sale_opens_by_itself(
    operator: httpx.AsyncClient, anonymous: httpx.AsyncClient, as_key: KeyClient
):
    setup = await planned_sale(operator, as_key, finished_run, opens_in_seconds=3600)
    early = await order(anonymous, setup.id)
    assert early.status_code == 409, early.text
    problem = early.json()
    assert problem["type"].endswith("/sale-not-open")
    assert datetime.fromisoformat(problem["opens_at"]) == setup.opens_at
    assert (await anonymous.get(f"/api/v1/sales/{setup.id}")).json()["state"] == "upcoming"

    async def opened() -> str | None:
        status = (await setup.leader.get(f"/api/v1/packages/{setup.id}")).json()["status"]
        return status if status == "on_sale" else None

    with travel(timedelta(hours=1)):  # the scheduled opening comes due: nobody orders to open it
        await eventually(opened, timeout_seconds=30)
        sale = (await anonymous.get(f"/api/v1/sales/{setup.id}")).json()
        assert sale["state"] == "on_sale"
        assert {r["region"]: r["left"] for r in sale["regions"]} == {"ningbo": 10, "shanghai": 10}
        assert utc_now() >= setup.opens_at


async def test_concurrent_orders_sell_the_cap_exactly_and_retries_count_once(
    operator: httpx.AsyncClient, anonymous: httpx.AsyncClient, as_key: KeyClient
):
    setup = await on_sale(operator, as_key, quantities={"ningbo": 12, "shanghai": 5}, per_buyer_limit=2)
    keys = [uuid4().hex for _ in range(30)]
    phones = [f"1390000{index:04d}" for index in range(30)]

    async def buyer(index: int) -> list[httpx.Response]:
        body = {"phone": phones[index], "quantity": 1 + index % 2}
        first = await order(anonymous, setup.id, keys[index], **body)
        again = await order(anonymous, setup.id, keys[index], **body)  # the answer was lost: the phone retries
        return [first, again]

    answers = await asyncio.gather(*(buyer(index) for index in range(30)))
    accepted = [first for first, _ in answers if first.status_code == 201]
    refused = [first for first, _ in answers if first.status_code != 201]
    assert all(response.status_code == 409 for response in refused), [r.text for r in refused]
    assert all(response.json()["type"].endswith("/sold-out") for response in refused)
    assert sum(response.json()["quantity"] for response in accepted) == 12
    for first, again in answers:
        if first.status_code == 201:
            assert again.status_code == 200 and again.json()["id"] == first.json()["id"]
            assert again.headers["Idempotent-Replayed"] == "true"
        else:
            assert again.status_code == 409

    orders = (await setup.leader.get(f"/api/v1/packages/{setup.id}/orders?limit=100")).json()
    assert len(orders) == len(accepted)
    assert {o["id"] for o in orders} == {r.json()["id"] for r in accepted}
    assert all(o["address"].startswith("No. 8") and o["phone"].startswith("+86") for o in orders)
    assert (await stock_left(anonymous, setup.id))["ningbo"] == 0
    last = await order(anonymous, setup.id)
    assert last.status_code == 409 and last.json()["left"] == 0


async def test_a_cancelled_order_frees_its_units_at_once_and_the_limit_counts_by_phone(
    operator: httpx.AsyncClient, anonymous: httpx.AsyncClient, as_key: KeyClient
):
    setup = await on_sale(operator, as_key, quantities={"ningbo": 3, "shanghai": 3}, per_buyer_limit=2)
    first = await order(anonymous, setup.id, quantity=2, phone="13800001111")
    assert first.status_code == 201, first.text
    assert first.json()["left"] == 1
    over = await order(anonymous, setup.id, quantity=1, phone="138 0000 1111")  # the same phone, spelled apart
    assert over.status_code == 409 and over.json()["type"].endswith("/buyer-limit-reached")
    token = first.json()["token"]
    cancelled = await anonymous.post(f"/api/v1/orders/{token}/cancel")
    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["status"] == "cancelled"
    again = await order(anonymous, setup.id, quantity=2, phone="13800001111")
    assert again.status_code == 201, again.text
    assert again.json()["left"] == 1
    twice = await anonymous.post(f"/api/v1/orders/{token}/cancel")
    assert twice.status_code == 409


async def test_bad_orders_are_refused_with_the_field_at_fault(
    operator: httpx.AsyncClient, anonymous: httpx.AsyncClient, as_key: KeyClient
):
    setup = await on_sale(operator, as_key)
    cases = [
        ({"region": "chengdu"}, "region"),
        ({"phone": "12"}, "phone"),
        ({"address": "x"}, "address"),
        ({"quantity": 0}, "quantity"),
        ({"name": "Ann\u0000Lee"}, "name"),  # PostgreSQL cannot store a NUL: refused, not a 500
    ]
    for change, field in cases:
        response = await order(anonymous, setup.id, **change)
        assert response.status_code == 400, response.text
        assert field in response.text
    no_key = await anonymous.post(f"/api/v1/sales/{setup.id}/orders", json={"quantity": 1})
    assert no_key.status_code == 400
    key = uuid4().hex
    assert (await order(anonymous, setup.id, key, name="A")).status_code == 201
    reused = await order(anonymous, setup.id, key, name="B")
    assert reused.status_code == 422, reused.text
    assert (await anonymous.get(f"/api/v1/orders/{'x' * 32}")).status_code == 404


async def test_payments_reconcile_from_a_statement_and_a_signed_callback_and_the_close_goes_ahead(
    operator: httpx.AsyncClient, anonymous: httpx.AsyncClient, as_key: KeyClient
):
    setup = await on_sale(operator, as_key, threshold_units=3, sale_price_cents=2550)
    placed = [(await order(anonymous, setup.id, quantity=q)).json() for q in (1, 2, 1, 1)]
    a, b, c, d = placed
    statement = "\n".join(
        [
            "Date,Description,Amount,Balance",
            f"2026-11-30,Transfer memo {a['payment_reference'].lower()} Li,25.50,100.00",
            f"2026-11-30,{b['payment_reference'].replace('-', '')},51.00,151.00",
            f"2026-11-30,{c['payment_reference']},20.00,171.00",  # short-paid
            "2026-11-30,Rent,-500.00,0",
            f"2026-11-30,{a['payment_reference']},25.50,25.50",  # the same payment twice in the file
        ]
    )
    upload = {"statement": ("statement.csv", statement.encode(), "text/csv")}
    report = await setup.leader.post(f"/api/v1/packages/{setup.id}/payment-statements", files=upload)
    assert report.status_code == 200, report.text
    lines = report.json()
    assert [line["reference"] for line in lines["matched"]] == [a["payment_reference"], b["payment_reference"]]
    assert [line["reference"] for line in lines["mismatched"]] == [c["payment_reference"]]
    assert [line["line"] for line in lines["already_paid"]] == [6]
    assert [line["line"] for line in lines["unmatched"]] == [5]
    again = await setup.leader.post(f"/api/v1/packages/{setup.id}/payment-statements", files=upload)
    assert again.json()["matched"] == [] and len(again.json()["already_paid"]) == 3

    # The test provider's signed callback pays d; a forged one is refused.
    body, signature = sign_test_payment(OPERATOR_TOKEN, d["payment_reference"], 2550)
    paid = await anonymous.post("/api/v1/payments/test/callbacks", content=body, headers=signature)
    assert paid.status_code == 200, paid.text
    assert paid.json()["status"] == "paid"
    forged_body, forged = sign_test_payment("not the server's secret", c["payment_reference"], 2000)
    assert (
        await anonymous.post("/api/v1/payments/test/callbacks", content=forged_body, headers=forged)
    ).status_code == 401

    closed = await setup.leader.post(f"/api/v1/packages/{setup.id}/sale/close", json={"reason": "all paid"})
    assert closed.status_code == 200, closed.text
    assert closed.json()["went_ahead"] is True
    assert closed.json()["sold"] == {"ningbo": 4, "shanghai": 0}
    statuses = {
        o["payment_reference"]: o["status"]
        for o in (await setup.leader.get(f"/api/v1/packages/{setup.id}/orders")).json()
    }
    assert statuses == {
        a["payment_reference"]: "confirmed",
        b["payment_reference"]: "confirmed",
        c["payment_reference"]: "released",
        d["payment_reference"]: "confirmed",
    }
    package = (await setup.leader.get(f"/api/v1/packages/{setup.id}")).json()
    assert package["status"] == "closed"
    awards = (await setup.leader.get(f"/api/v1/packages/{setup.id}/awards")).json()
    assert awards["runs"] and awards["runs"][0]["kind"] == "award"
    late = await order(anonymous, setup.id)
    assert late.status_code == 409
    buyer = (await anonymous.get(f"/api/v1/orders/{a['token']}")).json()
    assert buyer["status"] == "confirmed" and buyer["package_status"] == "closed"


async def test_a_sale_below_its_threshold_is_cancelled_and_paid_orders_are_listed_for_refund(
    operator: httpx.AsyncClient, anonymous: httpx.AsyncClient, as_key: KeyClient
):
    setup = await on_sale(operator, as_key, threshold_units=10, sale_price_cents=1000)
    paid_order = (await order(anonymous, setup.id, quantity=2)).json()
    unpaid = (await order(anonymous, setup.id)).json()
    body, signature = sign_test_payment(OPERATOR_TOKEN, paid_order["payment_reference"], 2000)
    assert (await anonymous.post("/api/v1/payments/test/callbacks", content=body, headers=signature)).status_code == 200
    closed = await setup.leader.post(f"/api/v1/packages/{setup.id}/sale/close", json={"reason": "slow night"})
    assert closed.json()["went_ahead"] is False
    refunds = (await setup.leader.get(f"/api/v1/packages/{setup.id}/refunds")).json()
    assert [(r["payment_reference"], r["amount_cents"]) for r in refunds] == [(paid_order["payment_reference"], 2000)]
    buyer = (await anonymous.get(f"/api/v1/orders/{paid_order['token']}")).json()
    assert buyer["status"] == "refund_due" and "threshold" in buyer["reason"]
    assert buyer["package_status"] == "cancelled"
    assert (await anonymous.get(f"/api/v1/orders/{unpaid['token']}")).json()["status"] == "released"
    assert (await anonymous.get(f"/api/v1/sales/{setup.id}")).json()["state"] == "cancelled"


async def test_the_sale_closes_by_itself_at_the_end_of_its_window(
    operator: httpx.AsyncClient, anonymous: httpx.AsyncClient, as_key: KeyClient
):
    setup = await on_sale(operator, as_key, open_for_seconds=3600, threshold_units=2, sale_price_cents=500)
    paid_order = (await order(anonymous, setup.id, quantity=2, region="shanghai")).json()
    body, signature = sign_test_payment(OPERATOR_TOKEN, paid_order["payment_reference"], 1000)
    assert (await anonymous.post("/api/v1/payments/test/callbacks", content=body, headers=signature)).status_code == 200

    async def closed() -> dict[str, Any] | None:
        package = (await setup.leader.get(f"/api/v1/packages/{setup.id}")).json()
        return package if package["status"] == "closed" else None

    with travel(timedelta(hours=1)):  # the window's end comes due
        await eventually(closed, timeout_seconds=30)
        sale = (await anonymous.get(f"/api/v1/sales/{setup.id}")).json()
    assert sale["state"] == "closed" and "goes ahead" in sale["outcome"]
    history = (await setup.leader.get(f"/api/v1/packages/{setup.id}/history")).json()
    assert [step["step"] for step in history][-2:] == ["open_sale", "reach_threshold"]
    assert history[-1]["actor"] == "sale-clock"


async def test_a_market_evening_shows_what_is_on_now_and_next(
    operator: httpx.AsyncClient, anonymous: httpx.AsyncClient, as_key: KeyClient
):
    now_on = await on_sale(operator, as_key)
    later = await planned_sale(operator, as_key, finished_run, opens_in_seconds=3600, open_for_seconds=600)
    starts = datetime.now(UTC) - timedelta(minutes=5)
    body = {
        "title": "Friday market",
        "starts_at": starts.isoformat(),
        "ends_at": (starts + timedelta(hours=3)).isoformat(),
        "package_ids": [now_on.id, later.id],
    }
    refused = await now_on.leader.post("/api/v1/markets", json=body)  # the other package is another group's
    assert refused.status_code == 400 and "package_ids" in refused.text
    created = await operator.post("/api/v1/markets", json=body)
    assert created.status_code == 201, created.text
    market = (await anonymous.get(f"/api/v1/markets/{created.json()['id']}")).json()
    assert [sale["package_id"] for sale in market["now"]] == [now_on.id]
    assert [[sale["package_id"] for sale in slot["sales"]] for slot in market["next"]] == [[later.id]]
    assert market["now"][0]["left"] == 20
    outside = body | {"ends_at": (starts + timedelta(minutes=30)).isoformat()}
    assert (await operator.post("/api/v1/markets", json=outside)).status_code == 400


async def test_a_retry_after_the_close_is_answered_with_its_order(
    operator: httpx.AsyncClient, anonymous: httpx.AsyncClient, as_key: KeyClient
):
    setup = await on_sale(operator, as_key)
    first = await order(anonymous, setup.id, "retry-after-close", phone="13900001111")
    assert first.status_code == 201, first.text
    closed = await setup.leader.post(f"/api/v1/packages/{setup.id}/sale/close", json={"reason": "early"})
    assert closed.status_code == 200, closed.text
    again = await order(anonymous, setup.id, "retry-after-close", phone="13900001111")
    assert again.status_code == 200, again.text
    assert again.json()["id"] == first.json()["id"] and again.json()["status"] == "released"
    late = await order(anonymous, setup.id, "a-new-order-1", phone="13900002222")
    assert late.status_code == 409 and late.json()["type"].endswith("/sale-not-open")
