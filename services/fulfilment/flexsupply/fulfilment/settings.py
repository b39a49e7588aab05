import hashlib

from pydantic import AliasChoices, Field, SecretStr

from flexsupply.kit.settings import KitSettings, session_secret


class FulfilmentSettings(KitSettings):
    database_url_override: str | None = Field(
        default=None,
        validation_alias=AliasChoices("FLEXSUPPLY_FULFILMENT_DATABASE_URL"),
        description="SQLAlchemy URL of the fulfilment database; a SQLite file in the data folder when unset.",
    )
    session_secret: SecretStr | None = Field(
        default=None,
        description="Encrypts and signs the staff board's session cookies. Every process serving the board needs the "
        "same one (distributed: set FLEXSUPPLY_SESSION_SECRET); when unset, one is made once in the data folder.",
    )
    secure_cookies: bool = Field(
        default=False, description="Send the board's session cookie over HTTPS only (set it behind TLS)."
    )
    board_session_hours: int = Field(default=12, ge=1, le=24 * 30, description="How long a staff login lasts.")

    @property
    def database_url(self) -> str:
        return self.database_url_override or self.sqlite_url("fulfilment")

    def session_key(self) -> bytes:
        """The 32-byte key of the board's session cookies (AES-GCM), from the configured secret or the data folder."""
        secret = session_secret(self.session_secret, self.data_dir)
        return hashlib.sha256(secret.encode()).digest()
