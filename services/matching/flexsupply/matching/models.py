"""The matching service's tables: nothing else reads them."""

from sqlalchemy.orm import registry
from sqlmodel import SQLModel

from flexsupply.kit.idempotency import IdempotencyRecordBase
from flexsupply.kit.outbox import OutboxMessageBase


class MatchingTable(SQLModel, registry=registry()):
    """Base of this service's tables: its own metadata, migrated by its own alembic history."""


class OutboxMessage(OutboxMessageBase, MatchingTable, table=True):
    __tablename__ = "outbox_message"  # type: ignore[assignment]


class IdempotencyRecord(IdempotencyRecordBase, MatchingTable, table=True):
    __tablename__ = "idempotency_record"  # type: ignore[assignment]
