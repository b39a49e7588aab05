"""HTTP layer of payments and refunds: the buyer's WeChat Pay action, WeChat Pay's notifications, refunds as buyers'
leaders and staff see them (and the leader's record of a refund paid by transfer), and the community's payee."""

import contextlib
import time
from typing import Annotated
from uuid import UUID

from litestar import Controller, Request, get, post, put
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody, PathParameter, QueryParameter
from litestar.response import Redirect

from flexsupply.contracts.errors import NotFound
from flexsupply.kit.auth import operators_only
from flexsupply.kit.clock import utc_now
from flexsupply.kit.openapi import problem_responses
from flexsupply.kit.pagination import DEFAULT_LIMIT, Limit, Offset
from flexsupply.kit.service import Caller, Transaction
from flexsupply.matching import checkout, refunds, sales, wechatpay
from flexsupply.matching.deps import community_scope, leaders_and_operators
from flexsupply.matching.domain.refund import RefundStatus
from flexsupply.matching.domain.sale import InvalidOrderMove
from flexsupply.matching.schemas import (
    BuyerOrderPublic,
    LeaderRefundPublic,
    PayeePublic,
    PayeeSettings,
    RefundPaidByTransfer,
)
from flexsupply.matching.settings import MatchingSettings

Settings = NamedDependency[MatchingSettings]
OrderToken = Annotated[str, PathParameter(min_length=16, max_length=64, description="The order's token.")]


class WechatPayOrderController(Controller):
    path = "/api/v1/orders"
    tags = ["payments"]

    @post("/{order_token:str}/wechat-pay", exclude_from_auth=True, status_code=202)
    async def ask_wechat_payment(
        self, transaction: Transaction, settings: Settings, order_token: OrderToken
    ) -> BuyerOrderPublic:
        """Pay the order with WeChat Pay (202): its QR code comes in `payment.wechatpay` within a moment (poll the
        order). Asked again, nothing changes; 409 where WeChat Pay is not configured or the order is not payable."""
        if not wechatpay.configured(settings):
            raise wechatpay.WechatPayNotConfigured("this service does not take WeChat Pay: pay by transfer")
        await checkout.ask_wechat_payment(transaction, order_token)
        return await sales.buyer_order(transaction, order_token, wechatpay=True)


class WechatPayOrderForm(Controller):
    """The order page's WeChat Pay button (templates/_payment.html): a plain form, so it works without JavaScript."""

    path = "/order"
    include_in_schema = False
    opt = {"exclude_from_auth": True}

    @post("/{token:str}/wechat-pay", status_code=303)
    async def ask_wechat_payment(self, transaction: Transaction, settings: Settings, token: OrderToken) -> Redirect:
        """Ask for the payment, then show the order again: its QR code appears there once WeChat Pay answers.
        An order that no longer waits for a payment is simply shown (its page says why)."""
        if wechatpay.configured(settings):
            with contextlib.suppress(InvalidOrderMove, NotFound):
                await checkout.ask_wechat_payment(transaction, token)
        return Redirect(f"/order/{token}", status_code=303)


class WechatPayNotificationController(Controller):
    path = "/api/v1/payments/wechatpay"
    tags = ["payments"]

    # 401: the platform's signature does not verify; 404: WeChat Pay is not configured (nor is the endpoint, then).
    @post("/notifications", exclude_from_auth=True, status_code=204, responses=problem_responses(400, 401, 404))
    async def notification(self, request: Request, transaction: Transaction, settings: Settings) -> None:
        """WeChat Pay's payment and refund notifications, signed by its platform certificate and encrypted under
        the API v3 key (401 when they do not verify; WeChat Pay then sends again). Repeated, nothing changes."""
        if not wechatpay.configured(settings):
            raise NotFound("this service does not take WeChat Pay")
        config = wechatpay.load_config(settings)
        notice = wechatpay.read_notification(config, request.headers, await request.body(), time.time())
        if notice.event_type.startswith("TRANSACTION."):
            await sales.pay_by_wechat(transaction, wechatpay.trade_state(notice.resource))
        elif notice.event_type.startswith("REFUND."):
            await refunds.refund_notified(transaction, wechatpay.refund_state(notice.resource), utc_now())


class RefundController(Controller):
    """Refunds: a leader's own community's, any for operators."""

    path = "/api/v1/refunds"
    tags = ["payments"]
    guards = [leaders_and_operators]

    @get("/", guards=[operators_only])
    async def list_refunds(
        self,
        transaction: Transaction,
        caller: Caller,
        status: Annotated[RefundStatus | None, QueryParameter(description="Only refunds in this status.")] = None,
        limit: Limit = DEFAULT_LIMIT,
        offset: Offset = 0,
    ) -> list[LeaderRefundPublic]:
        """Every community's refunds, newest first (`status=failed`: those WeChat Pay refused, retried by
        themselves)."""
        return await refunds.all_refunds(transaction, status, limit, offset)

    @get("/{refund_id:uuid}")
    async def get_refund(
        self, transaction: Transaction, caller: Caller, refund_id: FromPath[UUID]
    ) -> LeaderRefundPublic:
        return await refunds.refund_view(transaction, refund_id, community_scope(caller))

    @post("/{refund_id:uuid}/transfer", status_code=200)
    async def record_transfer(
        self, transaction: Transaction, caller: Caller, refund_id: FromPath[UUID], data: JSONBody[RefundPaidByTransfer]
    ) -> LeaderRefundPublic:
        """The leader paid the refund back by transfer, with its reference. The same reference again changes
        nothing; another is a 409. A WeChat Pay refund may be paid so only once it has failed."""
        scope = community_scope(caller)
        await refunds.record_transfer(transaction, refund_id, scope, data.reference, caller.actor)
        return await refunds.refund_view(transaction, refund_id, scope)


class PayeeController(Controller):
    """Whom the community's buyers pay by transfer."""

    path = "/api/v1/communities"
    tags = ["payments"]
    guards = [leaders_and_operators]

    @get("/{community_id:uuid}/payee")
    async def get_payee(self, transaction: Transaction, caller: Caller, community_id: FromPath[UUID]) -> PayeePublic:
        _check_community(caller, community_id)
        return await checkout.payee(transaction, community_id)

    @put("/{community_id:uuid}/payee")
    async def set_payee(
        self, transaction: Transaction, caller: Caller, community_id: FromPath[UUID], data: JSONBody[PayeeSettings]
    ) -> PayeePublic:
        """Shown on every unpaid order of the community, with the order's reference and total."""
        _check_community(caller, community_id)
        return await checkout.set_payee(transaction, community_id, data)


def _check_community(caller: Caller, community_id: UUID) -> None:
    scope = community_scope(caller)
    if scope is not None and scope != community_id:
        raise NotFound(f"no community {community_id}")
