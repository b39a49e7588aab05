"""WeChat Pay API v3 as a merchant speaks it: Native orders (a QR code the buyer scans in WeChat), order queries,
refunds and their queries, and the notifications WeChat Pay sends back.

`wechatpayv3` gives the primitives (the request signature, RSA verification, AES-256-GCM decryption); the calls go
through httpx like every outbound call here, made from actors, never inside a transaction. Every request is signed
with the merchant's private key (Authorization: WECHATPAY2-SHA256-RSA2048 over method, path, timestamp, nonce and
body); every answer and notification is checked against WeChat Pay's platform certificate (over timestamp, nonce
and body) and refused when stale, so a forged or replayed one changes nothing.
"""

import json
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

import httpx
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey, RSAPublicKey
from cryptography.x509 import Certificate
from wechatpayv3.utils import aes_decrypt, build_authorization, load_certificate, load_private_key, rsa_verify

from flexsupply.kit.http import create_http_client
from flexsupply.matching.payments import PaymentRejected
from flexsupply.matching.settings import MatchingSettings

PROVIDER = "wechatpay"
SIGNATURE_TYPE = "WECHATPAY2-SHA256-RSA2048"
TOLERANCE_SECONDS = 300  # WeChat Pay's own advice: refuse answers and notifications older than five minutes


class WechatPayNotConfigured(Exception):
    """WeChat Pay is not set up for this service (no FLEXSUPPLY_WECHATPAY_MCHID)."""


class WechatPayError(Exception):
    """WeChat Pay answered a request with an error (its code and message)."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"WeChat Pay answered {status} {code}: {message}")
        self.status, self.code = status, code


@dataclass(frozen=True)
class WechatPayConfig:
    mchid: str
    appid: str
    serial_no: str
    private_key: RSAPrivateKey
    apiv3_key: str
    platform_certificate: Certificate
    base_url: str
    notify_url: str

    @property
    def platform_serial(self) -> str:
        return format(self.platform_certificate.serial_number, "X")

    @property
    def platform_key(self) -> RSAPublicKey:
        return cast(RSAPublicKey, self.platform_certificate.public_key())


def configured(settings: MatchingSettings) -> bool:
    return settings.wechatpay_mchid is not None


def load_config(settings: MatchingSettings) -> WechatPayConfig:
    """The merchant's keys, read from their files; WechatPayNotConfigured naming what is missing."""
    needed = {
        "FLEXSUPPLY_WECHATPAY_MCHID": settings.wechatpay_mchid,
        "FLEXSUPPLY_WECHATPAY_APPID": settings.wechatpay_appid,
        "FLEXSUPPLY_WECHATPAY_SERIAL_NO": settings.wechatpay_serial_no,
        "FLEXSUPPLY_WECHATPAY_PRIVATE_KEY_PATH": settings.wechatpay_private_key_path,
        "FLEXSUPPLY_WECHATPAY_APIV3_KEY": settings.wechatpay_apiv3_key,
        "FLEXSUPPLY_WECHATPAY_PLATFORM_CERTIFICATE_PATH": settings.wechatpay_platform_certificate_path,
        "FLEXSUPPLY_WECHATPAY_NOTIFY_URL": settings.wechatpay_notify_url,
    }
    missing = [name for name, value in needed.items() if value is None]
    if missing:
        raise WechatPayNotConfigured(f"WeChat Pay needs {', '.join(missing)}")
    assert settings.wechatpay_private_key_path and settings.wechatpay_platform_certificate_path
    assert settings.wechatpay_apiv3_key and settings.wechatpay_notify_url
    certificate = load_certificate(settings.wechatpay_platform_certificate_path.read_text())
    if certificate is None:
        raise WechatPayNotConfigured("FLEXSUPPLY_WECHATPAY_PLATFORM_CERTIFICATE_PATH is not a PEM certificate")
    return WechatPayConfig(
        mchid=str(settings.wechatpay_mchid),
        appid=str(settings.wechatpay_appid),
        serial_no=str(settings.wechatpay_serial_no),
        private_key=cast(RSAPrivateKey, load_private_key(settings.wechatpay_private_key_path.read_text())),
        apiv3_key=settings.wechatpay_apiv3_key.get_secret_value(),
        platform_certificate=certificate,
        base_url=settings.wechatpay_base_url,
        notify_url=settings.wechatpay_notify_url,
    )


def check_signed(config: WechatPayConfig, headers: Mapping[str, str], body: bytes, now: float) -> None:
    """An answer or a notification signed by WeChat Pay's platform key, recently; PaymentRejected if not."""
    serial, signature = headers.get("wechatpay-serial", ""), headers.get("wechatpay-signature", "")
    timestamp, nonce = headers.get("wechatpay-timestamp", ""), headers.get("wechatpay-nonce", "")
    if headers.get("wechatpay-signature-type", SIGNATURE_TYPE) != SIGNATURE_TYPE:
        raise PaymentRejected(f"signature type {headers.get('wechatpay-signature-type')!r} is not {SIGNATURE_TYPE}")
    if serial.upper() != config.platform_serial:
        raise PaymentRejected(f"signed with certificate {serial!r}, not the platform's {config.platform_serial}")
    if not timestamp.isdigit() or abs(now - int(timestamp)) > TOLERANCE_SECONDS:
        raise PaymentRejected("the signature's timestamp is missing or more than five minutes off")
    try:
        text = body.decode()
    except UnicodeDecodeError:
        raise PaymentRejected("the body is not UTF-8") from None
    if not rsa_verify(timestamp, nonce, text, signature, config.platform_key):
        raise PaymentRejected("the signature does not verify against the platform certificate")


@dataclass(frozen=True)
class Notification:
    event_type: str  # TRANSACTION.SUCCESS, REFUND.SUCCESS, REFUND.ABNORMAL, REFUND.CLOSED
    resource: dict[str, Any]  # the decrypted transaction or refund


def read_notification(config: WechatPayConfig, headers: Mapping[str, str], body: bytes, now: float) -> Notification:
    """A notification verified and its resource decrypted (AEAD_AES_256_GCM under the API v3 key)."""
    check_signed(config, headers, body, now)
    try:
        envelope = json.loads(body)
        resource = envelope["resource"]
        if resource.get("algorithm") != "AEAD_AES_256_GCM":
            raise PaymentRejected(f"resource algorithm {resource.get('algorithm')!r} is not AEAD_AES_256_GCM")
        plain = aes_decrypt(
            nonce=resource["nonce"],
            ciphertext=resource["ciphertext"],
            associated_data=resource.get("associated_data") or "",
            apiv3_key=config.apiv3_key,
        )
        event_type = str(envelope["event_type"])
    except (ValueError, KeyError, TypeError, AttributeError):
        raise PaymentRejected("not a WeChat Pay notification") from None
    if plain is None:
        raise PaymentRejected("the resource does not decrypt with the API v3 key")
    decrypted = json.loads(plain)
    if decrypted.get("mchid", config.mchid) != config.mchid:
        raise PaymentRejected("the notification is for another merchant")
    return Notification(event_type, decrypted)


@dataclass(frozen=True)
class TradeState:
    out_trade_no: str
    trade_state: str  # SUCCESS, NOTPAY, CLOSED, REFUND, USERPAYING, PAYERROR
    transaction_id: str | None
    total_cents: int


@dataclass(frozen=True)
class RefundState:
    out_refund_no: str
    status: str  # SUCCESS, PROCESSING, CLOSED, ABNORMAL
    refund_id: str | None


def trade_state(resource: Mapping[str, Any]) -> TradeState:
    return TradeState(
        out_trade_no=str(resource["out_trade_no"]),
        trade_state=str(resource["trade_state"]),
        transaction_id=resource.get("transaction_id"),
        total_cents=int(resource.get("amount", {}).get("total", 0)),
    )


def refund_state(resource: Mapping[str, Any]) -> RefundState:
    # A refund's answer names its status `status`; its notification, `refund_status`.
    status = resource.get("status") or resource.get("refund_status")
    return RefundState(str(resource["out_refund_no"]), str(status), resource.get("refund_id"))


class WechatPayClient:
    """One merchant's calls to WeChat Pay; each answer is verified before it is believed."""

    def __init__(self, config: WechatPayConfig, http: httpx.AsyncClient) -> None:
        self.config, self.http = config, http

    async def _call(self, method: str, path: str, payload: dict[str, Any] | None = None) -> dict[str, Any]:
        body = "" if payload is None else json.dumps(payload, ensure_ascii=False, separators=(",", ":"))
        authorization = build_authorization(
            path, method, self.config.mchid, self.config.serial_no, self.config.private_key, data=body
        )
        headers = {"authorization": authorization, "accept": "application/json", "user-agent": "flexsupply"}
        if payload is not None:
            headers["content-type"] = "application/json"
        answer = await self.http.request(method, path, content=body.encode(), headers=headers)
        check_signed(self.config, answer.headers, answer.content, time.time())
        data = answer.json() if answer.content else {}
        if answer.status_code >= 300:
            raise WechatPayError(answer.status_code, str(data.get("code", "")), str(data.get("message", "")))
        return data

    async def create_native_order(
        self, out_trade_no: str, description: str, total_cents: int, expires_at: datetime
    ) -> str:
        """The order's code_url (what the buyer's QR code holds). Asked again with the same terms, WeChat Pay
        answers the same order: a retried request is safe."""
        answer = await self._call(
            "POST",
            "/v3/pay/transactions/native",
            {
                "appid": self.config.appid,
                "mchid": self.config.mchid,
                "description": description[:127],
                "out_trade_no": out_trade_no,
                "time_expire": expires_at.isoformat(timespec="seconds"),
                "notify_url": self.config.notify_url,
                "amount": {"total": total_cents, "currency": "CNY"},
            },
        )
        return str(answer["code_url"])

    async def query_order(self, out_trade_no: str) -> TradeState:
        answer = await self._call("GET", f"/v3/pay/transactions/out-trade-no/{out_trade_no}?mchid={self.config.mchid}")
        return trade_state(answer)

    async def create_refund(
        self, out_refund_no: str, out_trade_no: str, refund_cents: int, total_cents: int, reason: str
    ) -> RefundState:
        """Asked again with the same out_refund_no, WeChat Pay answers the same refund: never paid twice."""
        answer = await self._call(
            "POST",
            "/v3/refund/domestic/refunds",
            {
                "out_trade_no": out_trade_no,
                "out_refund_no": out_refund_no,
                "reason": reason[:80],
                "notify_url": self.config.notify_url,
                "amount": {"refund": refund_cents, "total": total_cents, "currency": "CNY"},
            },
        )
        return refund_state(answer)

    async def query_refund(self, out_refund_no: str) -> RefundState:
        return refund_state(await self._call("GET", f"/v3/refund/domestic/refunds/{out_refund_no}"))


def client(settings: MatchingSettings) -> tuple[WechatPayConfig, httpx.AsyncClient]:
    """The merchant's configuration and an httpx client to WeChat Pay, for `async with` by the caller."""
    config = load_config(settings)
    return config, create_http_client(settings, base_url=config.base_url)
