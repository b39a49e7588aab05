"""A notice stored in English (the API's words) is shown in the buyer's language with its numbers."""

from pathlib import Path

import flexsupply.fulfilment
from flexsupply.fulfilment.cases import RESEND_FAILED_NOTICE
from flexsupply.fulfilment.delivery import MOVED_NOTICE
from flexsupply.fulfilment.notices import translated
from flexsupply.kit import i18n

i18n.register_catalogues([Path(next(iter(flexsupply.fulfilment.__path__))) / "locale"])


def test_a_stored_notice_is_shown_in_chinese_with_its_numbers() -> None:
    shown = translated(MOVED_NOTICE.format(units=2, quantity=5))
    assert shown.startswith("您订的 5 件中有 2 件将改由另一家供应商提供")


def test_a_notice_without_numbers_is_translated_whole() -> None:
    assert translated(RESEND_FAILED_NOTICE).startswith("我们为您的问题承诺补发的包裹无法寄出")


def test_a_text_from_no_known_template_is_shown_as_it_is() -> None:
    assert translated("Your parcel was left with the neighbour.") == "Your parcel was left with the neighbour."
    assert translated(MOVED_NOTICE.replace("{units}", "two")) == MOVED_NOTICE.replace("{units}", "two")
