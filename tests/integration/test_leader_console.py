"""The leader console (/lead) and the members' sign-up page (/signup/{token}) on the real app: the session, its
CSRF token, a draft with a photo, and members' entries reaching the package through the same use cases as the API."""

import re
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import uuid4
from zoneinfo import ZoneInfo

import httpx
import pytest

from tests.integration.test_match_runs import finished_run
from tests.support import sales
from tests.support.bills import YUAN_GBK, wechat_bill
from tests.support.catalogue import create_supplier, offer_body
from tests.support.matching import create_package, register_community
from tests.support.waiting import eventually

SHANGHAI = ZoneInfo("Asia/Shanghai")
# The smallest PNG: its signature is what the service checks.
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"
)


def csrf(page: httpx.Response) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert found, page.text
    return found.group(1)


def local_input(moment: datetime) -> str:
    return moment.astimezone(SHANGHAI).strftime("%Y-%m-%dT%H:%M")


@pytest.fixture
async def browser_like(app: Any) -> AsyncIterator[Callable[[], httpx.AsyncClient]]:
    """Clients that keep cookies, as a phone's browser does (no bearer token)."""
    clients: list[httpx.AsyncClient] = []

    def make() -> httpx.AsyncClient:
        client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://flexsupply.test")
        clients.append(client)
        return client

    yield make
    for client in clients:
        await client.aclose()


async def logged_in(client: httpx.AsyncClient, key: str) -> str:
    """Log in with the leader key; the session's CSRF token for the next forms."""
    page = await client.get("/lead/login")
    answer = await client.post("/lead/login", data={"csrf_token": csrf(page), "key": key})
    assert answer.status_code == 303 and answer.headers["location"] == "/lead", answer.text
    cookie = answer.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie and "path=/lead" in cookie
    return csrf(await client.get("/lead"))


def draft_form(token: str, **changes: str) -> dict[str, str]:
    now = datetime.now(UTC)
    form = {
        "csrf_token": token,
        "display_name": "手工酸面包礼盒",
        "description": "两只 500 克酸面包，礼盒装",
        "sku": "bread-gift-box",
        "quantity_ningbo": "20",
        "quantity_shanghai": "",
        "needed_by": local_input(now + timedelta(days=20)),
        "min_quality": "80",
        "backups": "0",
        "sale_opens_at": local_input(now + timedelta(days=5)),
        "sale_closes_at": local_input(now + timedelta(days=6)),
        "price_yuan": "59.90",
        "threshold_units": "10",
        "cap_units": "100",
        "per_buyer_limit": "5",
    }
    return form | changes


async def test_a_page_of_the_console_asks_for_the_login_first(browser_like: Callable[[], httpx.AsyncClient]):
    client = browser_like()
    answer = await client.get("/lead")
    assert answer.status_code == 303 and answer.headers["location"] == "/lead/login"
    page = await client.get("/lead/login")
    assert page.status_code == 200
    assert 'lang="zh-CN"' in page.text and "团长登录" in page.text


async def test_a_wrong_key_is_refused_and_the_right_one_logs_in(
    operator: httpx.AsyncClient, browser_like: Callable[[], httpx.AsyncClient]
):
    community, key = await register_community(operator)
    client = browser_like()
    page = await client.get("/lead/login")
    wrong = await client.post("/lead/login", data={"csrf_token": csrf(page), "key": key[:-2] + "xx"})
    assert wrong.status_code == 401
    assert "团长密钥无效" in wrong.text
    await logged_in(client, key)
    home = await client.get("/lead")
    assert home.status_code == 200 and community["name"] in home.text
    logout = await client.post("/lead/logout", data={"csrf_token": csrf(home)})
    assert logout.status_code == 303
    assert (await client.get("/lead")).headers["location"] == "/lead/login"


async def test_a_form_without_the_session_csrf_token_is_refused(
    operator: httpx.AsyncClient, browser_like: Callable[[], httpx.AsyncClient], as_key: Callable[[str], Any]
):
    _, key = await register_community(operator)
    client = browser_like()
    token = await logged_in(client, key)
    for sent in ({}, {"csrf_token": "not-the-session-token"}):
        refused = await client.post(
            "/lead/packages", data=draft_form(token) | sent | {"csrf_token": sent.get("csrf_token", "")}
        )
        assert refused.status_code == 403
    assert (await as_key(key).get("/api/v1/packages")).json() == []


async def test_a_draft_with_a_photo_is_the_api_s_package_in_cents_and_utc(
    operator: httpx.AsyncClient, browser_like: Callable[[], httpx.AsyncClient], as_key: Callable[[str], Any]
):
    _, key = await register_community(operator)
    client = browser_like()
    token = await logged_in(client, key)
    form = draft_form(token)
    answer = await client.post("/lead/packages", data=form, files={"photo": ("bread.png", PNG, "image/png")})
    assert answer.status_code == 303, answer.text
    package_id = answer.headers["location"].rsplit("/", 1)[1]
    package = (await as_key(key).get(f"/api/v1/packages/{package_id}")).json()
    assert package["display_name"] == "手工酸面包礼盒" and package["title"] == "手工酸面包礼盒"
    assert package["sale_price_cents"] == 5990
    assert package["quantities"] == {"ningbo": 20}
    opens = datetime.fromisoformat(package["sale_opens_at"])
    assert opens.utcoffset() == timedelta(0)
    assert local_input(opens) == form["sale_opens_at"]
    photo = await client.get(package["photo_url"])
    assert photo.status_code == 200 and photo.content == PNG
    assert photo.headers["content-type"] == "image/png"
    sale = (await client.get(f"/api/v1/sales/{package_id}")).json()
    assert sale["photo_url"] == package["photo_url"] and sale["description"] == "两只 500 克酸面包，礼盒装"
    page = await client.get(f"/lead/packages/{package_id}")
    assert "草稿" in page.text and package["photo_url"] in page.text


async def test_a_file_that_is_not_an_image_is_refused_naming_the_photo(
    operator: httpx.AsyncClient, browser_like: Callable[[], httpx.AsyncClient], as_key: Callable[[str], Any]
):
    _, key = await register_community(operator)
    client = browser_like()
    token = await logged_in(client, key)
    answer = await client.post(
        "/lead/packages", data=draft_form(token), files={"photo": ("bread.png", b"<svg></svg>", "image/png")}
    )
    assert answer.status_code == 400
    assert "照片" in answer.text
    assert 'value="手工酸面包礼盒"' in answer.text  # what was typed is kept
    assert (await as_key(key).get("/api/v1/packages")).json() == []
    api = await as_key(key).post(
        "/api/v1/packages/00000000-0000-0000-0000-000000000000/photo", files={"photo": ("x", b"GIF89a", "image/gif")}
    )
    assert api.status_code == 400 and "photo" in api.text


async def test_members_sign_up_on_the_page_and_the_leader_adopts_the_totals(
    operator: httpx.AsyncClient, browser_like: Callable[[], httpx.AsyncClient], as_key: Callable[[str], Any]
):
    _, key = await register_community(operator)
    assert (await operator.put("/api/v1/regions/ningbo", json={"name": "宁波"})).status_code == 200
    leader = browser_like()
    token = await logged_in(leader, key)
    drafted = await leader.post("/lead/packages", data=draft_form(token, quantity_shanghai="5"))
    package_page = drafted.headers["location"]
    opened = await leader.post(f"{package_page}/signup", data={"csrf_token": token, "per_person_max": "3"})
    assert opened.status_code == 303
    page = await leader.get(package_page)
    link = re.search(r'id="signup-link">http://flexsupply.test(/signup/[^<]+)<', page.text)
    assert link, page.text
    assert "接龙" in page.text  # the announcement to paste

    member = browser_like()
    invitation = await member.get(link.group(1))
    assert invitation.status_code == 200 and "手工酸面包礼盒" in invitation.text and "宁波" in invitation.text
    first = await member.post(
        link.group(1), data={"name": "王芳", "phone": "+86 139 0000 0010", "region": "ningbo", "quantity": "2"}
    )
    assert first.status_code == 201 and "报名成功" in first.text
    again = await member.post(
        link.group(1), data={"name": "王芳", "phone": "13900000010", "region": "ningbo", "quantity": "3"}
    )
    assert again.status_code == 200 and "已修改" in again.text
    other = await browser_like().post(
        link.group(1), data={"name": "陈静", "phone": "13900000011", "region": "shanghai", "quantity": "1"}
    )
    assert other.status_code == 201
    too_many = await member.post(
        link.group(1), data={"name": "李伟", "phone": "13900000012", "region": "ningbo", "quantity": "4"}
    )
    assert too_many.status_code == 400 and 'value="李伟"' in too_many.text

    package_id = package_page.rsplit("/", 1)[1]
    signup = (await as_key(key).get(f"/api/v1/packages/{package_id}/signup")).json()
    assert signup["totals"] == {"ningbo": 3, "shanghai": 1}
    adopted = await leader.post(f"{package_page}/signup/adopt", data={"csrf_token": token})
    assert adopted.status_code == 303
    package = (await as_key(key).get(f"/api/v1/packages/{package_id}")).json()
    assert package["quantities"] == {"ningbo": 3, "shanghai": 1}
    assert "宁波" in (await leader.get(package_page)).text


async def test_an_evening_from_quotes_to_the_close_on_the_console(
    operator: httpx.AsyncClient, browser_like: Callable[[], httpx.AsyncClient], as_key: Callable[[str], Any]
):
    """Sourcing, the plan by supplier name, the sale link and QR, orders, a statement and the close: the pages call
    the API's use cases, and the API sees what they did."""
    sku = f"console-{uuid4().hex[:8]}"
    supplier = await create_supplier(operator, name="甬江面包坊")
    offer = await as_key(supplier["api_key"]["api_key"]).post(
        "/api/v1/offers", json=offer_body(sku=sku, moq=1, shipping_cents={"ningbo": 100, "shanghai": 100})
    )
    assert offer.status_code == 201, offer.text
    _, key = await register_community(operator)
    leader = browser_like()
    token = await logged_in(leader, key)
    now = datetime.now(UTC)
    # The sale window is open already: once planned, the sale opens with the first look at it.
    form = draft_form(token, sku=sku, sale_opens_at=local_input(now - timedelta(minutes=2)), threshold_units="1")
    package_page = (await leader.post("/lead/packages", data=form)).headers["location"]
    package_id = package_page.rsplit("/", 1)[1]
    sourcing = await leader.post(
        f"{package_page}/sourcing", data={"csrf_token": token, "reply_by": local_input(now + timedelta(days=1))}
    )
    assert sourcing.status_code == 303
    page = await leader.get(package_page)
    assert "正在向供应商询价" in page.text

    async def asked() -> str | None:
        text = (await leader.get(package_page)).text
        return text if "甬江面包坊" in text else None

    await eventually(asked)
    matched = await leader.post(f"{package_page}/match", data={"csrf_token": token})
    assert matched.status_code == 303

    async def planned() -> str | None:
        text = (await leader.get(package_page)).text
        return text if "已找到方案" in text and 'id="landed"' in text else None

    plan_page = await eventually(planned, timeout_seconds=60)
    plan = (await as_key(key).get(f"/api/v1/packages/{package_id}/plan")).json()
    assert "甬江面包坊" in plan_page.split('id="plan"')[1]
    assert f"¥{plan['landed_unit_cents'] // 100}.{plan['landed_unit_cents'] % 100:02d}" in plan_page
    assert 'id="saving"' in plan_page
    assert f"/sale/{package_id}" in plan_page

    home = await leader.get("/lead")
    assert 'id="market"' in home.text
    market = await leader.post(
        "/lead/markets",
        data={
            "csrf_token": token,
            "title": "周五集市",
            "package_ids": package_id,
            "starts_at": local_input(now - timedelta(minutes=3)),
            "ends_at": local_input(now + timedelta(days=7)),
        },
    )
    assert market.status_code == 303
    scheduled = re.search(
        r"集市之夜已安排：http://flexsupply.test(/market/[0-9a-f-]+)", (await leader.get("/lead")).text
    )
    assert scheduled, "no market link"
    assert (await leader.get(scheduled.group(1))).status_code == 200

    poster = await leader.get(f"{package_page}/poster")
    assert poster.status_code == 200 and "¥59.90" in poster.text and "扫码下单" in poster.text
    qr = await leader.get(f"{package_page}/qr.svg")
    assert qr.headers["content-type"].startswith("image/svg+xml") and b"<svg" in qr.content

    placed = await sales.order(leader, package_id, name="王芳")
    assert placed.status_code == 201, placed.text
    reference = placed.json()["payment_reference"]
    amount = f"{YUAN_GBK}{placed.json()['amount_cents'] / 100:.2f}"
    # A WeChat Pay bill as its export is: GBK, Chinese headers, the reference in the memo.
    bill = wechat_bill(
        [("收入", amount, "已存入零钱", reference), ("收入", f"{YUAN_GBK}1.00", "已存入零钱", "谢谢团长")]
    )
    report = await leader.post(
        f"{package_page}/statement",
        data={"csrf_token": token},
        files={"statement": ("微信支付账单.csv", bill.encode("gbk"), "text/csv")},
    )
    assert report.status_code == 200, report.text
    assert "本次到账：1" in report.text and "谢谢团长" in report.text.split('id="unmatched"')[1]
    assert (await as_key(key).get(f"/api/v1/packages/{package_id}/orders")).json()[0]["status"] == "paid"

    closed = await leader.post(f"{package_page}/close", data={"csrf_token": token, "reason": "够数了"})
    assert closed.status_code == 303
    after = await leader.get(package_page)
    assert "抢购已结束：成团。" in after.text
    assert (await as_key(key).get(f"/api/v1/packages/{package_id}")).json()["status"] in {"closed", "awarded"}

    async def awarded() -> str | None:
        text = (await leader.get(package_page)).text
        return text.split('id="awards"')[1] if 'id="awards"' in text else None

    award = await eventually(awarded, timeout_seconds=60)
    assert "甬江面包坊" in award and "已下单，等待供应商答复" in award


async def test_logins_are_throttled_after_ten_failures_from_one_address(
    operator: httpx.AsyncClient, browser_like: Callable[[], httpx.AsyncClient]
):
    _, key = await register_community(operator)
    client = browser_like()
    token = csrf(await client.get("/lead/login"))
    for _ in range(10):
        wrong = await client.post("/lead/login", data={"csrf_token": token, "key": "flk_wrong_key"})
        assert wrong.status_code == 401
    refused = await client.post("/lead/login", data={"csrf_token": token, "key": key})
    assert refused.status_code == 429 and "登录失败次数过多" in refused.text


async def test_a_photo_uploaded_through_the_api_replaces_the_last_one_at_a_new_url(
    operator: httpx.AsyncClient,
    anonymous: httpx.AsyncClient,
    as_key: Callable[[str], Any],
    browser_like: Callable[[], httpx.AsyncClient],
):
    _, key = await register_community(operator)
    leader = as_key(key)
    package = await create_package(leader, display_name="酸面包", description="当天烘焙")
    assert (package["display_name"], package["description"], package["photo_url"]) == ("酸面包", "当天烘焙", None)
    first = await leader.post(f"/api/v1/packages/{package['id']}/photo", files={"photo": ("a.png", PNG, "image/png")})
    assert first.status_code == 200, first.text
    webp = b"RIFF\x24\x00\x00\x00WEBPVP8 " + b"\x00" * 32
    second = await leader.post(f"/api/v1/packages/{package['id']}/photo", files={"photo": ("b", webp, "image/png")})
    assert second.status_code == 200, second.text
    old_url, new_url = first.json()["photo_url"], second.json()["photo_url"]
    assert old_url != new_url
    assert (await anonymous.get(old_url)).status_code == 404
    served = await anonymous.get(new_url)
    assert served.content == webp and served.headers["content-type"] == "image/webp"  # the bytes say, not the upload
    _, other_key = await register_community(operator)
    stranger = browser_like()
    await logged_in(stranger, other_key)
    for page in ("", "/poster"):
        hidden = await stranger.get(f"/lead/packages/{package['id']}{page}")
        assert hidden.status_code == 404 and "找不到" in hidden.text
    theirs = await as_key(other_key).post(
        f"/api/v1/packages/{package['id']}/photo", files={"photo": ("a.png", PNG, "image/png")}
    )
    assert theirs.status_code == 404
    changed = await leader.patch(f"/api/v1/packages/{package['id']}", json={"display_name": None})
    assert changed.status_code == 200 and changed.json()["display_name"] is None


async def test_the_console_speaks_english_when_asked(browser_like: Callable[[], httpx.AsyncClient]):
    client = browser_like()
    english = await client.get("/lead/login?lang=en")
    assert 'lang="en"' in english.text and "Group leader log in" in english.text
    assert "Group leader log in" in (await client.get("/lead/login")).text  # the choice is kept in a cookie
    chinese = await browser_like().get("/lead/login", headers={"accept-language": "en;q=0.5, zh-CN"})
    assert "团长登录" in chinese.text


async def test_a_sale_closed_below_its_threshold_owes_its_paid_buyer_who_is_paid_back_by_transfer(
    operator: httpx.AsyncClient, browser_like: Callable[[], httpx.AsyncClient], as_key: Callable[[str], Any]
):
    setup = await sales.planned_sale(operator, as_key, finished_run, opens_in_seconds=0, threshold_units=5)
    placed = await sales.order(setup.leader, setup.id, name="陈静")
    assert placed.status_code == 201, placed.text
    order = placed.json()
    leader = browser_like()
    token = await logged_in(leader, setup.leader.headers["authorization"].removeprefix("Bearer "))
    package_page = f"/lead/packages/{setup.id}"
    statement = f"amount,memo\n{order['amount_cents'] / 100:.2f},{order['payment_reference']}\n"
    paid = await leader.post(
        f"{package_page}/statement", data={"csrf_token": token}, files={"statement": ("s.csv", statement.encode())}
    )
    assert paid.status_code == 200 and "本次到账：1" in paid.text, paid.text
    closed = await leader.post(f"{package_page}/close", data={"csrf_token": token, "reason": "群里没人了"})
    assert closed.status_code == 303
    page = (await leader.get(package_page)).text
    assert "未达到成团数量，拼团取消" in page
    refunds = page.split('id="refunds"')[1]
    assert "陈静" in refunds and order["payment_reference"] in refunds and "待退款" in refunds
    # Paid by a transfer on the statement, so paid back by the leader's transfer.
    form = re.search(r'action="(/lead/packages/[^"]+/refunds/[^"]+/paid)"', refunds)
    assert form, refunds
    paid_back = await leader.post(form.group(1), data={"csrf_token": token, "reference": "WX20261208001"})
    assert paid_back.status_code == 303
    after = (await leader.get(package_page)).text
    assert "退款已记为已退" in after
    assert "已退款" in after.split('id="refunds"')[1] and "WX20261208001" in after


async def test_a_package_no_supplier_can_make_says_why_in_sentences(
    operator: httpx.AsyncClient, browser_like: Callable[[], httpx.AsyncClient]
):
    _, key = await register_community(operator)
    leader = browser_like()
    token = await logged_in(leader, key)
    now = datetime.now(UTC)
    package_page = (
        await leader.post("/lead/packages", data=draft_form(token, sku=f"nobody-makes-{uuid4().hex[:8]}"))
    ).headers["location"]
    await leader.post(
        f"{package_page}/sourcing", data={"csrf_token": token, "reply_by": local_input(now + timedelta(days=1))}
    )
    matched = await leader.post(f"{package_page}/match", data={"csrf_token": token})
    assert matched.status_code == 303

    async def infeasible() -> str | None:
        text = (await leader.get(package_page)).text
        return text if "无法找到方案" in text else None

    page = await eventually(infeasible, timeout_seconds=60)
    reasons = page.split('id="explanation"')[1].split("</ul>")[0]
    assert "no offer makes it" in reasons
    assert "没有任何供应商组合能按时" in page


async def test_a_revoked_leader_key_ends_its_console_sessions(
    operator: httpx.AsyncClient, browser_like: Callable[[], httpx.AsyncClient]
):
    community, key = await register_community(operator)
    client = browser_like()
    await logged_in(client, key)
    rotated = await operator.post(f"/api/v1/communities/{community['id']}/leader-keys", json={"revoke_existing": True})
    assert rotated.status_code == 201
    answer = await client.get("/lead")
    assert answer.status_code == 303 and answer.headers["location"] == "/lead/login"
    await logged_in(client, rotated.json()["api_key"])
