"""After-sales: a buyer opens a case on their order (by its link); staff resolve it with a refund, a resend (a new
parcel from the same supplier) or a rejection. A case upheld counts against the supplier whose parcel it is about."""

import uuid
from uuid import UUID

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from flexsupply.contracts.errors import InvalidField, NotFound
from flexsupply.contracts.events import BuyerRefundOwed
from flexsupply.fulfilment.delivery import order_by_token
from flexsupply.fulfilment.domain.states import (
    HANDED_OVER,
    CaseKind,
    CaseStatus,
    InvalidMove,
    ProductionStatus,
    Resolution,
    next_case_status,
)
from flexsupply.fulfilment.models import AfterSalesCase, DeliveryOrder, OutboxMessage, Piece, ProductionOrder, Shipment
from flexsupply.fulfilment.production import record_move, record_outcome
from flexsupply.fulfilment.schemas import CasePublic
from flexsupply.kit import outbox
from flexsupply.kit.clock import utc_now


async def open_case(session: AsyncSession, token: str, kind: CaseKind, description: str) -> AfterSalesCase:
    """A buyer's complaint. The same complaint sent again while it is open is the same case."""
    order = await order_by_token(session, token)
    await session.refresh(order, with_for_update=True)  # two reports at once: one case
    same = (
        await session.exec(
            select(AfterSalesCase).where(
                AfterSalesCase.order_id == order.id,
                AfterSalesCase.kind == kind,
                AfterSalesCase.description == description,
                AfterSalesCase.status == CaseStatus.OPEN,
            )
        )
    ).first()
    if same is not None:
        return same
    case = AfterSalesCase(
        order_id=order.id,
        package_id=order.package_id,
        kind=kind,
        description=description,
        supplier_id=await _supplier_of(session, order.id),
    )
    session.add(case)
    record_move(session, "case", case.id, "open", None, CaseStatus.OPEN, f"buyer:{order.id}", kind)
    await session.flush()
    return case


async def _supplier_of(session: AsyncSession, order_id: UUID) -> UUID | None:
    """The supplier of the order's latest parcel handed to a carrier, else of the production making it."""
    shipped = (
        await session.exec(
            select(ProductionOrder.supplier_id)
            .join(Shipment, col(Shipment.production_order_id) == col(ProductionOrder.id))
            .where(Shipment.order_id == order_id, col(Shipment.status).in_(HANDED_OVER))
            .order_by(col(Shipment.shipped_at).desc())
        )
    ).first()
    if shipped is not None:
        return shipped
    return (
        await session.exec(
            select(ProductionOrder.supplier_id)
            .join(Piece, col(Piece.production_order_id) == col(ProductionOrder.id))
            .where(Piece.order_id == order_id, col(Piece.moved_at).is_(None))
        )
    ).first()


async def resolve_case(
    session: AsyncSession,
    case_id: UUID,
    *,
    actor: str,
    resolution: Resolution,
    refund_cents: int | None,
    note: str | None,
) -> AfterSalesCase:
    """Refund (an amount in minor units), resend (a new parcel of the order's units from the supplier concerned,
    on its manifest like any other) or reject. A resolved case is not resolved again (409)."""
    case = await session.get(AfterSalesCase, case_id, with_for_update=True)
    if case is None:
        raise NotFound(f"case {case_id} not found")
    status = next_case_status(case.status, resolution)
    if resolution is Resolution.REFUND and not refund_cents:
        raise InvalidField("refund_cents", "a refund needs its amount, in minor units")
    if resolution is not Resolution.REFUND and refund_cents:
        raise InvalidField("refund_cents", f"only a refund has an amount, not a {resolution}")
    if resolution is Resolution.RESEND:
        await _resend(session, case)
    if resolution is not Resolution.REJECT and case.supplier_id is not None:
        units = sum(
            (
                await session.exec(
                    select(Shipment.quantity)
                    .join(ProductionOrder, col(ProductionOrder.id) == col(Shipment.production_order_id))
                    .where(
                        Shipment.order_id == case.order_id,
                        ProductionOrder.supplier_id == case.supplier_id,
                        col(Shipment.status).in_(HANDED_OVER),
                        col(Shipment.case_id).is_(None),
                    )
                )
            ).all()
        )
        # Once per order and supplier however many cases: the same units are not held against it twice.
        record_outcome(session, case.supplier_id, "case_upheld", max(units, 1), _order_supplier(case))
    record_move(session, "case", case.id, resolution, case.status, status, actor, note)
    case.status, case.resolution, case.refund_cents = status, resolution, refund_cents
    case.resolution_note, case.resolved_at, case.resolved_by = note, utc_now(), actor
    if resolution is Resolution.REFUND and refund_cents:
        # Matching holds the payment: it pays the money back (through WeChat Pay, or the leader by transfer).
        reason = (note or case.description)[:500]
        refund = BuyerRefundOwed(
            refund_key=case.id, order_id=case.order_id, amount_cents=refund_cents, cause="after_sales", reason=reason
        )
        outbox.publish(session, OutboxMessage, refund)
    await session.flush()
    return case


def _order_supplier(case: AfterSalesCase) -> UUID:
    return uuid.uuid5(case.order_id, str(case.supplier_id))


async def _resend(session: AsyncSession, case: AfterSalesCase) -> None:
    """A new parcel of what the supplier concerned shipped to the order, from production that still runs for the
    order's region."""
    parcels = (
        await session.exec(
            select(Shipment)
            .join(ProductionOrder, col(ProductionOrder.id) == col(Shipment.production_order_id))
            .where(
                Shipment.order_id == case.order_id,
                col(Shipment.status).in_(HANDED_OVER),
                ProductionOrder.supplier_id == case.supplier_id,
                col(Shipment.case_id).is_(None),
            )
        )
    ).all()
    if not parcels:
        raise InvalidField("resolution", "nothing was shipped to this order yet: there is nothing to send again")
    order = await session.get(DeliveryOrder, case.order_id)
    assert order is not None
    makers = (
        await session.exec(
            select(ProductionOrder)
            .where(
                ProductionOrder.package_id == case.package_id,
                ProductionOrder.region == order.region,
                ProductionOrder.status != ProductionStatus.FAILED,
            )
            .order_by(col(ProductionOrder.created_at), col(ProductionOrder.id))
        )
    ).all()
    if not makers:
        raise InvalidMove(f"no production for {order.region} still runs: refund this case instead")
    # The supplier concerned makes good its own parcel; if it failed, whoever makes the region's units now.
    maker = next((p for p in makers if p.supplier_id == case.supplier_id), makers[0])
    session.add(
        Shipment(
            package_id=case.package_id,
            production_order_id=maker.id,
            order_id=case.order_id,
            quantity=sum(parcel.quantity for parcel in parcels),
            case_id=case.id,
        )
    )


async def reopen_for_failure(session: AsyncSession, case_id: UUID, actor: str) -> None:
    """A resend cancelled because its production failed: the case is open again, for staff to resolve anew."""
    case = await session.get(AfterSalesCase, case_id, with_for_update=True)
    if case is None or case.status is not CaseStatus.RESOLVED:
        return
    note = "its resend was cancelled: the production sending it failed"
    record_move(session, "case", case.id, "reopen", case.status, CaseStatus.OPEN, actor, note)
    case.status, case.resolution, case.resolved_at, case.resolved_by = CaseStatus.OPEN, None, None, None
    case.resolution_note = note


async def list_cases(
    session: AsyncSession, package_id: UUID | None, status: CaseStatus | None, limit: int, offset: int
) -> list[CasePublic]:
    query = select(AfterSalesCase)
    if package_id is not None:
        query = query.where(AfterSalesCase.package_id == package_id)
    if status is not None:
        query = query.where(AfterSalesCase.status == status)
    query = query.order_by(col(AfterSalesCase.opened_at).desc(), col(AfterSalesCase.id)).limit(limit).offset(offset)
    return [CasePublic.model_validate(row) for row in (await session.exec(query)).all()]
