"""Refusals in the buyer's words and language: the order form's field hints, and the problem details of the two
endpoints people reach from a phone (a sale's order, a sign-up's entry), translated by the request's locale.

The problem details are made app-wide in English (kit.errors, for API clients); kit.translated_problems on those two
endpoints rewrites `title` and `detail` (and each field error's message) by the problem's `type`, so that a page's
script, or a member's phone, can show them as they are. Anything it does not know passes unchanged.
"""

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from litestar.middleware import DefineMiddleware

from flexsupply.kit import i18n
from flexsupply.kit.errors import PROBLEM_TYPE_BASE
from flexsupply.kit.i18n import N_
from flexsupply.kit.translated_problems import TranslatedProblems

# What to type in each field, told when it was not: never the validator's own words.
FIELD_HINTS = {
    "quantity": N_("Quantity: enter a whole number, at least 1."),
    "region": N_("Delivery region: choose one of the regions offered."),
    "name": N_("Name: enter your name (up to 100 characters)."),
    "phone": N_("Phone: enter a phone number, such as 139 0000 0010."),
    "address": N_("Delivery address: enter where to deliver (up to 500 characters)."),
}


def field_hints(fields: list[str]) -> str:
    """'Please check: ...' naming each field at fault once, in the order given."""
    hints = [i18n.gettext(FIELD_HINTS[field]) for field in dict.fromkeys(fields) if field in FIELD_HINTS]
    what = " ".join(hints) if hints else i18n.gettext("the form.")
    return i18n.gettext("Please check: %(what)s", what=what)


def _local(iso: Any) -> str:
    return i18n.format_local_time(datetime.fromisoformat(str(iso)), format="short")


def _invalid(problem: dict[str, Any]) -> dict[str, Any]:
    errors = [error for error in problem.get("errors", []) if isinstance(error, dict)]
    for error in errors:
        if error.get("field") in FIELD_HINTS:
            error["message"] = i18n.gettext(FIELD_HINTS[error["field"]])
    return {
        "title": i18n.gettext("Please check what you entered"),
        "detail": field_hints([str(error.get("field")) for error in errors]),
    }


# problem type -> its title and detail in the request's language, from the problem's own members.
TRANSLATIONS: Mapping[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
    "invalid-request": _invalid,
    "sold-out": lambda problem: {
        "title": i18n.gettext("Sold out"),
        "detail": i18n.gettext(
            "Only %(left)s left in %(region)s.", left=problem.get("left", 0), region=problem.get("region", "")
        ),
    },
    "sale-not-open": lambda problem: {
        "title": i18n.gettext("The sale is not open"),
        "detail": i18n.gettext(
            "The sale runs from %(opens)s to %(closes)s.",
            opens=_local(problem["opens_at"]),
            closes=_local(problem["closes_at"]),
        ),
    },
    "buyer-limit-reached": lambda problem: {
        "title": i18n.gettext("Over the per-buyer limit"),
        "detail": i18n.gettext("One buyer may order at most %(limit)s of this item.", limit=problem.get("limit", 0)),
    },
    "not-found": lambda _: {
        "title": i18n.gettext("Not found"),
        "detail": i18n.gettext("There is nothing at this address: check that the link is complete."),
    },
    "idempotency-key-reused": lambda _: {
        "title": i18n.gettext("Already sent with other details"),
        "detail": i18n.gettext("This request was already sent with other details: send it again as a new one."),
    },
    "signup-closed": lambda _: {
        "title": i18n.gettext("The sign-up is closed"),
        "detail": i18n.gettext("This sign-up no longer takes entries."),
    },
}


def translated(problem: dict[str, Any]) -> dict[str, Any]:
    kind = str(problem.get("type", "")).removeprefix(PROBLEM_TYPE_BASE)
    translate = TRANSLATIONS.get(kind)
    if translate is None:
        return problem
    try:
        return problem | translate(problem)
    except (KeyError, ValueError):  # a problem without the members its words need: as it was
        return problem


# Route middleware for the two endpoints (`middleware=[TRANSLATED_PROBLEMS]`).
TRANSLATED_PROBLEMS = DefineMiddleware(TranslatedProblems, translate=translated)
