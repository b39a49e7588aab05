from pydantic import AliasChoices, Field

from flexsupply.kit.settings import KitSettings
from flexsupply.suppliers.webhooks import RetryPolicy


class SuppliersSettings(KitSettings):
    database_url_override: str | None = Field(
        default=None,
        validation_alias=AliasChoices("FLEXSUPPLY_SUPPLIERS_DATABASE_URL"),
        description="SQLAlchemy URL of the suppliers database; a SQLite file in the data folder when unset.",
    )
    webhook_attempts: int = Field(default=5, ge=1, le=20)
    webhook_retry_seconds: float = Field(
        default=5.0, gt=0, description="Wait before a failed webhook's second attempt; doubles with each attempt."
    )

    @property
    def webhook_policy(self) -> RetryPolicy:
        return RetryPolicy(self.webhook_attempts, self.webhook_retry_seconds, self.http_timeout_seconds)

    @property
    def database_url(self) -> str:
        return self.database_url_override or self.sqlite_url("suppliers")
