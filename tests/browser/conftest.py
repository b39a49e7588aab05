"""The buyer's pages in a real browser: Debian's chromium driven by Playwright, against `flexsupply up` running as a
process on a loopback port, as a group runs it. A package reaches its sale through the sourcing loop's public API.

Without /usr/bin/chromium these tests are skipped on a developer's machine and fail in CI (CI=true), which installs
it (.ci/run).
"""

import os
import shutil
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.async_api import Browser, async_playwright, expect

from tests.support import sales
from tests.support.processes import free_port, processes, wait_until_healthy
from tests.support.sales import SaleSetup
from tests.support.waiting import eventually

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
OPERATOR_TOKEN = "browser-tests-operator-token"
# Generous: a loaded CI machine may be slow, and nothing here waits longer than its condition needs.
WAIT_SECONDS = 60
expect.set_options(timeout=WAIT_SECONDS * 1000)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "browser: drives Debian's chromium against the running stack")


@pytest.fixture(scope="session")
def chromium() -> str:
    if shutil.which(CHROMIUM) is None:
        message = f"{CHROMIUM} is missing: apt-get install chromium"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return CHROMIUM


@pytest.fixture(scope="module")
def stack_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where the module's stack keeps its logs, and its data in `data/` (for commands run beside it)."""
    return tmp_path_factory.mktemp("stack")


@pytest.fixture(scope="module")
def stack(stack_folder: Path) -> Iterator[str]:
    """`flexsupply up` (embedded: SQLite, in-process broker and worker) on a free loopback port; its base URL."""
    folder, port = stack_folder, free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("FLEXSUPPLY_")}
    env |= {
        "FLEXSUPPLY_DATA_DIR": str(folder / "data"),
        "FLEXSUPPLY_PORT": str(port),
        "FLEXSUPPLY_OPERATOR_TOKEN": OPERATOR_TOKEN,
    }
    base = f"http://127.0.0.1:{port}"
    with processes(folder) as running:
        running.start("up", ["flexsupply", "up"], env)
        wait_until_healthy(f"{base}/health", running)
        yield base


@pytest.fixture
async def operator(stack: str) -> AsyncIterator[httpx.AsyncClient]:
    headers = {"authorization": f"Bearer {OPERATOR_TOKEN}"}
    async with httpx.AsyncClient(base_url=stack, headers=headers, timeout=30) as client:
        yield client


@pytest.fixture
async def browser(chromium: str) -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            await launched.close()


PlannedSale = Callable[..., Awaitable[SaleSetup]]


@pytest.fixture
async def planned_sale(operator: httpx.AsyncClient) -> AsyncIterator[PlannedSale]:
    """Make packages planned through the sourcing loop (tests.support.sales.planned_sale) on the running stack."""
    clients: list[httpx.AsyncClient] = []

    def as_key(key: str) -> httpx.AsyncClient:
        client = httpx.AsyncClient(base_url=operator.base_url, headers={"authorization": f"Bearer {key}"}, timeout=30)
        clients.append(client)
        return client

    async def finished_run(client: httpx.AsyncClient, run_id: str) -> dict[str, Any]:
        async def finished() -> dict[str, Any] | None:
            run = (await client.get(f"/api/v1/match-runs/{run_id}")).json()
            return run if run["status"] in {"planned", "infeasible", "failed"} else None

        return await eventually(finished, WAIT_SECONDS, what=f"match run {run_id} finishes")

    async def make(**terms: Any) -> SaleSetup:
        return await sales.planned_sale(operator, as_key, finished_run, **terms)

    yield make
    for client in clients:
        await client.aclose()
