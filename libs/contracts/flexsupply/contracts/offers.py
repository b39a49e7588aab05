"""An offer's terms, field for field those of an offer in the matching problem (matching-problem.md)."""

from datetime import datetime
from uuid import UUID

from pydantic import AwareDatetime, ValidationInfo, field_validator
from sqlalchemy import BigInteger
from sqlmodel import Field, SQLModel

from flexsupply.contracts.rules import (
    MAX_CENTS,
    MAX_UNITS,
    Cents,
    Currency,
    RegionCode,
    Sku,
    Units,
    as_utc,
    check_cost_is_exact,
    check_price_tiers,
)


class PriceTier(SQLModel):
    min_quantity: Units = Field(description="The tier applies when the offer's total quantity reaches this.")
    unit_cents: Cents = Field(description="Price per unit for every unit (all-units discount).")


class OfferScalars(SQLModel):
    sku: Sku = Field(max_length=64, index=True)
    moq: int = Field(ge=1, le=MAX_UNITS, description="Least total primary quantity the supplier makes.")
    capacity: int = Field(ge=1, le=MAX_UNITS, description="Most units of this offer: allocations plus reserves.")
    lead_time_days: int = Field(ge=0, le=365, description="Days from award to delivery.")
    quality: int = Field(ge=0, le=100, description="Quality score, 0-100.")
    fixed_cents: int = Field(
        ge=0, le=MAX_CENTS, sa_type=BigInteger, description="Paid once when the offer is used (set-up, tooling)."
    )
    reserve_cents: int = Field(
        ge=0, le=MAX_CENTS, sa_type=BigInteger, description="Paid per unit of backup capacity held."
    )
    currency: Currency = Field(default="CNY", max_length=3, description="ISO 4217 code of every *_cents amount.")
    valid_from: AwareDatetime | None = Field(default=None, description="UTC; none means at once.")
    valid_until: AwareDatetime | None = Field(default=None, description="UTC; none means until withdrawn.")

    @field_validator("valid_from")
    @classmethod
    def _valid_from_in_utc(cls, valid_from: datetime | None) -> datetime | None:
        return as_utc(valid_from)


class OfferTerms(OfferScalars):
    """What a supplier publishes; validated as the matching contract requires."""

    price_tiers: list[PriceTier] = Field(min_length=1, max_length=20)
    shipping_cents: dict[RegionCode, Cents] = Field(
        min_length=1, description="Shipping cost per unit to each region the offer ships to."
    )

    @field_validator("capacity")
    @classmethod
    def _capacity_covers_moq(cls, capacity: int, info: ValidationInfo) -> int:
        moq = info.data.get("moq")
        if moq is not None and capacity < moq:
            raise ValueError(f"capacity {capacity} is below the moq {moq}")
        return capacity

    @field_validator("price_tiers")
    @classmethod
    def _tiers_ascend_from_moq(cls, tiers: list[PriceTier], info: ValidationInfo) -> list[PriceTier]:
        check_price_tiers([tier.min_quantity for tier in tiers], info.data.get("moq"))
        return tiers

    @field_validator("shipping_cents")
    @classmethod
    def _costs_stay_exact(cls, shipping: dict[str, int], info: ValidationInfo) -> dict[str, int]:
        tiers, capacity = info.data.get("price_tiers"), info.data.get("capacity")
        if tiers and capacity is not None:
            check_cost_is_exact(
                unit_cents=(tier.unit_cents for tier in tiers),
                shipping_cents=shipping.values(),
                reserve_cents=info.data.get("reserve_cents", 0),
                fixed_cents=info.data.get("fixed_cents", 0),
                capacity=capacity,
            )
        return shipping

    @field_validator("valid_until")
    @classmethod
    def _window_is_ordered(cls, valid_until: datetime | None, info: ValidationInfo) -> datetime | None:
        valid_until, valid_from = as_utc(valid_until), info.data.get("valid_from")
        if valid_until is not None and valid_from is not None and valid_until <= valid_from:
            raise ValueError("valid_until must be after valid_from")
        return valid_until


class SupplierCapacity(SQLModel):
    id: UUID
    capacity: int | None = Field(
        default=None, le=MAX_UNITS, description="Units across all offers; none means no limit."
    )


class EligibleOffer(OfferTerms):
    id: UUID
    supplier_id: UUID


class EligibleOffers(SQLModel):
    """The answer to 'who can make this': the suppliers and offers of a matching problem."""

    suppliers: list[SupplierCapacity]
    offers: list[EligibleOffer]
