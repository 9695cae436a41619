"""Amazon SNS message signatures (and SNS-compatible services'): :class:`SnsVerifier`,
exported by :mod:`anymail.webhooks.signing`. The certificate's trust policy and cache
are ``_sns_certs``'.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar, Final

from ._sns_certs import (
    DEFAULT_CERT_CACHE,
    AwsSnsTrust,
    CertificateCache,
    SnsTrust,
    fetch_certificate,
    load_certificate,
)
from ._verifying import Clock, _b64decode, _crypto_required, _fail, _text, utc_now

if TYPE_CHECKING:
    from cryptography.x509 import Certificate


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
