"""Transactional outbox: an event is written with the change that causes it and sent after the commit, when due.

A row may carry a not-before time: deadlines (an RFQ's reply-by, a sale's opening) and retry backoffs are rows in
the database, so they survive a restart and never wait unacknowledged in a broker. The relay sends each due row to
every queue subscribed to its event (contracts.events.SUBSCRIPTIONS), with a message id derived from the row id
and the queue, so a row sent twice is the same message twice and consumers dedupe it like any redelivery.
"""

import asyncio
import contextlib
import logging
from datetime import datetime
from typing import Any
from uuid import UUID, uuid4, uuid5

import anyio
import dramatiq
from sqlalchemy import JSON, or_
from sqlmodel import Field, SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from flexsupply.contracts.events import Event, subscribers
from flexsupply.kit.clock import utc_now
from flexsupply.kit.db import Database, UtcDateTime

log = logging.getLogger(__name__)
BATCH = 100


class OutboxMessageBase(SQLModel):
    """Each service declares `class OutboxMessage(OutboxMessageBase, <its base>, table=True)`."""

    id: UUID = Field(default_factory=uuid4, primary_key=True)
    event_name: str = Field(max_length=100)
    payload: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    not_before: datetime | None = Field(default=None, sa_type=UtcDateTime, index=True)  # type: ignore[call-overload]
    created_at: datetime = Field(default_factory=utc_now, sa_type=UtcDateTime, index=True)  # type: ignore[call-overload]
    sent_at: datetime | None = Field(default=None, sa_type=UtcDateTime, index=True)  # type: ignore[call-overload]


def publish(
    session: AsyncSession, table: type[OutboxMessageBase], event: Event, *, not_before: datetime | None = None
) -> None:
    """Queue `event` in the caller's transaction; it is sent after the commit, not before `not_before`.

    Not `actor.send()`: a worker could act before the commit, or the commit fail after the send."""
    if not subscribers(event.name):
        raise LookupError(f"nobody subscribes to {event.name!r}: add it to contracts.events.SUBSCRIPTIONS")
    session.add(table(event_name=event.name, payload=event.model_dump(mode="json"), not_before=not_before))


def actor_name(queue_name: str) -> str:
    """The one actor each queue has (declared by kit.events.Consumer)."""
    return "handle_" + queue_name.replace(".", "_")


def message_id(row_id: UUID, queue_name: str) -> str:
    return str(uuid5(row_id, queue_name))


def message_for(row: OutboxMessageBase, queue_name: str) -> dramatiq.Message[Any]:
    return dramatiq.Message(
        queue_name=queue_name,
        actor_name=actor_name(queue_name),
        args=(row.event_name, row.payload, str(row.id)),
        kwargs={},
        options={},
        message_id=message_id(row.id, queue_name),
    )


async def relay_once(database: Database, table: type[OutboxMessageBase], broker: dramatiq.Broker) -> int:
    """Send what is due, oldest first; returns how many rows were sent."""
    async with database.transaction() as session:
        now = utc_now()
        rows = (
            await session.exec(
                select(table)
                .where(col(table.sent_at).is_(None), or_(col(table.not_before).is_(None), col(table.not_before) <= now))
                .order_by(col(table.created_at))
                .limit(BATCH)
                .with_for_update(skip_locked=True)  # several relays on PostgreSQL share the work
            )
        ).all()
        for row in rows:
            for queue_name in subscribers(row.event_name):
                broker.declare_queue(queue_name)
                # Network I/O on RabbitMQ and Redis: off the event loop.
                await anyio.to_thread.run_sync(broker.enqueue, message_for(row, queue_name))
            row.sent_at = utc_now()
        return len(rows)


async def run_relay(
    database: Database,
    table: type[OutboxMessageBase],
    broker: dramatiq.Broker,
    poll_seconds: float,
    stop: asyncio.Event,
) -> None:
    """Relay until `stop` is set. A failure is logged and retried on the next tick, nothing is lost.

    Stopping lets the current pass finish: a database call cancelled halfway would leave its driver thread
    running after the event loop it reports to has gone (aiosqlite waits out SQLite's busy timeout).
    """
    while not stop.is_set():
        try:
            while await relay_once(database, table, broker) == BATCH and not stop.is_set():
                pass
        except Exception:
            log.exception("outbox relay failed; retrying in %.1fs", poll_seconds)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), poll_seconds)
