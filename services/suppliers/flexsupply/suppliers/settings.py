import hashlib
from typing import Annotated

from pydantic import AliasChoices, Field, SecretStr

from flexsupply.kit.settings import KitSettings, session_secret
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

    session_secret: SecretStr | None = Field(
        default=None,
        description="Encrypts and signs the supplier desk's session cookies. Every process serving the desk needs the "
        "same one (distributed: set FLEXSUPPLY_SESSION_SECRET); when unset, one is made once in the data folder.",
    )
    secure_cookies: bool = Field(
        default=False, description="Send the desk's session cookie over HTTPS only (set it behind TLS)."
    )
    desk_session_hours: int = Field(default=12, ge=1, le=24 * 30, description="How long a desk login lasts.")
    desk_login_failures: int = Field(
        default=10, ge=1, description="Failed desk logins allowed from one address per 15 minutes."
    )

    @property
    def webhook_policy(self) -> RetryPolicy:
        return RetryPolicy(self.webhook_retry_schedule_seconds, self.http_timeout_seconds)

    @property
    def database_url(self) -> str:
        return self.database_url_override or self.sqlite_url("suppliers")

    def session_key(self) -> bytes:
        """The 32-byte key of the desk's session cookies (AES-GCM), from the configured secret or the data folder.

        The same secret as the staff board's, read the same way, but a key of the desk's own: a board cookie is no
        desk cookie."""
        secret = session_secret(self.session_secret, self.data_dir)
        return hashlib.sha256(f"supplier desk:{secret}".encode()).digest()
