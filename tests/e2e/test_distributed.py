"""compose.yaml's processes on one machine: migrations, three services and two workers on PostgreSQL and RabbitMQ.

No Docker engine runs here, so this starts the very commands compose.yaml names, with its environment pointed at the
local servers and the ports moved to free ones.
"""

import os
import time
from pathlib import Path

import httpx
import pytest
from standardwebhooks.webhooks import Webhook

from flexsupply.contracts.events import SUBSCRIPTIONS
from tests.support.fake_supplier import fake_supplier_server
from tests.support.stack import compose_stack

POSTGRES_URL = os.environ.get("FLEXSUPPLY_TEST_POSTGRES_URL")
BROKER_URL = os.environ.get("FLEXSUPPLY_BROKER_URL", "")

SERVERS_GIVEN = bool(POSTGRES_URL) and BROKER_URL.startswith(("amqp", "redis"))

pytestmark = [
    pytest.mark.distributed,
    # CI sets FLEXSUPPLY_REQUIRE_SERVERS so that a missing server fails the run instead of skipping this test.
    pytest.mark.skipif(
        not SERVERS_GIVEN and not os.environ.get("FLEXSUPPLY_REQUIRE_SERVERS"),
        reason="needs FLEXSUPPLY_TEST_POSTGRES_URL and an amqp:// or redis:// FLEXSUPPLY_BROKER_URL",
    ),
]


def test_the_compose_processes_serve_and_a_worker_handles_a_services_message(tmp_path: Path):
    with compose_stack(tmp_path, POSTGRES_URL, BROKER_URL) as stack:
        running, token = stack.running, stack.token
        ports = {name: httpx.URL(url).port for name, url in stack.urls.items()}
        assert {"worker", "solver"} <= set(stack.workers)
        # Every queue an event is routed to has a worker listening.
        listened = {
            spec["command"][i + 1]
            for spec in stack.workers.values()
            for i, arg in enumerate(spec["command"])
            if arg == "-Q"
        }
        assert listened == {queue for queues in SUBSCRIPTIONS.values() for queue in queues}

        with (
            httpx.Client(
                base_url=f"http://127.0.0.1:{ports['suppliers']}",
                headers={"authorization": f"Bearer {token}"},
            ) as suppliers,
            fake_supplier_server() as fake,
        ):
            assert suppliers.put("/api/v1/regions/ningbo", json={"name": "Ningbo"}).status_code == 200
            created = suppliers.post(
                "/api/v1/suppliers",
                json={
                    "name": "Hakko Bakery",
                    "contact_name": "Li Wei",
                    "contact_email": "li@example.com",
                    "regions": ["ningbo"],
                    "webhook_url": fake.url,
                },
            )
            assert created.status_code == 201, created.text
            # The service only writes the message; a separate worker process delivers it.
            deadline = time.monotonic() + 60
            while not fake.received and time.monotonic() < deadline:
                time.sleep(0.2)
            assert fake.received, running.logs()

        payload = Webhook(created.json()["webhook_secret"]).verify(fake.received[0].body, fake.received[0].headers)
        assert payload["data"]["supplier_id"] == created.json()["supplier"]["id"]

        # A supplier's key works on the other services, which ask the suppliers service whose it is: known there
        # (403 on an operators' route, not 401), while a made-up key is unknown (401).
        key = created.json()["api_key"]["api_key"]
        fulfilment = f"http://127.0.0.1:{ports['fulfilment']}/api/v1/awarded-packages"
        assert httpx.get(fulfilment, headers={"authorization": f"Bearer {key}"}).status_code == 403
        assert httpx.get(fulfilment, headers={"authorization": f"Bearer {key[:-4]}abcd"}).status_code == 401

        # With the suppliers service stopped, the others answer a clear 503 naming it, not a hang.
        running.interrupt(next(p for n, p in running.running if n == "suppliers"))
        started = time.monotonic()
        down = httpx.get(fulfilment, headers={"authorization": f"Bearer {key[:-4]}wxyz"}, timeout=30)
        assert down.status_code == 503, down.text
        assert "suppliers" in down.json()["detail"]
        assert time.monotonic() - started < 15
