"""Text every service accepts from people: printable only, and never longer than the column that stores it.

Each type's `max_length` is its column's length (tests/integration/test_text_fields.py holds every table to it): a
longer value is a 400 naming the field, not a 500 from PostgreSQL's varchar. Control characters (a NUL above all,
which PostgreSQL refuses to store, and the C1 block) have no place in names, codes or numbers; free text (a note, a
reason, an address, a spec) may keep tabs and line breaks.
"""

from typing import Annotated

from pydantic import StringConstraints

SINGLE_LINE = r"^[^\x00-\x1f\x7f-\x9f]*$"
MULTILINE = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]*$"
# A link's or order's secret as secrets.token_urlsafe makes it.
TOKEN_PATTERN = r"^[A-Za-z0-9_-]+$"


def text(max_length: int, *, min_length: int = 1, multiline: bool = False) -> StringConstraints:
    """Constraints of a text field stored in a VARCHAR(max_length): `Annotated[str, text(200)]`."""
    return StringConstraints(
        strip_whitespace=True,
        min_length=min_length,
        max_length=max_length,
        pattern=MULTILINE if multiline else SINGLE_LINE,
    )


Name = Annotated[str, text(200)]  # a community, a leader, a supplier, a package's or a market's title
PersonName = Annotated[str, text(100)]  # a buyer's or a sign-up member's name
Code = Annotated[str, text(64)]  # a lot number, a carrier, a tracking number
Note = Annotated[str, text(500, multiline=True)]  # a decline's reason, a shipment's note
# A Chinese address can be a few characters ("3栋2单元"): the least is two, enough to refuse a stray key.
Address = Annotated[str, text(500, min_length=2, multiline=True)]
REASON_LENGTH = 1000
Reason = Annotated[str, text(REASON_LENGTH, multiline=True)]
Description = Annotated[str, text(2000, multiline=True)]
Spec = Annotated[str, text(4000, min_length=0, multiline=True)]


def fit(composed: str, max_length: int) -> str:
    """A note composed of a person's text and ours, cut (ending in an ellipsis) to the column it goes in: the
    person's text alone may already fill that column, and is kept whole where it is stored alone."""
    return composed if len(composed) <= max_length else composed[: max_length - 1] + "…"
