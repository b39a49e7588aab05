"""A sourcing round as the suppliers service answers it: who was asked, who answered, and the quotes matching uses."""

from datetime import datetime
from enum import StrEnum
from uuid import UUID

from sqlmodel import Field, SQLModel

from flexsupply.contracts.offers import EligibleOffer, SupplierCapacity


class RfqStatus(StrEnum):
    """Where a request for quotation stands. `answered` covers a quote and a decline alike; `expired` is an RFQ its
    supplier let pass its reply deadline without an answer."""

    OPEN = "open"
    ANSWERED = "answered"
    EXPIRED = "expired"


class RoundRfq(SQLModel):
    rfq_id: UUID
    supplier_id: UUID
    status: RfqStatus
    answered_at: datetime | None = Field(description="When the supplier last answered: a quote or a decline.")
    declined: bool = Field(description="The supplier's answer is a decline (a later quote withdraws it).")


class RoundRfqs(SQLModel):
    """Every RFQ a round sent, one per supplier asked."""

    round_id: UUID
    reply_by: datetime
    rfqs: list[RoundRfq]


class RoundResponses(SQLModel):
    """What a round's suppliers answered, as matching builds the round's problem from it."""

    round_id: UUID
    quotes: list[EligibleOffer] = Field(
        description="Each supplier's current quote per sku (superseded and withdrawn ones left out) that is still "
        "valid; `id` is the quote's id."
    )
    declined_supplier_ids: list[UUID] = Field(description="Suppliers that declined the round and still do.")
    suppliers: list[SupplierCapacity] = Field(description="The capacity of every supplier asked, answered or not.")
