"""The matching service, described once for every way it runs (kit.service). Nothing is read at import."""

from pathlib import Path

from litestar import Router
from litestar.di import Provide

from flexsupply.clients.suppliers import SupplierKeyIntrospection
from flexsupply.kit.auth import bearer_authentication, provide_caller
from flexsupply.kit.service import ServiceDescription, idempotency_provider
from flexsupply.matching.deps import SERVICE, provide_transaction
from flexsupply.matching.models import IdempotencyRecord, MatchingTable, OutboxMessage
from flexsupply.matching.settings import MatchingSettings


def create_router(settings: MatchingSettings) -> Router:
    return Router(
        path="/",
        route_handlers=[],
        dependencies={
            "transaction": Provide(provide_transaction),
            "caller": Provide(provide_caller),
            "idempotency": Provide(idempotency_provider(settings, IdempotencyRecord)),
        },
        middleware=[bearer_authentication(settings.require_operator_token, SupplierKeyIntrospection(settings))],
    )


DESCRIPTION = ServiceDescription(
    name=SERVICE,
    title="flexsupply matching",
    settings=MatchingSettings,
    create_router=create_router,
    metadata=MatchingTable.metadata,
    migrations=Path(__file__).resolve().parents[2] / "migrations",
    outbox_table=OutboxMessage,
)
