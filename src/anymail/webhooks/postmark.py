"""Postmark: tracking and inbound webhooks.

Postmark signs nothing: the credentials in the webhook URL (ANYMAIL
``WEBHOOK_SECRET``) are the only proof that a post comes from Postmark, so both
views warn when no secret is set. Each POST is one JSON object: a tracking event
with a ``RecordType``, or an inbound message (no ``RecordType``).

Postmark retries only 5xx, 408 and 429 answers; any other 4xx drops the post
for good. So a field this module cannot interpret (an odd timestamp, an unknown
bounce type) is left out or mapped to ``unknown``; only a body that is not a
Postmark event at all is refused. When a webhook is created or edited, Postmark
posts a sample event for every trigger and keeps the webhook only if each gets a
200: they are ordinary events, dispatched like the rest.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime
from email.utils import quote
from typing import Final

from django.http import HttpRequest
from django.utils.dateparse import parse_datetime

from ..exceptions import AnymailConfigurationError
from ..inbound import AnymailInboundMessage
from ..signals import AnymailInboundEvent, AnymailTrackingEvent, EventType, RejectReason
from ._payload import JsonObject, check_header_name, finite_number, json_object
from .base import AnymailInboundWebhookView, AnymailTrackingWebhookView

__all__ = ["PostmarkInboundWebhookView", "PostmarkTrackingWebhookView"]

_Mapped = tuple[str, str | None]

#: RecordType -> (event_type, reject_reason); Bounce and SubscriptionChange are refined below.
RECORD_TYPES: Final[Mapping[str, _Mapped]] = {
    "Delivery": (EventType.DELIVERED, None),
    "Open": (EventType.OPENED, None),
    "Click": (EventType.CLICKED, None),
    "SpamComplaint": (EventType.COMPLAINED, RejectReason.SPAM),
}
#: A Bounce record's ``Type`` (Postmark's bounce-type list) -> (event_type, reject_reason).
BOUNCE_TYPES: Final[Mapping[str, _Mapped]] = {
    "HardBounce": (EventType.BOUNCED, RejectReason.BOUNCED),
    "Transient": (EventType.DEFERRED, None),
    "Unsubscribe": (EventType.UNSUBSCRIBED, RejectReason.UNSUBSCRIBED),
    "Subscribe": (EventType.SUBSCRIBED, None),
    "AutoResponder": (EventType.AUTORESPONDED, None),
    "AddressChange": (EventType.AUTORESPONDED, None),
    "DnsError": (EventType.DEFERRED, None),
    "SpamNotification": (EventType.COMPLAINED, RejectReason.SPAM),
    "OpenRelayTest": (EventType.DEFERRED, None),
    "Unknown": (EventType.UNKNOWN, None),
    "SoftBounce": (EventType.BOUNCED, RejectReason.BOUNCED),
    "VirusNotification": (EventType.BOUNCED, RejectReason.OTHER),
    "ChallengeVerification": (EventType.AUTORESPONDED, None),
    "BadEmailAddress": (EventType.REJECTED, RejectReason.INVALID),
    "SpamComplaint": (EventType.COMPLAINED, RejectReason.SPAM),
    "ManuallyDeactivated": (EventType.REJECTED, RejectReason.BLOCKED),
    "Unconfirmed": (EventType.REJECTED, None),
    "Blocked": (EventType.REJECTED, RejectReason.BLOCKED),
    "SMTPApiError": (EventType.FAILED, None),
    # A failure of Postmark's inbound processing: no tracking event type fits.
    "InboundError": (EventType.UNKNOWN, None),
    "DMARCPolicy": (EventType.REJECTED, RejectReason.BLOCKED),
    "TemplateRenderingFailed": (EventType.FAILED, None),
}
UNKNOWN_BOUNCE: Final[_Mapped] = (EventType.BOUNCED, None)
#: A SubscriptionChange that suppresses sending, by ``SuppressionReason``.
SUPPRESSION_REASONS: Final[Mapping[str, _Mapped]] = {
    "ManualSuppression": (EventType.UNSUBSCRIBED, RejectReason.UNSUBSCRIBED),
    "HardBounce": (EventType.BOUNCED, RejectReason.BOUNCED),
    "SpamComplaint": (EventType.COMPLAINED, RejectReason.SPAM),
}
OTHER_SUPPRESSION: Final[_Mapped] = (EventType.UNSUBSCRIBED, None)
RESUBSCRIBED: Final[_Mapped] = (EventType.SUBSCRIBED, None)

#: Record types whose ``ID`` is the bounce record's id: it identifies the event.
RECORD_ID_TYPES: Final = frozenset({"Bounce", "SpamComplaint"})
#: Record types that always name the message and recipient (Postmark's test posts too).
KNOWN_RECORD_TYPES: Final = frozenset({*RECORD_TYPES, "Bounce", "SubscriptionChange"})
#: Where each record type has its time (the first present is used).
TIMESTAMP_FIELDS: Final = ("DeliveredAt", "BouncedAt", "ReceivedAt", "ChangedAt")
#: Postmark's id of one webhook delivery, the same on its retries.
TRACE_HEADER: Final = "X-PM-Webhook-Trace-Id"
_TRACE_ID_RE: Final = re.compile(r"[\x21-\x7e]{1,200}")
#: SpamAssassin's verdict: "Yes, score=6.2 required=5.0 ..." or "No, ...".
_SPAM_YES_RE: Final = re.compile(r"\s*Yes\b")


def misrouted(what: str, url: str) -> AnymailConfigurationError:
    return AnymailConfigurationError(
        f"Anymail's Postmark {url} webhook received {what}. Check the webhook URLs in "
        "your Postmark server's settings (tracking: /anymail/postmark/tracking/, "
        "inbound: /anymail/postmark/inbound/)."
    )


# --- tracking ---------------------------------------------------------------------------


def parse_tracking_event(data: JsonObject, trace_id: str | None = None) -> AnymailTrackingEvent:
    """One Postmark tracking post -> its event (``trace_id``: the trace header, if any)."""
    record_type = data.text("RecordType", None)
    if record_type == "Inbound" or (record_type is None and "FromFull" in data):
        raise misrouted("an inbound message", "tracking")
    record_type = data.text("RecordType")
    event_type, reject_reason = _event_type(data, record_type)
    record_id = data.integer("ID", None) if record_type in RECORD_ID_TYPES else None
    recipient_field = "Email" if record_type in RECORD_ID_TYPES else "Recipient"
    # A known record type without them is not Postmark's; a type added later may differ.
    known = record_type in KNOWN_RECORD_TYPES
    message_id = data.text("MessageID") if known else data.text("MessageID", None)
    recipient = data.text(recipient_field) if known else data.text(recipient_field, None)
    tag = data.text("Tag", None)
    metadata = data.object("Metadata", None)
    return AnymailTrackingEvent(
        event_type,
        timestamp=_timestamp(data),
        event_id=str(record_id) if record_id is not None else trace_id,
        esp_event=data.data,
        message_id=message_id,
        recipient=recipient,
        reject_reason=reject_reason,
        description=data.text("Description", None),
        mta_response=data.text("Details", None),
        tags=[tag] if tag else [],
        metadata=dict(metadata.data) if metadata is not None else {},
        click_url=data.text("OriginalLink", None),
        user_agent=data.text("UserAgent", None),
    )


def _event_type(data: JsonObject, record_type: str) -> _Mapped:
    if record_type == "Bounce":
        return BOUNCE_TYPES.get(data.text("Type", ""), UNKNOWN_BOUNCE)
    if record_type == "SubscriptionChange":
        if not data.boolean("SuppressSending", True):
            return RESUBSCRIBED
        return SUPPRESSION_REASONS.get(data.text("SuppressionReason", ""), OTHER_SUPPRESSION)
    return RECORD_TYPES.get(record_type, (EventType.UNKNOWN, None))


def _timestamp(data: JsonObject) -> datetime | None:
    """The event's time: .NET-style ISO 8601 (7 fractional digits); None if unparsable."""
    for field in TIMESTAMP_FIELDS:
        text = data.text(field, None, max_length=64)
        if text is None:
            continue
        try:
            when = parse_datetime(text)
        except ValueError:  # well formed, but not a real date (month 13)
            return None
        if when is not None and when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        return when
    return None


def webhook_trace_id(request: HttpRequest) -> str | None:
    """The trace header's value, if it looks like an id (it is copied into event_id)."""
    value = request.headers.get(TRACE_HEADER, "").strip()
    return value if _TRACE_ID_RE.fullmatch(value) else None


# --- inbound ----------------------------------------------------------------------------


def parse_inbound_event(data: JsonObject) -> AnymailInboundEvent:
    """One Postmark inbound post -> the received message (raw MIME when Postmark sent it)."""
    if data.text("RecordType", "Inbound") != "Inbound":
        raise misrouted("a tracking event", "inbound")
    # Postmark always sends these, in its "Check" samples too (even with RawEmail):
    # a post without them is not a received message.
    event_id = data.text("MessageID")
    data.object("FromFull")
    envelope_recipient = data.text("OriginalRecipient")
    headers = [
        (check_header_name(item.raw("Name"), f"{item.path}.Name"), item.text("Value", ""))
        for item in data.objects("Headers", [])
    ]
    # Postmark puts the envelope sender first, as Return-Path. Any other
    # Return-Path (in RawEmail too) is the sender's own text: not trusted.
    envelope_sender = None
    if headers and headers[0][0].lower() == "return-path":
        envelope_sender = headers.pop(0)[1].strip().strip("<>") or None
    bcc = _address_list(data, "Bcc")
    raw_email = data.text("RawEmail", None, max_length=None)
    if raw_email:
        # As bytes: a str parse would mangle the 8-bit parts.
        message = AnymailInboundMessage.parse_raw_mime_bytes(raw_email.encode("utf-8"))
        if bcc and "Bcc" not in message:
            message["Bcc"] = bcc  # the delivered-to address, absent from RawEmail
    else:
        message = _construct_message(data, headers, bcc)
    message.envelope_sender = envelope_sender
    message.envelope_recipient = envelope_recipient
    message.stripped_text = data.text("StrippedTextReply", None, max_length=None)
    message.spam_detected = bool(_SPAM_YES_RE.match(str(message.get("X-Spam-Status", ""))))
    message.spam_score = finite_number(message.get("X-Spam-Score"))
    return AnymailInboundEvent(event_id=event_id, esp_event=data.data, message=message)


def _construct_message(
    data: JsonObject, headers: list[tuple[str, str]], bcc: str | None
) -> AnymailInboundMessage:
    present = {name.lower() for name, _ in headers}
    # Postmark moves these out of Headers into fields of their own.
    for name, field in (("Date", "Date"), ("Reply-To", "ReplyTo"), ("Bcc", None)):
        value = bcc if field is None else data.text(field, None)
        if value and name.lower() not in present:
            headers.append((name, value))
    attachments = [
        AnymailInboundMessage.construct_attachment(
            item.text("ContentType", None),
            # "Data" instead of "Content" in the dashboard's sample ("Check") posts.
            item.base64_bytes("Content" if "Content" in item else "Data"),
            filename=item.text("Name", None),
            content_id=item.text("ContentID", None),
        )
        for item in data.objects("Attachments", [])
    ]
    return AnymailInboundMessage.construct(
        from_email=_address_list(data, "From"),
        to=_address_list(data, "To"),
        cc=_address_list(data, "Cc"),
        subject=data.text("Subject", None),
        headers=headers,
        text=data.text("TextBody", None, max_length=None),
        html=data.text("HtmlBody", None, max_length=None),
        attachments=attachments,
    )


def _address_list(data: JsonObject, field: str) -> str | None:
    """``<field>Full`` as a header value; None when empty (no empty header is added)."""
    if field == "From":
        full = data.object("FromFull", None)
        items = [full] if full is not None else []
    else:
        items = data.objects(f"{field}Full", [])
    addresses = []
    for item in items:
        email, name = item.text("Email", ""), item.text("Name", "")
        if email:
            addresses.append(f'"{quote(name)}" <{email}>' if name else email)
    return ", ".join(addresses) or data.text(field, None) or None


# --- views ------------------------------------------------------------------------------


class PostmarkTrackingWebhookView(AnymailTrackingWebhookView):
    """Postmark's delivery, bounce, spam complaint, open, click and subscription webhooks."""

    esp_name = "Postmark"

    trace_id: str | None = None

    def parse_events(self, request: HttpRequest) -> list[AnymailTrackingEvent]:
        self.trace_id = webhook_trace_id(request)
        return [parse_tracking_event(json_object(self.json_body(request)), self.trace_id)]

    def dedupe_key(self, event: AnymailTrackingEvent) -> str | None:
        # A bounce record's ID is unique. The trace header is documented as unique
        # per delivery but not yet seen in live traffic: if it ever repeated, deduping
        # by it would silently drop events. Retries repeat the same body, so the
        # body's digest catches them without that risk.
        if event.event_id is not None and event.event_id != self.trace_id:
            return super().dedupe_key(event)
        return self.digest_dedupe_key(event)


class PostmarkInboundWebhookView(AnymailInboundWebhookView):
    """Postmark's inbound webhook: one received message per post."""

    esp_name = "Postmark"

    def parse_events(self, request: HttpRequest) -> list[AnymailInboundEvent]:
        return [parse_inbound_event(json_object(self.json_body(request)))]
