"""The supplier desk at /supply: a supplier's side of the API as pages, for a phone or a desk, rendered on the server.

A supplier logs in once with its API key (fsk_...). The desk keeps the key in its session, an encrypted and signed
cookie (AES-GCM: the browser holds it but cannot read it) that is HttpOnly, SameSite=Lax and sent to /supply only;
a logout ends every copy of it. Every form carries the session's CSRF token. The pages run no script: forms post
and redirect with what happened.

The desk adds no rule of its own: it calls the use cases the API calls. The suppliers service's own directly (RFQs,
quotes, declines, the scorecard, webhook deliveries); matching's (awards, reservations) and fulfilment's
(production orders, batches, parcels, manifests) through their public APIs with the supplier's own key, so those
services decide what the supplier may see and do, as they do for its API calls.
"""

import hmac
import json
import re
import secrets
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal, DecimalException
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4
from zoneinfo import ZoneInfo

import httpx
from limits import parse
from limits.aio.storage import MemoryStorage
from limits.aio.strategies import MovingWindowRateLimiter
from litestar import Controller, Request, Response, Router, get, post
from litestar.connection import ASGIConnection
from litestar.datastructures import CacheControlHeader, ResponseHeader, State
from litestar.di import NamedDependency, Provide
from litestar.handlers.base import BaseRouteHandler
from litestar.middleware import DefineMiddleware
from litestar.middleware.session import SessionMiddleware
from litestar.middleware.session.client_side import ClientSideSessionBackend, CookieBackendConfig
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template
from litestar.static_files import create_static_files_router
from litestar.types import ASGIApp
from pydantic import ValidationError
from sqlmodel.ext.asyncio.session import AsyncSession

from flexsupply.clients.fulfilment import FulfilmentClient, ParcelShipped
from flexsupply.clients.matching import MatchingClient
from flexsupply.contracts.errors import InvalidField, NotFound, PeerUnavailable
from flexsupply.contracts.offers import OfferTerms
from flexsupply.kit.db import Database
from flexsupply.kit.i18n import N_, current_time_zone, ngettext
from flexsupply.kit.i18n import gettext as _
from flexsupply.kit.peers import peer_client
from flexsupply.kit.service import Transaction, database_key
from flexsupply.suppliers import services
from flexsupply.suppliers.deps import SERVICE
from flexsupply.suppliers.domain.rfq import ReplyDeadlinePassed, is_open
from flexsupply.suppliers.domain.webhook_retry import NoWebhookUrl
from flexsupply.suppliers.models import DeliveryStatus
from flexsupply.suppliers.schemas import OfferPublic, QuoteCreate, RfqDecline
from flexsupply.suppliers.settings import SuppliersSettings

HERE = Path(__file__).resolve().parent
TEMPLATES = HERE / "templates"  # ours sit in templates/supply/: one app may hold other services' templates too
ASSETS = "/supply-assets"
DESK = "/supply"
LOGIN = f"{DESK}/login"
CSRF_FIELD = "csrf_token"
PUBLIC = {"exclude_from_auth": True}  # the desk is guarded by its session, not a bearer token
CONTENT_SECURITY_POLICY = ResponseHeader(
    name="Content-Security-Policy",
    value="default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; "
    "base-uri 'none'",
)
CSV = "text/csv; charset=utf-8"
BOM = "\ufeff"  # so a spreadsheet opens the manifest's Chinese names as UTF-8
PRICE_TIERS = 3  # rows of the quote form's price table
CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")

# What a person reads of a field the API names.
FIELD_LABELS: Mapping[str, str] = {
    "sku": N_("Item"),
    "moq": N_("Minimum order"),
    "capacity": N_("Capacity"),
    "lead_time_days": N_("Lead time"),
    "quality": N_("Quality"),
    "fixed_cents": N_("Set-up fee"),
    "reserve_cents": N_("Reserve fee"),
    "price_tiers": N_("Price tiers"),
    "shipping_cents": N_("Shipping"),
    "valid_until": N_("Valid until"),
    "reason": N_("Reason"),
    "quantity": N_("Quantity"),
    "lot_number": N_("Lot number"),
    "quality_passed": N_("Quality check"),
    "carrier": N_("Carrier"),
    "tracking_number": N_("Tracking number"),
}
# What is wrong with a field, in the supplier's words (pydantic's own messages are English).
FIELD_PROBLEMS: Mapping[str, str] = {
    "capacity": N_("must be at least the minimum order"),
    "price_tiers": N_("the first tier starts at or below the minimum order, and each next one higher"),
    "shipping_cents": N_("only to regions you deliver to, in amounts small enough to stay exact"),
    "valid_until": N_("must be a day in the future"),
    "sku": N_("this RFQ does not ask for it"),
}


class LoginRequired(Exception):
    """A desk page asked for without a current supplier session."""


class FormRefused(Exception):
    """A desk form without its session's CSRF token: not sent from our own page, or from an ended session."""


@dataclass(frozen=True)
class DeskUser:
    """The supplier logged in, as its session keeps it."""

    supplier_id: UUID
    name: str
    api_key: str


@dataclass(frozen=True)
class Peers:
    """The matching and fulfilment APIs, asked with the supplier's own key (in process when the stack is embedded,
    by URL when distributed)."""

    settings: SuppliersSettings

    @asynccontextmanager
    async def matching(self, user: DeskUser) -> AsyncIterator[MatchingClient]:
        async with peer_client(self.settings, "matching") as http:
            yield MatchingClient(http, api_key=user.api_key)

    @asynccontextmanager
    async def fulfilment(self, user: DeskUser) -> AsyncIterator[FulfilmentClient]:
        async with peer_client(self.settings, "fulfilment") as http:
            yield FulfilmentClient(http, api_key=user.api_key)


class FailedLogins:
    """At most `allowed` failed logins from one address per 15 minutes (in this process's memory): guessing keys
    gets nowhere, a supplier's typo costs nothing."""

    def __init__(self, allowed: int) -> None:
        self.limit = parse(f"{allowed}/15 minutes")
        self.window = MovingWindowRateLimiter(MemoryStorage())

    async def blocked(self, address: str) -> bool:
        return not await self.window.test(self.limit, "supply-login", address)

    async def failed(self, address: str) -> None:
        await self.window.hit(self.limit, "supply-login", address)


DeskPeers = NamedDependency[Peers]


def routes(settings: SuppliersSettings) -> list[Any]:
    """The desk (behind its session) and its stylesheet."""
    sessions = CookieBackendConfig(
        secret=settings.session_key(),
        key="fs_supply",
        path=DESK,
        max_age=settings.desk_session_hours * 3600,
        httponly=True,
        secure=settings.secure_cookies,
        samesite="lax",
    )
    peers, failed_logins = Peers(settings), FailedLogins(settings.desk_login_failures)
    desk = Router(
        path=DESK,
        route_handlers=[DeskLogin, RfqPages, AwardPages, ProductionPages, ScorecardPage],
        dependencies={
            "peers": Provide(lambda: peers, sync_to_thread=False),
            "failed_logins": Provide(lambda: failed_logins, sync_to_thread=False),
        },
        middleware=[DefineMiddleware(_session_middleware, config=sessions)],
        exception_handlers={LoginRequired: _to_login, FormRefused: _refused},
        opt=PUBLIC,
        include_in_schema=False,
        # What a supplier sees is not for shared caches, nor for the browser's back button after a logout.
        cache_control=CacheControlHeader(no_store=True),
        response_headers=[
            CONTENT_SECURITY_POLICY,
            ResponseHeader(name="X-Content-Type-Options", value="nosniff"),
            ResponseHeader(name="Referrer-Policy", value="same-origin"),
        ],
    )
    assets = create_static_files_router(
        path=ASSETS,
        directories=[HERE / "static"],
        include_in_schema=False,
        opt=PUBLIC,
        cache_control=CacheControlHeader(max_age=600, public=True),
    )
    return [desk, assets]


# --- sessions, forms and answers ---


def _session_middleware(app: ASGIApp, config: CookieBackendConfig) -> SessionMiddleware[Any]:
    # Built per app from the config: a router is deep-copied when registered, and the backend's cipher cannot be.
    return SessionMiddleware(app=app, backend=ClientSideSessionBackend(config=config))


def _to_login(request: Request[Any, Any, Any], exc: LoginRequired) -> Response[Any]:
    return Redirect(LOGIN, status_code=303)


def _refused(request: Request[Any, Any, Any], exc: FormRefused) -> Response[Any]:
    return _message(
        _("Form refused"),
        _("This form has expired or did not come from the desk. Go back, reload the page and try again."),
        403,
    )


def _message(title: str, message: str, status_code: int) -> Template:
    return Template(
        template_name="supply/message.html", context={"title": title, "message": message}, status_code=status_code
    )


def _database(state: State) -> Database:
    return state[database_key(SERVICE)]


async def desk_only(connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler) -> None:
    """A session whose key still belongs to its supplier (a revoked key ends it) and that no logout has ended."""
    current = False
    session = connection.session
    if {"supplier_id", "key", "since"} <= session.keys():
        supplier_id = UUID(session["supplier_id"])
        since = datetime.fromisoformat(session["since"])
        async with _database(connection.app.state).transaction() as db:
            key_holder = await services.supplier_for_api_key(db, session["key"])
            current = key_holder == supplier_id and await services.desk_session_is_current(db, supplier_id, since)
    if not current:
        connection.clear_session()
        raise LoginRequired


def _user(request: Request[Any, Any, Any]) -> DeskUser:
    session = request.session
    return DeskUser(supplier_id=UUID(session["supplier_id"]), name=session["name"], api_key=session["key"])


def _csrf_token(request: Request[Any, Any, Any]) -> str:
    """The session's token for its forms, made with the session (an anonymous one for the login form)."""
    token = request.session.get("csrf")
    if not token:
        token = secrets.token_urlsafe(32)
        request.set_session({**request.session, "csrf": token})
    return token


async def _form(request: Request[Any, Any, Any]) -> dict[str, str]:
    """The posted form's fields, once its CSRF token is the session's."""
    form = await request.form()
    expected = request.session.get("csrf")
    sent = str(form.get(CSRF_FIELD, ""))
    if not expected or not hmac.compare_digest(sent.encode(), str(expected).encode()):
        raise FormRefused
    # Printable text only, as the API takes: a NUL is refused by PostgreSQL.
    return {name: CONTROL_CHARACTERS.sub("", str(value)).strip() for name, value in form.items()}


def _tell(request: Request[Any, Any, Any], message: str) -> None:
    """A message for the next page (the one a form's post redirects to)."""
    request.set_session({**request.session, "flash": message})


def _told(request: Request[Any, Any, Any]) -> str | None:
    message = request.session.get("flash")
    if message is not None:
        request.set_session({key: value for key, value in request.session.items() if key != "flash"})
    return message


async def _page(
    request: Request[Any, Any, Any],
    name: str,
    context: Mapping[str, Any],
    *,
    section: str,
    session: AsyncSession | None = None,
    status_code: int = 200,
) -> Template:
    """A desk page; `session` is the handler's open transaction, if it has one (SQLite takes one writer at once)."""
    if session is None:
        async with _database(request.app.state).transaction() as own:
            regions = await _region_names(own)
    else:
        regions = await _region_names(session)
    return Template(
        template_name=f"supply/{name}",
        context={
            "user": _user(request),
            "csrf_token": _csrf_token(request),
            "flash": _told(request),
            "section": section,
            "regions": regions,
            **context,
        },
        status_code=status_code,
    )


async def _region_names(session: AsyncSession) -> dict[str, str]:
    """Region codes as people name them (Chinese allowed)."""
    return {region.code: region.name for region in await services.list_regions(session)}


def _field_label(field: str) -> str:
    head = field.split(".")[0]
    return _(FIELD_LABELS[head]) if head in FIELD_LABELS else head


def _field_problem(field: str) -> str:
    head = field.split(".")[0]
    problem = _(FIELD_PROBLEMS[head]) if head in FIELD_PROBLEMS else _("please check this value")
    return _("%(field)s: %(problem)s", field=_field_label(field), problem=problem)


def _refusal(exc: Exception) -> str:
    """A service's refusal in the supplier's words."""
    if isinstance(exc, httpx.HTTPStatusError):
        status = exc.response.status_code
        if status == 409:
            return _("Not done: it was answered already, its deadline has passed, or it is not at that step.")
        if status == 404:
            return _("Not found: it no longer exists, or it is not yours.")
        if status == 400:
            try:
                fields = [str(error["field"]) for error in exc.response.json().get("errors", [])]
            except (ValueError, KeyError, TypeError, AttributeError):
                fields = []
            if fields:
                return "; ".join(_field_problem(field) for field in fields)
        return _("Not done: the service refused it (%(status)s).", status=status)
    if isinstance(exc, PeerUnavailable):
        return _("The service is busy or unreachable just now. Please try again in a minute.")
    if isinstance(exc, ReplyDeadlinePassed):
        return _("Not sent: the reply deadline has passed.")
    if isinstance(exc, InvalidField):
        return _field_problem(exc.field)
    if isinstance(exc, NotFound):
        return _("Not found: it no longer exists, or it is not yours.")
    raise exc


def _whole(fields: Mapping[str, str], name: str, errors: list[str]) -> int | None:
    text = fields.get(name, "")
    if not re.fullmatch(r"\d{1,12}", text):
        errors.append(_("%(field)s: please give a whole number", field=_field_label(name)))
        return None
    return int(text)


def cents_of(text: str) -> int | None:
    """An amount typed in yuan ("12.50") as exact fen (1250), or None when it is not one: no float on the way."""
    try:
        amount = Decimal(text.strip())
        cents = amount * 100
    except DecimalException:  # not a number, or one too large to scale
        return None
    if not amount.is_finite() or amount < 0 or cents != cents.to_integral_value() or cents > 10**12:
        return None
    return int(cents)


def _money(fields: Mapping[str, str], name: str, field: str, errors: list[str]) -> int | None:
    cents = cents_of(fields.get(name, ""))
    if cents is None:
        errors.append(_("%(field)s: please give an amount in yuan, such as 12.50", field=_field_label(field)))
    return cents


def end_of_local_day(day: date) -> datetime:
    """The last moment of a day in the community's time zone, in UTC: a quote "valid until" a day holds all of it."""
    return datetime.combine(day + timedelta(days=1), time(), ZoneInfo(current_time_zone())).astimezone(UTC) - timedelta(
        seconds=1
    )


def quote_from_form(fields: Mapping[str, str]) -> tuple[QuoteCreate | None, list[str]]:
    """The quote a form asks for, or what to correct: amounts in yuan, a price table, shipping per region, and the
    last day the terms hold."""
    errors: list[str] = []
    terms: dict[str, Any] = {"sku": fields.get("sku", "")}
    for name in ("moq", "capacity", "lead_time_days", "quality"):
        terms[name] = _whole(fields, name, errors)
    terms["fixed_cents"] = _money(fields, "fixed_yuan", "fixed_cents", errors)
    terms["reserve_cents"] = _money(fields, "reserve_yuan", "reserve_cents", errors)
    tiers = []
    for row in range(PRICE_TIERS):
        minimum, price = fields.get(f"tier_min_{row}", ""), fields.get(f"tier_price_{row}", "")
        if not minimum and not price:
            continue
        unit_cents = cents_of(price)
        if not re.fullmatch(r"\d{1,12}", minimum) or unit_cents is None:
            errors.append(_("Price tiers: each row needs a quantity and a unit price in yuan"))
            continue
        tiers.append({"min_quantity": int(minimum), "unit_cents": unit_cents})
    if not tiers:
        errors.append(_("Price tiers: give at least one unit price"))
    terms["price_tiers"] = tiers
    shipping: dict[str, int] = {}
    for name, value in fields.items():
        if name.startswith("ship_") and value:
            cents = cents_of(value)
            if cents is None:
                errors.append(_("Shipping: please give amounts in yuan, such as 3.00"))
            else:
                shipping[name.removeprefix("ship_")] = cents
    if not shipping:
        errors.append(_("Shipping: give the cost to at least one region"))
    terms["shipping_cents"] = shipping
    try:
        terms["valid_until"] = end_of_local_day(date.fromisoformat(fields.get("valid_until", "")))
    except ValueError:
        errors.append(_field_problem("valid_until"))
    if errors:
        return None, errors
    try:
        return QuoteCreate.model_validate(terms), []
    except ValidationError as invalid:
        fields_at_fault = dict.fromkeys(str(error["loc"][0]) for error in invalid.errors() if error["loc"])
        return None, [_field_problem(field) for field in fields_at_fault]


# --- logging in and out ---


class DeskLogin(Controller):
    path = "/"

    @get("/login")
    async def login_form(self, request: Request[Any, Any, Any]) -> Response[Any]:
        if "supplier_id" in request.session:
            return Redirect(DESK, status_code=303)
        return _login_page(request)

    @post("/login", status_code=303)
    async def login(
        self, request: Request[Any, Any, Any], transaction: Transaction, failed_logins: NamedDependency[FailedLogins]
    ) -> Response[Any]:
        form = await _form(request)
        address = request.client.host if request.client else "unknown"
        if await failed_logins.blocked(address):
            return _login_page(
                request, message=_("Too many wrong keys from here. Please wait 15 minutes."), status_code=429
            )
        api_key = form.get("api_key", "")
        supplier_id = await services.supplier_for_api_key(transaction, api_key) if len(api_key) <= 200 else None
        if supplier_id is None:
            await failed_logins.failed(address)
            return _login_page(
                request,
                message=_("This key is not known or no longer valid. Check it and try again."),
                status_code=401,
            )
        supplier = await services.get_supplier(transaction, supplier_id)
        # A new session, with a new CSRF token: nothing from before the login carries over.
        request.set_session(
            {
                "supplier_id": str(supplier_id),
                "name": supplier.name,
                "key": api_key,
                "csrf": secrets.token_urlsafe(32),
                "since": datetime.now(UTC).isoformat(),
            }
        )
        return Redirect(DESK, status_code=303)

    @post("/logout", status_code=303)
    async def logout(self, request: Request[Any, Any, Any], transaction: Transaction) -> Response[Any]:
        await _form(request)
        if "supplier_id" in request.session:  # every copy of this cookie ends too, not just the browser's
            await services.end_desk_sessions(transaction, UUID(request.session["supplier_id"]))
        request.clear_session()
        return Redirect(LOGIN, status_code=303)


def _login_page(request: Request[Any, Any, Any], *, message: str | None = None, status_code: int = 200) -> Template:
    return Template(
        template_name="supply/login.html",
        context={"csrf_token": _csrf_token(request), "message": message},
        status_code=status_code,
    )


# --- requests for quotation ---


class RfqPages(Controller):
    """The inbox, one RFQ with its quote and decline forms, and their posts (the suppliers service's use cases)."""

    path = "/"
    guards = [desk_only]

    @get("/")
    async def inbox(self, request: Request[Any, Any, Any], transaction: Transaction) -> Template:
        rfqs = await services.list_rfqs(transaction, _user(request).supplier_id, None, 100, 0)
        return await _page(request, "inbox.html", {"rfqs": rfqs}, section="rfqs", session=transaction)

    @get("/rfqs/{rfq_id:uuid}")
    async def rfq(self, request: Request[Any, Any, Any], rfq_id: FromPath[UUID]) -> Template:
        return await _rfq_page(request, rfq_id)

    @post("/rfqs/{rfq_id:uuid}/quotes", status_code=303)
    async def quote(self, request: Request[Any, Any, Any], rfq_id: FromPath[UUID]) -> Response[Any]:
        fields = await _form(request)
        quote, errors = quote_from_form(fields)
        if quote is not None:
            try:
                async with _database(request.app.state).transaction() as session:
                    await services.submit_quote(session, _user(request).supplier_id, rfq_id, quote)
                _tell(request, _("Quote sent for %(sku)s.", sku=quote.sku))
                return Redirect(f"{DESK}/rfqs/{rfq_id}", status_code=303)
            except (InvalidField, ReplyDeadlinePassed, NotFound) as exc:
                errors = [_refusal(exc)]
        return await _rfq_page(request, rfq_id, errors=errors, sent=fields, status_code=400)

    @post("/rfqs/{rfq_id:uuid}/decline", status_code=303)
    async def decline(self, request: Request[Any, Any, Any], rfq_id: FromPath[UUID]) -> Response[Any]:
        fields = await _form(request)
        reason = fields.get("reason", "")[:500]
        if not reason:
            _tell(request, _("Not declined: please say why (the group leader reads it)."))
            return Redirect(f"{DESK}/rfqs/{rfq_id}", status_code=303)
        try:
            async with _database(request.app.state).transaction() as session:
                await services.decline_rfq(session, _user(request).supplier_id, rfq_id, RfqDecline(reason=reason))
            _tell(request, _("Declined. You may still quote until the deadline."))
        except (ReplyDeadlinePassed, NotFound) as exc:
            _tell(request, _refusal(exc))
        return Redirect(f"{DESK}/rfqs/{rfq_id}", status_code=303)


async def _rfq_page(
    request: Request[Any, Any, Any],
    rfq_id: UUID,
    *,
    errors: list[str] | None = None,
    sent: Mapping[str, str] | None = None,
    status_code: int = 200,
) -> Template:
    supplier_id = _user(request).supplier_id
    async with _database(request.app.state).transaction() as session:
        try:
            rfq = await services.get_rfq(session, rfq_id, supplier_id)
        except NotFound:
            return _message(_("Not found"), _("No such RFQ in your inbox."), 404)
        supplier = await services.get_supplier(session, supplier_id)
        offers = await services.list_offers(session, supplier_id, include_withdrawn=False, limit=None, offset=0)
    skus = list(dict.fromkeys(item.sku for item in rfq.items))
    # Each form starts from the supplier's current quote for the sku, else its standing offer, else blank.
    current = {quote.sku: quote for quote in reversed(rfq.quotes) if quote.status == "current"}
    standing = {offer.sku: OfferPublic.model_validate(offer) for offer in offers}
    forms = {sku: _quote_defaults(current.get(sku) or standing.get(sku), supplier.regions) for sku in skus}
    if sent is not None and sent.get("sku") in forms:
        forms[sent["sku"]] = dict(sent)
    return await _page(
        request,
        "rfq.html",
        {
            "rfq": rfq,
            "page_path": f"{DESK}/rfqs/{rfq_id}",  # where the language switch goes back to, after a refused post
            "accepting": is_open(rfq.reply_by, datetime.now(UTC)),
            "skus": skus,
            "forms": forms,
            "errors": errors or [],
            "error_sku": sent.get("sku") if sent else None,
            "supplier_regions": supplier.regions,
            "tiers": range(PRICE_TIERS),
        },
        section="rfqs",
        status_code=status_code,
    )


def _yuan(cents: int) -> str:
    return f"{cents // 100}.{cents % 100:02d}"


def _quote_defaults(terms: OfferTerms | None, regions: list[str]) -> dict[str, str]:
    """The quote form's fields, filled from an offer's or a quote's terms (in yuan), or blank."""
    valid_until = (datetime.now(ZoneInfo(current_time_zone())) + timedelta(days=7)).date().isoformat()
    if terms is None:
        return {"valid_until": valid_until}
    fields = {
        "moq": str(terms.moq),
        "capacity": str(terms.capacity),
        "lead_time_days": str(terms.lead_time_days),
        "quality": str(terms.quality),
        "fixed_yuan": _yuan(terms.fixed_cents),
        "reserve_yuan": _yuan(terms.reserve_cents),
        "valid_until": valid_until,
    }
    for row, tier in enumerate(terms.price_tiers[:PRICE_TIERS]):
        fields[f"tier_min_{row}"] = str(tier.min_quantity)
        fields[f"tier_price_{row}"] = _yuan(tier.unit_cents)
    for region in regions:
        if region in terms.shipping_cents:
            fields[f"ship_{region}"] = _yuan(terms.shipping_cents[region])
    return fields


# --- awards and reservations (matching's) ---


class AwardPages(Controller):
    path = "/awards"
    guards = [desk_only]

    @get("/")
    async def awards(self, request: Request[Any, Any, Any], peers: DeskPeers) -> Template:
        user = _user(request)
        try:
            async with peers.matching(user) as matching:
                awards, reservations = await matching.awards(), await matching.reservations()
        except (httpx.HTTPStatusError, PeerUnavailable) as exc:
            return _message(_("Awards"), _refusal(exc), 503)
        offer_ids = {line.offer_id for award in awards for line in award.lines}
        offer_ids |= {line.offer_id for reservation in reservations for line in reservation.lines}
        async with _database(request.app.state).transaction() as session:
            skus = await services.offer_skus(session, user.supplier_id, offer_ids)
            return await _page(
                request,
                "awards.html",
                {"awards": awards, "reservations": reservations, "skus": skus, "now": datetime.now(UTC)},
                section="awards",
                session=session,
            )

    @post("/{award_id:uuid}/accept", status_code=303)
    async def accept(
        self, request: Request[Any, Any, Any], peers: DeskPeers, award_id: FromPath[UUID]
    ) -> Response[Any]:
        await _form(request)
        try:
            async with peers.matching(_user(request)) as matching:
                await matching.accept_award(award_id)
            _tell(request, _("Award accepted: its production order follows."))
        except (httpx.HTTPStatusError, PeerUnavailable) as exc:
            _tell(request, _refusal(exc))
        return Redirect(f"{DESK}/awards", status_code=303)

    @post("/{award_id:uuid}/decline", status_code=303)
    async def decline(
        self, request: Request[Any, Any, Any], peers: DeskPeers, award_id: FromPath[UUID]
    ) -> Response[Any]:
        fields = await _form(request)
        reason = fields.get("reason", "")[:500]
        if not reason:
            _tell(request, _("Not declined: please say why."))
            return Redirect(f"{DESK}/awards", status_code=303)
        try:
            async with peers.matching(_user(request)) as matching:
                await matching.decline_award(award_id, reason)
            _tell(request, _("Award declined: the package is matched again without you."))
        except (httpx.HTTPStatusError, PeerUnavailable) as exc:
            _tell(request, _refusal(exc))
        return Redirect(f"{DESK}/awards", status_code=303)


# --- production, batches, parcels and manifests (fulfilment's) ---


class ProductionPages(Controller):
    path = "/production"
    guards = [desk_only]

    @get("/")
    async def production_orders(self, request: Request[Any, Any, Any], peers: DeskPeers) -> Template:
        try:
            async with peers.fulfilment(_user(request)) as fulfilment:
                orders = await fulfilment.production_orders()
        except (httpx.HTTPStatusError, PeerUnavailable) as exc:
            return _message(_("Production"), _refusal(exc), 503)
        return await _page(request, "production.html", {"orders": orders}, section="production")

    @get("/{production_order_id:uuid}")
    async def production_order(
        self, request: Request[Any, Any, Any], peers: DeskPeers, production_order_id: FromPath[UUID]
    ) -> Template:
        try:
            async with peers.fulfilment(_user(request)) as fulfilment:
                order = await fulfilment.production_order(production_order_id)
                shipments = await fulfilment.shipments(production_order_id)
                manifest = await fulfilment.manifest_json(production_order_id)
        except (httpx.HTTPStatusError, PeerUnavailable) as exc:
            status = exc.response.status_code if isinstance(exc, httpx.HTTPStatusError) else 503
            return _message(_("Production"), _refusal(exc), status)
        parcels: dict[UUID | None, list[Any]] = {}
        for shipment in shipments:
            parcels.setdefault(shipment.batch_id, []).append(shipment)
        return await _page(
            request,
            "production_order.html",
            {
                "order": order,
                "parcels": parcels,
                # Whom each parcel goes to, so the supplier knows which tracking number is whose.
                "manifest": {str(line["shipment_id"]): line for line in manifest},
                "batch_key": uuid4().hex,
            },
            section="production",
        )

    @post("/{production_order_id:uuid}/moves", status_code=303)
    async def move(
        self, request: Request[Any, Any, Any], peers: DeskPeers, production_order_id: FromPath[UUID]
    ) -> Response[Any]:
        fields = await _form(request)
        step = fields.get("step", "")
        if step in ("accept", "start"):
            try:
                async with peers.fulfilment(_user(request)) as fulfilment:
                    await fulfilment.move_production_order(production_order_id, step)
                _tell(request, _("Accepted.") if step == "accept" else _("Production started."))
            except (httpx.HTTPStatusError, PeerUnavailable) as exc:
                _tell(request, _refusal(exc))
        return Redirect(f"{DESK}/production/{production_order_id}", status_code=303)

    @post("/{production_order_id:uuid}/batches", status_code=303)
    async def report_batch(
        self, request: Request[Any, Any, Any], peers: DeskPeers, production_order_id: FromPath[UUID]
    ) -> Response[Any]:
        fields = await _form(request)
        errors: list[str] = []
        quantity = _whole(fields, "quantity", errors)
        lot_number = fields.get("lot_number", "")[:64]
        if not lot_number:
            errors.append(_("Lot number: please give the batch's lot number"))
        if fields.get("quality_passed") not in ("yes", "no"):
            errors.append(_("Quality check: please say whether the batch passed"))
        if errors or quantity is None:
            _tell(request, "; ".join(errors))
        else:
            try:
                async with peers.fulfilment(_user(request)) as fulfilment:
                    batch = await fulfilment.report_batch(
                        production_order_id,
                        quantity=quantity,
                        lot_number=lot_number,
                        quality_passed=fields["quality_passed"] == "yes",
                        # The form's own key: sent twice (a double tap, a resent form), the batch is reported once.
                        idempotency_key=fields.get("idempotency_key") or uuid4().hex,
                    )
                _tell(
                    request,
                    _("Batch %(lot)s reported: its parcels are ready to ship.", lot=batch.lot_number)
                    if batch.quality_passed
                    else _("Batch %(lot)s recorded as failing its check: make its units again.", lot=batch.lot_number),
                )
            except (httpx.HTTPStatusError, PeerUnavailable) as exc:
                _tell(request, _refusal(exc))
        return Redirect(f"{DESK}/production/{production_order_id}", status_code=303)

    @post("/{production_order_id:uuid}/ship", status_code=303)
    async def ship(
        self, request: Request[Any, Any, Any], peers: DeskPeers, production_order_id: FromPath[UUID]
    ) -> Response[Any]:
        """Hand the parcels given a tracking number to the carrier, all in one request (all or none)."""
        fields = await _form(request)
        carrier = fields.get("carrier", "")[:64]
        tracked = {
            name.removeprefix("tracking_"): number[:64]
            for name, number in fields.items()
            if name.startswith("tracking_") and number
        }
        if not carrier or not tracked:
            _tell(request, _("Not shipped: give the carrier and a tracking number for each parcel to send."))
            return Redirect(f"{DESK}/production/{production_order_id}", status_code=303)
        try:
            parcels = [
                ParcelShipped(shipment_id=UUID(shipment_id), carrier=carrier, tracking_number=number)
                for shipment_id, number in tracked.items()
            ]
        except ValueError:
            raise FormRefused from None  # not a form of ours
        try:
            async with peers.fulfilment(_user(request)) as fulfilment:
                shipped = await fulfilment.ship(parcels)
            count = len(shipped)
            _tell(request, ngettext("%(num)d parcel shipped.", "%(num)d parcels shipped.", count))
        except (httpx.HTTPStatusError, PeerUnavailable) as exc:
            _tell(request, _refusal(exc))
        return Redirect(f"{DESK}/production/{production_order_id}", status_code=303)

    @get("/{production_order_id:uuid}/manifest.csv")
    async def manifest_csv(
        self,
        request: Request[Any, Any, Any],
        peers: DeskPeers,
        production_order_id: FromPath[UUID],
        batch_id: FromQuery[UUID | None] = None,
    ) -> Response[Any]:
        """The courier's manifest as CSV, with a byte-order mark so spreadsheets read its Chinese as UTF-8."""
        try:
            async with peers.fulfilment(_user(request)) as fulfilment:
                text = await fulfilment.manifest_csv(production_order_id, batch_id)
        except (httpx.HTTPStatusError, PeerUnavailable) as exc:
            return _message(_("Manifest"), _refusal(exc), 404)
        return Response(
            content=text if text.startswith(BOM) else BOM + text,
            media_type=CSV,
            headers={
                "Content-Disposition": f'attachment; filename="{_manifest_name(production_order_id, batch_id)}.csv"'
            },
        )

    @get("/{production_order_id:uuid}/manifest.json")
    async def manifest_json(
        self,
        request: Request[Any, Any, Any],
        peers: DeskPeers,
        production_order_id: FromPath[UUID],
        batch_id: FromQuery[UUID | None] = None,
    ) -> Response[Any]:
        try:
            async with peers.fulfilment(_user(request)) as fulfilment:
                rows = await fulfilment.manifest_json(production_order_id, batch_id)
        except (httpx.HTTPStatusError, PeerUnavailable) as exc:
            return _message(_("Manifest"), _refusal(exc), 404)
        return Response(
            content=json.dumps(rows, ensure_ascii=False, indent=2),
            media_type="application/json; charset=utf-8",
            headers={
                "Content-Disposition": f'attachment; filename="{_manifest_name(production_order_id, batch_id)}.json"'
            },
        )


def _manifest_name(production_order_id: UUID, batch_id: UUID | None) -> str:
    return f"manifest-{production_order_id.hex[:8]}" + (f"-batch-{batch_id.hex[:8]}" if batch_id else "")


# --- the scorecard and the webhook's failures ---


class ScorecardPage(Controller):
    path = "/scorecard"
    guards = [desk_only]

    @get("/")
    async def scorecard(self, request: Request[Any, Any, Any], transaction: Transaction) -> Template:
        supplier_id = _user(request).supplier_id
        card = await services.get_scorecard(transaction, supplier_id)
        supplier = await services.get_supplier(transaction, supplier_id)
        deliveries = await services.list_webhook_deliveries(transaction, supplier_id)
        failed = [d for d in reversed(deliveries) if d.status is DeliveryStatus.FAILED][:50]
        return await _page(
            request,
            "scorecard.html",
            {"card": card, "failed_deliveries": failed, "webhook_url": supplier.webhook_url},
            section="scorecard",
            session=transaction,
        )

    @post("/deliveries/{delivery_id:uuid}/resend", status_code=303)
    async def resend(self, request: Request[Any, Any, Any], delivery_id: FromPath[UUID]) -> Response[Any]:
        """The same message again, with its webhook-id, once the supplier's endpoint is back (the API's resend)."""
        await _form(request)
        try:
            async with _database(request.app.state).transaction() as session:
                await services.resend_webhook(session, delivery_id, _user(request).supplier_id)
            _tell(request, _("Sent again, with the same webhook-id: your system can tell it is the same message."))
        except NotFound:
            _tell(request, _("Not found: it no longer exists, or it is not yours."))
        except NoWebhookUrl:
            _tell(request, _("Not sent: your account has no webhook address. Ask the operator to set one."))
        return Redirect(f"{DESK}/scorecard", status_code=303)
