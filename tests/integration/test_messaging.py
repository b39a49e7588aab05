"""The outbox relay and an actor's idempotency, on the real database (dramatiq delivers at least once)."""

from datetime import timedelta
from uuid import UUID, uuid4

import httpx
import pytest
from dramatiq import Message
from dramatiq.brokers.stub import StubBroker
from sqlmodel import col, select

from flexsupply.contracts.events import WebhookDue
from flexsupply.kit import outbox
from flexsupply.kit.clock import utc_now
from flexsupply.kit.db import Database
from flexsupply.suppliers import webhooks
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


POLICY = webhooks.RetryPolicy(max_attempts=3, first_backoff_seconds=0.1, call_timeout_seconds=5)


async def test_the_relay_sends_each_due_event_once_to_its_subscribers(database_urls: dict[str, str]):
    database = Database(database_urls["suppliers"], pooled=False)
    broker = StubBroker()
    event = WebhookDue(delivery_id=uuid4())
    later = WebhookDue(delivery_id=uuid4())
    try:
        async with database.transaction() as session:
            outbox.publish(session, OutboxMessage, event)
            outbox.publish(session, OutboxMessage, later, not_before=utc_now() + timedelta(hours=1))
        async with database.transaction() as session:
            rows = (await session.exec(select(OutboxMessage).order_by(col(OutboxMessage.created_at).desc()))).all()
        row = next(r for r in rows if r.payload == event.model_dump(mode="json"))
        assert row.sent_at is None

        await outbox.relay_once(database, OutboxMessage, broker)
        await outbox.relay_once(database, OutboxMessage, broker)

        queued = [Message.decode(data) for data in broker.queues["suppliers.webhooks"].queue]
        sent = [message for message in queued if message.message_id == outbox.message_id(row.id, "suppliers.webhooks")]
        assert len(sent) == 1
        assert sent[0].actor_name == "handle_suppliers_webhooks"
        assert sent[0].args == (WebhookDue.name, event.model_dump(mode="json"), str(row.id))
        # The event due in an hour waits in the database, not in the broker.
        assert not any(message.args[1] == later.model_dump(mode="json") for message in queued)
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
                await webhooks.deliver(database, http, delivery_id, POLICY)
                await webhooks.deliver(database, http, delivery_id, POLICY)

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
    from tests.support.databases import SERVICES
    from tests.support.lifespan import running
    from tests.support.waiting import eventually

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
