"""Settings shared by every service, read from FLEXSUPPLY_* environment variables."""

from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


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
