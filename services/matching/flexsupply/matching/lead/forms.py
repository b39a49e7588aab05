"""What a leader types into the console's forms, read exactly: yuan as Decimal into cents (never a float), local
times into UTC, whole quantities. Each refusal names its form field with a message from the catalogue."""

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from decimal import Decimal, DecimalException
from typing import Any
from zoneinfo import ZoneInfo

from flexsupply.contracts.errors import InvalidField
from flexsupply.contracts.rules import MAX_CENTS, MAX_UNITS
from flexsupply.kit.i18n import N_

QUANTITY_PREFIX = "quantity_"
# The form's labels, also the names a refusal gives its field (the API's names, so its refusals are shown too).
FIELD_LABELS: dict[str, str] = {
    "display_name": N_("Product name"),
    "title": N_("Product name"),
    "description": N_("Description"),
    "sku": N_("Product code (SKU)"),
    "spec": N_("Specification"),
    "quantities": N_("Quantities per region"),
    "needed_by": N_("Needed by"),
    "min_quality": N_("Quality floor"),
    "backups": N_("Backup suppliers"),
    "sale_opens_at": N_("Sale opens"),
    "sale_closes_at": N_("Sale closes"),
    "threshold_units": N_("Threshold"),
    "cap_units": N_("Cap"),
    "per_buyer_limit": N_("Per-buyer limit"),
    "sale_price_cents": N_("Price"),
    "photo": N_("Photo"),
    "per_person_max": N_("Most per member"),
    "closes_at": N_("Sign-up closes"),
    "reply_by": N_("Quotes until"),
    "statement": N_("Statement"),
    "reason": N_("Reason"),
    "name": N_("Name"),
    "phone": N_("Phone"),
    "region": N_("Region"),
    "quantity": N_("Quantity"),
    "key": N_("Leader key"),
    "reference": N_("Transfer reference"),
    "starts_at": N_("Market starts"),
    "ends_at": N_("Market ends"),
    "package_ids": N_("Packages"),
}
NOT_AN_AMOUNT = N_("is not an amount in yuan such as 59 or 59.90")
NOT_A_TIME = N_("is not a date and time")
NOT_WHOLE = N_("is not a whole number")
REQUIRED = N_("is required")


def yuan_to_cents(text: str, field: str) -> int:
    """ "59.9" yuan as 5990 cents, exactly."""
    try:
        amount = Decimal(text.strip().removeprefix("¥").strip())
        cents = amount * 100
    except DecimalException:  # not a number, or one too large to scale
        raise InvalidField(field, NOT_AN_AMOUNT) from None
    if not amount.is_finite() or amount < 0 or cents != cents.to_integral_value() or cents > MAX_CENTS:
        raise InvalidField(field, NOT_AN_AMOUNT)
    return int(cents)


def local_to_utc(text: str, field: str, time_zone: ZoneInfo) -> datetime:
    """A `datetime-local` field ("2026-12-08T20:00"), read in the community's time zone, as UTC."""
    try:
        local = datetime.fromisoformat(text.strip())
    except ValueError:
        raise InvalidField(field, NOT_A_TIME) from None
    if local.tzinfo is not None:
        raise InvalidField(field, NOT_A_TIME)
    return local.replace(tzinfo=time_zone).astimezone(UTC)


def utc_to_local_input(moment: datetime, time_zone: ZoneInfo) -> str:
    """The value of a `datetime-local` field showing `moment` in the community's time zone."""
    return moment.astimezone(time_zone).strftime("%Y-%m-%dT%H:%M")


def whole(text: str, field: str, *, low: int = 0, high: int = MAX_UNITS) -> int:
    stripped = text.strip()
    if not stripped:
        raise InvalidField(field, REQUIRED)
    if not stripped.isdecimal() or not low <= int(stripped) <= high:
        raise InvalidField(field, NOT_WHOLE)
    return int(stripped)


def quantities(form: Mapping[str, str], regions: Iterable[str]) -> dict[str, int]:
    """The regions given a quantity (a blank or 0 leaves the region out)."""
    found = {}
    for region in regions:
        text = form.get(f"{QUANTITY_PREFIX}{region}", "").strip()
        if text and (units := whole(text, "quantities")) > 0:
            found[region] = units
    if not found:
        raise InvalidField("quantities", REQUIRED)
    return found


def draft_terms(form: Mapping[str, str], regions: Iterable[str], time_zone: ZoneInfo) -> dict[str, Any]:
    """The draft form's fields as PackageCreate's (validated by it next)."""
    name = form.get("display_name", "").strip()
    if not name:
        raise InvalidField("display_name", REQUIRED)
    return {
        "title": name,
        "display_name": name,
        "description": form.get("description", "").strip(),
        "sku": form.get("sku", "").strip(),
        "spec": form.get("spec", "").strip(),
        "quantities": quantities(form, regions),
        "needed_by": local_to_utc(form.get("needed_by", ""), "needed_by", time_zone),
        "min_quality": whole(form.get("min_quality", "0") or "0", "min_quality", high=100),
        "backups": whole(form.get("backups", "0") or "0", "backups", high=5),
        "sale_opens_at": local_to_utc(form.get("sale_opens_at", ""), "sale_opens_at", time_zone),
        "sale_closes_at": local_to_utc(form.get("sale_closes_at", ""), "sale_closes_at", time_zone),
        "threshold_units": whole(form.get("threshold_units", ""), "threshold_units", low=1),
        "cap_units": whole(form.get("cap_units", ""), "cap_units", low=1),
        "per_buyer_limit": whole(form.get("per_buyer_limit", ""), "per_buyer_limit", low=1),
        "sale_price_cents": yuan_to_cents(form.get("price_yuan", ""), "sale_price_cents"),
    }
