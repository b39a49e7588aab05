"""`flexsupply up` as a new user runs it: one process, SQLite in a data folder, a generated operator token."""

import os
from pathlib import Path

import httpx

from tests.support.processes import free_port, processes, wait_until_healthy


def test_up_serves_the_whole_stack_stops_on_ctrl_c_and_keeps_its_data(tmp_path: Path):
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("FLEXSUPPLY_")}
    env |= {"FLEXSUPPLY_DATA_DIR": str(tmp_path / "data"), "FLEXSUPPLY_PORT": str(port)}
    base = f"http://127.0.0.1:{port}"

    with processes(tmp_path) as running:
        first = running.start("up-1", ["flexsupply", "up"], env)
        health = wait_until_healthy(f"{base}/health", running)
        assert health["services"] == {name: {"database": "up"} for name in ("suppliers", "matching", "fulfilment")}
        assert health["broker"] == "up"
        assert "/api/v1/offers" in httpx.get(f"{base}/docs/openapi.json").json()["paths"]

        token = (tmp_path / "data" / "operator-token").read_text().strip()
        operator = {"authorization": f"Bearer {token}"}
        assert httpx.put(f"{base}/api/v1/regions/ningbo", json={"name": "Ningbo"}, headers=operator).status_code == 200

        assert running.interrupt(first) == 0, running.logs()

        running.start("up-2", ["flexsupply", "up"], env)
        wait_until_healthy(f"{base}/health", running)
        regions = httpx.get(f"{base}/api/v1/regions", headers=operator).json()
        assert regions == [{"code": "ningbo", "name": "Ningbo"}]
