"""The rules an offer's numbers keep, shared by the catalogue, matching and the optimizer, without the ORM: the
optimizer's command imports them, and SQLModel would add half a second to its start."""

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from typing import Annotated

import pydantic
from pydantic import StringConstraints

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
# N of 1+N, bounded where a package is written, planned and solved alike: a row that skipped the API's check (a
# table's model_validate keeps no bound) still cannot reach the optimizer with more.
MAX_BACKUPS = 5
Backups = Annotated[int, pydantic.Field(ge=0, le=MAX_BACKUPS)]


def _true_or_false(value: object) -> object:
    # Litestar validates bodies with strict=False, which overrides pydantic's StrictBool: refuse 0, 1, "no" here.
    if not isinstance(value, bool):
        raise ValueError("must be true or false")
    return value


Boolean = Annotated[bool, pydantic.BeforeValidator(_true_or_false)]


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


def whole_days_until(needed_by: datetime, now: datetime) -> int:
    """The contract's needed_by_days: whole days from now to needed_by, rounded down (negative once it has passed),
    so the longest lead time that still makes it. Exact: seconds as a float would round a microsecond short of a
    far day up to it."""
    return (needed_by - now) // timedelta(days=1)
