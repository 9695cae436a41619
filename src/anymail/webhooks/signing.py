"""Webhook signature verifiers: one class per signing scheme.

| class | scheme | ESPs | signed bytes |
|---|---|---|---|
| :class:`MailgunVerifier` | hex HMAC-SHA256 | Mailgun | ``timestamp + token`` (from the payload) |
| :class:`MandrillVerifier` | base64 HMAC-SHA1 | Mandrill | URL + sorted form fields |
| :class:`SvixVerifier` | base64 HMAC-SHA256 | Resend | ``id.timestamp.body`` |
| :class:`RsaVerifier` | RSA PKCS#1 v1.5 | Postal | raw body |
| :class:`EcdsaVerifier` | ECDSA P-256 | SendGrid | ``timestamp + body`` |
| :class:`SnsVerifier` | RSA + fetched certificate | Amazon SES, Scaleway | SNS string to sign |

Each verifier is built with its key (an empty or unusable key raises
:exc:`AnymailImproperlyConfigured` right away) and its ``verify(...)`` raises
:exc:`AnymailWebhookValidationFailure` (answer 400) for anything forged or
malformed, whatever its shape. ``verify`` returns the signed timestamp where the
scheme has one, for :func:`anymail.webhooks.freshness.check_freshness`. The
symmetric schemes can also ``sign(...)``: Anymail's test helpers sign with the
same code. The asymmetric ones need ``cryptography``, imported only when such a
verifier is built.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import re
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, ClassVar, Final
from urllib.parse import urlsplit, urlunsplit

from ..conf import invalid_setting
from ..exceptions import AnymailImproperlyInstalled, AnymailWebhookValidationFailure
from ._sns_certs import (
    DEFAULT_CERT_CACHE,
    AwsSnsTrust,
    CertificateCache,
    SnsTrust,
    fetch_certificate,
    load_certificate,
)

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.types import PublicKeyTypes
    from cryptography.x509 import Certificate

__all__ = [
    "Clock",
    "EcdsaVerifier",
    "MailgunVerifier",
    "MandrillVerifier",
    "RsaVerifier",
    "SnsVerifier",
    "SvixVerifier",
    "sns_string_to_sign",
    "utc_now",
]

#: Returns the current time as an aware UTC datetime (injectable for tests).
Clock = Callable[[], datetime]

#: Longest signature header (or field) worth looking at: real ones are < 1 KB.
MAX_SIGNATURE_LENGTH: Final = 8192

_EPOCH_RE: Final = re.compile(r"[0-9]{1,12}")


def utc_now() -> datetime:
    return datetime.now(UTC)


def _fail(esp_name: str, problem: str) -> AnymailWebhookValidationFailure:
    return AnymailWebhookValidationFailure(f"{esp_name} webhook: {problem}", esp_name=esp_name)


def _text(value: object) -> str | None:
    """``value`` if it is a bounded ASCII string (what a signature or header must be)."""
    if isinstance(value, str) and len(value) <= MAX_SIGNATURE_LENGTH and value.isascii():
        return value
    return None


def _raw_header(headers: Mapping[str, Any], name: str) -> object:
    """A header's value, looked up case-insensitively (None when absent)."""
    value = headers.get(name)
    if value is None:
        lowered = name.lower()
        for key, candidate in headers.items():
            if isinstance(key, str) and key.lower() == lowered:
                return candidate
    return value


def _header(headers: Mapping[str, Any], name: str) -> str | None:
    """A header's value; None when absent or not ASCII text."""
    return _text(_raw_header(headers, name))


def _b64decode(value: str) -> bytes | None:
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        return None


def _epoch(value: object, esp_name: str) -> datetime:
    """A signed Unix timestamp (decimal digits) as an aware UTC datetime."""
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or not _EPOCH_RE.fullmatch(value):
        raise _fail(esp_name, "the signed timestamp is missing or is not a Unix time.")
    return datetime.fromtimestamp(int(value), UTC)


def _secret_text(value: object, setting: str, esp_name: str) -> str:
    """A configured key or secret, refused (without quoting it) when empty or not text."""
    if isinstance(value, bytes):
        try:
            value = value.decode("ascii")
        except UnicodeDecodeError:
            value = ""
    if not isinstance(value, str) or not value.strip():
        raise invalid_setting(
            setting, None, f"it is empty. Set it to the webhook key from your {esp_name} account."
        )
    return value


def _redact_userinfo(url: str) -> str:
    """The URL with any password replaced, so it can go in an error message."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "(unparsable URL)"
    if parts.password is None:
        return url
    netloc = f"{parts.username}:***@{parts.netloc.rpartition('@')[2]}"
    return urlunsplit(parts._replace(netloc=netloc))


# ---------------------------------------------------------------------------
# HMAC schemes


class _HmacVerifier:
    """Shared by the HMAC schemes: a list of keys (rotation), constant-time checks."""

    esp_name: str
    key_setting: str
    digestmod: ClassVar[str]
    #: "hex" or "base64": how the ESP writes the digest.
    encoding: ClassVar[str]

    def __init__(
        self,
        keys: str | bytes | Sequence[str | bytes],
        *,
        esp_name: str | None = None,
        key_setting: str | None = None,
    ) -> None:
        self.esp_name = esp_name or self.esp_name
        self.key_setting = key_setting or self.key_setting
        key_list = list(keys) if isinstance(keys, list | tuple) else [keys]
        if not key_list:
            _secret_text("", self.key_setting, self.esp_name)
        self._keys = [
            key
            if isinstance(key, bytes) and key
            else _secret_text(key, self.key_setting, self.esp_name).encode("utf-8")
            for key in key_list
        ]

    def _digest(self, key: bytes, message: bytes) -> str:
        digest = hmac.new(key, message, self.digestmod).digest()
        if self.encoding == "hex":
            return digest.hex()
        return base64.b64encode(digest).decode("ascii")

    def sign_message(self, message: bytes) -> str:
        """The signature the ESP would send for ``message`` (made with the first key)."""
        return self._digest(self._keys[0], message)

    def matches(self, message: bytes, signatures: Iterable[object]) -> bool:
        """Whether any offered signature was made with any key (no early exit)."""
        offered = [text.encode("ascii") for text in map(_text, signatures) if text]
        matched = False
        for key in self._keys:
            expected = self._digest(key, message).encode("ascii")
            for candidate in offered:
                matched |= hmac.compare_digest(expected, candidate)
        return matched


class MailgunVerifier(_HmacVerifier):
    """Mailgun: hex HMAC-SHA256 of ``timestamp + token``, keyed with the webhook signing key.

    The three values come from the payload's ``signature`` object (JSON webhooks)
    or form fields (legacy webhooks). Subaccount posts may also carry a
    ``parent-signature`` made with the parent account's key: pass it too, and
    configure both keys to accept either.
    """

    esp_name = "Mailgun"
    key_setting = "MAILGUN_WEBHOOK_SIGNING_KEY"
    digestmod = "sha256"
    encoding = "hex"

    @staticmethod
    def _message(timestamp: str, token: str) -> bytes:
        return (timestamp + token).encode("utf-8")

    def sign(self, timestamp: str, token: str) -> str:
        return self.sign_message(self._message(timestamp, token))

    def verify(
        self, timestamp: object, token: object, signature: object, parent_signature: object = None
    ) -> datetime:
        signed_at = _epoch(timestamp, self.esp_name)
        if _text(token) is None or not self.matches(
            self._message(str(timestamp), str(token)), [signature, parent_signature]
        ):
            raise _fail(
                self.esp_name,
                f"missing or incorrect signature. Check that ANYMAIL {self.key_setting} is "
                "the HTTP webhook signing key shown in your Mailgun dashboard.",
            )
        return signed_at


class MandrillVerifier(_HmacVerifier):
    """Mandrill: base64 HMAC-SHA1 of the webhook URL followed by each form field's name
    and value (sorted by name), from the ``X-Mandrill-Signature`` header.

    The URL is exactly as entered at Mandrill, userinfo included. The scheme has no
    timestamp, so ``verify`` returns None.
    """

    esp_name = "Mandrill"
    key_setting = "MANDRILL_WEBHOOK_KEY"
    digestmod = "sha1"
    encoding = "base64"
    signature_header: ClassVar[str] = "X-Mandrill-Signature"

    @staticmethod
    def _message(url: str, params: Mapping[str, str] | Iterable[tuple[str, str]]) -> bytes:
        pairs = params.items() if isinstance(params, Mapping) else params
        fields = "".join(name + value for name, value in sorted(pairs, key=lambda pair: pair[0]))
        return (url + fields).encode("utf-8")

    def sign(self, url: str, params: Mapping[str, str] | Iterable[tuple[str, str]]) -> str:
        return self.sign_message(self._message(url, params))

    def verify(
        self,
        url: str,
        params: Mapping[str, str] | Iterable[tuple[str, str]],
        headers: Mapping[str, Any],
    ) -> None:
        signature = _header(headers, self.signature_header)
        if signature is None or not self.matches(self._message(url, params), [signature]):
            raise _fail(
                self.esp_name,
                f"missing or incorrect {self.signature_header} for URL "
                f"{_redact_userinfo(url)}. Check ANYMAIL {self.key_setting}, and that this "
                "is exactly the URL entered at Mandrill (else set ANYMAIL MANDRILL_WEBHOOK_URL).",
            )


class SvixVerifier:
    """Svix (Resend): base64 HMAC-SHA256 of ``msg_id.timestamp.body``.

    The ``whsec_...`` secret is base64 after its prefix. The signature header lists
    space-separated ``v1,<base64>`` entries (several while the secret rotates);
    any match passes. Several secrets may be configured too (a list), so that the
    setting can change before or after the ESP's rotation: any of them may match.
    Svix's libraries also accept ``webhook-*`` header names.
    """

    esp_name: str = "Resend"
    key_setting: str = "RESEND_SIGNING_SECRET"
    #: (id, timestamp, signature) header names, in order of preference.
    header_names: ClassVar[tuple[tuple[str, str, str], ...]] = (
        ("svix-id", "svix-timestamp", "svix-signature"),
        ("webhook-id", "webhook-timestamp", "webhook-signature"),
    )

    def __init__(
        self,
        secret: str | Sequence[str],
        *,
        esp_name: str | None = None,
        key_setting: str | None = None,
    ) -> None:
        self.esp_name = esp_name or self.esp_name
        self.key_setting = key_setting or self.key_setting
        secrets = list(secret) if isinstance(secret, list | tuple) else [secret]
        if not secrets:
            _secret_text("", self.key_setting, self.esp_name)
        keys = [self._key(item) for item in secrets]
        self._hmac = _SvixHmac(keys, esp_name=self.esp_name, key_setting=self.key_setting)

    def _key(self, secret: object) -> bytes:
        text = _secret_text(secret, self.key_setting, self.esp_name).strip()
        key = _b64decode(text.removeprefix("whsec_"))
        if not key:
            raise invalid_setting(
                self.key_setting,
                None,
                "it is not a Svix signing secret. Copy the whole 'whsec_...' value "
                f"from your {self.esp_name} webhook settings.",
            )
        return key

    @staticmethod
    def _message(msg_id: str, timestamp: int, body: bytes) -> bytes:
        return f"{msg_id}.{timestamp}.".encode() + body

    def sign(self, msg_id: str, timestamp: int | str, body: bytes) -> str:
        """The ``v1,<base64>`` signature entry for these values."""
        return "v1," + self._hmac.sign_message(self._message(msg_id, int(timestamp), body))

    def signed_headers(self, msg_id: str, timestamp: int | str, body: bytes) -> dict[str, str]:
        """The three Svix headers for a post of ``body``."""
        ids, stamps, signatures = self.header_names[0]
        return {
            ids: msg_id,
            stamps: str(int(timestamp)),
            signatures: self.sign(msg_id, timestamp, body),
        }

    def verify(self, body: bytes, headers: Mapping[str, Any]) -> datetime:
        for id_name, timestamp_name, signature_name in self.header_names:
            msg_id = _header(headers, id_name)
            if msg_id is not None:
                timestamp = _header(headers, timestamp_name)
                signature = _header(headers, signature_name)
                break
        else:
            raise _fail(
                self.esp_name, "the svix-id, svix-timestamp and svix-signature headers are missing."
            )
        signed_at = _epoch(timestamp, self.esp_name)
        offered = [entry[3:] for entry in (signature or "").split() if entry.startswith("v1,")]
        message = self._message(msg_id, int(signed_at.timestamp()), body)
        if not msg_id or not self._hmac.matches(message, offered):
            raise _fail(
                self.esp_name,
                f"incorrect signature. Check ANYMAIL {self.key_setting} against the "
                f"webhook's signing secret in your {self.esp_name} dashboard.",
            )
        return signed_at


class _SvixHmac(_HmacVerifier):
    digestmod = "sha256"
    encoding = "base64"


# ---------------------------------------------------------------------------
# Public-key schemes


def _crypto_required(install_extra: str) -> None:
    try:
        import cryptography  # noqa: F401
    except ImportError:
        raise AnymailImproperlyInstalled("cryptography", install_extra=install_extra) from None


def _load_public_key(value: object, setting: str, esp_name: str) -> PublicKeyTypes:
    """A public key given as PEM, or as bare base64 DER (SubjectPublicKeyInfo)."""
    from cryptography.exceptions import UnsupportedAlgorithm
    from cryptography.hazmat.primitives.serialization import (
        load_der_public_key,
        load_pem_public_key,
    )

    text = _secret_text(value, setting, esp_name).strip()
    try:
        if text.startswith("-----BEGIN"):
            return load_pem_public_key(text.encode("ascii"))
        der = _b64decode("".join(text.split()))
        if der is None:
            raise ValueError
        return load_der_public_key(der)
    except (ValueError, UnsupportedAlgorithm, UnicodeEncodeError):
        pass
    raise invalid_setting(
        setting, None, f"it is not a public key. Copy it again from your {esp_name} account."
    )


class RsaVerifier:
    """Postal: RSA PKCS#1 v1.5 over the raw body, with the instance's public key.

    Postal 3.2+ sends a SHA-256 signature; older versions only SHA-1. The first
    header of :attr:`signature_headers` present is the one checked: a wrong
    SHA-256 signature is never excused by a SHA-1 one. No timestamp.
    """

    esp_name: str = "Postal"
    key_setting: str = "POSTAL_WEBHOOK_KEY"
    install_extra: ClassVar[str] = "postal"
    #: (header, hash algorithm), in order of preference.
    signature_headers: ClassVar[tuple[tuple[str, str], ...]] = (
        ("X-Postal-Signature-256", "sha256"),
        ("X-Postal-Signature", "sha1"),
    )

    def __init__(
        self,
        public_key: str | bytes,
        *,
        esp_name: str | None = None,
        key_setting: str | None = None,
    ) -> None:
        self.esp_name = esp_name or self.esp_name
        self.key_setting = key_setting or self.key_setting
        _crypto_required(self.install_extra)
        from cryptography.hazmat.primitives.asymmetric import rsa

        key = _load_public_key(public_key, self.key_setting, self.esp_name)
        if not isinstance(key, rsa.RSAPublicKey):
            raise invalid_setting(self.key_setting, None, "it is not an RSA public key.")
        self._key = key

    def verify(self, body: bytes, headers: Mapping[str, Any]) -> None:
        from cryptography.exceptions import InvalidSignature
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import padding

        present = [
            (name, algorithm)
            for name, algorithm in self.signature_headers
            if _raw_header(headers, name) is not None
        ]
        if not present:
            raise _fail(self.esp_name, f"the {self.signature_headers[-1][0]} header is missing.")
        name, algorithm = present[0]
        signature = _b64decode(_header(headers, name) or "")
        hash_algorithm = hashes.SHA256() if algorithm == "sha256" else hashes.SHA1()  # noqa: S303
        try:
            if not signature:
                raise InvalidSignature
            self._key.verify(signature, body, padding.PKCS1v15(), hash_algorithm)
        except InvalidSignature:
            raise _fail(
                self.esp_name,
                f"incorrect {name}. Check that ANYMAIL {self.key_setting} is the public key "
                "of the Postal instance that sends to this URL.",
            ) from None


class EcdsaVerifier:
    """SendGrid's Signed Event Webhook: ECDSA P-256 / SHA-256 over ``timestamp + body``.

    The key is the base64 verification key of the webhook's settings. Returns the
    signed timestamp.
    """

    esp_name: str = "SendGrid"
    key_setting: str = "SENDGRID_TRACKING_WEBHOOK_VERIFICATION_KEY"
    install_extra: ClassVar[str] = "sendgrid"
    signature_header: ClassVar[str] = "X-Twilio-Email-Event-Webhook-Signature"
    timestamp_header: ClassVar[str] = "X-Twilio-Email-Event-Webhook-Timestamp"

    def __init__(
        self,
        public_key: str | bytes,
        *,
        esp_name: str | None = None,
        key_setting: str | None = None,
    ) -> None:
        self.esp_name = esp_name or self.esp_name
        self.key_setting = key_setting or self.key_setting
        _crypto_required(self.install_extra)
        from cryptography.hazmat.primitives.asymmetric import ec

        key = _load_public_key(public_key, self.key_setting, self.esp_name)
        if not (isinstance(key, ec.EllipticCurvePublicKey) and key.curve.name == "secp256r1"):
            raise invalid_setting(self.key_setting, None, "it is not a P-256 (ECDSA) public key.")
        self._key = key

    def verify(self, body: bytes, headers: Mapping[str, Any]) -> datetime:
        from cryptography.exceptions import InvalidSignature
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import ec

        timestamp = _header(headers, self.timestamp_header)
        signed_at = _epoch(timestamp, self.esp_name)
        signature = _b64decode(_header(headers, self.signature_header) or "")
        try:
            if not signature or timestamp is None:
                raise InvalidSignature
            self._key.verify(signature, timestamp.encode("ascii") + body, ec.ECDSA(hashes.SHA256()))
        except (InvalidSignature, ValueError):
            # Defensive: a malformed DER signature must never escape as a ValueError.
            raise _fail(
                self.esp_name,
                f"missing or incorrect {self.signature_header}. Check that ANYMAIL "
                f"{self.key_setting} is this webhook's verification key.",
            ) from None
        return signed_at


# ---------------------------------------------------------------------------
# Amazon SNS (and SNS-compatible services)

#: The fields each SNS message type signs, in signing order.
_SNS_CONFIRMATION_FIELDS: Final = (
    "Message",
    "MessageId",
    "SubscribeURL",
    "Timestamp",
    "Token",
    "TopicArn",
    "Type",
)
SNS_SIGNED_FIELDS: Final[Mapping[str, tuple[str, ...]]] = {
    "Notification": ("Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"),
    "SubscriptionConfirmation": _SNS_CONFIRMATION_FIELDS,
    "UnsubscribeConfirmation": _SNS_CONFIRMATION_FIELDS,
}
#: Optional signed fields (signed only when present).
_SNS_OPTIONAL_FIELDS: Final = frozenset({"Subject"})
_SNS_TIMESTAMP_RE: Final = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,6})?Z")


def sns_string_to_sign(message: Mapping[str, Any]) -> bytes:
    """The bytes SNS signs: ``key\\nvalue\\n`` for each signed field present, in order.

    Raises KeyError for an unknown ``Type``; the verifier checks types first.
    """
    fields = SNS_SIGNED_FIELDS[message["Type"]]
    return "".join(f"{key}\n{message[key]}\n" for key in fields if key in message).encode()


class SnsVerifier:
    """Amazon SNS message signatures (SignatureVersion 1: SHA-1, 2: SHA-256, RSA).

    The signing certificate comes from the message's ``SigningCertURL``, which
    ``trust`` checks *before* anything is fetched (:class:`AwsSnsTrust`: the
    topic region's own SNS host). Certificates are cached by URL. A certificate
    that cannot be fetched raises :exc:`AnymailWebhookTransientError` (answer 5xx,
    SNS retries). ``topic_arns`` optionally limits which topics are accepted: a
    valid signature only proves the post came from *some* SNS topic.
    """

    install_extra: ClassVar[str] = "amazon-ses"

    def __init__(
        self,
        *,
        esp_name: str = "Amazon SES",
        trust: SnsTrust | None = None,
        topic_arns: Collection[str] | None = None,
        min_signature_version: int = 1,
        fetcher: Callable[[str], bytes] = fetch_certificate,
        clock: Clock = utc_now,
        cert_cache: CertificateCache = DEFAULT_CERT_CACHE,
    ) -> None:
        _crypto_required(self.install_extra)
        self.esp_name = esp_name
        self.trust = trust or AwsSnsTrust()
        self.topic_arns = frozenset(topic_arns) if topic_arns is not None else None
        self.signature_versions = {"1": 1, "2": 2}
        self.min_signature_version = min_signature_version
        self.fetcher = fetcher
        self.clock = clock
        self.cert_cache = cert_cache

    def verify(self, message: object) -> datetime:
        """Check a parsed SNS envelope; return its signed ``Timestamp``."""
        from cryptography.exceptions import InvalidSignature
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import padding, rsa

        message_type = message.get("Type") if isinstance(message, Mapping) else None
        if not isinstance(message_type, str) or message_type not in SNS_SIGNED_FIELDS:
            raise _fail(self.esp_name, "not an SNS message (unknown or missing Type).")
        assert isinstance(message, Mapping)
        for field in SNS_SIGNED_FIELDS[message_type]:
            if not isinstance(message.get(field), str) and not (
                field in _SNS_OPTIONAL_FIELDS and field not in message
            ):
                raise _fail(self.esp_name, f"SNS message field {field} is missing or not text.")
        version = self.signature_versions.get(_text(message.get("SignatureVersion")) or "")
        if version is None or version < self.min_signature_version:
            raise _fail(self.esp_name, "unsupported or missing SNS SignatureVersion.")

        topic_arn = message["TopicArn"]
        region = self.trust.topic_region(topic_arn)
        if region is None:
            raise _fail(self.esp_name, "the SNS TopicArn is malformed.")
        if self.topic_arns is not None and topic_arn not in self.topic_arns:
            raise _fail(
                self.esp_name,
                f"SNS topic {topic_arn[:300]} is not one of the allowed topics.",
            )
        signature = _b64decode(_text(message.get("Signature")) or "")
        if not signature:
            raise _fail(self.esp_name, "the SNS Signature is missing or not base64.")
        try:
            if not _SNS_TIMESTAMP_RE.fullmatch(message["Timestamp"]):
                raise ValueError
            signed_at = datetime.fromisoformat(message["Timestamp"])
        except ValueError:
            raise _fail(self.esp_name, "the SNS Timestamp is malformed.") from None

        cert_url = message.get("SigningCertURL")
        problem = (
            self.trust.cert_url_problem(cert_url, region)
            if isinstance(cert_url, str)
            else "it is missing"
        )
        if problem:
            raise _fail(self.esp_name, f"untrusted SNS SigningCertURL: {problem}.")
        assert isinstance(cert_url, str)
        certificate = self._certificate(cert_url, region)

        key = certificate.public_key()
        hash_algorithm = hashes.SHA256() if version == 2 else hashes.SHA1()  # noqa: S303
        try:
            if not isinstance(key, rsa.RSAPublicKey):
                raise InvalidSignature
            key.verify(signature, sns_string_to_sign(message), padding.PKCS1v15(), hash_algorithm)
        except InvalidSignature:
            raise _fail(self.esp_name, "incorrect SNS message signature.") from None
        return signed_at

    def _certificate(self, url: str, region: str) -> Certificate:
        # The cache only saves the fetch: the trust checks run on every message,
        # as the clock moves on and as different trust policies may share the cache.
        certificate = self.cert_cache.get(url)
        if certificate is None:
            certificate = load_certificate(self.fetcher(url), url, self.esp_name)
            self.cert_cache.put(url, certificate)
        now = self.clock()
        if not certificate.not_valid_before_utc <= now <= certificate.not_valid_after_utc:
            raise _fail(
                self.esp_name,
                "the SNS signing certificate is not valid now (expired, or the server "
                "clock is wrong).",
            )
        problem = self.trust.certificate_problem(certificate, region, now)
        if problem:
            raise _fail(self.esp_name, f"untrusted SNS signing certificate: {problem}.")
        return certificate
