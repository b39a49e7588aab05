"""Health, docs and errors of the assembled stack."""

import re

import httpx

from tests.support.lifespan import running


async def test_health_names_each_service_its_database_and_the_broker(anonymous: httpx.AsyncClient):
    response = await anonymous.get("/health")

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "up" and body["broker"] == "up"
    assert body["services"] == {name: {"database": "up"} for name in ("suppliers", "matching", "fulfilment")}


async def test_the_docs_list_the_supplier_endpoints(anonymous: httpx.AsyncClient):
    schema = (await anonymous.get("/docs/openapi.json")).json()
    for path in (
        "/api/v1/suppliers",
        "/api/v1/offers",
        "/api/v1/offers/{offer_id}",
        "/api/v1/eligible-offers",
    ):
        assert path in schema["paths"], sorted(schema["paths"])
    assert "bearer" in schema["components"]["securitySchemes"]


async def test_the_docs_page_loads_nothing_from_the_internet(anonymous: httpx.AsyncClient):
    page = await anonymous.get("/docs")
    assert page.status_code == 200
    assets = re.findall(r"""(?:src|href)=["']([^"']+)["']""", page.text)
    assert assets and all(asset.startswith("/docs-assets/") for asset in assets), assets
    for asset in assets:
        assert (await anonymous.get(asset)).status_code == 200


async def test_an_unknown_route_is_a_problem_details_404(anonymous: httpx.AsyncClient):
    response = await anonymous.get("/api/v1/nothing-here")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("application/problem+json")


async def test_the_suite_runs_on_the_servers_it_was_given(database_urls: dict[str, str]):
    """Guards the CI runs on PostgreSQL, RabbitMQ and Redis against a silent fall-back to the embedded stack."""
    import os

    from flexsupply.kit.broker import broker

    expected_database = "postgresql" if os.environ.get("FLEXSUPPLY_TEST_POSTGRES_URL") else "sqlite"
    assert all(url.startswith(expected_database) for url in database_urls.values())
    expected_broker = {"stub": "StubBroker", "amqp": "RabbitmqBroker", "redis": "RedisBroker"}[
        os.environ["FLEXSUPPLY_BROKER_URL"].split(":", 1)[0]
    ]
    assert type(broker).__name__ == expected_broker


async def test_health_is_503_naming_the_database_that_is_down(database_urls: dict[str, str]):
    from flexsupply.suppliers.app import DESCRIPTION
    from flexsupply.suppliers.settings import SuppliersSettings

    unreachable = "postgresql+asyncpg://nobody@127.0.0.1:9/nothing"
    app = DESCRIPTION.app(SuppliersSettings(FLEXSUPPLY_SUPPLIERS_DATABASE_URL=unreachable))  # type: ignore[call-arg]
    async with (
        running(app),
        # httpx types the ASGI app narrower than litestar's (it is one at run time).
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client,  # pyright: ignore[reportArgumentType]
    ):
        response = await client.get("/health")

    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "down"
    assert body["services"]["suppliers"]["database"].startswith("down")
