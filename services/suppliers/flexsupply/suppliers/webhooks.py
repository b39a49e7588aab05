"""Deliver one webhook event to a supplier, signed per Standard Webhooks. No transaction is held over the call.

The delivery row owns the schedule (domain.webhook_retry): an attempt takes a lease (`leased_until`, past the call's
hard deadline), a failure sets `next_attempt_at` to the schedule's next step and publishes the retry as an outbox
event due then, so a wait of ten hours is a row in the database, never a message held in a broker. A duplicate
message, early or late, finds the row leased, not yet due, or done, and does nothing. The sweeper
(services.sweep_overdue_webhooks) sends again what a lost message or a killed worker left owed.

Delivery is at least once: a worker killed after the supplier answered but before the answer was recorded makes the
attempt again, with the same `webhook-id`; receivers dedupe on it.
"""

import asyncio
import json
import logging
from dataclasses import dataclass
from uuid import UUID

import httpx
from sqlmodel.ext.asyncio.session import AsyncSession
from standardwebhooks.webhooks import Webhook

from flexsupply.contracts.events import WebhookDue
from flexsupply.kit import outbox
from flexsupply.kit.clock import utc_now
from flexsupply.kit.db import Database
from flexsupply.suppliers.domain.webhook_retry import RetryPolicy
from flexsupply.suppliers.models import DeliveryStatus, OutboxMessage, Supplier, WebhookDelivery

log = logging.getLogger(__name__)


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
        if delivery.status is not DeliveryStatus.PENDING:
            return None  # done or given up: a duplicate message
        if delivery.leased_until is not None and delivery.leased_until > now:
            return None  # in flight elsewhere
        if (delivery.next_attempt_at - now).total_seconds() > 1:
            return None  # not yet due: an early duplicate
        supplier = await session.get(Supplier, delivery.supplier_id)
        if supplier is None or not supplier.webhook_url:
            delivery.status, delivery.last_error = DeliveryStatus.FAILED, "the supplier has no webhook URL"
            return None
        if delivery.attempts >= policy.max_attempts:
            delivery.status = DeliveryStatus.FAILED
            return None
        delivery.attempts += 1
        delivery.leased_until = now + policy.lease
        body = json.dumps(delivery.payload, separators=(",", ":"), sort_keys=True)
        return _Attempt(url=supplier.webhook_url, secret=supplier.webhook_secret, body=body, number=delivery.attempts)


async def _call(http: httpx.AsyncClient, attempt: _Attempt, delivery_id: UUID, timeout_seconds: float) -> str | None:
    """POST the event; the error, or None once the supplier took it."""
    sent_at = utc_now()
    headers = {
        "content-type": "application/json",
        "webhook-id": str(delivery_id),
        "webhook-timestamp": str(int(sent_at.timestamp())),
        "webhook-signature": Webhook(attempt.secret).sign(str(delivery_id), sent_at, attempt.body),
    }
    try:
        # A whole-call deadline (httpx's timeouts are per phase, and connects are retried): the lease depends on it.
        async with asyncio.timeout(timeout_seconds):
            response = await http.post(attempt.url, content=attempt.body.encode(), headers=headers)
    except TimeoutError:
        return f"no answer within {timeout_seconds:g} s"
    except httpx.HTTPError as exc:
        return f"{type(exc).__name__}: {exc}"[:500]
    return None if response.is_success else f"HTTP {response.status_code}"


async def deliver(database: Database, http: httpx.AsyncClient, delivery_id: UUID, policy: RetryPolicy) -> None:
    attempt = await _start_attempt(database, delivery_id, policy)
    if attempt is None:
        return
    error = await _call(http, attempt, delivery_id, policy.call_timeout_seconds)
    async with database.transaction() as session:
        delivery = await session.get(WebhookDelivery, delivery_id, with_for_update=True)
        assert delivery is not None
        if error is None:
            delivery.status, delivery.delivered_at, delivery.last_error = DeliveryStatus.DELIVERED, utc_now(), None
            delivery.leased_until = None
            return
        if delivery.status is not DeliveryStatus.PENDING or delivery.attempts != attempt.number:
            return  # a later attempt (after this lease ran out, or a resend) owns the delivery now
        delivery.last_error, delivery.leased_until = error, None
        wait = policy.wait_after(attempt.number)
        if wait is None:
            delivery.status = DeliveryStatus.FAILED
            log.warning("webhook %s failed for good after %d attempts: %s", delivery_id, attempt.number, error)
            return
        delivery.next_attempt_at = utc_now() + wait
        schedule(session, delivery)
        log.info(
            "webhook %s attempt %d failed (%s); next at %s",
            delivery_id,
            attempt.number,
            error,
            delivery.next_attempt_at.isoformat(),
        )
