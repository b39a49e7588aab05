"""What kit.app's documents say, on a small app: constraints as the server checks them, problems, security."""

from typing import Annotated, Any
from uuid import UUID

import pytest
from litestar import Controller, Router, get, post
from litestar.exceptions import ImproperlyConfiguredException
from litestar.openapi import ResponseSpec
from litestar.params import FromPath, FromQuery, HeaderParameter, JSONBody, PathParameter

from flexsupply.contracts.offers import OfferTerms
from flexsupply.contracts.rules import RegionCode
from flexsupply.kit.app import build_app
from flexsupply.kit.auth import bearer_authentication
from flexsupply.kit.pagination import MAX_LIMIT, MAX_OFFSET, Limit, Offset


class Teapot(Controller):
    path = "/api/v1/teapots"

    @get("/")
    async def list_teapots(
        self,
        limit: Limit = 10,
        offset: Offset = 0,
        colour: FromQuery[str | None] = None,
        owner: FromQuery[UUID | None] = None,
    ) -> list[OfferTerms]:
        return []

    @get("/count")
    async def count_teapots(self) -> int:
        return 0

    @post("/{teapot_id:uuid}/offers", status_code=201)
    async def offer(
        self,
        teapot_id: FromPath[UUID],
        data: JSONBody[OfferTerms],
        key: Annotated[str | None, HeaderParameter(name="Idempotency-Key", min_length=8, max_length=200)] = None,
    ) -> OfferTerms:
        return data

    @get("/brew", responses={418: ResponseSpec(None, description="I'm a teapot")})
    async def brew(self) -> None:
        return None

    @get("/menu", exclude_from_auth=True)
    async def menu(self) -> list[str]:
        return []


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    router = Router("/", route_handlers=[Teapot], middleware=[bearer_authentication(lambda: "token")])
    return build_app(title="teapots", routers=[router], lifespans=[]).openapi_schema.to_schema()


def _operation(document: dict[str, Any], method: str, path: str) -> dict[str, Any]:
    return document["paths"][path][method]


def test_a_dict_keyed_by_region_is_an_object_of_integers(document: dict[str, Any]) -> None:
    shipping = document["components"]["schemas"]["OfferTerms"]["properties"]["shipping_cents"]
    assert shipping["type"] == "object"
    assert shipping["minProperties"] == 1
    assert shipping["additionalProperties"] == {"type": "integer", "minimum": 0, "maximum": 10**12}
    assert shipping["propertyNames"] == {"pattern": "^[a-z0-9][a-z0-9-]{0,39}$"}


def test_pagination_is_bounded(document: dict[str, Any]) -> None:
    parameters = {p["name"]: p["schema"] for p in _operation(document, "get", "/api/v1/teapots")["parameters"]}
    assert (parameters["limit"]["minimum"], parameters["limit"]["maximum"]) == (1, MAX_LIMIT)
    assert (parameters["offset"]["minimum"], parameters["offset"]["maximum"]) == (0, MAX_OFFSET)


def test_an_optional_query_parameter_keeps_null_only_where_it_means_none(document: dict[str, Any]) -> None:
    parameters = {p["name"]: p["schema"] for p in _operation(document, "get", "/api/v1/teapots")["parameters"]}
    assert parameters["colour"] == {"type": "string"}  # `?colour=null` is the colour "null"
    assert {"type": "null"} in parameters["owner"]["oneOf"]  # `?owner=null` is read as None


def test_an_optional_header_is_a_string_with_its_lengths(document: dict[str, Any]) -> None:
    operation = _operation(document, "post", "/api/v1/teapots/{teapot_id}/offers")
    [header] = [p for p in operation["parameters"] if p["in"] == "header"]
    assert header["required"] is False
    assert {key: header["schema"][key] for key in ("type", "minLength", "maxLength")} == {
        "type": "string",
        "minLength": 8,
        "maxLength": 200,
    }
    assert "oneOf" not in header["schema"]


def test_each_operation_lists_the_problems_it_can_answer(document: dict[str, Any]) -> None:
    responses = _operation(document, "post", "/api/v1/teapots/{teapot_id}/offers")["responses"]
    assert set(responses) == {"200", "201", "400", "401", "403", "404", "409", "422", "429", "503"}
    # 200: the first answer, replayed to a repeated Idempotency-Key (kit.idempotency).
    assert responses["200"]["content"]["application/json"] == responses["201"]["content"]["application/json"]
    assert responses["400"]["content"]["application/problem+json"]["schema"]["$ref"].endswith("/InvalidRequest")
    assert responses["404"]["content"]["application/problem+json"]["schema"]["$ref"].endswith("/ProblemDetails")
    # No parameters, no path, no change: only who is calling, and what is behind.
    assert set(_operation(document, "get", "/api/v1/teapots/count")["responses"]) == {"200", "401", "403", "429", "503"}


def test_the_problem_shapes_carry_type_title_status_and_the_fields_at_fault(document: dict[str, Any]) -> None:
    schemas = document["components"]["schemas"]
    assert schemas["ProblemDetails"]["required"] == ["type", "title", "status"]
    assert schemas["InvalidRequest"]["required"] == ["type", "title", "status", "errors"]
    assert schemas["FieldError"]["required"] == ["field", "message", "source"]


def test_responses_a_handler_declares_are_kept(document: dict[str, Any]) -> None:
    assert _operation(document, "get", "/api/v1/teapots/brew")["responses"]["418"]["description"] == "I'm a teapot"


@pytest.mark.parametrize(("method", "path"), [("get", "/live"), ("get", "/health"), ("get", "/api/v1/teapots/menu")])
def test_routes_that_need_no_credentials_say_so(document: dict[str, Any], method: str, path: str) -> None:
    operation = _operation(document, method, path)
    assert operation["security"] == []
    assert "401" not in operation["responses"]


def test_routes_behind_authentication_keep_the_bearer_requirement(document: dict[str, Any]) -> None:
    assert document["security"] == [{"bearer": []}]
    assert "security" not in _operation(document, "get", "/api/v1/teapots/count")


def test_a_parameter_with_constraints_litestar_would_not_check_stops_the_app() -> None:
    @get("/regions/{code:str}")
    async def region(code: Annotated[RegionCode, PathParameter()]) -> str:
        return code

    with pytest.raises(ImproperlyConfiguredException, match="'code' has pydantic constraints litestar does not check"):
        build_app(title="regions", routers=[Router("/", route_handlers=[region])], lifespans=[])
