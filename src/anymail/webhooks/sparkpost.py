"""SparkPost: Event Webhooks (tracking) and Relay Webhooks (inbound).

SparkPost signs nothing: basic auth (ANYMAIL ``WEBHOOK_SECRET``, entered as the
webhook's "Basic Auth" credentials, or in the relay webhook's target URL) is
the only proof that a post comes from SparkPost, so both views warn without it.

Every post is a JSON list of wrapped events ``{"msys": {"<category>": {...}}}``:
a batch of tracking events, or one received message (``relay_message``). An
empty wrapper ``{"msys": {}}`` is a ping (webhook creation, "validate"): it is
answered 200 and dispatches nothing. SparkPost retries a post for 8 hours
(relay webhooks: 7 times) until it gets a 200.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import datetime
from types import MappingProxyType
from typing import Any, ClassVar, Final

from django.http import HttpRequest

from ..conf import BOOL, Setting, get_bool
from ..exceptions import AnymailConfigurationError, AnymailWebhookPayloadError
from ..inbound import AnymailInboundMessage
from ..signals import AnymailInboundEvent, AnymailTrackingEvent, EventType, RejectReason
from ._payload import JsonObject, json_object, json_objects
from .base import AnymailInboundWebhookView, AnymailTrackingWebhookView

__all__ = [
    "SparkPostInboundWebhookView",
    "SparkPostTrackingWebhookView",
    "parse_inbound_events",
    "parse_tracking_events",
]

#: An event's ``type`` -> event_type (every category: types are unique across them).
#: relay_event and ab_test_event types, and any other, are ``unknown``.
EVENT_TYPES: Final[Mapping[str, str]] = MappingProxyType(
    {
        # message_event
        "injection": EventType.QUEUED,
        "delivery": EventType.DELIVERED,
        "bounce": EventType.BOUNCED,
        "delay": EventType.DEFERRED,
        "out_of_band": EventType.BOUNCED,  # an asynchronous bounce, after delivery
        "policy_rejection": EventType.REJECTED,
        "spam_complaint": EventType.COMPLAINED,
        # gen_event
        "generation_failure": EventType.FAILED,
        "generation_rejection": EventType.REJECTED,
        # track_event
        "open": EventType.OPENED,
        "amp_open": EventType.OPENED,
        "click": EventType.CLICKED,
        "amp_click": EventType.CLICKED,
        # unsubscribe_event
        "list_unsubscribe": EventType.UNSUBSCRIBED,
        "link_unsubscribe": EventType.UNSUBSCRIBED,
    }
)
#: One open fires both an initial_open (top-of-message pixel) and an open: the initial
#: ones are ``unknown`` unless SPARKPOST_TRACK_INITIAL_OPEN_AS_OPENED asks for ``opened``.
INITIAL_OPEN_TYPES: Final = frozenset({"initial_open", "amp_initial_open"})
#: ``bounce_class`` -> (reject_reason, event_type override or None): SparkPost's
#: bounce classification codes. Any other class: ``other``.
BOUNCE_CLASSES: Final[Mapping[str, tuple[str, str | None]]] = MappingProxyType(
    {
        "1": (RejectReason.OTHER, None),  # Undetermined
        "10": (RejectReason.INVALID, None),  # Invalid Recipient
        "20": (RejectReason.BOUNCED, None),  # Soft Bounce
        "21": (RejectReason.BOUNCED, None),  # DNS Failure
        "22": (RejectReason.BOUNCED, None),  # Mailbox Full
        "23": (RejectReason.BOUNCED, None),  # Too Large
        "24": (RejectReason.TIMED_OUT, None),  # Timeout
        "25": (RejectReason.BLOCKED, None),  # Admin Failure (SparkPost policy)
        "30": (RejectReason.BOUNCED, None),  # Generic Bounce: No RCPT
        "40": (RejectReason.BOUNCED, None),  # Generic Bounce
        "50": (RejectReason.BLOCKED, None),  # Mail Block
        "51": (RejectReason.SPAM, None),  # Spam Block
        "52": (RejectReason.SPAM, None),  # Spam Content
        "53": (RejectReason.OTHER, None),  # Prohibited Attachment
        "54": (RejectReason.BLOCKED, None),  # Relaying Denied
        "60": (RejectReason.OTHER, EventType.AUTORESPONDED),  # Auto-Reply
        "70": (RejectReason.BOUNCED, None),  # Transient Failure
        "80": (RejectReason.OTHER, EventType.SUBSCRIBED),  # Subscribe
        "90": (RejectReason.UNSUBSCRIBED, EventType.UNSUBSCRIBED),  # Unsubscribe
        "100": (RejectReason.OTHER, EventType.AUTORESPONDED),  # Challenge-Response
    }
)
UNKNOWN_BOUNCE_CLASS: Final = (RejectReason.OTHER, None)
#: reject_reason of events that carry no bounce_class.
REJECT_REASONS: Final[Mapping[str, str]] = MappingProxyType(
    {
        "spam_complaint": RejectReason.SPAM,
        "list_unsubscribe": RejectReason.UNSUBSCRIBED,
        "link_unsubscribe": RejectReason.UNSUBSCRIBED,
    }
)
#: The category of a received message (relay webhooks).
RELAY_MESSAGE: Final = "relay_message"


def misrouted(what: str, url: str) -> AnymailConfigurationError:
    return AnymailConfigurationError(
        f"Anymail's SparkPost {url} webhook received {what}. Check the target URLs at "
        "SparkPost (event webhooks: /anymail/sparkpost/tracking/, relay webhooks: "
        "/anymail/sparkpost/inbound/)."
    )


def unwrap(item: JsonObject) -> tuple[str, JsonObject] | None:
    """(category, event) of one ``{"msys": {category: event}}``; None for a ping."""
    msys = item.object("msys")
    if not msys.data:
        return None
    if len(msys.data) != 1:
        raise AnymailWebhookPayloadError(
            f"{msys.path} should hold one event category, not {len(msys.data)}."
        )
    ((category, event),) = msys.data.items()
    # The category name is the ESP's text: bounded before it goes in a path.
    return category, json_object(event, f"{msys.path}.{category[:40]}")


def unwrapped_batch(data: Any, *, relay: bool) -> Iterator[tuple[JsonObject, JsonObject]]:
    """(item, event) for each event of a batch, pings skipped; a relay message where
    ``relay`` is False, or another event where it is True, is a misrouted post."""
    for item in json_objects(data):
        unwrapped = unwrap(item)
        if unwrapped is None:
            continue
        category, event = unwrapped
        if category == RELAY_MESSAGE and not relay:
            raise misrouted("a received message (a relay webhook)", "tracking")
        if category != RELAY_MESSAGE and relay:
            raise misrouted("tracking events (an event webhook)", "inbound")
        yield item, event


# --- tracking ---------------------------------------------------------------------------


def parse_tracking_events(
    data: Any, *, initial_open_as_opened: bool = False
) -> list[AnymailTrackingEvent]:
    """A tracking batch -> one event per wrapped event (pings give none)."""
    return [
        parse_tracking_event(item, event, initial_open_as_opened)
        for item, event in unwrapped_batch(data, relay=False)
    ]


def parse_tracking_event(
    item: JsonObject, event: JsonObject, initial_open_as_opened: bool = False
) -> AnymailTrackingEvent:
    """One SparkPost event (``item`` is its ``{"msys": ...}`` wrapper, the esp_event)."""
    sparkpost_type = event.text("type", "")
    event_type = EVENT_TYPES.get(sparkpost_type, EventType.UNKNOWN)
    if initial_open_as_opened and sparkpost_type in INITIAL_OPEN_TYPES:
        event_type = EventType.OPENED
    reject_reason = REJECT_REASONS.get(sparkpost_type)
    bounce_class = _bounce_class(event)
    if bounce_class is not None:
        reject_reason, override = BOUNCE_CLASSES.get(bounce_class, UNKNOWN_BOUNCE_CLASS)
        event_type = override or event_type
    campaign_id = event.text("campaign_id", None)
    metadata = event.object("rcpt_meta", None)
    return AnymailTrackingEvent(
        event_type,
        timestamp=_timestamp(event),
        event_id=event.text("event_id", None),
        esp_event=item.data,
        # The transmission id is what the send's anymail_status reported.
        message_id=event.text("transmission_id", None),
        recipient=event.text("raw_rcpt_to", None) or event.text("rcpt_to", None),
        reject_reason=reject_reason,
        description=event.text("reason", None),
        mta_response=event.text("raw_reason", None),
        tags=[campaign_id] if campaign_id else [],
        metadata=dict(metadata.data) if metadata is not None else {},
        click_url=event.text("target_link_url", None),
        user_agent=event.text("user_agent", None),
    )


def _bounce_class(event: JsonObject) -> str | None:
    # Documented as a string ("10"); a number means the same.
    value = event.raw("bounce_class", None)
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    text = event.text("bounce_class", None, max_length=20)
    return text.strip() if text is not None else None


def _timestamp(event: JsonObject) -> datetime | None:
    # Epoch seconds as text, but ISO 8601 on some events (seen on generation_failure).
    value = event.raw("timestamp", None)
    if isinstance(value, str) and "-" in value:
        return event.iso_datetime("timestamp")
    return event.epoch("timestamp", None)


# --- inbound ----------------------------------------------------------------------------


def parse_inbound_events(data: Any) -> list[AnymailInboundEvent]:
    """A relay webhook post -> its received message (one, in a list; pings give none)."""
    return [parse_relay_message(item, relay) for item, relay in unwrapped_batch(data, relay=True)]


def parse_relay_message(item: JsonObject, relay: JsonObject) -> AnymailInboundEvent:
    """One ``relay_message``: the raw MIME is authoritative (its parsed fields are ignored)."""
    protocol = relay.text("protocol")
    if protocol.lower() != "smtp":
        raise AnymailConfigurationError(
            "Anymail's SparkPost inbound webhook handles relay webhooks for SMTP only, "
            f"not {protocol[:20]!r}. Set the relay webhook's match protocol to SMTP."
        )
    content = relay.object("content")
    # SparkPost uses base64 when the message has non-UTF-8 bytes.
    is_base64 = content.boolean("email_rfc822_is_base64", False)
    raw = content.mime_bytes("email_rfc822", is_base64=is_base64)
    message = AnymailInboundMessage.parse_raw_mime_bytes(raw)
    message.envelope_sender = relay.text("msg_from", None)
    message.envelope_recipient = relay.text("rcpt_to", None)
    # SparkPost gives no id, time or spam verdict; retries are deduplicated by digest.
    return AnymailInboundEvent(esp_event=item.data, message=message)


# --- views ------------------------------------------------------------------------------


TRACK_INITIAL_OPEN_AS_OPENED: Final = Setting(
    "track_initial_open_as_opened",
    BOOL,
    "Report SparkPost's initial_open and amp_initial_open events as opened, not unknown.",
    default=False,
)


class SparkPostTrackingWebhookView(AnymailTrackingWebhookView):
    """Event webhooks: ``https://yoursite.example.com/anymail/sparkpost/tracking/``."""

    esp_name = "SparkPost"
    content_types = ("application/json",)
    #: ``as_view(track_initial_open_as_opened=True)`` overrides the setting.
    track_initial_open_as_opened: ClassVar[bool | None] = None
    declared_settings = (TRACK_INITIAL_OPEN_AS_OPENED,)

    def __init__(self, **kwargs: Any) -> None:
        self.initial_open_as_opened = self.view_setting(
            TRACK_INITIAL_OPEN_AS_OPENED, kwargs, get_bool
        )
        super().__init__(**kwargs)

    def parse_events(self, request: HttpRequest) -> list[AnymailTrackingEvent]:
        return list(
            parse_tracking_events(
                self.json_body(request), initial_open_as_opened=self.initial_open_as_opened
            )
        )


class SparkPostInboundWebhookView(AnymailInboundWebhookView):
    """Relay webhooks: target ``https://user:pass@yoursite.example.com/anymail/sparkpost/inbound/``
    (the credentials are your WEBHOOK_SECRET)."""

    esp_name = "SparkPost"
    content_types = ("application/json",)

    def parse_events(self, request: HttpRequest) -> list[AnymailInboundEvent]:
        return list(parse_inbound_events(self.json_body(request)))
