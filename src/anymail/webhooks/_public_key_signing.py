"""The public-key signature schemes (they need ``cryptography``, imported when a verifier
is built): RSA (Postal) and ECDSA (SendGrid). Exported by :mod:`anymail.webhooks.signing`.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar

from ..conf import invalid_setting
from ._verifying import (
    _b64decode,
    _crypto_required,
    _epoch,
    _fail,
    _header,
    _load_public_key,
    _raw_header,
    _Verifier,
)

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.types import PublicKeyTypes

__all__ = ["EcdsaVerifier", "RsaVerifier"]


class _PublicKeyVerifier(_Verifier):
    """A scheme checked with the ESP's public key (needs ``cryptography``)."""

    install_extra: ClassVar[str]

    def __init__(
        self,
        public_key: str | bytes,
        *,
        esp_name: str | None = None,
        key_setting: str | None = None,
    ) -> None:
        super().__init__(esp_name=esp_name, key_setting=key_setting)
        _crypto_required(self.install_extra)
        key = _load_public_key(public_key, self.key_setting, self.esp_name)
        self._key = self._checked_key(key)

    def _checked_key(self, key: PublicKeyTypes) -> Any:
        """``key``, if it is of the scheme's kind; else raise invalid_setting."""
        raise NotImplementedError


class RsaVerifier(_PublicKeyVerifier):
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

    def _checked_key(self, key: PublicKeyTypes) -> Any:
        from cryptography.hazmat.primitives.asymmetric import rsa

        if not isinstance(key, rsa.RSAPublicKey):
            raise invalid_setting(self.key_setting, None, "it is not an RSA public key.")
        return key

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


class EcdsaVerifier(_PublicKeyVerifier):
    """SendGrid's Signed Event Webhook: ECDSA P-256 / SHA-256 over ``timestamp + body``.

    The key is the base64 verification key of the webhook's settings. Returns the
    signed timestamp.
    """

    esp_name: str = "SendGrid"
    key_setting: str = "SENDGRID_TRACKING_WEBHOOK_VERIFICATION_KEY"
    install_extra: ClassVar[str] = "sendgrid"
    signature_header: ClassVar[str] = "X-Twilio-Email-Event-Webhook-Signature"
    timestamp_header: ClassVar[str] = "X-Twilio-Email-Event-Webhook-Timestamp"

    def _checked_key(self, key: PublicKeyTypes) -> Any:
        from cryptography.hazmat.primitives.asymmetric import ec

        if not (isinstance(key, ec.EllipticCurvePublicKey) and key.curve.name == "secp256r1"):
            raise invalid_setting(self.key_setting, None, "it is not a P-256 (ECDSA) public key.")
        return key

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
