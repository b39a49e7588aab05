"""The suppliers service: a router for the embedded stack, or an app of its own. Nothing is read at import."""

from pathlib import Path

from litestar import Litestar, Router
from litestar.di import Provide

from flexsupply.kit.app import Lifespan, build_app
from flexsupply.kit.auth import bearer_authentication, provide_caller
from flexsupply.kit.service import idempotency_provider, service_lifespan
from flexsupply.suppliers import controllers, services
from flexsupply.suppliers.deps import SERVICE, provide_transaction, resolve_supplier
from flexsupply.suppliers.models import IdempotencyRecord, OutboxMessage, SuppliersTable
from flexsupply.suppliers.settings import SuppliersSettings

MIGRATIONS = Path(__file__).resolve().parents[2] / "migrations"
METADATA = SuppliersTable.metadata


def create_router(settings: SuppliersSettings) -> Router:
    return Router(
        path="/",
        route_handlers=[
            controllers.RegionController,
            controllers.SupplierController,
            controllers.MeController,
            controllers.OfferController,
            controllers.EligibleOfferController,
        ],
        dependencies={
            "transaction": Provide(provide_transaction),
            "caller": Provide(provide_caller),
            "idempotency": Provide(idempotency_provider(settings, IdempotencyRecord)),
        },
        middleware=[bearer_authentication(settings.require_operator_token, resolve_supplier)],
    )


def create_lifespan(settings: SuppliersSettings) -> Lifespan:
    return service_lifespan(
        SERVICE, settings, settings.database_url, OutboxMessage, requeue_unfinished=services.requeue_pending_webhooks
    )


def create_app(settings: SuppliersSettings | None = None) -> Litestar:
    settings = settings or SuppliersSettings()
    return build_app(
        title="flexsupply suppliers",
        routers=[create_router(settings)],
        lifespans=[create_lifespan(settings)],
        log_level=settings.log_level,
    )
