"""Liveness and readiness of one service process, as compose and a load balancer probe them.

`/live` answers while the broker is unreachable; `/ready` (and `/health`) says so, and says the truth about an idle
broker: RabbitMQ drops a connection whose heartbeats go unanswered, so a check that kept one idle between probes
reported `broker: down: StreamLostError` with nothing wrong (FLEXSUPPLY_BROKER_URL: amqp:// or redis://).
"""

import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from tests.support.processes import free_port, processes, wait_until_healthy

BROKER_URL = os.environ.get("FLEXSUPPLY_BROKER_URL", "")
NOTHING_LISTENS = "amqp://guest:guest@127.0.0.1:9/"  # the discard port
# Heartbeats every second: RabbitMQ drops an unanswering connection within seconds, not minutes.
FAST_HEARTBEATS = "heartbeat=1"


@contextmanager
def _service(tmp_path: Path, broker_url: str) -> Iterator[str]:
    """The suppliers service alone on a SQLite file, as `flexsupply serve` runs it; its base URL."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("FLEXSUPPLY_")} | {
        "FLEXSUPPLY_OPERATOR_TOKEN": "health-test-token",
        "FLEXSUPPLY_BROKER_URL": broker_url,
        "FLEXSUPPLY_SUPPLIERS_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'suppliers.db'}",
    }
    with processes(tmp_path) as running:
        assert running.run("migrate", ["flexsupply", "migrate", "suppliers"], env) == 0, running.logs()
        running.start("suppliers", ["flexsupply", "serve", "suppliers", "--port", str(port)], env)
        base = f"http://127.0.0.1:{port}"
        wait_until_healthy(f"{base}/live", running)
        yield base


def test_live_never_depends_on_the_broker_and_ready_names_it(tmp_path: Path):
    with _service(tmp_path, NOTHING_LISTENS) as base:
        assert httpx.get(f"{base}/live").json() == {"status": "up"}
        for path in ("/ready", "/health"):
            started = time.monotonic()
            response = httpx.get(f"{base}{path}", timeout=10)
            assert time.monotonic() - started < 5  # a probe's own timeout is longer than this
            assert response.status_code == 503, response.text
            report = response.json()
            assert report["broker"].startswith("down: ")
            assert report["services"] == {"suppliers": {"database": "up"}}
        assert httpx.get(f"{base}/live").status_code == 200


@pytest.mark.skipif(not BROKER_URL.startswith(("amqp", "redis")), reason="needs an amqp:// or redis:// broker")
def test_an_idle_broker_does_not_make_readiness_flap(tmp_path: Path):
    url = BROKER_URL
    if url.startswith("amqp"):
        url += ("&" if "?" in url else "?") + FAST_HEARTBEATS
    with _service(tmp_path, url) as base:
        answers = []
        for _ in range(4):
            response = httpx.get(f"{base}/ready", timeout=10)
            answers.append((response.status_code, response.json()["broker"]))
            time.sleep(3)  # idle for three heartbeats between probes
        assert answers == [(200, "up")] * 4
