"""The staff's board in headless Chromium, on a phone in Chinese: a member of staff made with `flexsupply staff
add` logs in, finds a package in production, sees its batch, marks its maker failed on the page, and watches the
backup take the units over (the take-over job finishing, a backup production order on the board, suppliers by
name); then logs out."""

import os
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path
from uuid import uuid4

import httpx
import pytest
from playwright.async_api import Browser, expect

from tests.browser.conftest import OPERATOR_TOKEN, PHONE, assert_chinese_page, screenshot
from tests.support.fulfilment import KeyClient, in_production, production_orders

pytestmark = [pytest.mark.browser, pytest.mark.slow]

PASSWORD = "staff board passphrase"
# What the board said in English before it was Chinese.
FORMER_ENGLISH = ["Awarded packages", "Needed by", "Units", "Supplier", "Region", "Status", "Batches", "Log out", "UTC"]


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


def add_staff(stack_folder: Path, email: str) -> None:
    """As an operator adds a colleague, with the stack running: the command line, on the stack's data folder."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("FLEXSUPPLY_")}
    env |= {
        "FLEXSUPPLY_DATA_DIR": str(stack_folder / "data"),
        "FLEXSUPPLY_OPERATOR_TOKEN": OPERATOR_TOKEN,
        "FLEXSUPPLY_STAFF_PASSWORD": PASSWORD,
    }
    done = subprocess.run(
        ["flexsupply", "staff", "add", email, "--name", "Zhou Min"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr


async def test_staff_log_in_see_the_batches_and_a_failure_marked_on_the_board_activates_the_backup(
    stack: str, stack_folder: Path, operator: httpx.AsyncClient, as_key: KeyClient, browser: Browser
):
    email = f"desk-{uuid4().hex[:6]}@example.com"
    add_staff(stack_folder, email)
    setup = await in_production(operator, as_key, units=20, batch_units=8)
    order = setup.production_order

    sale = await operator.get(f"/api/v1/sales/{setup.package_id}")
    item_name = sale.json()["title"] if sale.status_code == 200 else setup.sku
    maker_name = (await operator.get(f"/api/v1/suppliers/{setup.maker_id}")).json()["name"]
    backup_name = (await operator.get(f"/api/v1/suppliers/{setup.backup_id}")).json()["name"]
    context = await browser.new_context(**PHONE)  # on the go: the board works on a phone too
    try:
        page = await context.new_page()
        await page.goto(f"{stack}/board")
        await expect(page.get_by_role("heading", name="员工登录")).to_be_visible()
        await page.get_by_label("邮箱").fill(email)
        await page.get_by_label("密码").fill("not the passphrase")
        await page.get_by_role("button", name="登录").click()
        await expect(page.locator("#message")).to_have_text("邮箱或密码错误。")
        await page.get_by_label("密码").fill(PASSWORD)
        await page.get_by_role("button", name="登录").click()
        await expect(page.get_by_role("heading", name="已定标的团购包")).to_be_visible()
        await assert_chinese_page(page, FORMER_ENGLISH)
        await screenshot(page, "board-packages")

        # The package is named as its buyers know it (matching's title), its sku beside it.
        await page.locator(f'a[href="/board/packages/{setup.package_id}"]').click()
        await expect(page.get_by_role("heading", name=item_name, exact=True)).to_be_visible()
        await expect(page.locator(".facts")).to_contain_text(setup.sku)
        batches = page.locator("#batches")
        await expect(batches).to_contain_text(setup.batch["lot_number"])
        await expect(batches).to_contain_text("通过")
        row = page.locator(f"#po-{order['id']}")
        await expect(row).to_contain_text("生产中")
        await expect(row).to_contain_text(maker_name)  # by name, not a hex id
        await expect(page.locator("#time-zone")).to_contain_text("GMT+08:00")
        await assert_chinese_page(page, FORMER_ENGLISH)
        await screenshot(page, "board-package")

        await row.locator("summary").click()
        await row.get_by_label("原因").fill("the oven broke down")
        await row.get_by_role("checkbox").check()
        await row.locator("button[type=submit]").click()

        await expect(page.locator("#flash")).to_contain_text("已标记为失败：备选供应商正在接手 20 件。")
        await expect(page.locator(f"#po-{order['id']}")).to_contain_text("失败")
        # The page reloads itself while the take-over runs, until the job is done.
        failures = page.locator("#failures")
        await expect(failures).to_contain_text("the oven broke down")
        await expect(failures).to_contain_text("已完成")
        backup_row = page.locator("#production-orders tbody tr", has_text="备选")
        await expect(backup_row).to_contain_text(backup_name)
        await expect(backup_row).to_contain_text("20")
        await expect(page.locator("#exceptions")).to_contain_text("the oven broke down")

        await screenshot(page, "board-taken-over")
        await page.get_by_role("button", name="退出").click()
        await expect(page.get_by_role("heading", name="员工登录")).to_be_visible()
        await page.goto(f"{stack}/board/packages/{setup.package_id}")
        await expect(page.get_by_role("heading", name="员工登录")).to_be_visible()
    finally:
        await context.close()

    # What the page showed is what the service did: the backup makes the maker's 20 units.
    orders = await production_orders(operator, setup.package_id)
    backups = [o for o in orders if o["supplier_id"] == setup.backup_id]
    assert [o["quantity"] for o in backups] == [20]
    maker = next(o for o in orders if o["id"] == order["id"])
    assert (maker["status"], maker["failed_units"]) == ("failed", 20)
