"""The suppliers service's tables: nothing else reads them."""

from datetime import datetime
from enum import StrEnum
from typing import Any
from uuid import UUID, uuid4

from sqlalchemy import JSON, BigInteger, Enum, Index, UniqueConstraint
from sqlalchemy.orm import registry
from sqlmodel import Field, SQLModel

from flexsupply.contracts.offers import OfferScalars
from flexsupply.kit.clock import utc_now
from flexsupply.kit.db import UtcDateTime
from flexsupply.kit.idempotency import IdempotencyRecordBase
from flexsupply.kit.outbox import OutboxMessageBase


class SuppliersTable(SQLModel, registry=registry()):
    """Base of this service's tables: its own metadata, migrated by its own alembic history."""


class Region(SuppliersTable, table=True):
    code: str = Field(primary_key=True, max_length=40)
    name: str = Field(max_length=120)


class Supplier(SuppliersTable, table=True):
    id: UUID = Field(default_factory=uuid4, primary_key=True)
    name: str = Field(max_length=200, index=True)
    contact_name: str = Field(max_length=200)
    contact_email: str = Field(max_length=320)
    regions: list[str] = Field(default_factory=list, sa_type=JSON)
    capacity: int | None = Field(default=None)
    webhook_url: str | None = Field(default=None, max_length=2000)
    webhook_secret: str = Field(max_length=100)
    created_at: datetime = Field(default_factory=utc_now, sa_type=UtcDateTime)  # type: ignore[call-overload]
    updated_at: datetime = Field(default_factory=utc_now, sa_type=UtcDateTime)  # type: ignore[call-overload]
    # A desk logout ends every desk session of the supplier begun before it (a copied cookie too).
    desk_sessions_valid_after: datetime | None = Field(default=None, sa_type=UtcDateTime)  # type: ignore[call-overload]


class ApiKey(SuppliersTable, table=True):
    __tablename__ = "api_key"  # type: ignore[assignment]

    id: UUID = Field(primary_key=True)
    supplier_id: UUID = Field(foreign_key="supplier.id", index=True)
    secret_hash: str = Field(max_length=64)
    created_at: datetime = Field(default_factory=utc_now, sa_type=UtcDateTime)  # type: ignore[call-overload]
    revoked_at: datetime | None = Field(default=None, sa_type=UtcDateTime)  # type: ignore[call-overload]


class Offer(OfferScalars, SuppliersTable, table=True):
    id: UUID = Field(default_factory=uuid4, primary_key=True)
    supplier_id: UUID = Field(foreign_key="supplier.id", index=True)
    price_tiers: list[dict[str, Any]] = Field(sa_type=JSON)
    shipping_cents: dict[str, int] = Field(sa_type=JSON)
    valid_from: datetime | None = Field(default=None, sa_type=UtcDateTime)  # type: ignore[call-overload]
    valid_until: datetime | None = Field(default=None, sa_type=UtcDateTime)  # type: ignore[call-overload]
    withdrawn_at: datetime | None = Field(default=None, sa_type=UtcDateTime)  # type: ignore[call-overload]
    created_at: datetime = Field(default_factory=utc_now, sa_type=UtcDateTime)  # type: ignore[call-overload]
    updated_at: datetime = Field(default_factory=utc_now, sa_type=UtcDateTime)  # type: ignore[call-overload]


class DeliveryStatus(StrEnum):
    PENDING = "pending"
    DELIVERED = "delivered"
    FAILED = "failed"


class WebhookDelivery(SuppliersTable, table=True):
    """One event for one supplier's webhook; its id is the Standard Webhooks `webhook-id` (receivers dedupe on it)."""

    __tablename__ = "webhook_delivery"  # type: ignore[assignment]

    id: UUID = Field(default_factory=uuid4, primary_key=True)
    supplier_id: UUID = Field(foreign_key="supplier.id", index=True)
    event_type: str = Field(max_length=100)
    payload: dict[str, Any] = Field(sa_type=JSON)
    # A VARCHAR, not a PostgreSQL enum type: no type to create or drop in migrations.
    status: DeliveryStatus = Field(
        default=DeliveryStatus.PENDING,
        sa_type=Enum(DeliveryStatus, native_enum=False, length=20, values_callable=lambda e: [m.value for m in e]),
        index=True,
    )
    attempts: int = 0
    # When the next attempt is owed (or, while one is in flight, until when it may take): the sweeper re-sends
    # what is overdue, so a message lost with a killed worker delays a delivery but never drops it.
    next_attempt_at: datetime = Field(default_factory=utc_now, sa_type=UtcDateTime, index=True)  # type: ignore[call-overload]
    last_error: str | None = Field(default=None, max_length=500)
    created_at: datetime = Field(default_factory=utc_now, sa_type=UtcDateTime)  # type: ignore[call-overload]
    delivered_at: datetime | None = Field(default=None, sa_type=UtcDateTime)  # type: ignore[call-overload]


class OutboxMessage(OutboxMessageBase, SuppliersTable, table=True):
    __tablename__ = "outbox_message"  # type: ignore[assignment]


class IdempotencyRecord(IdempotencyRecordBase, SuppliersTable, table=True):
    __tablename__ = "idempotency_record"  # type: ignore[assignment]


class RfqRound(SuppliersTable, table=True):
    """A sourcing round matching opened (its id is matching's): recorded once, so a redelivered event is a no-op and
    a round that asked nobody is still known."""

    __tablename__ = "rfq_round"  # type: ignore[assignment]

    id: UUID = Field(primary_key=True)
    reply_by: datetime = Field(sa_type=UtcDateTime)  # type: ignore[call-overload]
    created_at: datetime = Field(default_factory=utc_now, sa_type=UtcDateTime)  # type: ignore[call-overload]


class Rfq(SuppliersTable, table=True):
    """One supplier's request for quotation in a round; its status (open, answered, expired) follows from
    `answered_at` and the deadline (domain.rfq)."""

    __table_args__ = (
        UniqueConstraint("round_id", "supplier_id", name="uq_rfq_round_id_supplier_id"),  # also a round's index
        Index("ix_rfq_supplier_id_created_at", "supplier_id", "created_at"),  # a supplier's inbox, newest first
    )

    id: UUID = Field(primary_key=True)
    round_id: UUID = Field(foreign_key="rfq_round.id")
    supplier_id: UUID = Field(foreign_key="supplier.id")
    reply_by: datetime = Field(sa_type=UtcDateTime)  # type: ignore[call-overload]
    items: list[dict[str, Any]] = Field(sa_type=JSON)  # the round's items (contracts.events.RfqItem) it asks about
    answered_at: datetime | None = Field(default=None, sa_type=UtcDateTime)  # type: ignore[call-overload]
    declined_at: datetime | None = Field(default=None, sa_type=UtcDateTime)  # type: ignore[call-overload]
    decline_reason: str | None = Field(default=None, max_length=500)
    created_at: datetime = Field(default_factory=utc_now, sa_type=UtcDateTime)  # type: ignore[call-overload]


class QuoteStatus(StrEnum):
    CURRENT = "current"
    SUPERSEDED = "superseded"  # a newer quote for the same sku replaced it
    WITHDRAWN = "withdrawn"  # the supplier declined the RFQ after quoting


class Quote(OfferScalars, SuppliersTable, table=True):
    """A supplier's terms for one sku of an RFQ: an offer's fields, for this round only."""

    id: UUID = Field(default_factory=uuid4, primary_key=True)
    rfq_id: UUID = Field(foreign_key="rfq.id", index=True)
    supplier_id: UUID = Field(foreign_key="supplier.id", index=True)
    price_tiers: list[dict[str, Any]] = Field(sa_type=JSON)
    shipping_cents: dict[str, int] = Field(sa_type=JSON)
    valid_from: datetime | None = Field(default=None, sa_type=UtcDateTime)  # type: ignore[call-overload]
    valid_until: datetime = Field(sa_type=UtcDateTime)  # type: ignore[call-overload]
    status: QuoteStatus = Field(
        default=QuoteStatus.CURRENT,
        sa_type=Enum(QuoteStatus, native_enum=False, length=20, values_callable=lambda e: [m.value for m in e]),
    )
    created_at: datetime = Field(default_factory=utc_now, sa_type=UtcDateTime)  # type: ignore[call-overload]
    replaced_at: datetime | None = Field(default=None, sa_type=UtcDateTime)  # type: ignore[call-overload]


class SupplierScorecard(SuppliersTable, table=True):
    """What a supplier's deliveries came to, in units per outcome kind (domain.scorecard); the score is computed
    from these when read. A supplier with nothing on record has no row."""

    __tablename__ = "supplier_scorecard"  # type: ignore[assignment]

    supplier_id: UUID = Field(foreign_key="supplier.id", primary_key=True)
    delivered_on_time_units: int = Field(default=0, sa_type=BigInteger)
    delivered_late_units: int = Field(default=0, sa_type=BigInteger)
    quality_failed_units: int = Field(default=0, sa_type=BigInteger)
    failed_to_deliver_units: int = Field(default=0, sa_type=BigInteger)
    case_upheld_units: int = Field(default=0, sa_type=BigInteger)
    updated_at: datetime = Field(default_factory=utc_now, sa_type=UtcDateTime)  # type: ignore[call-overload]


class RecordedOutcome(SuppliersTable, table=True):
    """An outcome fulfilment reported (its id is fulfilment's), counted into the scorecard once: a redelivered
    event finds its row and changes nothing."""

    __tablename__ = "recorded_outcome"  # type: ignore[assignment]

    outcome_id: UUID = Field(primary_key=True)
    supplier_id: UUID = Field(foreign_key="supplier.id", index=True)
    kind: str = Field(max_length=30)
    units: int = Field(sa_type=BigInteger)
    occurred_at: datetime = Field(sa_type=UtcDateTime)  # type: ignore[call-overload]
    recorded_at: datetime = Field(default_factory=utc_now, sa_type=UtcDateTime)  # type: ignore[call-overload]
