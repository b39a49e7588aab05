"""The typed clients other services use: against the real app, and against a flaky real HTTP server."""

import time
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from flexsupply.clients.suppliers import SuppliersClient
from tests.integration.conftest import OPERATOR_TOKEN
from tests.support.catalogue import create_supplier, offer_body
from tests.support.fake_supplier import fake_supplier_server


async def test_eligible_offers_come_back_typed(app: Any, operator: httpx.AsyncClient):
    created = await create_supplier(operator, capacity=700)
    key = created["api_key"]["api_key"]
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://t", headers={"authorization": f"Bearer {key}"}
    ) as supplier:
        offer = (await supplier.post("/api/v1/offers", json=offer_body(sku="client-sku"))).json()

    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app),
        base_url="http://t",
        headers={"authorization": f"Bearer {OPERATOR_TOKEN}"},
    ) as http:
        found = await SuppliersClient(http).eligible_offers(
            sku="client-sku", needed_by=datetime.now(UTC) + timedelta(days=10), regions=["shanghai"]
        )

    assert offer["id"] in {str(o.id) for o in found.offers}
    ours = next(o for o in found.offers if str(o.id) == offer["id"])
    assert ours.price_tiers[1].unit_cents == 3500 and ours.shipping_cents == {"ningbo": 300, "shanghai": 600}


async def test_transient_failures_are_retried_honouring_retry_after():
    with fake_supplier_server() as upstream:
        upstream.answers = [(503, {}), (429, {"retry-after": "1"})]
        upstream.body = b'{"suppliers": [], "offers": []}'
        async with httpx.AsyncClient(base_url=upstream.url.removesuffix("/webhooks")) as http:
            started = time.monotonic()
            found = await SuppliersClient(http, wait_initial_seconds=0.01).eligible_offers(
                sku="x", needed_by=datetime.now(UTC)
            )
            elapsed = time.monotonic() - started

    assert found.offers == [] and len(upstream.received) == 3
    assert elapsed >= 1.0  # waited as the 429 asked


async def test_a_client_error_is_not_retried():
    with fake_supplier_server() as upstream:
        upstream.answers = [(400, {})]
        async with httpx.AsyncClient(base_url=upstream.url.removesuffix("/webhooks")) as http:
            with pytest.raises(httpx.HTTPStatusError):
                await SuppliersClient(http, wait_initial_seconds=0.01).eligible_offers(
                    sku="x", needed_by=datetime.now(UTC)
                )
    assert len(upstream.received) == 1
