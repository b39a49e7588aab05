"""What a package's reserves still cover once backups have taken over a failed supplier's units.

The contract's rule 6 (1+N), applied to what is left: for every supplier still making units of the package, the
reserves left on the other backup suppliers, less the N-1 largest of them, must be at least what it makes. A backup
that took units over makes them now: it can fail too, and its own reserve cannot back itself up.
"""

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from uuid import UUID


@dataclass(frozen=True, slots=True)
class Use:
    """Units a backup (`supplier_id`) took over from a failed supplier, out of its reserve."""

    supplier_id: UUID
    failed_supplier_id: UUID
    units: int


@dataclass(frozen=True, slots=True)
class Cover:
    held_units: int
    used_units: int
    left_units: int
    # What the worst single failure among the suppliers still making would leave uncovered, N-1 backups failing too.
    short_units: int
    at_risk_supplier_id: UUID | None


def making_now(accepted: Mapping[UUID, int], uses: Iterable[Use]) -> dict[UUID, int]:
    """Units each supplier makes now: its accepted awards, less what backups took from it, plus what it took."""
    making: dict[UUID, int] = defaultdict(int, accepted)
    for use in uses:
        making[use.failed_supplier_id] -= use.units
        making[use.supplier_id] += use.units
    return {supplier: units for supplier, units in making.items() if units > 0}


def cover(held: Mapping[UUID, int], accepted: Mapping[UUID, int], uses: Iterable[Use], backups: int) -> Cover:
    """`held`: units each backup supplier holds in reserve; `accepted`: units of each supplier's accepted awards."""
    uses = list(uses)
    used: dict[UUID, int] = defaultdict(int)
    for use in uses:
        used[use.supplier_id] += use.units
    left = {supplier: max(0, units - used[supplier]) for supplier, units in held.items()}
    short, at_risk = 0, None
    if backups >= 1:
        for supplier, units in sorted(making_now(accepted, uses).items(), key=lambda item: str(item[0])):
            others = sorted((units_left for s, units_left in left.items() if s != supplier), reverse=True)
            gap = units - sum(others[backups - 1 :])
            if gap > short:
                short, at_risk = gap, supplier
    return Cover(
        held_units=sum(held.values()),
        used_units=sum(min(used[supplier], units) for supplier, units in held.items()),
        left_units=sum(left.values()),
        short_units=short,
        at_risk_supplier_id=at_risk,
    )
