"""An award's rules: firm quantities within what the sale could promise, who answers an award and until when, what
silence means, and what a re-match must keep.

An award offers one supplier its production for one package (`planning.OfferAward` lines). Once accepted it binds:
a re-match after another supplier declines keeps its allocations fixed, and whatever the new plan adds for that
supplier is offered as a further award rather than reopening the accepted one.
"""

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from enum import StrEnum
from typing import Final
from uuid import UUID

from flexsupply.allocation import Allocation, Plan
from flexsupply.contracts.errors import InvalidField
from flexsupply.matching.domain.planning import OfferAward


class AwardStatus(StrEnum):
    OFFERED = "offered"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    EXPIRED = "expired"  # not answered by its deadline: counts as a decline
    WITHDRAWN = "withdrawn"  # a re-match no longer needs it as it was


class ReservationStatus(StrEnum):
    HELD = "held"
    RELEASED = "released"


# Part of the package's supply, or about to be.
LIVE: Final = frozenset({AwardStatus.OFFERED, AwardStatus.ACCEPTED})
# Their supplier is left out of every later re-match of the package.
REFUSED: Final = frozenset({AwardStatus.DECLINED, AwardStatus.EXPIRED})


class AwardNotOffered(Exception):
    """Only an offered award can be answered: it was answered already, withdrawn or expired."""


class AnswerTooLate(Exception):
    """The award's answer deadline has passed: silence has counted as a decline."""


class AwardConflict(Exception):
    """The package cannot take this awarding step now: not closed, no firm quantities, awards waiting for answers,
    or an award or re-match run queued or running."""


def answer(status: AwardStatus, answer_by: datetime, now: datetime, *, accept: bool) -> AwardStatus:
    """The status an award takes when its supplier answers at `now`."""
    if status is not AwardStatus.OFFERED:
        raise AwardNotOffered(f"the award is {status}: only an offered award can be answered")
    if now >= answer_by:
        raise AnswerTooLate(f"the answer was due by {when(answer_by)}: the award counts as declined")
    return AwardStatus.ACCEPTED if accept else AwardStatus.DECLINED


def is_overdue(status: AwardStatus, answer_by: datetime, now: datetime) -> bool:
    """An offered award whose deadline has come: silence counts as a decline. An answered one stays as it is."""
    return status is AwardStatus.OFFERED and now >= answer_by


def check_firm_quantities(quantities: Mapping[str, int], sale_caps: Mapping[str, int]) -> dict[str, int]:
    """What was sold, checked against what the plan let the sale promise: only planned regions, each at most its
    cap, at least one unit in all. Returns the regions with units, sorted; InvalidField names the field to fix."""
    for region, units in sorted(quantities.items()):
        if region not in sale_caps:
            planned = ", ".join(sorted(sale_caps))
            raise InvalidField(f"quantities.{region}", f"the plan covers only {planned}")
        if units < 0:
            raise InvalidField(f"quantities.{region}", f"{units} is negative")
        if units > sale_caps[region]:
            raise InvalidField(f"quantities.{region}", f"{units} is above the sale cap of {sale_caps[region]}")
    if sum(quantities.values()) < 1:
        raise InvalidField("quantities", "at least one unit must have been sold")
    return {region: units for region, units in sorted(quantities.items()) if units > 0}


def _units(lines: Iterable[OfferAward]) -> dict[tuple[str, str], int]:
    units: dict[tuple[str, str], int] = defaultdict(int)
    for line in lines:
        for region, quantity in line.quantities.items():
            units[str(line.offer_id), region] += quantity
    return units


def excluded_suppliers(answers: Iterable[tuple[UUID, AwardStatus]]) -> set[UUID]:
    """The suppliers a re-match of the package leaves out, from its awards' (supplier, status): each that declined
    or let an award expire, unless it accepted another (a further award after a re-match, say), whose units are
    fixed and so must stay in."""
    answers = list(answers)
    accepted = {supplier for supplier, status in answers if status is AwardStatus.ACCEPTED}
    return {supplier for supplier, status in answers if status in REFUSED} - accepted


def fixed_allocations(package_id: UUID, accepted: Iterable[OfferAward]) -> list[Allocation]:
    """The accepted awards' allocations, which a re-match must keep: one per offer and region (a supplier's further
    award on the same offer and region adds to it)."""
    return [
        Allocation(package=str(package_id), offer=offer, region=region, quantity=quantity)
        for (offer, region), quantity in sorted(_units(accepted).items())
        if quantity > 0
    ]


def keeps_accepted(plan: Plan, package_id: UUID, accepted: Iterable[OfferAward]) -> bool:
    """Whether the plan gives the package at least every accepted unit, per offer and region (it does when they were
    fixed; an award accepted while the run was solving was not)."""
    planned: dict[tuple[str, str], int] = defaultdict(int)
    for allocation in plan.allocations:
        if allocation.package == str(package_id):
            planned[allocation.offer, allocation.region] += allocation.quantity
    return all(planned[key] >= quantity for key, quantity in _units(accepted).items())


def beyond_accepted(wanted: Sequence[OfferAward], accepted: Sequence[OfferAward]) -> list[OfferAward]:
    """What a plan asks of a supplier beyond its accepted awards, as the lines of a further award: the units over
    the accepted ones per offer and region, at the plan's prices; an offer's fixed fee only when no accepted award
    uses the offer (the accepted award already pays it). With nothing accepted, the plan's lines as they are."""
    done = _units(accepted)
    accepted_offers = {offer for offer, _ in done}
    lines: list[OfferAward] = []
    for line in wanted:
        offer = str(line.offer_id)
        if offer not in accepted_offers:
            lines.append(line)
            continue
        extra = {region: units - done[offer, region] for region, units in line.quantities.items()}
        extra = {region: units for region, units in sorted(extra.items()) if units > 0}
        if not extra:
            continue
        shipping = {region: line.shipping_unit_cents[region] for region in extra}
        lines.append(
            OfferAward(
                offer_id=line.offer_id,
                quantities=extra,
                unit_cents=line.unit_cents,
                shipping_unit_cents=shipping,
                fixed_cents=0,
                total_cents=sum((line.unit_cents + shipping[region]) * units for region, units in extra.items()),
            )
        )
    return lines


def covers(accepted: Iterable[OfferAward], firm_quantities: Mapping[str, int]) -> bool:
    """Whether the accepted awards make exactly the firm quantities, region by region: then production may start."""
    made: dict[str, int] = defaultdict(int)
    for (_, region), units in _units(accepted).items():
        made[region] += units
    wanted = {region: units for region, units in firm_quantities.items() if units > 0}
    return bool(wanted) and dict(made) == wanted


def declined_reason(supplier_id: UUID, reason: str) -> str:
    return f"supplier {supplier_id} declined: {reason}"


def silence_reason(supplier_id: UUID, answer_by: datetime) -> str:
    return f"supplier {supplier_id} did not answer by {when(answer_by)}"


def when(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
