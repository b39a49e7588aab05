"""Settings shared by every service, read from FLEXSUPPLY_* environment variables."""

import contextlib
import os
import secrets
from pathlib import Path
from typing import Annotated

from limits import parse
from pydantic import AfterValidator, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


def _rate(value: str) -> str:
    parse(value)  # a ValueError names what is wrong at start-up, not at the first request
    return value


RateString = Annotated[str, AfterValidator(_rate)]


class KitSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="FLEXSUPPLY_", env_file=".env", extra="ignore")

    data_dir: Path = Field(
        default=Path(".flexsupply"), description="Where the embedded stack keeps its SQLite files and token."
    )
    broker_url: str = Field(
        default="stub://",
        description="stub:// (in-process), amqp://user:pass@host:5672/vhost or redis://host:6379/0.",
    )
    operator_token: SecretStr | None = Field(
        default=None,
        description="Bearer token of operators and of the services calling each other. "
        "`flexsupply up` generates one into the data folder when unset.",
    )
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    http_timeout_seconds: float = Field(default=10.0, gt=0)
    outbox_poll_seconds: float = Field(default=0.5, gt=0)
    log_level: str = "INFO"
    community_time_zone: str = Field(
        default="Asia/Shanghai", description="The IANA time zone pages show times in (they are stored in UTC)."
    )
    sweep_seconds: float = Field(default=15.0, gt=0, description="How often owed work is checked for lost messages.")
    sweep_grace_seconds: float = Field(
        default=60.0, ge=0, description="How long owed work may be overdue before its message is sent again."
    )
    suppliers_url: str | None = Field(default=None, description="Base URL of the suppliers service (distributed).")
    matching_url: str | None = Field(default=None, description="Base URL of the matching service (distributed).")
    fulfilment_url: str | None = Field(default=None, description="Base URL of the fulfilment service (distributed).")

    # Rate limits, in the `limits` notation ("20/minute", "5/second"): see kit.ratelimit and the README.
    rate_limit_url: str | None = Field(
        default=None,
        description="redis://host:6379/N: rate-limit counters shared by every process (in memory when unset; "
        "`flexsupply serve` uses the broker's URL when it is Redis).",
    )
    rate_limit_orders_per_phone: RateString = "20/minute"
    rate_limit_orders_per_address: RateString = "600/minute"
    rate_limit_signups_per_address: RateString = "120/minute"
    rate_limit_cases_per_address: RateString = "30/minute"
    rate_limit_payment_callbacks_per_address: RateString = "600/minute"
    rate_limit_failed_auth_per_address: RateString = "60/minute"
    login_failures_per_account: int = Field(default=5, ge=1, description="Wrong passwords in a row that lock it.")
    login_failures_per_address: int = Field(default=20, ge=1, description="Failed logins in a row from one address.")
    login_lock_seconds: int = Field(default=30, ge=1, description="The first lock; each next one lasts twice as long.")
    login_max_lock_seconds: int = Field(default=3600, ge=1)

    def sqlite_url(self, service: str) -> str:
        return f"sqlite+aiosqlite:///{(self.data_dir / f'{service}.db').resolve()}"

    def peer_url(self, service: str) -> str | None:
        return {"suppliers": self.suppliers_url, "matching": self.matching_url, "fulfilment": self.fulfilment_url}[
            service
        ]

    def require_operator_token(self) -> str:
        if self.operator_token is None:
            raise RuntimeError("FLEXSUPPLY_OPERATOR_TOKEN is not set")
        return self.operator_token.get_secret_value()


def session_secret(configured: SecretStr | None, data_dir: Path) -> str:
    """The secret session cookies are keyed from: the configured one, else one made once in the data folder and
    shared by every service there (each derives a key of its own from it)."""
    if configured is not None:
        return configured.get_secret_value()
    path = data_dir / "session-secret"
    if not path.exists():
        # Written whole, then linked: a second process starting at once keeps the first one's secret.
        data_dir.mkdir(parents=True, exist_ok=True)
        draft = path.with_name(f".session-secret.{os.getpid()}")
        draft.touch(mode=0o600)
        draft.write_text(secrets.token_urlsafe(32))
        with contextlib.suppress(FileExistsError):
            os.link(draft, path)
        draft.unlink()
    return path.read_text().strip()
