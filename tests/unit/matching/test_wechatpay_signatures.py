"""What the merchant believes of WeChat Pay: only what its platform key signed, recently, and decrypts."""

import json
import time

import pytest

from flexsupply.matching.payments import PaymentRejected
from flexsupply.matching.wechatpay import WechatPayConfig, read_notification
from tests.support.fake_wechatpay import APPID, MCHID, FakeWechatPay, certificate, rsa_key


@pytest.fixture(scope="module")
def fake() -> FakeWechatPay:
    platform_key = rsa_key()
    return FakeWechatPay(
        url="http://wechatpay.invalid",
        merchant_key=rsa_key(),
        merchant_serial="5157F09EFDC096DE15EBE81A47057A7232F1B8E1",
        platform_key=platform_key,
        platform_certificate=certificate(platform_key, "platform"),
        apiv3_key="0123456789abcdef0123456789abcdef",
    )


@pytest.fixture(scope="module")
def config(fake: FakeWechatPay) -> WechatPayConfig:
    return WechatPayConfig(
        mchid=MCHID,
        appid=APPID,
        serial_no=fake.merchant_serial,
        private_key=fake.merchant_key,
        apiv3_key=fake.apiv3_key,
        platform_certificate=fake.platform_certificate,
        base_url=fake.url,
        notify_url="https://flexsupply.example/api/v1/payments/wechatpay/notifications",
    )


PAID = {"mchid": MCHID, "out_trade_no": "FS-ABCD1234", "trade_state": "SUCCESS", "amount": {"total": 5900}}


def headers_of(fake: FakeWechatPay, body: bytes) -> dict[str, str]:
    return {name.lower(): value for name, value in fake.signed_headers(body).items()}


def test_a_signed_notification_is_decrypted(fake: FakeWechatPay, config: WechatPayConfig) -> None:
    body = fake.encrypted_notification("TRANSACTION.SUCCESS", "transaction", PAID)
    notice = read_notification(config, headers_of(fake, body), body, time.time())
    assert notice.event_type == "TRANSACTION.SUCCESS" and notice.resource == PAID


def test_a_changed_body_does_not_verify(fake: FakeWechatPay, config: WechatPayConfig) -> None:
    body = fake.encrypted_notification("TRANSACTION.SUCCESS", "transaction", PAID)
    headers = headers_of(fake, body)
    tampered = body.replace(b"TRANSACTION.SUCCESS", b"TRANSACTION.SUCCES5")
    with pytest.raises(PaymentRejected, match="does not verify"):
        read_notification(config, headers, tampered, time.time())


def test_a_replayed_notification_is_refused_after_five_minutes(fake: FakeWechatPay, config: WechatPayConfig) -> None:
    body = fake.encrypted_notification("TRANSACTION.SUCCESS", "transaction", PAID)
    with pytest.raises(PaymentRejected, match="five minutes"):
        read_notification(config, headers_of(fake, body), body, time.time() + 301)


def test_another_certificate_is_refused(fake: FakeWechatPay, config: WechatPayConfig) -> None:
    body = fake.encrypted_notification("TRANSACTION.SUCCESS", "transaction", PAID)
    headers = headers_of(fake, body) | {"wechatpay-serial": "1234ABCD"}
    with pytest.raises(PaymentRejected, match="certificate"):
        read_notification(config, headers, body, time.time())


def test_a_resource_under_another_key_does_not_decrypt(fake: FakeWechatPay, config: WechatPayConfig) -> None:
    envelope = json.loads(fake.encrypted_notification("TRANSACTION.SUCCESS", "transaction", PAID))
    envelope["resource"]["associated_data"] = "refund"  # authenticated: any change breaks the tag
    body = json.dumps(envelope).encode()
    with pytest.raises(PaymentRejected, match="decrypt"):
        read_notification(config, headers_of(fake, body), body, time.time())
