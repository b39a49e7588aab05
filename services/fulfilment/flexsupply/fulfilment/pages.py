"""The fulfilment service's web pages, rendered on the server: the staff's board and the buyer's delivery page.

Staff log in with an email and a password; their session lives in an encrypted, signed cookie sent to /board only.
Every board form carries the session's CSRF token (a hidden field), so the JSON API, with its bearer tokens, needs
none. The pages run no script: forms post and redirect (the browser's back and reload send nothing twice), and a
board with a job queued reloads itself every few seconds. Every rule is the use cases' own: the pages call them and
turn their answers and refusals into pages.
"""

import hmac
import re
import secrets
from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal, DecimalException
from pathlib import Path
from typing import Annotated, Any
from uuid import UUID

from litestar import Controller, Request, Response, Router, get, post
from litestar.connection import ASGIConnection
from litestar.datastructures import CacheControlHeader, ResponseHeader, State
from litestar.di import NamedDependency, Provide
from litestar.handlers.base import BaseRouteHandler
from litestar.middleware import DefineMiddleware
from litestar.middleware.session import SessionMiddleware
from litestar.middleware.session.client_side import ClientSideSessionBackend, CookieBackendConfig
from litestar.params import FromPath, FromQuery, PathParameter
from litestar.response import Redirect, Template
from litestar.static_files import create_static_files_router
from litestar.types import ASGIApp

from flexsupply.contracts.errors import InvalidField, NotFound
from flexsupply.fulfilment import board, cases, delivery, failures, notices, production, staff
from flexsupply.fulfilment.deps import SERVICE
from flexsupply.fulfilment.domain.manifest import to_csv_file
from flexsupply.fulfilment.domain.states import CaseKind, InvalidMove, Resolution
from flexsupply.fulfilment.names import DisplayNames
from flexsupply.fulfilment.schemas import BuyerDeliveryPublic
from flexsupply.fulfilment.settings import FulfilmentSettings
from flexsupply.kit import i18n
from flexsupply.kit.clock import utc_now
from flexsupply.kit.db import Database
from flexsupply.kit.i18n import N_
from flexsupply.kit.ratelimit import RateLimited, client_address, rate_limits
from flexsupply.kit.service import Transaction, database_key
from flexsupply.kit.translated_problems import TranslatedProblems

HERE = Path(__file__).resolve().parent
TEMPLATES = HERE / "templates"  # our templates sit in templates/fulfilment/: one app may hold other services' too
ASSETS = "/fulfilment-assets"
BOARD = "/board"
LOGIN = f"{BOARD}/login"
CSRF_FIELD = "csrf_token"
# Pages carry no bearer token: the board is guarded by its session, the delivery page by its unguessable link.
PUBLIC = {"exclude_from_auth": True}
Names = NamedDependency[DisplayNames]
OrderToken = Annotated[str, PathParameter(min_length=1, max_length=64)]
# No script, no frames, no third party: the pages need nothing but their own stylesheet.
CONTENT_SECURITY_POLICY = ResponseHeader(
    name="Content-Security-Policy",
    value="default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; "
    "base-uri 'none'",
)
NO_SNIFFING = ResponseHeader(name="X-Content-Type-Options", value="nosniff")
BAD_LOGIN = N_("Wrong email or password.")
NO_PACKAGE = N_("No such package.")
NO_MANIFEST = N_("No such manifest.")
# The board's words for what a refusal names (a use case names its field as the API does).
FIELD_NAMES = {
    "refund": N_("the refund"),
    "refund_cents": N_("the refund"),
    "resolution": N_("the resolution"),
    "form": N_("the form"),
}
RESOLUTIONS = {Resolution.REFUND: N_("refund"), Resolution.RESEND: N_("resend"), Resolution.REJECT: N_("reject")}


class LoginRequired(Exception):
    """A board page asked for without a staff session."""


class FormRefused(Exception):
    """A board form without its session's CSRF token: not sent from our own page, or from an ended session."""


def routes(settings: FulfilmentSettings) -> list[Any]:
    """The board (behind its session), the buyer's delivery page and the pages' stylesheets."""
    display_names = DisplayNames(settings)
    names = Provide(lambda: display_names, use_cache=True, sync_to_thread=False)
    sessions = CookieBackendConfig(
        secret=settings.session_key(),
        key="fs_board",
        path=BOARD,
        max_age=settings.board_session_hours * 3600,
        httponly=True,
        secure=settings.secure_cookies,
        samesite="lax",
    )
    board_router = Router(
        path=BOARD,
        route_handlers=[BoardLogin, BoardPages, BoardActions],
        middleware=[DefineMiddleware(_session_middleware, config=sessions)],
        exception_handlers={LoginRequired: _to_login, FormRefused: _refused},
        dependencies={"names": names},
        opt=PUBLIC,
        include_in_schema=False,
        # What staff see is not for shared caches, nor for the browser's back button after a logout.
        cache_control=CacheControlHeader(no_store=True),
        response_headers=[
            CONTENT_SECURITY_POLICY,
            NO_SNIFFING,
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
    delivery_router = Router(path="/", route_handlers=[DeliveryPages], dependencies={"names": names})
    return [board_router, delivery_router, assets]


# --- sessions and forms ---


def _session_middleware(app: ASGIApp, config: CookieBackendConfig) -> SessionMiddleware[Any]:
    # Built per app from the config: a router is deep-copied when registered, and the cipher the backend holds
    # cannot be (so `config.middleware`, which makes the backend up front, does not do here).
    return SessionMiddleware(app=app, backend=ClientSideSessionBackend(config=config))


def _to_login(_: Request[Any, Any, Any], __: LoginRequired) -> Response[Any]:
    return Redirect(LOGIN, status_code=303)


def _refused(_: Request[Any, Any, Any], __: FormRefused) -> Response[Any]:
    return Template(
        template_name="fulfilment/board_message.html",
        context={
            "title": i18n.gettext("Form refused"),
            "message": i18n.gettext(
                "This form has expired or did not come from the board. Go back, reload the page and try again."
            ),
        },
        status_code=403,
    )


async def staff_only(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    """A session of an account that exists and has not logged out since the session began."""
    current = False
    if "staff_id" in connection.session and "since" in connection.session:
        async with _database(connection.app.state).transaction() as session:
            current = await staff.session_is_current(
                session, UUID(connection.session["staff_id"]), datetime.fromisoformat(connection.session["since"])
            )
    if not current:
        connection.clear_session()
        raise LoginRequired


def _member(request: Request[Any, Any, Any]) -> staff.StaffMember:
    session = request.session
    return staff.StaffMember(id=UUID(session["staff_id"]), email=session["email"], name=session["name"])


def _csrf_token(request: Request[Any, Any, Any]) -> str:
    """The session's token for its forms, made with the session (an anonymous one for the login form)."""
    token = request.session.get("csrf")
    if not token:
        token = secrets.token_urlsafe(32)
        request.set_session({**request.session, "csrf": token})
    return token


async def _form(request: Request[Any, Any, Any]) -> Mapping[str, str]:
    """The posted form's fields, once its CSRF token is the session's."""
    form = await request.form()
    expected = request.session.get("csrf")
    sent = str(form.get(CSRF_FIELD, ""))
    if not expected or not hmac.compare_digest(sent.encode(), str(expected).encode()):
        raise FormRefused
    fields = {name: str(value) for name, value in form.items()}
    # Printable text only, as the API takes: a NUL is refused by PostgreSQL.
    if any(re.search(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]", value) for value in fields.values()):
        raise InvalidField("form", "text may not contain control characters")
    return fields


def _tell(request: Request[Any, Any, Any], message: str) -> None:
    """A message for the next page (the one a form's post redirects to)."""
    request.set_session({**request.session, "flash": message})


def _told(request: Request[Any, Any, Any]) -> str | None:
    message = request.session.get("flash")
    if message is not None:
        request.set_session({key: value for key, value in request.session.items() if key != "flash"})
    return message


def _board_page(
    request: Request[Any, Any, Any], name: str, context: Mapping[str, Any], status_code: int = 200
) -> Template:
    return Template(
        template_name=f"fulfilment/{name}",
        context={
            "staff": _member(request),
            "csrf_token": _csrf_token(request),
            "flash": _told(request),
            **context,
        },
        status_code=status_code,
    )


def _cents(text: str) -> int:
    """An amount typed in major units ("12.50") as exact minor units (1250): no float on the way."""
    try:
        amount = Decimal(text.strip())
        cents = amount * 100
    except DecimalException:  # not a number, or one too large to scale ("1e999999999")
        raise InvalidField("refund", N_("is not an amount such as 12.50")) from None
    if not amount.is_finite() or amount < 0 or cents != cents.to_integral_value() or cents > 10**11:
        raise InvalidField("refund", N_("needs a positive amount with at most two decimals, such as 12.50"))
    return int(cents)


# --- the board ---


def _login_problem(problem: dict[str, Any]) -> dict[str, Any]:
    """A locked login (429, kit.ratelimit: "... try again in 5 s") in the request's language."""
    if problem.get("status") != 429:
        return problem
    wait = re.search(r"(\d+) s\b", str(problem.get("detail", "")))
    detail = i18n.gettext(
        "Too many failed logins: please try again in %(seconds)s seconds.", seconds=wait.group(1) if wait else 60
    )
    return problem | {"title": i18n.gettext("Too many tries"), "detail": detail}


class BoardLogin(Controller):
    path = "/"

    @get("/login")
    async def login_form(self, request: Request[Any, Any, Any]) -> Response[Any]:
        if "staff_id" in request.session:
            return Redirect(BOARD, status_code=303)
        return _login_page(request)

    @post("/login", status_code=303, middleware=[DefineMiddleware(TranslatedProblems, translate=_login_problem)])
    async def login(self, request: Request[Any, Any, Any], transaction: Transaction) -> Response[Any]:
        form = await _form(request)
        email = form.get("email", "")
        # Locked (too many wrong passwords for the account, or failed logins from the address): refused before any
        # password is hashed, so guessing costs the server nothing while it lasts.
        limits, account, address = rate_limits(request), email.strip().lower(), client_address(request)
        await limits.check_lock(limits.login_per_account, account)
        await limits.check_lock(limits.login_per_address, address)
        member = await staff.authenticate(transaction, email, form.get("password", ""))
        if member is None:
            await limits.failed(limits.login_per_account, account)
            await limits.failed(limits.login_per_address, address)
            return _login_page(request, email=email, message=i18n.gettext(BAD_LOGIN), status_code=401)
        await limits.succeeded(limits.login_per_account, account)
        # A new session, with a new CSRF token: nothing from before the login carries over.
        request.set_session(
            {
                "staff_id": str(member.id),
                "email": member.email,
                "name": member.name,
                "csrf": secrets.token_urlsafe(32),
                "since": utc_now().isoformat(),
            }
        )
        return Redirect(BOARD, status_code=303)

    @post("/logout", status_code=303)
    async def logout(self, request: Request[Any, Any, Any], transaction: Transaction) -> Response[Any]:
        await _form(request)
        if "staff_id" in request.session:  # every copy of this cookie ends too, not just the browser's
            await staff.end_sessions(transaction, UUID(request.session["staff_id"]))
        request.clear_session()
        return Redirect(LOGIN, status_code=303)


def _login_page(
    request: Request[Any, Any, Any], *, email: str = "", message: str | None = None, status_code: int = 200
) -> Template:
    return Template(
        template_name="fulfilment/login.html",
        context={"csrf_token": _csrf_token(request), "email": email, "message": message},
        status_code=status_code,
    )


class BoardPages(Controller):
    path = "/"
    guards = [staff_only]

    @get("/")
    async def packages(self, request: Request[Any, Any, Any], state: State, names: Names) -> Template:
        """Every awarded package: its progress, open exceptions and late production."""
        async with _database(state).transaction() as session:
            summaries = await board.package_summaries(session)
        # Names are asked for after the unit of work: no transaction waits on another service.
        items = {summary.package_id: await names.package(summary.package_id) for summary in summaries}
        return _board_page(request, "packages.html", {"packages": summaries, "item_names": items})

    @get("/packages/{package_id:uuid}")
    async def package(
        self, request: Request[Any, Any, Any], state: State, names: Names, package_id: FromPath[UUID]
    ) -> Template:
        """One package: production, batches, lateness, exceptions, shipments, cases and the jobs in progress."""
        try:
            async with _database(state).transaction() as session:
                shown = await board.package_board(session, package_id)
        except NotFound:
            return _not_found(request, NO_PACKAGE)
        suppliers = {line.supplier_id for line in shown.production} | {f.supplier_id for f in shown.failures}
        context = {
            "package": shown,
            "item_name": await names.package(package_id) or shown.sku,
            "supplier_names": await names.suppliers(suppliers),
            "region_names": await names.regions(),
        }
        return _board_page(request, "package.html", context)

    @get("/production-orders/{production_order_id:uuid}/manifest.csv")
    async def manifest(
        self,
        request: Request[Any, Any, Any],
        transaction: Transaction,
        production_order_id: FromPath[UUID],
        batch_id: FromQuery[UUID | None] = None,
    ) -> Response[Any]:
        """A courier's manifest of a production order's parcels, or of one batch's, as a CSV download."""
        try:
            lines = await production.manifest_lines(transaction, production_order_id, batch_id=batch_id)
        except NotFound:
            return _not_found(request, NO_MANIFEST)
        name = f"manifest-{production_order_id.hex[:8]}" + (f"-batch-{batch_id.hex[:8]}" if batch_id else "")
        return Response(
            content=to_csv_file(lines),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{name}.csv"'},
        )


def _package_page(package_id: str) -> str:
    """Where a form's post goes back to: the package it was sent from (only ever a board address)."""
    try:
        return f"{BOARD}/packages/{UUID(package_id)}"
    except ValueError:
        return BOARD


def _not_found(request: Request[Any, Any, Any], what: str) -> Template:
    return _board_page(
        request, "board_message.html", {"title": i18n.gettext("Not found"), "message": i18n.gettext(what)}, 404
    )


def _refusal(exc: Exception) -> str:
    if isinstance(exc, InvalidField):
        field = i18n.gettext(FIELD_NAMES[exc.field]) if exc.field in FIELD_NAMES else exc.field
        return i18n.gettext("Please check %(field)s: %(why)s.", field=field, why=i18n.gettext(exc.message))
    if isinstance(exc, NotFound):
        return i18n.gettext("Not done: it no longer exists.")
    # The use case's own words: staff may need its detail, which the catalogue cannot know in advance.
    return i18n.gettext("Not done: %(why)s.", why=exc)


class BoardActions(Controller):
    """The board's buttons: each a form that posts, calls one use case in its own transaction and goes back to the
    package with what happened (a refusal rolls back whatever the use case began)."""

    path = "/"
    guards = [staff_only]

    @post("/production-orders/{production_order_id:uuid}/fail", status_code=303)
    async def fail(
        self, request: Request[Any, Any, Any], state: State, production_order_id: FromPath[UUID]
    ) -> Response[Any]:
        form = await _form(request)
        reason = form.get("reason", "").strip()
        if not reason or form.get("confirm") != "yes":
            _tell(request, i18n.gettext("Not marked failed: give a reason and tick the confirmation."))
            return Redirect(_package_page(form.get("package_id", "")), status_code=303)
        try:
            async with _database(state).transaction() as session:
                failure = await failures.mark_failed(
                    session, production_order_id, actor=_member(request).actor, reason=reason[:1000]
                )
            message = i18n.gettext("Marked failed: backups are taking over %(units)s units.")
            _tell(request, message % {"units": failure.units})
        except (NotFound, InvalidMove, InvalidField) as exc:
            _tell(request, _refusal(exc))
        return Redirect(_package_page(form.get("package_id", "")), status_code=303)

    @post("/failures/{failure_id:uuid}/retry", status_code=303)
    async def retry(self, request: Request[Any, Any, Any], state: State, failure_id: FromPath[UUID]) -> Response[Any]:
        form = await _form(request)
        try:
            async with _database(state).transaction() as session:
                await failures.retry(session, failure_id, actor=_member(request).actor)
            _tell(request, i18n.gettext("The take-over is being tried again."))
        except (NotFound, InvalidMove) as exc:
            _tell(request, _refusal(exc))
        return Redirect(_package_page(form.get("package_id", "")), status_code=303)

    @post("/exceptions/{exception_id:uuid}/handle", status_code=303)
    async def handle(
        self, request: Request[Any, Any, Any], state: State, exception_id: FromPath[UUID]
    ) -> Response[Any]:
        form = await _form(request)
        try:
            async with _database(state).transaction() as session:
                await production.handle_exception(session, exception_id, actor=_member(request).actor)
            _tell(request, i18n.gettext("Exception marked handled."))
        except NotFound as exc:
            _tell(request, _refusal(exc))
        return Redirect(_package_page(form.get("package_id", "")), status_code=303)

    @post("/cases/{case_id:uuid}/resolve", status_code=303)
    async def resolve(self, request: Request[Any, Any, Any], state: State, case_id: FromPath[UUID]) -> Response[Any]:
        form = await _form(request)
        try:
            resolution = Resolution(form.get("resolution", ""))
            refund = form.get("refund", "").strip()
            refund_cents = _cents(refund) if refund else None
            note = form.get("note", "").strip()[:1000] or None
            async with _database(state).transaction() as session:
                await cases.resolve_case(
                    session,
                    case_id,
                    actor=_member(request).actor,
                    resolution=resolution,
                    refund_cents=refund_cents,
                    note=note,
                )
            _tell(
                request,
                i18n.gettext("Case resolved: %(resolution)s.", resolution=i18n.gettext(RESOLUTIONS[resolution])),
            )
        except ValueError as exc:  # InvalidField is one, as is an unknown resolution
            _tell(
                request,
                _refusal(exc) if isinstance(exc, InvalidField) else i18n.gettext("Please choose a resolution."),
            )
        except (NotFound, InvalidMove) as exc:
            _tell(request, _refusal(exc))
        return Redirect(_package_page(form.get("package_id", "")), status_code=303)


def _database(state: State) -> Database:
    return state[database_key(SERVICE)]


# --- the buyer's delivery page ---

CASE_MESSAGES = {
    "opened": N_("Thank you: we have your report and will come back to you."),
}


def _delivery_missing() -> Template:
    return Template(template_name="fulfilment/delivery_missing.html", status_code=404)


class DeliveryPages(Controller):
    """A buyer's delivery, at the link from their order: parcels, news, and reporting a problem. No login: the
    link's token is the key (it never leaves through a Referer header)."""

    path = "/delivery"
    include_in_schema = False
    opt = PUBLIC
    response_headers = [
        CONTENT_SECURITY_POLICY,
        NO_SNIFFING,
        ResponseHeader(name="Referrer-Policy", value="no-referrer"),
    ]

    @get("/{token:str}")
    async def show(
        self,
        state: State,
        names: Names,
        token: OrderToken,
        case: FromQuery[str | None] = None,
    ) -> Template:
        """Each parcel of the order with its state and tracking, what the buyer was told, and their cases."""
        try:
            async with _database(state).transaction() as session:
                view = await delivery.buyer_view(session, token)
        except NotFound:
            return _delivery_missing()
        message = CASE_MESSAGES.get(case or "")
        return await _delivery_page(names, view, token, message=i18n.gettext(message) if message else None)

    @post("/{token:str}/cases", status_code=303)
    async def open_case(
        self, request: Request[Any, Any, Any], state: State, names: Names, token: OrderToken
    ) -> Response[Any]:
        """Report a problem; the same report sent again (a double tap, a resent form) is the same case."""
        form = await request.form()
        kind_text, description = str(form.get("kind", "")), str(form.get("description", "")).strip()
        problem, status_code = None, 400
        if kind_text not in CaseKind.__members__.values():
            problem = i18n.gettext("Please choose what went wrong.")
        elif not 1 <= len(description) <= 2000:
            problem = i18n.gettext("Please tell us what happened (up to 2000 characters).")
        else:
            limits = rate_limits(request)
            try:
                await limits.hit(limits.cases_per_address, client_address(request))
            except RateLimited as exc:  # the page again, saying when to try, with what the buyer typed
                seconds = exc.headers.get("Retry-After", "60") if exc.headers else "60"
                problem = i18n.gettext(
                    "Too many reports were sent from here: please try again in %(seconds)s seconds.", seconds=seconds
                )
                status_code = 429
        try:
            async with _database(state).transaction() as session:
                if problem is None:
                    await cases.open_case(session, token, CaseKind(kind_text), description)
                    return Redirect(f"/delivery/{token}?case=opened", status_code=303)
                view = await delivery.buyer_view(session, token)
        except NotFound:
            return _delivery_missing()
        except (InvalidField, InvalidMove):
            async with _database(state).transaction() as session:
                view = await delivery.buyer_view(session, token)
            problem = i18n.gettext("Your report could not be taken: please check it and send it again.")
        return await _delivery_page(
            names,
            view,
            token,
            message=problem,
            form={"kind": kind_text, "description": description},
            status_code=status_code,
        )


async def _delivery_page(
    names: Names,
    view: BuyerDeliveryPublic,
    token: str,
    *,
    message: str | None,
    form: Mapping[str, str] | None = None,
    status_code: int = 200,
) -> Template:
    return Template(
        template_name="fulfilment/delivery.html",
        context={
            "view": view,
            "item_name": await names.package(view.package_id) or view.sku,
            "region_names": await names.regions(),
            "notices": [{"at": notice.at, "message": notices.translated(notice.message)} for notice in view.notices],
            "token": token,
            "message": message,
            "form": dict(form or {}),
            "error": status_code >= 400,
        },
        status_code=status_code,
    )
