"""A demand package's life: one state machine, and the rules its terms must keep.

draft -> sourcing -> planned -> on_sale -> closed -> awarded -> in_fulfilment -> completed, with a way back from
planned to sourcing when a new run finds no plan, and cancelled from any state before awarded.
"""

from collections.abc import Collection, Iterable
from datetime import datetime
from enum import StrEnum
from typing import Final

from flexsupply.contracts import moves
from flexsupply.contracts.errors import InvalidField


class InvalidTransition(Exception):
    """The package's status does not allow this step."""


class NotEditable(Exception):
    """Only a draft package's terms may change."""


class PackageStatus(StrEnum):
    DRAFT = "draft"
    SOURCING = "sourcing"
    PLANNED = "planned"
    ON_SALE = "on_sale"
    CLOSED = "closed"
    AWARDED = "awarded"
    IN_FULFILMENT = "in_fulfilment"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


class PackageStep(StrEnum):
    REQUEST_QUOTES = "request_quotes"
    PLAN = "plan"
    REPLAN = "replan"
    OPEN_SALE = "open_sale"
    REACH_THRESHOLD = "reach_threshold"
    MISS_THRESHOLD = "miss_threshold"
    FIRM_UP = "firm_up"
    AWARD = "award"
    START_FULFILMENT = "start_fulfilment"
    COMPLETE = "complete"
    CANCEL = "cancel"


FORWARD: Final[dict[tuple[PackageStatus, PackageStep], PackageStatus]] = {
    (PackageStatus.DRAFT, PackageStep.REQUEST_QUOTES): PackageStatus.SOURCING,
    (PackageStatus.SOURCING, PackageStep.PLAN): PackageStatus.PLANNED,
    # A later run (new quotes, a supplier gone) found no plan: the package needs sourcing again.
    (PackageStatus.PLANNED, PackageStep.REPLAN): PackageStatus.SOURCING,
    (PackageStatus.PLANNED, PackageStep.OPEN_SALE): PackageStatus.ON_SALE,
    # The flash sale ran outside flexsupply (in the group's chat, say): the leader or an operator enters what was
    # sold as the firm quantities, which closes the package as a sale reaching its threshold would.
    (PackageStatus.PLANNED, PackageStep.FIRM_UP): PackageStatus.CLOSED,
    (PackageStatus.ON_SALE, PackageStep.REACH_THRESHOLD): PackageStatus.CLOSED,
    (PackageStatus.ON_SALE, PackageStep.MISS_THRESHOLD): PackageStatus.CANCELLED,
    (PackageStatus.CLOSED, PackageStep.AWARD): PackageStatus.AWARDED,
    (PackageStatus.AWARDED, PackageStep.START_FULFILMENT): PackageStatus.IN_FULFILMENT,
    (PackageStatus.IN_FULFILMENT, PackageStep.COMPLETE): PackageStatus.COMPLETED,
}
# Once awarded, suppliers are producing: stopping is then a fulfilment exception, not a cancel.
CANCELLABLE: Final = frozenset(
    {PackageStatus.DRAFT, PackageStatus.SOURCING, PackageStatus.PLANNED, PackageStatus.ON_SALE, PackageStatus.CLOSED}
)


# Every move, cancelling last: the order `allowed_steps` lists them in.
MOVES: Final = FORWARD | {(status, PackageStep.CANCEL): PackageStatus.CANCELLED for status in CANCELLABLE}


def allowed_steps(status: PackageStatus) -> list[PackageStep]:
    """The steps a package in `status` may take, in the order the loop takes them."""
    return moves.allowed_steps(MOVES, status)


def next_status(status: PackageStatus, step: PackageStep) -> PackageStatus:
    """Where `step` takes a package in `status`; InvalidTransition names the state and what it allows."""
    return moves.next_status(MOVES, status, step, subject="package", refuse=InvalidTransition)


def sale_outcome(sold_units: int, threshold_units: int) -> PackageStep:
    """Closing a sale: the buy goes ahead when the threshold is reached, else the package is cancelled."""
    return PackageStep.REACH_THRESHOLD if sold_units >= threshold_units else PackageStep.MISS_THRESHOLD


def check_editable(status: PackageStatus) -> None:
    if status != PackageStatus.DRAFT:
        raise NotEditable(f"a {status} package cannot be changed: only a draft can")


def check_terms(
    *,
    needed_by: datetime,
    sale_opens_at: datetime,
    sale_closes_at: datetime,
    threshold_units: int,
    cap_units: int,
    per_buyer_limit: int,
    now: datetime,
) -> None:
    """The rules a package's terms keep together; InvalidField names the field to fix."""
    if needed_by <= now:
        raise InvalidField("needed_by", "is in the past")
    if sale_closes_at <= sale_opens_at:
        raise InvalidField("sale_closes_at", "the sale window closes before it opens")
    if sale_closes_at >= needed_by:
        raise InvalidField("sale_closes_at", "the sale must close before needed_by: production follows the sale")
    if threshold_units > cap_units:
        raise InvalidField("threshold_units", f"{threshold_units} is above the cap of {cap_units} units")
    if per_buyer_limit > cap_units:
        raise InvalidField("per_buyer_limit", f"{per_buyer_limit} is above the cap of {cap_units} units")


def check_regions_known(field: str, regions: Iterable[str], known: Collection[str]) -> None:
    unknown = sorted(set(regions) - set(known))
    if unknown:
        raise InvalidField(field, f"unknown region(s) {', '.join(unknown)}; an operator adds regions first")
