"""The buyer's page in headless Chromium, as a buyer from the chat group uses it on a phone, in Chinese: the form
is filled in before the opening and sent the moment it opens, the order shows its payment reference and amount in
yuan, the stock counts down live, and sold out shows. Without JavaScript the form still orders (sent early, it
comes back with what was typed), and a resubmitted form orders once. Each page is written to build/screenshots.
"""

import re
from typing import Any
from uuid import uuid4

import httpx
import pytest
from playwright.async_api import Browser, BrowserContext, Page, expect

from tests.browser.conftest import (
    PHONE,
    WAIT_SECONDS,
    PlannedSale,
    above_the_fold,
    assert_chinese_page,
    screenshot,
)
from tests.support.sales import order as place_order
from tests.support.waiting import eventually

pytestmark = [pytest.mark.browser, pytest.mark.slow]

REFERENCE = re.compile(r"FS-[A-Z0-9]{4,}")
ORDER_URL = re.compile(r"/order/[A-Za-z0-9_-]+$")
# What the pages said in English before they were Chinese: none of it may be left on a zh-CN page.
FORMER_ENGLISH = [
    "Opens in",
    "Order",
    "Quantity",
    "Delivery region",
    "Name",
    "Phone",
    "Delivery address",
    "Left",
    "each",
    "Sold out",
    "left",
    "Your order",
    "Status",
    "Amount",
    "How to pay",
    "Cancel this order",
    "Back to the sale",
    "released",
    "refund due",
    "On now",
    "Next",
    "Over",
    "UTC",
    "CNY",
]
REGION_NAMES = {"ningbo": "宁波", "shanghai": "上海"}


def yuan(cents: int) -> str:
    return f"¥{cents // 100}.{cents % 100:02d}"


async def name_regions(operator: httpx.AsyncClient) -> None:
    """The catalogue's names, as a Chinese operator gives them (the pages show these, not the codes)."""
    for code, name in REGION_NAMES.items():
        assert (await operator.put(f"/api/v1/regions/{code}", json={"name": name})).status_code == 200


async def fill_order(page: Page, *, quantity: int, region: str, phone: str) -> None:
    await page.get_by_label("数量").fill(str(quantity))
    await page.get_by_label("配送地区").select_option(region)
    await page.get_by_label("姓名").fill("王芳")
    await page.get_by_label("手机号").fill(phone)
    await page.get_by_label("收货地址").fill("海曙区中山路 12 号")


async def order_through_api(operator: httpx.AsyncClient, package_id: str, **body: Any) -> None:
    """Another buyer, ordering through the JSON API."""
    response = await place_order(operator, package_id, **body)
    assert response.status_code == 201, response.text


async def stock_becomes(operator: httpx.AsyncClient, package_id: str, expected: dict[str, int]) -> None:
    """Wait until the polled stock (shared by its readers for up to half a second) shows `expected` left."""

    async def shown() -> bool | None:
        stock = (await operator.get(f"/api/v1/sales/{package_id}/stock")).json()
        return True if {region["region"]: region["left"] for region in stock["regions"]} == expected else None

    await eventually(shown, WAIT_SECONDS, what=f"the stock shows {expected} left")


async def orders_of(leader: httpx.AsyncClient, package_id: str) -> list[dict[str, Any]]:
    """Every order of the package, as its leader sees them (read from the orders themselves, never stale)."""
    response = await leader.get(f"/api/v1/packages/{package_id}/orders")
    assert response.status_code == 200, response.text
    return response.json()


async def test_the_form_is_filled_before_the_opening_sent_as_it_opens_and_the_page_counts_live_to_sold_out(
    stack: str, operator: httpx.AsyncClient, browser: Browser, planned_sale: PlannedSale
):
    title = f"酸面包礼盒 {uuid4().hex[:4]}"
    setup = await planned_sale(
        opens_in_seconds=25,
        quantities={"ningbo": 3, "shanghai": 2},
        per_buyer_limit=3,
        title=title,
        spec="每盒 6 个，当天烘焙",
    )
    await name_regions(operator)
    package = setup.package
    sale_url = f"{stack}/sale/{package['id']}"
    context = await browser.new_context(**PHONE)
    try:
        # Before the opening: the item, its price in yuan, a countdown that moves, and the form to fill in now.
        buyer = await context.new_page()
        await buyer.goto(sale_url)
        await expect(buyer.get_by_role("heading", name=title)).to_be_visible()
        await expect(buyer.locator(".price")).to_contain_text(yuan(package["sale_price_cents"]))
        countdown = buyer.locator("#countdown")
        await expect(countdown).to_contain_text("距开抢还有")
        shown = await countdown.inner_text()
        await expect(countdown).not_to_have_text(shown)
        await expect(buyer.locator("#region")).to_contain_text("宁波")
        await expect(buyer.get_by_role("contentinfo")).to_contain_text("GMT+08:00")
        await assert_chinese_page(buyer, FORMER_ENGLISH)
        await above_the_fold(buyer, "[data-order-button]")
        await screenshot(buyer, "sale-before-opening")
        # With the item's photo on top (as a package with a photo has it), the button is still on the first screen.
        await buyer.evaluate(
            """() => {
                const photo = document.createElement("img");
                photo.className = "photo";
                photo.width = 390;
                photo.height = 180;
                document.querySelector("main").prepend(photo);
            }"""
        )
        await above_the_fold(buyer, "[data-order-button]")
        await buyer.evaluate('() => document.querySelector("img.photo").remove()')

        order_button = buyer.get_by_role("button", name="下单")
        await fill_order(buyer, quantity=2, region="ningbo", phone="+86 138 0000 0001")
        await expect(order_button).to_be_disabled()  # until the opening; what was typed stays
        await buyer.evaluate("window.notReloaded = true")

        # The opening: the button works at once, in place; the buyer sends what they typed before.
        await expect(order_button).to_be_enabled()
        assert await buyer.evaluate("window.notReloaded === true")
        await expect(buyer.get_by_label("姓名")).to_have_value("王芳")
        await screenshot(buyer, "sale-open")
        await order_button.click()
        await expect(buyer).to_have_url(ORDER_URL)
        reference = buyer.locator("#payment-reference")
        await expect(reference).to_have_text(REFERENCE)
        token = buyer.url.rsplit("/", 1)[1]
        order = (await operator.get(f"/api/v1/orders/{token}")).json()
        assert (order["quantity"], order["region"], order["status"]) == (2, "ningbo", "placed")
        assert order["phone"] == "+8613800000001"
        await expect(reference).to_have_text(order["payment_reference"])
        await expect(buyer.locator("#amount")).to_have_text(yuan(order["amount_cents"]))
        await expect(buyer.locator("#status")).to_have_text("等待付款")
        await expect(buyer.locator("#payment")).to_contain_text(order["payment_reference"])
        await expect(buyer.get_by_role("button", name="取消这个订单")).to_be_visible()
        await assert_chinese_page(buyer, FORMER_ENGLISH)
        await screenshot(buyer, "order")

        # A page left open counts down live, without being loaded again.
        watcher = await context.new_page()
        await watcher.goto(sale_url)
        await watcher.evaluate("window.notReloaded = true")
        await expect(watcher.locator("#left-ningbo")).to_have_text("1")
        await order_through_api(operator, package["id"], quantity=1, region="ningbo", phone="13800000002")
        await expect(watcher.locator("#left-ningbo")).to_have_text("0")
        await expect(watcher.locator("#left-total")).to_have_text("2")
        assert await watcher.evaluate("window.notReloaded === true")

        # Ningbo is sold out: the form says so plainly, by the region's name, keeping what was typed.
        await buyer.goto(sale_url)
        await fill_order(buyer, quantity=1, region="ningbo", phone="13800000003")
        await buyer.get_by_role("button", name="下单").click()
        await expect(buyer.get_by_role("alert")).to_contain_text("库存不足：宁波 只剩 0 件")
        await expect(buyer.get_by_label("姓名")).to_have_value("王芳")
        await assert_chinese_page(buyer, FORMER_ENGLISH)
        await screenshot(buyer, "sale-refused")

        # The last units go: the open page and a fresh one both show sold out.
        await order_through_api(operator, package["id"], quantity=2, region="shanghai", phone="13800000004")
        await expect(watcher.locator("#sold-out")).to_be_visible()
        await expect(watcher.locator("#left-total")).to_have_text("0")
        await expect(watcher.get_by_role("button", name="下单")).to_be_disabled()
        fresh = await context.new_page()
        await fresh.goto(sale_url)
        await expect(fresh.locator("#sold-out")).to_contain_text("已抢光")
        await screenshot(fresh, "sale-sold-out")
        await stock_becomes(operator, package["id"], {"ningbo": 0, "shanghai": 0})
    finally:
        await context.close()


async def test_without_javascript_the_form_orders_once_however_often_it_is_sent_and_the_order_can_be_cancelled(
    stack: str, operator: httpx.AsyncClient, browser: Browser, planned_sale: PlannedSale
):
    title = f"咖啡豆 {uuid4().hex[:4]}"
    setup = await planned_sale(
        opens_in_seconds=15, quantities={"ningbo": 5, "shanghai": 4}, per_buyer_limit=3, title=title, spec="250 克"
    )
    await name_regions(operator)
    package, leader = setup.package, setup.leader
    opens, closes = package["sale_opens_at"], package["sale_closes_at"]
    market = await leader.post(
        "/api/v1/markets",
        json={"title": "周五团购会", "starts_at": opens, "ends_at": closes, "package_ids": [package["id"]]},
    )
    assert market.status_code == 201, market.text
    sale_url = f"{stack}/sale/{package['id']}"
    context = await browser.new_context(java_script_enabled=False, **PHONE)
    try:
        page = await context.new_page()
        await page.goto(f"{stack}/market/{market.json()['id']}")
        await expect(page.locator("#coming-next")).to_contain_text(title)
        await assert_chinese_page(page, FORMER_ENGLISH)
        await screenshot(page, "market")
        await page.goto(sale_url)
        await expect(page.locator("#countdown")).to_contain_text("距开抢还有")

        # Sent before the opening: a plain "not open yet" page, with what was typed kept.
        await fill_order(page, quantity=2, region="ningbo", phone="13900000001")
        await page.get_by_role("button", name="下单").click()
        await expect(page.get_by_role("alert")).to_contain_text("还没开始")
        await expect(page.get_by_label("姓名")).to_have_value("王芳")
        assert await orders_of(leader, package["id"]) == []
        await screenshot(page, "sale-not-open-yet")

        async def open_now() -> bool | None:
            await page.goto(f"{stack}/market/{market.json()['id']}")
            return True if await page.locator("#on-now").get_by_role("link", name=title).count() else None

        await eventually(open_now, WAIT_SECONDS, what="the market shows the sale on now")
        await page.locator("#on-now").get_by_role("link", name=title).click()

        # Bad input comes back as the page with a plain message naming the field, and nothing is ordered.
        await fill_order(page, quantity=2, region="ningbo", phone="not a phone")
        await page.get_by_role("button", name="下单").click()
        await expect(page.get_by_role("alert")).to_contain_text("手机号：请填写手机号码")
        await expect(page.get_by_role("alert")).not_to_contain_text("String should")
        assert await orders_of(leader, package["id"]) == []

        # The order goes through; the same form sent again (a double tap, a retry) gives the same order.
        await fill_order(page, quantity=2, region="ningbo", phone="13900000001")
        sent = await form_fields(page)
        await page.get_by_role("button", name="下单").click()
        await expect(page).to_have_url(ORDER_URL)
        await expect(page.locator("#payment-reference")).to_have_text(REFERENCE)
        order_url = page.url
        again = await context.request.post(sale_url, form=sent, max_redirects=0)
        assert again.status == 303, await again.text()
        assert again.headers["location"] == order_url.removeprefix(stack)
        (order,) = await orders_of(leader, package["id"])
        assert (order["token"], order["quantity"], order["region"]) == (order_url.rsplit("/", 1)[1], 2, "ningbo")
        await stock_becomes(operator, package["id"], {"ningbo": 3, "shanghai": 4})

        # A second order from the same phone, typed another way, may not pass the per-buyer limit.
        await page.goto(sale_url)
        await fill_order(page, quantity=2, region="shanghai", phone="+86 139 0000 0001")
        await page.get_by_role("button", name="下单").click()
        await expect(page.get_by_role("alert")).to_contain_text("每人最多可买 3 件")
        assert [order["id"] for order in await orders_of(leader, package["id"])] == [order["id"]]

        # The buyer cancels while the sale is open: the units are on sale again at once.
        await page.goto(order_url)
        await page.get_by_role("button", name="取消这个订单").click()
        await expect(page).to_have_url(order_url)
        await expect(page.locator("#status")).to_have_text("已取消")
        await expect(page.get_by_role("button", name="取消这个订单")).to_have_count(0)
        await stock_becomes(operator, package["id"], {"ningbo": 5, "shanghai": 4})
        assert [order["status"] for order in await orders_of(leader, package["id"])] == ["cancelled"]
        await screenshot(page, "order-cancelled")

        # The leader cancels the group-buy: the sale says so, in words a buyer understands.
        cancelled = await leader.post(f"/api/v1/packages/{package['id']}/cancel", json={"reason": "供应商停产"})
        assert cancelled.status_code == 200, cancelled.text
        await page.goto(sale_url)
        await expect(page.locator("#ended")).to_contain_text("团长取消了这次团购")
        await assert_chinese_page(page, FORMER_ENGLISH)
        await screenshot(page, "sale-cancelled")
    finally:
        await context.close()


async def form_fields(page: Page) -> dict[str, Any]:
    """What the order form sends now, its hidden Idempotency-Key included."""
    form = page.locator("form#order")
    fields: dict[str, Any] = {
        "idempotency_key": await form.locator("[name=idempotency_key]").get_attribute("value") or ""
    }
    for name in ("quantity", "region", "name", "phone", "address"):
        fields[name] = await form.locator(f"[name={name}]").input_value()
    return fields


async def test_an_unknown_sale_or_order_is_a_plain_not_found_page_and_english_is_one_tap_away(
    stack: str, browser: Browser
):
    context: BrowserContext = await browser.new_context(**PHONE)
    try:
        page = await context.new_page()
        response = await page.goto(f"{stack}/sale/{uuid4()}")
        assert response is not None and response.status == 404
        await expect(page.get_by_role("heading", name="找不到", exact=True)).to_be_visible()
        await assert_chinese_page(page, ["Not found", "There is no sale"])
        await screenshot(page, "not-found")
        await page.get_by_role("link", name="English").click()
        await expect(page.get_by_role("heading", name="Not found")).to_be_visible()
        await expect(page.locator("html")).to_have_attribute("lang", "en")
        response = await page.goto(f"{stack}/order/no-such-token")  # the choice is kept
        assert response is not None and response.status == 404
        await expect(page.get_by_text("There is no order at this address.")).to_be_visible()
    finally:
        await context.close()
