"""Rate limits and login lockouts, on the assembled app: 429 problem details with Retry-After, and no password
hashed for a locked account. Limits are set low here (the defaults leave ordinary use alone)."""

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any, cast
from uuid import uuid4

import httpx
import pytest

from flexsupply.fulfilment.staff import PASSWORD_CHECKS
from flexsupply.kit.ratelimit import Limit, Lockout, RateLimited, RateLimits
from flexsupply.kit.settings import KitSettings
from tests.integration.test_match_runs import finished_run
from tests.integration.test_staff_board import (  # noqa: F401 (fixtures)
    PASSWORD,
    csrf_token,
    delivered_order,
    staff_email,
)
from tests.support.sales import order, planned_sale

KeyClient = Callable[[str], httpx.AsyncClient]
REDIS_URL = "redis://127.0.0.1:6379/8"


@pytest.fixture(autouse=True)
def low_limits(monkeypatch: pytest.MonkeyPatch) -> None:
    """Before the app is made: its counters read the settings at its first request."""
    for name, value in {
        "FLEXSUPPLY_LOGIN_FAILURES_PER_ACCOUNT": "3",
        "FLEXSUPPLY_LOGIN_LOCK_SECONDS": "2",
        "FLEXSUPPLY_RATE_LIMIT_ORDERS_PER_PHONE": "3/minute",
        "FLEXSUPPLY_RATE_LIMIT_FAILED_AUTH_PER_ADDRESS": "4/minute",
        "FLEXSUPPLY_RATE_LIMIT_CASES_PER_ADDRESS": "2/minute",
    }.items():
        monkeypatch.setenv(name, value)


@pytest.fixture
async def browser(app: Any) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://flexsupply.test") as client:
        yield client


async def log_in(client: httpx.AsyncClient, email: str, password: str) -> httpx.Response:
    form = await client.get("/board/login")
    return await client.post(
        "/board/login", data={"email": email, "password": password, "csrf_token": csrf_token(form)}
    )


def assert_too_many(response: httpx.Response) -> int:
    assert response.status_code == 429, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["status"] == 429
    return int(response.headers["retry-after"])


async def test_wrong_passwords_lock_the_account_before_any_password_is_checked(
    browser: httpx.AsyncClient,
    staff_email: str,  # noqa: F811
):
    for _ in range(3):
        assert (await log_in(browser, staff_email, "not the password at all")).status_code == 401

    checked = PASSWORD_CHECKS["argon2"]
    for password in ("still not it", PASSWORD):  # locked: the right password is refused too
        locked = await log_in(browser, staff_email, password)
        assert 1 <= assert_too_many(locked) <= 2
        assert locked.json()["title"] == "尝试次数太多" and "秒后再试" in locked.json()["detail"]  # zh-CN by default
    assert PASSWORD_CHECKS["argon2"] == checked  # no argon2 work done for a locked account

    await asyncio.sleep(2.1)
    for _ in range(3):
        assert (await log_in(browser, staff_email, "wrong once more")).status_code == 401
    assert assert_too_many(await log_in(browser, staff_email, PASSWORD)) > 2  # the second lock lasts twice as long

    await asyncio.sleep(4.1)
    assert (await log_in(browser, staff_email, PASSWORD)).status_code == 303


async def test_an_order_flood_from_one_phone_is_refused_while_another_phone_orders(
    operator: httpx.AsyncClient, as_key: KeyClient, anonymous: httpx.AsyncClient
):
    sale = await planned_sale(operator, as_key, finished_run, opens_in_seconds=0, per_buyer_limit=10)
    phone = "13800000001"
    answers = [(await order(anonymous, sale.id, phone=phone)).status_code for _ in range(3)]
    assert answers == [201, 201, 201]

    assert_too_many(await order(anonymous, sale.id, phone=phone))
    page = await anonymous.post(
        f"/sale/{sale.id}",
        data={"quantity": "1", "region": "ningbo", "name": "Li", "phone": phone, "address": "8 Zhongshan Rd"},
    )
    assert page.status_code == 429  # the sale page's form counts against the same phone
    assert (await order(anonymous, sale.id, phone="13800000002")).status_code == 201


async def test_problem_reports_from_one_address_are_limited_on_the_page_and_the_api(
    anonymous: httpx.AsyncClient,
    delivered_order: tuple[str, Any],  # noqa: F811
):
    token, _ = delivered_order
    report = {"kind": "late", "description": "not here yet"}
    for _ in range(2):
        assert (await anonymous.post(f"/delivery/{token}/cases", data=report)).status_code == 303
    page = await anonymous.post(f"/delivery/{token}/cases", data=report)
    assert page.status_code == 429
    assert "秒后再试" in page.text and "not here yet" in page.text  # the page again (in Chinese), with what was typed
    assert_too_many(await anonymous.post(f"/api/v1/buyer-orders/{token}/cases", json=report))


async def test_guessing_keys_from_one_address_is_cut_off(app: Any, operator: httpx.AsyncClient):
    transport = httpx.ASGITransport(app=app, client=("203.0.113.7", 4000))
    async with httpx.AsyncClient(transport=transport, base_url="http://flexsupply.test") as guesser:
        for attempt in range(4):
            headers = {"authorization": f"Bearer fsk_{uuid4().hex}_guess{attempt}"}
            assert (await guesser.get("/api/v1/offers", headers=headers)).status_code == 401
        assert_too_many(await guesser.get("/api/v1/offers", headers={"authorization": "Bearer fsk_x_y"}))
    assert (await operator.get("/api/v1/regions")).status_code == 200  # others' calls go on


def redis_limits() -> RateLimits:
    return RateLimits.from_settings(KitSettings(rate_limit_url=REDIS_URL))


@pytest.fixture
async def two_processes() -> AsyncIterator[tuple[RateLimits, RateLimits]]:
    pair = (redis_limits(), redis_limits())
    if not await pair[0].storage.check():
        pytest.skip(f"no Redis at {REDIS_URL}")
    yield pair
    for limits in pair:  # limits gives no way to close its client: its redis-py connection, closed by hand
        await cast(Any, limits.storage).bridge.get_connection().aclose()


async def test_processes_sharing_redis_count_together(two_processes: tuple[RateLimits, RateLimits]):
    """Two processes' counters on one Redis (db 8): what one counted, the other refuses."""
    first, second = two_processes
    key, limit = uuid4().hex, Limit("test-redis", "tests", "2/minute")
    await first.hit(limit, key)
    await first.hit(limit, key)
    with pytest.raises(RateLimited):
        await second.hit(limit, key)

    lockout = Lockout("test-redis-login", "wrong passwords", failures=2, first_lock_seconds=5, max_lock_seconds=60)
    await first.failed(lockout, key)
    await second.failed(lockout, key)
    with pytest.raises(RateLimited) as locked:
        await first.check_lock(lockout, key)
    assert locked.value.headers is not None
    assert 4 <= int(locked.value.headers["Retry-After"]) <= 5
