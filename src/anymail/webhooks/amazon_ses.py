"""Amazon SES webhooks: tracking events and received mail, delivered by Amazon SNS.

- :class:`AmazonSESTrackingWebhookView`: the SNS ``Message`` is an SES notification
  (``notificationType``) or a configuration set's published event (``eventType``);
  one ``tracking`` event per affected recipient.
- :class:`AmazonSESInboundWebhookView`: the ``Message`` is a receipt notification
  (``notificationType: "Received"``) with the mail inline (SNS action) or stored in
  S3 (S3 action); one ``inbound`` event.

Both take the SNS side (authentication, signatures, subscriptions) from
:class:`AmazonSESBaseWebhookView` (``_amazon_sns``). Mapping tables first, then
pure parse functions (SES message in, events out), then the views.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable, Mapping
from datetime import datetime
from types import MappingProxyType
from typing import IO, Any, Final, TypedDict, cast

from ..exceptions import AnymailConfigurationError, AnymailWebhookPayloadError
from ..inbound import AnymailInboundMessage
from ..signals import AnymailInboundEvent, AnymailTrackingEvent, EventType, RejectReason
from ._amazon_sns import ESP_NAME, AmazonSESBaseWebhookView, SnsEnvelope
from ._payload import JsonObject, parse_json
from .base import AnymailInboundWebhookView, AnymailTrackingWebhookView
from .dedupe import event_key

__all__ = [
    "AmazonSESBaseWebhookView",
    "AmazonSESInboundWebhookView",
    "AmazonSESTrackingWebhookView",
    "parse_inbound_message",
    "parse_tracking_message",
]

#: SES event (``eventType`` or ``notificationType``) -> Anymail event_type.
EVENT_TYPES: Final[Mapping[str, str]] = MappingProxyType(
    {
        "Send": EventType.SENT,
        "Reject": EventType.REJECTED,
        "Bounce": EventType.BOUNCED,
        "Complaint": EventType.COMPLAINED,
        "Delivery": EventType.DELIVERED,
        "Open": EventType.OPENED,
        "Click": EventType.CLICKED,
        "Rendering Failure": EventType.FAILED,
        "DeliveryDelay": EventType.DEFERRED,
        "Subscription": EventType.UNSUBSCRIBED,  # or subscribed: see _subscription()
    }
)
#: SES event -> Anymail reject_reason.
REJECT_REASONS: Final[Mapping[str, str]] = MappingProxyType(
    {"Reject": RejectReason.BLOCKED, "Bounce": RejectReason.BOUNCED, "Complaint": RejectReason.SPAM}
)
#: The key of an event's detail object, where it isn't the type in camelCase.
DETAIL_KEYS: Final[Mapping[str, str]] = MappingProxyType({"Rendering Failure": "failure"})
#: receipt.spamVerdict.status -> spam_detected (GRAY, PROCESSING_FAILED, DISABLED: unknown).
SPAM_VERDICTS: Final[Mapping[str, bool]] = MappingProxyType({"PASS": False, "FAIL": True})

_FOLD_RE: Final = re.compile(r"\r?\n(?=[ \t])")


# --- tracking ---------------------------------------------------------------------------


class _Recipient(TypedDict, total=False):
    """The per-recipient fields of one tracking event."""

    recipient: str
    event_type: str
    description: str | None
    mta_response: str | None
    user_agent: str | None
    click_url: str | None


def _destinations(mail: JsonObject, **fields: Any) -> list[_Recipient]:
    # SES can't tell which recipient opened, clicked...: every original recipient.
    return [
        cast(_Recipient, {"recipient": address, **fields})
        for address in mail.texts("destination", [])
    ]


def _bounce(detail: JsonObject, mail: JsonObject) -> list[_Recipient]:
    description = f"{detail.text('bounceType')}: {detail.text('bounceSubType')}"
    return _diagnosed(detail.objects("bouncedRecipients"), description)


def _complaint(detail: JsonObject, mail: JsonObject) -> list[_Recipient]:
    description = detail.text("complaintFeedbackType", None)
    user_agent = detail.text("userAgent", None)
    return [
        _Recipient(
            recipient=complained.text("emailAddress"),
            description=description,
            user_agent=user_agent,
        )
        for complained in detail.objects("complainedRecipients")
    ]


def _delivery(detail: JsonObject, mail: JsonObject) -> list[_Recipient]:
    response = detail.text("smtpResponse", None)
    return [_Recipient(recipient=r, mta_response=response) for r in detail.texts("recipients")]


def _delivery_delay(detail: JsonObject, mail: JsonObject) -> list[_Recipient]:
    description = detail.text("delayType", None)
    return _diagnosed(detail.objects("delayedRecipients"), description)


def _diagnosed(recipients: list[JsonObject], description: str | None) -> list[_Recipient]:
    """Bounced or delayed recipients, each with its SMTP diagnostic."""
    return [
        _Recipient(
            recipient=recipient.text("emailAddress"),
            description=description,
            mta_response=recipient.text("diagnosticCode", None),
        )
        for recipient in recipients
    ]


def _subscription(detail: JsonObject, mail: JsonObject) -> list[_Recipient]:
    """unsubscribed when the recipient left the list or a topic; subscribed when they
    joined a topic; unknown when the preferences didn't change that way."""
    new = detail.object("newTopicPreferences", None)
    old = detail.object("oldTopicPreferences", None)
    before = _topic_statuses(old)
    after = _topic_statuses(new)
    changed = {status for name, status in after.items() if before.get(name) != status}
    if (new is not None and new.boolean("unsubscribeAll", False)) or "OptOut" in changed:
        event_type = EventType.UNSUBSCRIBED
    elif "OptIn" in changed:
        event_type = EventType.SUBSCRIBED
    else:
        event_type = EventType.UNKNOWN
    return _destinations(mail, event_type=event_type, description=detail.text("source", None))


def _topic_statuses(preferences: JsonObject | None) -> dict[str, str]:
    if preferences is None:
        return {}
    return {
        topic.text("topicName"): topic.text("subscriptionStatus")
        for topic in preferences.objects("topicSubscriptionStatus", [])
    }


#: SES event -> its recipients and their fields (detail object, mail object).
RECIPIENTS: Final[Mapping[str, Callable[[JsonObject, JsonObject], list[_Recipient]]]] = (
    MappingProxyType(
        {
            "Send": lambda detail, mail: _destinations(mail),
            "Reject": lambda detail, mail: _destinations(
                mail, description=detail.text("reason", None)
            ),
            "Bounce": _bounce,
            "Complaint": _complaint,
            "Delivery": _delivery,
            "Open": lambda detail, mail: _destinations(
                mail, user_agent=detail.text("userAgent", None)
            ),
            "Click": lambda detail, mail: _destinations(
                mail,
                user_agent=detail.text("userAgent", None),
                click_url=detail.text("link", None),
            ),
            "Rendering Failure": lambda detail, mail: _destinations(
                mail, description=detail.text("errorMessage", None)
            ),
            "DeliveryDelay": _delivery_delay,
            "Subscription": _subscription,
        }
    )
)


def ses_event_type(ses: JsonObject) -> tuple[str, str]:
    """(the key that names the SES event, its value): event publishing or notification."""
    key = "eventType" if "eventType" in ses else "notificationType"
    return key, ses.text(key)


def parse_tracking_message(
    ses: JsonObject, *, event_id: str, timestamp: datetime | None, topic_arn: str
) -> list[AnymailTrackingEvent]:
    """The tracking events of one SES notification or published event (the SNS Message)."""
    key, ses_type = ses_event_type(ses)
    if ses_type == "Received":
        raise AnymailConfigurationError(
            "You seem to have set an Amazon SES *inbound* receipt rule to publish to an SNS "
            f"Topic that posts to Anymail's *tracking* webhook URL. (SNS TopicArn {topic_arn})"
        )
    mail = ses.object("mail")
    tags, metadata = tags_and_metadata(mail)
    recipients_of = RECIPIENTS.get(ses_type)
    if recipients_of is None:
        recipients = _destinations(mail, description=f"Unknown SES {key} {ses_type[:100]!r}")
    else:
        detail_key = DETAIL_KEYS.get(ses_type, ses_type[:1].lower() + ses_type[1:])
        detail = ses.object(detail_key, None) or JsonObject({}, f"{ses.path}.{detail_key}")
        recipients = recipients_of(detail, mail)
    default_type = EVENT_TYPES.get(ses_type, EventType.UNKNOWN)
    events = []
    for recipient in recipients:
        fields: dict[str, Any] = dict(recipient)
        events.append(
            AnymailTrackingEvent(
                fields.pop("event_type", default_type),
                timestamp=timestamp,
                event_id=event_id,
                esp_event=ses.data,
                message_id=mail.text("messageId", None),
                reject_reason=REJECT_REASONS.get(ses_type),
                tags=list(tags),
                metadata=dict(metadata),
                **fields,
            )
        )
    return events


def tags_and_metadata(mail: JsonObject) -> tuple[list[str], dict[str, Any]]:
    """Anymail's tags (``X-Tag`` headers) and metadata (``X-Metadata``) of the sent message.

    Only there when SES includes the original headers; SES message tags
    (``mail.tags``) are not Anymail tags. Bad metadata JSON gives ``{}``.
    """
    tags: list[str] = []
    metadata: dict[str, Any] | None = None
    for header in mail.objects("headers", []):
        name = header.text("name", "").lower()
        value = _FOLD_RE.sub("", header.text("value", ""))
        if name == "x-tag":
            tags.append(_decode_rfc2047(value))
        elif name == "x-metadata" and metadata is None:
            try:
                parsed = parse_json(value, "X-Metadata")
            except AnymailWebhookPayloadError:
                parsed = None
            metadata = parsed if isinstance(parsed, dict) else {}
    return tags, metadata or {}


def _decode_rfc2047(value: str) -> str:
    """A header value with its RFC 2047 encoded-words decoded (leniently, like mail clients)."""
    if "=?" not in value:
        return value
    from email.policy import default

    return str(default.header_factory("X-Tag", value))


# --- inbound ----------------------------------------------------------------------------

#: Downloads a received message stored by an S3 receipt action: (bucket, key) -> file.
S3Download = Callable[[str, str], IO[bytes]]


def parse_inbound_message(
    ses: JsonObject, *, topic_arn: str, download: S3Download
) -> AnymailInboundEvent:
    """The inbound event of one SES receipt notification (the SNS Message)."""
    _key, ses_type = ses_event_type(ses)
    if ses_type != "Received":
        raise AnymailConfigurationError(
            "You seem to have set an Amazon SES *sending* event or notification to publish to "
            "an SNS Topic that posts to Anymail's *inbound* webhook URL. "
            f"(SNS TopicArn {topic_arn})"
        )
    mail = ses.object("mail")
    receipt = ses.object("receipt")
    action = receipt.object("action")
    action_type = action.text("type")
    if action_type == "SNS":
        raw = _sns_content(ses.text("content", max_length=None), action.text("encoding", "UTF8"))
        message = AnymailInboundMessage.parse_raw_mime_bytes(raw)
    elif action_type == "S3":
        with download(action.text("bucketName"), action.text("objectKey")) as file:
            message = AnymailInboundMessage.parse_raw_mime_file(file)
    else:
        raise AnymailConfigurationError(
            "Anymail's Amazon SES inbound webhook works only with 'SNS' or 'S3' receipt rule "
            f"actions, not {action_type[:40]!r}. (SNS TopicArn {topic_arn})"
        )
    message.envelope_sender = mail.text("source", None)
    message.envelope_recipient = next(iter(receipt.texts("recipients", [])), None)
    spam_verdict = receipt.object("spamVerdict", None)
    status = spam_verdict.text("status", None) if spam_verdict is not None else None
    message.spam_detected = SPAM_VERDICTS.get(status) if status is not None else None
    message.spam_score = None  # SES gives no score
    return AnymailInboundEvent(
        EventType.INBOUND,
        timestamp=mail.iso_datetime("timestamp", None),
        event_id=mail.text("messageId", None),
        esp_event=ses.data,
        message=message,
    )


def _sns_content(content: str, encoding: str) -> bytes:
    """The raw message of an SNS receipt action: base64 (8-bit safe) or text."""
    if encoding == "BASE64":
        try:
            return base64.b64decode("".join(content.split()), validate=True)
        except (binascii.Error, ValueError):
            raise AnymailWebhookPayloadError("body.Message.content is not valid base64.") from None
    if encoding == "UTF8":
        return content.encode("utf-8")
    raise AnymailWebhookPayloadError(
        f"body.Message.receipt.action.encoding {encoding[:40]!r} is not BASE64 or UTF8."
    )


# --- views ------------------------------------------------------------------------------


class AmazonSESTrackingWebhookView(AmazonSESBaseWebhookView, AnymailTrackingWebhookView):
    """SES notifications and event publishing -> ``tracking`` signal."""

    def parse_ses(self, ses: JsonObject, envelope: SnsEnvelope) -> list[AnymailTrackingEvent]:
        return list(
            parse_tracking_message(
                ses,
                event_id=envelope.message_id,
                timestamp=envelope.timestamp,
                topic_arn=envelope.topic_arn,
            )
        )

    def dedupe_key(self, event: AnymailTrackingEvent) -> str | None:
        # One SNS message (one event_id) carries an event per recipient.
        return event_key(ESP_NAME, f"{event.event_id}\n{event.recipient}")


class AmazonSESInboundWebhookView(AmazonSESBaseWebhookView, AnymailInboundWebhookView):
    """SES receipt notifications (SNS or S3 action) -> ``inbound`` signal."""

    def parse_ses(self, ses: JsonObject, envelope: SnsEnvelope) -> list[AnymailInboundEvent]:
        # A duplicate is known by the mail's id before its (maybe large) download.
        mail_id = ses.object("mail").text("messageId", None) if "mail" in ses else None
        store = self.dedupe_store
        if mail_id is not None and store is not None and store.seen(event_key(ESP_NAME, mail_id)):
            return []
        download = self.aws.download
        return [parse_inbound_message(ses, topic_arn=envelope.topic_arn, download=download)]
