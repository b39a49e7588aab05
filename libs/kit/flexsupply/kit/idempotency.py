"""Idempotency-Key for creates: a repeated key returns the first result instead of creating twice.

The stored response is encrypted with a key derived from the client's Idempotency-Key, and looked up by a
hash of it: a replay can return a secret shown once (an API key) while the database holds nothing usable.
"""

import base64
import hashlib
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import TypeVar

from cryptography.fernet import Fernet
from pydantic import BaseModel
from sqlmodel import Field, SQLModel
from sqlmodel.ext.asyncio.session import AsyncSession

from flexsupply.kit.clock import utc_now
from flexsupply.kit.db import UtcDateTime

M = TypeVar("M", bound=BaseModel)


class IdempotencyKeyReused(Exception):
    """The Idempotency-Key was already used for a different request."""


class IdempotencyRecordBase(SQLModel):
    """Each service declares `class IdempotencyRecord(IdempotencyRecordBase, <its base>, table=True)`."""

    key_hash: str = Field(primary_key=True, max_length=64)
    request_hash: str = Field(max_length=64)
    response_token: str
    created_at: datetime = Field(default_factory=utc_now, sa_type=UtcDateTime)  # type: ignore[call-overload]


def _digest(*parts: str) -> str:
    return hashlib.sha256("\x00".join(parts).encode()).hexdigest()


def _cipher(key: str) -> Fernet:
    return Fernet(base64.urlsafe_b64encode(hashlib.sha256(f"flexsupply-idempotency\x00{key}".encode()).digest()))


async def run_once(
    session: AsyncSession,
    table: type[IdempotencyRecordBase],
    *,
    key: str | None,
    scope: str,
    request: BaseModel,
    create: Callable[[], Awaitable[M]],
    response_type: type[M],
) -> tuple[M, bool]:
    """Run `create` once per (scope, key); returns the result and whether it was replayed."""
    if key is None:
        return await create(), False
    key_hash, request_hash = _digest(scope, key), _digest(request.model_dump_json())
    stored = await session.get(table, key_hash)
    if stored is not None:
        if stored.request_hash != request_hash:
            raise IdempotencyKeyReused(f"Idempotency-Key {key!r} was already used with a different request body")
        return response_type.model_validate_json(_cipher(key).decrypt(stored.response_token)), True
    result = await create()
    token = _cipher(key).encrypt(result.model_dump_json().encode()).decode()
    # A concurrent request with the same key fails on this primary key at commit: one create wins.
    session.add(table(key_hash=key_hash, request_hash=request_hash, response_token=token))
    return result, False
