"""The matching service, described once for every way it runs (kit.service). Nothing is read at import."""

from pathlib import Path

from litestar import Router
from litestar.di import Provide

from flexsupply.clients.suppliers import supplier_for_api_key
from flexsupply.kit.auth import SupplierKeyIntrospection, bearer_authentication, provide_caller
from flexsupply.kit.service import ServiceDescription, idempotency_provider
from flexsupply.matching import (
    awards,
    checkout,
    controllers,
    pages,
    payment_controllers,
    refunds,
    runs,
    sale_controllers,
    sales,
    services,
)
from flexsupply.matching.deps import SERVICE, RegionCatalogue, provide_transaction, resolve_leader
from flexsupply.matching.domain.award import AnswerTooLate, AwardConflict, AwardNotOffered
from flexsupply.matching.domain.package import InvalidTransition, NotEditable, WindowTooLate
from flexsupply.matching.domain.planning import InvalidRound
from flexsupply.matching.domain.refund import InvalidRefundMove
from flexsupply.matching.domain.sale import BuyerLimitReached, InvalidOrderMove, SaleNotOnSale, SaleNotOpen, SoldOut
from flexsupply.matching.domain.signup import SignupClosed, SignupExists
from flexsupply.matching.lead import pages as lead_pages
from flexsupply.matching.models import IdempotencyRecord, MatchingTable, OutboxMessage
from flexsupply.matching.payments import PaymentRejected
from flexsupply.matching.settings import MatchingSettings
from flexsupply.matching.wechatpay import WechatPayNotConfigured


def create_router(settings: MatchingSettings) -> Router:
    regions = RegionCatalogue(settings)
    return Router(
        path="/",
        route_handlers=[
            controllers.CommunityController,
            controllers.LeaderController,
            controllers.PackageController,
            controllers.PhotoController,
            controllers.SignupController,
            controllers.SourcingRoundController,
            controllers.MatchRunController,
            controllers.PackageAwardController,
            controllers.SupplierAwardController,
            sale_controllers.SaleController,
            sale_controllers.BuyerOrderController,
            sale_controllers.PackageSaleController,
            sale_controllers.MarketController,
            sale_controllers.PaymentCallbackController,
            payment_controllers.WechatPayOrderController,
            payment_controllers.WechatPayOrderForm,
            payment_controllers.WechatPayNotificationController,
            payment_controllers.RefundController,
            payment_controllers.PayeeController,
            *pages.routes(),
            *lead_pages.routes(settings),
        ],
        dependencies={
            "transaction": Provide(provide_transaction),
            "caller": Provide(provide_caller),
            "idempotency": Provide(idempotency_provider(settings, IdempotencyRecord)),
            "regions": Provide(lambda: regions, use_cache=True, sync_to_thread=False),
            "settings": Provide(lambda: settings, use_cache=True, sync_to_thread=False),
        },
        # Leaders' keys are this service's own; suppliers' keys are asked of the suppliers service.
        middleware=[
            bearer_authentication(
                settings.require_operator_token,
                resolve_leader,
                SupplierKeyIntrospection(settings, supplier_for_api_key),
            )
        ],
    )


DESCRIPTION = ServiceDescription(
    name=SERVICE,
    title="flexsupply matching",
    settings=MatchingSettings,
    create_router=create_router,
    metadata=MatchingTable.metadata,
    migrations=Path(__file__).resolve().parents[2] / "migrations",
    locale_directories=(Path(__file__).resolve().parent / "locale",),
    outbox_table=OutboxMessage,
    actor_modules=("flexsupply.matching.actors",),
    template_directories=(pages.TEMPLATES,),
    sweepers=(
        runs.sweep_stalled_runs,
        services.sweep_unacknowledged_rounds,
        sales.sweep_sales,
        checkout.sweep_wechat_payments,
        refunds.sweep_refunds,
        awards.sweep_waiting_awards,
    ),
    domain_errors={
        runs.NothingToMatch: 409,
        AnswerTooLate: 409,
        AwardConflict: 409,
        AwardNotOffered: 409,
        InvalidRound: 409,
        InvalidTransition: 409,
        InvalidOrderMove: 409,
        BuyerLimitReached: 409,
        PaymentRejected: 401,
        InvalidRefundMove: 409,
        WechatPayNotConfigured: 409,
        SaleNotOnSale: 409,
        SaleNotOpen: 409,
        SoldOut: 409,
        NotEditable: 409,
        WindowTooLate: 409,
        SignupClosed: 409,
        SignupExists: 409,
    },
)
