"""The stack as separate processes, reached over real HTTP: compose.yaml's commands on local servers, or
`flexsupply up` (embedded); and one client that sends each path to the service that serves it."""

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import yaml

from tests.support.databases import fresh_databases
from tests.support.processes import Processes, free_port, processes, wait_until_healthy

ROOT = Path(__file__).resolve().parents[2]
# Paths of the suppliers and fulfilment services; every other /api path is the matching service's.
SUPPLIERS_PATHS = ("/api/v1/regions", "/api/v1/suppliers", "/api/v1/api-keys", "/api/v1/me", "/api/v1/offers")
SUPPLIERS_PATHS += ("/api/v1/eligible-offers", "/api/v1/rfqs", "/api/v1/rfq-rounds", "/supply")
FULFILMENT_PATHS = ("/api/v1/awarded-packages", "/api/v1/production-orders", "/api/v1/shipments", "/api/v1/failures")
FULFILMENT_PATHS += ("/api/v1/exceptions", "/api/v1/cases", "/api/v1/buyer-orders", "/board", "/delivery")


@dataclass
class Stack:
    urls: dict[str, str]  # service -> base URL (all the same when embedded)
    token: str  # the operator token
    running: Processes
    workers: dict[str, Any]  # compose.yaml's worker services (distributed)

    def client(self, api_key: str | None = None, limits: httpx.Limits | None = None) -> httpx.AsyncClient:
        """A client for `api_key` (the operator's by default; "" for none) that reaches every service."""
        key = self.token if api_key is None else api_key
        headers = {"authorization": f"Bearer {key}"} if key else {}
        return httpx.AsyncClient(
            transport=ServiceRouter(self.urls, limits=limits or httpx.Limits()),
            base_url="http://flexsupply",
            headers=headers,
            timeout=60,
        )


class ServiceRouter(httpx.AsyncBaseTransport):
    """Sends each request to the service that serves its path, over one connection pool per service."""

    def __init__(self, urls: dict[str, str], limits: httpx.Limits) -> None:
        self.urls = urls
        self.transport = httpx.AsyncHTTPTransport(limits=limits)

    def service_of(self, path: str) -> str:
        if path.startswith(SUPPLIERS_PATHS):
            return "suppliers"
        return "fulfilment" if path.startswith(FULFILMENT_PATHS) else "matching"

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        base = httpx.URL(self.urls[self.service_of(request.url.path)])
        request.url = request.url.copy_with(scheme=base.scheme, host=base.host, port=base.port)
        request.headers["host"] = f"{base.host}:{base.port}"
        return await self.transport.handle_async_request(request)

    async def aclose(self) -> None:
        await self.transport.aclose()


def _clean_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("FLEXSUPPLY_")}


@contextmanager
def compose_stack(tmp_path: Path, postgres_url: str | None, broker_url: str) -> Iterator[Stack]:
    """compose.yaml's migrations, three services and workers, on fresh databases, with free ports."""
    compose = yaml.safe_load((ROOT / "compose.yaml").read_text())["services"]
    token = "distributed-test-token"
    with fresh_databases(postgres_url, tmp_path) as urls, processes(tmp_path) as running:
        env = _clean_env() | {
            "FLEXSUPPLY_OPERATOR_TOKEN": token,
            "FLEXSUPPLY_SESSION_SECRET": "distributed-test-session-secret",
            "FLEXSUPPLY_BROKER_URL": broker_url,
            **{f"FLEXSUPPLY_{service.upper()}_DATABASE_URL": url for service, url in urls.items()},
        }
        assert running.run("migrate", compose["migrate"]["command"], env) == 0, running.logs()
        ports = {name: free_port() for name in ("suppliers", "matching", "fulfilment")}
        env |= {f"FLEXSUPPLY_{name.upper()}_URL": f"http://127.0.0.1:{port}" for name, port in ports.items()}
        for name, port in ports.items():
            command = list(compose[name]["command"])
            command[command.index("--port") + 1] = str(port)
            running.start(name, command, env)
        workers = {name: spec for name, spec in compose.items() if spec.get("command", [])[1:2] == ["worker"]}
        for name, spec in workers.items():
            for replica in range(spec.get("deploy", {}).get("replicas", 1)):
                running.start(f"{name}-{replica}", spec["command"], env)
        for name, port in ports.items():
            health = wait_until_healthy(f"http://127.0.0.1:{port}/health", running)
            assert health == {"status": "up", "services": {name: {"database": "up"}}, "broker": "up"}, health
        yield Stack({name: f"http://127.0.0.1:{port}" for name, port in ports.items()}, token, running, workers)


@contextmanager
def embedded_stack(tmp_path: Path) -> Iterator[Stack]:
    """`flexsupply up` in a fresh data folder: one process, SQLite, the in-process broker and worker."""
    port = free_port()
    env = _clean_env() | {"FLEXSUPPLY_DATA_DIR": str(tmp_path / "data"), "FLEXSUPPLY_PORT": str(port)}
    base = f"http://127.0.0.1:{port}"
    with processes(tmp_path) as running:
        running.start("up", ["flexsupply", "up"], env)
        wait_until_healthy(f"{base}/health", running)
        token = (tmp_path / "data" / "operator-token").read_text().strip()
        yield Stack(dict.fromkeys(("suppliers", "matching", "fulfilment"), base), token, running, {})
