"""The buyer's pages: a mobile web page per sale and per market evening, rendered on the server.

Buyers come from a chat group on their phones. Ordering is a plain form post (it works without JavaScript); a small
script adds the countdown and the live counter. Every rule is the JSON API's own: the pages call the same use cases
(`sales`), never the service over HTTP, and turn their answers and refusals into pages.
"""

import math
import secrets
from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any
from uuid import UUID

from litestar import Controller, Request, Response, get, post
from litestar.datastructures import CacheControlHeader, State
from litestar.params import FromPath, PathParameter
from litestar.response import Redirect, Template
from litestar.static_files import create_static_files_router
from pydantic import ValidationError

from flexsupply.contracts.errors import InvalidField, NotFound
from flexsupply.kit.clock import utc_now
from flexsupply.kit.db import Database
from flexsupply.kit.idempotency import IdempotencyKeyReused
from flexsupply.kit.ratelimit import RateLimited, client_address, rate_limits
from flexsupply.kit.service import Transaction, database_key
from flexsupply.matching import sales
from flexsupply.matching.deps import SERVICE
from flexsupply.matching.domain.package import PackageStatus
from flexsupply.matching.domain.sale import BuyerLimitReached, InvalidOrderMove, OrderStatus, SaleNotOpen, SoldOut
from flexsupply.matching.schemas import BuyerOrderPublic, OrderCreate, SalePublic, SaleState

HERE = Path(__file__).resolve().parent
TEMPLATES = HERE / "templates"
ASSETS = "/buyer-assets"
FIELD_NAMES = {
    "quantity": "Quantity",
    "region": "Delivery region",
    "name": "Name",
    "phone": "Phone",
    "address": "Delivery address",
}
ORDER_FIELDS = tuple(FIELD_NAMES)
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
            "seconds_to_opening": seconds_to_opening,
            "countdown_text": _countdown(seconds_to_opening or 0),
            "orderable": sale.state is SaleState.ON_SALE,
            "idempotency_key": idempotency_key or secrets.token_urlsafe(18),
            "form": dict(form or {}),
            "message": message,
        },
        status_code=status_code,
    )


def _order_page(order: BuyerOrderPublic, *, message: str | None = None, status_code: int = 200) -> Template:
    live = order.status in (OrderStatus.PLACED, OrderStatus.PAID)
    cancellable = live and order.package_status is PackageStatus.ON_SALE
    # Fulfilment serves the delivery page on the same host (the stack's one app); it knows the order once the
    # package is awarded.
    delivering = order.status is OrderStatus.CONFIRMED and order.package_status in DELIVERING
    return Template(
        template_name="order.html",
        context={
            "order": order,
            "token": order.token,
            "cancellable": cancellable,
            "delivery_url": f"/delivery/{order.token}" if delivering else None,
            "message": message,
        },
        status_code=status_code,
    )


def _missing(what: str) -> Template:
    return Template(template_name="missing.html", context={"message": what}, status_code=404)


def _at(moment: datetime) -> str:
    return f"{moment:%Y-%m-%d %H:%M} UTC"


def _invalid(errors: Sequence[Any]) -> str:
    lines = []
    for error in errors:
        field = str(error["loc"][0]) if error.get("loc") else ""
        lines.append(f"{FIELD_NAMES.get(field, field)}: {error['msg'].removeprefix('Value error, ')}")
    return "Please check: " + "; ".join(lines) + "."


def _not_open(exc: SaleNotOpen) -> str:
    now = utc_now()
    if now < exc.opens_at:
        return f"Not open yet: the sale opens at {_at(exc.opens_at)}."
    if now >= exc.closes_at:
        return f"The sale closed at {_at(exc.closes_at)}."
    return f"The sale is not open: {exc}."


async def _sale_again(
    database: Database, package_id: UUID, idempotency_key: str, form: Mapping[str, str], message: str, status_code: int
) -> Template:
    """The sale page once more, as it is now, with what the buyer typed and why the order was not taken."""
    async with database.transaction() as session:
        try:
            sale = await sales.sale_view(session, package_id)
        except NotFound:
            return _missing("There is no sale at this address.")
    return _sale_page(sale, idempotency_key=idempotency_key, form=form, message=message, status_code=status_code)


class BuyerPages(Controller):
    path = "/"
    include_in_schema = False
    opt = PUBLIC

    @get("/sale/{package_id:uuid}")
    async def sale(self, transaction: Transaction, package_id: FromPath[UUID]) -> Template:
        """The item, its price, the time to the opening, what is left per region and the order form."""
        try:
            return _sale_page(await sales.sale_view(transaction, package_id))
        except NotFound:
            return _missing("There is no sale at this address.")

    @post("/sale/{package_id:uuid}", status_code=303)
    async def order(self, request: Request[Any, Any, Any], state: State, package_id: FromPath[UUID]) -> Response[Any]:
        """Order from the form; the hidden Idempotency-Key makes a resubmitted form give the same order."""
        database: Database = state[database_key(SERVICE)]
        form = await request.form()
        fields = {name: str(form.get(name, "")) for name in ORDER_FIELDS}
        idempotency_key = str(form.get("idempotency_key", ""))
        if not 8 <= len(idempotency_key) <= 200 or not idempotency_key.isascii() or not idempotency_key.isprintable():
            idempotency_key = secrets.token_urlsafe(18)  # an old or tampered form: a new order, checked as usual
        try:
            data = OrderCreate.model_validate(fields)
        except ValidationError as exc:
            return await _sale_again(database, package_id, idempotency_key, fields, _invalid(exc.errors()), 400)
        try:
            await rate_limits(request).order(client_address(request), data.phone)
            order, _ = await sales.place_order(database, package_id, idempotency_key, data)
            return Redirect(f"/order/{order.token}", status_code=303)
        except RateLimited as exc:
            message, status_code = f"{exc.detail.capitalize()}.", 429
        except NotFound:
            return _missing("There is no sale at this address.")
        except InvalidField as exc:
            message, status_code = f"Please check: {FIELD_NAMES.get(exc.field, exc.field)}: {exc.message}.", 400
        except SoldOut as exc:
            message, status_code = f"Sold out: {exc.left} left in {exc.region.title()}.", 409
        except SaleNotOpen as exc:
            message, status_code = _not_open(exc), 409
        except BuyerLimitReached as exc:
            message, status_code = f"One buyer may order at most {exc.limit} of this item.", 409
        except IdempotencyKeyReused:
            # The form already placed an order, with other details: a new key, so that sending it again orders anew.
            message = "This form already placed an order with other details; send it again for a second order."
            status_code = 422
            idempotency_key = secrets.token_urlsafe(18)
        return await _sale_again(database, package_id, idempotency_key, fields, message, status_code)

    @get("/order/{token:str}")
    async def buyer_order(self, transaction: Transaction, token: OrderToken) -> Template:
        """The order, how to pay it, where it stands; a cancel button while that is allowed."""
        try:
            return _order_page(await sales.buyer_order(transaction, token))
        except NotFound:
            return _missing("There is no order at this address.")

    @post("/order/{token:str}/cancel", status_code=303)
    async def cancel(self, transaction: Transaction, token: OrderToken) -> Response[Any]:
        try:
            await sales.cancel_order(transaction, token)
        except NotFound:
            return _missing("There is no order at this address.")
        except (InvalidOrderMove, SaleNotOpen) as exc:
            message = f"This order can no longer be cancelled: {exc}."
            return _order_page(await sales.buyer_order(transaction, token), message=message, status_code=409)
        return Redirect(f"/order/{token}", status_code=303)

    @get("/market/{market_id:uuid}")
    async def market(self, transaction: Transaction, market_id: FromPath[UUID]) -> Template:
        """A market evening: what is on now, what comes next, and what is over."""
        try:
            market = await sales.market_view(transaction, market_id)
        except NotFound:
            return _missing("There is no market at this address.")
        return Template(template_name="market.html", context={"market": market})
