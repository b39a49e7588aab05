"""The fulfilment service's tables: nothing else reads them."""

from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import JSON
from sqlalchemy.orm import registry
from sqlmodel import Field, SQLModel

from flexsupply.kit.clock import utc_now
from flexsupply.kit.db import UtcDateTime
from flexsupply.kit.idempotency import IdempotencyRecordBase
from flexsupply.kit.outbox import OutboxMessageBase


class FulfilmentTable(SQLModel, registry=registry()):
    """Base of this service's tables: its own metadata, migrated by its own alembic history."""


class OutboxMessage(OutboxMessageBase, FulfilmentTable, table=True):
    __tablename__ = "outbox_message"  # type: ignore[assignment]


class IdempotencyRecord(IdempotencyRecordBase, FulfilmentTable, table=True):
    __tablename__ = "idempotency_record"  # type: ignore[assignment]


class AwardedPackage(FulfilmentTable, table=True):
    """A package whose awards were all accepted, as matching announced it: what production is to make.

    The package id is the key, so an event delivered twice records the package once."""

    __tablename__ = "awarded_package"  # type: ignore[assignment]

    package_id: UUID = Field(primary_key=True)
    sku: str = Field(max_length=64)
    needed_by: datetime = Field(sa_type=UtcDateTime)  # type: ignore[call-overload]
    currency: str = Field(max_length=3)
    firm_quantities: dict[str, int] = Field(sa_type=JSON)
    allocations: list[dict[str, Any]] = Field(sa_type=JSON)
    reserves: list[dict[str, Any]] = Field(sa_type=JSON)
    event_id: UUID
    received_at: datetime = Field(default_factory=utc_now, sa_type=UtcDateTime, index=True)  # type: ignore[call-overload]
