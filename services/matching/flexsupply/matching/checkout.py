"""How a buyer pays an order: the instructions (WeChat Pay where it is configured, else the leader's payee for a
transfer with the reference in its memo), and the order's WeChat Pay Native order, made by an actor when the buyer
asks for it and queried by the sweeper when its notification does not come."""

from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID

import segno
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from flexsupply.contracts.errors import NotFound
from flexsupply.contracts.events import WechatPaymentCheckDue, WechatPaymentDue
from flexsupply.kit import outbox
from flexsupply.kit.clock import utc_now
from flexsupply.matching.domain.sale import InvalidOrderMove, OrderStatus
from flexsupply.matching.models import Community, DemandPackage, OutboxMessage, SaleOrder, WechatPayment
from flexsupply.matching.schemas import PayeePublic, PayeeSettings, PaymentInstructions, TransferPayee, WechatPayAction

LATE_NOTICE = timedelta(hours=2)


def _wechat_action(order: SaleOrder, payment: WechatPayment | None) -> WechatPayAction:
    status = "not_asked"
    if payment is not None:
        status = "ready" if payment.code_url else "failed" if payment.error else "preparing"
    code_url = payment.code_url if payment else None
    return WechatPayAction(
        status=status,
        action_url=f"/api/v1/orders/{order.token}/wechat-pay",
        code_url=code_url,
        qr_svg_data_uri=segno.make(code_url, error="m").svg_data_uri(scale=6) if code_url else None,
        error=payment.error if payment else None,
    )


async def payment_instructions(
    session: AsyncSession, order: SaleOrder, package: DemandPackage, wechatpay: bool
) -> PaymentInstructions | None:
    """Whom to pay, while the order waits for its payment; None once there is nothing to pay."""
    if order.status is not OrderStatus.PLACED:
        return None
    community = await session.get(Community, package.community_id)
    assert community is not None
    transfer = None
    if community.payee_name and community.payee_account:
        transfer = TransferPayee(payee_name=community.payee_name, payee_account=community.payee_account)
    action = _wechat_action(order, await session.get(WechatPayment, order.id)) if wechatpay else None
    return PaymentInstructions(
        amount_cents=order.amount_cents,
        currency=order.currency,
        payment_reference=order.payment_reference,
        pay_by=order.pay_by,
        wechatpay=action,
        transfer=transfer,
    )


# --- the community's payee -----------------------------------------------------------------------------------------


async def set_payee(session: AsyncSession, community_id: UUID, data: PayeeSettings) -> PayeePublic:
    """Setting the same payee again changes nothing: a retried request is safe without a key."""
    community = await session.get(Community, community_id, with_for_update=True)
    if community is None:
        raise NotFound(f"no community {community_id}")
    community.payee_name, community.payee_account = data.payee_name, data.payee_account
    await session.flush()
    return PayeePublic(
        community_id=community.id, payee_name=community.payee_name, payee_account=community.payee_account
    )


async def payee(session: AsyncSession, community_id: UUID) -> PayeePublic:
    community = await session.get(Community, community_id)
    if community is None:
        raise NotFound(f"no community {community_id}")
    return PayeePublic(
        community_id=community.id, payee_name=community.payee_name, payee_account=community.payee_account
    )


# --- the order's WeChat Pay order ----------------------------------------------------------------------------------


async def ask_wechat_payment(session: AsyncSession, token: str) -> None:
    """The buyer chose WeChat Pay: its Native order is made after the commit. Asked again, nothing changes unless
    the last attempt failed (then it is tried again)."""
    order = (await session.exec(select(SaleOrder).where(col(SaleOrder.token) == token).with_for_update())).first()
    if order is None:
        raise NotFound("no order with this token")
    if order.status is not OrderStatus.PLACED:
        raise InvalidOrderMove(f"a {order.status} order does not wait for a payment")
    payment = await session.get(WechatPayment, order.id, with_for_update=True)
    if payment is not None and payment.error is None:
        return
    if payment is None:
        session.add(WechatPayment(order_id=order.id))
    else:
        payment.error, payment.requested_at = None, utc_now()
    await session.flush()
    outbox.publish(session, OutboxMessage, WechatPaymentDue(order_id=order.id))


@dataclass(frozen=True)
class NativeOrder:
    out_trade_no: str
    description: str
    total_cents: int
    expires_at: datetime


async def native_order_to_make(session: AsyncSession, order_id: UUID) -> NativeOrder | None:
    """What to ask WeChat Pay for, if the order still waits for it (None: made already, or no longer payable)."""
    payment = await session.get(WechatPayment, order_id)
    order = await session.get(SaleOrder, order_id)
    if payment is None or payment.code_url is not None or order is None or order.status is not OrderStatus.PLACED:
        return None
    package = await session.get(DemandPackage, order.package_id)
    assert package is not None
    return NativeOrder(order.payment_reference, package.title, order.amount_cents, order.pay_by)


async def record_native_order(session: AsyncSession, order_id: UUID, code_url: str | None, error: str | None) -> None:
    payment = await session.get(WechatPayment, order_id, with_for_update=True)
    if payment is None or payment.code_url is not None:
        return
    now = utc_now()
    payment.code_url, payment.error = code_url, None if code_url else (error or "no code_url")[:1000]
    payment.prepared_at = now if code_url else None


async def trade_to_check(session: AsyncSession, order_id: UUID) -> str | None:
    """The out_trade_no to ask WeChat Pay about, if the order still waits for its payment."""
    payment = await session.get(WechatPayment, order_id, with_for_update=True)
    order = await session.get(SaleOrder, order_id)
    if payment is None or payment.code_url is None or order is None or order.paid_at is not None:
        return None
    payment.checked_at = utc_now()
    return order.payment_reference


async def record_transaction(session: AsyncSession, order_id: UUID, transaction_id: str | None) -> None:
    payment = await session.get(WechatPayment, order_id)
    if payment is not None and transaction_id:
        payment.transaction_id = transaction_id


async def sweep_wechat_payments(session: AsyncSession, overdue_before: datetime) -> int:
    """Native orders whose message was lost are asked for again; unconfirmed ones are queried (their notification
    may be lost), once per grace period each."""
    unmade = (
        select(WechatPayment.order_id)
        .join(SaleOrder, col(SaleOrder.id) == col(WechatPayment.order_id))
        .where(
            col(WechatPayment.code_url).is_(None),
            col(WechatPayment.error).is_(None),
            col(WechatPayment.requested_at) <= overdue_before,
            col(SaleOrder.status) == OrderStatus.PLACED,
        )
        .limit(500)
    )
    unconfirmed = (
        select(WechatPayment.order_id)
        .join(SaleOrder, col(SaleOrder.id) == col(WechatPayment.order_id))
        .where(
            col(WechatPayment.code_url).is_not(None),
            col(SaleOrder.paid_at).is_(None),
            col(WechatPayment.prepared_at) <= overdue_before,
            (col(WechatPayment.checked_at).is_(None)) | (col(WechatPayment.checked_at) <= overdue_before),
            # A payment made just before the deadline may still be notified after it; later, WeChat Pay has closed
            # the order itself (its time_expire is the deadline).
            col(SaleOrder.pay_by) >= overdue_before - LATE_NOTICE,
        )
        .limit(500)
    )
    owed = 0
    for order_id in (await session.exec(unmade)).all():
        outbox.publish(session, OutboxMessage, WechatPaymentDue(order_id=order_id))
        owed += 1
    for order_id in (await session.exec(unconfirmed)).all():
        outbox.publish(session, OutboxMessage, WechatPaymentCheckDue(order_id=order_id))
        owed += 1
    return owed
