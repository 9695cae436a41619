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

from collections.abc import Mapping
from typing import Final

from django.http import HttpRequest

from ..exceptions import AnymailConfigurationError, AnymailWebhookPayloadError
from ..signals import AnymailEvent, AnymailTrackingEvent, EventType, RejectReason, tracking
from ._payload import JsonObject, json_object, json_objects, parse_json
from .base import AnymailBaseWebhookView

__all__ = ["MailjetTrackingWebhookView"]

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
    message_id = data.integer("MessageID", None)  # beyond 2**53: keep it an int
    campaign = data.text("customcampaign", None)
    return AnymailTrackingEvent(
        event_type,
        timestamp=data.epoch("time", None),
        event_id=None,
        esp_event=data.data,
        message_id=str(message_id) if message_id else None,
        recipient=data.text("email", None),
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


# --- views ------------------------------------------------------------------------------


class MailjetTrackingWebhookView(AnymailBaseWebhookView):
    """Mailjet's Event API webhook (grouped or single events)."""

    esp_name = "Mailjet"
    signal = tracking

    def parse_events(self, request: HttpRequest) -> list[AnymailEvent]:
        return list(parse_tracking_events(self.json_body(request)))
