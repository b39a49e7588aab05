"""The dramatiq broker, chosen by FLEXSUPPLY_BROKER_URL before any actor is declared.

This is the one thing read at import: dramatiq binds actors to the broker when they are declared.
"""

import os

import dramatiq
from dramatiq.brokers.stub import StubBroker
from dramatiq.middleware import AsyncIO, CurrentMessage


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


broker_url = os.environ.get("FLEXSUPPLY_BROKER_URL", "stub://")
broker = create_broker(broker_url)
dramatiq.set_broker(broker)


def ping_broker() -> None:
    """Raise when the broker cannot be reached (blocking: call it from a thread)."""
    if isinstance(broker, StubBroker):
        return
    from dramatiq.brokers.rabbitmq import RabbitmqBroker
    from dramatiq.brokers.redis import RedisBroker

    if isinstance(broker, RedisBroker):
        broker.client.ping()
    elif isinstance(broker, RabbitmqBroker):
        broker.connection.process_data_events(time_limit=0)
