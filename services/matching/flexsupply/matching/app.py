"""The matching service: a router for the embedded stack, or an app of its own. Nothing is read at import."""

from pathlib import Path

from litestar import Litestar, Router
from litestar.di import Provide

from flexsupply.kit.app import Lifespan, build_app
from flexsupply.kit.auth import bearer_authentication, provide_caller
from flexsupply.kit.service import service_lifespan
from flexsupply.matching.deps import SERVICE, provide_transaction
from flexsupply.matching.models import MatchingTable, OutboxMessage
from flexsupply.matching.settings import MatchingSettings

MIGRATIONS = Path(__file__).resolve().parents[2] / "migrations"
METADATA = MatchingTable.metadata


def create_router(settings: MatchingSettings) -> Router:
    return Router(
        path="/",
        route_handlers=[],
        dependencies={"transaction": Provide(provide_transaction), "caller": Provide(provide_caller)},
        middleware=[bearer_authentication(settings.require_operator_token)],
    )


def create_lifespan(settings: MatchingSettings) -> Lifespan:
    return service_lifespan(SERVICE, settings, settings.database_url, OutboxMessage)


def create_app(settings: MatchingSettings | None = None) -> Litestar:
    settings = settings or MatchingSettings()
    return build_app(
        title="flexsupply matching",
        routers=[create_router(settings)],
        lifespans=[create_lifespan(settings)],
        log_level=settings.log_level,
    )
