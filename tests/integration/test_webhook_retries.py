"""Webhooks are never lost: retried for a day, resent on request, and sent again soon after a worker dies."""

import asyncio
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

import httpx
import pytest

from flexsupply.kit.clock import utc_now
from flexsupply.kit.db import Database
from flexsupply.suppliers import services, webhooks
from flexsupply.suppliers.domain.webhook_retry import RetryPolicy
from flexsupply.suppliers.models import WebhookDelivery
from tests.integration.test_messaging import add_pending_delivery
from tests.support.catalogue import create_supplier
from tests.support.fake_supplier import FakeSupplier, fake_supplier_server
from tests.support.waiting import eventually

KeyClient = Callable[[str], httpx.AsyncClient]


async def deliveries_of(client: httpx.AsyncClient, path: str, status: str) -> list[dict[str, Any]] | None:
    deliveries = (await client.get(path)).json()
    return deliveries if deliveries and all(d["status"] == status for d in deliveries) else None


def webhook_ids(fake: FakeSupplier) -> list[str]:
    return [request.headers["webhook-id"] for request in fake.received]


def received(fake: FakeSupplier, count: int) -> Callable[[], Awaitable[bool]]:
    async def probe() -> bool:
        return len(fake.received) >= count

    return probe


async def test_an_endpoint_down_longer_than_five_attempts_still_gets_its_webhook_once(
    operator: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
):
    # Seven waits, compressed: the schedule's shape (attempts, then failed) with a test's patience.
    monkeypatch.setenv("FLEXSUPPLY_WEBHOOK_RETRY_SCHEDULE_SECONDS", "[0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1]")
    with fake_supplier_server() as fake:
        fake.answers = [(503, {})] * 6  # down for six attempts: the old sender gave up after five
        created = await create_supplier(operator, webhook_url=fake.url)
        path = f"/api/v1/suppliers/{created['supplier']['id']}/webhook-deliveries"
        [delivery] = await eventually(lambda: deliveries_of(operator, path, "delivered"), timeout_seconds=30)

    assert delivery["attempts"] == 7
    assert webhook_ids(fake) == [delivery["id"]] * 7  # one webhook-id, and one answered 200


async def test_a_failed_webhook_is_resent_by_its_supplier_and_by_an_operator(
    operator: httpx.AsyncClient, as_key: KeyClient, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv("FLEXSUPPLY_WEBHOOK_RETRY_SCHEDULE_SECONDS", "[0.1]")
    other = as_key((await create_supplier(operator))["api_key"]["api_key"])
    with fake_supplier_server() as fake:
        fake.answers = [(503, {})] * 2
        created = await create_supplier(operator, webhook_url=fake.url)
        supplier = as_key(created["api_key"]["api_key"])
        [failed] = await eventually(lambda: deliveries_of(supplier, "/api/v1/webhook-deliveries", "failed"))
        assert failed["payload"]["type"] == "supplier.registered"  # the inbox holds the notice itself
        resend = f"/api/v1/webhook-deliveries/{failed['id']}/resend"

        refused = await other.post(resend)
        assert refused.status_code == 404
        assert refused.headers["content-type"].startswith("application/problem+json")
        assert len(fake.received) == 2  # another supplier's resend sent nothing

        assert (await supplier.post(resend)).status_code == 202
        await eventually(lambda: deliveries_of(supplier, "/api/v1/webhook-deliveries", "delivered"))
        assert (await operator.post(resend)).status_code == 202
        await eventually(received(fake, 4))
        own_path = f"/api/v1/suppliers/{created['supplier']['id']}/webhook-deliveries"
        [delivered] = await eventually(lambda: deliveries_of(operator, own_path, "delivered"))

    assert webhook_ids(fake) == [failed["id"]] * 4  # two failures, the supplier's resend, the operator's
    assert delivered["attempts"] == 1


async def test_an_attempt_abandoned_by_a_killed_worker_is_sent_again_when_its_lease_ends(
    database_urls: dict[str, str],
):
    database = Database(database_urls["suppliers"], pooled=False)
    policy = RetryPolicy(schedule_seconds=(0.1,), call_timeout_seconds=0.5)
    grace = timedelta(seconds=60)  # the production sweeper's grace for messages still on their way
    try:
        with fake_supplier_server() as fake:
            fake.open_gate.clear()  # the endpoint holds the call: the worker dies in the middle of it
            delivery_id = await add_pending_delivery(database, fake.url)
            async with httpx.AsyncClient() as http:
                attempt = asyncio.create_task(webhooks.deliver(database, http, delivery_id, policy))
                await eventually(received(fake, 1))
                attempt.cancel()  # as kill -9 leaves it: nothing written after the call
                await asyncio.gather(attempt, return_exceptions=True)
            fake.open_gate.set()

            async with database.transaction() as session:
                assert await services.sweep_overdue_webhooks(session, utc_now() - grace) == 0  # leased
            await asyncio.sleep(policy.lease.total_seconds() + 0.2)
            async with database.transaction() as session:
                # Owed again once the lease ends, not a grace later (85-95 s after a crash, measured before).
                assert await services.sweep_overdue_webhooks(session, utc_now() - grace) == 1
                stored = await session.get(WebhookDelivery, delivery_id)
                assert stored is not None and stored.leased_until is None
            async with httpx.AsyncClient() as http:
                await webhooks.deliver(database, http, delivery_id, policy)
        assert webhook_ids(fake) == [str(delivery_id)] * 2  # at least once: receivers dedupe on the id
    finally:
        await database.dispose()
