"""The suppliers service, described once for every way it runs (kit.service). Nothing is read at import."""

from pathlib import Path

from litestar import Router
from litestar.di import Provide

from flexsupply.kit.auth import bearer_authentication, provide_caller
from flexsupply.kit.service import ServiceDescription, idempotency_provider
from flexsupply.suppliers import controllers, desk, services
from flexsupply.suppliers.deps import SERVICE, provide_transaction, resolve_supplier
from flexsupply.suppliers.domain.rfq import ReplyDeadlinePassed
from flexsupply.suppliers.models import IdempotencyRecord, OutboxMessage, SuppliersTable
from flexsupply.suppliers.settings import SuppliersSettings


def create_router(settings: SuppliersSettings) -> Router:
    return Router(
        path="/",
        route_handlers=[
            controllers.RegionController,
            controllers.SupplierController,
            controllers.MeController,
            controllers.OfferController,
            controllers.EligibleOfferController,
            controllers.ApiKeyIntrospectionController,
            controllers.RfqController,
            controllers.RfqRoundController,
            *desk.routes(settings),
        ],
        dependencies={
            "transaction": Provide(provide_transaction),
            "caller": Provide(provide_caller),
            "idempotency": Provide(idempotency_provider(settings, IdempotencyRecord)),
        },
        middleware=[bearer_authentication(settings.require_operator_token, resolve_supplier)],
    )


DESCRIPTION = ServiceDescription(
    name=SERVICE,
    title="flexsupply suppliers",
    settings=SuppliersSettings,
    create_router=create_router,
    metadata=SuppliersTable.metadata,
    migrations=Path(__file__).resolve().parents[2] / "migrations",
    locale_directories=(Path(__file__).resolve().parent / "locale",),
    outbox_table=OutboxMessage,
    actor_modules=("flexsupply.suppliers.actors",),
    sweepers=(services.sweep_overdue_webhooks,),
    template_directories=(desk.TEMPLATES,),
    domain_errors={ReplyDeadlinePassed: 409},
)
