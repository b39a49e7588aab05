"""Liveness (`/live`) and a full health report (`/health`): each service's database and the broker."""

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import anyio
from litestar import Litestar, Response, get
from litestar.datastructures import State

from flexsupply.kit.broker import ping_broker

Check = Callable[[], Awaitable[None]]
CHECK_TIMEOUT_SECONDS = 3.0


def register_check(app: Litestar, service: str, component: str, check: Check) -> None:
    """Called from a service's lifespan: its checks exist only while it runs."""
    app.state.setdefault("health_checks", {}).setdefault(service, {})[component] = check


async def _run(check: Check) -> str:
    try:
        await asyncio.wait_for(check(), CHECK_TIMEOUT_SECONDS)
    except Exception as exc:
        return f"down: {type(exc).__name__}: {exc}"[:200]
    return "up"


async def _ping_broker() -> None:
    await anyio.to_thread.run_sync(ping_broker)


@get("/live", exclude_from_auth=True, tags=["health"], sync_to_thread=False)
def live() -> dict[str, str]:
    """The process answers. Cheap: for orchestrators' liveness probes."""
    return {"status": "up"}


@get("/health", exclude_from_auth=True, tags=["health"])
async def health(state: State) -> Response[dict[str, Any]]:
    """Each service with its database, and the broker: 200 when all are up, else 503."""
    checks: dict[str, dict[str, Check]] = state.get("health_checks", {})
    services = {
        service: {component: await _run(check) for component, check in components.items()}
        for service, components in checks.items()
    }
    broker = await _run(_ping_broker)
    healthy = broker == "up" and all(state == "up" for c in services.values() for state in c.values())
    body = {"status": "up" if healthy else "down", "services": services, "broker": broker}
    return Response(body, status_code=200 if healthy else 503)
