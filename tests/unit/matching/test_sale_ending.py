"""How a sale ended, told apart for its buyers: went ahead (on time or early), missed its threshold (on time or
closed early), or cancelled without a count."""

from datetime import UTC, datetime, timedelta

import pytest

from flexsupply.matching.domain.sale import SaleEnding, sale_ending

CLOSES_AT = datetime(2030, 1, 1, 20, 0, tzinfo=UTC)
EARLY = CLOSES_AT - timedelta(minutes=10)


@pytest.mark.parametrize(
    ("closed_at", "went_ahead", "counted", "ending"),
    [
        (None, None, False, None),
        (CLOSES_AT, True, True, SaleEnding.WENT_AHEAD),
        (EARLY, True, True, SaleEnding.WENT_AHEAD_EARLY),
        (CLOSES_AT, False, True, SaleEnding.THRESHOLD_MISSED),
        (EARLY, False, True, SaleEnding.CLOSED_EARLY),
        (EARLY, False, False, SaleEnding.CANCELLED),
    ],
)
def test_how_a_sale_ended(
    closed_at: datetime | None, went_ahead: bool | None, counted: bool, ending: SaleEnding | None
) -> None:
    assert sale_ending(closed_at=closed_at, closes_at=CLOSES_AT, went_ahead=went_ahead, counted=counted) == ending
