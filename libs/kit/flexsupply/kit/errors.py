"""RFC 9457 problem details for every error a service answers, and the shapes the OpenAPI documents give them."""

import logging
from collections.abc import Mapping
from http import HTTPStatus
from typing import Any

from asyncpg import InterfaceError as DriverInterfaceError
from asyncpg import PostgresError
from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException
from litestar.plugins.problem_details import (
    ProblemDetailsConfig,
    ProblemDetailsException,
    ProblemDetailsPlugin,
)
from pydantic import BaseModel, Field
from pydantic.json_schema import SkipJsonSchema
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from flexsupply.contracts.errors import InvalidField, NotFound
from flexsupply.kit.db import is_unavailable

log = logging.getLogger(__name__)
PROBLEM_TYPE_BASE = "https://flexsupply.dev/problems/"
PROBLEM_MEDIA_TYPE = "application/problem+json"
# A dropped connection is replaced on the next checkout and a lock is usually free within a second or two.
DATABASE_RETRY_AFTER_SECONDS = 2


class ProblemDetails(BaseModel):
    """An error (RFC 9457)."""

    type: str = Field(description="Identifies the kind of problem; about:blank when the status says it all.")
    title: str = Field(description="A short summary of the kind of problem.")
    status: int = Field(ge=400, le=599)
    detail: str | SkipJsonSchema[None] = Field(default=None, description="What went wrong with this request.")


class FieldError(BaseModel):
    field: str = Field(description="The field at fault, dotted for nested fields (price_tiers.0.unit_cents).")
    message: str
    source: str = Field(description="Where the field is: body, query, path, header or cookie.")


class InvalidRequest(ProblemDetails):
    """The request is invalid (RFC 9457): `errors` names each field at fault, when known."""

    errors: list[FieldError]


def _invalid_request(detail: str, errors: list[FieldError]) -> ProblemDetailsException:
    return ProblemDetailsException(
        status_code=400,
        title="The request is invalid",
        detail=detail,
        type_=PROBLEM_TYPE_BASE + "invalid-request",
        extra={"errors": [error.model_dump() for error in errors]},
    )


def _validation_problem(exc: ValidationException) -> ProblemDetailsException:
    errors = []
    for item in exc.extra if isinstance(exc.extra, list) else []:
        if isinstance(item, Mapping):
            field = str(item.get("key") or item.get("source") or "body")
            message = str(item.get("message", "")).removeprefix("Value error, ")
            errors.append(FieldError(field=field, message=message, source=str(item.get("source") or "body")))
    detail = "; ".join(f"{error.field}: {error.message}" for error in errors) or str(exc.detail)
    return _invalid_request(detail, errors)


def _invalid_field_problem(exc: InvalidField) -> ProblemDetailsException:
    return _invalid_request(str(exc), [FieldError(field=exc.field, message=exc.message, source="body")])


def _http_problem(exc: HTTPException) -> ProblemDetailsException:
    """Litestar's own errors (401, 403, 404, 405, a body that is not JSON...) in the same shape as ours."""
    if exc.status_code == 400:
        return _invalid_request(exc.detail, [])
    return ProblemDetailsException(
        status_code=exc.status_code,
        title=HTTPStatus(exc.status_code).phrase,
        detail=exc.detail,
        type_="about:blank",
        headers=exc.headers,
    )


def _database_problem(exc: Exception) -> ProblemDetailsException:
    """The database cannot be reached or is busy (kit.db.is_unavailable): the client may retry, so a 503 with
    Retry-After (documented), not a 500. Any other database error is a bug, answered as one."""
    if not is_unavailable(exc):
        log.error("database error", exc_info=exc)
        return ProblemDetailsException(status_code=500, title="Internal error", type_=PROBLEM_TYPE_BASE + "internal")
    log.warning("database unavailable: %s: %s", type(exc).__name__, exc)
    return ProblemDetailsException(
        status_code=503,
        title="Database unavailable",
        detail="A database this service uses cannot be reached or is busy; try again later (a create with the same "
        "Idempotency-Key: a connection lost while committing may have stored it).",
        type_=PROBLEM_TYPE_BASE + "database-unavailable",
        headers={"Retry-After": str(DATABASE_RETRY_AFTER_SECONDS)},
    )


def _integrity_problem(_: IntegrityError) -> ProblemDetailsException:
    return ProblemDetailsException(
        status_code=409,
        title="Conflict",
        detail="The change conflicts with data already stored (a duplicate or a missing reference).",
        type_=PROBLEM_TYPE_BASE + "conflict",
    )


def _domain_problem(status_code: int) -> Any:
    def convert(exc: Exception) -> ProblemDetailsException:
        kind = type(exc).__name__
        slug = "".join(f"-{c.lower()}" if c.isupper() else c for c in kind).lstrip("-")
        # A domain error may carry members for the client (what is left of a sold-out item, when a sale opens).
        extra: dict[str, Any] | None = getattr(exc, "problem_extra", None)
        return ProblemDetailsException(
            status_code=status_code,
            title=type(exc).__doc__ or kind,
            detail=str(exc),
            type_=PROBLEM_TYPE_BASE + slug,
            extra=extra,
        )

    return convert


def problem_details(domain_errors: Mapping[type[Exception], int]) -> ProblemDetailsPlugin:
    """Map litestar's HTTP errors, validation errors, integrity errors and our domain errors to problem details."""
    mapping: dict[type[Exception], Any] = {
        HTTPException: _http_problem,
        ValidationException: _validation_problem,
        IntegrityError: _integrity_problem,
        # Through SQLAlchemy or raw from PostgreSQL's driver (its own pool, for orders): 503 when unavailable.
        DBAPIError: _database_problem,
        PostgresError: _database_problem,
        DriverInterfaceError: _database_problem,
        ConnectionError: _database_problem,
        PoolTimeout: _database_problem,
        InvalidField: _invalid_field_problem,
        NotFound: _domain_problem(404),
    }
    mapping.update({exc_type: _domain_problem(status) for exc_type, status in domain_errors.items()})
    return ProblemDetailsPlugin(ProblemDetailsConfig(exception_to_problem_detail_map=mapping))


def internal_error_handler(request: Request[Any, Any, Any], exc: Exception) -> Response[dict[str, Any]]:
    """A bug is still answered as problem details, without leaking internals."""
    request.logger.exception("unhandled error on %s %s", request.method, request.url.path)
    return Response(
        {"type": PROBLEM_TYPE_BASE + "internal", "title": "Internal error", "status": 500},
        status_code=500,
        media_type=PROBLEM_MEDIA_TYPE,
    )
