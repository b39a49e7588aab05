"""Background work of the suppliers service: events in, idempotent, settings and engines made on the worker's loop."""

from uuid import UUID

from flexsupply.contracts.events import RfqRoundOpened, SupplierNotice, SupplierOutcome, WebhookDue
from flexsupply.kit.db import database_for_current_loop
from flexsupply.kit.events import Consumer
from flexsupply.kit.http import create_http_client
from flexsupply.suppliers import services, webhooks
from flexsupply.suppliers.settings import SuppliersSettings

# Retries of a delivery are scheduled by the delivery row (webhooks.py), not by the broker: these cover crashes.
webhook_queue = Consumer("suppliers.webhooks", max_retries=3, min_backoff=1_000, max_backoff=30_000, time_limit=60_000)
event_queue = Consumer("suppliers.events", max_retries=10, min_backoff=1_000, max_backoff=300_000, time_limit=60_000)


@webhook_queue.on(WebhookDue)
async def deliver_webhook(event: WebhookDue, event_id: UUID) -> None:
    settings = SuppliersSettings()
    async with create_http_client(settings) as http:
        await webhooks.deliver(
            database_for_current_loop(settings.database_url), http, event.delivery_id, settings.webhook_policy
        )


@event_queue.on(SupplierNotice)
async def notify_supplier(event: SupplierNotice, event_id: UUID) -> None:
    settings = SuppliersSettings()
    async with database_for_current_loop(settings.database_url).transaction() as session:
        await services.queue_notice(session, event)


@event_queue.on(RfqRoundOpened)
async def open_rfq_round(event: RfqRoundOpened, event_id: UUID) -> None:
    settings = SuppliersSettings()
    async with database_for_current_loop(settings.database_url).transaction() as session:
        await services.open_rfq_round(session, event)


@event_queue.on(SupplierOutcome)
async def record_supplier_outcome(event: SupplierOutcome, event_id: UUID) -> None:
    settings = SuppliersSettings()
    async with database_for_current_loop(settings.database_url).transaction() as session:
        await services.record_outcome(session, event)
