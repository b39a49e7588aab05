"""The fulfilment service: a router for the embedded stack, or an app of its own. Nothing is read at import."""

from pathlib import Path

from litestar import Litestar, Router
from litestar.di import Provide

from flexsupply.fulfilment.deps import SERVICE, provide_transaction
from flexsupply.fulfilment.models import FulfilmentTable, OutboxMessage
from flexsupply.fulfilment.settings import FulfilmentSettings
from flexsupply.kit.app import Lifespan, build_app
from flexsupply.kit.auth import bearer_authentication, provide_caller
from flexsupply.kit.service import service_lifespan

MIGRATIONS = Path(__file__).resolve().parents[2] / "migrations"
METADATA = FulfilmentTable.metadata


def create_router(settings: FulfilmentSettings) -> Router:
    return Router(
        path="/",
        route_handlers=[],
        dependencies={"transaction": Provide(provide_transaction), "caller": Provide(provide_caller)},
        middleware=[bearer_authentication(settings.require_operator_token)],
    )


def create_lifespan(settings: FulfilmentSettings) -> Lifespan:
    return service_lifespan(SERVICE, settings, settings.database_url, OutboxMessage)


def create_app(settings: FulfilmentSettings | None = None) -> Litestar:
    settings = settings or FulfilmentSettings()
    return build_app(
        title="flexsupply fulfilment",
        routers=[create_router(settings)],
        lifespans=[create_lifespan(settings)],
        log_level=settings.log_level,
    )
