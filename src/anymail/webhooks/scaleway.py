"""Scaleway TEM tracking webhooks, delivered by Scaleway Topics and Events.

TEM publishes each event to a Topics and Events topic (Scaleway's SNS-compatible
service), which posts it to the subscribed URL in an SNS envelope, signed
(SHA1withRSA) with a certificate of Scaleway's trust chain. :class:`~._sns.SnsWebhookView`
checks the envelope; a subscription is confirmed by opening its ``SubscribeURL``.
A ``Notification``'s ``Message`` is one TEM event, as JSON::

    {"id": "<event id>", "type": "email_delivered", "created_at": "2026-03-04T05:06:09Z",
     "email_id": "<the send response's emails[].id>", "email_to": "alice@example.com",
     "email_headers": [{"key": "X-Tags", "value": "[\\"order\\"]"}, ...],
     "email_response_code": 250, "email_response_message": "2.0.0 Ok", ...}

``email_id`` is the per-recipient ``id`` Anymail's backend reports as message_id;
tags and metadata come back from the ``X-Tags`` and ``X-Metadata`` headers it adds.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any, ClassVar, Final
from urllib.parse import parse_qs, urlsplit

import requests

from ..conf import Setting, SettingType, get_setting, invalid_setting
from ..exceptions import (
    AnymailWebhookPayloadError,
    AnymailWebhookTransientError,
    AnymailWebhookValidationFailure,
)
from ..signals import AnymailTrackingEvent, EventType, RejectReason
from ._payload import JsonObject, json_object, parse_json
from ._sns import SnsEnvelope, SnsWebhookView
from ._sns_certs import ScalewaySnsTrust, sns_get
from ._sns_pinning import SNS_SIGNING_CERTIFICATES, certificate_cache
from .base import AnymailTrackingWebhookView
from .signing import SnsVerifier

__all__ = ["ScalewayTrackingWebhookView", "parse_tem_event"]

ESP_NAME: Final = "Scaleway"

#: TEM event ``type`` -> Anymail event_type (anything else: unknown).
EVENT_TYPES: Final[Mapping[str, str]] = MappingProxyType(
    {
        "email_queued": EventType.QUEUED,
        "email_delivered": EventType.DELIVERED,
        "email_deferred": EventType.DEFERRED,
        "email_dropped": EventType.FAILED,  # TEM gave up on the message
        "email_mailbox_not_found": EventType.BOUNCED,
        "email_spam": EventType.BOUNCED,  # the receiving server refused it as spam
        "email_blocklisted": EventType.REJECTED,  # not sent: the address is blocklisted
        "blocklist_created": EventType.UNKNOWN,  # a notice about the domain's blocklist
        "unknown_type": EventType.UNKNOWN,
    }
)
#: TEM event ``type`` -> Anymail reject_reason.
REJECT_REASONS: Final[Mapping[str, str]] = MappingProxyType(
    {
        "email_mailbox_not_found": RejectReason.BOUNCED,
        "email_spam": RejectReason.SPAM,
        "email_blocklisted": RejectReason.BLOCKED,
    }
)
#: The headers Anymail's Scaleway backend puts tags and metadata in (as JSON).
TAGS_HEADER: Final = "x-tags"
METADATA_HEADER: Final = "x-metadata"
#: Where a subscription is confirmed: ``https://sns.mnq.<region>.scaleway.com/?Action=...``.
SUBSCRIBE_HOST: Final = "sns.mnq.{region}.scaleway.com"


# --- parsing ----------------------------------------------------------------------------


def parse_tem_event(event: JsonObject) -> AnymailTrackingEvent:
    """The tracking event of one TEM webhook event (a Notification's parsed Message)."""
    tem_type = event.text("type")
    headers = _headers(event)
    return AnymailTrackingEvent(
        event_type=EVENT_TYPES.get(tem_type, EventType.UNKNOWN),
        reject_reason=REJECT_REASONS.get(tem_type),
        timestamp=event.iso_datetime("created_at", None),
        event_id=event.text("id", None),
        message_id=event.text("email_id", None),
        recipient=event.text("email_to", None),
        # email_error is deprecated by TEM, but still a one-line summary.
        description=event.text("blocklist_reason", None) or event.text("email_error", None),
        mta_response=_mta_response(event),
        tags=_tags(headers),
        metadata=_metadata(headers),
        esp_event=event.data,
    )


def _headers(event: JsonObject) -> dict[str, str]:
    """The message's headers by lowercase name (the first of each name)."""
    headers: dict[str, str] = {}
    for header in event.objects("email_headers", []):
        headers.setdefault(header.text("key").lower(), header.text("value", ""))
    return headers


def _json_header(headers: Mapping[str, str], name: str) -> Any:
    """The JSON value of Anymail's tags or metadata header (None: absent, or not JSON).

    A header of that name that isn't Anymail's JSON (e.g. one set by hand) only
    loses the tags or metadata: the event itself is still worth delivering.
    """
    value = headers.get(name)
    try:
        return parse_json(value, name) if value is not None else None
    except AnymailWebhookPayloadError:
        return None


def _tags(headers: Mapping[str, str]) -> list[str]:
    tags = _json_header(headers, TAGS_HEADER)
    if isinstance(tags, list) and all(isinstance(tag, str) for tag in tags):
        return tags
    return []


def _metadata(headers: Mapping[str, str]) -> dict[str, Any]:
    metadata = _json_header(headers, METADATA_HEADER)
    return metadata if isinstance(metadata, dict) else {}


def _mta_response(event: JsonObject) -> str | None:
    """The receiving server's reply, as SMTP wrote it ("550 5.1.1 ...")."""
    code = event.integer("email_response_code", None)
    message = event.text("email_response_message", None)
    if message is None:
        return str(code) if code is not None else event.text("email_error", None)
    return f"{code} {message}" if code is not None else message


# --- the view ---------------------------------------------------------------------------


SNS_TRUST_CHAIN: Final = Setting(
    "sns_trust_chain",
    SettingType("PEM text"),
    "Scaleway's certificate trust chain for SNS signatures (None: downloaded from Scaleway).",
    default=None,
    option=False,
)


class _ScalewaySnsVerifier(SnsVerifier):
    install_extra = "scaleway"


class ScalewayTrackingWebhookView(SnsWebhookView, AnymailTrackingWebhookView):
    """TEM events from a Topics and Events subscription (``/anymail/scaleway/tracking/``)."""

    esp_name = ESP_NAME
    signature_scheme = "Scaleway SNS certificate (RSA)"
    sns_service: ClassVar[str] = "Scaleway Topics and Events"
    declared_settings = (SNS_TRUST_CHAIN, SNS_SIGNING_CERTIFICATES)

    def make_verifier(self) -> SnsVerifier:
        chain = get_setting(SNS_TRUST_CHAIN, ESP_NAME)
        if chain is not None and not isinstance(chain, str | bytes):
            raise invalid_setting(
                "sns_trust_chain", ESP_NAME, "expected the PEM text of Scaleway's trust chain."
            )
        self.trust = ScalewaySnsTrust(chain)
        return _ScalewaySnsVerifier(
            esp_name=ESP_NAME,
            trust=self.trust,
            clock=self.now,
            cert_cache=certificate_cache(ESP_NAME),
        )

    def parse_notification(self, message: str, envelope: SnsEnvelope) -> list[AnymailTrackingEvent]:
        return [parse_tem_event(json_object(parse_json(message, "body.Message"), "body.Message"))]

    def manual_confirmation(self, envelope: SnsEnvelope) -> str:
        url = envelope.fields.text("SubscribeURL")
        return f"by opening its SubscribeURL once (or in Scaleway's console): {url}"

    def subscribe(self, envelope: SnsEnvelope) -> None:
        """Open the SubscribeURL, once it is known to be Scaleway's for this topic."""
        url = envelope.fields.text("SubscribeURL")
        problem = self.subscribe_url_problem(url, envelope)
        if problem:
            raise AnymailWebhookValidationFailure(
                f"{ESP_NAME} webhook: Anymail won't open this SubscribeURL ({problem}). "
                "Confirm the subscription in Scaleway's console.",
                esp_name=ESP_NAME,
            )
        try:
            with sns_get(url) as response:
                failure = None if response.status_code == 200 else f"HTTP {response.status_code}"
        except requests.RequestException as err:
            failure = type(err).__name__
        if failure is not None:
            raise AnymailWebhookTransientError(
                f"{ESP_NAME} webhook: confirming the subscription to {envelope.topic_arn} "
                f"failed ({failure}). Scaleway may retry; or confirm it in Scaleway's console.",
                esp_name=ESP_NAME,
            )

    def subscribe_url_problem(self, url: str, envelope: SnsEnvelope) -> str | None:
        """Why ``url`` is not the ConfirmSubscription URL of the envelope's topic, or None."""
        region = self.trust.topic_region(envelope.topic_arn)
        try:
            parts = urlsplit(url)
            query = parse_qs(parts.query, strict_parsing=True)
            netloc_ok = parts.netloc == SUBSCRIBE_HOST.format(region=region)
        except ValueError:
            return "it is not a URL"
        if parts.scheme != "https" or not netloc_ok or parts.path not in ("", "/"):
            return f"it is not on https://{SUBSCRIBE_HOST.format(region=region)}/"
        expected = {
            "Action": "ConfirmSubscription",
            "TopicArn": envelope.topic_arn,
            "Token": envelope.fields.text("Token"),
        }
        for name, value in expected.items():
            if query.get(name) != [value]:
                return f"its {name} is not this request's"
        return None
