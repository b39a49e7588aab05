"""Refunds executed, not listed: owed when an order's money must go back, requested through WeChat Pay's refund API
(by an actor, outside any transaction) or paid back by the leader's transfer, and retried by the sweeper until
they succeed (domain.refund)."""

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import func, or_
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from flexsupply.contracts.errors import InvalidField, NotFound
from flexsupply.contracts.events import BuyerRefundOwed, RefundDue
from flexsupply.kit import outbox
from flexsupply.kit.clock import utc_now
from flexsupply.matching import services
from flexsupply.matching.domain.refund import (
    InvalidRefundMove,
    RefundCause,
    RefundMethod,
    RefundStatus,
    RefundStep,
    check_amount,
    method_for,
    move_refund,
    retry_at,
)
from flexsupply.matching.domain.sale import OrderStatus, OrderStep, move_order
from flexsupply.matching.models import OutboxMessage, Refund, SaleOrder
from flexsupply.matching.schemas import LeaderRefundPublic, RefundPublic
from flexsupply.matching.wechatpay import RefundState

log = logging.getLogger(__name__)
ORDER_SOURCE = "order:"  # the order's whole amount, owed once when it ends after payment
CASE_SOURCE = "case:"


def out_refund_no(refund_id: UUID) -> str:
    return refund_id.hex


def refund_id_of(out_refund_no: str) -> UUID | None:
    try:
        return UUID(hex=out_refund_no)
    except ValueError:
        return None


async def owe_refund(
    session: AsyncSession,
    order: SaleOrder,
    cause: RefundCause,
    reason: str | None,
    *,
    source_key: str | None = None,
    amount_cents: int | None = None,
) -> Refund:
    """The order owes this money back, once per source (a second call finds the first refund). A WeChat Pay
    refund is requested after the commit."""
    key = source_key or f"{ORDER_SOURCE}{order.id}"
    existing = (await session.exec(select(Refund).where(col(Refund.source_key) == key))).first()
    if existing is not None:
        return existing
    amount = order.amount_cents if amount_cents is None else amount_cents
    owed = (
        await session.exec(select(func.coalesce(func.sum(Refund.amount_cents), 0)).where(Refund.order_id == order.id))
    ).one()
    try:
        check_amount(amount, order.amount_cents, int(owed))
    except ValueError as error:
        raise InvalidField("amount_cents", str(error)) from None
    refund = Refund(
        order_id=order.id,
        package_id=order.package_id,
        source_key=key,
        cause=cause,
        method=method_for(order.paid_via),
        amount_cents=amount,
        currency=order.currency,
        reason=reason,
    )
    session.add(refund)
    await session.flush()
    if refund.method is RefundMethod.WECHATPAY:
        outbox.publish(session, OutboxMessage, RefundDue(refund_id=refund.id))
    return refund


async def owe_order_refund(session: AsyncSession, order: SaleOrder, cause: RefundCause) -> None:
    """An order that has just come to owe its money back (refund_due) gets its refund."""
    if order.status is OrderStatus.REFUND_DUE:
        await owe_refund(session, order, cause, order.reason)


async def owe_fulfilment_refund(session: AsyncSession, event: BuyerRefundOwed) -> None:
    """Fulfilment resolved a case with a refund (or could not take units over): owed once per refund key."""
    order = await session.get(SaleOrder, event.order_id, with_for_update=True)
    if order is None or order.paid_at is None:
        # Not retried: no delivery of this event can ever find the order paid; staff see it in the log.
        log.error("refund %s owed on order %s, which was never paid here: dropped", event.refund_key, event.order_id)
        return
    try:
        await owe_refund(
            session,
            order,
            RefundCause(event.cause),
            event.reason,
            source_key=f"{CASE_SOURCE}{event.refund_key}",
            amount_cents=event.amount_cents,
        )
    except InvalidField as error:  # more than the order paid: no retry makes it right
        log.error("refund %s on order %s refused: %s", event.refund_key, event.order_id, error)


# --- through WeChat Pay ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RefundCall:
    """What the actor asks WeChat Pay, outside the transaction: a new request, or what became of one."""

    query_only: bool
    out_refund_no: str
    out_trade_no: str
    refund_cents: int
    total_cents: int
    reason: str


async def refund_call(session: AsyncSession, refund_id: UUID, now: datetime) -> RefundCall | None:
    """The call a WeChat Pay refund needs now: a request when owed or failed (the sweeper sends a failed one's
    message once its backoff is over), marked requested first, so that a worker dying mid-call leaves a refund the
    sweeper queries; a query when already requested; None when settled or not WeChat Pay's."""
    refund = await session.get(Refund, refund_id, with_for_update=True)
    if refund is None or refund.method is not RefundMethod.WECHATPAY:
        return None
    order = await session.get(SaleOrder, refund.order_id)
    assert order is not None  # a refund's order is never deleted
    if refund.status in (RefundStatus.OWED, RefundStatus.FAILED):
        refund.status = move_refund(refund.status, RefundStep.REQUEST)
        refund.attempts += 1
        refund.requested_at = refund.updated_at = now
        query_only = False
    elif refund.status is RefundStatus.REQUESTED:
        query_only = True
    else:
        return None
    return RefundCall(
        query_only=query_only,
        out_refund_no=out_refund_no(refund.id),
        out_trade_no=order.payment_reference,
        refund_cents=refund.amount_cents,
        total_cents=order.amount_cents,
        reason=(refund.reason or refund.cause.value)[:80],
    )


async def record_refund_state(
    session: AsyncSession, refund_id: UUID, state: RefundState | None, error: str | None, now: datetime
) -> None:
    """WeChat Pay's answer (or notification, or a call's error) applied to a requested refund. `state` None with an
    error: the refund failed (refused, or never received), and is requested again after its backoff; PROCESSING
    leaves it requested, to be queried later."""
    refund = await session.get(Refund, refund_id, with_for_update=True)
    if refund is None or refund.status is not RefundStatus.REQUESTED:
        return  # settled already: a notification and an answer race, the first one counts
    if state is not None and state.refund_id:
        refund.provider_refund_id = state.refund_id
    refund.updated_at = now
    if state is not None and state.status == "SUCCESS":
        refund.status, refund.settled_at, refund.error = move_refund(refund.status, RefundStep.SUCCEED), now, None
        await _settle_order(session, refund)
    elif state is not None and state.status == "PROCESSING":
        refund.requested_at = now  # asked just now: the sweeper asks again after its grace
    else:
        refund.status = move_refund(refund.status, RefundStep.FAIL)
        refund.error = (error or f"WeChat Pay: {state.status if state else 'no answer'}")[:1000]
        refund.next_attempt_at = retry_at(now, refund.attempts)


async def refund_notified(session: AsyncSession, state: RefundState, now: datetime) -> None:
    refund_id = refund_id_of(state.out_refund_no)
    if refund_id is None or await session.get(Refund, refund_id) is None:
        raise NotFound(f"no refund {state.out_refund_no}")
    await record_refund_state(session, refund_id, state, None, now)


async def _settle_order(session: AsyncSession, refund: Refund) -> None:
    """An order owed its whole amount is refunded once that refund is back."""
    if not refund.source_key.startswith(ORDER_SOURCE):
        return
    order = await session.get(SaleOrder, refund.order_id, with_for_update=True)
    if order is not None and order.status is OrderStatus.REFUND_DUE:
        order.status, order.updated_at = move_order(order.status, OrderStep.REFUND), utc_now()


# --- paid back by transfer -------------------------------------------------------------------------------------------


async def record_transfer(
    session: AsyncSession, refund_id: UUID, community_id: UUID | None, reference: str, actor: str
) -> Refund:
    """The leader paid it back by transfer. Recorded again with the same reference, nothing changes; with another,
    409. A WeChat Pay refund may only be paid so once it has failed (WeChat Pay could be paying it otherwise)."""
    refund = await session.get(Refund, refund_id, with_for_update=True)
    if refund is None:
        raise NotFound(f"no refund {refund_id}")
    await services.get_package(session, refund.package_id, community_id)  # 404 outside the leader's community
    if refund.status is RefundStatus.SUCCEEDED and refund.transfer_reference == reference:
        return refund
    if refund.method is RefundMethod.WECHATPAY and refund.status is not RefundStatus.FAILED:
        raise InvalidRefundMove(f"this refund goes back through WeChat Pay and is {refund.status}: not yours to pay")
    now = utc_now()
    refund.status = move_refund(refund.status, RefundStep.RECORD_PAID)
    refund.transfer_reference, refund.recorded_by, refund.settled_at, refund.updated_at = reference, actor, now, now
    refund.error = None
    await _settle_order(session, refund)
    await session.flush()
    return refund


# --- who sees them ---------------------------------------------------------------------------------------------------


def _joined() -> Any:
    return select(Refund, SaleOrder).join(SaleOrder, col(SaleOrder.id) == col(Refund.order_id))


async def _with_orders(session: AsyncSession, query: Any) -> Sequence[tuple[Refund, SaleOrder]]:
    return (await session.exec(query)).all()


def leader_view(refund: Refund, order: SaleOrder) -> LeaderRefundPublic:
    return LeaderRefundPublic.model_validate(
        refund, update={"payment_reference": order.payment_reference, "name": order.name, "phone": order.phone}
    )


async def package_refunds(
    session: AsyncSession, package_id: UUID, community_id: UUID | None
) -> list[LeaderRefundPublic]:
    await services.get_package(session, package_id, community_id)
    query = _joined().where(col(Refund.package_id) == package_id).order_by(col(Refund.created_at), col(Refund.id))
    return [leader_view(refund, order) for refund, order in await _with_orders(session, query)]


async def refund_view(session: AsyncSession, refund_id: UUID, community_id: UUID | None) -> LeaderRefundPublic:
    refund = await session.get(Refund, refund_id)
    if refund is None:
        raise NotFound(f"no refund {refund_id}")
    await services.get_package(session, refund.package_id, community_id)  # 404 outside the leader's community
    order = await session.get(SaleOrder, refund.order_id)
    assert order is not None
    return leader_view(refund, order)


async def order_refunds(session: AsyncSession, order: SaleOrder) -> list[RefundPublic]:
    query = select(Refund).where(col(Refund.order_id) == order.id).order_by(col(Refund.created_at), col(Refund.id))
    return [
        RefundPublic.model_validate(refund, update={"payment_reference": order.payment_reference})
        for refund in (await session.exec(query)).all()
    ]


async def all_refunds(
    session: AsyncSession, status: RefundStatus | None, limit: int, offset: int
) -> list[LeaderRefundPublic]:
    """Every community's refunds, for staff: the failed ones first when asked by status."""
    query = _joined()
    if status is not None:
        query = query.where(col(Refund.status) == status)
    query = query.order_by(col(Refund.created_at).desc(), col(Refund.id)).limit(limit).offset(offset)
    return [leader_view(refund, order) for refund, order in await _with_orders(session, query)]


# --- owed work -------------------------------------------------------------------------------------------------------


async def sweep_refunds(session: AsyncSession, overdue_before: datetime) -> int:
    """WeChat Pay refunds whose message was lost (owed), whose answer never came (requested) or whose backoff is
    over (failed; like any owed work, once overdue by the sweep's grace) get their message again."""
    query = select(Refund.id).where(
        col(Refund.method) == RefundMethod.WECHATPAY,
        or_(
            (col(Refund.status) == RefundStatus.OWED) & (col(Refund.created_at) <= overdue_before),
            (col(Refund.status) == RefundStatus.REQUESTED) & (col(Refund.requested_at) <= overdue_before),
            (col(Refund.status) == RefundStatus.FAILED) & (col(Refund.next_attempt_at) <= overdue_before),
        ),
    )
    # Sent again each sweep until handled: a second message finds the refund requested and only queries it.
    due = (await session.exec(query.limit(500))).all()
    for refund_id in due:
        outbox.publish(session, OutboxMessage, RefundDue(refund_id=refund_id))
    return len(due)
