"""The staff's board and the buyer's delivery page through HTTP, as a browser sends forms: logging in and out, the
board closed without a session, forms refused without their CSRF token, and the pages' answers for what is not
there."""

import re
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any
from uuid import UUID, uuid4

import httpx
import pytest
from sqlmodel import select

from flexsupply.fulfilment.delivery import token_hash
from flexsupply.fulfilment.domain.states import ProductionStatus, ShipmentStatus
from flexsupply.fulfilment.models import AfterSalesCase, AwardedPackage, DeliveryOrder, ProductionOrder, Shipment
from flexsupply.fulfilment.staff import create_account
from flexsupply.kit.clock import utc_now
from flexsupply.kit.db import Database
from tests.support.fulfilment import KeyClient, in_production, ok, production_orders
from tests.support.waiting import eventually

PASSWORD = "a long enough passphrase"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture
async def staff_email(app: Any, database_urls: dict[str, str]) -> AsyncIterator[str]:
    email = f"desk-{uuid4().hex[:8]}@example.com"
    database = Database(database_urls["fulfilment"], pooled=False)
    try:
        async with database.transaction() as session:
            await create_account(session, email.upper(), "Li Na", PASSWORD)
    finally:
        await database.dispose()
    yield email


@pytest.fixture
async def browser(app: Any) -> AsyncIterator[httpx.AsyncClient]:
    """A client keeping cookies, as a browser does."""
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://flexsupply.test") as client:
        yield client


def csrf_token(page: httpx.Response) -> str:
    found = CSRF.search(page.text)
    assert found, page.text
    return found.group(1)


async def log_in(client: httpx.AsyncClient, email: str, password: str) -> httpx.Response:
    form = await client.get("/board/login")
    assert form.status_code == 200
    return await client.post(
        "/board/login", data={"email": email, "password": password, "csrf_token": csrf_token(form)}
    )


async def test_staff_log_in_see_the_board_and_log_out(browser: httpx.AsyncClient, staff_email: str):
    closed = await browser.get("/board")
    assert closed.status_code == 303
    assert closed.headers["location"] == "/board/login"

    logged_in = await log_in(browser, staff_email, PASSWORD)
    assert logged_in.status_code == 303
    assert logged_in.headers["location"] == "/board"
    cookie = logged_in.headers["set-cookie"].lower()
    assert "httponly" in cookie
    assert "samesite=lax" in cookie
    assert "path=/board" in cookie

    board = await browser.get("/board")
    assert board.status_code == 200
    assert "Awarded packages" in board.text
    assert "Li Na" in board.text
    assert board.headers["cache-control"] == "no-store"
    assert "script-src" not in board.headers["content-security-policy"]  # no script runs at all

    logged_out = await browser.post("/board/logout", data={"csrf_token": csrf_token(board)})
    assert logged_out.status_code == 303
    assert logged_out.headers["location"] == "/board/login"
    assert (await browser.get("/board")).status_code == 303


async def test_a_logout_ends_every_copy_of_the_session(app: Any, browser: httpx.AsyncClient, staff_email: str):
    await log_in(browser, staff_email, PASSWORD)
    board = await browser.get("/board")
    assert board.status_code == 200
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://flexsupply.test", cookies=browser.cookies
    ) as stolen:  # the same cookie, copied before the logout
        assert (await stolen.get("/board")).status_code == 200
        await browser.post("/board/logout", data={"csrf_token": csrf_token(board)})
        assert (await stolen.get("/board")).status_code == 303
    await log_in(browser, staff_email, PASSWORD)  # a new login works again
    assert (await browser.get("/board")).status_code == 200


@pytest.mark.parametrize("wrong", ["password", "email"])
async def test_a_wrong_password_and_an_unknown_email_get_the_same_answer(
    browser: httpx.AsyncClient, staff_email: str, wrong: str
):
    email = f"nobody-{uuid4().hex[:8]}@example.com" if wrong == "email" else staff_email
    password = "not the password at all" if wrong == "password" else PASSWORD

    refused = await log_in(browser, email, password)

    assert refused.status_code == 401
    assert "Wrong email or password." in refused.text
    assert "Traceback" not in refused.text
    assert (await browser.get("/board")).status_code == 303


async def test_the_email_is_matched_whatever_its_case(browser: httpx.AsyncClient, staff_email: str):
    assert (await log_in(browser, f"  {staff_email.upper()} ", PASSWORD)).status_code == 303


async def test_board_forms_without_their_csrf_token_are_refused(browser: httpx.AsyncClient, staff_email: str):
    form = await browser.get("/board/login")
    without = await browser.post("/board/login", data={"email": staff_email, "password": PASSWORD})
    assert without.status_code == 403
    forged = await browser.post(
        "/board/login", data={"email": staff_email, "password": PASSWORD, "csrf_token": csrf_token(form) + "x"}
    )
    assert forged.status_code == 403

    assert (await log_in(browser, staff_email, PASSWORD)).status_code == 303
    assert (await browser.post("/board/logout")).status_code == 403
    fail = await browser.post(f"/board/production-orders/{uuid4()}/fail", data={"reason": "gone", "confirm": "yes"})
    assert fail.status_code == 403
    assert (await browser.get("/board")).status_code == 200  # still logged in: the refused logout did nothing


async def test_board_routes_send_anyone_without_a_session_to_the_login(anonymous: httpx.AsyncClient):
    for path in ["/board", f"/board/packages/{uuid4()}", f"/board/production-orders/{uuid4()}/manifest.csv"]:
        answer = await anonymous.get(path)
        assert (answer.status_code, answer.headers.get("location")) == (303, "/board/login"), path
    for path in [f"/board/production-orders/{uuid4()}/fail", f"/board/cases/{uuid4()}/resolve"]:
        answer = await anonymous.post(path, data={"csrf_token": "x"})
        assert (answer.status_code, answer.headers.get("location")) == (303, "/board/login"), path


async def test_an_unknown_package_is_a_friendly_404(browser: httpx.AsyncClient, staff_email: str):
    await log_in(browser, staff_email, PASSWORD)
    missing = await browser.get(f"/board/packages/{uuid4()}")
    assert missing.status_code == 404
    assert "No such package." in missing.text


async def test_the_delivery_page_of_an_unknown_token_is_a_friendly_404(anonymous: httpx.AsyncClient):
    missing = await anonymous.get("/delivery/no-such-token")
    assert missing.status_code == 404
    assert missing.headers["content-type"].startswith("text/html")
    assert "We cannot find this order" in missing.text


async def logged_in(client: httpx.AsyncClient, email: str) -> str:
    """Log in; the board's CSRF token for the forms that follow."""
    assert (await log_in(client, email, PASSWORD)).status_code == 303
    return csrf_token(await client.get("/board"))


async def test_staff_mark_a_failure_handle_its_exception_and_download_manifests_on_the_board(
    operator: httpx.AsyncClient, as_key: KeyClient, browser: httpx.AsyncClient, staff_email: str
):
    setup = await in_production(operator, as_key, units=20, batch_units=8)
    order_id, package_page = setup.production_order["id"], f"/board/packages/{setup.package_id}"
    token = await logged_in(browser, staff_email)
    page = await browser.get(package_page)
    assert page.status_code == 200
    assert setup.batch["lot_number"] in page.text

    manifest = await browser.get(f"/board/production-orders/{order_id}/manifest.csv")
    assert manifest.status_code == 200
    assert manifest.headers["content-type"].startswith("text/csv")
    assert manifest.headers["content-disposition"].startswith("attachment;")
    batch_manifest = await browser.get(
        f"/board/production-orders/{order_id}/manifest.csv", params={"batch_id": setup.batch["id"]}
    )
    assert batch_manifest.status_code == 200
    assert (await browser.get(f"/board/production-orders/{uuid4()}/manifest.csv")).status_code == 404

    fail_path = f"/board/production-orders/{order_id}/fail"
    form = {"csrf_token": token, "package_id": setup.package_id, "reason": "the oven broke"}
    unconfirmed = await browser.post(fail_path, data=form)
    assert (unconfirmed.status_code, unconfirmed.headers["location"]) == (303, package_page)
    assert "tick the confirmation" in (await browser.get(package_page)).text
    assert (await production_orders(operator, setup.package_id))[0]["status"] == "in_production"

    assert (await browser.post(fail_path, data=form | {"confirm": "yes"})).status_code == 303
    assert "backups are taking over 20 units" in (await browser.get(package_page)).text
    again = await browser.post(fail_path, data=form | {"confirm": "yes"})
    assert again.status_code == 303
    assert "Not done: a failed production order cannot fail." in (await browser.get(package_page)).text

    async def taken_over() -> str | None:
        text = (await browser.get(package_page)).text
        return text if 'status-done">done' in text and 'http-equiv="refresh"' not in text else None

    board_page = await eventually(taken_over, 30)
    assert ">backup</span>" in board_page
    exceptions = ok(await operator.get("/api/v1/exceptions", params={"package_id": setup.package_id}))
    (supplier_failed,) = [e for e in exceptions if e["kind"] == "supplier_failed"]
    assert f'id="exception-{supplier_failed["id"]}"' in board_page

    handled = await browser.post(
        f"/board/exceptions/{supplier_failed['id']}/handle",
        data={"csrf_token": token, "package_id": setup.package_id},
    )
    assert handled.status_code == 303
    assert f'id="exception-{supplier_failed["id"]}"' not in (await browser.get(package_page)).text


@pytest.fixture
async def delivered_order(app: Any, database_urls: dict[str, str]) -> AsyncIterator[tuple[str, UUID]]:
    """A buyer's order with one parcel on its way, written as fulfilment keeps it; (its token, its package)."""
    token, package_id = f"tok-{uuid4().hex}", uuid4()
    database = Database(database_urls["fulfilment"], pooled=False)
    try:
        async with database.transaction() as session:
            session.add(
                AwardedPackage(
                    package_id=package_id,
                    sku="bread-gift-box",
                    needed_by=utc_now() + timedelta(days=10),
                    currency="CNY",
                    firm_quantities={"ningbo": 2},
                    allocations=[],
                    reserves=[],
                    event_id=uuid4(),
                )
            )
            production_order = ProductionOrder(
                package_id=package_id,
                supplier_id=uuid4(),
                offer_id="offer",
                sku="bread-gift-box",
                region="ningbo",
                quantity=2,
                unit_cents=3000,
                shipping_cents=300,
                currency="CNY",
                due_by=utc_now() + timedelta(days=10),
                status=ProductionStatus.IN_PRODUCTION,
            )
            order = DeliveryOrder(
                id=uuid4(),
                package_id=package_id,
                token_sha256=token_hash(token),
                rank=1,
                region="ningbo",
                quantity=2,
                name="Wang Fang",
                phone="+8613800000000",
                address="12 Zhongshan Road",
            )
            session.add_all([production_order, order])
            await session.flush()
            session.add(
                Shipment(
                    package_id=package_id,
                    production_order_id=production_order.id,
                    order_id=order.id,
                    quantity=2,
                    status=ShipmentStatus.SHIPPED,
                    carrier="SF Express",
                    tracking_number="SF1234567890",
                    shipped_at=utc_now(),
                )
            )
        yield token, package_id
    finally:
        await database.dispose()


async def open_cases(database_urls: dict[str, str], package_id: UUID) -> list[AfterSalesCase]:
    database = Database(database_urls["fulfilment"], pooled=False)
    try:
        async with database.transaction() as session:
            return list(
                (await session.exec(select(AfterSalesCase).where(AfterSalesCase.package_id == package_id))).all()
            )
    finally:
        await database.dispose()


async def test_a_buyer_sees_the_parcel_and_a_report_sent_twice_opens_one_case_that_staff_refund(
    anonymous: httpx.AsyncClient,
    browser: httpx.AsyncClient,
    staff_email: str,
    delivered_order: tuple[str, UUID],
    database_urls: dict[str, str],
):
    token, package_id = delivered_order
    page = await anonymous.get(f"/delivery/{token}")
    assert page.status_code == 200
    assert "SF1234567890" in page.text and "Shipped" in page.text
    assert page.headers["referrer-policy"] == "no-referrer"

    empty = await anonymous.post(f"/delivery/{token}/cases", data={"kind": "damaged", "description": " "})
    assert empty.status_code == 400
    assert "Please tell us what happened" in empty.text
    report = {"kind": "damaged", "description": "One loaf arrived crushed."}
    for _ in range(2):  # a double tap, or the form sent again from the browser's history
        sent = await anonymous.post(f"/delivery/{token}/cases", data=report)
        assert (sent.status_code, sent.headers["location"]) == (303, f"/delivery/{token}?case=opened")
    (case,) = await open_cases(database_urls, package_id)
    shown = await anonymous.get(f"/delivery/{token}?case=opened")
    assert "we have your report" in shown.text and "we are looking into it" in shown.text

    csrf = await logged_in(browser, staff_email)
    resolve = f"/board/cases/{case.id}/resolve"
    form = {"csrf_token": csrf, "package_id": str(package_id), "resolution": "refund"}
    assert (await browser.post(resolve, data=form | {"refund": "12.505"})).status_code == 303
    assert "at most two decimals" in (await browser.get(f"/board/packages/{package_id}")).text
    assert (await browser.post(resolve, data=form | {"refund": "12.50", "note": "sorry"})).status_code == 303
    (resolved,) = await open_cases(database_urls, package_id)
    assert (resolved.status, resolved.refund_cents, resolved.resolution_note) == ("resolved", 1250, "sorry")
    assert "resolved (refund)" in (await anonymous.get(f"/delivery/{token}")).text


async def test_a_take_over_that_found_no_backup_is_tried_again_from_the_board(
    operator: httpx.AsyncClient, as_key: KeyClient, browser: httpx.AsyncClient, staff_email: str, database_urls
):
    from tests.support.awarded import announce, awarded_package

    setup = await awarded_package(operator, reserve=5)  # too little for the 30 units ningbo's maker will not make
    await announce(database_urls["matching"], setup.event)
    package_page = f"/board/packages/{setup.package_id}"
    token = await logged_in(browser, staff_email)

    async def listed() -> list[dict[str, Any]] | None:
        found = await production_orders(as_key(setup.keys["north"]), str(setup.package_id))
        return found or None

    [north] = await eventually(listed)
    form = {"csrf_token": token, "package_id": str(setup.package_id), "reason": "flooded", "confirm": "yes"}
    assert (await browser.post(f"/board/production-orders/{north['id']}/fail", data=form)).status_code == 303

    async def no_backup() -> str | None:
        text = (await browser.get(package_page)).text
        return text if "Try the take-over again" in text else None

    page = await eventually(no_backup, timeout_seconds=30)
    failure_id = re.search(r'action="/board/failures/([0-9a-f-]+)/retry"', page)
    assert failure_id
    retry = await browser.post(
        f"/board/failures/{failure_id.group(1)}/retry", data={"csrf_token": token, "package_id": str(setup.package_id)}
    )
    assert retry.status_code == 303
    assert "being tried again" in (await browser.get(package_page)).text
