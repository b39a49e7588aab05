"""The group's sign-up (接龙): members say how many they want, per region, before the leader sources.

One entry per phone number: a member who signs up again replaces their entry (phones compared in one normal form,
`domain.phone`).
"""

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import datetime

from flexsupply.contracts.errors import InvalidField


class SignupClosed(Exception):
    """The sign-up no longer takes entries."""


class SignupExists(Exception):
    """The package already has a sign-up."""


def is_open(*, package_is_draft: bool, closes_at: datetime | None, closed_at: datetime | None, now: datetime) -> bool:
    """Entries are taken until the leader closes the sign-up, its closing time passes, or sourcing starts."""
    return package_is_draft and closed_at is None and (closes_at is None or now < closes_at)


def check_entry(*, region: str, quantity: int, regions: Collection[str], per_person_max: int) -> None:
    if region not in regions:
        raise InvalidField("region", f"{region!r} is not one of this package's regions: {', '.join(sorted(regions))}")
    if not 1 <= quantity <= per_person_max:
        raise InvalidField("quantity", f"must be between 1 and {per_person_max}")


@dataclass(frozen=True)
class Entry:
    region: str
    quantity: int


def totals_by_region(entries: Iterable[Entry], regions: Iterable[str]) -> dict[str, int]:
    """Units wanted per region, every region of the package included (0 when nobody chose it)."""
    totals = dict.fromkeys(sorted(regions), 0)
    for entry in entries:
        totals[entry.region] = totals.get(entry.region, 0) + entry.quantity
    return totals
