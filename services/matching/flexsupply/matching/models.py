"""The matching service's tables: nothing else reads them."""

from datetime import datetime
from enum import StrEnum
from typing import Any
from uuid import UUID, uuid4

from sqlalchemy import JSON, BigInteger, LargeBinary, UniqueConstraint
from sqlalchemy.orm import registry
from sqlmodel import Field, SQLModel

from flexsupply.kit.clock import utc_now
from flexsupply.kit.db import UtcDateTime, varchar_enum
from flexsupply.kit.idempotency import IdempotencyRecordBase
from flexsupply.kit.outbox import OutboxMessageBase
from flexsupply.matching.domain.award import AwardStatus, ReservationStatus
from flexsupply.matching.domain.package import PackageStatus, PackageStep
from flexsupply.matching.domain.refund import RefundCause, RefundMethod, RefundStatus
from flexsupply.matching.domain.sale import OrderStatus


class MatchingTable(SQLModel, registry=registry()):
    """Base of this service's tables: its own metadata, migrated by its own alembic history."""


class OutboxMessage(OutboxMessageBase, MatchingTable, table=True):
    __tablename__ = "outbox_message"  # type: ignore[assignment]


class IdempotencyRecord(IdempotencyRecordBase, MatchingTable, table=True):
    __tablename__ = "idempotency_record"  # type: ignore[assignment]


class Community(MatchingTable, table=True):
    """A buyers' group (a chat group of a few hundred members) and the demand its leader brings."""

    id: UUID = Field(default_factory=uuid4, primary_key=True)
    name: str = Field(max_length=200, index=True)
    created_at: datetime = Field(default_factory=utc_now, sa_type=UtcDateTime)  # type: ignore[call-overload]
    # Whom buyers pay by transfer when WeChat Pay is not configured (the leader's own account, usually).
    payee_name: str | None = Field(default=None, max_length=100)
    payee_account: str | None = Field(default=None, max_length=200)


class Leader(MatchingTable, table=True):
    id: UUID = Field(default_factory=uuid4, primary_key=True)
    community_id: UUID = Field(foreign_key="community.id", unique=True)  # one leader per community
    name: str = Field(max_length=200)
    contact: str = Field(max_length=200)
    created_at: datetime = Field(default_factory=utc_now, sa_type=UtcDateTime)  # type: ignore[call-overload]


class LeaderKey(MatchingTable, table=True):
    __tablename__ = "leader_key"  # type: ignore[assignment]

    id: UUID = Field(primary_key=True)
    leader_id: UUID = Field(foreign_key="leader.id", index=True)
    secret_hash: str = Field(max_length=64)
    created_at: datetime = Field(default_factory=utc_now, sa_type=UtcDateTime)  # type: ignore[call-overload]
    revoked_at: datetime | None = Field(default=None, sa_type=UtcDateTime)  # type: ignore[call-overload]


class RoundStatus(StrEnum):
    OPEN = "open"


class SourcingRound(MatchingTable, table=True):
    """Packages (of one group, or several federated) asking suppliers for quotes until `reply_by`."""

    __tablename__ = "sourcing_round"  # type: ignore[assignment]

    id: UUID = Field(default_factory=uuid4, primary_key=True)
    package_ids: list[str] = Field(sa_type=JSON)  # as started; each package also records its current round
    reply_by: datetime = Field(sa_type=UtcDateTime)  # type: ignore[call-overload]
    named_supplier_ids: list[str] = Field(default_factory=list, sa_type=JSON)
    status: RoundStatus = Field(default=RoundStatus.OPEN, sa_type=varchar_enum(RoundStatus), index=True)
    started_by: str = Field(max_length=100)
    created_at: datetime = Field(default_factory=utc_now, sa_type=UtcDateTime)  # type: ignore[call-overload]
    # The RFQs are owed until the suppliers service acknowledges them: the sweeper re-sends the round meanwhile.
    rfqs_requested_at: datetime = Field(default_factory=utc_now, sa_type=UtcDateTime, index=True)  # type: ignore[call-overload]
    rfqs_acknowledged_at: datetime | None = Field(default=None, sa_type=UtcDateTime)  # type: ignore[call-overload]
    rfq_count: int | None = Field(default=None, description="How many suppliers were asked.")


class DemandPackage(MatchingTable, table=True):
    __tablename__ = "demand_package"  # type: ignore[assignment]

    id: UUID = Field(default_factory=uuid4, primary_key=True)
    community_id: UUID = Field(foreign_key="community.id", index=True)
    title: str = Field(max_length=200)
    sku: str = Field(max_length=64, index=True)
    spec: str = Field(max_length=4000)
    # What buyers read: the product's name and a few lines about it (the title stays the leader's own label).
    display_name: str | None = Field(default=None, max_length=200)
    description: str = Field(default="", max_length=4000)
    photo_id: UUID | None = Field(default=None)  # the current PackagePhoto: a new upload gets a new id (and URL)
    quantities: dict[str, int] = Field(sa_type=JSON)  # region code -> units
    needed_by: datetime = Field(sa_type=UtcDateTime)  # type: ignore[call-overload]
    min_quality: int
    backups: int
    target_unit_cents: int | None = Field(default=None, sa_type=BigInteger)
    currency: str = Field(max_length=3)
    sale_opens_at: datetime = Field(sa_type=UtcDateTime)  # type: ignore[call-overload]
    sale_closes_at: datetime = Field(sa_type=UtcDateTime)  # type: ignore[call-overload]
    threshold_units: int
    cap_units: int
    per_buyer_limit: int
    sale_price_cents: int = Field(sa_type=BigInteger)
    payment_minutes: int = Field(default=30)
    # Group pickup: region code -> {name, address, phone} where that region's buyers collect (parcels go there).
    pickup_points: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    status: PackageStatus = Field(default=PackageStatus.DRAFT, sa_type=varchar_enum(PackageStatus), index=True)
    round_id: UUID | None = Field(default=None, foreign_key="sourcing_round.id", index=True)
    # What was sold per region (set by the flash sale's close, or by the leader): what awards are made for.
    firm_quantities: dict[str, int] | None = Field(default=None, sa_type=JSON)
    # The newest run that planned it (a sourcing run; an award or re-match run once awarded): its plan is current.
    plan_run_id: UUID | None = Field(default=None)
    created_at: datetime = Field(default_factory=utc_now, sa_type=UtcDateTime, index=True)  # type: ignore[call-overload]
    updated_at: datetime = Field(default_factory=utc_now, sa_type=UtcDateTime)  # type: ignore[call-overload]


class PackagePhoto(MatchingTable, table=True):
    """A package's product photo, kept in the database: every process of either deployment serves it, with no shared
    folder. Small (the upload is limited), and read only by the photo's own URL."""

    __tablename__ = "package_photo"  # type: ignore[assignment]

    id: UUID = Field(default_factory=uuid4, primary_key=True)
    package_id: UUID = Field(foreign_key="demand_package.id", index=True)
    content_type: str = Field(max_length=40)
    data: bytes = Field(sa_type=LargeBinary)
    created_at: datetime = Field(default_factory=utc_now, sa_type=UtcDateTime)  # type: ignore[call-overload]


class PackageTransition(MatchingTable, table=True):
    """One move of a package's state machine: who took which step, when, and why."""

    __tablename__ = "package_transition"  # type: ignore[assignment]

    id: UUID = Field(default_factory=uuid4, primary_key=True)
    package_id: UUID = Field(foreign_key="demand_package.id", index=True)
    at: datetime = Field(default_factory=utc_now, sa_type=UtcDateTime)  # type: ignore[call-overload]
    actor: str = Field(max_length=100)
    from_status: PackageStatus = Field(sa_type=varchar_enum(PackageStatus))
    to_status: PackageStatus = Field(sa_type=varchar_enum(PackageStatus))
    step: PackageStep = Field(sa_type=varchar_enum(PackageStep))
    reason: str | None = Field(default=None, max_length=1000)


class Signup(MatchingTable, table=True):
    """A draft package's sign-up (接龙), reached by members through an unguessable link token."""

    id: UUID = Field(default_factory=uuid4, primary_key=True)
    package_id: UUID = Field(foreign_key="demand_package.id", unique=True)
    token: str = Field(max_length=64, unique=True)
    per_person_max: int
    closes_at: datetime | None = Field(default=None, sa_type=UtcDateTime)  # type: ignore[call-overload]
    closed_at: datetime | None = Field(default=None, sa_type=UtcDateTime)  # type: ignore[call-overload]
    created_at: datetime = Field(default_factory=utc_now, sa_type=UtcDateTime)  # type: ignore[call-overload]


class SignupEntry(MatchingTable, table=True):
    __tablename__ = "signup_entry"  # type: ignore[assignment]
    # One entry per phone: signing up again replaces it, and two racing requests cannot both insert.
    __table_args__ = (UniqueConstraint("signup_id", "phone"),)

    id: UUID = Field(default_factory=uuid4, primary_key=True)
    signup_id: UUID = Field(foreign_key="signup.id", index=True)
    name: str = Field(max_length=100)
    phone: str = Field(max_length=16)
    region: str = Field(max_length=40)
    quantity: int
    created_at: datetime = Field(default_factory=utc_now, sa_type=UtcDateTime)  # type: ignore[call-overload]
    updated_at: datetime = Field(default_factory=utc_now, sa_type=UtcDateTime)  # type: ignore[call-overload]


class RunKind(StrEnum):
    SOURCING = "sourcing"  # a round's packages on their estimates: what the sale may promise
    AWARD = "award"  # one package on its firm quantities, keeping the planned suppliers where possible
    REMATCH = "rematch"  # after a decline or silence: without that supplier, changing as little as possible


class RunStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    PLANNED = "planned"
    INFEASIBLE = "infeasible"
    FAILED = "failed"


FINISHED_RUNS = frozenset({RunStatus.PLANNED, RunStatus.INFEASIBLE, RunStatus.FAILED})


class MatchRun(MatchingTable, table=True):
    """One solve of a matching problem, as a job: what it solved (exactly, to audit or solve again) and found."""

    __tablename__ = "match_run"  # type: ignore[assignment]

    id: UUID = Field(default_factory=uuid4, primary_key=True)
    round_id: UUID = Field(foreign_key="sourcing_round.id", index=True)
    kind: RunKind = Field(sa_type=varchar_enum(RunKind))
    status: RunStatus = Field(default=RunStatus.QUEUED, sa_type=varchar_enum(RunStatus), index=True)
    requested_by: str = Field(max_length=100)
    reason: str | None = Field(default=None, max_length=1000)
    time_limit_seconds: float
    package_ids: list[str] = Field(sa_type=JSON)
    # Award and re-match runs: the firm units per package and region, the plan to keep close to, who is excluded
    # and which allocations are fixed (accepted awards).
    firm_quantities: dict[str, dict[str, int]] | None = Field(default=None, sa_type=JSON)
    previous_run_id: UUID | None = Field(default=None, foreign_key="match_run.id")
    excluded_supplier_ids: list[str] = Field(default_factory=list, sa_type=JSON)
    # Suppliers that accepted an award and then refused a further one: kept for their accepted units, no more.
    held_supplier_ids: list[str] = Field(default_factory=list, sa_type=JSON)
    fixed_allocations: list[dict[str, Any]] = Field(default_factory=list, sa_type=JSON)
    # Award and re-match runs: how long each supplier has to answer the awards the plan makes (a re-match keeps the
    # award run's window).
    answer_within_hours: int | None = None
    problem: dict[str, Any] | None = Field(default=None, sa_type=JSON)
    plan: dict[str, Any] | None = Field(default=None, sa_type=JSON)
    package_plans: dict[str, Any] | None = Field(default=None, sa_type=JSON)
    left_out: list[str] = Field(default_factory=list, sa_type=JSON)
    explanation: list[str] = Field(default_factory=list, sa_type=JSON)
    total_cents: int | None = Field(default=None, sa_type=BigInteger)
    bound_cents: int | None = Field(default=None, sa_type=BigInteger)
    gap: float | None = None
    solve_seconds: float | None = None
    build_seconds: float | None = None
    standalone_seconds: float | None = None
    standalone_total_cents: int | None = Field(default=None, sa_type=BigInteger)
    saving_cents: int | None = Field(default=None, sa_type=BigInteger)
    error: str | None = Field(default=None, max_length=2000)
    attempts: int = 0
    lease_until: datetime | None = Field(default=None, sa_type=UtcDateTime, index=True)  # type: ignore[call-overload]
    created_at: datetime = Field(default_factory=utc_now, sa_type=UtcDateTime, index=True)  # type: ignore[call-overload]
    started_at: datetime | None = Field(default=None, sa_type=UtcDateTime)  # type: ignore[call-overload]
    finished_at: datetime | None = Field(default=None, sa_type=UtcDateTime)  # type: ignore[call-overload]


class Award(MatchingTable, table=True):
    """What one supplier is asked to make for one package: per offer, the units per region and the prices."""

    id: UUID = Field(default_factory=uuid4, primary_key=True)
    package_id: UUID = Field(foreign_key="demand_package.id", index=True)
    run_id: UUID = Field(foreign_key="match_run.id", index=True)
    supplier_id: UUID = Field(index=True)
    lines: list[dict[str, Any]] = Field(sa_type=JSON)  # planning.OfferAward, as JSON
    total_cents: int = Field(sa_type=BigInteger)
    currency: str = Field(max_length=3)
    due_by: datetime = Field(sa_type=UtcDateTime)  # type: ignore[call-overload]
    answer_by: datetime = Field(sa_type=UtcDateTime)  # type: ignore[call-overload]
    status: AwardStatus = Field(default=AwardStatus.OFFERED, sa_type=varchar_enum(AwardStatus), index=True)
    reason: str | None = Field(default=None, max_length=500)
    answered_at: datetime | None = Field(default=None, sa_type=UtcDateTime)  # type: ignore[call-overload]
    created_at: datetime = Field(default_factory=utc_now, sa_type=UtcDateTime)  # type: ignore[call-overload]


class Reservation(MatchingTable, table=True):
    """Backup capacity one supplier holds for one package (1+N), activated if a producing supplier fails."""

    id: UUID = Field(default_factory=uuid4, primary_key=True)
    package_id: UUID = Field(foreign_key="demand_package.id", index=True)
    run_id: UUID = Field(foreign_key="match_run.id", index=True)
    supplier_id: UUID = Field(index=True)
    lines: list[dict[str, Any]] = Field(sa_type=JSON)  # planning.Reservation, as JSON
    total_cents: int = Field(sa_type=BigInteger)
    status: ReservationStatus = Field(
        default=ReservationStatus.HELD, sa_type=varchar_enum(ReservationStatus), index=True
    )
    created_at: datetime = Field(default_factory=utc_now, sa_type=UtcDateTime)  # type: ignore[call-overload]


class ReserveUse(MatchingTable, table=True):
    """Units of a reservation a backup now makes, after a producing supplier failed (as fulfilment reported it)."""

    __tablename__ = "reserve_use"  # type: ignore[assignment]

    takeover_id: UUID = Field(primary_key=True)  # fulfilment's production order for the backup: counted once
    package_id: UUID = Field(foreign_key="demand_package.id", index=True)
    supplier_id: UUID
    offer_id: str = Field(max_length=100)
    units: int
    failed_supplier_id: UUID
    recorded_at: datetime = Field(default_factory=utc_now, sa_type=UtcDateTime)  # type: ignore[call-overload]


class Sale(MatchingTable, table=True):
    """A package's flash sale, from its opening: the terms as they were fixed then, and how it ended."""

    package_id: UUID = Field(foreign_key="demand_package.id", primary_key=True)
    opens_at: datetime = Field(sa_type=UtcDateTime)  # type: ignore[call-overload]
    closes_at: datetime = Field(sa_type=UtcDateTime)  # type: ignore[call-overload]
    unit_price_cents: int = Field(sa_type=BigInteger)
    currency: str = Field(max_length=3)
    per_buyer_limit: int
    payment_minutes: int
    threshold_units: int
    caps: dict[str, int] = Field(sa_type=JSON)  # region -> units the sale may sell
    shards: int  # stock rows per region
    opened_at: datetime = Field(default_factory=utc_now, sa_type=UtcDateTime)  # type: ignore[call-overload]
    closed_at: datetime | None = Field(default=None, sa_type=UtcDateTime)  # type: ignore[call-overload]
    sold: dict[str, int] | None = Field(default=None, sa_type=JSON)  # region -> paid units at the close
    went_ahead: bool | None = None
    outcome: str | None = Field(default=None, max_length=1000)


class SaleStock(MatchingTable, table=True):
    """Units left per region, split over `Sale.shards` rows: an order takes from one row with one conditional
    UPDATE, so concurrent buyers rarely queue on the same row. `selling` goes false at the close, under the rows'
    locks: no order or cancellation can slip past it."""

    __tablename__ = "sale_stock"  # type: ignore[assignment]

    package_id: UUID = Field(foreign_key="sale.package_id", primary_key=True)
    region: str = Field(max_length=40, primary_key=True)
    shard: int = Field(primary_key=True)
    remaining: int
    selling: bool = True


class BuyerAllowance(MatchingTable, table=True):
    """Units a phone holds in a sale's live orders: the per-buyer limit, kept by one conditional upsert."""

    __tablename__ = "buyer_allowance"  # type: ignore[assignment]

    package_id: UUID = Field(foreign_key="sale.package_id", primary_key=True)
    phone: str = Field(max_length=16, primary_key=True)
    units: int


class SaleOrder(MatchingTable, table=True):
    """A buyer's order: whom to deliver to, what it costs, how it is paid and where it stands."""

    __tablename__ = "sale_order"  # type: ignore[assignment]
    # A retried request (the same Idempotency-Key) finds the first order instead of making a second.
    __table_args__ = (UniqueConstraint("package_id", "idempotency_key"),)

    id: UUID = Field(default_factory=uuid4, primary_key=True)
    package_id: UUID = Field(foreign_key="sale.package_id", index=True)
    idempotency_key: str = Field(max_length=200)
    request_hash: str = Field(max_length=64)
    token: str = Field(max_length=64, unique=True)  # the buyer's secret to follow the order
    payment_reference: str = Field(max_length=16, unique=True)
    region: str = Field(max_length=40)
    quantity: int
    unit_price_cents: int = Field(sa_type=BigInteger)
    amount_cents: int = Field(sa_type=BigInteger)
    currency: str = Field(max_length=3)
    name: str = Field(max_length=100)
    phone: str = Field(max_length=16)
    address: str = Field(max_length=500)
    # Few indexes: each one is written by every order of a burst.
    status: OrderStatus = Field(default=OrderStatus.PLACED, sa_type=varchar_enum(OrderStatus))
    placed_at: datetime = Field(sa_type=UtcDateTime)  # type: ignore[call-overload]
    pay_by: datetime = Field(sa_type=UtcDateTime, index=True)  # type: ignore[call-overload]
    paid_at: datetime | None = Field(default=None, sa_type=UtcDateTime)  # type: ignore[call-overload]
    paid_via: str | None = Field(default=None, max_length=100)  # a provider's name, or "statement"
    reason: str | None = Field(default=None, max_length=1000)  # why it was cancelled, released or refunded
    updated_at: datetime = Field(sa_type=UtcDateTime)  # type: ignore[call-overload]


class Market(MatchingTable, table=True):
    """A market evening: many packages' sales in one running order (the packages' own windows make the slots)."""

    id: UUID = Field(default_factory=uuid4, primary_key=True)
    community_id: UUID | None = Field(default=None, foreign_key="community.id", index=True)
    title: str = Field(max_length=200)
    starts_at: datetime = Field(sa_type=UtcDateTime)  # type: ignore[call-overload]
    ends_at: datetime = Field(sa_type=UtcDateTime)  # type: ignore[call-overload]
    package_ids: list[str] = Field(sa_type=JSON)
    created_by: str = Field(max_length=100)
    created_at: datetime = Field(default_factory=utc_now, sa_type=UtcDateTime)  # type: ignore[call-overload]


class WechatPayment(MatchingTable, table=True):
    """An order's WeChat Pay Native order (out_trade_no: the order's payment reference), from the buyer's asking
    until WeChat Pay confirms it; the sweeper queries those left unconfirmed (a lost notification)."""

    __tablename__ = "wechat_payment"  # type: ignore[assignment]

    order_id: UUID = Field(foreign_key="sale_order.id", primary_key=True)
    code_url: str | None = Field(default=None, max_length=500)  # what the buyer's QR code holds
    transaction_id: str | None = Field(default=None, max_length=64)  # WeChat Pay's, once paid
    error: str | None = Field(default=None, max_length=1000)
    requested_at: datetime = Field(default_factory=utc_now, sa_type=UtcDateTime, index=True)  # type: ignore[call-overload]
    prepared_at: datetime | None = Field(default=None, sa_type=UtcDateTime)  # type: ignore[call-overload]
    checked_at: datetime | None = Field(default=None, sa_type=UtcDateTime)  # type: ignore[call-overload]


class Refund(MatchingTable, table=True):
    """Money owed back to a buyer, until it is back (domain.refund): its out_refund_no at WeChat Pay is its id."""

    id: UUID = Field(default_factory=uuid4, primary_key=True)
    order_id: UUID = Field(foreign_key="sale_order.id", index=True)
    package_id: UUID = Field(index=True)
    # What it is owed for, once: "order:<id>" (the order ended after payment) or "case:<id>" (after-sales).
    source_key: str = Field(max_length=100, unique=True)
    cause: RefundCause = Field(sa_type=varchar_enum(RefundCause))
    method: RefundMethod = Field(sa_type=varchar_enum(RefundMethod))
    amount_cents: int = Field(sa_type=BigInteger)
    currency: str = Field(max_length=3)
    status: RefundStatus = Field(default=RefundStatus.OWED, sa_type=varchar_enum(RefundStatus), index=True)
    reason: str | None = Field(default=None, max_length=1000)
    attempts: int = 0
    next_attempt_at: datetime | None = Field(default=None, sa_type=UtcDateTime)  # type: ignore[call-overload]
    requested_at: datetime | None = Field(default=None, sa_type=UtcDateTime)  # type: ignore[call-overload]
    provider_refund_id: str | None = Field(default=None, max_length=64)
    transfer_reference: str | None = Field(default=None, max_length=100)
    recorded_by: str | None = Field(default=None, max_length=100)
    error: str | None = Field(default=None, max_length=1000)
    settled_at: datetime | None = Field(default=None, sa_type=UtcDateTime)  # type: ignore[call-overload]
    created_at: datetime = Field(default_factory=utc_now, sa_type=UtcDateTime)  # type: ignore[call-overload]
    updated_at: datetime = Field(default_factory=utc_now, sa_type=UtcDateTime)  # type: ignore[call-overload]
