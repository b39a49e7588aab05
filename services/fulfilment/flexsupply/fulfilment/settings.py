from pydantic import AliasChoices, Field

from flexsupply.kit.settings import KitSettings


class FulfilmentSettings(KitSettings):
    database_url_override: str | None = Field(
        default=None,
        validation_alias=AliasChoices("FLEXSUPPLY_FULFILMENT_DATABASE_URL"),
        description="SQLAlchemy URL of the fulfilment database; a SQLite file in the data folder when unset.",
    )

    @property
    def database_url(self) -> str:
        return self.database_url_override or self.sqlite_url("fulfilment")
