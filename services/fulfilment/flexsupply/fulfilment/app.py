"""The fulfilment service, described once for every way it runs (kit.service). Nothing is read at import."""

from pathlib import Path

from litestar import Router
from litestar.di import Provide

from flexsupply.clients.suppliers import supplier_for_api_key
from flexsupply.fulfilment import controllers, failures, pages, production
from flexsupply.fulfilment.deps import SERVICE, provide_transaction
from flexsupply.fulfilment.domain.states import InvalidMove
from flexsupply.fulfilment.models import FulfilmentTable, IdempotencyRecord, OutboxMessage
from flexsupply.fulfilment.settings import FulfilmentSettings
from flexsupply.kit.auth import SupplierKeyIntrospection, bearer_authentication, provide_caller
from flexsupply.kit.service import ServiceDescription, idempotency_provider


def create_router(settings: FulfilmentSettings) -> Router:
    return Router(
        path="/",
        route_handlers=[*controllers.CONTROLLERS, *pages.routes(settings)],
        dependencies={
            "transaction": Provide(provide_transaction),
            "caller": Provide(provide_caller),
            "idempotency": Provide(idempotency_provider(settings, IdempotencyRecord)),
        },
        middleware=[
            bearer_authentication(
                settings.require_operator_token, SupplierKeyIntrospection(settings, supplier_for_api_key)
            )
        ],
    )


DESCRIPTION = ServiceDescription(
    name=SERVICE,
    title="flexsupply fulfilment",
    settings=FulfilmentSettings,
    create_router=create_router,
    metadata=FulfilmentTable.metadata,
    migrations=Path(__file__).resolve().parents[2] / "migrations",
    locale_directories=(Path(__file__).resolve().parent / "locale",),
    outbox_table=OutboxMessage,
    actor_modules=("flexsupply.fulfilment.actors",),
    template_directories=(pages.TEMPLATES,),
    sweepers=(production.sweep_late_production, failures.sweep_stalled_jobs),
    domain_errors={InvalidMove: 409},
)
