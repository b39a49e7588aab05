"""The outbox relay and an actor's idempotency, on the real database (dramatiq delivers at least once)."""

from uuid import UUID, uuid4

import httpx
import pytest
from dramatiq import Message
from dramatiq.brokers.stub import StubBroker
from sqlmodel import col, select

from flexsupply.kit import outbox
from flexsupply.kit.db import Database
from flexsupply.suppliers import actors, webhooks
from flexsupply.suppliers.models import DeliveryStatus, OutboxMessage, Supplier, WebhookDelivery
from tests.support.fake_supplier import fake_supplier_server


async def add_pending_delivery(database: Database, webhook_url: str, attempts: int = 0) -> UUID:
    """A supplier with a webhook and one delivery for it not yet made, written straight to the database."""
    async with database.transaction() as session:
        supplier = Supplier(
            name=f"Pending {uuid4().hex[:8]}",
            contact_name="A",
            contact_email="a@example.com",
            regions=["ningbo"],
            webhook_url=webhook_url,
            webhook_secret="whsec_" + "A" * 43 + "=",
        )
        session.add(supplier)
        await session.flush()
        delivery = WebhookDelivery(supplier_id=supplier.id, event_type="test.event", payload={}, attempts=attempts)
        session.add(delivery)
    return delivery.id


async def test_the_relay_sends_each_outbox_row_once_with_its_id_as_message_id(database_urls: dict[str, str]):
    database = Database(database_urls["suppliers"], pooled=False)
    broker = StubBroker()
    try:
        async with database.transaction() as session:
            outbox.add(session, OutboxMessage, actors.deliver_webhook, "00000000-0000-0000-0000-000000000001")
        async with database.transaction() as session:
            row = (await session.exec(select(OutboxMessage).order_by(col(OutboxMessage.created_at).desc()))).first()
        assert row is not None and row.sent_at is None

        await outbox.relay_once(database, OutboxMessage, broker)
        await outbox.relay_once(database, OutboxMessage, broker)

        queued = [Message.decode(data) for data in broker.queues[actors.deliver_webhook.queue_name].queue]
        sent = [message for message in queued if message.message_id == str(row.id)]
        assert len(sent) == 1
        async with database.transaction() as session:
            stored = await session.get(OutboxMessage, row.id)
            assert stored is not None and stored.sent_at is not None
    finally:
        await database.dispose()


async def test_a_redelivered_webhook_message_is_sent_once(database_urls: dict[str, str]):
    database = Database(database_urls["suppliers"], pooled=False)
    try:
        with fake_supplier_server() as fake:
            delivery_id = await add_pending_delivery(database, fake.url)

            async with httpx.AsyncClient() as http:
                await webhooks.deliver(database, http, delivery_id, max_attempts=3)
                await webhooks.deliver(database, http, delivery_id, max_attempts=3)

        assert len(fake.received) == 1
        async with database.transaction() as session:
            stored = await session.get(WebhookDelivery, delivery_id)
            assert stored is not None
            assert (stored.status, stored.attempts) == (DeliveryStatus.DELIVERED, 1)
    finally:
        await database.dispose()


async def test_the_embedded_stack_requeues_deliveries_its_last_process_left_pending(database_urls: dict[str, str]):
    """A restart empties the in-process queue; what was pending is queued again at start-up and delivered."""
    from flexsupply.cli.stack import embedded_app, load_service
    from flexsupply.kit.broker import is_in_memory
    from flexsupply.kit.settings import KitSettings
    from tests.integration.conftest import eventually
    from tests.support.databases import SERVICES
    from tests.support.lifespan import running

    if not is_in_memory():
        pytest.skip("a real broker keeps its messages across restarts: nothing to recover")
    database = Database(database_urls["suppliers"], pooled=False)
    try:
        with fake_supplier_server() as fake:
            # As a process stopped mid-retry leaves it: one attempt made, its message gone with the queue.
            delivery_id = await add_pending_delivery(database, fake.url, attempts=1)

            app = embedded_app([load_service(name) for name in SERVICES], KitSettings(), worker_threads=None)
            async with running(app):

                async def delivered() -> WebhookDelivery | None:
                    async with database.transaction() as session:
                        stored = await session.get(WebhookDelivery, delivery_id)
                    return stored if stored and stored.status is DeliveryStatus.DELIVERED else None

                stored = await eventually(delivered)
        assert stored.attempts == 2
        assert [request.headers["webhook-id"] for request in fake.received] == [str(delivery_id)]
    finally:
        await database.dispose()
