"""A worker killed with `kill -9` mid-delivery: the work it owed is done by the next one, on RabbitMQ and on Redis.

Measured before the sweeper: on Redis a dead worker's messages stayed in its acks set for more than 7 minutes, so
deliveries stayed pending. Now each delivery's row says when its attempt is owed, retries wait in the database (an
outbox row due later), and the service's sweeper re-sends what is overdue, so neither broker can strand it.
"""

import os
import signal
import time
from pathlib import Path

import httpx
import pytest

from tests.support.catalogue import supplier_body
from tests.support.databases import fresh_databases
from tests.support.fake_supplier import fake_supplier_server
from tests.support.processes import free_port, processes, wait_until_healthy

POSTGRES_URL = os.environ.get("FLEXSUPPLY_TEST_POSTGRES_URL")
BROKER_URL = os.environ.get("FLEXSUPPLY_BROKER_URL", "")
DELIVERIES = 20

pytestmark = [
    pytest.mark.distributed,
    pytest.mark.skipif(
        not (POSTGRES_URL and BROKER_URL.startswith(("amqp", "redis")))
        and not os.environ.get("FLEXSUPPLY_REQUIRE_SERVERS"),
        reason="needs FLEXSUPPLY_TEST_POSTGRES_URL and an amqp:// or redis:// FLEXSUPPLY_BROKER_URL",
    ),
]


def wait_for(condition, timeout_seconds: float, what: str, logs) -> None:
    deadline = time.monotonic() + timeout_seconds
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    raise AssertionError(f"{what} within {timeout_seconds}s\n{logs()}")


def test_deliveries_owed_by_a_killed_worker_are_made_by_the_next(tmp_path: Path):
    token = "killed-worker-token"
    with (
        fresh_databases(POSTGRES_URL, tmp_path) as urls,
        processes(tmp_path) as running,
        fake_supplier_server() as fake,
    ):
        env = {k: v for k, v in os.environ.items() if not k.startswith("FLEXSUPPLY_")} | {
            "FLEXSUPPLY_OPERATOR_TOKEN": token,
            "FLEXSUPPLY_BROKER_URL": BROKER_URL,
            **{f"FLEXSUPPLY_{service.upper()}_DATABASE_URL": url for service, url in urls.items()},
            "FLEXSUPPLY_OUTBOX_POLL_SECONDS": "0.2",
            "FLEXSUPPLY_SWEEP_SECONDS": "1",
            "FLEXSUPPLY_SWEEP_GRACE_SECONDS": "2",
            "FLEXSUPPLY_HTTP_TIMEOUT_SECONDS": "2",
            "FLEXSUPPLY_WEBHOOK_RETRY_SCHEDULE_SECONDS": "[1, 2, 4, 8, 16, 32, 60, 60, 60]",
        }
        assert running.run("migrate", ["flexsupply", "migrate", "suppliers"], env) == 0, running.logs()
        port = free_port()
        running.start("suppliers", ["flexsupply", "serve", "suppliers", "--port", str(port)], env)
        wait_until_healthy(f"http://127.0.0.1:{port}/health", running)
        first_worker = running.start("worker-1", ["flexsupply", "worker", "-p", "1", "-t", "4"], env)

        # Every first attempt fails: the deliveries wait for their retries.
        fake.answers = [(503, {})] * DELIVERIES
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", headers={"authorization": f"Bearer {token}"}) as api:
            assert api.put("/api/v1/regions/ningbo", json={"name": "Ningbo"}).status_code == 200
            suppliers = []
            for _ in range(DELIVERIES):
                created = api.post("/api/v1/suppliers", json=supplier_body(regions=["ningbo"], webhook_url=fake.url))
                assert created.status_code == 201, created.text
                suppliers.append(created.json()["supplier"]["id"])
            wait_for(lambda: len(fake.received) >= DELIVERIES, 60, "every first attempt made", running.logs)

            # The retries hang at the receiver: the worker is killed in the middle of them.
            fake.open_gate.clear()
            wait_for(lambda: fake.held >= 1, 30, "a retry in flight", running.logs)
            os.killpg(first_worker.pid, signal.SIGKILL)
            first_worker.wait(timeout=10)
            fake.open_gate.set()

            running.start("worker-2", ["flexsupply", "worker", "-p", "1", "-t", "4"], env)

            def every_delivery_delivered() -> bool:
                for supplier_id in suppliers:
                    deliveries = api.get(f"/api/v1/suppliers/{supplier_id}/webhook-deliveries").json()
                    if [d["status"] for d in deliveries] != ["delivered"]:
                        return False
                return True

            wait_for(every_delivery_delivered, 90, "every delivery delivered by the next worker", running.logs)

        # One webhook-id per delivery across all its attempts, the same one each time.
        ids_per_supplier = {}
        for request in fake.received:
            ids_per_supplier.setdefault(request.headers["webhook-id"], 0)
            ids_per_supplier[request.headers["webhook-id"]] += 1
        assert len(ids_per_supplier) == DELIVERIES
        assert all(attempts >= 2 for attempts in ids_per_supplier.values())
