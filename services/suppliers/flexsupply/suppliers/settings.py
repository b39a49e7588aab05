from typing import Annotated

from pydantic import AliasChoices, Field

from flexsupply.kit.settings import KitSettings
from flexsupply.suppliers.domain.webhook_retry import STANDARD_SCHEDULE_SECONDS, RetryPolicy


class SuppliersSettings(KitSettings):
    database_url_override: str | None = Field(
        default=None,
        validation_alias=AliasChoices("FLEXSUPPLY_SUPPLIERS_DATABASE_URL"),
        description="SQLAlchemy URL of the suppliers database; a SQLite file in the data folder when unset.",
    )
    webhook_retry_schedule_seconds: tuple[Annotated[float, Field(ge=0)], ...] = Field(
        default=STANDARD_SCHEDULE_SECONDS,
        min_length=1,
        max_length=20,
        description="Waits after each failed webhook attempt (a JSON list); the delivery fails after the last.",
    )

    @property
    def webhook_policy(self) -> RetryPolicy:
        return RetryPolicy(self.webhook_retry_schedule_seconds, self.http_timeout_seconds)

    @property
    def database_url(self) -> str:
        return self.database_url_override or self.sqlite_url("suppliers")
