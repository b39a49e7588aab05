"""The OpenAPI documents are a contract: schemathesis sends generated requests, valid and invalid, to every
operation of the embedded stack and of each service's own app, and checks each answer against the document.

An answer the document does not describe (a 5xx, an undocumented status, content type or body), or a request the
document forbids that the server accepts, fails. Operations are read from the documents, so endpoints added later
are covered without listing them here: one test item per app and operation.
"""

import os
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
import schemathesis
from litestar import Litestar
from schemathesis import BaseSchema, Case

from tests.support.catalogue import supplier_body
from tests.support.databases import SERVICES
from tests.support.lifespan import running

pytestmark = pytest.mark.filterwarnings(
    # dramatiq's Redis broker rolls the global `random` in its consumer threads (its maintenance chance) while
    # hypothesis draws a request here; hypothesis takes the changed state for a strategy using `random`.
    "ignore:Do not use the `random` module inside strategies:hypothesis.errors.HypothesisDeprecationWarning"
)

APPS = ("embedded", *SERVICES)
# Where a supplier's key is tried: the embedded stack serves every route (a service's own app checks a key it does
# not keep by calling the suppliers service, which does not run beside it here).
WITH_SUPPLIER_KEY = "embedded"
NOWHERE = "http://127.0.0.1:9/webhooks"  # the discard port: nothing listens there
OPERATOR = {"Authorization": f"Bearer {os.environ['FLEXSUPPLY_OPERATOR_TOKEN']}"}
# Fuzzed requests per operation, besides the coverage phase's boundary cases: keeps the module near a minute on two
# cores (CI runs it three times).
EXAMPLES = 5
# Every check an honest server passes. Left out: positive_data_acceptance (a request can match the document and
# still break a rule of the data, such as an unknown region) and allow_header_conformance (it judges litestar's
# automatic OPTIONS answer, which no document describes).
CONTRACT = (
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_schema_conformance",
    "response_headers_conformance",
    "negative_data_rejection",
    "missing_required_header",
    "unsupported_method",
    "ignored_auth",
    "use_after_free",
)


def _config(name: str) -> schemathesis.Config:
    server_errors = ["2xx", "3xx", "4xx"]
    if name != "embedded":
        # A service's own app runs here without the services it calls: its 503 (a peer is unavailable) is the
        # documented truth. In the embedded stack every peer runs, so a 503 there fails.
        server_errors.append("503")
    return schemathesis.Config.from_dict(
        {
            # Credentials are the test's, valid on every request: the `ignored_auth` check probes without them.
            "generation": {"max-examples": EXAMPLES, "database": "none", "with-security-parameters": False},
            "checks": {
                "enabled": False,
                **{check: {"enabled": True} for check in CONTRACT},
                "not_a_server_error": {"enabled": True, "expected-statuses": server_errors},
            },
        }
    )


def _app(name: str) -> Litestar:
    from flexsupply.cli.stack import embedded_app, load_service
    from flexsupply.kit.settings import KitSettings

    if name == "embedded":
        return embedded_app([load_service(service) for service in SERVICES], KitSettings(), worker_threads=None)
    return load_service(name).app()


class AppUnderTest:
    """What schemathesis calls (requests and lifespan alike): the app the `apps` fixture built for this run.

    A document is read at collection, to make one test item per operation, and schemathesis binds it to an app
    then; the app that answers needs this run's databases, which exist only once the fixtures ran."""

    def __init__(self) -> None:
        self.app: Litestar | None = None

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        assert self.app is not None, "the `apps` fixture sets the app under test"
        await self.app(scope, receive, send)


def _document(name: str) -> BaseSchema:
    """The app's own document (it needs no database)."""
    document = schemathesis.openapi.from_dict(_app(name).openapi_schema.to_schema(), config=_config(name))
    document.app = AppUnderTest()
    return document


DOCUMENTS = {name: _document(name) for name in APPS}


@pytest.fixture(scope="module")
def apps(database_urls: dict[str, str], worker: Any) -> Iterator[None]:
    """The apps under test on this run's databases. Schemathesis runs an app's lifespan in its own event loop from
    its first request to the end of each test. Its checks send an invalid key to every operation, from one
    address, far faster than the key-guessing limit allows: lifted here (tests/integration/test_rate_limits.py)."""
    with pytest.MonkeyPatch.context() as environment:
        environment.setenv("FLEXSUPPLY_RATE_LIMIT_FAILED_AUTH_PER_ADDRESS", "1000000/minute")
        for name, document in DOCUMENTS.items():
            document.app.app = _app(name)
        yield
        for document in DOCUMENTS.values():
            document.app.app = None


@pytest.fixture(scope="module")
def operator_headers() -> dict[str, str]:
    return OPERATOR


@pytest.fixture(scope="module")
def supplier_headers(apps: None) -> dict[str, str]:
    """The API key of a supplier registered for this module, through the API under test."""
    document = DOCUMENTS[WITH_SUPPLIER_KEY]
    for code in ("ningbo", "shanghai"):
        region = document["/api/v1/regions/{code}"]["PUT"].Case(path_parameters={"code": code}, body={"name": code})
        assert region.call(headers=OPERATOR).status_code == 200
    created = document["/api/v1/suppliers"]["POST"].Case(body=supplier_body()).call(headers=OPERATOR)
    assert created.status_code == 201, created.text
    return {"Authorization": f"Bearer {created.json()['api_key']['api_key']}"}


def _keeps_its_contract(name: str, credentials: str) -> Callable[..., None]:
    @DOCUMENTS[name].parametrize()
    def test(case: Case, apps: None, request: pytest.FixtureRequest) -> None:
        if isinstance(case.body, dict) and isinstance(case.body.get("webhook_url"), str):
            # A supplier with a webhook URL is sent webhooks at once: to a closed loopback port, not to whatever
            # host a generated URL names. (Schemathesis judges the case as sent, so this changes no verdict.)
            case.body = {**case.body, "webhook_url": NOWHERE}
        case.call_and_validate(headers=request.getfixturevalue(credentials))

    return test


@pytest.mark.parametrize("name", APPS)
def test_every_check_of_the_contract_is_on(name: str) -> None:
    """A check left off by a slip in the configuration would pass everything, silently."""
    checks = DOCUMENTS[name].config.checks
    assert [check for check in CONTRACT if not getattr(checks, check).enabled] == []


def test_an_offset_beyond_its_bound_is_a_400_naming_it(apps: None) -> None:
    """Once a 500: an integer no database column holds reached the query."""
    listing = DOCUMENTS["embedded"]["/api/v1/suppliers"]["GET"].Case(query={"offset": 546756716184617353216})
    response = listing.call(headers=OPERATOR)
    assert response.status_code == 400
    assert [error["field"] for error in response.json()["errors"]] == ["offset"]


@pytest.mark.parametrize("code", ["ABC", "a b", "-north", "\u0084"])
def test_a_region_code_the_document_refuses_is_a_400(apps: None, code: str) -> None:
    """Once stored as given: litestar does not apply pydantic's pattern to a path parameter."""
    upsert = DOCUMENTS["embedded"]["/api/v1/regions/{code}"]["PUT"].Case(
        path_parameters={"code": code}, body={"name": "Somewhere"}
    )
    assert upsert.call(headers=OPERATOR).status_code == 400


async def test_a_request_while_the_database_is_down_gets_the_documented_503(database_urls: dict[str, str]) -> None:
    """Once a 500: a refused connection was a bug as far as clients could tell, not a reason to retry."""
    from flexsupply.suppliers.app import DESCRIPTION
    from flexsupply.suppliers.settings import SuppliersSettings

    unreachable = "postgresql+asyncpg://nobody@127.0.0.1:9/nothing"
    app = DESCRIPTION.app(SuppliersSettings(FLEXSUPPLY_SUPPLIERS_DATABASE_URL=unreachable))  # type: ignore[call-arg]
    async with (
        running(app),
        # httpx types the ASGI app narrower than litestar's (it is one at run time).
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t", headers=OPERATOR) as client,  # pyright: ignore[reportArgumentType]
    ):
        response = await client.get("/api/v1/regions")

    assert response.status_code == 503
    assert response.headers["content-type"].startswith("application/problem+json")
    assert "503" in DOCUMENTS["suppliers"].raw_schema["paths"]["/api/v1/regions"]["get"]["responses"]


# One test per app and caller, each parametrized by the operations of that app's document.
for _name in APPS:
    globals()[f"test_the_{_name}_app_keeps_its_contract_with_the_operator"] = _keeps_its_contract(
        _name, "operator_headers"
    )
test_the_embedded_app_keeps_its_contract_with_a_supplier = _keeps_its_contract(WITH_SUPPLIER_KEY, "supplier_headers")
