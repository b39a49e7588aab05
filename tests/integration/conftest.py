"""One embedded app (all services and a worker) on real databases and a real broker, one event loop."""

import os
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.databases import SERVICES, fresh_databases
from tests.support.lifespan import running

OPERATOR_TOKEN = os.environ["FLEXSUPPLY_OPERATOR_TOKEN"]


@pytest.fixture(scope="session")
def database_urls(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    from flexsupply.cli.stack import load_service
    from flexsupply.kit.migrations import upgrade

    data_dir: Path = tmp_path_factory.mktemp("data")
    with fresh_databases(os.environ.get("FLEXSUPPLY_TEST_POSTGRES_URL"), data_dir) as urls:
        saved = dict(os.environ)
        os.environ["FLEXSUPPLY_DATA_DIR"] = str(data_dir)
        for service, url in urls.items():
            os.environ[f"FLEXSUPPLY_{service.upper()}_DATABASE_URL"] = url
        for service in SERVICES:
            loaded = load_service(service)
            upgrade(loaded.migrations, loaded.database_url)
        yield urls
        os.environ.clear()
        os.environ.update(saved)


@pytest.fixture(scope="package")
def worker(database_urls: dict[str, str]) -> Iterator[Any]:
    """One worker for these tests (dramatiq workers add middleware to the broker that outlives them). It stops with
    this package: on a real broker it would otherwise compete for the e2e tests' messages."""
    from flexsupply.cli.stack import start_worker

    started = start_worker(threads=4)
    yield started
    # Bounded: a message still being handled must not keep the consumers (stopped after the workers) fetching the
    # e2e tests' messages from a real broker.
    started.stop(timeout=60_000)


@pytest.fixture
async def app(database_urls: dict[str, str], worker: Any) -> AsyncIterator[Any]:
    from flexsupply.cli.stack import embedded_app, load_service
    from flexsupply.kit.settings import KitSettings

    application = embedded_app([load_service(name) for name in SERVICES], KitSettings(), worker_threads=None)
    async with running(application):
        yield application


@pytest.fixture
async def anonymous(app: Any) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://flexsupply.test") as client:
        yield client


@pytest.fixture
async def operator(app: Any) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app),
        base_url="http://flexsupply.test",
        headers={"authorization": f"Bearer {OPERATOR_TOKEN}"},
    ) as client:
        yield client


@pytest.fixture
async def as_key(app: Any) -> AsyncIterator[Callable[[str], httpx.AsyncClient]]:
    """Clients carrying a supplier's API key."""
    clients: list[httpx.AsyncClient] = []

    def make(api_key: str) -> httpx.AsyncClient:
        client = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app),
            base_url="http://flexsupply.test",
            headers={"authorization": f"Bearer {api_key}"},
        )
        clients.append(client)
        return client

    yield make
    for client in clients:
        await client.aclose()
