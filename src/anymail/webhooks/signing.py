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
same code. The asymmetric ones (in ``_public_key_signing`` and ``_sns_signing``,
exported here) need ``cryptography``, imported only when such a verifier is built.
"""

from __future__ import annotations

import base64
import hmac
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any, ClassVar

from ..conf import invalid_setting
from ._public_key_signing import EcdsaVerifier, RsaVerifier
from ._sns_signing import SnsVerifier, sns_string_to_sign
from ._verifying import (
    Clock,
    _b64decode,
    _epoch,
    _fail,
    _header,
    _redact_userinfo,
    _secret_text,
    _text,
    _Verifier,
    utc_now,
)

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


# ---------------------------------------------------------------------------
# HMAC schemes


class _HmacVerifier(_Verifier):
    """Shared by the HMAC schemes: a list of keys (rotation), constant-time checks."""

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
        super().__init__(esp_name=esp_name, key_setting=key_setting)
        self._keys = [
            key
            if isinstance(key, bytes) and key
            else _secret_text(key, self.key_setting, self.esp_name).encode("utf-8")
            for key in self._secret_list(keys)
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


class SvixVerifier(_Verifier):
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
        super().__init__(esp_name=esp_name, key_setting=key_setting)
        keys = [self._key(item) for item in self._secret_list(secret)]
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
