"""Scaleway TEM webhook posts for tests: TEM events in SNS envelopes, signed by a test CA.

Registered in :mod:`anymail.testing` as the ``"scaleway"`` builder::

    request = webhook_request("scaleway", {"type": "email_delivered", ...})
    request.post(client, "scaleway_tracking_webhook")

Scaleway's Topics and Events signs with a certificate issued by Scaleway's CA,
whose key only Scaleway has. The post is signed instead by an
:class:`~anymail.webhooks._signers.SnsTestSigner` whose certificate a throwaway
test CA issued (both made once per process). Building a request makes the
webhook view trust them without any download: the CA goes in the view's cache of
Scaleway trust chains for the topic's region (as if downloaded from Scaleway),
and the signing certificate in its certificate cache. So the view verifies the
signature for real. If your test settings set ``SCALEWAY_SNS_TRUST_CHAIN``, set
it to :func:`scaleway_test_trust_chain` (a configured chain is never replaced).
Needs ``cryptography`` (the ``scaleway`` extra).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import cache
from typing import Any, Final

from ._testing_sns import pin_certificate, sns_envelope_request
from .testing import FROM_SETTINGS, WebhookRequest
from .webhooks._signers import SnsTestSigner, make_certificate
from .webhooks._sns_certs import DEFAULT_TRUST_CHAINS, SCALEWAY_TRUST_CHAIN_URL
from .webhooks.signing import utc_now

__all__ = [
    "DEFAULT_TOPIC_ARN",
    "default_signer",
    "scaleway_test_ca",
    "scaleway_test_trust_chain",
    "scaleway_webhook_request",
]

#: The topic of wrapped TEM events unless ``topic_arn`` says otherwise.
DEFAULT_TOPIC_ARN: Final = (
    "arn:scw:sns:fr-par:project-00000000-0000-4000-8000-000000000000:anymail-test-events"
)
#: How long the test CA is valid on each side of now (tests pin clocks years away).
_CA_VALIDITY: Final = timedelta(days=20 * 365)


@cache
def scaleway_test_ca() -> tuple[Any, Any]:
    """The process's test CA: (certificate, private key), standing in for Scaleway's."""
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    now = utc_now()
    certificate = make_certificate(
        key, "Anymail test Scaleway SNS CA", now - _CA_VALIDITY, now + _CA_VALIDITY, is_ca=True
    )
    return certificate, key


def scaleway_test_trust_chain() -> str:
    """The test CA as PEM: a ``SCALEWAY_SNS_TRUST_CHAIN`` value that trusts these posts."""
    from cryptography.hazmat.primitives import serialization

    certificate = scaleway_test_ca()[0]
    return certificate.public_bytes(serialization.Encoding.PEM).decode("ascii")


def make_signer(clock: Any = utc_now, valid_for: timedelta = timedelta(days=365)) -> SnsTestSigner:
    """A signer whose certificate the test CA issued (valid from a day before ``clock()``)."""
    return SnsTestSigner(
        name="sns.mnq.scaleway.com",
        clock=clock,
        valid_for=valid_for,
        issuer=scaleway_test_ca(),
    )


@cache
def default_signer() -> SnsTestSigner:
    """The process's test signer (made at the first use)."""
    return make_signer()


def cert_url(signer: SnsTestSigner, region: str) -> str:
    """Where ``signer``'s certificate would be, in the shape Scaleway's URLs have."""
    return f"https://messaging.s3.{region}.scw.cloud/{region}/sns/anymail-test-{signer.cert_id}.pem"


def trust_signer(signer: SnsTestSigner, region: str) -> str:
    """Let the webhook view verify ``signer``'s signatures for topics in ``region``.

    Puts the test CA in the view's trust chains for ``region``, and the signer's
    certificate in its certificate cache under the URL it signs with (returned).
    """
    DEFAULT_TRUST_CHAINS.put(
        SCALEWAY_TRUST_CHAIN_URL.format(region=region), [scaleway_test_ca()[0]]
    )
    return pin_certificate(signer, cert_url(signer, region))


def scaleway_webhook_request(
    payload: Any,
    *,
    basic_auth: str | None = FROM_SETTINGS,
    signer: SnsTestSigner | None = None,
    topic_arn: str = DEFAULT_TOPIC_ARN,
    message_id: str | None = None,
    timestamp: datetime | None = None,
) -> WebhookRequest:
    """A Topics and Events post of ``payload``, signed and carrying ``WEBHOOK_SECRET``.

    ``payload`` is one of:

    - an SNS envelope (a mapping with ``Type``, e.g. a captured post): re-signed
      with ``signer``, every other field kept as it is;
    - a TEM event (any other JSON value), or a ``str`` used verbatim as ``Message``:
      wrapped in a ``Notification`` from ``topic_arn``, sent at ``timestamp``
      (default now) with the ``MessageId`` ``message_id`` (by default one made from
      the message: posting the same event again is a retry);
    - ``bytes``: posted as they are, unsigned (for malformed-body tests).

    ``signer`` defaults to :func:`default_signer`.
    """
    return sns_envelope_request(
        payload,
        signer=signer or default_signer(),
        trust=trust_signer,
        basic_auth=basic_auth,
        topic_arn=topic_arn,
        default_region="fr-par",
        message_id=message_id,
        timestamp=timestamp,
    )
