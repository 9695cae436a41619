"""Signature verifiers (anymail.webhooks.signing) against the ESPs' known-answer vectors.

SNS has its own module (test_sns_signing.py).
"""

from __future__ import annotations

import base64
import hashlib
import json
import sys
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl

import pytest
from django.core.exceptions import ImproperlyConfigured
from svix.webhooks import Webhook, WebhookVerificationError

from anymail.exceptions import (
    AnymailImproperlyConfigured,
    AnymailImproperlyInstalled,
    AnymailWebhookValidationFailure,
)
from anymail.webhooks._signers import EcdsaTestSigner, RsaTestSigner
from anymail.webhooks.signing import (
    EcdsaVerifier,
    MailgunVerifier,
    MandrillVerifier,
    RsaVerifier,
    SvixVerifier,
)
from tests.utils import FIXTURES_DIR, fixture_json, run_python

MAILGUN_KEY = "mg-test-webhook-signing-key-NOT-REAL"
MAILGUN_PARENT_KEY = "mg-test-parent-account-signing-key-NOT-REAL"
MAILGUN_SIGNED = [
    "tracking_accepted.json",
    "tracking_clicked.json",
    "tracking_complained.json",
    "tracking_delivered.json",
    "tracking_failed_delivery_status_null.json",
    "tracking_failed_permanent_bounce.json",
    "tracking_failed_permanent_suppress_bounce.json",
    "tracking_failed_temporary.json",
    "tracking_opened.json",
    "tracking_rejected.json",
    "tracking_unsubscribed.json",
]

#: Header values of every wrong shape: none may escape as anything but a validation failure.
GARBAGE_VALUES: list[Any] = [
    None,
    "",
    " ",
    "=",
    "v1,",
    "not base64!",
    "é" * 10,
    "\x00\n",
    "A" * 100_000,
    b"bytes",
    12345,
    ["list"],
    {"a": "dict"},
]


def fixture_bytes(esp: str, name: str) -> bytes:
    return (FIXTURES_DIR / esp / name).read_bytes()


def mailgun_signature(name: str) -> dict[str, str]:
    return fixture_json("mailgun", name)["signature"]


# --- Mailgun (hex HMAC-SHA256) ---------------------------------------------------


@pytest.mark.parametrize("name", MAILGUN_SIGNED)
def test_mailgun_fixture_signatures_verify(name: str) -> None:
    signature = mailgun_signature(name)
    verifier = MailgunVerifier(MAILGUN_KEY)
    signed_at = verifier.verify(signature["timestamp"], signature["token"], signature["signature"])
    assert signed_at == datetime.fromtimestamp(int(signature["timestamp"]), UTC)
    # The same code signs (anymail.testing uses it): the known answer, exactly.
    assert verifier.sign(signature["timestamp"], signature["token"]) == signature["signature"]


def test_mailgun_bad_signature_fixture_is_rejected() -> None:
    signature = mailgun_signature("tracking_bad_signature.json")
    with pytest.raises(AnymailWebhookValidationFailure, match="MAILGUN_WEBHOOK_SIGNING_KEY"):
        MailgunVerifier(MAILGUN_KEY).verify(
            signature["timestamp"], signature["token"], signature["signature"]
        )


def test_mailgun_subaccount_parent_signature() -> None:
    signature = mailgun_signature("tracking_delivered_subaccount.json")
    args = (signature["timestamp"], signature["token"], signature["signature"])
    # Only parent-signature verifies, and only with the parent account's key.
    MailgunVerifier(MAILGUN_PARENT_KEY).verify(*args, signature["parent-signature"])
    with pytest.raises(AnymailWebhookValidationFailure):
        MailgunVerifier(MAILGUN_PARENT_KEY).verify(*args)
    with pytest.raises(AnymailWebhookValidationFailure):
        MailgunVerifier(MAILGUN_KEY).verify(*args, signature["parent-signature"])


def test_mailgun_key_rotation_accepts_either_key() -> None:
    signature = mailgun_signature("tracking_delivered.json")
    args = (signature["timestamp"], signature["token"], signature["signature"])
    MailgunVerifier(["new-key-not-yet-at-mailgun", MAILGUN_KEY]).verify(*args)
    with pytest.raises(AnymailWebhookValidationFailure):
        MailgunVerifier(["new-key-not-yet-at-mailgun", "old-key"]).verify(*args)


@pytest.mark.parametrize(
    "field, value",
    [("timestamp", "1768469501"), ("token", "373e0712c83cffe15ff427b60e788b549f82496fe5fd5391f8")],
)
def test_mailgun_any_change_to_signed_values_is_rejected(field: str, value: str) -> None:
    signature = dict(mailgun_signature("tracking_delivered.json"), **{field: value})
    with pytest.raises(AnymailWebhookValidationFailure):
        MailgunVerifier(MAILGUN_KEY).verify(
            signature["timestamp"], signature["token"], signature["signature"]
        )


@pytest.mark.parametrize("position", range(3))
@pytest.mark.parametrize("garbage", GARBAGE_VALUES)
def test_mailgun_garbage_is_one_validation_failure(position: int, garbage: Any) -> None:
    signature = mailgun_signature("tracking_delivered.json")
    args: list[Any] = [signature["timestamp"], signature["token"], signature["signature"]]
    args[position] = garbage
    with pytest.raises(AnymailWebhookValidationFailure):
        MailgunVerifier(MAILGUN_KEY).verify(*args)


@pytest.mark.parametrize("keys", ["", "   ", [], [""], [MAILGUN_KEY, ""], None, b""])
def test_empty_hmac_key_is_a_configuration_error(keys: Any) -> None:
    with pytest.raises(AnymailImproperlyConfigured, match="MAILGUN_WEBHOOK_SIGNING_KEY"):
        MailgunVerifier(keys)


# --- Mandrill (base64 HMAC-SHA1 over URL + form fields) ----------------------------


def mandrill_vectors() -> list[dict[str, str]]:
    return fixture_json("mandrill", "signatures.json")["signatures"]


@pytest.mark.parametrize(
    "vector", mandrill_vectors(), ids=lambda v: f"{v['file']}@{v['url'].split('//')[1][:8]}"
)
def test_mandrill_known_answers(vector: dict[str, str]) -> None:
    params = parse_qsl(fixture_bytes("mandrill", vector["file"]).decode(), keep_blank_values=True)
    verifier = MandrillVerifier(vector["key"])
    assert verifier.sign(vector["url"], params) == vector["X-Mandrill-Signature"]
    verifier.verify(vector["url"], params, {"X-Mandrill-Signature": vector["X-Mandrill-Signature"]})
    # Django's request.headers is case-insensitive; a plain dict of WSGI-style names too.
    verifier.verify(
        vector["url"], dict(params), {"x-mandrill-signature": vector["X-Mandrill-Signature"]}
    )


def test_mandrill_wrong_url_names_the_url_but_never_secrets() -> None:
    vector = mandrill_vectors()[1]  # signed with userinfo in the URL
    params = parse_qsl(fixture_bytes("mandrill", vector["file"]).decode())
    headers = {"X-Mandrill-Signature": vector["X-Mandrill-Signature"]}
    url_without_auth = "http://testserver/anymail/mandrill/"
    with pytest.raises(AnymailWebhookValidationFailure) as info:
        MandrillVerifier(vector["key"]).verify(url_without_auth, params, headers)
    assert url_without_auth in str(info.value)
    with pytest.raises(AnymailWebhookValidationFailure) as info:
        MandrillVerifier(vector["key"]).verify(
            "http://username:wrongpassword@testserver/anymail/mandrill/", params, headers
        )
    message = str(info.value)
    assert "http://username:***@testserver/anymail/mandrill/" in message
    assert "wrongpassword" not in message
    assert vector["key"] not in message
    assert "MANDRILL_WEBHOOK_KEY" in message


def test_mandrill_tampered_body_wrong_key_and_missing_header() -> None:
    vector = mandrill_vectors()[0]
    params = parse_qsl(fixture_bytes("mandrill", vector["file"]).decode())
    headers = {"X-Mandrill-Signature": vector["X-Mandrill-Signature"]}
    tampered = [(name, value.replace("hard_bounce", "soft_bounce")) for name, value in params]
    assert tampered != params
    for verifier, fields, sent in [
        (MandrillVerifier(vector["key"]), tampered, headers),
        (MandrillVerifier("another-key"), params, headers),
        (MandrillVerifier(vector["key"]), params, {}),
    ]:
        with pytest.raises(AnymailWebhookValidationFailure):
            verifier.verify(vector["url"], fields, sent)


def test_mandrill_key_list_covers_tracking_and_inbound_keys() -> None:
    vector = next(v for v in mandrill_vectors() if v["key"] == "test-webhook")
    params = parse_qsl(fixture_bytes("mandrill", vector["file"]).decode())
    MandrillVerifier(["TEST-mandrill-webhook-key-NOT-REAL", "test-webhook"]).verify(
        vector["url"], params, {"X-Mandrill-Signature": vector["X-Mandrill-Signature"]}
    )


@pytest.mark.parametrize("garbage", GARBAGE_VALUES)
def test_mandrill_garbage_header_is_one_validation_failure(garbage: Any) -> None:
    with pytest.raises(AnymailWebhookValidationFailure):
        MandrillVerifier("key").verify(
            "https://example.com/", [("mandrill_events", "[]")], {"X-Mandrill-Signature": garbage}
        )


# --- Svix (Resend) -----------------------------------------------------------------


def svix_vectors() -> tuple[str, list[dict[str, str]]]:
    data = fixture_json("resend", "signatures.json")
    return data["signing_secret"], data["vectors"]


def svix_headers(vector: dict[str, str], signature_key: str = "svix-signature") -> dict[str, str]:
    return {
        "svix-id": vector["svix-id"],
        "svix-timestamp": vector["svix-timestamp"],
        "svix-signature": vector[signature_key],
    }


@pytest.mark.parametrize("index", [0, 1])
def test_svix_known_answers(index: int) -> None:
    secret, vectors = svix_vectors()
    vector = vectors[index]
    body = fixture_bytes("resend", vector["file"])
    verifier = SvixVerifier(secret)
    assert (
        verifier.sign(vector["svix-id"], vector["svix-timestamp"], body) == vector["svix-signature"]
    )
    expected_time = datetime.fromtimestamp(int(vector["svix-timestamp"]), UTC)
    assert verifier.verify(body, svix_headers(vector)) == expected_time
    # During secret rotation Svix sends several signatures: any match passes.
    assert verifier.verify(body, svix_headers(vector, "svix-signature_with_rotation"))
    # Svix libraries also accept the vendor-neutral webhook-* names.
    neutral = {
        name.replace("svix-", "webhook-"): value for name, value in svix_headers(vector).items()
    }
    assert verifier.verify(body, neutral) == expected_time


def test_svix_rejects_tampering_and_wrong_secret() -> None:
    secret, vectors = svix_vectors()
    vector = vectors[0]
    body = fixture_bytes("resend", vector["file"])
    headers = svix_headers(vector)
    other_secret = "whsec_" + base64.b64encode(b"another-secret-for-tests").decode()
    cases: list[tuple[SvixVerifier, bytes, dict[str, str]]] = [
        (SvixVerifier(secret), body.replace(b"delivered", b"bounced"), headers),
        (SvixVerifier(secret), body + b" ", headers),
        (SvixVerifier(other_secret), body, headers),
        (SvixVerifier(secret), body, {**headers, "svix-id": "msg_other"}),
        (SvixVerifier(secret), body, {**headers, "svix-timestamp": "1772600771"}),
        # A v1 signature under another version label does not count.
        (
            SvixVerifier(secret),
            body,
            {**headers, "svix-signature": "v2" + headers["svix-signature"][2:]},
        ),
        (SvixVerifier(secret), body, {**headers, "svix-signature": headers["svix-signature"][3:]}),
        (SvixVerifier(secret), body, {"svix-id": vector["svix-id"]}),
        (SvixVerifier(secret), body, {}),
    ]
    for verifier, posted, sent in cases:
        with pytest.raises(AnymailWebhookValidationFailure):
            verifier.verify(posted, sent)


def test_svix_failure_names_the_setting() -> None:
    secret, vectors = svix_vectors()
    vector = vectors[1]
    verifier = SvixVerifier(secret, key_setting="RESEND_INBOUND_SECRET")
    with pytest.raises(AnymailWebhookValidationFailure, match="RESEND_INBOUND_SECRET") as info:
        verifier.verify(b"{}", svix_headers(vector))
    assert secret not in str(info.value)


@pytest.mark.parametrize("header", ["svix-id", "svix-timestamp", "svix-signature"])
@pytest.mark.parametrize("garbage", GARBAGE_VALUES)
def test_svix_garbage_header_is_one_validation_failure(header: str, garbage: Any) -> None:
    secret, vectors = svix_vectors()
    vector = vectors[0]
    body = fixture_bytes("resend", vector["file"])
    with pytest.raises(AnymailWebhookValidationFailure):
        SvixVerifier(secret).verify(body, {**svix_headers(vector), header: garbage})


@pytest.mark.parametrize("secret", ["", "whsec_", "whsec_not base64!", None])
def test_svix_unusable_secret_is_a_configuration_error(secret: Any) -> None:
    with pytest.raises(AnymailImproperlyConfigured, match="RESEND_SIGNING_SECRET"):
        SvixVerifier(secret)


def test_svix_cross_checked_with_the_svix_library() -> None:
    secret, _ = svix_vectors()
    ours, theirs = SvixVerifier(secret), Webhook(secret)
    body = b'{"type":"email.sent","data":{"to":["caf\xc3\xa9@example.com"]}}'
    now = datetime.now(UTC).replace(microsecond=0)
    # Signed by us, verified by svix.
    headers = ours.signed_headers("msg_cross_check_1", int(now.timestamp()), body)
    theirs.verify(body, headers)
    # Signed by svix, verified by us.
    signature = theirs.sign("msg_cross_check_2", now, body.decode())
    assert (
        ours.verify(
            body,
            {
                "svix-id": "msg_cross_check_2",
                "svix-timestamp": str(int(now.timestamp())),
                "svix-signature": signature,
            },
        )
        == now
    )
    # And both refuse the same tampering.
    tampered = body.replace(b"sent", b"bounced")
    with pytest.raises(WebhookVerificationError):
        theirs.verify(tampered, headers)
    with pytest.raises(AnymailWebhookValidationFailure):
        ours.verify(tampered, headers)


# --- RSA (Postal) ------------------------------------------------------------------


def postal_vectors() -> tuple[str, list[dict[str, str]]]:
    data = fixture_json("postal", "signatures.json")
    return data["POSTAL_WEBHOOK_KEY"], data["vectors"]


@pytest.mark.parametrize("index", [0, 1])
def test_postal_known_answers(index: int) -> None:
    key, vectors = postal_vectors()
    vector = vectors[index]
    body = fixture_bytes("postal", vector["file"])
    assert hashlib.sha256(body).hexdigest() == vector["body_sha256_hex"], "fixture bytes changed"
    verifier = RsaVerifier(key)
    both = {name: vector[name] for name in ("X-Postal-Signature", "X-Postal-Signature-256")}
    assert verifier.verify(body, both) is None  # no signed timestamp in this scheme
    # Postal before 3.2 sends only the SHA-1 header.
    verifier.verify(body, {"x-postal-signature": vector["X-Postal-Signature"]})
    verifier.verify(body, {"X-Postal-Signature-256": vector["X-Postal-Signature-256"]})


def test_postal_rejections() -> None:
    key, vectors = postal_vectors()
    body = fixture_bytes("postal", vectors[0]["file"])
    sha1, sha256 = vectors[0]["X-Postal-Signature"], vectors[0]["X-Postal-Signature-256"]
    other = vectors[1]["X-Postal-Signature-256"]
    cases: list[tuple[bytes, dict[str, Any]]] = [
        (body.replace(b"MessageSent", b"MessageHeld"), {"X-Postal-Signature-256": sha256}),
        (body, {"X-Postal-Signature-256": other}),
        # A wrong SHA-256 signature is not excused by a valid SHA-1 one (no downgrade).
        (body, {"X-Postal-Signature-256": other, "X-Postal-Signature": sha1}),
        (body, {"X-Postal-Signature-256": "", "X-Postal-Signature": sha1}),
        # SHA-1 signature checked as SHA-256.
        (body, {"X-Postal-Signature-256": sha1}),
        (body, {}),
    ]
    for posted, headers in cases:
        with pytest.raises(AnymailWebhookValidationFailure, match="Postal"):
            RsaVerifier(key).verify(posted, headers)


@pytest.mark.parametrize("header", ["X-Postal-Signature", "X-Postal-Signature-256"])
@pytest.mark.parametrize("garbage", GARBAGE_VALUES[1:])
def test_postal_garbage_header_is_one_validation_failure(header: str, garbage: Any) -> None:
    key, vectors = postal_vectors()
    with pytest.raises(AnymailWebhookValidationFailure):
        RsaVerifier(key).verify(fixture_bytes("postal", vectors[0]["file"]), {header: garbage})


def test_postal_key_formats() -> None:
    key, vectors = postal_vectors()
    body = fixture_bytes("postal", vectors[0]["file"])
    headers = {"X-Postal-Signature-256": vectors[0]["X-Postal-Signature-256"]}
    wrapped = "\n".join(key[i : i + 64] for i in range(0, len(key), 64))
    pem = f"-----BEGIN PUBLIC KEY-----\n{wrapped}\n-----END PUBLIC KEY-----\n"
    for form in [key, f"  {wrapped}\n", pem, pem.encode()]:
        RsaVerifier(form).verify(body, headers)


@pytest.mark.parametrize(
    "key",
    ["", "   ", None, "not base64!", base64.b64encode(b"not a DER key").decode(), "-----BEGIN x"],
)
def test_postal_unusable_key_is_a_configuration_error(key: Any) -> None:
    with pytest.raises(AnymailImproperlyConfigured, match="POSTAL_WEBHOOK_KEY"):
        RsaVerifier(key)


def test_postal_key_of_the_wrong_type() -> None:
    with pytest.raises(AnymailImproperlyConfigured, match="not an RSA public key"):
        RsaVerifier(EcdsaTestSigner().public_key)


def test_postal_runtime_signer_round_trip() -> None:
    signer = RsaTestSigner()
    body = b'{"event":"MessageSent","payload":{}}'
    verifier = RsaVerifier(signer.public_key)
    verifier.verify(body, signer.sign(body))
    with pytest.raises(AnymailWebhookValidationFailure):
        RsaVerifier(postal_vectors()[0]).verify(body, signer.sign(body))


# --- ECDSA (SendGrid) --------------------------------------------------------------


def sendgrid_vector() -> tuple[dict[str, Any], bytes]:
    data = fixture_json("sendgrid", "tracking_signed_request.json")
    return data, base64.b64decode(data["body_base64"])


def test_sendgrid_known_answer() -> None:
    data, body = sendgrid_vector()
    assert fixture_bytes("sendgrid", data["body_file"]) == body
    assert body.endswith(b"\r\n")
    verifier = EcdsaVerifier(data["verification_key"])
    signed_at = verifier.verify(body, data["headers"])
    assert signed_at == datetime.fromtimestamp(1772478400, UTC)


def test_sendgrid_rejections() -> None:
    data, body = sendgrid_vector()
    headers = data["headers"]
    signature_header = "X-Twilio-Email-Event-Webhook-Signature"
    timestamp_header = "X-Twilio-Email-Event-Webhook-Timestamp"
    cases: list[tuple[bytes, dict[str, Any]]] = [
        (body.rstrip(b"\r\n"), headers),  # a re-serialized body loses the CRLF
        (body, {**headers, timestamp_header: "1772478401"}),
        (body, {**headers, signature_header: data["wrong_key_signature"]}),
        (body, {timestamp_header: headers[timestamp_header]}),
        (body, {signature_header: headers[signature_header]}),
    ]
    for posted, sent in cases:
        with pytest.raises(AnymailWebhookValidationFailure, match="SendGrid"):
            EcdsaVerifier(data["verification_key"]).verify(posted, sent)


@pytest.mark.parametrize(
    "header",
    ["X-Twilio-Email-Event-Webhook-Signature", "X-Twilio-Email-Event-Webhook-Timestamp"],
)
@pytest.mark.parametrize(
    "garbage", [*GARBAGE_VALUES, base64.b64encode(b"\x30\x03\x02\x01").decode(), "-1", "1e9"]
)
def test_sendgrid_garbage_header_is_one_validation_failure(header: str, garbage: Any) -> None:
    data, body = sendgrid_vector()
    with pytest.raises(AnymailWebhookValidationFailure):
        EcdsaVerifier(data["verification_key"]).verify(body, {**data["headers"], header: garbage})


def test_sendgrid_key_of_the_wrong_type() -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    p384 = ec.generate_private_key(ec.SECP384R1()).public_key()
    p384_key = base64.b64encode(
        p384.public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    ).decode()
    for key in [p384_key, postal_vectors()[0]]:
        with pytest.raises(AnymailImproperlyConfigured, match="P-256"):
            EcdsaVerifier(key)
    with pytest.raises(AnymailImproperlyConfigured, match="VERIFICATION_KEY"):
        EcdsaVerifier("")


def test_sendgrid_runtime_signer_round_trip() -> None:
    now = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    signer = EcdsaTestSigner(clock=lambda: now)
    body = json.dumps([{"event": "delivered"}]).encode() + b"\r\n"
    assert EcdsaVerifier(signer.public_key).verify(body, signer.sign(body)) == now
    later = signer.sign(body, timestamp=int((now + timedelta(hours=1)).timestamp()))
    assert EcdsaVerifier(signer.public_key).verify(body, later) == now + timedelta(hours=1)
    with pytest.raises(AnymailWebhookValidationFailure):
        EcdsaVerifier(EcdsaTestSigner().public_key).verify(body, signer.sign(body))


# --- Dependencies ------------------------------------------------------------------


def test_asymmetric_verifiers_need_cryptography(monkeypatch: pytest.MonkeyPatch) -> None:
    from anymail.webhooks.signing import SnsVerifier

    key, _ = postal_vectors()
    monkeypatch.setitem(sys.modules, "cryptography", None)
    for build, extra in [
        (lambda: RsaVerifier(key), "postal"),
        (lambda: EcdsaVerifier(key), "sendgrid"),
        (SnsVerifier, "amazon-ses"),
    ]:
        with pytest.raises(AnymailImproperlyInstalled) as info:
            build()
        assert isinstance(info.value, ImproperlyConfigured)
        assert info.value.install_extra == extra
        assert "cryptography" in str(info.value)
    # The HMAC schemes use only the standard library.
    MailgunVerifier(MAILGUN_KEY)


def test_importing_the_webhook_modules_needs_neither_cryptography_nor_svix() -> None:
    code = (
        "import sys\n"
        "sys.modules['cryptography'] = None\n"
        "import anymail.webhooks.signing, anymail.webhooks.freshness, anymail.webhooks.dedupe\n"
        "from anymail.webhooks.signing import MailgunVerifier\n"
        "MailgunVerifier('key').sign('1', 'token')\n"
        "assert 'svix' not in sys.modules, 'svix imported'\n"
    )
    result = run_python("-c", code)
    assert result.returncode == 0, result.stderr
