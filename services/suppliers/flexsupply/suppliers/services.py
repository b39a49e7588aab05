"""Use cases of the suppliers service, each over the caller's session: they flush, never commit."""

import base64
import secrets
from collections.abc import Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from flexsupply.contracts.errors import NotFound
from flexsupply.contracts.events import SupplierNotice
from flexsupply.contracts.offers import EligibleOffer, EligibleOffers, OfferTerms, SupplierCapacity
from flexsupply.kit import auth
from flexsupply.kit.clock import utc_now
from flexsupply.suppliers import webhooks
from flexsupply.suppliers.domain.catalogue import (
    Need,
    OfferFacts,
    check_offer_regions_served,
    check_regions_known,
    check_regions_still_served,
    is_eligible,
)
from flexsupply.suppliers.models import (
    ApiKey,
    DeliveryStatus,
    Offer,
    Region,
    Supplier,
    WebhookDelivery,
)
from flexsupply.suppliers.schemas import (
    ApiKeyIssued,
    ApiKeyPublic,
    OfferPublic,
    RegionUpsert,
    SupplierCreate,
    SupplierCreated,
    SupplierPublic,
    SupplierUpdate,
    WebhookSecretIssued,
)

# --- regions -----------------------------------------------------------------------------------------------


async def upsert_region(session: AsyncSession, code: str, data: RegionUpsert) -> Region:
    region = await session.get(Region, code)
    if region is None:
        region = Region(code=code, name=data.name)
        session.add(region)
    else:
        region.name = data.name
    await session.flush()
    return region


async def list_regions(session: AsyncSession) -> Sequence[Region]:
    return (await session.exec(select(Region).order_by(col(Region.code)))).all()


async def _known_region_codes(session: AsyncSession) -> set[str]:
    return set((await session.exec(select(Region.code))).all())


# --- suppliers and keys --------------------------------------------------------------------------------------


def _new_webhook_secret() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


async def create_supplier(session: AsyncSession, data: SupplierCreate) -> SupplierCreated:
    check_regions_known("regions", data.regions, await _known_region_codes(session))
    # Issued even without a webhook URL, so that adding one later needs no secret shown anywhere but here.
    webhook_secret = _new_webhook_secret()
    supplier = Supplier.model_validate(
        data.model_dump(mode="json"),
        update={"webhook_secret": webhook_secret, "regions": sorted(set(data.regions))},
    )
    session.add(supplier)
    await session.flush()
    issued = await _issue_key(session, supplier.id)
    if supplier.webhook_url:
        # The first signed event proves the endpoint and its secret work before any award depends on them.
        await _queue_webhook(session, supplier.id, "supplier.registered", {"supplier_id": str(supplier.id)})
    return SupplierCreated(
        supplier=SupplierPublic.model_validate(supplier), api_key=issued, webhook_secret=webhook_secret
    )


async def get_supplier(session: AsyncSession, supplier_id: UUID) -> Supplier:
    supplier = await session.get(Supplier, supplier_id)
    if supplier is None:
        raise NotFound(f"supplier {supplier_id} not found")
    return supplier


async def list_suppliers(session: AsyncSession, limit: int, offset: int) -> Sequence[Supplier]:
    query = select(Supplier).order_by(col(Supplier.created_at), col(Supplier.id)).limit(limit).offset(offset)
    return (await session.exec(query)).all()


async def update_supplier(session: AsyncSession, supplier_id: UUID, data: SupplierUpdate) -> Supplier:
    supplier = await get_supplier(session, supplier_id)
    changes = data.model_dump(mode="json", exclude_unset=True)
    if "regions" in changes:
        check_regions_known("regions", changes["regions"], await _known_region_codes(session))
        changes["regions"] = sorted(set(changes["regions"]))
        live_offers = await list_offers(session, supplier_id, include_withdrawn=False, limit=None, offset=0)
        check_regions_still_served(changes["regions"], [offer.shipping_cents for offer in live_offers])
    for name, value in changes.items():
        setattr(supplier, name, value)
    supplier.updated_at = utc_now()
    await session.flush()
    return supplier


async def rotate_webhook_secret(session: AsyncSession, supplier_id: UUID) -> WebhookSecretIssued:
    supplier = await get_supplier(session, supplier_id)
    supplier.webhook_secret, supplier.updated_at = _new_webhook_secret(), utc_now()
    await session.flush()
    return WebhookSecretIssued(supplier_id=supplier.id, webhook_secret=supplier.webhook_secret)


async def _issue_key(session: AsyncSession, supplier_id: UUID) -> ApiKeyIssued:
    issued = auth.issue_api_key()
    key = ApiKey(id=issued.key_id, supplier_id=supplier_id, secret_hash=issued.secret_hash)
    session.add(key)
    await session.flush()
    return ApiKeyIssued(**ApiKeyPublic.model_validate(key).model_dump(), api_key=issued.token)


async def rotate_key(session: AsyncSession, supplier_id: UUID, revoke_existing: bool) -> ApiKeyIssued:
    await get_supplier(session, supplier_id)
    if revoke_existing:
        for key in await list_keys(session, supplier_id):
            key.revoked_at = key.revoked_at or utc_now()
    return await _issue_key(session, supplier_id)


async def list_keys(session: AsyncSession, supplier_id: UUID) -> Sequence[ApiKey]:
    await get_supplier(session, supplier_id)
    query = select(ApiKey).where(ApiKey.supplier_id == supplier_id).order_by(col(ApiKey.created_at))
    return (await session.exec(query)).all()


async def revoke_key(session: AsyncSession, supplier_id: UUID, key_id: UUID) -> ApiKey:
    key = await session.get(ApiKey, key_id)
    if key is None or key.supplier_id != supplier_id:
        raise NotFound(f"API key {key_id} of supplier {supplier_id} not found")
    key.revoked_at = key.revoked_at or utc_now()
    await session.flush()
    return key


async def supplier_for_api_key(session: AsyncSession, token: str) -> UUID | None:
    parsed = auth.parse_api_key(token)
    if parsed is None:
        return None
    key_id, secret = parsed
    key = await session.get(ApiKey, key_id)
    if key is None or key.revoked_at is not None or not auth.secret_matches(secret, key.secret_hash):
        return None
    return key.supplier_id


# --- offers -------------------------------------------------------------------------------------------------


async def _check_offer_regions(session: AsyncSession, supplier: Supplier, terms: OfferTerms) -> None:
    check_regions_known("shipping_cents", terms.shipping_cents, await _known_region_codes(session))
    check_offer_regions_served(terms.shipping_cents, supplier.regions)


def _terms_columns(terms: OfferTerms) -> dict[str, Any]:
    return terms.model_dump(mode="python", exclude={"price_tiers"}) | {
        "price_tiers": [tier.model_dump() for tier in terms.price_tiers]
    }


async def create_offer(session: AsyncSession, supplier_id: UUID, terms: OfferTerms) -> OfferPublic:
    supplier = await get_supplier(session, supplier_id)
    await _check_offer_regions(session, supplier, terms)
    offer = Offer.model_validate(_terms_columns(terms), update={"supplier_id": supplier_id})
    session.add(offer)
    await session.flush()
    return OfferPublic.model_validate(offer)


async def get_offer(session: AsyncSession, offer_id: UUID, supplier_id: UUID | None) -> Offer:
    """An offer; a supplier sees only its own (another's is 'not found', so ids reveal nothing)."""
    offer = await session.get(Offer, offer_id)
    if offer is None or (supplier_id is not None and offer.supplier_id != supplier_id):
        raise NotFound(f"offer {offer_id} not found")
    return offer


async def list_offers(
    session: AsyncSession, supplier_id: UUID | None, include_withdrawn: bool, limit: int | None, offset: int
) -> Sequence[Offer]:
    query = select(Offer)
    if supplier_id is not None:
        query = query.where(Offer.supplier_id == supplier_id)
    if not include_withdrawn:
        query = query.where(col(Offer.withdrawn_at).is_(None))
    query = query.order_by(col(Offer.created_at), col(Offer.id)).limit(limit).offset(offset)
    return (await session.exec(query)).all()


async def replace_offer(session: AsyncSession, offer_id: UUID, supplier_id: UUID, terms: OfferTerms) -> Offer:
    offer = await get_offer(session, offer_id, supplier_id)
    await _check_offer_regions(session, await get_supplier(session, supplier_id), terms)
    for name, value in _terms_columns(terms).items():
        setattr(offer, name, value)
    offer.updated_at = utc_now()
    offer.withdrawn_at = None
    await session.flush()
    return offer


async def withdraw_offer(session: AsyncSession, offer_id: UUID, supplier_id: UUID) -> Offer:
    offer = await get_offer(session, offer_id, supplier_id)
    offer.withdrawn_at = offer.withdrawn_at or utc_now()
    await session.flush()
    return offer


async def eligible_offers(session: AsyncSession, need: Need) -> EligibleOffers:
    now = utc_now()
    # SQL narrows by the indexed and simple columns; the rule itself is the domain's.
    query = select(Offer).where(
        Offer.sku == need.sku,
        col(Offer.withdrawn_at).is_(None),
        Offer.quality >= need.min_quality,
        Offer.lead_time_days <= need.days_available(now),
    )
    offers = [
        offer
        for offer in (await session.exec(query.order_by(col(Offer.id)))).all()
        if is_eligible(
            OfferFacts(
                sku=offer.sku,
                lead_time_days=offer.lead_time_days,
                quality=offer.quality,
                shipping_regions=frozenset(offer.shipping_cents),
                valid_from=offer.valid_from,
                valid_until=offer.valid_until,
                withdrawn=offer.withdrawn_at is not None,
            ),
            need,
            now,
        )
    ]
    supplier_ids = sorted({offer.supplier_id for offer in offers})
    suppliers = (await session.exec(select(Supplier).where(col(Supplier.id).in_(supplier_ids)))).all()
    return EligibleOffers(
        suppliers=[SupplierCapacity(id=s.id, capacity=s.capacity) for s in sorted(suppliers, key=lambda s: s.id)],
        offers=[EligibleOffer.model_validate(offer) for offer in offers],
    )


# --- webhooks -----------------------------------------------------------------------------------------------


async def _queue_webhook(
    session: AsyncSession, supplier_id: UUID, event_type: str, data: dict[str, Any], delivery_id: UUID | None = None
) -> None:
    delivery = WebhookDelivery(
        supplier_id=supplier_id,
        event_type=event_type,
        payload={"type": event_type, "timestamp": utc_now().isoformat(), "data": data},
    )
    if delivery_id is not None:
        delivery.id = delivery_id
    session.add(delivery)
    await session.flush()
    webhooks.schedule(session, delivery)


async def queue_notice(session: AsyncSession, notice: SupplierNotice) -> bool:
    """Another service's notice for a supplier becomes a signed webhook, once per notice id (redeliveries do
    nothing). A supplier without a webhook URL still finds the matter in that service's inbox."""
    if await session.get(WebhookDelivery, notice.notice_id) is not None:
        return False
    supplier = await session.get(Supplier, notice.supplier_id)
    if supplier is None or not supplier.webhook_url:
        return False
    await _queue_webhook(session, supplier.id, notice.event_type, notice.data, delivery_id=notice.notice_id)
    return True


async def sweep_overdue_webhooks(session: AsyncSession, overdue_before: datetime) -> int:
    """Publish again each pending delivery whose attempt is overdue: its message was lost (a killed worker, a
    broker holding a dead worker's messages, the in-process queue of the last run)."""
    overdue = (
        await session.exec(
            select(WebhookDelivery).where(
                WebhookDelivery.status == DeliveryStatus.PENDING,
                col(WebhookDelivery.next_attempt_at) < overdue_before,
            )
        )
    ).all()
    for delivery in overdue:
        delivery.next_attempt_at = utc_now()
        webhooks.schedule(session, delivery)
    return len(overdue)


async def list_webhook_deliveries(session: AsyncSession, supplier_id: UUID) -> Sequence[WebhookDelivery]:
    await get_supplier(session, supplier_id)
    query = select(WebhookDelivery).where(WebhookDelivery.supplier_id == supplier_id)
    return (await session.exec(query.order_by(col(WebhookDelivery.created_at)))).all()
