"""Events: facts one service publishes and others consume, named so that no publisher imports a consumer.

An event is written to the publisher's outbox in the transaction that makes it true, with an optional not-before
time (a deadline that survives a restart). The relay sends it, when due, to every queue subscribed to its name in
`SUBSCRIPTIONS`; each queue has one actor in its service that dispatches by name. Consumers must be idempotent:
delivery is at least once.
"""

from typing import Any, ClassVar
from uuid import UUID

from pydantic import BaseModel, ConfigDict


class Event(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    name: ClassVar[str]
    types: ClassVar[dict[str, type["Event"]]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "name" in cls.__dict__:
            if cls.name in Event.types:
                raise TypeError(f"two events are named {cls.name!r}")
            Event.types[cls.name] = cls


def parse_event(name: str, payload: dict[str, Any]) -> Event:
    if name not in Event.types:
        raise LookupError(f"no event is named {name!r}")
    return Event.types[name].model_validate(payload)


# --- suppliers ------------------------------------------------------------------------------------------------


class WebhookDue(Event):
    """A webhook delivery is due for an attempt (first, retry, or re-sent by the sweeper)."""

    name = "suppliers.webhook_due"
    delivery_id: UUID


class SupplierNotice(Event):
    """Tell a supplier something by signed webhook (the suppliers service holds the URLs and secrets)."""

    name = "suppliers.notice"
    supplier_id: UUID
    event_type: str
    data: dict[str, Any]
    # Another service's id for this notice, so that a redelivered event queues one webhook, not two.
    notice_id: UUID


# --- the routing table ------------------------------------------------------------------------------------------

# Event name -> the queues that consume it. Queue names are "<service>.<purpose>": the consuming service declares
# one dispatching actor per queue (kit.events.Consumer).
SUBSCRIPTIONS: dict[str, tuple[str, ...]] = {
    WebhookDue.name: ("suppliers.webhooks",),
    SupplierNotice.name: ("suppliers.events",),
}


def subscribers(name: str) -> tuple[str, ...]:
    return SUBSCRIPTIONS.get(name, ())
