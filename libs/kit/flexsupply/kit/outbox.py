"""Transactional outbox: a message is written with the change that causes it and sent after the commit.

The relay enqueues each row with the row's id as the dramatiq message id, so a consumer that dedupes on the
message id (or on a business key) handles a re-sent row once.
"""

import asyncio
import contextlib
import logging
from datetime import datetime
from typing import Any
from uuid import UUID, uuid4

import anyio
import dramatiq
from sqlalchemy import JSON
from sqlmodel import Field, SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from flexsupply.kit.clock import utc_now
from flexsupply.kit.db import Database, UtcDateTime

log = logging.getLogger(__name__)


class OutboxMessageBase(SQLModel):
    """Each service declares `class OutboxMessage(OutboxMessageBase, <its base>, table=True)`."""

    id: UUID = Field(default_factory=uuid4, primary_key=True)
    queue_name: str = Field(max_length=100)
    actor_name: str = Field(max_length=100)
    args: list[Any] = Field(default_factory=list, sa_type=JSON)
    created_at: datetime = Field(default_factory=utc_now, sa_type=UtcDateTime, index=True)  # type: ignore[call-overload]
    sent_at: datetime | None = Field(default=None, sa_type=UtcDateTime, index=True)  # type: ignore[call-overload]


def add(session: AsyncSession, table: type[OutboxMessageBase], actor: dramatiq.Actor[Any, Any], *args: Any) -> None:
    """Queue a message for `actor` in the caller's transaction. Arguments must be JSON: pass ids, not rows."""
    session.add(table(queue_name=actor.queue_name, actor_name=actor.actor_name, args=list(args)))


async def relay_once(database: Database, table: type[OutboxMessageBase], broker: dramatiq.Broker) -> int:
    """Send what is waiting, oldest first; returns how many were sent."""
    async with database.transaction() as session:
        rows = (
            await session.exec(
                select(table)
                .where(col(table.sent_at).is_(None))
                .order_by(col(table.created_at))
                .limit(100)
                .with_for_update(skip_locked=True)  # several relays on PostgreSQL share the work
            )
        ).all()
        for row in rows:
            message = dramatiq.Message(
                queue_name=row.queue_name,
                actor_name=row.actor_name,
                args=tuple(row.args),
                kwargs={},
                options={},
                message_id=str(row.id),
            )
            broker.declare_queue(row.queue_name)
            await anyio.to_thread.run_sync(broker.enqueue, message)  # network I/O on RabbitMQ and Redis
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
            while await relay_once(database, table, broker) and not stop.is_set():
                pass
        except Exception:
            log.exception("outbox relay failed; retrying in %.1fs", poll_seconds)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), poll_seconds)
