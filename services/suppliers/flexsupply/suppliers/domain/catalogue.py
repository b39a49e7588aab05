"""Catalogue rules: which regions an offer may name, and when an offer is eligible for a need."""

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import datetime

from flexsupply.contracts.errors import InvalidField
from flexsupply.contracts.rules import whole_days_until


def check_regions_known(field: str, regions: Iterable[str], known: Collection[str]) -> None:
    unknown = sorted(set(regions) - set(known))
    if unknown:
        raise InvalidField(field, f"unknown region(s) {', '.join(unknown)}; an operator adds regions first")


def check_offer_regions_served(shipping_regions: Iterable[str], served: Collection[str]) -> None:
    outside = sorted(set(shipping_regions) - set(served))
    if outside:
        raise InvalidField("shipping_cents", f"region(s) {', '.join(outside)} are not among the supplier's regions")


def check_regions_still_served(regions: Collection[str], live_offer_shipping: Iterable[Iterable[str]]) -> None:
    """A supplier may stop serving a region only once no live offer of its ships there."""
    still_shipped = sorted({region for shipping in live_offer_shipping for region in shipping} - set(regions))
    if still_shipped:
        raise InvalidField(
            "regions", f"live offers still ship to {', '.join(still_shipped)}; change or withdraw them first"
        )


@dataclass(frozen=True)
class Need:
    """What a demand package asks of an offer (the matching contract's eligibility, plus validity and regions)."""

    sku: str
    needed_by: datetime
    min_quality: int
    regions: frozenset[str]

    def __post_init__(self) -> None:
        if self.needed_by.tzinfo is None:
            raise InvalidField("needed_by", "give a timezone, for example 2026-12-01T00:00:00Z")

    def days_available(self, now: datetime) -> int:
        return whole_days_until(self.needed_by, now)


@dataclass(frozen=True)
class OfferFacts:
    sku: str
    lead_time_days: int
    quality: int
    shipping_regions: frozenset[str]
    valid_from: datetime | None
    valid_until: datetime | None
    withdrawn: bool


def is_eligible(offer: OfferFacts, need: Need, now: datetime) -> bool:
    """Same SKU, good enough, in time, valid now and ships to at least one wanted region (all, if none named)."""
    return (
        not offer.withdrawn
        and offer.sku == need.sku
        and offer.quality >= need.min_quality
        and offer.lead_time_days <= need.days_available(now)
        and (offer.valid_from is None or offer.valid_from <= now)
        and (offer.valid_until is None or offer.valid_until >= now)
        and (not need.regions or bool(offer.shipping_regions & need.regions))
    )
