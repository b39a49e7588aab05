"""The group leader's console, rendered on the server for a phone: log in with the leader key once, then run an
evening from forms (draft, sign-up, sourcing, plan, sale, statement, close) without curl.

The session lives in a signed, encrypted cookie sent to /lead only (its key derived from the operator secret, so
every process of a distributed deployment reads it); every form carries the session's CSRF token, as on the staff
board. The pages run no script: forms post and redirect, and a page with something in progress reloads itself.
Every rule is the JSON API's own: the pages call the same use cases and turn their answers and refusals into pages.
"""

import contextlib
import hashlib
import hmac
import io
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any
from uuid import UUID
from zoneinfo import ZoneInfo

import segno
from babel.support import NullTranslations
from litestar import Controller, Request, Response, Router, get, post
from litestar.connection import ASGIConnection
from litestar.datastructures import CacheControlHeader, ResponseHeader, State, UploadFile
from litestar.di import NamedDependency, Provide
from litestar.handlers.base import BaseRouteHandler
from litestar.middleware import DefineMiddleware
from litestar.middleware.session import SessionMiddleware
from litestar.middleware.session.client_side import ClientSideSessionBackend, CookieBackendConfig
from litestar.params import FromPath, PathParameter
from litestar.response import Redirect, Template
from litestar.static_files import create_static_files_router
from litestar.types import ASGIApp
from pydantic import ValidationError

from flexsupply.allocation import Problem, greedy_plan
from flexsupply.clients.suppliers import SuppliersClient
from flexsupply.contracts.errors import InvalidField, NotFound, PeerUnavailable
from flexsupply.contracts.sourcing import RoundRfq
from flexsupply.kit import auth, i18n
from flexsupply.kit.auth import Principal, Role
from flexsupply.kit.clock import utc_now
from flexsupply.kit.db import Database
from flexsupply.kit.peers import peer_client
from flexsupply.kit.service import database_key
from flexsupply.matching import awards, photos, refunds, runs, sales, services
from flexsupply.matching.deps import SERVICE
from flexsupply.matching.domain.package import InvalidTransition, NotEditable, PackageStatus
from flexsupply.matching.domain.photo import MAX_PHOTO_BYTES
from flexsupply.matching.domain.refund import InvalidRefundMove
from flexsupply.matching.domain.sale import SaleNotOnSale
from flexsupply.matching.domain.signup import SignupClosed, SignupExists
from flexsupply.matching.lead import forms
from flexsupply.matching.lead.throttle import LoginThrottle
from flexsupply.matching.models import LeaderKey, MatchRun
from flexsupply.matching.payments import decode_statement
from flexsupply.matching.schemas import (
    AwardPublic,
    LeaderOrderPublic,
    LeaderRefundPublic,
    MarketCreate,
    MatchRunPublic,
    PackageCreate,
    PackagePlanPublic,
    PackagePublic,
    RefundPaidByTransfer,
    RoundCreate,
    RoundPublic,
    SalePublic,
    SignupEntryCreate,
    SignupOpen,
    SignupPublic,
    StatementReport,
    StockPublic,
)
from flexsupply.matching.settings import MatchingSettings

HERE = Path(__file__).resolve().parent.parent
LEAD = "/lead"
LOGIN = f"{LEAD}/login"
ASSETS = "/lead-assets"
CSRF_FIELD = "csrf_token"
SESSION_HOURS = 12
PUBLIC = {"exclude_from_auth": True}  # the console is guarded by its session, not by a bearer token
CONTENT_SECURITY_POLICY = ResponseHeader(
    name="Content-Security-Policy",
    value="default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; "
    "base-uri 'none'",
)
N_ = i18n.N_
Settings = NamedDependency[MatchingSettings]
SignupToken = Annotated[str, PathParameter(min_length=1, max_length=64)]
STATUS_WORDS = {
    PackageStatus.DRAFT: N_("Draft"),
    PackageStatus.SOURCING: N_("Asking suppliers for quotes"),
    PackageStatus.PLANNED: N_("Planned, sale scheduled"),
    PackageStatus.ON_SALE: N_("On sale"),
    PackageStatus.CLOSED: N_("Sale closed, going ahead"),
    PackageStatus.AWARDED: N_("Suppliers awarded"),
    PackageStatus.IN_FULFILMENT: N_("Being made and delivered"),
    PackageStatus.COMPLETED: N_("Completed"),
    PackageStatus.CANCELLED: N_("Cancelled"),
}
RUN_WORDS = {
    "queued": N_("Waiting for a worker"),
    "running": N_("Matching now"),
    "planned": N_("A plan was found"),
    "infeasible": N_("No plan is possible"),
    "failed": N_("Matching failed"),
}
RFQ_WORDS = {"open": N_("Not answered yet"), "answered": N_("Quoted"), "expired": N_("Did not answer in time")}
ORDER_WORDS = {
    "placed": N_("Not paid yet"),
    "paid": N_("Paid"),
    "confirmed": N_("Confirmed"),
    "released": N_("Released (not paid in time)"),
    "cancelled": N_("Cancelled"),
    "refund_due": N_("Refund owed"),
    "refunded": N_("Refunded"),
}
# A refund's status in words: the order's (refund due) and the refund state machine's own.
REFUND_WORDS = {
    "refund_due": N_("Refund owed"),
    "refunded": N_("Refunded"),
    "owed": N_("Refund owed"),
    "requested": N_("Refund requested"),
    "succeeded": N_("Refunded"),
    "failed": N_("Refund failed, tried again by itself"),
}
AWARD_WORDS = {
    "offered": N_("Offered, waiting for the supplier's answer"),
    "accepted": N_("Accepted: being made"),
    "declined": N_("Declined: matched again without them"),
    "expired": N_("Not answered in time: matched again without them"),
    "withdrawn": N_("Withdrawn by a new plan"),
}
# From the close on: what was awarded to whom, and whether they make it.
AWARDING = frozenset(
    {PackageStatus.CLOSED, PackageStatus.AWARDED, PackageStatus.IN_FULFILMENT, PackageStatus.COMPLETED}
)
BAD_KEY = N_("This leader key is not valid. Ask your operator for a new one.")
TOO_MANY = N_("Too many failed logins from here. Wait a quarter of an hour and try again.")
REFUSED = {
    InvalidTransition: N_("This step is not possible at the package's status now."),
    NotEditable: N_("Only a draft can change: sourcing has started."),
    SignupExists: N_("The sign-up is already open."),
    SignupClosed: N_("The sign-up is closed."),
    runs.NothingToMatch: N_("Nothing is waiting for a plan."),
    SaleNotOnSale: N_("The sale is not on."),
    NotFound: N_("Not found."),
    PeerUnavailable: N_("The suppliers' catalogue cannot be reached now. Try again in a minute."),
    InvalidRefundMove: N_("This refund goes back through WeChat Pay, or is already paid with another reference."),
}
# A refused step is shown on the page, never a 500 or a problem document.
REFUSALS = (InvalidField, ValidationError, *REFUSED)


class LoginRequired(Exception):
    """A console page asked for without a leader's session."""


class FormRefused(Exception):
    """A console form without its session's CSRF token: not sent from our own page, or from an ended session."""


def session_key(settings: MatchingSettings) -> bytes:
    """The console cookies' 32-byte AES-GCM key, from the operator secret every process shares."""
    return hmac.new(settings.require_operator_token().encode(), b"flexsupply leader console", hashlib.sha256).digest()


def routes(settings: MatchingSettings) -> list[Any]:
    """The console (behind its session), the members' sign-up page and the console's stylesheet."""
    sessions = CookieBackendConfig(
        secret=session_key(settings),
        key="fs_lead",
        path=LEAD,
        max_age=SESSION_HOURS * 3600,
        httponly=True,
        secure=settings.secure_cookies,
        samesite="lax",
    )
    throttle = LoginThrottle()  # one per app: its counts are this process's
    console = Router(
        path=LEAD,
        route_handlers=[LeadLogin, LeadPages],
        dependencies={"login_throttle": Provide(lambda: throttle, use_cache=True, sync_to_thread=False)},
        middleware=[DefineMiddleware(_session_middleware, config=sessions)],
        exception_handlers={LoginRequired: _to_login, FormRefused: _refused},
        opt=PUBLIC,
        include_in_schema=False,
        cache_control=CacheControlHeader(no_store=True),
        response_headers=[CONTENT_SECURITY_POLICY, ResponseHeader(name="Referrer-Policy", value="same-origin")],
    )
    assets = create_static_files_router(
        path=ASSETS,
        directories=[HERE / "static"],
        include_in_schema=False,
        opt=PUBLIC,
        cache_control=CacheControlHeader(max_age=600, public=True),
    )
    return [console, SignupPages, assets]


# --- sessions, forms, messages ---


def _session_middleware(app: ASGIApp, config: CookieBackendConfig) -> SessionMiddleware[Any]:
    # Built per app from the config: a router is deep-copied when registered, and the backend's cipher cannot be.
    return SessionMiddleware(app=app, backend=ClientSideSessionBackend(config=config))


def _to_login(_: Request[Any, Any, Any], __: LoginRequired) -> Response[Any]:
    return Redirect(LOGIN, status_code=303)


def _refused(request: Request[Any, Any, Any], __: FormRefused) -> Response[Any]:
    t = _translator()
    return Template(
        template_name="lead/message.html",
        context={
            "title": t.gettext("Form refused"),
            "message": t.gettext("This form has expired. Go back, reload the page and try again."),
        },
        status_code=403,
    )


def _database(state: State) -> Database:
    return state[database_key(SERVICE)]


def _translator() -> NullTranslations:
    """The request's catalogue (kit.i18n's middleware chose the language)."""
    return i18n.translator(i18n.current_locale())


def _zone() -> ZoneInfo:
    """The community's time zone, in which forms are read and times shown."""
    return ZoneInfo(i18n.current_time_zone())


async def leader_only(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    """A session whose leader key has not been revoked since the login."""
    current = False
    if "key_id" in connection.session:
        async with _database(connection.app.state).transaction() as session:
            key = await session.get(LeaderKey, UUID(connection.session["key_id"]))
            current = key is not None and key.revoked_at is None
    if not current:
        connection.clear_session()
        raise LoginRequired


def _leader(request: Request[Any, Any, Any]) -> Principal:
    return Principal(
        Role.LEADER, leader_id=UUID(request.session["leader_id"]), community_id=UUID(request.session["community_id"])
    )


def _csrf_token(request: Request[Any, Any, Any]) -> str:
    token = request.session.get("csrf")
    if not token:
        token = secrets.token_urlsafe(32)
        request.set_session({**request.session, "csrf": token})
    return token


async def _form(request: Request[Any, Any, Any]) -> tuple[dict[str, str], dict[str, UploadFile]]:
    """The posted form's text fields and files, once its CSRF token is the session's."""
    form = await request.form()
    expected = request.session.get("csrf")
    sent = str(form.get(CSRF_FIELD, ""))
    if not expected or not hmac.compare_digest(sent.encode(), str(expected).encode()):
        raise FormRefused
    files = {name: value for name, value in form.items() if isinstance(value, UploadFile)}
    fields = {name: str(value) for name, value in form.items() if not isinstance(value, UploadFile)}
    if any(re.search(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]", value) for value in fields.values()):
        raise InvalidField("form", "text may not contain control characters")
    return fields, files


def _tell(request: Request[Any, Any, Any], message: str) -> None:
    """A message for the page a form's post redirects to."""
    request.set_session({**request.session, "flash": message})


def _told(request: Request[Any, Any, Any]) -> str | None:
    message = request.session.get("flash")
    if message is not None:
        request.set_session({key: value for key, value in request.session.items() if key != "flash"})
    return message


def refusal_text(t: NullTranslations, exc: Exception) -> str:
    """A refusal in the leader's language: the field's label and why, or what the step's refusal means."""
    if isinstance(exc, InvalidField):
        label = t.gettext(forms.FIELD_LABELS[exc.field]) if exc.field in forms.FIELD_LABELS else exc.field
        return t.gettext("Please check %(field)s: %(why)s") % {"field": label, "why": t.gettext(exc.message)}
    if isinstance(exc, ValidationError):
        names = []
        for error in exc.errors():
            name = str(error["loc"][0]) if error.get("loc") else ""
            label = t.gettext(forms.FIELD_LABELS[name]) if name in forms.FIELD_LABELS else name
            if label not in names:
                names.append(label)
        return t.gettext("Please check: %(fields)s") % {"fields": t.gettext(", ").join(names)}
    for kind, message in REFUSED.items():
        if isinstance(exc, kind):
            return t.gettext(message)
    raise exc


def _page(request: Request[Any, Any, Any], name: str, context: Mapping[str, Any], status_code: int = 200) -> Template:
    return Template(
        template_name=f"lead/{name}",
        context={
            "leader_name": request.session.get("leader_name"),
            "community_name": request.session.get("community_name"),
            "csrf_token": _csrf_token(request),
            "flash": _told(request),
            "status_words": STATUS_WORDS,
            **context,
        },
        status_code=status_code,
    )


def _base_url(request: Request[Any, Any, Any]) -> str:
    return str(request.base_url).rstrip("/")


async def region_names(settings: Settings) -> dict[str, str]:
    """Region code -> the name people read (Chinese, as the operator named it)."""
    async with peer_client(settings, "suppliers") as http:
        return await SuppliersClient(http, attempts=2).regions()


# --- logging in and out ---


class LeadLogin(Controller):
    path = "/"

    @get("/login")
    async def login_form(self, request: Request[Any, Any, Any]) -> Response[Any]:
        if "key_id" in request.session:
            return Redirect(LEAD, status_code=303)
        return _login_page(request)

    @post("/login", status_code=303)
    async def login(
        self, request: Request[Any, Any, Any], state: State, login_throttle: NamedDependency[LoginThrottle]
    ) -> Response[Any]:
        fields, _ = await _form(request)
        t = _translator()
        address = request.client.host if request.client else "unknown"
        if not login_throttle.allows(address):
            return _login_page(request, message=t.gettext(TOO_MANY), status_code=429)
        key = fields.get("key", "").strip()
        parsed = auth.parse_api_key(key, auth.LEADER_KEY_PREFIX)
        async with _database(state).transaction() as session:
            leader = await services.leader_for_api_key(session, key) if parsed else None
            me = await services.leader_me(session, leader.id) if leader else None
        if parsed is None or leader is None or me is None:
            login_throttle.failed(address)
            return _login_page(request, message=t.gettext(BAD_KEY), status_code=401)
        login_throttle.succeeded(address)
        # A new session, with a new CSRF token: nothing from before the login carries over.
        request.set_session(
            {
                "key_id": str(parsed[0]),
                "leader_id": str(leader.id),
                "community_id": str(leader.community_id),
                "leader_name": leader.name,
                "community_name": me.community_name,
                "csrf": secrets.token_urlsafe(32),
            }
        )
        return Redirect(LEAD, status_code=303)

    @post("/logout", status_code=303)
    async def logout(self, request: Request[Any, Any, Any]) -> Response[Any]:
        await _form(request)
        request.clear_session()
        return Redirect(LOGIN, status_code=303)


def _login_page(request: Request[Any, Any, Any], *, message: str | None = None, status_code: int = 200) -> Template:
    return Template(
        template_name="lead/login.html",
        context={"csrf_token": _csrf_token(request), "message": message},
        status_code=status_code,
    )


# --- what the package page shows ---


@dataclass
class PlanView:
    plan: PackagePlanPublic
    supplier_names: dict[UUID, str]
    greedy_saving_cents: int | None


@dataclass
class PackageView:
    package: PackagePublic
    regions: dict[str, str]
    signup: SignupPublic | None = None
    sourcing_round: RoundPublic | None = None
    rfqs: list[tuple[str, RoundRfq]] | None = None
    run: MatchRunPublic | None = None
    plan: PlanView | None = None
    sale: SalePublic | None = None
    stock: StockPublic | None = None
    orders: list[LeaderOrderPublic] = field(default_factory=list)
    refunds: list[LeaderRefundPublic] = field(default_factory=list)
    awards: list[AwardPublic] = field(default_factory=list)
    supplier_names: dict[UUID, str] = field(default_factory=dict)

    @property
    def working(self) -> bool:
        """Something moves without the leader: the page reloads itself until it settles."""
        queued = self.run is not None and self.run.status in ("queued", "running")
        # Until the suppliers service has sent the RFQs; then the leader reloads (a form being typed is not lost).
        asking = self.package.status is PackageStatus.SOURCING and self.rfqs is None
        return queued or asking


def greedy_saving(run: MatchRun) -> int | None:
    """What the plan saves against the greedy rule (each region from the cheapest offer left), on the run's own
    problem; None when the greedy rule finds no plan, or the run none."""
    if run.problem is None or run.total_cents is None:
        return None
    greedy = greedy_plan(Problem.model_validate(run.problem))
    if greedy is None or greedy.total_cents is None:
        return None
    return greedy.total_cents - run.total_cents


async def package_view(database: Database, settings: Settings, package_id: UUID, leader: Principal) -> PackageView:
    """Everything the package page shows: the database first (one transaction), then the suppliers service (none
    held across the calls)."""
    community_id = leader.require_leader()
    async with database.transaction() as session:
        package = await services.get_package(session, package_id, community_id)
        view = PackageView(package=services.package_public(package), regions={})
        with contextlib.suppress(NotFound):  # no sign-up opened
            view.signup = await services.signup_for_leader(session, package_id, community_id)
        plan_run: MatchRun | None = None
        if package.round_id is not None:
            view.sourcing_round = await services.get_round(session, package.round_id, community_id)
            latest = await runs.round_runs(session, package.round_id)
            view.run = runs.run_public(latest[0]) if latest else None
        if package.plan_run_id is not None:
            plan_run = await session.get(MatchRun, package.plan_run_id)
            plan = await runs.current_plan(session, package)
            view.plan = PlanView(plan, {}, greedy_saving(plan_run) if plan_run else None)
        if package.status not in (PackageStatus.DRAFT, PackageStatus.SOURCING):
            view.sale = await sales.sale_view(session, package_id)
            view.orders = await sales.package_orders(session, package_id, community_id, 500, 0)
            view.refunds = await refunds.package_refunds(session, package_id, community_id)
        if package.status in AWARDING:
            view.awards = (await awards.package_awards_view(session, package_id, community_id)).awards
    if view.sale is not None and view.package.status is PackageStatus.ON_SALE:
        view.stock = await sales.stock(database, package_id)
    try:
        async with peer_client(settings, "suppliers") as http:
            suppliers = SuppliersClient(http, attempts=2)
            view.regions = await suppliers.regions()
            named: dict[UUID, str] = {}
            if view.sourcing_round is not None:
                try:
                    asked = await suppliers.round_rfqs(view.sourcing_round.id)
                except Exception:
                    asked = None
                if asked is not None:
                    view.rfqs = []
                    for rfq in asked.rfqs:
                        named.setdefault(rfq.supplier_id, await suppliers.supplier_name(rfq.supplier_id))
                        view.rfqs.append((named[rfq.supplier_id], rfq))
            ids = {award.supplier_id for award in view.awards}
            if view.plan is not None:
                ids |= {line.supplier_id for line in view.plan.plan.allocations}
                ids |= {line.supplier_id for line in view.plan.plan.reserves}
            for supplier_id in ids:
                named.setdefault(supplier_id, await suppliers.supplier_name(supplier_id))
            view.supplier_names = named
            if view.plan is not None:
                view.plan.supplier_names = named
    except PeerUnavailable:
        pass  # the page shows codes and ids instead of names
    return view


def signup_announcement(t: NullTranslations, locale: str, view: PackageView, link: str) -> str:
    package, signup = view.package, view.signup
    assert signup is not None
    text = t.gettext("[Sign-up] %(name)s") % {"name": package.display_name or package.title}
    lines = [text]
    if package.description:
        lines.append(package.description)
    lines.append(t.gettext("Sign up on this page (name, phone, region, how many): %(link)s") % {"link": link})
    lines.append(t.gettext("At most %(max)s per person.") % {"max": signup.per_person_max})
    if signup.closes_at is not None:
        when = i18n.format_local_time(signup.closes_at, locale=locale, format="short")
        lines.append(t.gettext("Sign-up closes %(when)s.") % {"when": when})
    return "\n".join(lines)


def sale_announcement(t: NullTranslations, locale: str, sale: SalePublic, link: str) -> str:
    price = i18n.format_money(sale.unit_price_cents, currency=sale.currency, locale=locale)
    opens = i18n.format_local_time(sale.opens_at, locale=locale, format="short")
    closes = i18n.format_local_time(sale.closes_at, locale=locale, format="short")
    lines = [
        t.gettext("[Group buy] %(name)s, %(price)s each") % {"name": sale.display_name or sale.title, "price": price},
        t.gettext("On sale from %(opens)s to %(closes)s.") % {"opens": opens, "closes": closes},
        t.gettext("Order here: %(link)s") % {"link": link},
        t.gettext("It goes ahead when %(threshold)s are sold; at most %(limit)s per person.")
        % {"threshold": sale.threshold_units, "limit": sale.per_buyer_limit},
    ]
    return "\n".join(lines)


# --- the console ---


class LeadPages(Controller):
    path = "/"
    guards = [leader_only]

    @get("/")
    async def packages(self, request: Request[Any, Any, Any], state: State) -> Template:
        """The leader's packages, newest first, each with where it stands in words."""
        async with _database(state).transaction() as session:
            found = await services.list_packages(session, _leader(request).require_leader(), None, 200, 0)
        now = utc_now()
        schedulable = [p for p in found if p.status in (PackageStatus.PLANNED, PackageStatus.ON_SALE)]
        return _page(
            request,
            "packages.html",
            {
                "packages": list(reversed(found)),
                "schedulable": schedulable,
                "market_starts": forms.utc_to_local_input(
                    min((p.sale_opens_at for p in schedulable), default=now), _zone()
                ),
                "market_ends": forms.utc_to_local_input(
                    max((p.sale_closes_at for p in schedulable), default=now), _zone()
                ),
            },
        )

    @post("/markets", status_code=303)
    async def market(self, request: Request[Any, Any, Any], state: State) -> Response[Any]:
        """A market evening of the chosen packages (their sale windows make its running order)."""
        form = await request.form()
        fields, _ = await _form(request)
        t, leader = _translator(), _leader(request)
        try:
            chosen = [UUID(str(value)) for value in form.getall("package_ids", [])]
            data = MarketCreate(
                title=fields.get("title", ""),
                starts_at=forms.local_to_utc(fields.get("starts_at", ""), "starts_at", _zone()),
                ends_at=forms.local_to_utc(fields.get("ends_at", ""), "ends_at", _zone()),
                package_ids=chosen,
            )
            async with _database(state).transaction() as session:
                market = await sales.create_market(session, data, leader.require_leader(), leader.actor)
        except ValueError as exc:  # a tampered id, or the form's or the use case's refusal
            _tell(request, refusal_text(t, exc) if isinstance(exc, REFUSALS) else t.gettext(forms.REQUIRED))
            return Redirect(LEAD, status_code=303)
        link = f"{_base_url(request)}/market/{market.id}"
        _tell(request, t.gettext("The market evening is scheduled: %(link)s") % {"link": link})
        return Redirect(LEAD, status_code=303)

    @get("/packages/new")
    async def draft_form(self, request: Request[Any, Any, Any], settings: Settings) -> Template:
        return await _draft_page(request, settings, {})

    @post("/packages", status_code=303, request_max_body_size=MAX_PHOTO_BYTES + 200_000)
    async def draft(self, request: Request[Any, Any, Any], state: State, settings: Settings) -> Response[Any]:
        """Draft the package from the form, then its photo (if one was chosen)."""
        fields, files = await _form(request)
        t = _translator()
        try:
            regions = await region_names(settings)
            data = PackageCreate.model_validate(forms.draft_terms(fields, regions, _zone()))
            photo = files.get("photo")
            content = await photo.read() if photo is not None and photo.filename else b""
            async with _database(state).transaction() as session:
                created = await services.create_package(session, data, _leader(request).require_leader(), regions)
                if content:
                    await photos.set_package_photo(session, created.id, created.community_id, content)
        except (InvalidField, ValidationError, PeerUnavailable) as exc:
            return await _draft_page(request, settings, fields, message=refusal_text(t, exc), status_code=400)
        _tell(request, t.gettext("The package is drafted. Next: open the sign-up."))
        return Redirect(f"{LEAD}/packages/{created.id}", status_code=303)

    @get("/packages/{package_id:uuid}")
    async def package(
        self, request: Request[Any, Any, Any], state: State, settings: Settings, package_id: FromPath[UUID]
    ) -> Template:
        """One package: its terms, the sign-up, sourcing, the plan, the sale, its orders and refunds."""
        return await _package_page(request, state, settings, package_id)

    @get("/packages/{package_id:uuid}/poster")
    async def poster(self, request: Request[Any, Any, Any], state: State, package_id: FromPath[UUID]) -> Template:
        """The sale's poster: name, price, times and a QR code of the sale link, to screenshot into the group."""
        t, locale = _translator(), i18n.current_locale()
        try:
            async with _database(state).transaction() as session:
                await services.get_package(session, package_id, _leader(request).require_leader())
                sale = await sales.sale_view(session, package_id)
        except NotFound:
            return _not_found(request)
        link = f"{_base_url(request)}/sale/{package_id}"
        return _page(
            request,
            "poster.html",
            {"sale": sale, "sale_url": link, "announcement": sale_announcement(t, locale, sale, link)},
        )

    @get("/packages/{package_id:uuid}/qr.svg", media_type="image/svg+xml")
    async def qr(self, request: Request[Any, Any, Any], state: State, package_id: FromPath[UUID]) -> Response[bytes]:
        async with _database(state).transaction() as session:
            await services.get_package(session, package_id, _leader(request).require_leader())
        svg = io.BytesIO()
        # A standalone document (with its namespace): an <img> shows nothing else.
        segno.make(f"{_base_url(request)}/sale/{package_id}", error="m").save(svg, kind="svg", scale=8, border=2)
        return Response(svg.getvalue(), media_type="image/svg+xml")

    @post("/packages/{package_id:uuid}/photo", status_code=303, request_max_body_size=MAX_PHOTO_BYTES + 100_000)
    async def photo(self, request: Request[Any, Any, Any], state: State, package_id: FromPath[UUID]) -> Response[Any]:
        _, files = await _form(request)
        photo = files.get("photo")
        content = await photo.read() if photo is not None else b""

        async def step(session: Any, leader: Principal) -> str:
            await photos.set_package_photo(session, package_id, leader.require_leader(), content)
            return N_("The photo is changed.")

        return await _act(request, state, package_id, step)

    @post("/packages/{package_id:uuid}/signup", status_code=303)
    async def open_signup(
        self, request: Request[Any, Any, Any], state: State, package_id: FromPath[UUID]
    ) -> Response[Any]:
        fields, _ = await _form(request)

        async def step(session: Any, leader: Principal) -> str:
            closes = fields.get("closes_at", "").strip()
            data = SignupOpen(
                per_person_max=forms.whole(fields.get("per_person_max", ""), "per_person_max", low=1),
                closes_at=forms.local_to_utc(closes, "closes_at", _zone()) if closes else None,
            )
            await services.open_signup(session, package_id, leader.require_leader(), data)
            return N_("The sign-up is open: share its link and the announcement in the group.")

        return await _act(request, state, package_id, step)

    @post("/packages/{package_id:uuid}/signup/adopt", status_code=303)
    async def adopt(self, request: Request[Any, Any, Any], state: State, package_id: FromPath[UUID]) -> Response[Any]:
        await _form(request)

        async def step(session: Any, leader: Principal) -> str:
            await services.adopt_signup_totals(session, package_id, leader.require_leader())
            return N_("The sign-up is closed and its totals are the package's quantities.")

        return await _act(request, state, package_id, step)

    @post("/packages/{package_id:uuid}/sourcing", status_code=303)
    async def start_sourcing(
        self, request: Request[Any, Any, Any], state: State, package_id: FromPath[UUID]
    ) -> Response[Any]:
        fields, _ = await _form(request)

        async def step(session: Any, leader: Principal) -> str:
            reply_by = forms.local_to_utc(fields.get("reply_by", ""), "reply_by", _zone())
            data = RoundCreate(package_ids=[package_id], reply_by=reply_by)
            await services.start_round(session, data, leader.require_leader(), leader.actor)
            return N_("Suppliers are asked for quotes. Their answers appear below.")

        return await _act(request, state, package_id, step)

    @post("/packages/{package_id:uuid}/match", status_code=303)
    async def match(
        self, request: Request[Any, Any, Any], state: State, settings: Settings, package_id: FromPath[UUID]
    ) -> Response[Any]:
        await _form(request)

        async def step(session: Any, leader: Principal) -> str:
            package = await services.get_package(session, package_id, leader.require_leader())
            if package.round_id is None:
                raise runs.NothingToMatch("the package has no sourcing round")
            run = await runs.request_round_run(
                session, package.round_id, leader.actor, settings.match_time_limit_seconds
            )
            if run is None:
                raise runs.NothingToMatch("nothing to match")
            return N_("Matching has started: the plan appears here in a moment.")

        return await _act(request, state, package_id, step)

    @post("/packages/{package_id:uuid}/refunds/{refund_id:uuid}/paid", status_code=303)
    async def refund_paid(
        self, request: Request[Any, Any, Any], state: State, package_id: FromPath[UUID], refund_id: FromPath[UUID]
    ) -> Response[Any]:
        """The leader paid a refund back by bank or wallet transfer: its reference settles it."""
        fields, _ = await _form(request)

        async def step(session: Any, leader: Principal) -> str:
            data = RefundPaidByTransfer.model_validate({"reference": fields.get("reference", "")})
            await refunds.record_transfer(session, refund_id, leader.require_leader(), data.reference, leader.actor)
            return N_("The refund is recorded as paid.")

        return await _act(request, state, package_id, step)

    @post("/packages/{package_id:uuid}/close", status_code=303)
    async def close(
        self, request: Request[Any, Any, Any], state: State, settings: Settings, package_id: FromPath[UUID]
    ) -> Response[Any]:
        fields, _ = await _form(request)

        async def step(session: Any, leader: Principal) -> str:
            reason = fields.get("reason", "").strip()[:1000]
            if not reason:
                raise InvalidField("reason", forms.REQUIRED)
            terms = sales.AwardTerms(settings.match_time_limit_seconds, settings.award_answer_hours)
            closed = await sales.close_sale(
                session,
                package_id,
                leader.actor,
                utc_now(),
                terms,
                community_id=leader.require_leader(),
                early_reason=reason,
            )
            if closed is None:
                raise SaleNotOnSale("not on sale")
            return (
                N_("The sale is closed: it goes ahead.")
                if closed.went_ahead
                else N_("The sale is closed: too few were sold, so the package is cancelled.")
            )

        return await _act(request, state, package_id, step)

    @post("/packages/{package_id:uuid}/statement", request_max_body_size=5_000_000)
    async def statement(
        self, request: Request[Any, Any, Any], state: State, settings: Settings, package_id: FromPath[UUID]
    ) -> Template:
        """Match a payment statement to the orders; the report (and the lines no order matched) on the page."""
        _, files = await _form(request)
        t, leader = _translator(), _leader(request)
        upload = files.get("statement")
        report: StatementReport | None = None
        message = None
        try:
            # WeChat Pay's and Alipay's bills come in GBK with Chinese headers, banks' in UTF-8: payments reads both.
            text = decode_statement(await upload.read()) if upload is not None else ""
            if not text.strip():
                raise InvalidField("statement", forms.REQUIRED)
            async with _database(state).transaction() as session:
                report = await sales.reconcile_statement(session, package_id, leader.require_leader(), text)
        except (InvalidField, NotFound) as exc:
            message = refusal_text(t, exc)
        return await _package_page(
            request, state, settings, package_id, report=report, message=message, status_code=200 if report else 400
        )


async def _act(request: Request[Any, Any, Any], state: State, package_id: UUID, step: Any) -> Response[Any]:
    """One form's use case in one transaction; its message (or the refusal's) shown on the package page."""
    t = _translator()
    try:
        async with _database(state).transaction() as session:
            message = await step(session, _leader(request))
        _tell(request, t.gettext(message))
    except REFUSALS as exc:
        _tell(request, refusal_text(t, exc))
    return Redirect(f"{LEAD}/packages/{package_id}", status_code=303)


async def _draft_page(
    request: Request[Any, Any, Any],
    settings: Settings,
    fields: Mapping[str, str],
    *,
    message: str | None = None,
    status_code: int = 200,
) -> Template:
    try:
        regions = await region_names(settings)
    except PeerUnavailable:
        regions = {}
    now = utc_now()
    defaults = {
        "sale_opens_at": forms.utc_to_local_input(now + timedelta(days=1), _zone()),
        "sale_closes_at": forms.utc_to_local_input(now + timedelta(days=2), _zone()),
        "needed_by": forms.utc_to_local_input(now + timedelta(days=10), _zone()),
        "min_quality": "0",
        "backups": "0",
        "per_buyer_limit": "5",
    }
    return _page(
        request,
        "draft.html",
        {
            "regions": regions,
            "form": defaults | dict(fields),
            "message": message,
            "quantity_prefix": forms.QUANTITY_PREFIX,
            "max_photo_mb": MAX_PHOTO_BYTES // 1_000_000,
        },
        status_code,
    )


def _not_found(request: Request[Any, Any, Any]) -> Template:
    """Another community's package reads as none at all."""
    t = _translator()
    return _page(request, "message.html", {"title": t.gettext("Not found"), "message": t.gettext("Not found.")}, 404)


async def _package_page(
    request: Request[Any, Any, Any],
    state: State,
    settings: Settings,
    package_id: UUID,
    *,
    report: StatementReport | None = None,
    message: str | None = None,
    status_code: int = 200,
) -> Template:
    t, locale = _translator(), i18n.current_locale()
    try:
        view = await package_view(_database(state), settings, package_id, _leader(request))
    except NotFound:
        return _not_found(request)
    base = _base_url(request)
    signup_url = f"{base}/signup/{view.signup.token}" if view.signup else None
    sale_url = f"{base}/sale/{package_id}"
    now = utc_now()
    return _page(
        request,
        "package.html",
        {
            "view": view,
            "package": view.package,
            "signup_url": signup_url,
            "signup_text": signup_announcement(t, locale, view, signup_url) if signup_url else None,
            "sale_url": sale_url,
            "sale_text": sale_announcement(t, locale, view.sale, sale_url) if view.sale else None,
            "run_words": RUN_WORDS,
            "rfq_words": RFQ_WORDS,
            "order_words": ORDER_WORDS,
            "refund_words": REFUND_WORDS,
            "award_words": AWARD_WORDS,
            "payable_by_transfer": ("owed", "failed"),
            "reply_by_default": forms.utc_to_local_input(now + timedelta(hours=2), _zone()),
            "report": report,
            "message": message,
        },
        status_code,
    )


# --- the members' sign-up page (no account: the link is the credential) ---


def _signup_page(
    invitation: Any,
    regions: Mapping[str, str],
    *,
    form: Mapping[str, str] | None = None,
    message: str | None = None,
    entry: Any = None,
    status_code: int = 200,
) -> Template:
    return Template(
        template_name="lead/signup.html",
        context={
            "invitation": invitation,
            "regions": regions,
            "form": dict(form or {}),
            "message": message,
            "entry": entry,
        },
        status_code=status_code,
    )


async def _invitation(state: State, settings: MatchingSettings, token: str) -> tuple[Any, dict[str, str]]:
    async with _database(state).transaction() as session:
        invitation = await services.signup_invitation(session, token)
    try:
        names = await region_names(settings)
    except PeerUnavailable:
        names = {}
    return invitation, {code: names.get(code, code) for code in invitation.regions}


SIGNUP_FIELDS = ("name", "phone", "region", "quantity")


class SignupPages(Controller):
    path = "/signup"
    include_in_schema = False
    opt = PUBLIC

    @get("/{token:str}")
    async def invitation(
        self, request: Request[Any, Any, Any], state: State, settings: Settings, token: SignupToken
    ) -> Template:
        """What is being signed up for, and the form: name, phone, region and how many."""
        try:
            invitation, regions = await _invitation(state, settings, token)
        except NotFound:
            return _missing_signup(request)
        return _signup_page(invitation, regions)

    @post("/{token:str}", status_code=200)
    async def sign_up(
        self, request: Request[Any, Any, Any], state: State, settings: Settings, token: SignupToken
    ) -> Template:
        """Sign up; the same phone again replaces its entry."""
        t = _translator()
        form = await request.form()
        fields = {name: str(form.get(name, "")).strip() for name in SIGNUP_FIELDS}
        try:
            invitation, regions = await _invitation(state, settings, token)
        except NotFound:
            return _missing_signup(request)
        try:
            data = SignupEntryCreate.model_validate(fields)
            async with _database(state).transaction() as session:
                entry, created = await services.sign_up(session, token, data)
        except (ValidationError, InvalidField, SignupClosed) as exc:
            return _signup_page(invitation, regions, form=fields, message=refusal_text(t, exc), status_code=400)
        said = t.gettext("You are signed up.") if created else t.gettext("Your entry is changed.")
        # The form keeps the entry: changing it is sending it again.
        return _signup_page(
            invitation, regions, form=fields, message=said, entry=entry, status_code=201 if created else 200
        )


def _missing_signup(request: Request[Any, Any, Any]) -> Template:
    t = _translator()
    return Template(
        template_name="lead/message.html",
        context={"title": t.gettext("Not found"), "message": t.gettext("There is no sign-up at this address.")},
        status_code=404,
    )
