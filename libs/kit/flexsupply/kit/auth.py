"""Who is calling: operators and services carry the operator token, suppliers and group leaders their own API key.

API keys look like `<prefix>_<key id>_<secret>`: `fsk` for a supplier (kept by the suppliers service), `flk` for a
group leader (kept by the matching service, which owns communities). Only a SHA-256 of the secret is stored: the
secret has 256 random bits, so a slow password hash would add latency to every request and no safety.
"""

import hashlib
import hmac
import secrets
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any
from uuid import UUID, uuid4

import httpx
from litestar import Request
from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException
from litestar.handlers.base import BaseRouteHandler
from litestar.middleware import AbstractAuthenticationMiddleware, AuthenticationResult, DefineMiddleware
from litestar.types import ASGIApp

from flexsupply.kit.peers import peer_client
from flexsupply.kit.ratelimit import client_address, rate_limits
from flexsupply.kit.settings import KitSettings

API_KEY_PREFIX = "fsk"
LEADER_KEY_PREFIX = "flk"
# Services that do not keep supplier keys ask the suppliers service and remember the answer this long: a revoked key
# still works there for at most this (on the suppliers service itself, not at all). Revocation cannot clear their
# memory by an event: a dramatiq message reaches one worker process, never the web processes that hold the memory.
KEY_CACHE_SECONDS = 5.0


class Role(StrEnum):
    OPERATOR = "operator"
    SUPPLIER = "supplier"
    LEADER = "leader"


@dataclass(frozen=True)
class Principal:
    role: Role
    supplier_id: UUID | None = None
    leader_id: UUID | None = None
    community_id: UUID | None = None

    @property
    def scope(self) -> str:
        """What idempotency keys and audit lines are scoped to."""
        return f"{self.role}:{self.supplier_id or self.leader_id or ''}"

    @property
    def actor(self) -> str:
        """Who did it, as recorded in histories."""
        return self.scope.rstrip(":")

    def require_leader(self) -> UUID:
        """The caller's community: only a group leader, with their own key, may do this."""
        if self.role is not Role.LEADER or self.community_id is None:
            raise PermissionDeniedException("only a group leader, with their own key, may do this")
        return self.community_id

    def require_operator(self) -> None:
        if self.role is not Role.OPERATOR:
            raise PermissionDeniedException("only operators may do this")

    def require_supplier(self) -> UUID:
        if self.role is not Role.SUPPLIER or self.supplier_id is None:
            raise PermissionDeniedException("only a supplier, with its own API key, may do this")
        return self.supplier_id


@dataclass(frozen=True)
class IssuedApiKey:
    key_id: UUID
    token: str  # shown once, never stored
    secret_hash: str


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def issue_api_key(prefix: str = API_KEY_PREFIX) -> IssuedApiKey:
    key_id, secret = uuid4(), secrets.token_urlsafe(32)
    return IssuedApiKey(key_id=key_id, token=f"{prefix}_{key_id.hex}_{secret}", secret_hash=hash_secret(secret))


def parse_api_key(token: str, expected_prefix: str = API_KEY_PREFIX) -> tuple[UUID, str] | None:
    prefix, _, rest = token.partition("_")
    key_hex, _, secret = rest.partition("_")
    if prefix != expected_prefix or not secret:
        return None
    try:
        return UUID(hex=key_hex), secret
    except ValueError:
        return None


def secret_matches(secret: str, stored_hash: str) -> bool:
    return hmac.compare_digest(hash_secret(secret), stored_hash)


def bearer_token(connection: ASGIConnection[Any, Any, Any, Any]) -> str:
    scheme, _, token = connection.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise NotAuthorizedException("send 'Authorization: Bearer <operator token, supplier or leader API key>'")
    return token.strip()


def is_operator_token(token: str, operator_token: str) -> bool:
    return hmac.compare_digest(token.encode(), operator_token.encode())


# Turns a bearer token into the caller, or None when this resolver does not know it.
Resolver = Callable[[ASGIConnection[Any, Any, Any, Any], str], Awaitable[Principal | None]]


class BearerAuthentication(AbstractAuthenticationMiddleware):
    """Who is calling (401 when nobody we know); what they may do is each handler's guard (403)."""

    def __init__(self, app: ASGIApp, operator_token: Callable[[], str], resolvers: Sequence[Resolver]) -> None:
        super().__init__(app)
        self.operator_token = operator_token
        self.resolvers = resolvers

    async def authenticate_request(self, connection: ASGIConnection[Any, Any, Any, Any]) -> AuthenticationResult:
        token = bearer_token(connection)
        if is_operator_token(token, self.operator_token()):
            return AuthenticationResult(user=Principal(Role.OPERATOR), auth=None)
        # Guessing keys from one address is cut off before any lookup is made for it.
        limits, address = rate_limits(connection), client_address(connection)
        await limits.check(limits.failed_auth_per_address, address)
        for resolve in self.resolvers:
            if (principal := await resolve(connection, token)) is not None:
                return AuthenticationResult(user=principal, auth=None)
        await limits.hit(limits.failed_auth_per_address, address)
        raise NotAuthorizedException("the token or API key is unknown or revoked")


def bearer_authentication(operator_token: Callable[[], str], *resolvers: Resolver) -> DefineMiddleware:
    return DefineMiddleware(BearerAuthentication, operator_token=operator_token, resolvers=resolvers)


# Whose key a token is, asked of the suppliers service through a client for it: None for an unknown or revoked key.
SupplierLookup = Callable[[httpx.AsyncClient, str], Awaitable[UUID | None]]


class SupplierKeyIntrospection:
    """Authenticates suppliers on services that do not keep their keys, by asking the suppliers service (`lookup`:
    libs/clients' `supplier_for_api_key`, passed in so that the clients need neither this kit nor the web
    framework).

    Answers are cached for a short while (keyed by a hash, never the key): a supplier polling its inbox costs one
    call per `ttl_seconds`, not one per request, and a revoked key stops working within it.
    """

    def __init__(
        self,
        settings: KitSettings,
        lookup: SupplierLookup,
        ttl_seconds: float = KEY_CACHE_SECONDS,
        max_entries: int = 10_000,
    ) -> None:
        self.settings = settings
        self.lookup = lookup
        self.ttl_seconds = ttl_seconds
        self.max_entries = max_entries
        self._cache: dict[str, tuple[float, UUID | None]] = {}

    async def __call__(self, connection: ASGIConnection[Any, Any, Any, Any], token: str) -> Principal | None:
        if not token.startswith(f"{API_KEY_PREFIX}_"):
            return None
        supplier_id = await self.supplier_for(token)
        return Principal(Role.SUPPLIER, supplier_id=supplier_id) if supplier_id else None

    async def supplier_for(self, token: str) -> UUID | None:
        key = hashlib.sha256(token.encode()).hexdigest()
        now = time.monotonic()
        cached = self._cache.get(key)
        if cached is not None and cached[0] > now:
            return cached[1]
        async with peer_client(self.settings, "suppliers") as http:
            supplier_id = await self.lookup(http, token)
        if len(self._cache) >= self.max_entries:
            self._cache = {k: v for k, v in self._cache.items() if v[0] > now}
            if len(self._cache) >= self.max_entries:
                self._cache.clear()
        self._cache[key] = (now + self.ttl_seconds, supplier_id)
        return supplier_id


def caller_of(connection: ASGIConnection[Any, Any, Any, Any]) -> Principal | None:
    """The authenticated caller, or None for a CORS preflight: the middleware lets OPTIONS through unauthenticated,
    and litestar's automatic OPTIONS handler inherits its controller's guards."""
    if connection.scope.get("method") == "OPTIONS":
        return None
    return connection.user


def operators_only(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    if (caller := caller_of(connection)) is not None:
        caller.require_operator()


def suppliers_only(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    if (caller := caller_of(connection)) is not None:
        caller.require_supplier()


def leaders_only(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    if (caller := caller_of(connection)) is not None:
        caller.require_leader()


async def provide_caller(request: Request[Principal, Any, Any]) -> Principal:
    return request.user
