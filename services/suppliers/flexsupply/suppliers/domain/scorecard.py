"""A supplier's scorecard: what its deliveries came to, and how that caps the quality its offers declare.

Every outcome fulfilment reports is so many units observed once: delivered on time, delivered late, failed its
quality check, never delivered, or the subject of an after-sales case upheld against the supplier. An on-time unit
earns full credit, a late one half, every failure none:

    quality_score = round(100 * (on_time + late / 2) / all units), halves rounded up; 100 with nothing on record

Once at least MIN_UNITS_ON_RECORD units are on record, an offer's effective quality (what matching plans with and
RFQs are sent by) is the lower of its declared quality and the score; before that it is the declared quality, so a
new supplier's first bad parcel does not sink it. A good record never raises an offer above what its supplier
declared. Integers only: the counters are stored, the score is computed from them when read.
"""

from dataclasses import dataclass, replace
from typing import Final, Literal, get_args

from flexsupply.contracts.rules import MAX_UNITS

OutcomeKind = Literal["delivered_on_time", "delivered_late", "quality_failed", "failed_to_deliver", "case_upheld"]
OUTCOME_KINDS: Final[tuple[OutcomeKind, ...]] = get_args(OutcomeKind)

# Enough units that one parcel (a few units) or one small batch cannot decide a supplier's quality alone.
MIN_UNITS_ON_RECORD: Final = 100

# Credit per unit, in halves so that a late unit's half stays an integer.
HALF_CREDITS: Final[dict[OutcomeKind, int]] = {
    "delivered_on_time": 2,
    "delivered_late": 1,
    "quality_failed": 0,
    "failed_to_deliver": 0,
    "case_upheld": 0,
}


class InvalidOutcome(ValueError):
    """An outcome that cannot be counted (a unit count out of range)."""


@dataclass(frozen=True)
class Scorecard:
    delivered_on_time_units: int = 0
    delivered_late_units: int = 0
    quality_failed_units: int = 0
    failed_to_deliver_units: int = 0
    case_upheld_units: int = 0

    def units(self, kind: OutcomeKind) -> int:
        return getattr(self, f"{kind}_units")

    def recorded(self, kind: OutcomeKind, units: int) -> "Scorecard":
        """The card with one more outcome counted."""
        if not 0 <= units <= MAX_UNITS:
            raise InvalidOutcome(f"units must be 0 to {MAX_UNITS}, got {units}")
        return replace(self, **{f"{kind}_units": self.units(kind) + units})

    @property
    def total_units(self) -> int:
        return sum(self.units(kind) for kind in OUTCOME_KINDS)

    @property
    def quality_score(self) -> int:
        total = self.total_units
        if total == 0:
            return 100
        half_credits = sum(HALF_CREDITS[kind] * self.units(kind) for kind in OUTCOME_KINDS)
        # round(100 * half_credits / (2 * total)), halves up: floor((100 * half_credits + total) / (2 * total))
        return (100 * half_credits + total) // (2 * total)

    @property
    def applies(self) -> bool:
        """Whether enough is on record for the score to cap the supplier's offers."""
        return self.total_units >= MIN_UNITS_ON_RECORD


def effective_quality(declared: int, card: Scorecard) -> int:
    """The quality an offer (or quote) of the card's supplier counts with: matching's input and RFQ eligibility."""
    return min(declared, card.quality_score) if card.applies else declared
