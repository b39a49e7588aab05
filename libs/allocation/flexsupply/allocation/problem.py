"""The matching problem of contract version 1 (matching-problem.md), validated on construction."""

import json
from collections import Counter
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    NonNegativeInt,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from flexsupply.contracts.rules import MAX_CENTS, MAX_UNITS, Backups, check_cost_is_exact, check_price_tiers

# Bounds that keep every cost exact: CP-SAT works in 64-bit integers, and totals are reported as JSON numbers,
# which many readers hold as doubles (exact to 2**53).
Units = Annotated[int, Field(ge=0, le=MAX_UNITS)]
Cents = Annotated[int, Field(ge=0, le=MAX_CENTS)]


class _Strict(BaseModel):
    # A misspelt field in a hand-written problem file must be an error, not a silently ignored key.
    model_config = ConfigDict(extra="forbid", frozen=True)


class PriceTier(_Strict):
    min_quantity: Units
    unit_cents: Cents


class Supplier(_Strict):
    id: str = Field(min_length=1)
    capacity: Units | None = Field(default=None, description="Units across all offers; None: no limit.")


class Offer(_Strict):
    id: str = Field(min_length=1)
    supplier: str
    sku: str
    moq: Units
    capacity: Units
    lead_time_days: NonNegativeInt
    quality: NonNegativeInt
    fixed_cents: Cents = 0
    reserve_cents: Cents = 0
    price_tiers: list[PriceTier] = Field(min_length=1)
    shipping_cents: dict[str, Cents]

    # The catalogue's rules (contracts.offers), so a problem holds no offer the catalogue would have refused.
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

    def unit_cents(self, quantity: int) -> int:
        """All-units price: the tier with the largest min_quantity <= quantity (the first tier below it)."""
        eligible = [tier for tier in self.price_tiers if tier.min_quantity <= quantity]
        return (eligible[-1] if eligible else self.price_tiers[0]).unit_cents


class PackageLine(_Strict):
    region: str = Field(min_length=1)
    quantity: Units


class Package(_Strict):
    id: str = Field(min_length=1)
    sku: str
    needed_by_days: NonNegativeInt
    min_quality: NonNegativeInt = 0
    backups: Backups = 0
    lines: list[PackageLine] = Field(min_length=1)

    @model_validator(mode="after")
    def _one_line_per_region(self) -> "Package":
        repeated = _repeated(line.region for line in self.lines)
        if repeated:
            raise ValueError(f"lines: more than one line for region {', '.join(repeated)}")
        return self

    @property
    def regions(self) -> list[str]:
        return [line.region for line in self.lines]

    @property
    def quantity(self) -> int:
        return sum(line.quantity for line in self.lines)


class Problem(_Strict):
    version: Literal[1] = 1
    currency: str = Field(min_length=1)
    suppliers: list[Supplier]
    offers: list[Offer]
    packages: list[Package]

    @model_validator(mode="after")
    def _references_resolve(self) -> "Problem":
        for name, items in (
            ("suppliers", self.suppliers),
            ("offers", self.offers),
            ("packages", self.packages),
        ):
            repeated = _repeated(item.id for item in items)
            if repeated:
                raise ValueError(f"{name}[{repeated[0]}]: the id is used more than once")
        known = {supplier.id for supplier in self.suppliers}
        for offer in self.offers:
            if offer.supplier not in known:
                raise ValueError(f"offers[{offer.id}].supplier: unknown supplier {offer.supplier}")
        return self

    def supplier(self, supplier_id: str) -> Supplier:
        return next(supplier for supplier in self.suppliers if supplier.id == supplier_id)

    def offer(self, offer_id: str) -> Offer:
        return next(offer for offer in self.offers if offer.id == offer_id)

    def package(self, package_id: str) -> Package:
        return next(package for package in self.packages if package.id == package_id)


def is_eligible(offer: Offer, package: Package) -> bool:
    """Same SKU, ready by the deadline and good enough: the offer may serve the package's lines it ships to."""
    return (
        offer.sku == package.sku
        and offer.lead_time_days <= package.needed_by_days
        and offer.quality >= package.min_quality
    )


def can_back_up(offer: Offer, package: Package) -> bool:
    """A reserve must be able to replace a primary anywhere, so the offer ships to every region of the package."""
    return is_eligible(offer, package) and all(region in offer.shipping_cents for region in package.regions)


class InvalidProblem(ValueError):
    """The problem breaks the contract; the message names the item."""


def load_problem(text: str) -> Problem:
    """Parse and validate a problem's JSON, naming items by id rather than list position in errors."""
    try:
        data = json.loads(text)
    except (json.JSONDecodeError, RecursionError) as error:
        raise InvalidProblem(f"not JSON: {error}") from error
    if isinstance(data, dict) and "version" not in data:
        raise InvalidProblem("version: required; this engine reads version 1")
    try:
        # Strict: a file saying `true` or "7" or 7.5 for a quantity is wrong, not something to guess at.
        return Problem.model_validate(data, strict=True)
    except ValidationError as error:
        raise InvalidProblem(describe_errors(error, data)) from error


def describe_errors(error: ValidationError, data: Any) -> str:
    return "\n".join(
        f"{_location(detail['loc'], data)}: {detail['msg'].removeprefix('Value error, ')}"
        if detail["loc"]
        else detail["msg"].removeprefix("Value error, ")
        for detail in error.errors()
    )


def _location(loc: tuple[int | str, ...], data: Any) -> str:
    """('offers', 2, 'moq') becomes 'offers[o-3].moq' when the third offer has id o-3."""
    text: str = ""
    node: Any = data
    for part in loc:
        item = node[part] if _indexable(node, part) else None
        if isinstance(part, int):
            label = item.get("id") if isinstance(item, dict) and isinstance(item.get("id"), str) else part
            text += f"[{label}]"
        else:
            text += f".{part}" if text else str(part)
        node = item
    return text


def _indexable(node: Any, part: int | str) -> bool:
    if isinstance(part, int):
        return isinstance(node, list) and 0 <= part < len(node)
    return isinstance(node, dict) and part in node


def _repeated(values: Any) -> list[str]:
    return [value for value, count in Counter(values).items() if count > 1]
