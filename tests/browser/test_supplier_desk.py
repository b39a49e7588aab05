"""The supplier desk in headless Chromium on a phone (390x844), in Chinese, by clicking only: a supplier asked to
quote logs in with its key, sees the RFQ and quotes it; once the group has bought on the plan and the sale has
closed, it accepts its award, finds the production order, accepts and starts it, reports a batch, ships the buyers'
parcels with tracking numbers and downloads the courier's manifest. What others do between the clicks (the package,
its round and match run, the buyers' paid orders, the close) goes through the public API. Each page is saved to
build/screenshots/supply-<page>.png."""

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import uuid4

import httpx
import pytest
from playwright.async_api import Browser, Page, ViewportSize, expect

from flexsupply.matching.payments import sign_test_payment
from tests.browser.conftest import OPERATOR_TOKEN
from tests.support.desk import AskedSupplier, KeyClient, asked_supplier
from tests.support.fulfilment import ok
from tests.support.sales import order
from tests.support.waiting import eventually

pytestmark = [pytest.mark.browser, pytest.mark.slow]

SCREENSHOTS = Path(__file__).resolve().parents[2] / "build" / "screenshots"
PHONE: ViewportSize = {"width": 390, "height": 844}
SALE_PRICE_CENTS = 5900


@pytest.fixture
async def as_key(stack: str) -> AsyncIterator[KeyClient]:
    clients: list[httpx.AsyncClient] = []

    def make(key: str) -> httpx.AsyncClient:
        client = httpx.AsyncClient(base_url=stack, headers={"authorization": f"Bearer {key}"}, timeout=30)
        clients.append(client)
        return client

    yield make
    for client in clients:
        await client.aclose()


async def finished_run(client: httpx.AsyncClient, run_id: str) -> dict[str, Any]:
    async def finished() -> dict[str, Any] | None:
        run = ok(await client.get(f"/api/v1/match-runs/{run_id}"))
        return run if run["status"] in {"planned", "infeasible", "failed"} else None

    return await eventually(finished, what=f"match run {run_id} finishes")


async def sell(asked: AskedSupplier, operator: httpx.AsyncClient) -> None:
    """The round matched, the sale open at once on the plan, two buyers' paid orders (2 and 3 units), the close."""
    leader = asked.leader
    run = ok(
        await leader.post(f"/api/v1/sourcing-rounds/{asked.round_id}/match-runs", json={"time_limit_seconds": 5}), 202
    )
    assert (await finished_run(leader, run["id"]))["status"] == "planned"

    async def on_sale() -> bool | None:
        return ok(await leader.get(f"/api/v1/packages/{asked.package_id}"))["status"] == "on_sale" or None

    await eventually(on_sale, what="the sale opens")
    for buyer, quantity in (("王芳", 2), ("陈静", 3)):
        placed = ok(await order(operator, asked.package_id, quantity=quantity, name=buyer), 201)
        body, signature = sign_test_payment(OPERATOR_TOKEN, placed["payment_reference"], quantity * SALE_PRICE_CENTS)
        ok(await operator.post("/api/v1/payments/test/callbacks", content=body, headers=signature))
    closed = ok(await leader.post(f"/api/v1/packages/{asked.package_id}/sale/close", json={"reason": "够了"}))
    assert closed["went_ahead"] is True, closed

    async def offered() -> bool | None:
        return any(award["status"] == "offered" for award in ok(await asked.maker.get("/api/v1/awards"))) or None

    await eventually(offered, what="the maker's award is offered")


async def snap(page: Page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(SCREENSHOTS / f"supply-{name}.png"), full_page=True)


async def test_a_supplier_quotes_accepts_its_award_and_ships_a_batch_on_the_desk(
    stack: str, operator: httpx.AsyncClient, as_key: KeyClient, browser: Browser, tmp_path: Path
):
    opens_at = datetime.now(UTC) + timedelta(seconds=1)  # open the moment it is planned
    asked = await asked_supplier(
        operator,
        as_key,
        units=6,
        sale_opens_at=opens_at.isoformat(),
        sale_closes_at=(opens_at + timedelta(hours=1)).isoformat(),
        sale_price_cents=SALE_PRICE_CENTS,
    )
    lot = f"LOT-{uuid4().hex[:6].upper()}"
    context = await browser.new_context(viewport=PHONE, locale="zh-CN", accept_downloads=True)
    try:
        page = await context.new_page()
        await page.goto(f"{stack}/supply")
        await expect(page.get_by_role("heading", name="供应商登录")).to_be_visible()
        await snap(page, "login")
        await page.get_by_label("您的 API 密钥").fill(asked.key[:-3] + "zzz")
        await page.get_by_role("button", name="登录").click()
        await expect(page.locator("#message")).to_contain_text("这个密钥无效或已停用")
        await page.get_by_label("您的 API 密钥").fill(asked.key)
        await page.get_by_role("button", name="登录").click()

        # The inbox: the RFQ, its deadline in the group's time.
        await expect(page.get_by_role("heading", name="询价单")).to_be_visible()
        rfq = page.locator(f"#rfq-{asked.rfq_id}")
        await expect(rfq).to_contain_text(asked.sku)
        await expect(rfq).to_contain_text("等待您答复")
        await expect(page.locator(".tz")).to_contain_text("GMT+08:00")
        await snap(page, "inbox")

        # Quote it: the form starts from the standing offer; the supplier sharpens the price.
        await rfq.get_by_role("link").click()
        await expect(page.get_by_role("heading", name=f"为 {asked.sku} 报价")).to_be_visible()
        await snap(page, "rfq")
        await page.locator("input[name=tier_price_0]").fill("29.00")
        await page.get_by_role("button", name="发送报价").click()
        await expect(page.locator("#flash")).to_have_text(f"{asked.sku} 的报价已发送。")
        await expect(page.locator("#quotes")).to_contain_text("¥29.00")
        await snap(page, "rfq-quoted")

        # The leader matches on the quote; two buyers order and pay; the leader closes the sale: the award follows.
        await sell(asked, operator)

        # Accept the award before its deadline.
        await page.get_by_role("link", name="中标").click()
        await expect(page.get_by_role("heading", name="中标")).to_be_visible()
        award = page.locator("#awards .card").first
        await expect(award).to_contain_text(asked.sku)
        await expect(award).to_contain_text("5 件")
        await expect(award).to_contain_text("¥29.00")
        await expect(award.locator(".deadline")).to_be_visible()
        await snap(page, "awards")
        await award.get_by_role("button", name="接受中标").click()
        await expect(page.locator("#flash")).to_have_text("已接受中标，随后会收到生产单。")
        await expect(page.locator("#awards .card").first).to_contain_text("已接受")

        async def issued() -> str | None:
            orders = ok(await asked.maker.get("/api/v1/production-orders", params={"package_id": asked.package_id}))
            return orders[0]["id"] if orders else None

        production_order_id = await eventually(issued, what="the maker's production order is issued")

        # The production order: accept, start, report a batch.
        await page.get_by_role("link", name="生产").click()
        await expect(page.get_by_role("heading", name="生产单")).to_be_visible()
        await snap(page, "production")
        await page.locator(f"#po-{production_order_id}").get_by_role("link").click()
        await expect(page.locator("#po-status")).to_have_text("等待您接单")
        await page.get_by_role("button", name="接受生产单").click()
        await expect(page.locator("#flash")).to_have_text("已接单。")
        await page.get_by_role("button", name="开始生产").click()
        await expect(page.locator("#po-status")).to_have_text("生产中")
        batch_form = page.locator("#batch-form")
        await batch_form.get_by_label("数量", exact=True).fill("5")
        await batch_form.get_by_label("批号", exact=True).fill(lot)
        await batch_form.get_by_label("合格", exact=True).check()
        await snap(page, "production-order")
        await batch_form.get_by_role("button", name="上报这一批").click()
        await expect(page.locator("#flash")).to_have_text(f"批次 {lot} 已上报，包裹可以发货了。")

        # Ship the batch's parcels, each with its tracking number.
        batch = page.locator(f"#batch-{lot}")
        await expect(batch).to_contain_text("可发货")
        ship_form = batch.locator(".ship-form")
        await ship_form.get_by_label("快递公司").fill("顺丰速运")
        tracking = ship_form.locator("input[name^=tracking_]")
        parcels = await tracking.count()
        assert parcels == 2  # one per buyer
        for index in range(parcels):
            await tracking.nth(index).fill(f"SF{index + 1:010d}")
        await snap(page, "batch")
        await ship_form.get_by_role("button", name="发出这些包裹").click()
        await expect(page.locator("#flash")).to_have_text(f"已发货 {parcels} 个包裹。")
        await expect(page.locator(f"#batch-{lot}")).to_contain_text("SF0000000001")
        await expect(page.locator("#po-status")).to_have_text("已全部发货")
        await snap(page, "shipped")

        # The courier's manifest, as a spreadsheet opens it (UTF-8 with a byte-order mark) and as JSON.
        async with page.expect_download() as download_info:
            await page.locator("#manifest-csv").click()
        download = await download_info.value
        saved = tmp_path / download.suggested_filename
        await download.save_as(saved)
        manifest = saved.read_bytes()
        assert manifest.startswith("\ufeff".encode())
        assert lot in manifest.decode("utf-8-sig")
        async with page.expect_download() as download_info:
            await page.locator("#manifest-json").click()
        rows = (await (await download_info.value).path()).read_text(encoding="utf-8")
        assert lot in rows

        await page.get_by_role("link", name="评分").click()
        await expect(page.locator("#score")).to_contain_text("100")
        await snap(page, "scorecard")
    finally:
        await context.close()

    # What the pages showed is what the services hold.
    shipments = ok(await asked.maker.get(f"/api/v1/production-orders/{production_order_id}/shipments"))
    assert {(s["status"], s["carrier"]) for s in shipments} == {("shipped", "顺丰速运")}
    assert sorted(s["tracking_number"] for s in shipments) == [f"SF{i + 1:010d}" for i in range(parcels)]
