"""Liveness (`/live`) and a full health report (`/health`): each service's database and the broker."""

import asyncio
from collections.abc import Awaitable, Callable
from typing import Literal

import anyio
from litestar import Litestar, Response, get
from litestar.datastructures import State
from litestar.openapi import ResponseSpec
from pydantic import BaseModel, Field

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


class Liveness(BaseModel):
    status: Literal["up"]


class HealthReport(BaseModel):
    status: Literal["up", "down"]
    services: dict[str, dict[str, str]] = Field(description="Each service's components: 'up' or 'down: <why>'.")
    broker: str = Field(description="'up' or 'down: <why>'.")


@get("/live", exclude_from_auth=True, tags=["health"], sync_to_thread=False)
def live() -> Liveness:
    """The process answers. Cheap: for orchestrators' liveness probes."""
    return Liveness(status="up")


@get(
    "/health",
    exclude_from_auth=True,
    tags=["health"],
    responses={503: ResponseSpec(HealthReport, description="A database or the broker is down: the report says which.")},
)
async def health(state: State) -> Response[HealthReport]:
    """Each service with its database, and the broker: 200 when all are up, else 503."""
    checks: dict[str, dict[str, Check]] = state.get("health_checks", {})
    services = {
        service: {component: await _run(check) for component, check in components.items()}
        for service, components in checks.items()
    }
    broker = await _run(_ping_broker)
    healthy = broker == "up" and all(state == "up" for c in services.values() for state in c.values())
    report = HealthReport(status="up" if healthy else "down", services=services, broker=broker)
    return Response(report, status_code=200 if healthy else 503)
