"""The buyer's pages: a mobile web page per sale and per market evening, rendered on the server.

Buyers come from a chat group on their phones. Ordering is a plain form post (it works without JavaScript); a small
script adds the countdown and the live counter. Every rule is the JSON API's own: the pages call the same use cases
(`sales`), never the service over HTTP, and turn their answers and refusals into pages.
"""

import math
import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any
from uuid import UUID

from litestar import Controller, Request, Response, get, post
from litestar.datastructures import CacheControlHeader, State
from litestar.di import NamedDependency
from litestar.params import FromPath, PathParameter
from litestar.response import Redirect, Template
from litestar.static_files import create_static_files_router
from pydantic import ValidationError

from flexsupply.contracts.errors import InvalidField, NotFound
from flexsupply.kit import i18n
from flexsupply.kit.clock import utc_now
from flexsupply.kit.db import Database
from flexsupply.kit.i18n import N_
from flexsupply.kit.idempotency import IdempotencyKeyReused
from flexsupply.kit.ratelimit import RateLimited, client_address, rate_limits
from flexsupply.kit.service import Transaction, database_key
from flexsupply.matching import sales, wechatpay
from flexsupply.matching.deps import SERVICE, RegionCatalogue
from flexsupply.matching.domain.package import PackageStatus
from flexsupply.matching.domain.sale import BuyerLimitReached, InvalidOrderMove, OrderStatus, SaleNotOpen, SoldOut
from flexsupply.matching.problems import FIELD_HINTS, field_hints
from flexsupply.matching.schemas import BuyerOrderPublic, OrderCreate, SalePublic, SaleState
from flexsupply.matching.settings import MatchingSettings

HERE = Path(__file__).resolve().parent
TEMPLATES = HERE / "templates"
ASSETS = "/buyer-assets"
ORDER_FIELDS = tuple(FIELD_HINTS)
NO_SALE = N_("There is no sale at this address.")
NO_ORDER = N_("There is no order at this address.")
NO_MARKET = N_("There is no market at this address.")
Regions = NamedDependency[RegionCatalogue]
Settings = NamedDependency[MatchingSettings]
OrderToken = Annotated[str, PathParameter(min_length=1, max_length=64)]
DELIVERING = frozenset({PackageStatus.AWARDED, PackageStatus.IN_FULFILMENT, PackageStatus.COMPLETED})
# Public pages: the link is all a buyer has.
PUBLIC = {"exclude_from_auth": True}


def routes() -> list[Any]:
    """The pages and their static files (the stylesheet and the script, from this package: no internet needed)."""
    assets = create_static_files_router(
        path=ASSETS,
        directories=[HERE / "static"],
        include_in_schema=False,
        opt=PUBLIC,
        cache_control=CacheControlHeader(max_age=600, public=True),
    )
    return [BuyerPages, assets]


def _countdown(seconds: int) -> str:
    """As the page's script shows it: m:ss, or h:mm:ss."""
    hours, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{seconds:02d}" if hours else f"{minutes}:{seconds:02d}"


def _sale_page(
    sale: SalePublic,
    region_names: Mapping[str, str],
    *,
    idempotency_key: str | None = None,
    form: Mapping[str, str] | None = None,
    message: str | None = None,
    status_code: int = 200,
) -> Template:
    # Upcoming past its time: the opening is on its way (0 seconds left: "opening now").
    seconds_to_opening = None
    if sale.state is SaleState.UPCOMING:
        seconds_to_opening = max(0, math.ceil((sale.opens_at - utc_now()).total_seconds()))
    return Template(
        template_name="sale.html",
        context={
            "sale": sale,
            # The package's display name when the leader gave one, else its title.
            "item_name": sale.display_name or sale.title,
            "region_names": region_names,
            "seconds_to_opening": seconds_to_opening,
            "countdown_text": _countdown(seconds_to_opening or 0),
            "orderable": sale.state is SaleState.ON_SALE,
            # Filled in before the opening, sent the moment it opens: the form is there for an upcoming sale too
            # (once it has regions to choose from); posted early, it comes back with what was typed.
            "open_form": sale.state in (SaleState.UPCOMING, SaleState.ON_SALE) and bool(sale.regions),
            "idempotency_key": idempotency_key or secrets.token_urlsafe(18),
            "form": dict(form or {}),
            "message": message,
        },
        status_code=status_code,
    )


def _order_page(
    order: BuyerOrderPublic, region_names: Mapping[str, str], *, message: str | None = None, status_code: int = 200
) -> Template:
    live = order.status in (OrderStatus.PLACED, OrderStatus.PAID)
    cancellable = live and order.package_status is PackageStatus.ON_SALE
    # Fulfilment serves the delivery page on the same host (the stack's one app); it knows the order once the
    # package is awarded.
    delivering = order.status is OrderStatus.CONFIRMED and order.package_status in DELIVERING
    return Template(
        template_name="order.html",
        context={
            "order": order,
            "item_name": order.package_title,
            "region_names": region_names,
            "token": order.token,
            "cancellable": cancellable,
            "delivery_url": f"/delivery/{order.token}" if delivering else None,
            "message": message,
        },
        status_code=status_code,
    )


def _missing(what: str) -> Template:
    return Template(template_name="missing.html", context={"message": i18n.gettext(what)}, status_code=404)


def _not_open(exc: SaleNotOpen) -> str:
    now = utc_now()
    if now < exc.opens_at:
        at = i18n.format_local_time(exc.opens_at, format="short")
        return i18n.gettext(
            "Not open yet: the sale opens at %(time)s. What you typed is kept: press Order then.", time=at
        )
    at = i18n.format_local_time(exc.closes_at, format="short")
    return i18n.gettext("Too late: the sale closed at %(time)s.", time=at)


class BuyerPages(Controller):
    path = "/"
    include_in_schema = False
    opt = PUBLIC

    @get("/sale/{package_id:uuid}")
    async def sale(self, state: State, regions: Regions, package_id: FromPath[UUID]) -> Template:
        """The item, its price, the time to the opening, what is left per region and the order form."""
        try:
            async with _database(state).transaction() as session:
                sale = await sales.sale_view(session, package_id)
        except NotFound:
            return _missing(NO_SALE)
        # After the unit of work: no transaction waits on the catalogue.
        return _sale_page(sale, await regions.names(region.region for region in sale.regions))

    @post("/sale/{package_id:uuid}", status_code=303)
    async def order(
        self, request: Request[Any, Any, Any], state: State, regions: Regions, package_id: FromPath[UUID]
    ) -> Response[Any]:
        """Order from the form; the hidden Idempotency-Key makes a resubmitted form give the same order."""
        database = _database(state)
        form = await request.form()
        fields = {name: str(form.get(name, "")) for name in ORDER_FIELDS}
        idempotency_key = str(form.get("idempotency_key", ""))
        if not 8 <= len(idempotency_key) <= 200 or not idempotency_key.isascii() or not idempotency_key.isprintable():
            idempotency_key = secrets.token_urlsafe(18)  # an old or tampered form: a new order, checked as usual
        names = await regions.names([fields["region"]])

        async def again(message: str, status_code: int) -> Template:
            """The sale page once more, as it is now, with what the buyer typed and why the order was not taken."""
            async with database.transaction() as session:
                try:
                    sale = await sales.sale_view(session, package_id)
                except NotFound:
                    return _missing(NO_SALE)
            return _sale_page(
                sale, names, idempotency_key=idempotency_key, form=fields, message=message, status_code=status_code
            )

        try:
            data = OrderCreate.model_validate(fields)
        except ValidationError as exc:
            invalid = [str(error["loc"][0]) for error in exc.errors() if error.get("loc")]
            return await again(field_hints(invalid), 400)
        try:
            await rate_limits(request).order(client_address(request), data.phone)
            order, _ = await sales.place_order(database, package_id, idempotency_key, data)
            return Redirect(f"/order/{order.token}", status_code=303)
        except RateLimited as exc:
            message, status_code = f"{exc.detail.capitalize()}.", 429
        except NotFound:
            return _missing(NO_SALE)
        except InvalidField as exc:
            message, status_code = field_hints([exc.field]), 400
        except SoldOut as exc:
            region = names.get(exc.region, exc.region)
            message = i18n.gettext("Sold out: only %(left)s left in %(region)s.", left=exc.left, region=region)
            status_code = 409
        except SaleNotOpen as exc:
            message, status_code = _not_open(exc), 409
        except BuyerLimitReached as exc:
            message = i18n.gettext("One buyer may order at most %(limit)s of this item.", limit=exc.limit)
            status_code = 409
        except IdempotencyKeyReused:
            # The form already placed an order, with other details: a new key, so that sending it again orders anew.
            message = i18n.gettext(
                "This form already placed an order with other details; send it again for a second order."
            )
            status_code = 422
            idempotency_key = secrets.token_urlsafe(18)
        return await again(message, status_code)

    @get("/order/{token:str}")
    async def buyer_order(self, state: State, regions: Regions, settings: Settings, token: OrderToken) -> Template:
        """The order, how to pay it, where it stands; a cancel button while that is allowed."""
        try:
            async with _database(state).transaction() as session:
                order = await sales.buyer_order(session, token, wechatpay=wechatpay.configured(settings))
        except NotFound:
            return _missing(NO_ORDER)
        return _order_page(order, await regions.names([order.region]))

    @post("/order/{token:str}/cancel", status_code=303)
    async def cancel(self, state: State, regions: Regions, settings: Settings, token: OrderToken) -> Response[Any]:
        names = await regions.names()
        async with _database(state).transaction() as session:
            try:
                await sales.cancel_order(session, token)
            except NotFound:
                return _missing(NO_ORDER)
            except (InvalidOrderMove, SaleNotOpen):
                message = i18n.gettext(
                    "This order can no longer be cancelled: the sale is over or the order has ended."
                )
                shown = await sales.buyer_order(session, token, wechatpay=wechatpay.configured(settings))
                return _order_page(shown, names, message=message, status_code=409)
        return Redirect(f"/order/{token}", status_code=303)

    @get("/market/{market_id:uuid}")
    async def market(self, transaction: Transaction, market_id: FromPath[UUID]) -> Template:
        """A market evening: what is on now, what comes next, and what is over."""
        try:
            market = await sales.market_view(transaction, market_id)
        except NotFound:
            return _missing(NO_MARKET)
        return Template(template_name="market.html", context={"market": market})


def _database(state: State) -> Database:
    return state[database_key(SERVICE)]
