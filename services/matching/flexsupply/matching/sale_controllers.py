"""HTTP layer of the flash sale: buyers (no account: the sale is public, an order's token is its key), leaders and
operators (orders with addresses, the close, statements, refunds, market evenings) and payment providers."""

from dataclasses import dataclass
from typing import Annotated
from uuid import UUID

from litestar import Controller, Request, Response, get, post
from litestar.datastructures import State, UploadFile
from litestar.di import NamedDependency
from litestar.enums import RequestEncodingType
from litestar.openapi import ResponseSpec
from litestar.params import Body, FromPath, HeaderParameter, JSONBody, PathParameter
from litestar.response import ServerSentEvent

from flexsupply.contracts.errors import NotFound
from flexsupply.kit.clock import utc_now
from flexsupply.kit.db import Database
from flexsupply.kit.idempotency import IDEMPOTENCY_KEY_PATTERN
from flexsupply.kit.openapi import problem_responses
from flexsupply.kit.pagination import DEFAULT_LIMIT, Limit, Offset
from flexsupply.kit.ratelimit import client_address, rate_limits
from flexsupply.kit.service import Caller, Transaction, database_key
from flexsupply.matching import refunds, sales, wechatpay
from flexsupply.matching.deps import SERVICE, community_scope, leaders_and_operators
from flexsupply.matching.domain.sale import SaleNotOnSale
from flexsupply.matching.payments import decode_statement, providers
from flexsupply.matching.problems import TRANSLATED_PROBLEMS
from flexsupply.matching.schemas import (
    BuyerOrderPublic,
    LeaderOrderPublic,
    LeaderRefundPublic,
    MarketCreate,
    MarketPublic,
    OrderCreate,
    OrderPlaced,
    PaymentCallbackAnswer,
    SaleClosePublic,
    SaleCloseRequest,
    SalePublic,
    StatementReport,
    StockPublic,
)
from flexsupply.matching.settings import MatchingSettings

Settings = NamedDependency[MatchingSettings]
SSE_MEDIA_TYPE = "text/event-stream"
OrderToken = Annotated[str, PathParameter(min_length=16, max_length=64, description="The order's token.")]
# Required here: a buyer's retry (a double tap, an answer lost on the way) must never order twice.
OrderKey = Annotated[
    str,
    HeaderParameter(
        name="Idempotency-Key",
        required=True,
        min_length=8,
        max_length=200,
        pattern=IDEMPOTENCY_KEY_PATTERN,
        description="Required: the same key returns the first order instead of a second one.",
    ),
]


@dataclass
class StatementUpload:
    """The bank's CSV export (a header with an amount column and a memo column), or a WeChat Pay or Alipay bill."""

    statement: UploadFile


def _database(state: State) -> Database:
    return state[database_key(SERVICE)]


def award_terms(settings: MatchingSettings) -> sales.AwardTerms:
    return sales.AwardTerms(settings.match_time_limit_seconds, settings.award_answer_hours)


class SaleController(Controller):
    """A package's flash sale, public: what is on sale, what is left, and ordering."""

    path = "/api/v1/sales"
    tags = ["sales"]

    @get("/{package_id:uuid}", exclude_from_auth=True)
    async def get_sale(self, transaction: Transaction, package_id: FromPath[UUID]) -> SalePublic:
        """The item, its price, the window and what is left per region."""
        return await sales.sale_view(transaction, package_id)

    @get("/{package_id:uuid}/stock", exclude_from_auth=True, cache=False)
    async def get_stock(self, state: State, package_id: FromPath[UUID]) -> StockPublic:
        """Units left per region: cheap to poll (shared by all pollers for half a second)."""
        return await sales.stock(_database(state), package_id)

    @get(
        "/{package_id:uuid}/stock/events",
        exclude_from_auth=True,
        responses={
            200: ResponseSpec(
                str,
                generate_examples=False,
                media_type=SSE_MEDIA_TYPE,
                description="Server-sent events: `event: stock`, its `data` a StockPublic as JSON, on each change.",
            )
        },
        media_type=SSE_MEDIA_TYPE,
    )
    async def stock_events(self, state: State, package_id: FromPath[UUID]) -> ServerSentEvent:
        """The live counter: a server-sent event each time the stock changes, until the sale has ended."""
        database = _database(state)
        await sales.stock(database, package_id)  # 404 before the stream starts
        return ServerSentEvent(sales.stock_changes(database, package_id), event_type="stock")

    @post(
        "/{package_id:uuid}/orders",
        exclude_from_auth=True,
        middleware=[TRANSLATED_PROBLEMS],  # a buyer's page or script shows the refusal as it is
        responses={
            200: ResponseSpec(OrderPlaced, description="The same key's first order, replayed."),
            **problem_responses(429),
        },
    )
    async def place_order(
        self,
        request: Request,
        state: State,
        package_id: FromPath[UUID],
        idempotency_key: OrderKey,
        data: JSONBody[OrderCreate],
    ) -> Response[OrderPlaced]:
        """Order (201). Sold out is a 409 `sold-out` saying what is left; outside the window a 409 `sale-not-open`
        with the opening time; over the per-buyer limit a 409 `buyer-limit-reached`. Pay within `pay_by`. Too
        many orders from one phone or one address: a 429 with `Retry-After`."""
        await rate_limits(request).order(client_address(request), data.phone)
        order, created = await sales.place_order(_database(state), package_id, idempotency_key, data)
        return Response(
            order, status_code=201 if created else 200, headers={"Idempotent-Replayed": str(not created).lower()}
        )


class BuyerOrderController(Controller):
    """A buyer's own order, reached with the token returned when ordering."""

    path = "/api/v1/orders"
    tags = ["sales"]

    @get("/{order_token:str}", exclude_from_auth=True)
    async def get_order(
        self, transaction: Transaction, settings: Settings, order_token: OrderToken
    ) -> BuyerOrderPublic:
        """The order, whom to pay and how (`payment`), and any refund owed on it."""
        return await sales.buyer_order(transaction, order_token, wechatpay=wechatpay.configured(settings))

    @post("/{order_token:str}/cancel", exclude_from_auth=True, status_code=200)
    async def cancel_order(
        self, transaction: Transaction, settings: Settings, order_token: OrderToken
    ) -> BuyerOrderPublic:
        """Cancel before the close: the units go back on sale at once; a paid order is refunded."""
        return await sales.cancel_order(transaction, order_token, wechatpay=wechatpay.configured(settings))


class PackageSaleController(Controller):
    """A package's sale as its leader (or an operator) runs it."""

    path = "/api/v1/packages"
    tags = ["sales"]
    guards = [leaders_and_operators]

    @get("/{package_id:uuid}/orders")
    async def list_orders(
        self,
        transaction: Transaction,
        caller: Caller,
        package_id: FromPath[UUID],
        limit: Limit = DEFAULT_LIMIT,
        offset: Offset = 0,
    ) -> list[LeaderOrderPublic]:
        """Every order with whom to deliver to, in order of placing."""
        return await sales.package_orders(transaction, package_id, community_scope(caller), limit, offset)

    @post("/{package_id:uuid}/sale/close", status_code=200)
    async def close_sale(
        self,
        transaction: Transaction,
        caller: Caller,
        settings: Settings,
        package_id: FromPath[UUID],
        data: JSONBody[SaleCloseRequest],
    ) -> SaleClosePublic:
        """Close the sale before its window ends (sold out, say): as at the end, it goes ahead or is cancelled."""
        closed = await sales.close_sale(
            transaction,
            package_id,
            caller.actor,
            utc_now(),
            award_terms(settings),
            community_id=community_scope(caller),
            early_reason=data.reason,
        )
        if closed is None:
            raise SaleNotOnSale(f"package {package_id} is not on sale")
        return closed

    @post(
        "/{package_id:uuid}/payment-statements",
        status_code=200,
        request_max_body_size=5_000_000,
    )
    async def reconcile_statement(
        self,
        transaction: Transaction,
        caller: Caller,
        package_id: FromPath[UUID],
        data: Annotated[StatementUpload, Body(media_type=RequestEncodingType.MULTI_PART)],
    ) -> StatementReport:
        """Match a statement to the orders by payment reference and amount: a bank's CSV, or a WeChat Pay or
        Alipay bill as exported (GBK or UTF-8). Matched lines pay their orders; lines that match no order are
        listed; uploading the same statement again pays nothing twice."""
        statement = decode_statement(await data.statement.read())
        return await sales.reconcile_statement(transaction, package_id, community_scope(caller), statement)

    @get("/{package_id:uuid}/refunds")
    async def list_refunds(
        self, transaction: Transaction, caller: Caller, package_id: FromPath[UUID]
    ) -> list[LeaderRefundPublic]:
        """Money owed back to the package's buyers and where it stands: a cancelled package, a cancelled order, a
        late payment, an after-sales case. WeChat Pay refunds go back by themselves; transfer refunds are paid by
        the leader (POST /api/v1/refunds/{id}/transfer)."""
        return await refunds.package_refunds(transaction, package_id, community_scope(caller))


class MarketController(Controller):
    """Market evenings: many packages' sales in one running order."""

    path = "/api/v1/markets"
    tags = ["sales"]

    @post("/", guards=[leaders_and_operators])
    async def create_market(
        self, transaction: Transaction, caller: Caller, data: JSONBody[MarketCreate]
    ) -> MarketPublic:
        """A leader groups their packages; an operator may group several communities'."""
        return await sales.create_market(transaction, data, community_scope(caller), caller.actor)

    @get("/{market_id:uuid}", exclude_from_auth=True)
    async def get_market(self, transaction: Transaction, market_id: FromPath[UUID]) -> MarketPublic:
        """What is on now, what comes next (slot by slot) and what is left of each."""
        return await sales.market_view(transaction, market_id)


class PaymentCallbackController(Controller):
    """Payment providers confirm payments here, signed; each provider verifies its own callbacks."""

    path = "/api/v1/payments"
    tags = ["payments"]

    @post("/{provider:str}/callbacks", exclude_from_auth=True, status_code=200, responses=problem_responses(429))
    async def payment_callback(
        self,
        request: Request,
        transaction: Transaction,
        settings: Settings,
        provider: Annotated[str, PathParameter(max_length=40, pattern=r"^[a-z0-9-]+$")],
    ) -> PaymentCallbackAnswer:
        """A provider's confirmation that an order was paid (401 when the signature does not verify). Repeated,
        it changes nothing."""
        limits = rate_limits(request)
        await limits.hit(limits.payment_callbacks_per_address, client_address(request))
        known = providers(settings.require_operator_token())
        if provider not in known:
            raise NotFound(f"no payment provider {provider!r}; known: {', '.join(sorted(known))}")
        notice = known[provider].verify(await request.body(), request.headers)
        order = await sales.pay_order(transaction, notice.payment_reference, notice.amount_cents, provider)
        return PaymentCallbackAnswer(payment_reference=order.payment_reference, status=order.status)
