"""Deliver one webhook event to a supplier, signed per Standard Webhooks. No transaction is held over the call."""

import json
import logging
from dataclasses import dataclass
from uuid import UUID

import httpx
from standardwebhooks.webhooks import Webhook

from flexsupply.kit.clock import utc_now
from flexsupply.kit.db import Database
from flexsupply.suppliers.models import DeliveryStatus, Supplier, WebhookDelivery

log = logging.getLogger(__name__)


class WebhookNotAccepted(Exception):
    """The supplier's endpoint did not answer 2xx; the actor retries with backoff."""


@dataclass(frozen=True)
class _Attempt:
    url: str
    secret: str
    body: str
    number: int


async def _start_attempt(database: Database, delivery_id: UUID, max_attempts: int) -> _Attempt | None:
    async with database.transaction() as session:
        delivery = await session.get(WebhookDelivery, delivery_id, with_for_update=True)
        if delivery is None:
            log.warning("webhook delivery %s is not in this database: is the worker on another one?", delivery_id)
            return None
        if delivery.status is not DeliveryStatus.PENDING:
            return None  # delivered already (a redelivered message), or given up
        supplier = await session.get(Supplier, delivery.supplier_id)
        if supplier is None or not supplier.webhook_url:
            delivery.status, delivery.last_error = DeliveryStatus.FAILED, "the supplier has no webhook URL"
            return None
        if delivery.attempts >= max_attempts:
            delivery.status = DeliveryStatus.FAILED
            return None
        delivery.attempts += 1
        body = json.dumps(delivery.payload, separators=(",", ":"), sort_keys=True)
        return _Attempt(url=supplier.webhook_url, secret=supplier.webhook_secret, body=body, number=delivery.attempts)


async def deliver(database: Database, http: httpx.AsyncClient, delivery_id: UUID, max_attempts: int) -> None:
    attempt = await _start_attempt(database, delivery_id, max_attempts)
    if attempt is None:
        return
    sent_at = utc_now()
    signature = Webhook(attempt.secret).sign(str(delivery_id), sent_at, attempt.body)
    headers = {
        "content-type": "application/json",
        "webhook-id": str(delivery_id),
        "webhook-timestamp": str(int(sent_at.timestamp())),
        "webhook-signature": signature,
    }
    try:
        response = await http.post(attempt.url, content=attempt.body.encode(), headers=headers)
        error = None if response.is_success else f"HTTP {response.status_code}"
    except httpx.HTTPError as exc:
        error = f"{type(exc).__name__}: {exc}"[:500]
    async with database.transaction() as session:
        delivery = await session.get(WebhookDelivery, delivery_id, with_for_update=True)
        assert delivery is not None
        if error is None:
            delivery.status, delivery.delivered_at, delivery.last_error = (
                DeliveryStatus.DELIVERED,
                utc_now(),
                None,
            )
            return
        delivery.last_error = error
        if attempt.number >= max_attempts:
            delivery.status = DeliveryStatus.FAILED
            log.warning("webhook %s failed for good after %d attempts: %s", delivery_id, attempt.number, error)
            return
    raise WebhookNotAccepted(f"webhook {delivery_id} attempt {attempt.number}: {error}")
