"""The interactive API docs render in a browser with no internet: Swagger UI 5 (served by the app itself) reads the
OpenAPI 3.1 document and lists the operations; 4.x showed only an error for 3.1."""

import pytest
from playwright.async_api import Browser, expect

from tests.browser.conftest import screenshot

pytestmark = [pytest.mark.browser, pytest.mark.slow]


async def test_the_docs_page_lists_the_operations_without_the_internet(stack: str, browser: Browser):
    context = await browser.new_context(viewport={"width": 1280, "height": 900})
    try:
        page = await context.new_page()
        outside: list[str] = []
        page.on("request", lambda request: None if request.url.startswith(stack) else outside.append(request.url))
        await page.goto(f"{stack}/docs")
        await expect(page.locator(".swagger-ui .info .title")).to_contain_text("flexsupply")
        operation = page.locator(".opblock-summary-path", has_text="/api/v1/sales/{package_id}/orders")
        await expect(operation.first).to_be_visible()
        await expect(page.locator(".swagger-ui .errors-wrapper")).to_have_count(0)
        assert outside == []
        await screenshot(page, "docs")
    finally:
        await context.close()
