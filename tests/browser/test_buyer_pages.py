"""The buyer's page in headless Chromium, as a buyer from the chat group uses it on a phone: it counts down to the
opening, opens by itself, takes an order through its form, shows the order with its payment reference, counts the
stock down live, and shows sold out. Without JavaScript the form still orders, and a resubmitted form orders once.
"""

import re
from typing import Any
from uuid import uuid4

import httpx
import pytest
from playwright.async_api import Browser, BrowserContext, Page, expect

from tests.browser.conftest import WAIT_SECONDS, PlannedSale
from tests.support.sales import order as place_order
from tests.support.waiting import eventually

pytestmark = [pytest.mark.browser, pytest.mark.slow]

PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}
REFERENCE = re.compile(r"FS-[A-Z0-9]{4,}")
ORDER_URL = re.compile(r"/order/[A-Za-z0-9_-]+$")


def money(cents: int) -> str:
    return f"{cents // 100}.{cents % 100:02d}"


async def fill_order(page: Page, *, quantity: int, region: str, phone: str) -> None:
    await page.get_by_label("Quantity").fill(str(quantity))
    await page.get_by_label("Delivery region").select_option(region)
    await page.get_by_label("Name").fill("Wang Fang")
    await page.get_by_label("Phone").fill(phone)
    await page.get_by_label("Delivery address").fill("12 Zhongshan Road, Haishu District")


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


async def test_the_sale_page_counts_down_opens_takes_an_order_counts_live_and_sells_out(
    stack: str, operator: httpx.AsyncClient, browser: Browser, planned_sale: PlannedSale
):
    title = f"Sourdough gift box {uuid4().hex[:6]}"
    setup = await planned_sale(
        opens_in_seconds=25, quantities={"ningbo": 3, "shanghai": 2}, per_buyer_limit=3, title=title
    )
    package = setup.package
    sale_url = f"{stack}/sale/{package['id']}"
    context = await browser.new_context(**PHONE)
    try:
        # Before the opening: the item, its price and a countdown that moves.
        watcher = await context.new_page()
        await watcher.goto(sale_url)
        await expect(watcher.get_by_role("heading", name=title)).to_be_visible()
        await expect(watcher.get_by_text(f"{money(package['sale_price_cents'])} {package['currency']}")).to_be_visible()
        countdown = watcher.locator("#countdown")
        await expect(countdown).to_contain_text("Opens in")
        shown = await countdown.inner_text()
        await expect(countdown).not_to_have_text(shown)
        await expect(watcher.get_by_label("Quantity")).to_have_count(0)

        # The sale opens by itself at its time, and the page follows with the stock per region.
        await expect(watcher.get_by_label("Quantity")).to_be_visible()
        await expect(watcher.locator("#left-ningbo")).to_have_text("3")
        await expect(watcher.locator("#left-shanghai")).to_have_text("2")
        await watcher.evaluate("window.notReloaded = true")

        # A buyer orders through the form and sees the order with its payment reference.
        buyer = await context.new_page()
        await buyer.goto(sale_url)
        await fill_order(buyer, quantity=2, region="ningbo", phone="13800000001")
        await buyer.get_by_role("button", name="Order").click()
        await expect(buyer).to_have_url(ORDER_URL)
        reference = buyer.locator("#payment-reference")
        await expect(reference).to_have_text(REFERENCE)
        token = buyer.url.rsplit("/", 1)[1]
        order = (await operator.get(f"/api/v1/orders/{token}")).json()
        assert (order["quantity"], order["region"], order["status"]) == (2, "ningbo", "placed")
        assert order["amount_cents"] == 2 * package["sale_price_cents"]
        await expect(reference).to_have_text(order["payment_reference"])
        await expect(buyer.locator("#amount")).to_have_text(f"{money(order['amount_cents'])} {order['currency']}")
        await expect(buyer.get_by_role("button", name="Cancel this order")).to_be_visible()

        # The page left open counts down live, without being loaded again.
        await expect(watcher.locator("#left-ningbo")).to_have_text("1")
        await expect(watcher.locator("#left-total")).to_have_text("3")
        assert await watcher.evaluate("window.notReloaded === true")

        # Ningbo sells out elsewhere: the form says so plainly, with what is left.
        await order_through_api(operator, package["id"], quantity=1, region="ningbo", phone="13800000002")
        await expect(watcher.locator("#left-ningbo")).to_have_text("0")
        await buyer.goto(sale_url)
        await fill_order(buyer, quantity=1, region="ningbo", phone="13800000003")
        await buyer.get_by_role("button", name="Order").click()
        await expect(buyer.get_by_role("alert")).to_contain_text("Sold out: 0 left")
        await expect(buyer.get_by_label("Name")).to_have_value("Wang Fang")  # what was typed is kept

        # The last units go: the open page and a fresh one both show sold out.
        await order_through_api(operator, package["id"], quantity=2, region="shanghai", phone="13800000004")
        await expect(watcher.locator("#sold-out")).to_be_visible()
        await expect(watcher.locator("#left-total")).to_have_text("0")
        await expect(watcher.get_by_role("button", name="Order")).to_be_disabled()
        fresh = await context.new_page()
        await fresh.goto(sale_url)
        await expect(fresh.locator("#sold-out")).to_be_visible()
        await stock_becomes(operator, package["id"], {"ningbo": 0, "shanghai": 0})
    finally:
        await context.close()


async def test_without_javascript_the_form_orders_once_however_often_it_is_sent_and_the_order_can_be_cancelled(
    stack: str, operator: httpx.AsyncClient, browser: Browser, planned_sale: PlannedSale
):
    title = f"Coffee beans {uuid4().hex[:6]}"
    setup = await planned_sale(
        opens_in_seconds=15, quantities={"ningbo": 5, "shanghai": 4}, per_buyer_limit=3, title=title
    )
    package, leader = setup.package, setup.leader
    opens, closes = package["sale_opens_at"], package["sale_closes_at"]
    market = await leader.post(
        "/api/v1/markets",
        json={"title": "Friday market", "starts_at": opens, "ends_at": closes, "package_ids": [package["id"]]},
    )
    assert market.status_code == 201, market.text
    sale_url = f"{stack}/sale/{package['id']}"
    context = await browser.new_context(java_script_enabled=False, **PHONE)
    try:
        page = await context.new_page()
        await page.goto(f"{stack}/market/{market.json()['id']}")
        await expect(page.locator("#coming-next")).to_contain_text(title)
        await page.goto(sale_url)
        await expect(page.locator("#countdown")).to_contain_text("Opens in")

        # No script reloads the page: the buyer does, until the sale is open.
        async def form_shown() -> bool | None:
            await page.reload()
            return True if await page.get_by_label("Quantity").count() else None

        await eventually(form_shown, WAIT_SECONDS, what="the sale page offers the order form")
        await page.goto(f"{stack}/market/{market.json()['id']}")
        await expect(page.locator("#on-now")).to_contain_text(title)
        await page.get_by_role("link", name=title).click()

        # Bad input comes back as the page with a plain message naming the field, and nothing is ordered.
        await fill_order(page, quantity=2, region="ningbo", phone="not a phone")
        await page.get_by_role("button", name="Order").click()
        await expect(page.get_by_role("alert")).to_contain_text("Phone")
        assert await orders_of(leader, package["id"]) == []

        # The order goes through; the same form sent again (a double tap, a retry) gives the same order.
        await fill_order(page, quantity=2, region="ningbo", phone="13900000001")
        sent = await form_fields(page)
        await page.get_by_role("button", name="Order").click()
        await expect(page).to_have_url(ORDER_URL)
        await expect(page.locator("#payment-reference")).to_have_text(REFERENCE)
        order_url = page.url
        again = await context.request.post(sale_url, form=sent, max_redirects=0)
        assert again.status == 303, await again.text()
        assert again.headers["location"] == order_url.removeprefix(stack)
        (order,) = await orders_of(leader, package["id"])
        assert (order["token"], order["quantity"], order["region"]) == (order_url.rsplit("/", 1)[1], 2, "ningbo")
        await stock_becomes(operator, package["id"], {"ningbo": 3, "shanghai": 4})

        # A second order from the same phone may not pass the per-buyer limit.
        await page.goto(sale_url)
        await fill_order(page, quantity=2, region="shanghai", phone="139 0000 0001")
        await page.get_by_role("button", name="Order").click()
        await expect(page.get_by_role("alert")).to_contain_text("at most 3")
        assert [order["id"] for order in await orders_of(leader, package["id"])] == [order["id"]]

        # The buyer cancels while the sale is open: the units are on sale again at once.
        await page.goto(order_url)
        await page.get_by_role("button", name="Cancel this order").click()
        await expect(page).to_have_url(order_url)
        await expect(page.locator("#status")).to_have_text("cancelled")
        await expect(page.get_by_role("button", name="Cancel this order")).to_have_count(0)
        await stock_becomes(operator, package["id"], {"ningbo": 5, "shanghai": 4})
        assert [order["status"] for order in await orders_of(leader, package["id"])] == ["cancelled"]
    finally:
        await context.close()


async def form_fields(page: Page) -> dict[str, Any]:
    """What the order form sends now, its hidden Idempotency-Key included."""
    form = page.locator("form[aria-label=Order]")
    fields: dict[str, Any] = {
        "idempotency_key": await form.locator("[name=idempotency_key]").get_attribute("value") or ""
    }
    for name in ("quantity", "region", "name", "phone", "address"):
        fields[name] = await form.locator(f"[name={name}]").input_value()
    return fields


async def test_an_unknown_sale_or_order_is_a_plain_not_found_page(stack: str, browser: Browser):
    context: BrowserContext = await browser.new_context(**PHONE)
    try:
        page = await context.new_page()
        response = await page.goto(f"{stack}/sale/{uuid4()}")
        assert response is not None and response.status == 404
        await expect(page.get_by_role("heading", name="Not found")).to_be_visible()
        response = await page.goto(f"{stack}/order/no-such-token")
        assert response is not None and response.status == 404
    finally:
        await context.close()
