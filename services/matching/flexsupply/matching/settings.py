from pydantic import AliasChoices, Field

from flexsupply.kit.settings import KitSettings


class MatchingSettings(KitSettings):
    database_url_override: str | None = Field(
        default=None,
        validation_alias=AliasChoices("FLEXSUPPLY_MATCHING_DATABASE_URL"),
        description="SQLAlchemy URL of the matching database; a SQLite file in the data folder when unset.",
    )

    secure_cookies: bool = Field(
        default=False, description="Send the leader console's session cookie over HTTPS only (set it behind TLS)."
    )
    match_time_limit_seconds: float = Field(
        default=30.0, gt=0, le=600, description="A matching run's solver time limit unless the run asks for another."
    )
    award_answer_hours: int = Field(
        default=48, ge=1, le=168, description="How long a supplier has to answer an award unless the award asks."
    )
    run_lease_margin_seconds: float = Field(
        default=120.0,
        gt=0,
        description="How long past twice its time limit a running solve may go silent before "
        "the sweeper hands it to another worker.",
    )

    @property
    def database_url(self) -> str:
        return self.database_url_override or self.sqlite_url("matching")
