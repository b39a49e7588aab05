"""Deliver one webhook event to a supplier, signed per Standard Webhooks. No transaction is held over the call.

The delivery row owns the schedule: an attempt takes a lease (`next_attempt_at` moves past the call's timeout), a
failure sets the next attempt with exponential backoff and publishes the retry as an outbox event due then. A
duplicate message, early or late, finds the row leased, not yet due, or done, and does nothing.
"""

import json
import logging
from dataclasses import dataclass
from datetime import timedelta
from uuid import UUID

import httpx
from sqlmodel.ext.asyncio.session import AsyncSession
from standardwebhooks.webhooks import Webhook

from flexsupply.contracts.events import WebhookDue
from flexsupply.kit import outbox
from flexsupply.kit.clock import utc_now
from flexsupply.kit.db import Database
from flexsupply.suppliers.models import DeliveryStatus, OutboxMessage, Supplier, WebhookDelivery

log = logging.getLogger(__name__)
MAX_BACKOFF_SECONDS = 600.0
LEASE_MARGIN_SECONDS = 10.0


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int
    first_backoff_seconds: float
    call_timeout_seconds: float

    def backoff(self, attempt_number: int) -> timedelta:
        return timedelta(seconds=min(MAX_BACKOFF_SECONDS, self.first_backoff_seconds * 2 ** (attempt_number - 1)))

    @property
    def lease(self) -> timedelta:
        return timedelta(seconds=self.call_timeout_seconds + LEASE_MARGIN_SECONDS)


@dataclass(frozen=True)
class _Attempt:
    url: str
    secret: str
    body: str
    number: int


def schedule(session: AsyncSession, delivery: WebhookDelivery) -> None:
    """Publish the delivery's next attempt, due at its `next_attempt_at`."""
    outbox.publish(session, OutboxMessage, WebhookDue(delivery_id=delivery.id), not_before=delivery.next_attempt_at)


async def _start_attempt(database: Database, delivery_id: UUID, policy: RetryPolicy) -> _Attempt | None:
    async with database.transaction() as session:
        delivery = await session.get(WebhookDelivery, delivery_id, with_for_update=True)
        if delivery is None:
            log.warning("webhook delivery %s is not in this database: is the worker on another one?", delivery_id)
            return None
        now = utc_now()
        if delivery.status is not DeliveryStatus.PENDING or delivery.next_attempt_at > now + timedelta(seconds=1):
            return None  # done, given up, in flight elsewhere, or not yet due: a duplicate message
        supplier = await session.get(Supplier, delivery.supplier_id)
        if supplier is None or not supplier.webhook_url:
            delivery.status, delivery.last_error = DeliveryStatus.FAILED, "the supplier has no webhook URL"
            return None
        if delivery.attempts >= policy.max_attempts:
            delivery.status = DeliveryStatus.FAILED
            return None
        delivery.attempts += 1
        delivery.next_attempt_at = now + policy.lease
        body = json.dumps(delivery.payload, separators=(",", ":"), sort_keys=True)
        return _Attempt(url=supplier.webhook_url, secret=supplier.webhook_secret, body=body, number=delivery.attempts)


async def deliver(database: Database, http: httpx.AsyncClient, delivery_id: UUID, policy: RetryPolicy) -> None:
    attempt = await _start_attempt(database, delivery_id, policy)
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
            delivery.status, delivery.delivered_at, delivery.last_error = DeliveryStatus.DELIVERED, utc_now(), None
            return
        delivery.last_error = error
        if attempt.number >= policy.max_attempts:
            delivery.status = DeliveryStatus.FAILED
            log.warning("webhook %s failed for good after %d attempts: %s", delivery_id, attempt.number, error)
            return
        delivery.next_attempt_at = utc_now() + policy.backoff(attempt.number)
        schedule(session, delivery)
        log.info(
            "webhook %s attempt %d failed (%s); next at %s",
            delivery_id,
            attempt.number,
            error,
            delivery.next_attempt_at.isoformat(),
        )
