"""Bodies only the matching API uses."""

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any
from uuid import UUID

import pydantic
from pydantic import AfterValidator, AwareDatetime, ValidationInfo, field_validator
from sqlmodel import Field, SQLModel

from flexsupply.contracts.events import PickupPoint
from flexsupply.contracts.rules import (
    MAX_CENTS,
    MAX_UNITS,
    Backups,
    Boolean,
    Currency,
    RegionCode,
    Sku,
    Units,
    as_utc,
)
from flexsupply.contracts.text import Address, Name, Note, PersonName, Reason, Spec, text
from flexsupply.matching.domain.award import AwardStatus, ReservationStatus
from flexsupply.matching.domain.package import PackageStatus, PackageStep
from flexsupply.matching.domain.phone import Phone
from flexsupply.matching.domain.refund import RefundCause, RefundMethod, RefundStatus
from flexsupply.matching.domain.sale import OrderStatus, SaleEnding

UtcDatetime = Annotated[AwareDatetime, AfterValidator(as_utc)]
Quantities = Annotated[
    dict[RegionCode, Units],
    pydantic.Field(min_length=1, max_length=100, description="Units per delivery region (estimates until the sale)."),
]
MAX_ROUND_PACKAGES = 50

# --- communities and leaders -----------------------------------------------------------------------------------


class LeaderFields(SQLModel):
    name: Name
    contact: Name = Field(description="How operators reach the leader: phone, WeChat id or email.")


class CommunityCreate(SQLModel):
    name: Name = Field(description="The buyers' group, as its members know it.")
    leader: LeaderFields


class LeaderPublic(LeaderFields):
    id: UUID
    community_id: UUID
    created_at: datetime


class CommunityPublic(SQLModel):
    id: UUID
    name: str
    leader: LeaderPublic
    created_at: datetime


class LeaderKeyIssued(SQLModel):
    id: UUID
    leader_id: UUID
    created_at: datetime
    api_key: str = Field(description="The leader's key (flk_...), shown once: only its hash is stored.")


class CommunityCreated(SQLModel):
    community: CommunityPublic
    leader_key: LeaderKeyIssued


class LeaderKeyRotate(SQLModel):
    revoke_existing: Boolean = Field(default=True, description="Revoke the leader's other keys now.")


class LeaderMe(SQLModel):
    leader: LeaderPublic
    community_name: str


# --- demand packages --------------------------------------------------------------------------------------------


class PackageTerms(SQLModel):
    """What a leader decides about a package. Rules across fields (domain.package.check_terms) apply too."""

    title: Name
    sku: Sku
    spec: Spec = ""
    display_name: Name | None = Field(
        default=None, description="The product's name as buyers read it (the title if none)."
    )
    description: Spec = Field(default="", description="A few lines for buyers about the product.")
    quantities: Quantities
    needed_by: UtcDatetime = Field(description="When buyers must have it (UTC).")
    min_quality: int = Field(default=0, ge=0, le=100, description="Least acceptable quality score.")
    backups: Backups = Field(default=0, description="N of 1+N: backup suppliers to hold.")
    target_unit_cents: int | None = Field(default=None, ge=0, le=MAX_CENTS, description="Hoped-for landed cost.")
    currency: Currency = "CNY"
    sale_opens_at: UtcDatetime
    sale_closes_at: UtcDatetime
    threshold_units: int = Field(ge=1, le=MAX_UNITS, description="Least total sold for the buy to go ahead.")
    cap_units: int = Field(ge=1, le=MAX_UNITS, description="Most units that may be sold.")
    per_buyer_limit: int = Field(ge=1, le=MAX_UNITS, description="Most units one buyer may order.")
    sale_price_cents: int = Field(ge=0, le=MAX_CENTS, description="Price per unit buyers pay.")
    payment_minutes: int = Field(
        default=30,
        ge=5,
        le=1440,
        description="How long a buyer has to pay an order (and at most until the close) before its units go "
        "back on sale.",
    )
    pickup_points: dict[RegionCode, PickupPoint] = Field(
        default_factory=dict,
        description="Group pickup: per region, where its buyers collect their orders (parcels go there). A region "
        "without one is delivered to each buyer's door.",
    )


class PackageCreate(PackageTerms):
    community_id: UUID | None = Field(
        default=None, description="Operators say whose package it is; a leader's is their own community's."
    )


class PackageUpdate(PackageTerms):
    """Only the fields sent change (a draft only): each of the terms, with the terms' bounds, none required."""

    # Absent means unchanged (services read only what was sent). Null is refused where the terms have no null
    # default, so the type (and the OpenAPI document) offers no null there; `target_unit_cents` may be removed.
    @field_validator("*", mode="before")
    @classmethod
    def _required_fields_stay(cls, value: object, info: ValidationInfo) -> object:
        if value is None and PackageTerms.model_fields[info.field_name or ""].default is not None:
            raise ValueError("may be changed but not removed")
        return value


# Derived, not repeated: a bound added to the terms binds a change too. The subclass holds copies of the terms'
# fields, so this touches only the change's.
for _field in PackageUpdate.model_fields.values():
    _field.default, _field.default_factory = None, None
PackageUpdate.model_rebuild(force=True)


class PackagePublic(PackageTerms):
    id: UUID
    community_id: UUID
    status: PackageStatus
    next_steps: list[PackageStep] = Field(description="The steps the package may take from its status.")
    round_id: UUID | None
    photo_url: str | None = Field(description="The product photo, public (upload: POST .../photo).")
    created_at: datetime
    updated_at: datetime


class PackageCancel(SQLModel):
    reason: Reason


class TransitionPublic(SQLModel):
    at: datetime
    actor: str
    from_status: PackageStatus
    to_status: PackageStatus
    step: PackageStep
    reason: str | None


# --- the group's sign-up (接龙) ----------------------------------------------------------------------------------


class SignupOpen(SQLModel):
    per_person_max: int = Field(ge=1, le=MAX_UNITS, description="Most units one member may ask for.")
    closes_at: UtcDatetime | None = Field(default=None, description="Entries stop then; none: when the leader closes.")


class SignupEntryCreate(SQLModel):
    name: PersonName
    phone: Phone = Field(description="Signing up again with the same phone replaces the entry.")
    region: RegionCode
    quantity: int = Field(ge=1, le=MAX_UNITS)


class SignupEntryPublic(SQLModel):
    name: str
    phone: str
    region: str
    quantity: int
    created_at: datetime
    updated_at: datetime


class SignupInvitation(SQLModel):
    """What a member sees through the link: nobody else's name or phone."""

    title: str
    spec: str
    display_name: str | None
    description: str
    photo_url: str | None
    regions: list[str]
    per_person_max: int
    closes_at: datetime | None
    open: bool
    sale_opens_at: datetime = Field(description="When the flash sale opens (it may have been moved since).")
    sale_closes_at: datetime
    notices: list[str] = Field(description="What the group was told since signing up: each move of the sale.")


class SignupPublic(SQLModel):
    """The leader's view: the link, the totals, and who signed up."""

    package_id: UUID
    token: str = Field(description="The link members use: /api/v1/signups/{token}.")
    per_person_max: int
    closes_at: datetime | None
    closed_at: datetime | None
    open: bool
    totals: dict[str, int] = Field(description="Units wanted per region of the package.")
    total_units: int
    entries: list[SignupEntryPublic]


# --- sourcing rounds ----------------------------------------------------------------------------------------


class RoundCreate(SQLModel):
    package_ids: list[UUID] = Field(min_length=1, max_length=MAX_ROUND_PACKAGES)
    reply_by: UtcDatetime = Field(description="Suppliers quote until then; before every package's needed_by.")
    named_supplier_ids: list[UUID] = Field(
        default_factory=list, max_length=100, description="Ask these suppliers too, eligible offer or not."
    )

    @field_validator("package_ids", "named_supplier_ids")
    @classmethod
    def _no_repeats(cls, ids: list[UUID]) -> list[UUID]:
        if len(set(ids)) != len(ids):
            raise ValueError("lists an id twice")
        return ids


class RoundPublic(SQLModel):
    id: UUID
    package_ids: list[UUID]
    reply_by: datetime
    named_supplier_ids: list[UUID]
    status: str
    started_by: str
    created_at: datetime
    rfq_count: int | None = Field(description="How many suppliers were asked; null until the suppliers service says.")
    rfqs_acknowledged_at: datetime | None


# --- matching runs ------------------------------------------------------------------------------------------

MAX_TIME_LIMIT_SECONDS = 600.0


class MatchRunRequest(SQLModel):
    time_limit_seconds: float | None = Field(
        default=None, gt=0, le=MAX_TIME_LIMIT_SECONDS, description="The solver's limit; the service's default if null."
    )


class PlannedAllocationPublic(SQLModel):
    offer_id: UUID
    supplier_id: UUID
    region: str
    quantity: int


class PlannedReservePublic(SQLModel):
    offer_id: UUID
    supplier_id: UUID
    quantity: int


class CostBreakdownPublic(SQLModel):
    goods_cents: int
    shipping_cents: int
    fixed_cents: int
    reserve_cents: int


class PackagePlanPublic(SQLModel):
    """One package's part of a run's plan: who makes what where, its share of the cost, what the sale may promise."""

    package_id: UUID
    run_id: UUID
    allocations: list[PlannedAllocationPublic]
    reserves: list[PlannedReservePublic]
    cost: CostBreakdownPublic
    units: int
    landed_unit_cents: int = Field(description="The package's cost share per unit, rounded half up.")
    sale_caps: dict[str, int] = Field(
        description="Per region, what any sale may sell: the plan's units, scaled down to the leader's cap in all."
    )


class MatchRunPublic(SQLModel):
    id: UUID
    round_id: UUID
    kind: str
    status: str = Field(description="queued, running, planned, infeasible or failed.")
    requested_by: str
    reason: str | None
    time_limit_seconds: float
    package_ids: list[UUID]
    attempts: int
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    elapsed_seconds: float | None = Field(description="Since it started: progress while running.")
    total_cents: int | None
    bound_cents: int | None
    gap: float | None
    solve_seconds: float | None
    build_seconds: float | None = Field(description="Reading quotes and offers and building the problem.")
    standalone_seconds: float | None = Field(description="Solving each package of a federated round alone.")
    standalone_total_cents: int | None = Field(description="A federated round: its packages' plans sourced alone.")
    saving_cents: int | None = Field(description="What sourcing together saved against sourcing each alone.")
    explanation: list[str] = Field(description="Why no plan exists, per package, when infeasible.")
    left_out: list[str] = Field(description="Quotes and offers the run did not use, and why.")
    error: str | None
    packages: list[PackagePlanPublic]
    plan: dict[str, Any] | None = Field(description="The plan in matching-problem.md's format, to audit.")


# --- awards ---------------------------------------------------------------------------------------------------

MAX_ANSWER_HOURS = 168


class FirmQuantitiesSet(SQLModel):
    quantities: dict[RegionCode, Units] = Field(
        min_length=1,
        max_length=100,
        description="Units sold per region: only the plan's regions, each at most its sale cap, at least 1 in all.",
    )


class FirmQuantitiesPublic(SQLModel):
    package_id: UUID
    status: PackageStatus
    firm_quantities: dict[str, int] = Field(description="What awards are made for: the regions with units sold.")
    sale_caps: dict[str, int] = Field(description="What the plan let the sale promise per region.")


class AwardRequest(MatchRunRequest):
    answer_within_hours: int | None = Field(
        default=None,
        ge=1,
        le=MAX_ANSWER_HOURS,
        description="How long suppliers have to answer; the service's default if null.",
    )


class AwardLinePublic(SQLModel):
    """What one offer makes for the package, priced by the cost-sharing rule."""

    offer_id: UUID
    quantities: dict[str, int] = Field(description="Units per region.")
    unit_cents: int
    shipping_unit_cents: dict[str, int] = Field(description="Shipping per unit per region.")
    fixed_cents: int = Field(description="The offer's fixed fee, or the package's share of it.")
    total_cents: int


class AwardPublic(SQLModel):
    id: UUID
    package_id: UUID
    run_id: UUID = Field(description="The matching run whose plan made the award.")
    supplier_id: UUID
    lines: list[AwardLinePublic]
    total_cents: int
    currency: str
    due_by: datetime = Field(description="When the package's buyers need it.")
    answer_by: datetime = Field(description="Accept or decline before then: silence counts as a decline.")
    status: AwardStatus
    reason: str | None = Field(description="Why it was declined, expired or withdrawn.")
    answered_at: datetime | None
    created_at: datetime


class AwardDecline(SQLModel):
    reason: Note


class ReservationLinePublic(SQLModel):
    offer_id: UUID
    quantity: int
    reserve_unit_cents: int
    total_cents: int


class ReservationPublic(SQLModel):
    """Backup capacity a supplier holds for a package (1+N), used if a producing supplier fails."""

    id: UUID
    package_id: UUID
    run_id: UUID
    supplier_id: UUID
    lines: list[ReservationLinePublic]
    total_cents: int
    status: ReservationStatus
    held_units: int = Field(description="Units of backup capacity reserved.")
    used_units: int = Field(description="Of those, units the supplier now makes after a producing supplier failed.")
    left_units: int = Field(description="Backup capacity still held for a further failure.")
    created_at: datetime


class ReserveCoverPublic(SQLModel):
    """What the package's held reserves still cover (1+N) after take-overs."""

    backups: int = Field(description="N of 1+N, as the package asks.")
    held_units: int
    used_units: int
    left_units: int
    short_units: int = Field(
        description="Units the worst single failure among the suppliers still making would leave without backup "
        "(with N-1 backups failing too); 0 when the reserves left cover 1+N."
    )
    next_step: str | None = Field(description="What to do when the reserves left fall short.")


class AwardRunPublic(SQLModel):
    """An award or re-match run of the package: why it was asked for and, when it found no plan, why not."""

    id: UUID
    kind: str
    status: str
    requested_by: str
    reason: str | None
    excluded_supplier_ids: list[UUID]
    held_supplier_ids: list[UUID] = Field(
        description="Suppliers that accepted an award and refused a further one: they make what they accepted, "
        "and are offered nothing more."
    )
    created_at: datetime
    finished_at: datetime | None
    explanation: list[str]
    error: str | None


class PackageAwardsPublic(SQLModel):
    package_id: UUID
    status: PackageStatus
    firm_quantities: dict[str, int] | None
    awards: list[AwardPublic] = Field(description="Every award made for the package, newest first.")
    reservations: list[ReservationPublic] = Field(description="Every reservation, newest first.")
    reserve_cover: ReserveCoverPublic
    runs: list[AwardRunPublic] = Field(description="The award and re-match runs, newest first.")


# --- the flash sale ----------------------------------------------------------------------------------------------


class OrderCreate(SQLModel):
    """A buyer's order. Name, phone and address are shown only to the leader, staff and the shipping supplier."""

    quantity: int = Field(ge=1, le=MAX_UNITS)
    region: RegionCode = Field(description="One of the sale's delivery regions.")
    name: PersonName
    phone: Phone = Field(description="The per-buyer limit counts by phone; stored as E.164.")
    address: Address


class RefundPublic(SQLModel):
    """Money owed back to a buyer, and where it stands (owed, requested, succeeded, failed and retried)."""

    id: UUID
    order_id: UUID
    payment_reference: str
    amount_cents: int
    currency: str
    cause: RefundCause
    method: RefundMethod = Field(description="wechatpay: back through WeChat Pay; transfer: paid back by the leader.")
    status: RefundStatus
    reason: str | None
    transfer_reference: str | None = Field(description="The leader's transfer, once recorded.")
    error: str | None = Field(description="Why the last request failed (it is tried again by itself).")
    attempts: int
    next_attempt_at: datetime | None
    created_at: datetime
    settled_at: datetime | None


class LeaderRefundPublic(RefundPublic):
    """The leader's and staff's view: whom to pay back."""

    name: str
    phone: str


class RefundPaidByTransfer(SQLModel):
    """The leader paid the refund back by bank or wallet transfer."""

    reference: Annotated[str, text(100)] = Field(
        description="The transfer's reference (bank serial number, WeChat transfer number)."
    )


class PayeeSettings(SQLModel):
    """Whom buyers pay by transfer when WeChat Pay is not configured: shown on every order of the community."""

    payee_name: Annotated[str, text(100)]
    payee_account: Annotated[str, text(200)] = Field(
        description="Bank account (with its bank), or a WeChat or Alipay id."
    )


class PayeePublic(SQLModel):
    community_id: UUID
    payee_name: str | None
    payee_account: str | None


class WechatPayAction(SQLModel):
    """Paying with WeChat Pay: ask for it (POST `action_url`), then scan the code in WeChat."""

    status: str = Field(description="not_asked | preparing | ready | failed")
    action_url: str
    code_url: str | None = Field(description="What the QR code holds (weixin://...), once ready.")
    qr_svg_data_uri: str | None = Field(description="The QR code as an SVG data URI, once ready.")
    error: str | None


class TransferPayee(SQLModel):
    payee_name: str
    payee_account: str


class PaymentInstructions(SQLModel):
    """Whom to pay, how much and with which reference, while the order waits for its payment."""

    amount_cents: int
    currency: str
    payment_reference: str = Field(description="Put it in the transfer's memo (备注).")
    pay_by: datetime
    wechatpay: WechatPayAction | None = Field(description="Set when the service takes WeChat Pay.")
    transfer: TransferPayee | None = Field(description="Set when the leader has given a payee for transfers.")


class OrderPublic(SQLModel):
    """An order as its buyer sees it (the token is the buyer's key to it: keep it)."""

    id: UUID
    token: str = Field(description="Follow or cancel the order with it: GET /api/v1/orders/{token}.")
    package_id: UUID
    region: str
    quantity: int
    unit_price_cents: int
    amount_cents: int = Field(description="What to pay, with the payment reference in the transfer's memo.")
    currency: str
    payment_reference: str
    pay_by: datetime = Field(description="Unpaid by then, the order is released and its units go back on sale.")
    status: OrderStatus
    reason: str | None = Field(description="Why it was cancelled, released or is owed a refund.")
    placed_at: datetime
    paid_at: datetime | None


class OrderPlaced(OrderPublic):
    left: int = Field(description="Units left in the order's region as the order was taken (a moment's count).")


class BuyerOrderPublic(OrderPublic):
    """The buyer's view: the order, its package and what to do next."""

    name: str
    phone: str
    address: str
    package_title: str
    package_status: PackageStatus
    payment_instructions: str
    payment: PaymentInstructions | None = Field(description="Whom to pay and how; None once nothing is to pay.")
    refunds: list[RefundPublic] = Field(description="Money owed back on this order, and where it stands.")


class LeaderOrderPublic(OrderPublic):
    """The leader's and staff's view: with whom to deliver to."""

    name: str
    phone: str
    address: str


class RegionStock(SQLModel):
    region: str
    cap: int
    sold: int = Field(description="Units in live orders (placed, paid or confirmed).")
    left: int


class SaleState(StrEnum):
    UPCOMING = "upcoming"  # not open yet (or not planned yet)
    ON_SALE = "on_sale"
    CLOSING = "closing"  # the window has passed; the close is being counted
    CLOSED = "closed"  # the package went ahead
    CANCELLED = "cancelled"


class StockPublic(SQLModel):
    package_id: UUID
    state: SaleState
    left: int
    regions: list[RegionStock]


class SalePublic(StockPublic):
    """A package's sale as buyers see it: no supplier, no cost, no other buyer."""

    title: str
    sku: str
    spec: str
    display_name: str | None = Field(description="The product's name for buyers; show the title when null.")
    description: str
    photo_url: str | None
    currency: str
    unit_price_cents: int
    opens_at: datetime
    closes_at: datetime
    per_buyer_limit: int
    payment_minutes: int
    threshold_units: int
    outcome: str | None = Field(description="How the sale ended, once it has.")
    ending: SaleEnding | None = Field(default=None, description="How the sale ended, as a code, once it has.")


class SaleCloseRequest(SQLModel):
    reason: Reason = Field(description="Why the sale closes before its window ends.")


class SaleClosePublic(SQLModel):
    package_id: UUID
    package_status: PackageStatus
    went_ahead: bool
    sold: dict[str, int] = Field(description="Paid units per region: the firm quantities when it went ahead.")
    outcome: str


class StatementLinePublic(SQLModel):
    line: int
    reference: str | None
    amount_cents: int | None
    note: str
    text: str


class StatementReport(SQLModel):
    """A statement matched to the package's orders by reference and amount."""

    matched: list[StatementLinePublic] = Field(description="Orders now paid.")
    already_paid: list[StatementLinePublic]
    mismatched: list[StatementLinePublic] = Field(description="An order's reference with another amount.")
    unmatched: list[StatementLinePublic] = Field(description="No order's reference, or a line that cannot be read.")


class PaymentCallbackAnswer(SQLModel):
    payment_reference: str
    status: OrderStatus


class MarketCreate(SQLModel):
    """A market evening: packages whose sales follow one another (their windows make the running order)."""

    title: Name
    starts_at: UtcDatetime
    ends_at: UtcDatetime
    package_ids: list[UUID] = Field(min_length=1, max_length=100)


class MarketSlot(SQLModel):
    opens_at: datetime
    closes_at: datetime
    sales: list[SalePublic]


class MarketPublic(SQLModel):
    id: UUID
    title: str
    starts_at: datetime
    ends_at: datetime
    now: list[SalePublic] = Field(description="On sale now.")
    next: list[MarketSlot] = Field(description="What comes next, slot by slot.")
    done: list[SalePublic] = Field(description="Sales whose window has passed.")
