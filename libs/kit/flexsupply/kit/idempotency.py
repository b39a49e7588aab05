"""Idempotency-Key for creates: a repeated key returns the first result instead of creating twice.

Records are found by an HMAC of the key, and the stored answer is encrypted with another, both keyed by the server's
secret: a replay can return a secret shown once (an API key), while a copy of the database alone reveals nothing,
even for a guessable Idempotency-Key. Records are kept for a day, as long as a client may reasonably retry.
"""

import base64
import hashlib
import hmac
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Annotated, TypeVar

from cryptography.fernet import Fernet
from litestar import Response
from litestar.params import HeaderParameter
from pydantic import BaseModel
from sqlmodel import Field, SQLModel, col, delete
from sqlmodel.ext.asyncio.session import AsyncSession

from flexsupply.kit.clock import utc_now
from flexsupply.kit.db import UtcDateTime

M = TypeVar("M", bound=BaseModel)
KEPT_FOR = timedelta(hours=24)

# Printable ASCII without spaces, as a header carries it.
IDEMPOTENCY_KEY_PATTERN = r"^[\x21-\x7e]+$"
# The header every create that a client may retry takes.
IdempotencyKey = Annotated[
    str | None,
    HeaderParameter(
        name="Idempotency-Key",
        required=False,
        min_length=8,
        max_length=200,
        pattern=IDEMPOTENCY_KEY_PATTERN,
        description="Repeat a create safely: the same key returns the first result.",
    ),
]


class IdempotencyKeyReused(Exception):
    """The Idempotency-Key was already used for a different request."""


class IdempotencyRecordBase(SQLModel):
    """Each service declares `class IdempotencyRecord(IdempotencyRecordBase, <its base>, table=True)`."""

    key_hash: str = Field(primary_key=True, max_length=64)
    request_hash: str = Field(max_length=64)
    response_token: str
    created_at: datetime = Field(default_factory=utc_now, sa_type=UtcDateTime, index=True)  # type: ignore[call-overload]


class Idempotency:
    """Idempotent creates for one caller, in one unit of work."""

    def __init__(
        self, session: AsyncSession, table: type[IdempotencyRecordBase], server_secret: str, scope: str
    ) -> None:
        self.session, self.table, self.scope = session, table, scope
        self._secret = server_secret.encode()

    def _mac(self, purpose: str, *parts: str) -> bytes:
        message = "\x00".join((purpose, self.scope, *parts)).encode()
        return hmac.new(self._secret, message, hashlib.sha256).digest()

    async def run_once(
        self,
        key: str | None,
        operation: str,
        request: BaseModel,
        create: Callable[[], Awaitable[M]],
        response_type: type[M],
    ) -> tuple[M, bool]:
        """Run `create` once per (caller, operation, key); returns the result and whether it was replayed."""
        if key is None:
            return await create(), False
        key_hash = self._mac("lookup", operation, key).hex()
        request_hash = hashlib.sha256(request.model_dump_json().encode()).hexdigest()
        cipher = Fernet(base64.urlsafe_b64encode(self._mac("cipher", operation, key)))
        await self.session.exec(delete(self.table).where(col(self.table.created_at) < utc_now() - KEPT_FOR))
        stored = await self.session.get(self.table, key_hash)
        if stored is not None:
            if stored.request_hash != request_hash:
                raise IdempotencyKeyReused(f"Idempotency-Key {key!r} was already used with a different request body")
            return response_type.model_validate_json(cipher.decrypt(stored.response_token)), True
        result = await create()
        token = cipher.encrypt(result.model_dump_json().encode()).decode()
        # A concurrent request with the same key fails on this primary key at commit: one create wins.
        self.session.add(self.table(key_hash=key_hash, request_hash=request_hash, response_token=token))
        return result, False

    async def respond(
        self,
        key: str | None,
        operation: str,
        request: BaseModel,
        create: Callable[[], Awaitable[M]],
        response_type: type[M],
    ) -> Response[M]:
        """Create (201), or replay the first answer to this caller's key (200 and Idempotent-Replayed: true)."""
        result, replayed = await self.run_once(key, operation, request, create, response_type)
        return Response(
            result, status_code=200 if replayed else 201, headers={"Idempotent-Replayed": str(replayed).lower()}
        )
