import contextlib
import hashlib
import os
import secrets

from pydantic import AliasChoices, Field, SecretStr

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
        return RetryPolicy(self.webhook_attempts, self.webhook_retry_seconds, self.http_timeout_seconds)

    @property
    def database_url(self) -> str:
        return self.database_url_override or self.sqlite_url("suppliers")

    def session_key(self) -> bytes:
        """The 32-byte key of the desk's session cookies (AES-GCM), from the configured secret or the data folder.

        The same secret as the staff board's, read the same way, but a key of the desk's own: a board cookie is no
        desk cookie."""
        if self.session_secret is not None:
            secret = self.session_secret.get_secret_value()
        else:
            path = self.data_dir / "session-secret"
            if not path.exists():
                # Written whole, then linked: a second process starting at once keeps the first one's secret.
                self.data_dir.mkdir(parents=True, exist_ok=True)
                draft = path.with_name(f".session-secret.{os.getpid()}")
                draft.touch(mode=0o600)
                draft.write_text(secrets.token_urlsafe(32))
                with contextlib.suppress(FileExistsError):
                    os.link(draft, path)
                draft.unlink()
            secret = path.read_text().strip()
        return hashlib.sha256(f"supplier desk:{secret}".encode()).digest()
