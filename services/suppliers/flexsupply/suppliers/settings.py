from pydantic import AliasChoices, Field

from flexsupply.kit.settings import KitSettings


class SuppliersSettings(KitSettings):
    database_url_override: str | None = Field(
        default=None,
        validation_alias=AliasChoices("FLEXSUPPLY_SUPPLIERS_DATABASE_URL"),
        description="SQLAlchemy URL of the suppliers database; a SQLite file in the data folder when unset.",
    )
    webhook_attempts: int = Field(default=5, ge=1, le=20)

    @property
    def database_url(self) -> str:
        return self.database_url_override or self.sqlite_url("suppliers")
