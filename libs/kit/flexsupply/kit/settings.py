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

    def sqlite_url(self, service: str) -> str:
        return f"sqlite+aiosqlite:///{(self.data_dir / f'{service}.db').resolve()}"

    def require_operator_token(self) -> str:
        if self.operator_token is None:
            raise RuntimeError("FLEXSUPPLY_OPERATOR_TOKEN is not set")
        return self.operator_token.get_secret_value()
