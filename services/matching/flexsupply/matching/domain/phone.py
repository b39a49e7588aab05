"""A buyer's or member's phone number, in one normal form: E.164 (`+8613900000010`).

`phonenumbers` (Google's libphonenumber rules) decides what is a number: a number without a country code is read as
a mainland one, so "13900000010", "139 0000 0010" and "+86 139 0000 0010" are the same number, stored once. The
per-buyer limit and the sign-up's "same phone replaces the entry" count by this form.
"""

from typing import Annotated

import phonenumbers
from pydantic import AfterValidator, StringConstraints

DEFAULT_REGION = "CN"


def normalise_phone(raw: str) -> str:
    """E.164, or ValueError for what is not a valid number (too short, an unknown prefix, letters)."""
    try:
        number = phonenumbers.parse(raw, DEFAULT_REGION)
    except phonenumbers.NumberParseException:
        raise ValueError("not a phone number") from None
    if not phonenumbers.is_valid_number(number):
        raise ValueError("not a valid phone number")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


Phone = Annotated[str, StringConstraints(max_length=40), AfterValidator(normalise_phone)]
