"""Postal: tracking webhooks and inbound HTTP endpoints (raw message format).

Postal signs every post with its instance's RSA key, over the exact body:
``X-Postal-Signature-256`` (SHA-256, Postal 3.2+) and ``X-Postal-Signature``
(SHA-1, every version). :class:`~anymail.webhooks.signing.RsaVerifier` checks the
SHA-256 one when present (a wrong one is never excused by a valid SHA-1 one),
against ``POSTAL_WEBHOOK_KEY``, the instance's public key. The signature has no
timestamp: a replay is caught by the event's ``uuid`` (dedupe) instead.

One event, or one received message, per post. Postal retries a tracking post
up to 6 times; an inbound endpoint's answer decides the message's fate: 2xx
delivered, 5xx retried for about 31 hours, any 4xx a hard fail that *bounces the
message to its sender*. So configuration mistakes that an admin can fix (a form
encoding, the processed "hash" format) are configuration errors (5xx), not 400s.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from types import MappingProxyType
from typing import Any, ClassVar, Final

from django.http import HttpRequest

from ..addresses import parse_single_address
from ..conf import Setting, SettingType
from ..exceptions import AnymailConfigurationError, AnymailInvalidAddress
from ..inbound import AnymailInboundMessage
from ..signals import AnymailInboundEvent, AnymailTrackingEvent, EventType, RejectReason
from ._payload import JsonObject, finite_number, json_object
from .base import AnymailBaseWebhookView, AnymailInboundWebhookView, AnymailTrackingWebhookView
from .signing import RsaVerifier

__all__ = [
    "PostalInboundWebhookView",
    "PostalTrackingWebhookView",
    "parse_inbound_event",
    "parse_tracking_event",
]

_Mapped = tuple[str, str | None]

#: Postal ``event`` -> (event_type, reject_reason). DomainDNSError, SendLimitApproaching,
#: SendLimitExceeded and any other event are ``unknown``.
EVENT_TYPES: Final[Mapping[str, _Mapped]] = MappingProxyType(
    {
        "MessageSent": (EventType.DELIVERED, None),  # accepted by the receiving server
        "MessageDelayed": (EventType.DEFERRED, None),
        "MessageDeliveryFailed": (EventType.FAILED, None),
        # Held: suppression list, send limit, development mode...
        "MessageHeld": (EventType.QUEUED, None),
        "MessageBounced": (EventType.BOUNCED, RejectReason.BOUNCED),
        "MessageLinkClicked": (EventType.CLICKED, None),
        "MessageLoaded": (EventType.OPENED, None),
    }
)
UNKNOWN_EVENT: Final[_Mapped] = (EventType.UNKNOWN, None)
#: The payload key of the sent message, where it isn't ``message``.
MESSAGE_KEYS: Final[Mapping[str, str]] = MappingProxyType({"MessageBounced": "original_message"})
#: Content types of an HTTP endpoint whose Encoding is "form data" instead of JSON.
FORM_CONTENT_TYPES: Final = frozenset({"application/x-www-form-urlencoded", "multipart/form-data"})


def misrouted(what: str, url: str) -> AnymailConfigurationError:
    return AnymailConfigurationError(
        f"You seem to have set Postal's *{what}* webhook to Anymail's Postal *{url}* webhook "
        "URL. (Tracking: /anymail/postal/tracking/, inbound: /anymail/postal/inbound/.)"
    )


# --- tracking ---------------------------------------------------------------------------


def parse_tracking_event(data: JsonObject) -> list[AnymailTrackingEvent]:
    """One Postal webhook post -> its event; none for Postal's reports on *received* mail."""
    if "rcpt_to" in data and "event" not in data:
        raise misrouted("inbound", "tracking")
    name = data.text("event")
    payload = data.object("payload")
    message = payload.object(MESSAGE_KEYS.get(name, "message"), None)
    if message is None:
        # About the server (DNS errors, send limits), not about a message.
        message = JsonObject({}, f"{payload.path}.message")
    elif message.text("direction", None) == "incoming":
        # Postal's report on delivering a received message to an endpoint (maybe ours).
        return []
    event_type, reject_reason = EVENT_TYPES.get(name, UNKNOWN_EVENT)
    tag = message.text("tag", None)
    return [
        AnymailTrackingEvent(
            event_type,
            timestamp=data.epoch("timestamp", None),
            # Postal repeats the uuid on every retry of one event.
            event_id=data.text("uuid", None),
            esp_event=data.data,
            # The integer id the send's anymail_status reported, for this recipient.
            message_id=message.integer("id", None),
            recipient=_addr_spec(message.text("to", None)),
            reject_reason=reject_reason,
            description=payload.text("details", None),
            mta_response=payload.text("output", None) or None,
            tags=[tag] if tag else [],
            click_url=payload.text("url", None),
            user_agent=payload.text("user_agent", None),
        )
    ]


def _addr_spec(envelope_to: str | None) -> str | None:
    """The envelope recipient (RCPT TO) as an addr-spec; None if it isn't one."""
    if not envelope_to:
        return None
    try:
        return parse_single_address(envelope_to).addr_spec
    except AnymailInvalidAddress:
        return None


# --- inbound ----------------------------------------------------------------------------


def parse_inbound_event(data: JsonObject) -> AnymailInboundEvent:
    """One HTTP endpoint post in the raw message format -> the received message."""
    if "event" in data and "payload" in data:
        raise misrouted("tracking", "inbound")
    if "message" not in data and "plain_body" in data:
        raise AnymailConfigurationError(
            "Anymail's Postal inbound webhook received a processed (hash) message. Set the "
            "HTTP endpoint's Format to 'Delivered as the raw message' in Postal."
        )
    # base64 (with a line break every 60 characters) unless the endpoint says otherwise
    raw = data.mime_bytes("message", is_base64=data.boolean("base64", True))
    message = AnymailInboundMessage.parse_raw_mime_bytes(raw)
    message.envelope_sender = data.text("mail_from", None)
    message.envelope_recipient = data.text("rcpt_to", None)
    message.spam_detected, message.spam_score = spam_verdict(message)
    message_id = data.integer("id", None)
    return AnymailInboundEvent(
        event_id=str(message_id) if message_id is not None else None,
        esp_event=data.data,
        message=message,
    )


def spam_verdict(message: AnymailInboundMessage) -> tuple[bool | None, float | None]:
    """(spam_detected, spam_score) from the headers Postal's spam check prepends.

    Postal puts its headers first, so the first of each is Postal's. Without spam
    checking, headers of these names can only be the sender's: enable it in Postal.
    """
    verdict = str(message.get("X-Postal-Spam", "")).strip().lower()
    detected = {"yes": True, "no": False}.get(verdict)
    return detected, finite_number(message.get("X-Postal-Spam-Score", ""))


# --- views ------------------------------------------------------------------------------

WEBHOOK_KEY: Final = Setting(
    "webhook_key",
    SettingType("public key (base64 or PEM)"),
    "Your Postal server's signing public key, which verifies every webhook post.",
)


class PostalBaseWebhookView(AnymailBaseWebhookView):
    """Checks Postal's RSA signature with ``POSTAL_WEBHOOK_KEY`` (needs ``cryptography``)."""

    esp_name = "Postal"
    signature_scheme = "RSA (SHA-256 or SHA-1)"
    # Every post is signed; basic auth (URL credentials) is still checked when set.
    warn_if_no_basic_auth = False
    content_types: ClassVar[Sequence[str]] = ("application/json",)
    #: ``as_view(webhook_key=...)`` overrides ANYMAIL POSTAL_WEBHOOK_KEY.
    webhook_key: ClassVar[str | None] = None
    declared_settings = (WEBHOOK_KEY,)

    def __init__(self, **kwargs: Any) -> None:
        key = self.view_setting(WEBHOOK_KEY, kwargs)
        self.verifier = RsaVerifier(key)
        super().__init__(**kwargs)

    def validate_request(self, request: HttpRequest) -> None:
        self.verifier.verify(request.body, request.headers)
        return None  # nothing signed tells the time


class PostalTrackingWebhookView(PostalBaseWebhookView, AnymailTrackingWebhookView):
    """Postal webhooks (every event type): ``/anymail/postal/tracking/``."""

    def parse_events(self, request: HttpRequest) -> list[AnymailTrackingEvent]:
        return list(parse_tracking_event(json_object(self.json_body(request))))


class PostalInboundWebhookView(PostalBaseWebhookView, AnymailInboundWebhookView):
    """An HTTP endpoint (JSON, raw message) of an incoming route: ``/anymail/postal/inbound/``."""

    # Form posts pass the body gate only to be reported, once signed, as misconfigured.
    content_types = ("application/json", *sorted(FORM_CONTENT_TYPES))

    def validate_request(self, request: HttpRequest) -> None:
        super().validate_request(request)
        if (request.content_type or "").lower() in FORM_CONTENT_TYPES:
            raise AnymailConfigurationError(
                "Anymail's Postal inbound webhook received form data. Set the HTTP "
                "endpoint's Encoding to 'Sent in the body as JSON' in Postal."
            )

    def parse_events(self, request: HttpRequest) -> list[AnymailInboundEvent]:
        return [parse_inbound_event(json_object(self.json_body(request)))]

    def dedupe_key(self, event: AnymailInboundEvent) -> str | None:
        # Each Postal mail server numbers its messages itself: two servers routing to
        # this URL can both send an id 1702. A retry repeats the whole post: its digest.
        return self.digest_dedupe_key(event)
