"""Use cases of the suppliers service, each over the caller's session: they flush, never commit."""

import base64
import logging
import secrets
from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any
from uuid import UUID, uuid5

from sqlmodel import col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession
from sqlmodel.sql.expression import Select

from flexsupply.contracts.errors import NotFound
from flexsupply.contracts.events import (
    RfqItem,
    RfqRoundAcknowledged,
    RfqRoundOpened,
    SupplierNotice,
    SupplierOutcome,
)
from flexsupply.contracts.offers import EligibleOffer, EligibleOffers, OfferTerms, SupplierCapacity
from flexsupply.contracts.sourcing import RfqStatus, RoundResponses, RoundRfq, RoundRfqs
from flexsupply.kit import auth, outbox
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
from flexsupply.suppliers.domain.rfq import (
    check_open,
    check_quote_valid_until,
    check_sku_asked,
    items_per_supplier,
    need_for,
    rfq_status,
)
from flexsupply.suppliers.domain.scorecard import (
    MIN_UNITS_ON_RECORD,
    OUTCOME_KINDS,
    InvalidOutcome,
    Scorecard,
    effective_quality,
)
from flexsupply.suppliers.models import (
    ApiKey,
    DeliveryStatus,
    Offer,
    OutboxMessage,
    Quote,
    QuoteStatus,
    RecordedOutcome,
    Region,
    Rfq,
    RfqRound,
    Supplier,
    SupplierScorecard,
    WebhookDelivery,
)
from flexsupply.suppliers.schemas import (
    ApiKeyIssued,
    ApiKeyPublic,
    OfferPublic,
    QuoteCreate,
    QuotePublic,
    RegionUpsert,
    RfqContent,
    RfqDecline,
    RfqDeclinePublic,
    RfqPublic,
    RfqSummary,
    ScorecardPublic,
    SupplierCreate,
    SupplierCreated,
    SupplierPublic,
    SupplierUpdate,
    WebhookSecretIssued,
)

log = logging.getLogger(__name__)

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
        _queue_webhook(session, supplier.id, "supplier.registered", {"supplier_id": str(supplier.id)})
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


async def desk_session_is_current(session: AsyncSession, supplier_id: UUID, since: datetime) -> bool:
    """A desk session begun at `since` still stands: its supplier exists and has not logged out since."""
    supplier = await session.get(Supplier, supplier_id)
    return supplier is not None and (
        supplier.desk_sessions_valid_after is None or since > supplier.desk_sessions_valid_after
    )


async def end_desk_sessions(session: AsyncSession, supplier_id: UUID) -> None:
    """Log out of the desk everywhere: every desk session of this supplier begun until now is over."""
    supplier = await session.get(Supplier, supplier_id, with_for_update={"key_share": True})
    if supplier is not None:
        supplier.desk_sessions_valid_after = utc_now()
        await session.flush()


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


async def offer_skus(session: AsyncSession, supplier_id: UUID, ids: Collection[UUID]) -> dict[UUID, str]:
    """The sku of each of the supplier's offers and quotes among `ids` (a plan names either by id)."""
    if not ids:
        return {}
    found: dict[UUID, str] = {}
    for table in (Offer, Quote):
        rows = await session.exec(
            select(table.id, table.sku).where(table.supplier_id == supplier_id, col(table.id).in_(list(ids)))
        )
        found.update(rows.all())
    return found


def _facts(offer: Offer, quality: int) -> OfferFacts:
    return OfferFacts(
        sku=offer.sku,
        lead_time_days=offer.lead_time_days,
        quality=quality,
        shipping_regions=frozenset(offer.shipping_cents),
        valid_from=offer.valid_from,
        valid_until=offer.valid_until,
        withdrawn=offer.withdrawn_at is not None,
    )


async def eligible_offers(session: AsyncSession, need: Need) -> EligibleOffers:
    """Offers that can serve the need, each with its effective quality (its supplier's scorecard applied)."""
    now = utc_now()
    # SQL narrows by the indexed and simple columns (the declared quality bounds the effective one); the rule
    # itself is the domain's.
    query = _offers_with_scorecards().where(
        Offer.sku == need.sku,
        col(Offer.withdrawn_at).is_(None),
        Offer.quality >= need.min_quality,
        Offer.lead_time_days <= need.days_available(now),
    )
    offers: list[EligibleOffer] = []
    for offer, card in (await session.exec(query.order_by(col(Offer.id)))).all():
        quality = _effective_quality(offer.quality, card)
        if is_eligible(_facts(offer, quality), need, now):
            offers.append(EligibleOffer.model_validate(offer, update={"quality": quality}))
    supplier_ids = sorted({offer.supplier_id for offer in offers})
    suppliers = (await session.exec(select(Supplier).where(col(Supplier.id).in_(supplier_ids)))).all()
    return EligibleOffers(
        suppliers=[SupplierCapacity(id=s.id, capacity=s.capacity) for s in sorted(suppliers, key=lambda s: s.id)],
        offers=offers,
    )


# --- scorecards ---------------------------------------------------------------------------------------------


def _card(row: SupplierScorecard | None) -> Scorecard:
    if row is None:
        return Scorecard()
    return Scorecard(**{f"{kind}_units": getattr(row, f"{kind}_units") for kind in OUTCOME_KINDS})


def _effective_quality(declared: int, row: SupplierScorecard | None) -> int:
    return effective_quality(declared, _card(row))


def _offers_with_scorecards() -> Select[Offer, SupplierScorecard]:
    """Offers beside their supplier's scorecard (None without one), in one query: matching reads offers by sku."""
    return select(Offer, SupplierScorecard).outerjoin(
        SupplierScorecard, col(SupplierScorecard.supplier_id) == col(Offer.supplier_id)
    )


async def record_outcome(session: AsyncSession, event: SupplierOutcome) -> bool:
    """Count a delivery outcome into its supplier's scorecard, once per outcome id: a redelivered event changes
    nothing. An unknown supplier or an impossible unit count is logged and dropped (a retry would not help).

    The supplier's row is locked first, so that outcomes for one supplier, and redeliveries of one outcome,
    are counted one after the other (FOR NO KEY UPDATE: offers referring to the supplier are not held up)."""
    supplier = await session.get(Supplier, event.supplier_id, with_for_update={"key_share": True})
    if supplier is None:
        log.warning("outcome %s is for supplier %s, which does not exist: dropped", event.outcome_id, event.supplier_id)
        return False
    if await session.get(RecordedOutcome, event.outcome_id) is not None:
        return False
    row = await session.get(SupplierScorecard, supplier.id)
    try:
        card = _card(row).recorded(event.kind, event.units)
    except InvalidOutcome as error:
        log.warning("outcome %s of supplier %s dropped: %s", event.outcome_id, supplier.id, error)
        return False
    if row is None:
        row = SupplierScorecard(supplier_id=supplier.id)
        session.add(row)
    setattr(row, f"{event.kind}_units", card.units(event.kind))
    row.updated_at = utc_now()
    session.add(
        RecordedOutcome(
            outcome_id=event.outcome_id,
            supplier_id=supplier.id,
            kind=event.kind,
            units=event.units,
            occurred_at=event.occurred_at,
        )
    )
    await session.flush()
    return True


async def get_scorecard(session: AsyncSession, supplier_id: UUID) -> ScorecardPublic:
    supplier = await get_supplier(session, supplier_id)
    row = await session.get(SupplierScorecard, supplier.id)
    card = _card(row)
    return ScorecardPublic(
        supplier_id=supplier.id,
        **{f"{kind}_units": card.units(kind) for kind in OUTCOME_KINDS},
        total_units=card.total_units,
        quality_score=card.quality_score,
        min_units_on_record=MIN_UNITS_ON_RECORD,
        applies=card.applies,
        updated_at=row.updated_at if row is not None else None,
    )


# --- webhooks -----------------------------------------------------------------------------------------------


def _queue_webhook(
    session: AsyncSession, supplier_id: UUID, event_type: str, data: dict[str, Any], delivery_id: UUID | None = None
) -> None:
    """Add a delivery and its first attempt to the unit of work; written at its next flush, many in one insert."""
    delivery = WebhookDelivery(
        supplier_id=supplier_id,
        event_type=event_type,
        payload={"type": event_type, "timestamp": utc_now().isoformat(), "data": data},
    )
    if delivery_id is not None:
        delivery.id = delivery_id
    session.add(delivery)
    webhooks.schedule(session, delivery)


async def queue_notice(session: AsyncSession, notice: SupplierNotice) -> bool:
    """Another service's notice for a supplier becomes a signed webhook, once per notice id (redeliveries do
    nothing). A supplier without a webhook URL still finds the matter in that service's inbox."""
    if await session.get(WebhookDelivery, notice.notice_id) is not None:
        return False
    supplier = await session.get(Supplier, notice.supplier_id)
    if supplier is None or not supplier.webhook_url:
        return False
    _queue_webhook(session, supplier.id, notice.event_type, notice.data, delivery_id=notice.notice_id)
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


# --- requests for quotation ----------------------------------------------------------------------------------

RFQ_CREATED = "rfq.created"


async def open_rfq_round(session: AsyncSession, event: RfqRoundOpened) -> int:
    """Send a round's RFQs: one per supplier, to each supplier with an eligible offer for an item (asked about
    those items) and to each named supplier (asked about every item); named suppliers that do not exist are skipped.
    Each RFQ goes to its supplier as a signed `rfq.created` webhook, if it has a webhook URL (else its inbox only).

    A redelivered event creates nothing: the round is recorded once, checked first; a concurrent delivery fails on
    the round's key (or UNIQUE(round_id, supplier_id)) and its retry finds the round. The RFQ and webhook ids derive
    from the round and supplier. Returns how many RFQs were created."""
    if await session.get(RfqRound, event.round_id) is not None:
        # Sent already; matching may not have heard (its acknowledgement lost): tell it again.
        count = (await session.exec(select(func.count()).select_from(Rfq).where(Rfq.round_id == event.round_id))).one()
        outbox.publish(session, OutboxMessage, RfqRoundAcknowledged(round_id=event.round_id, rfq_count=count))
        return 0
    session.add(RfqRound(id=event.round_id, reply_by=event.reply_by))
    await session.flush()  # the RFQs refer to it, and a flush does not order rows by foreign keys
    asked = items_per_supplier(
        len(event.items), await _eligible_suppliers(session, event.items), event.named_supplier_ids
    )
    found = await session.exec(select(Supplier.id, Supplier.webhook_url).where(col(Supplier.id).in_(list(asked))))
    webhook_urls = dict(found.all())
    for supplier_id in sorted(set(asked) - webhook_urls.keys()):
        log.warning("round %s names supplier %s, which does not exist: skipped", event.round_id, supplier_id)
    for supplier_id in sorted(webhook_urls):
        rfq = Rfq(
            id=uuid5(event.round_id, str(supplier_id)),
            round_id=event.round_id,
            supplier_id=supplier_id,
            reply_by=event.reply_by,
            items=[event.items[index].model_dump(mode="json") for index in asked[supplier_id]],
        )
        session.add(rfq)
        if webhook_urls[supplier_id]:
            content = RfqContent.model_validate(rfq).model_dump(mode="json")
            _queue_webhook(session, supplier_id, RFQ_CREATED, content, delivery_id=uuid5(rfq.id, RFQ_CREATED))
    outbox.publish(session, OutboxMessage, RfqRoundAcknowledged(round_id=event.round_id, rfq_count=len(webhook_urls)))
    await session.flush()
    return len(webhook_urls)


async def _eligible_suppliers(session: AsyncSession, items: Sequence[RfqItem]) -> list[tuple[UUID, int]]:
    """(supplier, item index) for every offer eligible for an item, from one query over the round's skus."""
    if not items:
        return []
    now = utc_now()
    needs = [need_for(item) for item in items]
    # SQL narrows by the loosest bounds of all items; the catalogue's rule decides per item, on effective quality.
    query = _offers_with_scorecards().where(
        col(Offer.sku).in_({need.sku for need in needs}),
        col(Offer.withdrawn_at).is_(None),
        Offer.quality >= min(need.min_quality for need in needs),
        Offer.lead_time_days <= max(need.days_available(now) for need in needs),
    )
    indexes_by_sku: dict[str, list[int]] = {}
    for index, need in enumerate(needs):
        indexes_by_sku.setdefault(need.sku, []).append(index)
    return [
        (offer.supplier_id, index)
        for offer, card in (await session.exec(query)).all()
        for index in indexes_by_sku[offer.sku]
        if is_eligible(_facts(offer, _effective_quality(offer.quality, card)), needs[index], now)
    ]


async def _own_rfq(session: AsyncSession, rfq_id: UUID, supplier_id: UUID, *, for_update: bool = False) -> Rfq:
    """The supplier's RFQ; another supplier's is 'not found', so ids reveal nothing. Locked to answer it, so two
    answers at once cannot both stay current."""
    rfq = await session.get(Rfq, rfq_id, with_for_update=for_update)
    if rfq is None or rfq.supplier_id != supplier_id:
        raise NotFound(f"RFQ {rfq_id} not found")
    return rfq


def _rfq_summary(rfq: Rfq, now: datetime) -> RfqSummary:
    return RfqSummary.model_validate(rfq, update={"status": rfq_status(rfq.answered_at, rfq.reply_by, now)})


async def list_rfqs(
    session: AsyncSession, supplier_id: UUID, status: RfqStatus | None, limit: int, offset: int
) -> list[RfqSummary]:
    now = utc_now()
    query = select(Rfq).where(Rfq.supplier_id == supplier_id)
    # domain.rfq.rfq_status, as SQL
    if status is RfqStatus.ANSWERED:
        query = query.where(col(Rfq.answered_at).is_not(None))
    elif status is RfqStatus.OPEN:
        query = query.where(col(Rfq.answered_at).is_(None), col(Rfq.reply_by) > now)
    elif status is RfqStatus.EXPIRED:
        query = query.where(col(Rfq.answered_at).is_(None), col(Rfq.reply_by) <= now)
    query = query.order_by(col(Rfq.created_at).desc(), col(Rfq.id).desc()).limit(limit).offset(offset)
    return [_rfq_summary(rfq, now) for rfq in (await session.exec(query)).all()]


async def get_rfq(session: AsyncSession, rfq_id: UUID, supplier_id: UUID) -> RfqPublic:
    rfq = await _own_rfq(session, rfq_id, supplier_id)
    quotes = await session.exec(
        select(Quote).where(Quote.rfq_id == rfq.id).order_by(col(Quote.created_at).desc(), col(Quote.id))
    )
    decline = (
        RfqDeclinePublic(reason=rfq.decline_reason, declined_at=rfq.declined_at)
        if rfq.declined_at is not None and rfq.decline_reason is not None
        else None
    )
    return RfqPublic(
        **_rfq_summary(rfq, utc_now()).model_dump(),
        quotes=[QuotePublic.model_validate(quote) for quote in quotes.all()],
        decline=decline,
    )


async def _replace_current_quotes(session: AsyncSession, rfq: Rfq, sku: str | None, status: QuoteStatus) -> None:
    """Mark the RFQ's current quotes (for `sku`, or all) superseded or withdrawn; they stay on record."""
    query = select(Quote).where(Quote.rfq_id == rfq.id, Quote.status == QuoteStatus.CURRENT)
    if sku is not None:
        query = query.where(Quote.sku == sku)
    for quote in (await session.exec(query)).all():
        quote.status, quote.replaced_at = status, utc_now()


async def submit_quote(session: AsyncSession, supplier_id: UUID, rfq_id: UUID, terms: QuoteCreate) -> QuotePublic:
    """Quote one of the RFQ's skus before its deadline. The quote supersedes the supplier's previous one for that
    sku (kept, marked superseded), and withdraws a decline: quoting after declining re-opens the supplier's part."""
    now = utc_now()
    rfq = await _own_rfq(session, rfq_id, supplier_id, for_update=True)
    check_open(rfq.reply_by, now)
    check_sku_asked(terms.sku, {item["sku"] for item in rfq.items})
    check_quote_valid_until(terms.valid_until, now)
    await _check_offer_regions(session, await get_supplier(session, supplier_id), terms)
    await _replace_current_quotes(session, rfq, terms.sku, QuoteStatus.SUPERSEDED)
    rfq.declined_at, rfq.decline_reason, rfq.answered_at = None, None, now
    quote = Quote.model_validate(
        _terms_columns(terms), update={"rfq_id": rfq.id, "supplier_id": supplier_id, "created_at": now}
    )
    session.add(quote)
    await session.flush()
    return QuotePublic.model_validate(quote)


async def decline_rfq(session: AsyncSession, supplier_id: UUID, rfq_id: UUID, data: RfqDecline) -> RfqPublic:
    """Decline the RFQ before its deadline, with a reason. Declining after quoting withdraws every current quote
    (kept, marked withdrawn); declining again replaces the reason."""
    now = utc_now()
    rfq = await _own_rfq(session, rfq_id, supplier_id, for_update=True)
    check_open(rfq.reply_by, now)
    await _replace_current_quotes(session, rfq, None, QuoteStatus.WITHDRAWN)
    rfq.declined_at, rfq.decline_reason, rfq.answered_at = now, data.reason, now
    await session.flush()
    return await get_rfq(session, rfq_id, supplier_id)


async def _round_rfqs(session: AsyncSession, round_id: UUID) -> tuple[RfqRound, Sequence[Rfq]]:
    rfq_round = await session.get(RfqRound, round_id)
    if rfq_round is None:
        raise NotFound(f"RFQ round {round_id} not found: its opening event has not been handled here (yet)")
    rfqs = await session.exec(select(Rfq).where(Rfq.round_id == round_id).order_by(col(Rfq.supplier_id)))
    return rfq_round, rfqs.all()


async def round_rfqs(session: AsyncSession, round_id: UUID) -> RoundRfqs:
    rfq_round, rfqs = await _round_rfqs(session, round_id)
    now = utc_now()
    return RoundRfqs(
        round_id=rfq_round.id,
        reply_by=rfq_round.reply_by,
        rfqs=[
            RoundRfq(
                rfq_id=rfq.id,
                supplier_id=rfq.supplier_id,
                status=rfq_status(rfq.answered_at, rfq.reply_by, now),
                answered_at=rfq.answered_at,
                declined=rfq.declined_at is not None,
            )
            for rfq in rfqs
        ],
    )


async def round_responses(session: AsyncSession, round_id: UUID) -> RoundResponses:
    """The round's current quotes still valid now, the suppliers that declined, and every asked supplier's
    capacity: what matching builds the round's problem from at the deadline."""
    rfq_round, rfqs = await _round_rfqs(session, round_id)
    quotes = await session.exec(
        select(Quote, SupplierScorecard)
        .join(Rfq, col(Quote.rfq_id) == col(Rfq.id))
        .outerjoin(SupplierScorecard, col(SupplierScorecard.supplier_id) == col(Quote.supplier_id))
        .where(Rfq.round_id == round_id, Quote.status == QuoteStatus.CURRENT, col(Quote.valid_until) > utc_now())
        .order_by(col(Quote.id))
    )
    suppliers = await session.exec(
        select(Supplier).where(col(Supplier.id).in_([rfq.supplier_id for rfq in rfqs])).order_by(col(Supplier.id))
    )
    return RoundResponses(
        round_id=rfq_round.id,
        quotes=[
            EligibleOffer.model_validate(quote, update={"quality": _effective_quality(quote.quality, card)})
            for quote, card in quotes.all()
        ],
        declined_supplier_ids=[rfq.supplier_id for rfq in rfqs if rfq.declined_at is not None],
        suppliers=[SupplierCapacity(id=s.id, capacity=s.capacity) for s in suppliers.all()],
    )
