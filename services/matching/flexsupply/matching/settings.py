from pathlib import Path

from pydantic import AliasChoices, Field, SecretStr

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

    # WeChat Pay API v3 (Native orders and refunds): configured when the merchant number is set.
    wechatpay_mchid: str | None = Field(default=None, description="The merchant number (商户号); unset: no WeChat Pay.")
    wechatpay_appid: str | None = Field(
        default=None, description="The app id (公众号/小程序 AppID) the merchant is bound to."
    )
    wechatpay_serial_no: str | None = Field(
        default=None, description="The serial number of the merchant's API certificate."
    )
    wechatpay_private_key_path: Path | None = Field(
        default=None, description="The merchant's API private key (apiclient_key.pem)."
    )
    wechatpay_apiv3_key: SecretStr | None = Field(
        default=None, description="The API v3 key (32 characters) that decrypts notifications."
    )
    wechatpay_platform_certificate_path: Path | None = Field(
        default=None, description="WeChat Pay's platform certificate (PEM), which signs answers and notifications."
    )
    wechatpay_base_url: str = Field(default="https://api.mch.weixin.qq.com", description="WeChat Pay's API.")
    wechatpay_notify_url: str | None = Field(
        default=None,
        description="Where WeChat Pay sends payment and refund notifications: this service's "
        "/api/v1/payments/wechatpay/notifications, as the internet reaches it (https).",
    )

    @property
    def database_url(self) -> str:
        return self.database_url_override or self.sqlite_url("matching")
