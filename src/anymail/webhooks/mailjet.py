"""Mailjet: Event API (tracking) and Parse API (inbound) webhooks.

Mailjet signs nothing: the credentials in the webhook URL (ANYMAIL
``WEBHOOK_SECRET``) are the only proof that a post comes from Mailjet, so both
views warn when no secret is set.

- Tracking: with "group events" on (Event API version 2) a post is a JSON array
  of events, possibly empty and of mixed types; without it, one bare event
  object. Events carry no id: duplicates are recognized by their content.
  Mailjet retries any answer but 200 for 24 hours.
- Inbound: one JSON object per received message, with the message already
  parsed into headers, text and HTML bodies and base64 attachments.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from email.message import Message
from typing import Final

from django.http import HttpRequest

from ..exceptions import AnymailConfigurationError, AnymailWebhookPayloadError
from ..inbound import AnymailInboundMessage
from ..signals import AnymailInboundEvent, AnymailTrackingEvent, EventType, RejectReason
from ._payload import (
    JsonObject,
    check_header_name,
    finite_number,
    json_object,
    json_objects,
    parse_json,
)
from .base import AnymailInboundWebhookView, AnymailTrackingWebhookView

__all__ = ["MailjetInboundWebhookView", "MailjetTrackingWebhookView"]

#: Mailjet ``event`` -> event_type (a greylisted soft bounce is refined to deferred).
EVENT_TYPES: Final[Mapping[str, str]] = {
    "sent": EventType.DELIVERED,  # the receiving MTA accepted it
    "open": EventType.OPENED,
    "click": EventType.CLICKED,
    "bounce": EventType.BOUNCED,
    "blocked": EventType.REJECTED,  # Mailjet did not attempt delivery
    "spam": EventType.COMPLAINED,
    "unsub": EventType.UNSUBSCRIBED,
}
#: A bounce or blocked event's ``error`` -> reject_reason (any other error: "other").
REJECT_REASONS: Final[Mapping[str, str]] = {
    # error_related_to "recipient"
    "user unknown": RejectReason.BOUNCED,
    "mailbox inactive": RejectReason.BOUNCED,
    "quota exceeded": RejectReason.BOUNCED,
    "blacklisted": RejectReason.BLOCKED,  # may really be an earlier unsubscribe
    "spam reporter": RejectReason.SPAM,
    # "domain"
    "invalid domain": RejectReason.BOUNCED,
    "no mail host": RejectReason.BOUNCED,
    "relay/access denied": RejectReason.BOUNCED,
    "greylisted": RejectReason.OTHER,
    "typofix": RejectReason.INVALID,
    # "spam"
    "sender blocked": RejectReason.BLOCKED,
    "content blocked": RejectReason.BLOCKED,
    "policy issue": RejectReason.BLOCKED,
    # "mailjet"
    "preblocked": RejectReason.BLOCKED,
    "duplicate in campaign": RejectReason.OTHER,
    # "content" and "system": bad or empty template, error in template language,
    # system issue, protocol issue, connection issue: all "other".
}
#: A part's ``ContentRef`` that names an attachment's base64 field in the payload.
ATTACHMENT_REF_RE: Final = re.compile(r"(Inline)?Attachment\d{1,4}")

#: Events whose reject_reason is reported (the spec's "bounced and rejected").
REJECTING_EVENT_TYPES: Final = frozenset({EventType.BOUNCED, EventType.REJECTED})


def misrouted(what: str, url: str) -> AnymailConfigurationError:
    return AnymailConfigurationError(
        f"Anymail's Mailjet {url} webhook received {what}. Check your Mailjet Event API "
        "URLs (/anymail/mailjet/tracking/) and Parse API route (/anymail/mailjet/inbound/)."
    )


# --- tracking ---------------------------------------------------------------------------


def parse_tracking_events(body: object) -> list[AnymailTrackingEvent]:
    """A grouped (array) or single (object) Event API post -> one event per Mailjet event."""
    if isinstance(body, Mapping):
        if "event" not in body and "Parts" in body:
            raise misrouted("an inbound message", "tracking")
        return [parse_tracking_event(json_object(body))]
    return [parse_tracking_event(item) for item in json_objects(body)]


def parse_tracking_event(data: JsonObject) -> AnymailTrackingEvent:
    event = data.text("event")
    event_type = EVENT_TYPES.get(event, EventType.UNKNOWN)
    error = data.text("error", None)
    if event == "bounce" and error == "greylisted" and not data.boolean("hard_bounce", False):
        event_type = EventType.DEFERRED  # Mailjet will try again
    # Mailjet sends these with every event: one without them is not Mailjet's.
    timestamp = data.epoch("time")
    message_id = data.integer("MessageID")  # beyond 2**53: keep it an int
    recipient = data.text("email")
    campaign = data.text("customcampaign", None)
    return AnymailTrackingEvent(
        event_type,
        timestamp=timestamp,
        event_id=None,
        esp_event=data.data,
        message_id=str(message_id) if message_id else None,
        recipient=recipient,
        reject_reason=(
            REJECT_REASONS.get(error, RejectReason.OTHER)
            if error and event_type in REJECTING_EVENT_TYPES
            else None
        ),
        description=error,
        mta_response=data.text("smtp_reply", None) or data.text("comment", None),
        tags=[campaign] if campaign else [],
        metadata=event_payload(data),
        click_url=data.text("url", None),
        user_agent=data.text("agent", None),
    )


def event_payload(data: JsonObject) -> dict[str, object]:
    """The message's metadata: our sender puts it in ``EventPayload`` as a JSON object.

    A payload that isn't one (set by other software, or empty) is not metadata:
    ``{}``. It is not refused: Mailjet would retry the whole batch for a day.
    """
    text = data.text("Payload", None, max_length=None)
    if not text:
        return {}
    try:
        value = parse_json(text, f"{data.path}.Payload")
    except AnymailWebhookPayloadError:
        return {}
    return dict(value) if isinstance(value, Mapping) else {}


# --- inbound ----------------------------------------------------------------------------


def parse_inbound_event(data: JsonObject) -> AnymailInboundEvent:
    """A Parse API post -> the received message, rebuilt from Mailjet's parsed fields.

    (The original MIME structure is not in the post: the message is assembled anew.)
    """
    if "event" in data and "Parts" not in data:
        raise misrouted("a tracking event", "inbound")
    # The envelope is in every Parse API post: one without it is not a received message.
    envelope_sender = data.text("Sender")
    envelope_recipient = data.text("Recipient")
    message = AnymailInboundMessage.construct(
        headers=header_pairs(data.object("Headers", None)),
        text=data.text("Text-part", None, max_length=None),
        html=data.text("Html-part", None, max_length=None),
        attachments=[
            _attachment(data, part)
            for part in data.objects("Parts", [])
            if ATTACHMENT_REF_RE.fullmatch(part.text("ContentRef", ""))
        ],
    )
    message.envelope_sender = envelope_sender
    message.envelope_recipient = envelope_recipient
    message.spam_score = finite_number(data.text("SpamAssassinScore", None))
    return AnymailInboundEvent(event_id=None, esp_event=data.data, message=message)


def header_pairs(headers: JsonObject | None) -> list[tuple[str, str]]:
    """Mailjet's headers object -> (name, value) pairs; a list value is a repeated header."""
    if headers is None:
        return []
    pairs: list[tuple[str, str]] = []
    for name in headers.data:
        check_header_name(name, f"{headers.path}.{name}")
        values = headers.texts(name) if isinstance(headers.data[name], list) else None
        pairs.extend((name, value) for value in values or [headers.text(name)])
    return pairs


def _attachment(data: JsonObject, part: JsonObject) -> AnymailInboundMessage:
    # The part's own headers say what it is; its content is a base64 payload field.
    info = Message()
    for name, value in header_pairs(part.object("Headers", None)):
        info[name] = value
    content_id = info.get("Content-ID")
    return AnymailInboundMessage.construct_attachment(
        info.get_content_type(),
        data.base64_bytes(part.text("ContentRef")),
        charset=info.get_content_charset(),
        filename=info.get_filename(),
        content_id=str(content_id) if content_id else None,
    )


# --- views ------------------------------------------------------------------------------


class MailjetTrackingWebhookView(AnymailTrackingWebhookView):
    """Mailjet's Event API webhook (grouped or single events)."""

    esp_name = "Mailjet"

    def parse_events(self, request: HttpRequest) -> list[AnymailTrackingEvent]:
        return list(parse_tracking_events(self.json_body(request)))


class MailjetInboundWebhookView(AnymailInboundWebhookView):
    """Mailjet's Parse API webhook: one received message per post."""

    esp_name = "Mailjet"

    def parse_events(self, request: HttpRequest) -> list[AnymailInboundEvent]:
        return [parse_inbound_event(json_object(self.json_body(request)))]
