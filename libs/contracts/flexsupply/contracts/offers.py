"""An offer's terms, field for field those of an offer in the matching problem (matching-problem.md)."""

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from itertools import pairwise
from typing import Annotated
from uuid import UUID

import pydantic
from pydantic import AwareDatetime, StringConstraints, ValidationInfo, field_validator
from sqlalchemy import BigInteger
from sqlmodel import Field, SQLModel

# The optimizer's bounds (it imports them from here): the catalogue accepts nothing it cannot cost exactly.
MAX_UNITS = 10**9  # whole units: fits every INTEGER column
MAX_CENTS = 10**12  # minor units per unit or per order: a BIGINT column
MAX_COST_CENTS = 2**53  # an offer's dearest use must stay exact in 64-bit solvers and in JSON doubles

REGION_CODE_PATTERN = r"^[a-z0-9][a-z0-9-]{0,39}$"
RegionCode = Annotated[str, StringConstraints(pattern=REGION_CODE_PATTERN)]
Currency = Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")]
Sku = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")]
Units = Annotated[int, pydantic.Field(ge=0, le=MAX_UNITS)]
Cents = Annotated[int, pydantic.Field(ge=0, le=MAX_CENTS)]


def check_price_tiers(minimums: Sequence[int], moq: int | None) -> None:
    """The contract's tiers: listed by strictly increasing min_quantity, the first applying at or below the moq, so
    every quantity the offer may sell has a price. The catalogue and the optimizer both hold offers to this."""
    if any(later <= earlier for earlier, later in pairwise(minimums)):
        raise ValueError(f"min_quantity must strictly increase, got {list(minimums)}")
    if moq is not None and minimums and minimums[0] > moq:
        raise ValueError(f"the first tier starts at {minimums[0]}, above the moq {moq}")


def check_cost_is_exact(
    *, unit_cents: Iterable[int], shipping_cents: Iterable[int], reserve_cents: int, fixed_cents: int, capacity: int
) -> None:
    """The offer's dearest use (its whole capacity at the dearest tier and shipping, held in reserve too, plus the
    fixed cost) stays within MAX_COST_CENTS: then every cost of it is exact for the solver and in JSON."""
    per_unit = max(unit_cents, default=0) + max(shipping_cents, default=0) + reserve_cents
    most = per_unit * capacity + fixed_cents
    if most > MAX_COST_CENTS:
        raise ValueError(f"prices times capacity reach {most} cents, above {MAX_COST_CENTS}: beyond exact arithmetic")


def as_utc(value: datetime | None) -> datetime | None:
    """Store and compare in UTC; an offset that pushes a date off the calendar is bad input, not a crash."""
    if value is None:
        return None
    try:
        return value.astimezone(UTC)
    except OverflowError:
        raise ValueError("the date is out of range once converted to UTC") from None


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
