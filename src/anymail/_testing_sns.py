"""SNS envelopes for tests, signed with a test signer: shared by the SNS-delivered ESPs'
builders in :mod:`anymail.testing` (Amazon SES, Scaleway TEM).

An ESP's builder says which signer signs and how its view comes to trust that
signer (``trust(signer, region)`` returns the certificate URL to sign with).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any, Final

from .testing import FROM_SETTINGS, WebhookRequest, json_webhook_request
from .webhooks._signers import SnsTestSigner
from .webhooks._sns_certs import DEFAULT_CERT_CACHE
from .webhooks.signing import utc_now

#: What SNS sends (it writes "UTF-8": Django's test client would re-encode a body
#: whose charset isn't spelled "utf-8", mangling deliberately broken ones).
SNS_CONTENT_TYPE: Final = "text/plain; charset=utf-8"


def sns_timestamp(when: datetime) -> str:
    """An SNS ``Timestamp``: ISO 8601 UTC with milliseconds and ``Z``."""
    return when.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def pin_certificate(signer: SnsTestSigner, url: str) -> str:
    """Put ``signer``'s certificate in the webhook views' certificate cache under ``url``,
    as if downloaded from there; returns ``url`` (to sign with)."""
    DEFAULT_CERT_CACHE.put(url, signer.certificate)
    return url


def topic_region(topic_arn: object, default: str) -> str:
    """Field 4 of an SNS topic ARN (``arn:<partition>:sns:<region>:...``)."""
    return (str(topic_arn or "").split(":")[3:4] or [default])[0]


def sns_envelope_request(
    payload: Any,
    *,
    signer: SnsTestSigner,
    trust: Callable[[SnsTestSigner, str], str],
    topic_arn: str,
    default_region: str,
    basic_auth: str | None = FROM_SETTINGS,
    signature_version: str | None = None,
    message_id: str | None = None,
    timestamp: datetime | None = None,
    subject: str | None = None,
    sns_headers: Callable[[Mapping[str, Any]], dict[str, str]] | None = None,
    headers: Mapping[str, str] | None = None,
) -> WebhookRequest:
    """A signed SNS post of ``payload`` (an envelope, a message to wrap, or raw bytes).

    See the ESP builders for what ``payload`` may be. ``sns_headers(envelope)``
    gives the headers the service sends with an envelope; ``headers`` are added
    to (or replace) them. The certificate's region is the envelope's topic's
    (``default_region`` if it names none).
    """
    if isinstance(payload, bytes):
        return json_webhook_request(
            payload, basic_auth=basic_auth, headers=headers, content_type=SNS_CONTENT_TYPE
        )
    if isinstance(payload, Mapping) and "Type" in payload:
        envelope = dict(payload)
    else:
        message = payload if isinstance(payload, str) else json.dumps(payload)
        envelope = {
            "Type": "Notification",
            # The same message posted again is a retry, as SNS would send it.
            "MessageId": message_id or str(uuid.uuid5(uuid.NAMESPACE_URL, topic_arn + message)),
            "TopicArn": topic_arn,
            **({"Subject": subject} if subject is not None else {}),
            "Message": message,
            "Timestamp": sns_timestamp(timestamp or utc_now()),
        }
    region = topic_region(envelope.get("TopicArn"), default_region)
    version = signature_version or str(envelope.get("SignatureVersion") or "1")
    signed = signer.sign(envelope, version=version, cert_url=trust(signer, region))
    return json_webhook_request(
        json.dumps(signed, indent=2).encode("utf-8"),
        basic_auth=basic_auth,
        headers={**(sns_headers(signed) if sns_headers else {}), **(headers or {})},
        content_type=SNS_CONTENT_TYPE,
    )
