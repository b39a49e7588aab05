"""Every text a request carries is bounded and printable: an over-long value or a control character is a 400 naming
the field, never a 500 from the database (PostgreSQL refuses a NUL and a value longer than its varchar).

The operations, their bodies' text fields and their string parameters are read from the embedded stack's OpenAPI
document, so fields added later are covered without listing them. Each body field is sent alone (its siblings
missing): the 400 must name that field, which it does only if the field's own constraint refused the value.
A second test holds each schema's `maxLength` to the length of the column that stores the field.
"""

from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import quote
from uuid import uuid4

import httpx
import pytest
from sqlalchemy import String
from sqlmodel import AutoString, SQLModel

from flexsupply.contracts.text import REASON_LENGTH
from flexsupply.fulfilment import models as fulfilment
from flexsupply.matching import models as matching
from flexsupply.suppliers import models as suppliers
from tests.integration.test_match_runs import finished_run
from tests.support.catalogue import create_supplier
from tests.support.databases import SERVICES
from tests.support.matching import register_community
from tests.support.sales import order, planned_sale

NUL = "Mid\x00dle of a text"
CONTROL = "Bell\x07 in a text"
Path = tuple[str | int, ...]
KeyClient = Callable[[str], httpx.AsyncClient]


def _document() -> dict[str, Any]:
    from flexsupply.cli.stack import embedded_app, load_service
    from flexsupply.kit.settings import KitSettings

    app = embedded_app([load_service(name) for name in SERVICES], KitSettings(), worker_threads=None)
    return app.openapi_schema.to_schema()


DOCUMENT = _document()
COMPONENTS: dict[str, Any] = DOCUMENT["components"]["schemas"]


def _resolve(schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = COMPONENTS[schema["$ref"].rsplit("/", 1)[-1]]
    return schema


def _text_fields(schema: dict[str, Any], path: Path = ()) -> Iterator[tuple[Path, dict[str, Any]]]:
    """Every string a body can carry: properties, list items, dict values and dict keys (`<key>`), at any depth."""
    schema = _resolve(schema)
    for option in schema.get("anyOf", []) + schema.get("oneOf", []) + schema.get("allOf", []):
        yield from _text_fields(option, path)
    if schema.get("type") == "string" and schema.get("format") != "binary":
        yield path, schema
    for name, property_schema in schema.get("properties", {}).items():
        yield from _text_fields(property_schema, (*path, name))
    if isinstance(schema.get("items"), dict):
        yield from _text_fields(schema["items"], (*path, 0))
    if isinstance(schema.get("additionalProperties"), dict):
        yield from _text_fields(schema["additionalProperties"], (*path, "ningbo"))
        if "propertyNames" in schema:
            yield (*path, "<key>"), {"type": "string", **schema["propertyNames"]}


def _body(path: Path, value: str) -> Any:
    """A body holding `value` at `path` and nothing else."""
    if not path:
        return value
    head, rest = path[0], path[1:]
    if head == "<key>":
        return {value: 1}
    inner = _body(rest, value)
    return [inner] if isinstance(head, int) else {head: inner}


def _field_name(path: Path, value: str) -> str:
    """How the 400 names the field (a dict key by its value: `quantities.<the key>.[key]`)."""
    if path[-1:] == ("<key>",):
        return ".".join([*(str(part) for part in path[:-1]), value, "[key]"])
    return ".".join(str(part) for part in path)


def _too_long(schema: dict[str, Any]) -> str:
    # Without a maxLength, only a pattern or a format can refuse it: 10,000 characters pass any varchar.
    return "x" * (schema.get("maxLength", 10_000) + 1)


def _url(path: str, overrides: dict[str, str] | None = None) -> str:
    values = {"code": "ningbo", "provider": "test"}
    for name in [part[1:-1] for part in path.split("/") if part.startswith("{")]:
        value = (overrides or {}).get(name) or values.get(name) or (str(uuid4()) if name.endswith("_id") else "t" * 20)
        path = path.replace(f"{{{name}}}", quote(value, safe=""))
    return path


def _operations() -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, operations in DOCUMENT["paths"].items():
        for method, operation in operations.items():
            if isinstance(operation, dict) and "responses" in operation:
                yield method.upper(), path, operation


def _body_cases() -> Iterator[tuple[str, str, Path, dict[str, Any]]]:
    for method, path, operation in _operations():
        media = operation.get("requestBody", {}).get("content", {}).get("application/json")
        if media:
            for field_path, schema in dict(_text_fields(media["schema"])).items():
                yield method, path, field_path, schema


def _parameter_cases() -> Iterator[tuple[str, str, dict[str, Any]]]:
    for method, path, operation in _operations():
        for parameter in operation.get("parameters", []):
            # A UUID in the path is matched by the route itself: anything else finds no route (404).
            if parameter["schema"].get("type") == "string" and parameter["schema"].get("format") != "uuid":
                yield method, path, parameter


@pytest.fixture
async def callers(operator: httpx.AsyncClient, as_key: KeyClient) -> list[httpx.AsyncClient]:
    """The operator, a supplier and a leader: each operation is tried by the first that may call it."""
    supplier_key = (await create_supplier(operator))["api_key"]["api_key"]
    _, leader_key = await register_community(operator)
    return [operator, as_key(supplier_key), as_key(leader_key)]


async def _send(callers: list[httpx.AsyncClient], method: str, url: str, **request: Any) -> httpx.Response:
    *others, last = callers
    for client in others:
        response = await client.request(method, url, **request)
        if response.status_code != 403:
            return response
    return await last.request(method, url, **request)


def _value(kind: str, schema: dict[str, Any]) -> str:
    return {"too long": _too_long(schema), "NUL": NUL, "control": CONTROL}[kind]


async def test_a_bad_text_field_is_a_400_naming_it(callers: list[httpx.AsyncClient]):
    wrong = []
    cases = list(_body_cases())
    assert len(cases) > 50  # the document was read
    for method, path, field_path, schema in cases:
        for kind in ("too long", "NUL", "control"):
            value = _value(kind, schema)
            headers = {"Idempotency-Key": uuid4().hex}
            response = await _send(callers, method, _url(path), json=_body(field_path, value), headers=headers)
            named = response.status_code == 400 and _field_name(field_path, value) in [
                error["field"] for error in response.json()["errors"]
            ]
            if not named:
                wrong.append(f"{method} {path} {_field_name(field_path, kind)} {kind}: {response.text[:300]}")
    assert not wrong, "\n".join(wrong)


async def test_a_bad_text_parameter_is_a_400(callers: list[httpx.AsyncClient]):
    wrong = []
    for method, path, parameter in _parameter_cases():
        where, name = parameter["in"], parameter["name"]
        # Over HTTP no header can carry a NUL (the server refuses the request): only its length is the API's.
        for kind in ("too long",) if where == "header" else ("too long", "NUL", "control"):
            value = _value(kind, parameter["schema"])
            request: dict[str, Any] = {"headers": {"Idempotency-Key": uuid4().hex}}
            if where == "header":
                request["headers"][name] = value
            elif where == "query":
                request["params"] = {name: value}
            url = _url(path, {name: value} if where == "path" else None)
            response = await _send(callers, method, url, json={}, **request)
            if response.status_code != 400:
                wrong.append(f"{method} {path} {where} {name} {kind}: {response.status_code} {response.text[:300]}")
    assert not wrong, "\n".join(wrong)


# Where each request body's text field is stored: its schema's maxLength must be that column's length.
STORED_IN: dict[str, tuple[type[SQLModel], str]] = {
    "RegionUpsert.name": (suppliers.Region, "name"),
    "SupplierCreate.name": (suppliers.Supplier, "name"),
    "SupplierCreate.contact_name": (suppliers.Supplier, "contact_name"),
    "SupplierCreate.webhook_url": (suppliers.Supplier, "webhook_url"),
    "SupplierUpdate.name": (suppliers.Supplier, "name"),
    "SupplierUpdate.contact_name": (suppliers.Supplier, "contact_name"),
    "SupplierUpdate.webhook_url": (suppliers.Supplier, "webhook_url"),
    "OfferTerms.sku": (suppliers.Offer, "sku"),
    "OfferTerms.currency": (suppliers.Offer, "currency"),
    "QuoteCreate.sku": (suppliers.Quote, "sku"),
    "QuoteCreate.currency": (suppliers.Quote, "currency"),
    "RfqDecline.reason": (suppliers.Rfq, "decline_reason"),
    "CommunityCreate.name": (matching.Community, "name"),
    "LeaderFields.name": (matching.Leader, "name"),
    "LeaderFields.contact": (matching.Leader, "contact"),
    "PackageCreate.title": (matching.DemandPackage, "title"),
    "PackageCreate.spec": (matching.DemandPackage, "spec"),
    "PackageUpdate.title": (matching.DemandPackage, "title"),
    "PackageUpdate.spec": (matching.DemandPackage, "spec"),
    "PackageCreate.display_name": (matching.DemandPackage, "display_name"),
    "PackageCreate.description": (matching.DemandPackage, "description"),
    "PackageUpdate.display_name": (matching.DemandPackage, "display_name"),
    "PackageUpdate.description": (matching.DemandPackage, "description"),
    "PayeeSettings.payee_name": (matching.Community, "payee_name"),
    "PayeeSettings.payee_account": (matching.Community, "payee_account"),
    "RefundPaidByTransfer.reference": (matching.Refund, "transfer_reference"),
    "PackageCancel.reason": (matching.PackageTransition, "reason"),
    "SaleCloseRequest.reason": (matching.PackageTransition, "reason"),
    "SignupEntryCreate.name": (matching.SignupEntry, "name"),
    "AwardDecline.reason": (matching.Award, "reason"),
    "OrderCreate.name": (matching.SaleOrder, "name"),
    "OrderCreate.address": (matching.SaleOrder, "address"),
    "MarketCreate.title": (matching.Market, "title"),
    "FailureCreate.reason": (fulfilment.SupplierFailure, "reason"),
    "SupplierStopCreate.reason": (fulfilment.SupplierStop, "reason"),
    "BatchCreate.lot_number": (fulfilment.Batch, "lot_number"),
    "ShipmentStepBody.carrier": (fulfilment.Shipment, "carrier"),
    "ShipmentStepBody.tracking_number": (fulfilment.Shipment, "tracking_number"),
    "ShipmentStepBody.note": (fulfilment.Shipment, "note"),
    "ShipmentMoveItem.carrier": (fulfilment.Shipment, "carrier"),
    "ShipmentMoveItem.tracking_number": (fulfilment.Shipment, "tracking_number"),
    "ShipmentMoveItem.note": (fulfilment.Shipment, "note"),
    "CaseCreate.description": (fulfilment.AfterSalesCase, "description"),
    "CaseResolution.note": (fulfilment.AfterSalesCase, "resolution_note"),
    # Kept in other columns too, as long or longer: a package's order the buyer's pickup point travels to.
    "PickupPoint.name": (fulfilment.DeliveryOrder, "name"),
    "PickupPoint.address": (fulfilment.DeliveryOrder, "address"),
}
# Bounded by their format or pattern and normalised before they are stored, or never stored as sent.
NOT_STORED_AS_SENT = {
    "SupplierCreate.contact_email",  # an email address: at most 254 characters, in a 320-character column
    "SupplierUpdate.contact_email",
    "ApiKeyIntrospect.api_key",  # looked up by its id and hash
    "SignupEntryCreate.phone",  # stored as E.164 (16 characters at most)
    "OrderCreate.phone",
    "PickupPoint.phone",
}


def _stored_text_fields() -> dict[str, int | None]:
    """Component.property -> maxLength, for every text property of a request body that is free text (patterns
    that bound the text themselves, formats and enums aside)."""
    found: dict[str, int | None] = {}

    def visit(name: str, seen: set[str]) -> None:
        if name in seen:
            return
        seen.add(name)
        for property_name, schema in COMPONENTS[name].get("properties", {}).items():
            for option in [schema, *schema.get("anyOf", [])]:
                if "$ref" in option:
                    visit(option["$ref"].rsplit("/", 1)[-1], seen)
                target = option.get("additionalProperties") or option.get("items") or {}
                if isinstance(target, dict) and "$ref" in target:
                    visit(target["$ref"].rsplit("/", 1)[-1], seen)
                if option.get("type") == "string" and "enum" not in option and "format" not in option:
                    if option.get("pattern", "").endswith("}$") and "maxLength" not in option:
                        continue  # a code whose pattern bounds its length (region, sku, currency)
                    found[f"{name}.{property_name}"] = option.get("maxLength")
                elif option.get("format") in ("email", "uri"):
                    found[f"{name}.{property_name}"] = option.get("maxLength")

    seen: set[str] = set()
    for _, _, operation in _operations():
        media = operation.get("requestBody", {}).get("content", {}).get("application/json")
        if media and "$ref" in media["schema"]:
            visit(media["schema"]["$ref"].rsplit("/", 1)[-1], seen)
    return found


def _column_length(table: type[SQLModel], column: str) -> int | None:
    column_type = table.__table__.c[column].type  # type: ignore[attr-defined]
    assert isinstance(column_type, (String, AutoString)), f"{table.__name__}.{column} is not a string column"
    return column_type.length


def test_every_stored_text_field_is_as_long_as_its_column():
    fields = _stored_text_fields()
    unmapped = set(fields) - set(STORED_IN) - NOT_STORED_AS_SENT
    assert not unmapped, f"say where these are stored (STORED_IN): {sorted(unmapped)}"
    mismatched = {
        field: (fields[field], f"{table.__name__}.{column}", _column_length(table, column))
        for field, (table, column) in STORED_IN.items()
        if fields.get(field) != _column_length(table, column)
    }
    assert not mismatched, f"schema maxLength vs column length: {mismatched}"


def test_the_idempotency_key_is_as_long_as_the_column_that_keeps_it():
    # Kept as sent by an order (elsewhere only its hash is kept).
    lengths = {
        parameter["schema"]["maxLength"]
        for _, _, operation in _operations()
        for parameter in operation.get("parameters", [])
        if parameter["name"] == "Idempotency-Key"
    }
    assert lengths == {_column_length(matching.SaleOrder, "idempotency_key")}


LONGEST_REASON = "r" * REASON_LENGTH


async def test_a_cancel_reason_as_long_as_allowed_fits_the_notes_it_is_written_into(
    operator: httpx.AsyncClient, anonymous: httpx.AsyncClient, as_key: KeyClient
):
    """The reason is kept whole in the package's history, and quoted in each order's and the sale's note (columns
    no longer than it): a 500 on PostgreSQL when the quote overflowed them."""
    sale = await planned_sale(operator, as_key, finished_run, opens_in_seconds=0)
    placed = await order(anonymous, sale.id)
    assert placed.status_code == 201, placed.text

    cancelled = await sale.leader.post(f"/api/v1/packages/{sale.id}/cancel", json={"reason": LONGEST_REASON})

    assert cancelled.status_code == 200, cancelled.text
    history = (await sale.leader.get(f"/api/v1/packages/{sale.id}/history")).json()
    assert history[-1]["reason"] == LONGEST_REASON
    buyer_order = (await anonymous.get(f"/api/v1/orders/{placed.json()['token']}")).json()
    assert buyer_order["reason"].startswith("the group-buy was cancelled: rrr")
    assert len(buyer_order["reason"]) == REASON_LENGTH
    assert len((await anonymous.get(f"/api/v1/sales/{sale.id}")).json()["outcome"]) <= REASON_LENGTH


async def test_an_early_close_reason_as_long_as_allowed_fits_the_outcome(
    operator: httpx.AsyncClient, anonymous: httpx.AsyncClient, as_key: KeyClient
):
    sale = await planned_sale(operator, as_key, finished_run, opens_in_seconds=0)
    assert (await order(anonymous, sale.id)).status_code == 201  # the first order opens the sale

    closed = await sale.leader.post(f"/api/v1/packages/{sale.id}/sale/close", json={"reason": LONGEST_REASON})

    assert closed.status_code == 200, closed.text
    assert "closed early: rrr" in closed.json()["outcome"]
    assert len(closed.json()["outcome"]) == REASON_LENGTH
