"""Background work of the suppliers service: ids in, idempotent, settings and engines made on the worker's loop."""

from uuid import UUID

import dramatiq

from flexsupply.kit.broker import broker
from flexsupply.kit.db import database_for_current_loop
from flexsupply.kit.http import create_http_client
from flexsupply.suppliers import webhooks
from flexsupply.suppliers.settings import SuppliersSettings


@dramatiq.actor(
    broker=broker,
    queue_name="suppliers.webhooks",
    max_retries=20,  # the delivery's own attempt count decides when to give up
    min_backoff=1_000,
    max_backoff=300_000,
    time_limit=60_000,
)
async def deliver_webhook(delivery_id: str) -> None:
    settings = SuppliersSettings()
    async with create_http_client(settings) as http:
        await webhooks.deliver(
            database_for_current_loop(settings.database_url),
            http,
            UUID(delivery_id),
            settings.webhook_attempts,
        )
