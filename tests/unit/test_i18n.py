"""The i18n layer: language choice, catalogues merged from several .po files, money and times through Babel."""

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from litestar import Router, get
from litestar.response import Template

from flexsupply.kit import i18n
from flexsupply.kit.app import build_app

PO_HEADER = """msgid ""
msgstr ""
"Content-Type: text/plain; charset=UTF-8\\n"
"Plural-Forms: nplurals=1; plural=0;\\n"

"""
PAGE = """<html lang="{{ html_lang }}"><p>{{ _("Order now") }}</p><p>{{ _("%(left)s left", left=left) }}</p>
<p>{{ 5900|money }}</p><p>{{ opens_at|local_time("short") }} {{ time_zone_label }}</p>
<p>{% trans %}Hello {{ name }}{% endtrans %}</p>
{% for code, name in languages %}<a href="?lang={{ code }}">{{ name }}</a>{% endfor %}"""


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, "zh_CN"),
        ("fr-FR,fr;q=0.9", "zh_CN"),
        ("en-US,en;q=0.9", "en"),
        ("zh-CN,zh;q=0.9,en;q=0.8", "zh_CN"),
        ("en;q=0.5, zh;q=0.9", "zh_CN"),
        ("de;q=0.9, en;q=0.4", "en"),
        ("en;q=bad", "zh_CN"),
    ],
)
def test_the_language_follows_accept_language_with_chinese_by_default(header: str | None, expected: str) -> None:
    assert i18n.negotiate(header) == expected


def test_an_explicit_choice_beats_the_header_and_an_unknown_one_is_ignored() -> None:
    assert i18n.locale_for("en", "zh_CN", "zh-CN") == "en"
    assert i18n.locale_for(None, "en", "zh-CN") == "en"
    assert i18n.locale_for("xx", None, "en") == "en"


def test_money_is_formatted_from_whole_minor_units_per_language() -> None:
    assert i18n.format_money(5900, locale="zh_CN") == "¥59.00"
    assert i18n.format_money(1234567, locale="zh_CN") == "¥12,345.67"
    assert i18n.format_money(5, locale="en") == "CN¥0.05"
    assert i18n.format_money(500, "JPY", locale="en") == "¥500"  # no minor units


def test_times_are_shown_in_the_community_time_zone() -> None:
    eleven_pm_utc = datetime(2026, 12, 7, 23, 30, tzinfo=UTC)
    assert i18n.format_local_time(eleven_pm_utc, locale="en", format="iso") == "2026-12-08T07:30:00+08:00"
    assert i18n.format_local_time(eleven_pm_utc, locale="zh_CN", format="date") == "2026年12月8日"
    assert "7:30" in i18n.format_local_time(eleven_pm_utc, locale="en", format="time")
    assert i18n.format_local_time(eleven_pm_utc, locale="en", time_zone="UTC", format="iso").endswith("+00:00")
    with pytest.raises(ValueError, match="unknown time format"):
        i18n.format_local_time(eleven_pm_utc, format="fancy")


@pytest.fixture
async def page(tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    templates, locale = tmp_path / "templates", tmp_path / "locale" / "zh_CN" / "LC_MESSAGES"
    templates.mkdir()
    locale.mkdir(parents=True)
    (templates / "page.html").write_text(PAGE, encoding="utf-8")
    # Two areas' catalogues: both are merged.
    (locale / "one.po").write_text(PO_HEADER + 'msgid "Order now"\nmsgstr "立即下单"\n', encoding="utf-8")
    (locale / "two.po").write_text(
        PO_HEADER
        + 'msgid "%(left)s left"\nmsgstr "剩 %(left)s 份"\n\nmsgid "Hello %(name)s"\nmsgstr "%(name)s，你好"\n',
        encoding="utf-8",
    )

    @get("/page", opt={"exclude_from_auth": True})
    async def render() -> Template:
        opens_at = datetime(2026, 12, 8, 12, 0, tzinfo=UTC)
        return Template(template_name="page.html", context={"left": 3, "opens_at": opens_at, "name": "<b>李</b>"})

    app: Any = build_app(  # httpx's ASGI type is narrower than litestar's own
        title="pages",
        routers=[Router("/", route_handlers=[render])],
        lifespans=[],
        template_directories=[templates],
        locale_directories=[tmp_path / "locale"],
    )
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://pages") as client:
        yield client


async def test_a_page_is_chinese_by_default_with_variables_escaped(page: httpx.AsyncClient) -> None:
    html = (await page.get("/page")).text
    assert '<html lang="zh-CN">' in html
    assert "立即下单" in html and "剩 3 份" in html and "¥120.00" not in html and "¥59.00" in html
    assert "&lt;b&gt;李&lt;/b&gt;，你好" in html
    assert "20:00" in html  # 12:00 UTC in Asia/Shanghai
    assert "GMT+08:00" in html


async def test_the_switch_keeps_english_in_a_cookie(page: httpx.AsyncClient) -> None:
    switched = await page.get("/page", params={"lang": "en"})
    assert '<html lang="en">' in switched.text and "Order now" in switched.text and "3 left" in switched.text
    assert "CN¥59.00" in switched.text
    assert f"{i18n.COOKIE}=en" in switched.headers["set-cookie"]
    again = await page.get("/page", headers={"accept-language": "zh-CN"})  # the client keeps the cookie
    assert '<html lang="en">' in again.text
    assert "set-cookie" not in again.headers


async def test_accept_language_chooses_english(page: httpx.AsyncClient) -> None:
    html = (await page.get("/page", headers={"accept-language": "en-GB,en;q=0.9"})).text
    assert "Order now" in html and "立即下单" not in html
