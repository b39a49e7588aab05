"""The staff's board and the buyer's delivery page through HTTP, as a browser sends forms: logging in and out, the
board closed without a session, forms refused without their CSRF token, and the pages' answers for what is not
there."""

import re
from collections.abc import AsyncIterator
from typing import Any
from uuid import uuid4

import httpx
import pytest

from flexsupply.fulfilment.staff import create_account
from flexsupply.kit.db import Database

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
