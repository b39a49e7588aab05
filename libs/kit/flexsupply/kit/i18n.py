"""What a person reads, in their language: zh-CN first (the groups are Chinese), English second.

Messages are gettext catalogues (`<service>/locale/zh_CN/LC_MESSAGES/<area>.po`, English msgids), compiled in memory
by Babel when the app is built, so a changed .po needs no build step. Money and times go through Babel too: one
function each, for pages, CSVs and messages alike. The request's locale lives in a context variable set by
`LocaleMiddleware`, so templates, filters and handlers read it without passing it around.
"""

import io
from collections.abc import Callable, Iterable, Sequence
from contextvars import ContextVar
from datetime import datetime
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any, Final
from urllib.parse import parse_qs
from zoneinfo import ZoneInfo

from babel import Locale, UnknownLocaleError
from babel.dates import format_date, format_datetime, format_time, get_timezone_gmt, get_timezone_name
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_currency, get_currency_precision
from babel.support import NullTranslations, Translations
from jinja2 import Environment
from jinja2.runtime import Context
from litestar.datastructures import Cookie
from litestar.types import ASGIApp, Message, Receive, Scope, Send

DEFAULT_LOCALE: Final = "zh_CN"
LOCALES: Final = ("zh_CN", "en")
DEFAULT_TIME_ZONE: Final = "Asia/Shanghai"
COOKIE: Final = "flexsupply_lang"
QUERY: Final = "lang"
COOKIE_MAX_AGE_SECONDS: Final = 365 * 24 * 3600
TIME_FORMATS: Final = ("short", "medium", "long", "date", "time", "iso")

_locale: ContextVar[str] = ContextVar("flexsupply_locale", default=DEFAULT_LOCALE)
_time_zone: ContextVar[str] = ContextVar("flexsupply_time_zone", default=DEFAULT_TIME_ZONE)
_catalogue_directories: list[Path] = []


def N_(message: str) -> str:
    """Mark a message for extraction where it is defined; translate it where it is shown (gettext's own name)."""
    return message


def register_catalogues(directories: Iterable[Path]) -> None:
    """Add services' `locale/` folders; every .po file in them is merged into the one catalogue per language."""
    for directory in directories:
        resolved = directory.resolve()
        if resolved not in _catalogue_directories:
            _catalogue_directories.append(resolved)
            translator.cache_clear()


def catalogue_files(locale: str, directories: Sequence[Path] | None = None) -> list[Path]:
    """In the order the folders were registered (a later one's translation of a msgid wins), by name within one."""
    folders = _catalogue_directories if directories is None else directories
    return [path for folder in folders for path in sorted((folder / locale / "LC_MESSAGES").glob("*.po"))]


@cache
def translator(locale: str) -> NullTranslations:
    """The merged catalogue of one language; English is the msgids themselves."""
    merged: NullTranslations = NullTranslations()
    for path in catalogue_files(locale):
        with path.open("rb") as po_file:
            catalogue = read_po(po_file, locale=locale)
        compiled = io.BytesIO()
        write_mo(compiled, catalogue)
        compiled.seek(0)
        translations = Translations(compiled)
        if isinstance(merged, Translations):
            merged.merge(translations)
        else:
            merged = translations
    return merged


def current_locale() -> str:
    return _locale.get()


def current_time_zone() -> str:
    return _time_zone.get()


def gettext(message: str, **variables: Any) -> str:
    """Translate into the request's language; `%(name)s` placeholders are filled from the keywords."""
    translated = translator(current_locale()).gettext(message)
    return translated % variables if variables else translated


def ngettext(singular: str, plural: str, number: int, **variables: Any) -> str:
    translated = translator(current_locale()).ngettext(singular, plural, number)
    return translated % {"num": number, **variables}


def html_lang(locale: str | None = None) -> str:
    return (locale or current_locale()).replace("_", "-")


def negotiate(accept_language: str | None) -> str:
    """The best of our languages for an Accept-Language header: by quality, then order; a language matches by its
    primary subtag (zh-TW, zh-HK and plain zh read the zh-CN pages); zh-CN when it names none of ours."""
    ranked: list[tuple[float, int, str]] = []
    for position, part in enumerate((accept_language or "").split(",")):
        tag, _, parameters = part.strip().partition(";")
        quality = 1.0
        if parameters.strip().startswith("q="):
            try:
                quality = float(parameters.strip()[2:])
            except ValueError:
                continue
        ranked.append((-quality, position, tag.strip().lower()))
    by_language = {locale.split("_")[0]: locale for locale in LOCALES}
    for negative_quality, _, tag in sorted(ranked):
        language = tag.replace("_", "-").split("-")[0]
        if negative_quality < 0 and language in by_language:
            return by_language[language]
    return DEFAULT_LOCALE


def locale_for(query_lang: str | None, cookie_lang: str | None, accept_language: str | None) -> str:
    for explicit in (query_lang, cookie_lang):
        if explicit in LOCALES:
            return explicit
    return negotiate(accept_language)


def format_money(cents: int, currency: str = "CNY", locale: str | None = None) -> str:
    """`¥59.00` in zh-CN, `CN¥59.00` in English: the currency's own minor units, no float on the way."""
    amount = Decimal(cents).scaleb(-get_currency_precision(currency))
    return format_currency(amount, currency, locale=locale or current_locale())


def format_local_time(
    when: datetime, *, locale: str | None = None, time_zone: str | None = None, format: str = "medium"
) -> str:
    """A UTC time as the community reads it (Asia/Shanghai by default): "short", "medium", "long", "date", "time",
    or "iso" (with its offset, for `<time datetime>` and scripts)."""
    if format not in TIME_FORMATS:
        raise ValueError(f"unknown time format {format!r}; choose one of {', '.join(TIME_FORMATS)}")
    zone = ZoneInfo(time_zone or current_time_zone())
    local = when.astimezone(zone)
    chosen = locale or current_locale()
    if format == "iso":
        return local.isoformat()
    if format == "date":
        return format_date(local, format="medium", locale=chosen)
    if format == "time":
        return format_time(local, format="short", locale=chosen)
    return format_datetime(local, format=format, locale=chosen)


def time_zone_label(locale: str | None = None, time_zone: str | None = None) -> str:
    """What a page prints beside its times, e.g. `中国标准时间 (GMT+08:00)`."""
    zone = ZoneInfo(time_zone or current_time_zone())
    chosen = locale or current_locale()
    name = get_timezone_name(zone, width="long", locale=chosen)
    return f"{name} ({get_timezone_gmt(datetime.now(zone), locale=chosen)})"


def language_name(locale: str) -> str:
    """A language named in itself, for the switch: 中文 / English."""
    try:
        return Locale.parse(locale).get_language_name(locale) or locale
    except (UnknownLocaleError, ValueError):
        return locale


def install(environment: Environment) -> None:
    """Give every template gettext (`_`, `ngettext`, `{% trans %}`), `|money`, `|local_time` and the request's
    `locale`, `html_lang`, `time_zone_label` and `languages` (for the switch)."""
    environment.add_extension("jinja2.ext.i18n")
    # Jinja's newstyle gettext fills `%(name)s` itself: it gets the bare lookups, not the formatting ones above.
    environment.install_gettext_callables(  # type: ignore[attr-defined]
        lambda message: translator(current_locale()).gettext(message),
        lambda singular, plural, number: translator(current_locale()).ngettext(singular, plural, number),
        newstyle=True,
    )
    environment.filters["money"] = format_money
    environment.filters["local_time"] = lambda when, format="medium": format_local_time(when, format=format)
    per_request: dict[str, Callable[[], Any]] = {
        "locale": current_locale,
        "html_lang": html_lang,
        "time_zone_label": time_zone_label,
        "languages": lambda: [(locale, language_name(locale)) for locale in LOCALES],
    }
    environment.context_class = _context_class(per_request)


def _context_class(per_request: dict[str, Callable[[], Any]]) -> type:
    class RequestContext(Context):
        """Resolves the request's locale values at render time (a template global would be fixed at start-up)."""

        def resolve_or_missing(self, key: str) -> Any:
            if key in per_request and key not in self.vars and key not in self.parent:
                return per_request[key]()
            return super().resolve_or_missing(key)

    return RequestContext


class LocaleMiddleware:
    """Choose the request's language (`?lang=`, then the cookie, then Accept-Language) and keep a `?lang=` choice
    in a cookie; set the community's time zone for the request."""

    def __init__(self, app: ASGIApp, time_zone: str = DEFAULT_TIME_ZONE) -> None:
        self.app = app
        self.time_zone = time_zone

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {key.decode("latin-1").lower(): value.decode("latin-1") for key, value in scope["headers"]}
        query_lang = _query_value(scope.get("query_string", b""), QUERY)
        locale = locale_for(
            query_lang, _cookie_value(headers.get("cookie", ""), COOKIE), headers.get("accept-language")
        )
        locale_token, zone_token = _locale.set(locale), _time_zone.set(self.time_zone)

        async def send_with_cookie(message: Message) -> None:
            if message["type"] == "http.response.start" and query_lang in LOCALES:
                cookie = Cookie(key=COOKIE, value=locale, max_age=COOKIE_MAX_AGE_SECONDS, samesite="lax")
                message["headers"] = [*message.get("headers", []), cookie.to_encoded_header()]
            await send(message)

        try:
            await self.app(scope, receive, send_with_cookie)
        finally:
            _locale.reset(locale_token)
            _time_zone.reset(zone_token)


def _query_value(query_string: bytes, name: str) -> str | None:
    values = parse_qs(query_string.decode("latin-1")).get(name)
    return values[0] if values else None


def _cookie_value(cookie_header: str, name: str) -> str | None:
    for part in cookie_header.split(";"):
        key, _, value = part.strip().partition("=")
        if key == name:
            return value
    return None
