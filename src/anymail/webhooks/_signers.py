"""Throwaway keys that sign webhook posts the way ESPs do, for tests.

The symmetric schemes sign with their verifier's own ``sign()``. The asymmetric
ones need the ESP's private key, which nobody else has: these signers make a
fresh key pair (and, for SNS, a self-signed certificate and a fetcher that
serves it), so a test can post correctly signed requests to a view configured
with the matching public key. Needs ``cryptography``.
"""

from __future__ import annotations

import base64
import secrets
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from .signing import Clock, EcdsaVerifier, RsaVerifier, sns_string_to_sign, utc_now


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _public_key_b64(private_key: Any) -> str:
    from cryptography.hazmat.primitives import serialization

    der = private_key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return _b64(der)


class RsaTestSigner:
    """Signs like Postal: ``public_key`` is the POSTAL_WEBHOOK_KEY value to configure.

    ``private_key`` (an RSA key) keeps a key pair; by default a fresh one is made.
    """

    def __init__(self, private_key: Any = None) -> None:
        from cryptography.hazmat.primitives.asymmetric import rsa

        self.private_key = private_key or rsa.generate_private_key(
            public_exponent=65537, key_size=2048
        )
        self.public_key = _public_key_b64(self.private_key)

    def sign(self, body: bytes) -> dict[str, str]:
        """Both of Postal's signature headers for ``body``."""
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import padding

        (new_header, _), (old_header, _) = RsaVerifier.signature_headers
        sign = self.private_key.sign
        return {
            new_header: _b64(sign(body, padding.PKCS1v15(), hashes.SHA256())),
            old_header: _b64(sign(body, padding.PKCS1v15(), hashes.SHA1())),  # noqa: S303
        }


class EcdsaTestSigner:
    """Signs like SendGrid: ``public_key`` is the verification key to configure.

    ``private_key`` (a P-256 key) keeps a key pair; by default a fresh one is made.
    """

    def __init__(self, clock: Clock = utc_now, private_key: Any = None) -> None:
        from cryptography.hazmat.primitives.asymmetric import ec

        self.private_key = private_key or ec.generate_private_key(ec.SECP256R1())
        self.public_key = _public_key_b64(self.private_key)
        self.clock = clock

    def sign(self, body: bytes, timestamp: int | None = None) -> dict[str, str]:
        """The signature and timestamp headers for ``body`` (signed now by default)."""
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import ec

        stamp = str(int(self.clock().timestamp()) if timestamp is None else timestamp)
        signature = self.private_key.sign(stamp.encode("ascii") + body, ec.ECDSA(hashes.SHA256()))
        return {
            EcdsaVerifier.signature_header: _b64(signature),
            EcdsaVerifier.timestamp_header: stamp,
        }


class SnsTestSigner:
    """Signs like Amazon SNS, with a self-signed certificate served by :meth:`fetch`.

    Build the view's :class:`~anymail.webhooks.signing.SnsVerifier` with
    ``fetcher=signer.fetch``: no network is used. ``issuer`` (a certificate and
    its private key) makes the certificate issued by that CA instead of
    self-signed (for trust-chain policies such as Scaleway's). ``kept`` (a private
    key, its certificate and the certificate id of its URL) restores a signer.
    """

    def __init__(
        self,
        *,
        name: str = "sns.amazonaws.com",
        clock: Clock = utc_now,
        valid_for: timedelta = timedelta(days=365),
        issuer: tuple[Any, Any] | None = None,
        kept: tuple[Any, Any, str] | None = None,
    ) -> None:
        from cryptography.hazmat.primitives.asymmetric import rsa

        self.fetched: list[str] = []
        if kept is not None:
            self.private_key, self.certificate, self.cert_id = kept
            return
        self.private_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.cert_id = secrets.token_hex(16)
        now = clock()
        self.certificate = make_certificate(
            self.private_key, name, now - timedelta(days=1), now + valid_for, issuer
        )

    @property
    def cert_pem(self) -> bytes:
        from cryptography.hazmat.primitives import serialization

        return self.certificate.public_bytes(serialization.Encoding.PEM)

    def cert_url(self, region: str) -> str:
        suffix = ".amazonaws.com.cn" if region.startswith("cn-") else ".amazonaws.com"
        return f"https://sns.{region}{suffix}/SimpleNotificationService-{self.cert_id}.pem"

    def fetch(self, url: str) -> bytes:
        """A certificate fetcher that serves this signer's certificate (and records URLs)."""
        self.fetched.append(url)
        if not urlsplit(url).path.endswith(f"-{self.cert_id}.pem"):
            raise AssertionError(f"unexpected certificate fetch: {url}")
        return self.cert_pem

    def sign(
        self, message: Mapping[str, Any], *, version: str = "1", cert_url: str | None = None
    ) -> dict[str, Any]:
        """A copy of the SNS ``message`` with SignatureVersion, Signature and SigningCertURL."""
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import padding

        signed = dict(message)
        if cert_url is None:
            cert_url = self.cert_url(str(message["TopicArn"]).split(":")[3])
        algorithm = hashes.SHA256() if version == "2" else hashes.SHA1()  # noqa: S303
        signature = self.private_key.sign(sns_string_to_sign(signed), padding.PKCS1v15(), algorithm)
        signed.update(SignatureVersion=version, Signature=_b64(signature), SigningCertURL=cert_url)
        return signed


def make_certificate(
    private_key: Any,
    name: str,
    not_before: datetime,
    not_after: datetime,
    issuer: tuple[Any, Any] | None = None,
    is_ca: bool = False,
) -> Any:
    """An X.509 certificate for ``private_key`` named ``name`` (self-signed unless ``issuer``)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.x509.oid import NameOID

    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    issuer_cert, issuer_key = issuer if issuer else (None, private_key)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer_cert.subject if issuer_cert else subject)
        .public_key(private_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=is_ca, path_length=None), critical=True)
    )
    if not is_ca:
        builder = builder.add_extension(
            x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False
        )
    return builder.sign(issuer_key, hashes.SHA256())
