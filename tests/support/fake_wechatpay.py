"""A fake WeChat Pay on a loopback port that speaks API v3 as the real one does: it checks the merchant's
Authorization signature (RSA-SHA256 over method, path, timestamp, nonce and body), signs every answer with its
platform key, and sends payment and refund notifications to the merchant's notify_url, signed and encrypted
(AEAD_AES_256_GCM under the API v3 key). Keys are made here with `cryptography`; nothing of the client is patched.

Native orders, order queries, refunds and refund queries are served; the test pays an order or settles a refund
(`pay`, `settle_refund`) as a buyer's phone or WeChat Pay's back office would, from a thread (notifications are
plain blocking HTTP, to the app served on the test's loop).
"""

import base64
import json
import secrets
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from uuid import uuid4

import httpx
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.x509.oid import NameOID

MCHID = "1900000109"
APPID = "wxd678efh567hg6787"


def rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _sign(key: rsa.RSAPrivateKey, message: str) -> str:
    return base64.b64encode(key.sign(message.encode(), padding.PKCS1v15(), hashes.SHA256())).decode()


def certificate(key: rsa.RSAPrivateKey, common_name: str) -> x509.Certificate:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = datetime.now(UTC)
    return (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=365))
        .sign(key, hashes.SHA256())
    )


@dataclass
class Trade:
    out_trade_no: str
    description: str
    total_cents: int
    notify_url: str
    code_url: str
    state: str = "NOTPAY"
    transaction_id: str | None = None


@dataclass
class FakeRefund:
    out_refund_no: str
    out_trade_no: str
    refund_cents: int
    notify_url: str
    refund_id: str
    status: str = "PROCESSING"


@dataclass
class FakeWechatPay:
    url: str
    merchant_key: rsa.RSAPrivateKey
    merchant_serial: str
    platform_key: rsa.RSAPrivateKey
    platform_certificate: x509.Certificate
    apiv3_key: str
    trades: dict[str, Trade] = field(default_factory=dict)
    refunds: dict[str, FakeRefund] = field(default_factory=dict)
    # Codes to refuse the next refund requests with (403 NOT_ENOUGH: the merchant's balance is short), in order.
    refuse_refunds: list[str] = field(default_factory=list)
    requests: list[tuple[str, str, int]] = field(default_factory=list)  # method, path, status answered
    notified: list[int] = field(default_factory=list)  # our notify URL's answers
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def platform_serial(self) -> str:
        return format(self.platform_certificate.serial_number, "X")

    def settings_environment(self, directory: Path, notify_url: str) -> dict[str, str]:
        """The merchant's FLEXSUPPLY_WECHATPAY_* settings, with its key and the platform certificate in files."""
        key_path, certificate_path = directory / "apiclient_key.pem", directory / "wechatpay_platform.pem"
        key_path.write_bytes(
            self.merchant_key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
        )
        certificate_path.write_bytes(self.platform_certificate.public_bytes(serialization.Encoding.PEM))
        return {
            "FLEXSUPPLY_WECHATPAY_MCHID": MCHID,
            "FLEXSUPPLY_WECHATPAY_APPID": APPID,
            "FLEXSUPPLY_WECHATPAY_SERIAL_NO": self.merchant_serial,
            "FLEXSUPPLY_WECHATPAY_PRIVATE_KEY_PATH": str(key_path),
            "FLEXSUPPLY_WECHATPAY_APIV3_KEY": self.apiv3_key,
            "FLEXSUPPLY_WECHATPAY_PLATFORM_CERTIFICATE_PATH": str(certificate_path),
            "FLEXSUPPLY_WECHATPAY_BASE_URL": self.url,
            "FLEXSUPPLY_WECHATPAY_NOTIFY_URL": notify_url,
        }

    # --- WeChat Pay's side of the protocol ----------------------------------------------------------------------

    def signed_headers(self, body: bytes, key: rsa.RSAPrivateKey | None = None) -> dict[str, str]:
        timestamp, nonce = str(int(time.time())), secrets.token_hex(16)
        signature = _sign(key or self.platform_key, f"{timestamp}\n{nonce}\n{body.decode()}\n")
        return {
            "Wechatpay-Timestamp": timestamp,
            "Wechatpay-Nonce": nonce,
            "Wechatpay-Signature": signature,
            "Wechatpay-Serial": self.platform_serial,
            "Wechatpay-Signature-Type": "WECHATPAY2-SHA256-RSA2048",
        }

    def merchant_signature_problem(self, method: str, path: str, body: bytes, authorization: str) -> str | None:
        """Why the merchant's Authorization does not verify, or None when it does."""
        scheme, _, fields = authorization.partition(" ")
        if scheme != "WECHATPAY2-SHA256-RSA2048":
            return f"scheme {scheme!r}"
        values = dict(part.split("=", 1) for part in fields.split(","))
        values = {name.strip(): value.strip('"') for name, value in values.items()}
        if values.get("mchid") != MCHID or values.get("serial_no") != self.merchant_serial:
            return "unknown merchant or certificate"
        if abs(time.time() - int(values.get("timestamp", "0"))) > 300:
            return "stale timestamp"
        message = f"{method}\n{path}\n{values['timestamp']}\n{values['nonce_str']}\n{body.decode()}\n"
        try:
            self.merchant_key.public_key().verify(
                base64.b64decode(values["signature"]), message.encode(), padding.PKCS1v15(), hashes.SHA256()
            )
        except Exception:
            return "signature does not verify"
        return None

    def encrypted_notification(self, event_type: str, original_type: str, resource: dict[str, Any]) -> bytes:
        nonce, associated_data = secrets.token_hex(6), original_type
        ciphertext = AESGCM(self.apiv3_key.encode()).encrypt(
            nonce.encode(), json.dumps(resource).encode(), associated_data.encode()
        )
        envelope = {
            "id": str(uuid4()),
            "create_time": datetime.now(UTC).isoformat(timespec="seconds"),
            "resource_type": "encrypt-resource",
            "event_type": event_type,
            "summary": "支付成功" if original_type == "transaction" else "退款状态变更",
            "resource": {
                "original_type": original_type,
                "algorithm": "AEAD_AES_256_GCM",
                "ciphertext": base64.b64encode(ciphertext).decode(),
                "associated_data": associated_data,
                "nonce": nonce,
            },
        }
        return json.dumps(envelope, ensure_ascii=False).encode()

    def notify(self, url: str, body: bytes, headers: dict[str, str] | None = None) -> int:
        """POST a notification to the merchant (blocking: call it from a thread) and keep its answer."""
        answer = httpx.post(
            url, content=body, headers={"content-type": "application/json", **(headers or self.signed_headers(body))}
        )
        self.notified.append(answer.status_code)
        return answer.status_code

    def transaction(self, trade: Trade) -> dict[str, Any]:
        return {
            "appid": APPID,
            "mchid": MCHID,
            "out_trade_no": trade.out_trade_no,
            "transaction_id": trade.transaction_id,
            "trade_type": "NATIVE",
            "trade_state": trade.state,
            "trade_state_desc": "支付成功" if trade.state == "SUCCESS" else "未支付",
            "amount": {"total": trade.total_cents, "payer_total": trade.total_cents, "currency": "CNY"},
        }

    def refund_resource(self, refund: FakeRefund) -> dict[str, Any]:
        trade = self.trades[refund.out_trade_no]
        return {
            "mchid": MCHID,
            "out_trade_no": refund.out_trade_no,
            "transaction_id": trade.transaction_id,
            "out_refund_no": refund.out_refund_no,
            "refund_id": refund.refund_id,
            "status": refund.status,
            "refund_status": refund.status,
            "amount": {"total": trade.total_cents, "refund": refund.refund_cents, "currency": "CNY"},
        }

    # --- what the test does -----------------------------------------------------------------------------------------

    def pay(self, out_trade_no: str, *, notify: bool = True) -> int | None:
        """The buyer scans the code and pays; WeChat Pay notifies the merchant (unless the notification is lost)."""
        with self.lock:
            trade = self.trades[out_trade_no]
            trade.state, trade.transaction_id = "SUCCESS", f"4200{secrets.randbelow(10**24):024d}"
        if not notify:
            return None
        body = self.encrypted_notification("TRANSACTION.SUCCESS", "transaction", self.transaction(trade))
        return self.notify(trade.notify_url, body)

    def settle_refund(self, out_refund_no: str, status: str = "SUCCESS", *, notify: bool = True) -> int | None:
        with self.lock:
            refund = self.refunds[out_refund_no]
            refund.status = status
        if not notify:
            return None
        event = {"SUCCESS": "REFUND.SUCCESS", "CLOSED": "REFUND.CLOSED"}.get(status, "REFUND.ABNORMAL")
        return self.notify(
            refund.notify_url, self.encrypted_notification(event, "refund", self.refund_resource(refund))
        )

    # --- the API -------------------------------------------------------------------------------------------------

    def answer(self, method: str, path: str, body: bytes) -> tuple[int, dict[str, Any] | None]:
        route = urlsplit(path).path
        data = json.loads(body) if body else {}
        with self.lock:
            if method == "POST" and route == "/v3/pay/transactions/native":
                return self._native(data)
            if method == "GET" and route.startswith("/v3/pay/transactions/out-trade-no/"):
                trade = self.trades.get(route.rsplit("/", 1)[1])
                return (200, self.transaction(trade)) if trade else (404, _error("ORDER_NOT_EXIST", "订单不存在"))
            if method == "POST" and route == "/v3/refund/domestic/refunds":
                return self._refund(data)
            if method == "GET" and route.startswith("/v3/refund/domestic/refunds/"):
                refund = self.refunds.get(route.rsplit("/", 1)[1])
                if refund is None:
                    return 404, _error("RESOURCE_NOT_EXISTS", "退款单不存在")
                return 200, self.refund_resource(refund)
        return 404, _error("NOT_FOUND", f"no {method} {route}")

    def _native(self, data: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        if data.get("mchid") != MCHID or data.get("appid") != APPID:
            return 400, _error("PARAM_ERROR", "mchid and appid do not match")
        number, total = data["out_trade_no"], data["amount"]["total"]
        existing = self.trades.get(number)
        if existing is not None:
            if existing.total_cents != total:
                return 400, _error("INVALID_REQUEST", "201 商户订单号重复")
            return 200, {"code_url": existing.code_url}
        code_url = f"weixin://wxpay/bizpayurl?pr={secrets.token_urlsafe(6)}"
        self.trades[number] = Trade(number, data["description"], total, data["notify_url"], code_url)
        return 200, {"code_url": code_url}

    def _refund(self, data: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        number = data["out_refund_no"]
        if number in self.refunds:  # the same refund asked again: answered, never paid twice
            return 200, self.refund_resource(self.refunds[number])
        trade = self.trades.get(data["out_trade_no"])
        if trade is None or trade.state != "SUCCESS":
            return 404, _error("RESOURCE_NOT_EXISTS", "订单不存在或未支付")
        refunded = sum(r.refund_cents for r in self.refunds.values() if r.out_trade_no == trade.out_trade_no)
        amount = data["amount"]
        if amount["total"] != trade.total_cents or refunded + amount["refund"] > trade.total_cents:
            return 400, _error("INVALID_REQUEST", "退款金额超过订单可退金额")
        if self.refuse_refunds:
            return 403, _error(self.refuse_refunds.pop(0), "基本账户余额不足")
        refund = FakeRefund(
            number, trade.out_trade_no, amount["refund"], data["notify_url"], f"5030{secrets.randbelow(10**24):024d}"
        )
        self.refunds[number] = refund
        return 200, self.refund_resource(refund)


def _error(code: str, message: str) -> dict[str, Any]:
    return {"code": code, "message": message}


@contextmanager
def fake_wechatpay_server() -> Iterator[FakeWechatPay]:
    platform_key = rsa_key()
    merchant_key = rsa_key()
    fake: FakeWechatPay | None = None

    class Handler(BaseHTTPRequestHandler):
        def _serve(self) -> None:
            assert fake is not None
            body = self.rfile.read(int(self.headers.get("content-length", "0")))
            problem = fake.merchant_signature_problem(
                self.command, self.path, body, self.headers.get("authorization", "")
            )
            if problem is not None:
                status, answer = 401, _error("SIGN_ERROR", f"签名错误: {problem}")
            else:
                status, answer = fake.answer(self.command, self.path, body)
            fake.requests.append((self.command, self.path, status))
            content = json.dumps(answer, ensure_ascii=False).encode() if answer is not None else b""
            self.send_response(status)
            for name, value in fake.signed_headers(content).items():
                self.send_header(name, value)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(content)))
            self.end_headers()
            self.wfile.write(content)

        do_GET = do_POST = _serve

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    fake = FakeWechatPay(
        url=f"http://127.0.0.1:{server.server_address[1]}",
        merchant_key=merchant_key,
        merchant_serial=format(x509.random_serial_number(), "X"),
        platform_key=platform_key,
        platform_certificate=certificate(platform_key, "Tenpay.com Root CA (fake)"),
        apiv3_key=secrets.token_hex(16),
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
