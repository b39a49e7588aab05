"""What a buyer was told, in their language. A notice is stored once, in English (the JSON API's words, filled in
from a template such as `{units} of your {quantity} units ...`); the delivery page recognises the template it came
from and shows the catalogue's translation with the same numbers. A text from no known template is shown as it is.
"""

import re
from functools import cache

from flexsupply.fulfilment.cases import RESEND_FAILED_NOTICE
from flexsupply.fulfilment.delivery import MOVED_NOTICE
from flexsupply.fulfilment.failures import WAITING_NOTICE
from flexsupply.kit import i18n

TEMPLATES = (MOVED_NOTICE, WAITING_NOTICE, RESEND_FAILED_NOTICE)


@cache
def _pattern(template: str) -> re.Pattern[str]:
    parts = re.split(r"\{(\w+)\}", template)  # text, name, text, name, ..., text
    return re.compile(
        "".join(re.escape(part) if index % 2 == 0 else rf"(?P<{part}>\d+)" for index, part in enumerate(parts))
    )


def translated(message: str) -> str:
    """In the request's language."""
    for template in TEMPLATES:
        if (found := _pattern(template).fullmatch(message)) is not None:
            return i18n.gettext(template).format(**found.groupdict())
    return message
