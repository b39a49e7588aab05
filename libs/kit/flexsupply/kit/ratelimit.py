"""Rate limits and login lockouts for every service, counted by the `limits` package.

The embedded stack counts in its process's memory; distributed, every process of every service counts together in
Redis (`FLEXSUPPLY_RATE_LIMIT_URL`; `flexsupply serve` uses the broker's URL when that is Redis). An answer over a
limit is a 429 problem-details answer with `Retry-After`, whichever service gives it.
"""

import math
import time
from dataclasses import dataclass
from typing import Any

from limits import RateLimitItem, parse
from limits.aio.storage import MemoryStorage, RedisStorage, Storage
from limits.aio.strategies import MovingWindowRateLimiter
from litestar.connection import ASGIConnection
from litestar.exceptions import TooManyRequestsException

from flexsupply.kit.settings import KitSettings

STATE_KEY = "rate_limits"


class RateLimited(TooManyRequestsException):
    """Too many requests of one kind from one caller: try again after `Retry-After` seconds."""

    def __init__(self, what: str, retry_after_seconds: float) -> None:
        seconds = max(1, math.ceil(retry_after_seconds))
        super().__init__(detail=f"too many {what}; try again in {seconds} s", headers={"Retry-After": str(seconds)})


@dataclass(frozen=True)
class Limit:
    """At most `rate` (the `limits` notation: "10/minute") of one kind of request per key, in a moving window."""

    name: str
    what: str  # for the answer: "orders from this phone"
    rate: str

    @property
    def item(self) -> RateLimitItem:
        return parse(self.rate)


@dataclass(frozen=True)
class Lockout:
    """After `failures` failures in a row (within `window_seconds`) a key is locked: for `first_lock_seconds`, then
    twice as long at each lock after that (at most `max_lock_seconds`), until a success. Locked, nothing is tried,
    so a guesser costs the server no work."""

    name: str
    what: str
    failures: int
    first_lock_seconds: int
    max_lock_seconds: int
    window_seconds: int = 900


class RateLimits:
    """The counters, and every limit the services apply (from the settings)."""

    def __init__(self, storage: Storage, settings: KitSettings) -> None:
        self.storage = storage
        self.limiter = MovingWindowRateLimiter(storage)
        self.orders_per_phone = Limit("orders-phone", "orders from this phone", settings.rate_limit_orders_per_phone)
        self.orders_per_address = Limit(
            "orders-address", "orders from this address", settings.rate_limit_orders_per_address
        )
        self.signups_per_address = Limit(
            "signups-address", "sign-ups from this address", settings.rate_limit_signups_per_address
        )
        self.cases_per_address = Limit(
            "cases-address", "problem reports from this address", settings.rate_limit_cases_per_address
        )
        self.payment_callbacks_per_address = Limit(
            "callbacks-address",
            "payment callbacks from this address",
            settings.rate_limit_payment_callbacks_per_address,
        )
        self.failed_auth_per_address = Limit(
            "auth-address", "unknown keys from this address", settings.rate_limit_failed_auth_per_address
        )
        lock = {"first_lock_seconds": settings.login_lock_seconds, "max_lock_seconds": settings.login_max_lock_seconds}
        self.login_per_account = Lockout(
            "login-account", "wrong passwords for this account", settings.login_failures_per_account, **lock
        )
        self.login_per_address = Lockout(
            "login-address", "failed logins from this address", settings.login_failures_per_address, **lock
        )

    @classmethod
    def from_settings(cls, settings: KitSettings) -> "RateLimits":
        url = settings.rate_limit_url
        if url is None:
            return cls(MemoryStorage(), settings)
        # redis-py, which the Redis broker installs already, rather than limits' default client (coredis).
        return cls(RedisStorage("async+" + url.removeprefix("async+"), implementation="redispy"), settings)

    async def hit(self, limit: Limit, key: str) -> None:
        """Count one request against `limit` for `key`; over the limit, refuse it (429)."""
        if not await self.limiter.hit(limit.item, limit.name, key):
            stats = await self.limiter.get_window_stats(limit.item, limit.name, key)
            raise RateLimited(limit.what, stats.reset_time - time.time())

    async def check(self, limit: Limit, key: str) -> None:
        """Refuse (429) if `key` has used up `limit`, without counting this request: for limits on failures."""
        if not await self.limiter.test(limit.item, limit.name, key):
            stats = await self.limiter.get_window_stats(limit.item, limit.name, key)
            raise RateLimited(limit.what, stats.reset_time - time.time())

    async def order(self, address: str, phone: str) -> None:
        """An order placed (by the API or the sale page's form): per buyer's phone, and per address."""
        await self.hit(self.orders_per_address, address)
        await self.hit(self.orders_per_phone, phone)

    async def check_lock(self, lockout: Lockout, key: str) -> None:
        lock = f"lockout:{lockout.name}:lock:{key}"
        if await self.storage.get(lock):
            raise RateLimited(lockout.what, await self.storage.get_expiry(lock) - time.time())

    async def failed(self, lockout: Lockout, key: str) -> None:
        """One more failure for `key`: the one that reaches the threshold locks it."""
        failures = await self.storage.incr(f"lockout:{lockout.name}:failures:{key}", lockout.window_seconds)
        if failures < lockout.failures:
            return
        await self.storage.clear(f"lockout:{lockout.name}:failures:{key}")
        locks = await self.storage.incr(f"lockout:{lockout.name}:locks:{key}", lockout.max_lock_seconds * 4)
        seconds = min(lockout.max_lock_seconds, lockout.first_lock_seconds * 2 ** (locks - 1))
        await self.storage.incr(f"lockout:{lockout.name}:lock:{key}", seconds)

    async def succeeded(self, lockout: Lockout, key: str) -> None:
        for part in ("failures", "locks"):
            await self.storage.clear(f"lockout:{lockout.name}:{part}:{key}")


def rate_limits(connection: ASGIConnection[Any, Any, Any, Any]) -> RateLimits:
    """The app's counters, made at its first request: the embedded stack's services share them (each limit has its
    own name), and a Redis client stays on the loop it was made on."""
    state = connection.app.state
    if STATE_KEY not in state:
        state[STATE_KEY] = RateLimits.from_settings(KitSettings())
    return state[STATE_KEY]


def client_address(connection: ASGIConnection[Any, Any, Any, Any]) -> str:
    """The caller's address as the server sees it (behind a proxy: X-Forwarded-For, see FORWARDED_ALLOW_IPS)."""
    return connection.client.host if connection.client else "unknown"
