"""Amazon SES webhook posts for tests: SNS envelopes signed with a throwaway certificate.

Registered in :mod:`anymail.testing` as the ``"amazon_ses"`` builder::

    request = webhook_request("amazon_ses", {"eventType": "Bounce", ...})
    request.post(client, "amazon_ses_tracking_webhook")

Amazon SNS signs with a private key only Amazon has, so the post is signed by an
:class:`~anymail.webhooks._signers.SnsTestSigner` instead: a fresh RSA key and a
self-signed certificate (named as SNS's are), made once per process. Building a
request hands that certificate to the webhook views' certificate cache under the
URL the message names, so the view verifies the signature for real and never
downloads anything. Needs ``cryptography`` (the ``amazon-ses`` extra).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from functools import cache
from typing import Any, Final

from ._testing_sns import pin_certificate, sns_envelope_request, sns_timestamp
from .testing import FROM_SETTINGS, WebhookRequest
from .webhooks._signers import SnsTestSigner

__all__ = [
    "DEFAULT_TOPIC_ARN",
    "default_signer",
    "sns_timestamp",
    "sns_webhook_request",
    "trust_signer",
]

#: The topic of wrapped SES messages unless ``topic_arn`` says otherwise.
DEFAULT_TOPIC_ARN: Final = "arn:aws:sns:us-east-1:123456789012:anymail-test-events"
SNS_USER_AGENT: Final = "Amazon Simple Notification Service Agent"


@cache
def default_signer() -> SnsTestSigner:
    """The process's test signer (its key and certificate are made at the first use)."""
    return SnsTestSigner()


def trust_signer(signer: SnsTestSigner, region: str) -> str:
    """Let the webhook views verify ``signer``'s signatures for topics in ``region``.

    Puts its certificate in the views' certificate cache under the URL it signs
    with, as if downloaded from Amazon. Returns that URL.
    """
    return pin_certificate(signer, signer.cert_url(region))


def sns_webhook_request(
    payload: Any,
    *,
    basic_auth: str | None = FROM_SETTINGS,
    signer: SnsTestSigner | None = None,
    signature_version: str | None = None,
    topic_arn: str = DEFAULT_TOPIC_ARN,
    message_id: str | None = None,
    timestamp: datetime | None = None,
    subject: str | None = None,
    headers: Mapping[str, str] | None = None,
) -> WebhookRequest:
    """An Amazon SNS post of ``payload``, signed and carrying ``WEBHOOK_SECRET``.

    ``payload`` is one of:

    - an SNS envelope (a mapping with ``Type``, e.g. a captured post): re-signed
      with ``signer``, every other field kept as it is;
    - an SES message (any other JSON value: a notification, a published event, a
      receipt notification), or a ``str`` used verbatim as ``Message``: wrapped in
      a ``Notification`` from ``topic_arn``, sent at ``timestamp`` (default now),
      with ``subject``, and the ``MessageId`` ``message_id`` (by default one made
      from the message: posting the same message again is an SNS retry);
    - ``bytes``: posted as they are, unsigned (for malformed-body tests).

    ``signature_version`` is ``"1"`` (SHA-1, SNS's default) or ``"2"`` (SHA-256);
    by default the envelope's own, else ``"1"``. ``signer`` defaults to
    :func:`default_signer`. ``headers`` are added to (or replace) SNS's headers.
    """
    return sns_envelope_request(
        payload,
        signer=signer or default_signer(),
        trust=trust_signer,
        topic_arn=topic_arn,
        default_region="us-east-1",
        basic_auth=basic_auth,
        signature_version=signature_version,
        message_id=message_id,
        timestamp=timestamp,
        subject=subject,
        sns_headers=sns_headers,
        headers=headers,
    )


def sns_headers(envelope: Mapping[str, Any]) -> dict[str, str]:
    """The ``x-amz-sns-*`` headers SNS sends with ``envelope``."""
    headers = {
        "x-amz-sns-message-type": str(envelope.get("Type")),
        "x-amz-sns-message-id": str(envelope.get("MessageId")),
        "x-amz-sns-topic-arn": str(envelope.get("TopicArn")),
        "User-Agent": SNS_USER_AGENT,
    }
    if envelope.get("Type") != "SubscriptionConfirmation":
        headers["x-amz-sns-subscription-arn"] = f"{envelope.get('TopicArn')}:anymail-test"
    return headers
