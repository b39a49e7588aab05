"""Liveness (`/live`: the process answers, nothing else) and readiness (`/ready`, also `/health`: each service's
database and the broker, checked at each call)."""

import asyncio
from collections.abc import Awaitable, Callable
from typing import Literal

import anyio
from litestar import Litestar, Response, get
from litestar.datastructures import State
from litestar.openapi import ResponseSpec
from pydantic import BaseModel, Field

from flexsupply.kit.broker import BROKER_URL, ping_broker

Check = Callable[[], Awaitable[None]]
CHECK_TIMEOUT_SECONDS = 3.0
# The broker's own timeouts end its thread before the check gives up on it.
BROKER_TIMEOUT_SECONDS = 2.0


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
    await anyio.to_thread.run_sync(ping_broker, BROKER_URL, BROKER_TIMEOUT_SECONDS)


class Liveness(BaseModel):
    status: Literal["up"]


class HealthReport(BaseModel):
    status: Literal["up", "down"]
    services: dict[str, dict[str, str]] = Field(description="Each service's components: 'up' or 'down: <why>'.")
    broker: str = Field(description="'up' or 'down: <why>'.")


@get("/live", exclude_from_auth=True, tags=["health"], sync_to_thread=False)
def live() -> Liveness:
    """The process answers: for liveness probes (restart when it fails). It never looks at a database or the
    broker, so their outage never restarts a service that would work again once they are back."""
    return Liveness(status="up")


@get(
    ["/ready", "/health"],
    exclude_from_auth=True,
    tags=["health"],
    responses={503: ResponseSpec(HealthReport, description="A database or the broker is down: the report says which.")},
)
async def health(state: State) -> Response[HealthReport]:
    """Readiness (send traffic here?): each service with its database, and the broker, each checked now with a
    fresh connection and a short timeout: 200 when all are up, else 503."""
    checks: dict[str, dict[str, Check]] = state.get("health_checks", {})
    services = {
        service: {component: await _run(check) for component, check in components.items()}
        for service, components in checks.items()
    }
    broker = await _run(_ping_broker)
    healthy = broker == "up" and all(state == "up" for c in services.values() for state in c.values())
    report = HealthReport(status="up" if healthy else "down", services=services, broker=broker)
    return Response(report, status_code=200 if healthy else 503)
