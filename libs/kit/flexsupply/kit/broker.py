"""The dramatiq broker, chosen by FLEXSUPPLY_BROKER_URL (or .env) before any actor is declared.

This is the one thing read at import: dramatiq binds actors to the broker when they are declared.
"""

import dramatiq
from dramatiq.brokers.stub import StubBroker
from dramatiq.middleware import AsyncIO, CurrentMessage

from flexsupply.kit.settings import KitSettings


def create_broker(url: str) -> dramatiq.Broker:
    new_broker: dramatiq.Broker
    if url.startswith("stub:"):
        new_broker = StubBroker()
    elif url.startswith(("amqp:", "amqps:")):
        from dramatiq.brokers.rabbitmq import RabbitmqBroker

        new_broker = RabbitmqBroker(url=url, confirm_delivery=True)
    elif url.startswith(("redis:", "rediss:")):
        from dramatiq.brokers.redis import RedisBroker

        new_broker = RedisBroker(url=url)
    else:
        raise ValueError(f"FLEXSUPPLY_BROKER_URL must start with stub://, amqp:// or redis://, not {url!r}")
    new_broker.add_middleware(AsyncIO())
    new_broker.add_middleware(CurrentMessage())
    return new_broker


broker = create_broker(KitSettings().broker_url)
dramatiq.set_broker(broker)


def is_in_memory() -> bool:
    """The in-process broker: its queue is gone when the process stops, and no other process can reach it."""
    return isinstance(broker, StubBroker)


def ping_broker() -> None:
    """Raise when the broker cannot be reached (blocking: call it from a thread)."""
    if is_in_memory():
        return
    from dramatiq.brokers.rabbitmq import RabbitmqBroker
    from dramatiq.brokers.redis import RedisBroker

    if isinstance(broker, RedisBroker):
        broker.client.ping()
    elif isinstance(broker, RabbitmqBroker):
        broker.connection.process_data_events(time_limit=0)
