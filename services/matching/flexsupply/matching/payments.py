"""Payment providers: how a provider's confirmation of a payment reaches an order.

A provider plugs in by verifying its own callback (signature, freshness) and naming the order's payment reference
and the amount paid. The one built in, `test`, is the local provider of the tests and the demo: Standard Webhooks
signatures (HMAC-SHA256 over id, timestamp and body, with a 5-minute tolerance against replays) under a secret
derived from the server's secret, so `flexsupply up` has it without configuration.
"""

import base64
import hashlib
import hmac
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol
from uuid import uuid4

from charset_normalizer import from_bytes
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from flexsupply.contracts.errors import InvalidField


class PaymentRejected(Exception):
    """The payment callback's signature or body does not verify."""


@dataclass(frozen=True)
class PaymentNotice:
    payment_reference: str
    amount_cents: int


class PaymentProvider(Protocol):
    name: str

    def verify(self, body: bytes, headers: Mapping[str, str]) -> PaymentNotice: ...


def local_provider_secret(server_secret: str) -> str:
    key = hmac.new(server_secret.encode(), b"flexsupply test payment provider", hashlib.sha256).digest()
    return "whsec_" + base64.b64encode(key).decode()


class LocalTestProvider:
    """Body: {"payment_reference": "FS-...", "amount_cents": 3000}, signed as Standard Webhooks."""

    name = "test"

    def __init__(self, server_secret: str) -> None:
        self.webhook = Webhook(local_provider_secret(server_secret))

    def verify(self, body: bytes, headers: Mapping[str, str]) -> PaymentNotice:
        try:
            payload = self.webhook.verify(body, dict(headers))
        except WebhookVerificationError as error:
            raise PaymentRejected(f"the callback does not verify: {error}") from None
        except json.JSONDecodeError:
            raise InvalidField("body", "not JSON") from None
        reference, amount = payload.get("payment_reference"), payload.get("amount_cents")
        if not isinstance(reference, str) or not isinstance(amount, int) or isinstance(amount, bool):
            raise InvalidField("body", "payment_reference (a string) and amount_cents (an integer) are required")
        return PaymentNotice(reference, amount)


def sign_test_payment(server_secret: str, reference: str, amount_cents: int) -> tuple[bytes, dict[str, str]]:
    """A callback of the local test provider, as it would send it: the body and its Standard Webhooks headers."""
    body = json.dumps({"payment_reference": reference, "amount_cents": amount_cents})
    message_id, now = f"msg_{uuid4().hex}", datetime.now(UTC)
    signature = Webhook(local_provider_secret(server_secret)).sign(message_id, now, body)
    headers = {
        "content-type": "application/json",
        "webhook-id": message_id,
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": signature,
    }
    return body.encode(), headers


def providers(server_secret: str) -> dict[str, PaymentProvider]:
    return {LocalTestProvider.name: LocalTestProvider(server_secret)}


def decode_statement(data: bytes) -> str:
    """A statement's text, whatever its encoding: wallets export GBK (WeChat Pay's and Alipay's bills opened in a
    Chinese Excel), banks UTF-8 with or without a BOM. UTF-8 is tried first, as detection can mistake short UTF-8
    files for another encoding."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    best = from_bytes(data, cp_isolation=["gb18030", "gbk", "big5", "utf_16"]).best()
    if best is None:
        raise InvalidField("statement", "not text in an encoding this can read: export the statement as CSV")
    return str(best)
