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


BROKER_URL = KitSettings().broker_url
broker = create_broker(BROKER_URL)
dramatiq.set_broker(broker)


def is_in_memory() -> bool:
    """The in-process broker: its queue is gone when the process stops, and no other process can reach it."""
    return isinstance(broker, StubBroker)


def ping_broker(url: str, timeout_seconds: float) -> None:
    """Raise unless the broker at `url` accepts a connection now (blocking: call it from a thread).

    A connection of its own, opened and closed here: pika's connections handle heartbeats only while called, so
    one kept idle between checks was dropped by RabbitMQ under load, and health reported the broker down (for
    about 30 s, with nothing wrong) until it was reopened."""
    if url.startswith("stub:"):
        return
    if url.startswith(("redis:", "rediss:")):
        import redis

        client = redis.Redis.from_url(url, socket_connect_timeout=timeout_seconds, socket_timeout=timeout_seconds)
        try:
            client.ping()
        finally:
            client.close()
        return
    import pika

    parameters = pika.URLParameters(url)
    parameters.socket_timeout = parameters.stack_timeout = parameters.blocked_connection_timeout = timeout_seconds
    parameters.connection_attempts, parameters.retry_delay = 1, 0
    connection = pika.BlockingConnection(parameters)
    try:
        connection.channel()
    finally:
        connection.close()
