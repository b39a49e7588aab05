"""The supplier desk through HTTP, as a browser sends its forms: logging in with the API key and out, a wrong key
refused (and, repeated, throttled), forms without their CSRF token refused, a supplier seeing only its own RFQs, and
a quote sent on the desk being the one the API shows."""

from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from tests.integration.test_webhook_retries import deliveries_of
from tests.support.catalogue import create_supplier
from tests.support.desk import AskedSupplier, KeyClient, asked_supplier, csrf_token
from tests.support.fake_supplier import fake_supplier_server
from tests.support.fulfilment import in_production, ok
from tests.support.waiting import eventually


@pytest.fixture
async def browser(app: Any) -> AsyncIterator[httpx.AsyncClient]:
    """A client keeping cookies, as a browser does."""
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://flexsupply.test") as client:
        yield client


@pytest.fixture
async def asked(operator: httpx.AsyncClient, as_key: KeyClient) -> AskedSupplier:
    return await asked_supplier(operator, as_key, backup=False)


async def log_in(client: httpx.AsyncClient, api_key: str) -> httpx.Response:
    form = await client.get("/supply/login")
    assert form.status_code == 200
    return await client.post("/supply/login", data={"api_key": api_key, "csrf_token": csrf_token(form)})


def quote_form(page: httpx.Response, sku: str, **changes: str) -> dict[str, str]:
    return {
        "csrf_token": csrf_token(page),
        "sku": sku,
        "moq": "2",
        "capacity": "60",
        "lead_time_days": "4",
        "quality": "91",
        "tier_min_0": "0",
        "tier_price_0": "28.50",
        "tier_min_1": "5",
        "tier_price_1": "27",
        "ship_ningbo": "3.20",
        "fixed_yuan": "0",
        "reserve_yuan": "0.50",
        "valid_until": (datetime.now(ZoneInfo("Asia/Shanghai")) + timedelta(days=3)).date().isoformat(),
    } | changes


async def test_a_supplier_logs_in_with_its_key_and_out(app: Any, browser: httpx.AsyncClient, asked: AskedSupplier):
    closed = await browser.get("/supply")
    assert (closed.status_code, closed.headers["location"]) == (303, "/supply/login")
    login = await browser.get("/supply/login")
    assert '<html lang="zh-CN">' in login.text and "供应商登录" in login.text

    logged_in = await log_in(browser, asked.key)
    assert (logged_in.status_code, logged_in.headers["location"]) == (303, "/supply")
    cookie = logged_in.headers["set-cookie"]
    assert {"httponly", "samesite=lax", "path=/supply"} <= {part.strip().lower() for part in cookie.split(";")}
    secret = asked.key.split("_", 2)[2]  # fsk_<key id>_<secret>
    assert secret not in cookie and asked.supplier["id"] not in cookie  # the session is encrypted, not just signed

    inbox = await browser.get("/supply")
    assert inbox.status_code == 200
    assert asked.supplier["name"] in inbox.text
    assert f"/supply/rfqs/{asked.rfq_id}" in inbox.text
    assert "询价单" in inbox.text and "回复截止" in inbox.text
    assert inbox.headers["cache-control"] == "no-store"
    assert "script-src" not in inbox.headers["content-security-policy"]
    english = await browser.get("/supply?lang=en")
    assert '<html lang="en">' in english.text and "Requests for quotation" in english.text

    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://flexsupply.test", cookies=browser.cookies
    ) as copied:  # the same cookie, taken before the logout
        assert (await copied.get("/supply")).status_code == 200
        logged_out = await browser.post("/supply/logout", data={"csrf_token": csrf_token(inbox)})
        assert (logged_out.status_code, logged_out.headers["location"]) == (303, "/supply/login")
        assert (await browser.get("/supply")).status_code == 303
        assert (await copied.get("/supply")).status_code == 303


async def test_a_wrong_key_is_refused_and_many_are_throttled(operator: httpx.AsyncClient, browser: httpx.AsyncClient):
    created = await create_supplier(operator)
    key = created["api_key"]["api_key"]

    refused = await log_in(browser, key[:-2] + "xx")
    assert refused.status_code == 401
    assert "这个密钥无效或已停用" in refused.text
    assert (await browser.get("/supply")).status_code == 303

    for _ in range(9):  # ten wrong keys in all from this address
        assert (await log_in(browser, "fsk_not_a_key")).status_code == 401
    throttled = await log_in(browser, key)  # even the right key waits now
    assert throttled.status_code == 429
    assert "15 分钟" in throttled.text


async def test_a_revoked_key_ends_the_desk_session(
    operator: httpx.AsyncClient, browser: httpx.AsyncClient, asked: AskedSupplier
):
    await log_in(browser, asked.key)
    assert (await browser.get("/supply")).status_code == 200
    rotated = await operator.post(f"/api/v1/suppliers/{asked.supplier['id']}/api-keys", json={})
    assert rotated.status_code == 201, rotated.text
    assert (await browser.get("/supply")).status_code == 303


async def test_forms_without_their_csrf_token_are_refused(browser: httpx.AsyncClient, asked: AskedSupplier):
    anonymous = await browser.post("/supply/login", data={"api_key": asked.key})
    assert anonymous.status_code == 403
    assert (await browser.get("/supply")).status_code == 303

    await log_in(browser, asked.key)
    page = await browser.get(f"/supply/rfqs/{asked.rfq_id}")
    forged = quote_form(page, asked.sku, csrf_token="forged")
    refused = await browser.post(f"/supply/rfqs/{asked.rfq_id}/quotes", data=forged)
    assert refused.status_code == 403
    assert "表单已失效" in refused.text
    assert ok(await asked.maker.get(f"/api/v1/rfqs/{asked.rfq_id}"))["quotes"] == []


async def test_a_supplier_sees_only_its_own_rfqs(
    operator: httpx.AsyncClient, as_key: KeyClient, browser: httpx.AsyncClient, asked: AskedSupplier
):
    other = await asked_supplier(operator, as_key, backup=False)
    await log_in(browser, other.key)

    inbox = await browser.get("/supply")
    assert other.rfq_id in inbox.text
    assert asked.rfq_id not in inbox.text and asked.sku not in inbox.text
    theirs = await browser.get(f"/supply/rfqs/{asked.rfq_id}")
    assert theirs.status_code == 404
    assert asked.sku not in theirs.text
    quoted = await browser.post(
        f"/supply/rfqs/{asked.rfq_id}/quotes", data=quote_form(await browser.get("/supply"), asked.sku)
    )
    assert quoted.status_code == 404
    assert ok(await asked.maker.get(f"/api/v1/rfqs/{asked.rfq_id}"))["quotes"] == []


async def test_a_quote_sent_on_the_desk_is_the_one_the_api_shows(browser: httpx.AsyncClient, asked: AskedSupplier):
    await log_in(browser, asked.key)
    page = await browser.get(f"/supply/rfqs/{asked.rfq_id}")
    assert page.status_code == 200
    assert f"为 {asked.sku} 报价" in page.text
    assert "时间均为中国时间 (GMT+08:00)" in page.text  # the deadline's time zone is named

    sent = await browser.post(f"/supply/rfqs/{asked.rfq_id}/quotes", data=quote_form(page, asked.sku))
    assert (sent.status_code, sent.headers["location"]) == (303, f"/supply/rfqs/{asked.rfq_id}")
    shown = await browser.get(sent.headers["location"])
    assert f"{asked.sku} 的报价已发送。" in shown.text
    assert "¥28.50" in shown.text

    [quote] = ok(await asked.maker.get(f"/api/v1/rfqs/{asked.rfq_id}"))["quotes"]
    assert quote["status"] == "current"
    assert (quote["moq"], quote["capacity"], quote["lead_time_days"], quote["quality"]) == (2, 60, 4, 91)
    assert quote["price_tiers"] == [{"min_quantity": 0, "unit_cents": 2850}, {"min_quantity": 5, "unit_cents": 2700}]
    assert (quote["shipping_cents"], quote["fixed_cents"], quote["reserve_cents"]) == ({"ningbo": 320}, 0, 50)
    valid_until = datetime.fromisoformat(quote["valid_until"]).astimezone(ZoneInfo("Asia/Shanghai"))
    assert (valid_until.hour, valid_until.minute) == (23, 59)  # the day's end where the group lives


async def test_a_bad_quote_is_shown_back_in_chinese_and_nothing_is_sent(
    browser: httpx.AsyncClient, asked: AskedSupplier
):
    await log_in(browser, asked.key)
    page = await browser.get(f"/supply/rfqs/{asked.rfq_id}")
    bad = quote_form(page, asked.sku, capacity="1", tier_price_0="28.505")

    refused = await browser.post(f"/supply/rfqs/{asked.rfq_id}/quotes", data=bad)

    assert refused.status_code == 400
    assert "阶梯价：每一行都要填写数量和单价（元）" in refused.text
    assert 'value="28.505"' in refused.text  # what was typed stays in the form
    assert f'href="/supply/rfqs/{asked.rfq_id}?lang=en"' in refused.text  # the switch leads to a page, not the post
    fixed = await browser.post(f"/supply/rfqs/{asked.rfq_id}/quotes", data=quote_form(page, asked.sku, capacity="1"))
    assert fixed.status_code == 400
    assert "产能：不能低于起订量" in fixed.text
    assert ok(await asked.maker.get(f"/api/v1/rfqs/{asked.rfq_id}"))["quotes"] == []


async def test_production_on_the_desk_is_fulfilment_s_answer_to_the_supplier_s_own_key(
    operator: httpx.AsyncClient, as_key: KeyClient, browser: httpx.AsyncClient
):
    setup = await in_production(operator, as_key, units=10, batch_units=4)
    order_id, lot = setup.production_order["id"], setup.batch["lot_number"]
    intruder = (await create_supplier(operator))["api_key"]["api_key"]
    await log_in(browser, intruder)
    assert order_id not in (await browser.get("/supply/production")).text
    assert (await browser.get(f"/supply/production/{order_id}")).status_code == 404
    assert (await browser.get(f"/supply/production/{order_id}/manifest.csv")).status_code == 404
    await browser.post("/supply/logout", data={"csrf_token": csrf_token(await browser.get("/supply"))})

    await log_in(browser, setup.maker.headers["authorization"].removeprefix("Bearer "))
    listed = await browser.get("/supply/production")
    assert f"/supply/production/{order_id}" in listed.text and "生产中" in listed.text
    page = await browser.get(f"/supply/production/{order_id}")
    assert page.status_code == 200 and f"批号 {lot}" in page.text
    manifest = await browser.get(f"/supply/production/{order_id}/manifest.csv", params={"batch_id": setup.batch["id"]})
    assert manifest.status_code == 200
    assert manifest.content.startswith("\ufeff".encode())  # Excel reads it as UTF-8
    api = (
        await setup.maker.get(
            f"/api/v1/production-orders/{order_id}/manifest.csv", params={"batch_id": setup.batch["id"]}
        )
    ).text
    assert manifest.content.decode("utf-8-sig") == api.removeprefix("\ufeff")
    assert "attachment" in manifest.headers["content-disposition"]


async def test_a_failed_webhook_is_sent_again_from_the_desk_with_its_webhook_id(
    operator: httpx.AsyncClient, browser: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv("FLEXSUPPLY_WEBHOOK_RETRY_SCHEDULE_SECONDS", "[0.1]")
    with fake_supplier_server() as fake:
        fake.answers = [(503, {})] * 2  # down for both attempts: the delivery fails
        created = await create_supplier(operator, webhook_url=fake.url)
        path = f"/api/v1/suppliers/{created['supplier']['id']}/webhook-deliveries"
        [failed] = await eventually(lambda: deliveries_of(operator, path, "failed"), timeout_seconds=30)
        await log_in(browser, created["api_key"]["api_key"])
        scorecard = await browser.get("/supply/scorecard")
        assert f"/supply/scorecard/deliveries/{failed['id']}/resend" in scorecard.text
        assert "重新发送" in scorecard.text

        forged = await browser.post(f"/supply/scorecard/deliveries/{failed['id']}/resend", data={"csrf_token": "x"})
        assert forged.status_code == 403
        sent = await browser.post(
            f"/supply/scorecard/deliveries/{failed['id']}/resend", data={"csrf_token": csrf_token(scorecard)}
        )
        assert sent.status_code == 303
        [delivered] = await eventually(lambda: deliveries_of(operator, path, "delivered"), timeout_seconds=30)
    assert delivered["id"] == failed["id"]
    assert [request.headers["webhook-id"] for request in fake.received] == [failed["id"]] * 3
    assert "webhook-id 不变" in (await browser.get("/supply/scorecard")).text
