"""Bodies only the suppliers API uses."""

from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

from pydantic import AnyHttpUrl, AwareDatetime, EmailStr, StringConstraints, UrlConstraints, field_validator
from sqlmodel import Field, SQLModel

from flexsupply.contracts.events import RfqItem
from flexsupply.contracts.offers import OfferTerms
from flexsupply.contracts.rules import MAX_UNITS, Boolean, RegionCode
from flexsupply.contracts.sourcing import RfqStatus
from flexsupply.contracts.text import TOKEN_PATTERN, Name, Note, text
from flexsupply.suppliers.models import QuoteStatus

WebhookUrl = Annotated[AnyHttpUrl, UrlConstraints(max_length=2000)]


class RegionUpsert(SQLModel):
    name: Annotated[str, text(120)]


class RegionPublic(SQLModel):
    code: str
    name: str


class SupplierFields(SQLModel):
    name: Name
    contact_name: Name
    contact_email: EmailStr
    regions: list[RegionCode] = Field(min_length=1, description="Known region codes the supplier serves.")
    capacity: int | None = Field(
        default=None, ge=1, le=MAX_UNITS, description="Units across all offers; none means no limit."
    )
    webhook_url: WebhookUrl | None = Field(default=None, description="Where awards and production orders go.")


class SupplierCreate(SupplierFields):
    pass


class SupplierUpdate(SQLModel):
    """Only the fields sent change; `capacity` and `webhook_url` may be set to null to remove them."""

    # These may be changed but not removed: absent means unchanged (services read only what was sent) and null is
    # refused, so the type (and the OpenAPI document) offers no null.
    name: Name = Field(default=None)
    contact_name: Name = Field(default=None)
    contact_email: EmailStr = Field(default=None)
    regions: list[RegionCode] = Field(default=None, min_length=1)
    capacity: int | None = Field(default=None, ge=1, le=MAX_UNITS)
    webhook_url: WebhookUrl | None = None

    @field_validator("name", "contact_name", "contact_email", "regions", mode="before")
    @classmethod
    def _required_fields_stay(cls, value: object) -> object:
        if value is None:
            raise ValueError("may be changed but not removed")
        return value


class SupplierPublic(SQLModel):
    id: UUID
    name: str
    contact_name: str
    contact_email: str
    regions: list[str]
    capacity: int | None
    webhook_url: str | None
    created_at: datetime
    updated_at: datetime


class ApiKeyPublic(SQLModel):
    id: UUID
    supplier_id: UUID
    created_at: datetime
    revoked_at: datetime | None


class ApiKeyIssued(ApiKeyPublic):
    api_key: str = Field(description="Shown once: only its hash is stored.")


class ApiKeyRotate(SQLModel):
    revoke_existing: Boolean = Field(default=True, description="Revoke every other key of the supplier now.")


class SupplierCreated(SQLModel):
    supplier: SupplierPublic
    api_key: ApiKeyIssued
    webhook_secret: str = Field(description="Standard Webhooks signing secret (whsec_...); shown once.")


class WebhookSecretRotate(SQLModel):
    """No options: the request an Idempotency-Key is checked against."""


class WebhookSecretIssued(SQLModel):
    supplier_id: UUID
    webhook_secret: str = Field(description="The new signing secret, shown once; the old one stops at once.")


class OfferPublic(OfferTerms):
    id: UUID
    supplier_id: UUID
    created_at: datetime
    updated_at: datetime
    withdrawn_at: datetime | None


class WebhookDeliveryPublic(SQLModel):
    id: UUID = Field(description="The `webhook-id` every attempt carries: receivers dedupe on it.")
    event_type: str
    payload: dict[str, Any] = Field(description="The event as sent (the signed body).")
    status: str = Field(description="pending (an attempt is due or in flight), delivered, or failed.")
    attempts: int = Field(description="Attempts since it was queued or last resent.")
    next_attempt_at: datetime = Field(description="While pending, when the next attempt is due.")
    last_error: str | None
    created_at: datetime
    delivered_at: datetime | None


class ApiKeyIntrospect(SQLModel):
    api_key: Annotated[str, StringConstraints(min_length=1, max_length=200, pattern=TOKEN_PATTERN)] = Field(
        description="A supplier's API key, as it presents it."
    )


class ApiKeyIntrospection(SQLModel):
    active: bool
    supplier_id: UUID | None = Field(default=None, description="Whose key it is; null when unknown or revoked.")


# --- requests for quotation ----------------------------------------------------------------------------------


class RfqContent(SQLModel):
    """What a supplier is asked: the body of the `rfq.created` webhook, and the head of each RFQ in its inbox."""

    id: UUID
    round_id: UUID
    reply_by: datetime = Field(description="UTC; answers (quotes and declines) are taken until then, not after.")
    items: list[RfqItem] = Field(description="What the round needs that the supplier is asked to quote for.")
    created_at: datetime


class RfqSummary(RfqContent):
    status: RfqStatus
    answered_at: datetime | None = Field(description="When the supplier last answered: a quote or a decline.")


class QuoteCreate(OfferTerms):
    """A quote for one of the RFQ's skus: an offer's terms, and how long they hold."""

    # Required here, where an offer may leave it open: a quote is for one round.
    valid_until: AwareDatetime = Field(  # pyright: ignore[reportIncompatibleVariableOverride]
        description="UTC; required, in the future: until when the terms hold."
    )


class QuotePublic(OfferTerms):
    id: UUID
    rfq_id: UUID
    supplier_id: UUID
    status: QuoteStatus = Field(description="current, superseded (by a newer quote for its sku) or withdrawn.")
    created_at: datetime
    replaced_at: datetime | None = Field(description="When it was superseded or withdrawn.")


class RfqDecline(SQLModel):
    reason: Note = Field(description="Why the supplier will not quote (matching shows it to the group leader).")


class RfqDeclinePublic(SQLModel):
    reason: str
    declined_at: datetime


class RfqPublic(RfqSummary):
    quotes: list[QuotePublic] = Field(description="Every quote sent, newest first, including replaced ones.")
    decline: RfqDeclinePublic | None = Field(description="The supplier's decline, unless a later quote withdrew it.")


# --- scorecards ----------------------------------------------------------------------------------------------


class ScorecardPublic(SQLModel):
    """What the supplier's deliveries came to, and the quality score they make (README: Scorecards)."""

    supplier_id: UUID
    delivered_on_time_units: int = Field(ge=0)
    delivered_late_units: int = Field(ge=0)
    quality_failed_units: int = Field(ge=0, description="Units of batches that failed their quality check.")
    failed_to_deliver_units: int = Field(ge=0, description="Units of production orders marked failed.")
    case_upheld_units: int = Field(ge=0, description="Units of orders whose after-sales case went against it.")
    total_units: int = Field(ge=0, description="Every unit counted above.")
    quality_score: int = Field(
        ge=0,
        le=100,
        description="round(100 * (on time + late / 2) / total units), halves up; 100 with nothing on record.",
    )
    min_units_on_record: int = Field(description="Units on record from which the score caps the offers' quality.")
    applies: bool = Field(
        description="total_units has reached min_units_on_record: matching and RFQs count each of the supplier's "
        "offers and quotes at the lower of its declared quality and quality_score."
    )
    updated_at: datetime | None = Field(description="When an outcome was last counted; null before the first.")
