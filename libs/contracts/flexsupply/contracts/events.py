"""Events: facts one service publishes and others consume, named so that no publisher imports a consumer.

An event is written to the publisher's outbox in the transaction that makes it true, with an optional not-before
time (a deadline that survives a restart). The relay sends it, when due, to every queue subscribed to its name in
`SUBSCRIPTIONS`; each queue has one actor in its service that dispatches by name. Consumers must be idempotent:
delivery is at least once.
"""

from typing import Any, ClassVar, Literal
from uuid import UUID, uuid5

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from flexsupply.contracts.text import Address, PersonName


class Event(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    name: ClassVar[str]
    types: ClassVar[dict[str, type["Event"]]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "name" in cls.__dict__:
            if cls.name in Event.types:
                raise TypeError(f"two events are named {cls.name!r}")
            Event.types[cls.name] = cls


def parse_event(name: str, payload: dict[str, Any]) -> Event:
    if name not in Event.types:
        raise LookupError(f"no event is named {name!r}")
    return Event.types[name].model_validate(payload)


# --- suppliers ------------------------------------------------------------------------------------------------


class WebhookDue(Event):
    """A webhook delivery is due for an attempt (first, retry, or re-sent by the sweeper)."""

    name = "suppliers.webhook_due"
    delivery_id: UUID


class SupplierNotice(Event):
    """Tell a supplier something by signed webhook (the suppliers service holds the URLs and secrets)."""

    name = "suppliers.notice"
    supplier_id: UUID
    event_type: str
    data: dict[str, Any]
    # Another service's id for this notice, so that a redelivered event queues one webhook, not two.
    notice_id: UUID

    @classmethod
    def about(cls, subject_id: UUID, supplier_id: UUID, event_type: str, data: BaseModel) -> "SupplierNotice":
        """The notice telling a supplier `event_type` about `subject_id` (an award, a production order), `data` its
        body. Its id is the same every time, so a retried transaction or a redelivered event is one webhook."""
        return cls(
            supplier_id=supplier_id,
            event_type=event_type,
            data=data.model_dump(mode="json"),
            notice_id=uuid5(subject_id, event_type),
        )


# --- sourcing (matching -> suppliers) ----------------------------------------------------------------------------


class RfqItem(BaseModel):
    """One package's need inside a round's request for quotation."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    package_id: UUID
    sku: str
    spec: str
    quantities: dict[str, int]  # region code -> units (estimates while sourcing)
    needed_by: AwareDatetime
    min_quality: int


class RfqRoundOpened(Event):
    """A sourcing round (one package, or several federated) asks suppliers for quotes until `reply_by`.

    The suppliers service sends an RFQ to every supplier with an eligible offer for an item's sku, and to every
    supplier named; one RFQ per supplier covers all the items it is asked about."""

    name = "matching.rfq_round_opened"
    round_id: UUID
    reply_by: AwareDatetime
    items: list[RfqItem]
    named_supplier_ids: list[UUID] = []


class RfqRoundAcknowledged(Event):
    """The suppliers service has sent a round's RFQs: matching stops re-sending the round (owed until this)."""

    name = "suppliers.rfq_round_acknowledged"
    round_id: UUID
    rfq_count: int


class SourcingRoundDue(Event):
    """A round's reply deadline has come: match it (matching's own scheduled event)."""

    name = "matching.sourcing_round_due"
    round_id: UUID


class MatchRunRequested(Event):
    """Solve a stored matching run (matching's own job; re-sent by the sweeper if its worker dies)."""

    name = "matching.match_run_requested"
    run_id: UUID


class AwardAnswerDue(Event):
    """An award's answer deadline has come: silence counts as a decline (matching's own scheduled event)."""

    name = "matching.award_answer_due"
    award_id: UUID


# --- awards (matching -> fulfilment) -----------------------------------------------------------------------------


class SaleOpeningDue(Event):
    """A planned package's sale window opens: put it on sale (matching's own scheduled event)."""

    name = "matching.sale_opening_due"
    package_id: UUID


class SaleClosingDue(Event):
    """A sale's window has closed: count what was paid, then go ahead or cancel and refund."""

    name = "matching.sale_closing_due"
    package_id: UUID


class WechatPaymentDue(Event):
    """A buyer asked to pay an order with WeChat Pay: create its Native order (matching's own job)."""

    name = "matching.wechat_payment_due"
    order_id: UUID


class WechatPaymentCheckDue(Event):
    """An order's WeChat Pay order is still unconfirmed: ask WeChat Pay (a notification may be lost)."""

    name = "matching.wechat_payment_check_due"
    order_id: UUID


class RefundDue(Event):
    """A refund through a payment provider is owed, failed and due again, or unanswered: request or query it."""

    name = "matching.refund_due"
    refund_id: UUID


class AwardedAllocation(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    supplier_id: UUID
    offer_id: str  # an offer's or a quote's id, as in the plan
    region: str
    quantity: int
    unit_cents: int
    shipping_cents: int


class AwardedReserve(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    supplier_id: UUID
    offer_id: str
    quantity: int


class ConfirmedOrder(BaseModel):
    """A buyer's paid order, as fulfilment needs it to deliver: whom, where, how many."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    order_id: UUID
    # The buyer's order token, hashed (sha256 hex): fulfilment shows the order's parcels to whoever holds the token
    # without ever storing it.
    token_sha256: str
    region: str
    quantity: int
    name: str
    phone: str
    address: str


class PickupPoint(BaseModel):
    """Where a region's buyers collect their orders when the leader chose group pickup: parcels go there."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: PersonName
    address: Address
    phone: str = Field(min_length=5, max_length=16, pattern=r"^\+[1-9][0-9]{4,14}$", description="E.164.")


class ReservesShort(Event):
    """A package's reserves left after take-overs no longer cover 1+N: staff arrange more backup (matching ->
    fulfilment, shown to staff as an exception)."""

    name = "matching.reserves_short"
    package_id: UUID
    short_units: int
    message: str


class PackageAwarded(Event):
    """Every award of a package was accepted: production may start for exactly the firm quantities.

    `orders` are the sale's confirmed orders (none when it was sold outside flexsupply); they add up to the firm
    quantities per region. `rematch_problem` is the package alone in the matching contract (version 1): its firm
    quantities as lines, the awarded and reserve offers with their suppliers, no backups asked. With the allocations
    as the previous plan, fulfilment re-matches a failed supplier's remainder onto the reserves with the engine,
    without asking matching again."""

    name = "matching.package_awarded"
    package_id: UUID
    sku: str
    needed_by: AwareDatetime
    currency: str
    firm_quantities: dict[str, int]
    allocations: list[AwardedAllocation]
    reserves: list[AwardedReserve]
    orders: list[ConfirmedOrder] = []
    rematch_problem: dict[str, Any] | None = None
    # Regions whose buyers collect at a pickup point (the leader's choice): their parcels go to the point.
    pickup_points: dict[str, PickupPoint] = {}


# --- fulfilment -> suppliers -------------------------------------------------------------------------------------


class SupplierOutcome(Event):
    """Something a supplier's delivery came to, for its scorecard: counted once per outcome id."""

    name = "fulfilment.supplier_outcome"
    outcome_id: UUID
    supplier_id: UUID
    # delivered_on_time | delivered_late (units of a shipment delivered), quality_failed (units of a batch that
    # failed its check), failed_to_deliver (units of a production order marked failed), case_upheld (units of an
    # order whose after-sales case was resolved against the supplier)
    kind: Literal["delivered_on_time", "delivered_late", "quality_failed", "failed_to_deliver", "case_upheld"]
    units: int
    occurred_at: AwareDatetime


class BuyerRefundOwed(Event):
    """Money goes back to a buyer for an order fulfilment delivers: an after-sales case resolved with a refund, or
    units no backup supplier could take over. `refund_key` (the case's id, say) makes a second delivery a no-op."""

    name = "fulfilment.buyer_refund_owed"
    refund_key: UUID
    order_id: UUID  # matching's order id
    amount_cents: int = Field(ge=1)
    cause: Literal["after_sales", "takeover_failed"]
    reason: str = Field(max_length=500)


class DeliveryAssignmentDue(Event):
    """A package's buyers' orders are to be assigned to its production (fulfilment's own job)."""

    name = "fulfilment.delivery_assignment_due"
    package_id: UUID


class SupplierFailureDue(Event):
    """A production order was marked failed: activate the backups for its remainder (fulfilment's own job)."""

    name = "fulfilment.supplier_failure_due"
    failure_id: UUID


# --- fulfilment -> matching -------------------------------------------------------------------------------------


class ReserveUsed(Event):
    """A backup took over units of a failed supplier out of the reserve it holds for the package: matching counts
    them used, once per take-over production order."""

    name = "fulfilment.reserve_used"
    takeover_id: UUID  # the backup's production order
    package_id: UUID
    supplier_id: UUID  # the backup
    offer_id: str
    units: int
    failed_supplier_id: UUID


class FulfilmentStarted(Event):
    """A package's first production order started: the package is in fulfilment."""

    name = "fulfilment.package_started"
    package_id: UUID


class FulfilmentCompleted(Event):
    """Every unit of a package is made or failed, and every parcel delivered or otherwise closed: it is completed."""

    name = "fulfilment.package_completed"
    package_id: UUID


# --- the routing table ------------------------------------------------------------------------------------------

# Event name -> the queues that consume it. Queue names are "<service>.<purpose>": the consuming service declares
# one dispatching actor per queue (kit.events.Consumer).
SUBSCRIPTIONS: dict[str, tuple[str, ...]] = {
    WebhookDue.name: ("suppliers.webhooks",),
    SupplierNotice.name: ("suppliers.events",),
    RfqRoundOpened.name: ("suppliers.events",),
    RfqRoundAcknowledged.name: ("matching.events",),
    SourcingRoundDue.name: ("matching.events",),
    MatchRunRequested.name: ("matching.solve",),
    AwardAnswerDue.name: ("matching.events",),
    SaleOpeningDue.name: ("matching.events",),
    SaleClosingDue.name: ("matching.events",),
    WechatPaymentDue.name: ("matching.events",),
    WechatPaymentCheckDue.name: ("matching.events",),
    RefundDue.name: ("matching.events",),
    BuyerRefundOwed.name: ("matching.events",),
    PackageAwarded.name: ("fulfilment.events",),
    SupplierOutcome.name: ("suppliers.events",),
    DeliveryAssignmentDue.name: ("fulfilment.events",),
    SupplierFailureDue.name: ("fulfilment.events",),
    ReservesShort.name: ("fulfilment.events",),
    ReserveUsed.name: ("matching.events",),
    FulfilmentStarted.name: ("matching.events",),
    FulfilmentCompleted.name: ("matching.events",),
}


def subscribers(name: str) -> tuple[str, ...]:
    return SUBSCRIPTIONS.get(name, ())
