"""The consuming side of events: one dramatiq actor per queue, dispatching each event to its handler by name."""

import logging
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar
from uuid import UUID

import dramatiq

from flexsupply.contracts.events import Event, parse_event, subscribers
from flexsupply.kit.broker import broker
from flexsupply.kit.outbox import actor_name

log = logging.getLogger(__name__)
E = TypeVar("E", bound=Event)
Handler = Callable[[Any, UUID], Awaitable[None]]


class Consumer:
    """Declares the queue's actor at once (dramatiq binds actors when declared); handlers are added with `on`."""

    def __init__(self, queue_name: str, **actor_options: Any) -> None:
        self.queue_name = queue_name
        self.handlers: dict[str, Handler] = {}

        async def dispatch(event_name: str, payload: dict[str, Any], event_id: str) -> None:
            handler = self.handlers.get(event_name)
            if handler is None:
                log.warning("%s: no handler for event %r; dropped", queue_name, event_name)
                return
            await handler(parse_event(event_name, payload), UUID(event_id))

        self.actor: dramatiq.Actor[Any, Any] = dramatiq.actor(  # type: ignore[call-overload]
            dispatch, broker=broker, actor_name=actor_name(queue_name), queue_name=queue_name, **actor_options
        )

    def on(self, event_type: type[E]) -> Callable[[Callable[[E, UUID], Awaitable[None]]], Handler]:
        if self.queue_name not in subscribers(event_type.name):
            raise LookupError(f"{self.queue_name} is not subscribed to {event_type.name!r} in contracts.events")

        def register(handler: Callable[[E, UUID], Awaitable[None]]) -> Handler:
            self.handlers[event_type.name] = handler
            return handler

        return register
