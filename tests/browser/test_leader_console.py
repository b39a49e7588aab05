"""A leader's first evening in headless Chromium on a phone, by clicking only: log in with the leader key, draft a
package with a photo, open the sign-up, two members sign up on their phones, adopt the totals, ask for quotes, match,
read the plan, and get the sale's link, announcement and QR poster. Screenshots go to build/screenshots/lead-*.png.
"""

import struct
import zlib
from datetime import UTC, datetime, timedelta
from pathlib import Path
from uuid import uuid4
from zoneinfo import ZoneInfo

import httpx
import pytest
from playwright.async_api import Browser, Page, expect

from tests.support.catalogue import create_supplier, offer_body
from tests.support.matching import register_community

pytestmark = [pytest.mark.browser, pytest.mark.slow]

PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True, "locale": "zh-CN"}
SCREENSHOTS = Path(__file__).resolve().parents[2] / "build" / "screenshots"
SHANGHAI = ZoneInfo("Asia/Shanghai")


def png(width: int, height: int, rgb: tuple[int, int, int]) -> bytes:
    """A plain-coloured PNG, made here: the photo a leader uploads."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    rows = b"".join(b"\x00" + bytes(rgb) * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


def local_input(moment: datetime) -> str:
    return moment.astimezone(SHANGHAI).strftime("%Y-%m-%dT%H:%M")


async def shot(page: Page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(SCREENSHOTS / f"lead-{name}.png"), full_page=True)


async def sign_up(browser: Browser, link: str, name: str, phone: str, region: str, quantity: int) -> None:
    context = await browser.new_context(**PHONE)
    try:
        page = await context.new_page()
        await page.goto(link)
        await page.get_by_label("姓名").fill(name)
        await page.get_by_label("手机号").fill(phone)
        await page.get_by_label("地区").select_option(label=region)
        await page.get_by_label("数量").fill(str(quantity))
        await page.get_by_role("button", name="接龙报名").click()
        await expect(page.locator("#message")).to_contain_text("报名成功")
        await shot(page, f"signup-{phone[-2:]}")
    finally:
        await context.close()


async def test_a_leader_runs_an_evening_from_the_console(
    stack: str, operator: httpx.AsyncClient, browser: Browser, tmp_path: Path
):
    sku = f"gift-{uuid4().hex[:8]}"
    supplier_name = f"甬江面包坊 {uuid4().hex[:4]}"
    supplier = await create_supplier(operator, name=supplier_name, capacity=100_000)
    supplier_key = supplier["api_key"]["api_key"]
    async with httpx.AsyncClient(base_url=stack, headers={"authorization": f"Bearer {supplier_key}"}) as client:
        offer = await client.post(
            "/api/v1/offers", json=offer_body(sku=sku, moq=1, shipping_cents={"ningbo": 100, "shanghai": 120})
        )
        assert offer.status_code == 201, offer.text
    _, key = await register_community(operator)
    for code, name in (("ningbo", "宁波"), ("shanghai", "上海")):
        assert (await operator.put(f"/api/v1/regions/{code}", json={"name": name})).status_code == 200
    photo = tmp_path / "gift-box.png"
    photo.write_bytes(png(320, 200, (214, 160, 90)))
    now = datetime.now(UTC)

    context = await browser.new_context(**PHONE)
    try:
        page = await context.new_page()
        await page.goto(f"{stack}/lead")
        await expect(page.get_by_role("heading", name="团长登录")).to_be_visible()
        await shot(page, "login")
        await page.get_by_label("团长密钥").fill(key)
        await page.get_by_role("button", name="登录").click()

        await expect(page.get_by_role("heading", name="我的拼团")).to_be_visible()
        await page.get_by_role("link", name="新建拼团").click()
        await page.get_by_label("商品名称").fill("手工酸面包礼盒")
        await page.get_by_label("商品介绍").fill("两只 500 克酸面包，礼盒装，当天烘焙")
        await page.locator("#photo").set_input_files(str(photo))
        await page.get_by_label("商品编码（SKU）").fill(sku)
        await page.get_by_label("宁波").fill("10")
        await page.get_by_label("上海").fill("10")
        await page.locator("#needed_by").fill(local_input(now + timedelta(days=20)))
        await page.locator("#sale_opens_at").fill(local_input(now + timedelta(days=2)))
        await page.locator("#sale_closes_at").fill(local_input(now + timedelta(days=3)))
        await page.get_by_label("每份价格（元）").fill("59.90")
        await page.locator("#threshold_units").fill("3")
        await page.locator("#cap_units").fill("50")
        await shot(page, "draft")
        await page.get_by_role("button", name="保存草稿").click()

        await expect(page.locator("#flash")).to_contain_text("拼团草稿已保存")
        await expect(page.locator("#status")).to_have_text("草稿")
        await expect(page.locator("#photo")).to_be_visible()
        await page.locator("#per_person_max").fill("3")
        await page.get_by_role("button", name="发起接龙").click()
        await expect(page.locator("#signup-text")).to_contain_text("【接龙】手工酸面包礼盒")
        link = await page.locator("#signup-link").inner_text()
        await shot(page, "signup-open")

        await sign_up(browser, link, "王芳", "13900000010", "宁波", 2)
        await sign_up(browser, link, "陈静", "+86 139 0000 0011", "上海", 3)

        await page.reload()
        await expect(page.locator("#signup-totals")).to_contain_text("宁波: 2")
        await page.get_by_role("button", name="结束接龙并采用合计数量").click()
        await expect(page.locator("#flash")).to_contain_text("各地区合计已作为拼团数量")
        await expect(page.locator("#summary")).to_contain_text("上海 3")

        await page.get_by_role("button", name="向供应商询价").click()
        await expect(page.locator("#status")).to_have_text("正在向供应商询价")
        await expect(page.locator("#rfqs")).to_contain_text(supplier_name)  # the page reloads itself until then
        await shot(page, "sourcing")

        await page.get_by_role("button", name="立即匹配").click()
        await expect(page.locator("#run-status")).to_have_text("已找到方案")
        await expect(page.locator("#plan-lines")).to_contain_text(supplier_name)
        await expect(page.locator("#plan-lines")).to_contain_text("宁波")
        await expect(page.locator("#landed")).to_contain_text("¥")
        await expect(page.locator("#status")).to_have_text("方案已定，等待开售")
        await expect(page.locator("#sale-schedule")).to_contain_text("自动开抢")
        await page.locator("#plan").scroll_into_view_if_needed()
        await shot(page, "plan")

        sale_link = await page.locator("#sale-link").inner_text()
        assert sale_link.endswith("/sale/" + page.url.rsplit("/", 1)[1].split("#")[0])
        await expect(page.locator("#sale-text")).to_contain_text("【团购】手工酸面包礼盒，每份 ¥59.90")
        await page.get_by_role("link", name="带二维码的海报").click()
        await expect(page.locator("#qr")).to_be_visible()
        assert await page.locator("#qr").evaluate("image => image.naturalWidth") > 0
        await expect(page.locator("#poster")).to_contain_text("¥59.90")
        await shot(page, "poster")

        await page.get_by_role("link", name="团长后台").click()
        await page.get_by_label("标题").fill("周五面包集市")
        await page.get_by_role("button", name="安排集市之夜").click()
        await expect(page.locator("#flash")).to_contain_text("集市之夜已安排")
        await shot(page, "packages")
    finally:
        await context.close()
