"""The buyer's delivery page in headless Chromium on a phone, with real parcels: a package awarded as matching
announces it, its maker accepts, starts, reports a batch, ships the batch's parcels and has one delivered. The buyer
opens the link from their order, sees each parcel's state and tracking on a page that fits the screen, and reports a
problem through the form; the same report sent again is still one case. Without JavaScript the form works as well,
and an unknown link is a plain not-found page.
"""

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from uuid import uuid4

import httpx
import pytest
from playwright.async_api import Browser, Page, expect

from flexsupply.kit.settings import KitSettings
from tests.browser.conftest import WAIT_SECONDS
from tests.support.awarded import announce, awarded_package, json_of
from tests.support.fulfilment import KeyClient
from tests.support.waiting import eventually

pytestmark = [pytest.mark.browser, pytest.mark.slow]

PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True, "device_scale_factor": 3}
CARRIER = "JD Logistics"


@dataclass
class Shipped:
    """A package whose maker shipped its first batch's parcels and had the first of them delivered."""

    package_id: str
    supplier_id: str  # the maker
    delivered: dict[str, Any]  # the delivered parcel
    in_transit: dict[str, Any]  # a shipped parcel of another buyer
    token_of: dict[str, str]  # order id -> the buyer's link token


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


@pytest.fixture
def matching_url(stack: str, stack_folder: Path) -> str:
    """The running stack's matching database (its SQLite file), where matching's outbox lives."""
    return KitSettings(data_dir=stack_folder / "data").sqlite_url("matching")


async def shipped_package(operator: httpx.AsyncClient, as_key: KeyClient, matching_url: str) -> Shipped:
    setup = await awarded_package(operator)
    await announce(matching_url, setup.event)

    async def assigned() -> bool | None:
        response = await operator.get(f"/api/v1/awarded-packages/{setup.package_id}/assignment")
        return True if response.status_code == 200 and response.json()["status"] == "done" else None

    await eventually(assigned, WAIT_SECONDS, what="fulfilment assigns the announced package's orders")
    north = as_key(setup.keys["north"])
    [order] = json_of(await north.get("/api/v1/production-orders", params={"package_id": str(setup.package_id)}))
    url = f"/api/v1/production-orders/{order['id']}"
    for step in ("accept", "start"):
        json_of(await north.post(f"{url}/moves", json={"step": step}))
    batch = json_of(
        await north.post(
            f"{url}/batches",
            json={"quantity": 12, "lot_number": f"LOT-{uuid4().hex[:6].upper()}", "quality_passed": True},
            headers={"Idempotency-Key": uuid4().hex},
        ),
        201,
    )
    parcels = json_of(await north.get(f"{url}/shipments", params={"batch_id": batch["id"]}))
    # Long unbroken numbers, as some carriers issue: the page must still fit a phone's width.
    moves = [
        {"shipment_id": p["id"], "step": "ship", "carrier": CARRIER, "tracking_number": f"JDVA{uuid4().int:032d}"}
        for p in parcels
    ]
    shipped = json_of(await north.post("/api/v1/shipments/moves", json={"moves": moves}))
    assert {p["status"] for p in shipped} == {"shipped"}
    first = shipped[0]
    delivered = json_of(await north.post(f"/api/v1/shipments/{first['id']}/moves", json={"step": "deliver"}))
    assert delivered["status"] == "delivered"
    in_transit = next(p for p in shipped if p["order_id"] != first["order_id"])
    token_of = {str(o.order_id): token for o, token in zip(setup.event.orders, setup.tokens, strict=True)}
    return Shipped(
        package_id=str(setup.package_id),
        supplier_id=str(setup.supplier_ids["north"]),
        delivered=delivered,
        in_transit=in_transit,
        token_of=token_of,
    )


async def cases_of(operator: httpx.AsyncClient, package_id: str) -> list[dict[str, Any]]:
    return json_of(await operator.get("/api/v1/cases", params={"package_id": package_id}))


async def assert_fits_the_screen(page: Page) -> None:
    """No horizontal scrolling, at the phone's own width (a page too wide would widen the layout viewport)."""
    widths = await page.evaluate("({scroll: document.documentElement.scrollWidth, inner: window.innerWidth})")
    assert widths["inner"] == PHONE["viewport"]["width"], widths
    assert widths["scroll"] <= widths["inner"], widths


async def report(page: Page, kind: str, description: str) -> None:
    await page.get_by_label("What went wrong").select_option(label=kind)
    await page.get_by_label("What happened").fill(description)
    await page.get_by_role("button", name="Send report").click()


async def test_a_buyer_on_a_phone_sees_the_parcel_and_reports_a_problem_once_however_often_it_is_sent(
    stack: str, operator: httpx.AsyncClient, as_key: KeyClient, matching_url: str, browser: Browser
):
    setup = await shipped_package(operator, as_key, matching_url)
    parcel = setup.delivered
    token = setup.token_of[parcel["order_id"]]
    delivery_url = f"{stack}/delivery/{token}"
    context = await browser.new_context(**PHONE)
    try:
        page = await context.new_page()
        response = await page.goto(delivery_url)
        assert response is not None and response.status == 200
        await expect(page.get_by_role("heading", name="Your delivery")).to_be_visible()
        shown = page.locator(f"#parcel-{parcel['id']}")
        await expect(shown.locator(".state")).to_have_text("Delivered")
        await expect(shown.locator(".tracking")).to_have_text(parcel["tracking_number"])
        await expect(shown).to_contain_text(CARRIER)
        await assert_fits_the_screen(page)

        description = "The box arrived crushed and two loaves are broken."
        await report(page, "Damaged", description)
        await expect(page).to_have_url(f"{delivery_url}?case=opened")
        await expect(page.get_by_role("status")).to_contain_text("we have your report")
        listed = page.locator("ul.cases > li")
        await expect(listed).to_have_count(1)
        await expect(listed).to_contain_text("Damaged")
        await expect(listed).to_contain_text("we are looking into it")
        await assert_fits_the_screen(page)

        # The buyer goes back and sends the same report again: still the one case.
        await page.go_back()
        await expect(page).to_have_url(delivery_url)
        await report(page, "Damaged", description)
        await expect(page).to_have_url(f"{delivery_url}?case=opened")
        await expect(page.locator("ul.cases > li")).to_have_count(1)
        await page.reload()
        await expect(page.locator("ul.cases > li")).to_have_count(1)
    finally:
        await context.close()

    [case] = await cases_of(operator, setup.package_id)
    assert (case["order_id"], case["kind"], case["status"]) == (parcel["order_id"], "damaged", "open")
    assert case["description"] == description
    assert case["supplier_id"] == setup.supplier_id  # the maker that shipped the parcel


async def test_without_javascript_the_report_form_opens_one_case_and_a_refused_report_says_why(
    stack: str, operator: httpx.AsyncClient, as_key: KeyClient, matching_url: str, browser: Browser
):
    setup = await shipped_package(operator, as_key, matching_url)
    parcel = setup.in_transit
    token = setup.token_of[parcel["order_id"]]
    delivery_url = f"{stack}/delivery/{token}"
    context = await browser.new_context(java_script_enabled=False, **PHONE)
    try:
        page = await context.new_page()
        await page.goto(delivery_url)
        shown = page.locator(f"#parcel-{parcel['id']}")
        await expect(shown.locator(".state")).to_have_text("Shipped")
        await expect(shown.locator(".tracking")).to_have_text(parcel["tracking_number"])
        await assert_fits_the_screen(page)

        description = "Still not here a week after it shipped."
        await report(page, "Late", description)
        await expect(page).to_have_url(f"{delivery_url}?case=opened")
        listed = page.locator("ul.cases > li")
        await expect(listed).to_have_count(1)
        await expect(listed).to_contain_text("Late")
        await expect(listed).to_contain_text("we are looking into it")

        # The same form sent again (a retry after a dropped connection) goes to the same page and the same case.
        again = await context.request.post(
            f"{delivery_url}/cases", form={"kind": "late", "description": description}, max_redirects=0
        )
        assert again.status == 303, await again.text()
        assert again.headers["location"] == f"/delivery/{token}?case=opened"
        await page.reload()
        await expect(page.locator("ul.cases > li")).to_have_count(1)

        # A report without its kind is refused with the reason, and opens nothing.
        refused = await context.request.post(f"{delivery_url}/cases", form={"kind": "", "description": "help"})
        assert refused.status == 400
        assert "Please choose what went wrong." in await refused.text()
    finally:
        await context.close()

    [case] = await cases_of(operator, setup.package_id)
    assert (case["order_id"], case["kind"], case["status"]) == (parcel["order_id"], "late", "open")


async def test_an_unknown_delivery_link_is_a_friendly_not_found_page(stack: str, browser: Browser):
    context = await browser.new_context(**PHONE)
    try:
        page = await context.new_page()
        response = await page.goto(f"{stack}/delivery/no-such-token-{uuid4().hex}")
        assert response is not None and response.status == 404
        await expect(page.get_by_role("heading", name="We cannot find this order")).to_be_visible()
        await expect(page.get_by_text("whole link you were sent")).to_be_visible()
        await assert_fits_the_screen(page)
    finally:
        await context.close()
