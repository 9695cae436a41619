"""SendGrid: the Event Webhook (tracking) and Inbound Parse (inbound).

- Tracking: ``POST`` JSON, an array of events, one signal each. Optionally signed
  (Signed Event Webhook: ECDSA P-256 over ``timestamp + body``), checked when
  ``SENDGRID_TRACKING_WEBHOOK_VERIFICATION_KEY`` is set; the signed timestamp is
  held to ``SENDGRID_WEBHOOK_MAX_AGE`` (SendGrid retries for up to 24 hours).
  Dedupe by ``sg_event_id``. Our sends' custom args come back as top-level fields
  of each event: ``anymail_id`` is the message id, the others are the metadata.
- Inbound: ``POST multipart/form-data``, either the raw message (``email`` field,
  "POST the raw, full MIME message") or parsed fields (``headers``, ``text``,
  ``html`` in the charsets the ``charsets`` field names, ``attachmentN`` files).
  SendGrid signs nothing we can check here: basic auth protects it.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from functools import cached_property
from typing import Any, ClassVar, Final

from django.http import HttpRequest

from .._inbound_decoding import decode_text
from ..backends.sendgrid import MESSAGE_ID_CUSTOM_ARG
from ..conf import Setting, SettingType, is_setting_set
from ..exceptions import AnymailConfigurationError, AnymailWebhookPayloadError
from ..inbound import AnymailInboundMessage
from ..signals import AnymailInboundEvent, AnymailTrackingEvent, EventType, RejectReason
from ._body import read_body
from ._forms import FormPart, form_digest, parse_form_data
from ._payload import JsonObject, finite_number, json_object, json_objects, parse_json
from .base import AnymailInboundWebhookView, AnymailTrackingWebhookView
from .dedupe import WEBHOOK_DEDUPE_TTL, digest_key, get_dedupe_ttl
from .signing import EcdsaVerifier

EVENT_TYPES: Final = {
    "processed": EventType.QUEUED,
    "deferred": EventType.DEFERRED,
    "delivered": EventType.DELIVERED,
    "bounce": EventType.BOUNCED,
    "dropped": EventType.REJECTED,
    "open": EventType.OPENED,  # also Apple MPP prefetches (sg_machine_open)
    "click": EventType.CLICKED,
    "spamreport": EventType.COMPLAINED,
    "unsubscribe": EventType.UNSUBSCRIBED,
    "group_unsubscribe": EventType.UNSUBSCRIBED,
    "group_resubscribe": EventType.SUBSCRIBED,
}
#: A bounce's ``type``.
BOUNCE_REASONS: Final = {"bounce": RejectReason.BOUNCED, "blocked": RejectReason.BLOCKED}
#: A drop's ``type`` or ``reason``, lowercased; anything else is "other".
DROP_REASONS: Final = {
    "invalid": RejectReason.INVALID,
    "bounced address": RejectReason.BOUNCED,
    "unsubscribed address": RejectReason.UNSUBSCRIBED,
    "spam reporting address": RejectReason.SPAM,
    "bounce": RejectReason.BOUNCED,
    "blocked": RejectReason.BLOCKED,
    "expired": RejectReason.TIMED_OUT,
}
#: Events whose kind is itself the reason.
EVENT_REASONS: Final = {
    "spamreport": RejectReason.SPAM,
    "unsubscribe": RejectReason.UNSUBSCRIBED,
    "group_unsubscribe": RejectReason.UNSUBSCRIBED,
}
#: SendGrid's own event fields: every other top-level field is a custom arg (metadata).
KNOWN_EVENT_FIELDS: Final = frozenset(
    [
        *["anymail_id", "asm_group_id", "attempt", "bounce_classification", "category"],
        *["cert_err", "email", "event", "ip", "marketing_campaign_id", "marketing_campaign_name"],
        *["marketing_campaign_split_id", "marketing_campaign_version", "mc_auto_id"],
        *["mc_auto_name", "mc_stats", "newsletter", "nlvx_campaign_id", "nlvx_campaign_split_id"],
        *["nlvx_user_id", "phase_id", "pool", "post_type", "reason", "response", "send_at"],
        *["sg_content_type", "sg_event_id", "sg_machine_open", "sg_message_id", "sg_template_id"],
        *["sg_template_name", "sg_user_id", "singlesend_id", "singlesend_name", "smtp-id"],
        *["status", "template_hash", "template_id", "template_version_id", "timestamp", "tls"],
        *["type", "unique_args", "url", "url_offset", "useragent"],
    ]
)
#: Epoch values above this are milliseconds (seen in a Marketing Campaigns sample).
_MILLISECONDS_FROM: Final = 10**11
VERIFICATION_KEY: Final = Setting(
    "tracking_webhook_verification_key",
    SettingType("PEM or base64 public key"),
    "The Event Webhook's verification key (a public key): posts must then be signed.",
    default=None,
    bare=True,
)
#: How long an inbound post is remembered: Inbound Parse retries for up to 3 days.
INBOUND_DEDUPE_TTL: Final = 73 * 3600
_ATTACHMENT_FIELD: Final = re.compile(r"attachment([0-9]{1,6})")


def parse_tracking_events(data: Any) -> list[AnymailTrackingEvent]:
    return [parse_tracking_event(item) for item in json_objects(data)]


def parse_tracking_event(item: JsonObject) -> AnymailTrackingEvent:
    kind = item.text("event")
    reason = item.text("reason", None)
    reject_reason = EVENT_REASONS.get(kind)
    if kind == "bounce":
        reject_reason = BOUNCE_REASONS.get(item.text("type", "").lower(), RejectReason.BOUNCED)
    elif kind == "dropped":
        reject_reason = DROP_REASONS.get(
            item.text("type", "").lower(), DROP_REASONS.get((reason or "").lower())
        )
        reject_reason = reject_reason or RejectReason.OTHER
    category = item.raw("category", [])
    # Every message event names its recipient; account events (and new kinds) may not.
    recipient = item.text("email") if kind in EVENT_TYPES else item.text("email", None)
    return AnymailTrackingEvent(
        EVENT_TYPES.get(kind, EventType.UNKNOWN),
        timestamp=_timestamp(item),
        event_id=item.text("sg_event_id", None),
        esp_event=item.data,
        message_id=item.text(MESSAGE_ID_CUSTOM_ARG, None) or item.text("smtp-id", None),
        recipient=recipient,
        reject_reason=reject_reason,
        # A drop's reason is SendGrid's explanation; other reasons are SMTP replies.
        description=reason if kind == "dropped" else None,
        mta_response=None if kind == "dropped" else item.text("response", None) or reason,
        tags=[category] if isinstance(category, str) else item.texts("category", []),
        metadata={key: value for key, value in item.data.items() if key not in KNOWN_EVENT_FIELDS},
        click_url=item.text("url", None),
        user_agent=item.text("useragent", None),
    )


def _timestamp(item: JsonObject) -> datetime | None:
    # A missing or unusable time is no reason to lose the event: None, as documented.
    value = item.data.get("timestamp")
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        return datetime.fromtimestamp(value / 1000 if value > _MILLISECONDS_FROM else value, UTC)
    except (OverflowError, OSError, ValueError):
        return None


def parse_inbound_message(parts: list[FormPart]) -> AnymailInboundMessage:
    fields = {part.name: part for part in parts if part.filename is None}
    charsets = _json_field(fields, "charsets")

    def text(name: str) -> str | None:
        part = fields.get(name)
        if part is None:
            return None
        # Unknown or missing charsets fall back to UTF-8, then Windows-1252.
        return decode_text(part.content, charsets.text(name, None) if charsets else None)

    if "headers" in fields:
        message = AnymailInboundMessage.construct(
            raw_headers=fields["headers"].content,
            text=text("text"),
            html=text("html"),
            attachments=_attachments(parts, fields),
        )
    elif "email" in fields:
        message = AnymailInboundMessage.parse_raw_mime_bytes(fields["email"].content)
    else:
        raise AnymailWebhookPayloadError(
            "invalid SendGrid inbound payload: it has neither 'email' (raw MIME) nor "
            "'headers' (parsed) fields. Is this the Inbound Parse destination URL?"
        )
    envelope = _json_field(fields, "envelope")
    if envelope is not None:
        message.envelope_sender = envelope.text("from", None) or None
        message.envelope_recipient = next(iter(envelope.texts("to", [])), None)
    message.spam_score = finite_number(text("spam_score"))
    return message


def _attachments(parts: list[FormPart], fields: dict[str, FormPart]) -> list[AnymailInboundMessage]:
    files = {part.name: part for part in parts if part.filename is not None}
    info = _json_field(fields, "attachment-info")
    content_ids = _json_field(fields, "content-ids")  # {cid: "attachmentN"}
    cid_of = {content_ids.text(cid): cid for cid in content_ids.data} if content_ids else {}
    names = list(info.data) if info is not None else list(files)
    numbered = sorted(
        (int(match[1]), name) for name in names if (match := _ATTACHMENT_FIELD.fullmatch(name))
    )
    attachments = []
    for _, name in numbered:
        file = files.get(name)
        if file is None:
            continue  # listed, but not posted
        details = (info.object(name, None) if info is not None else None) or JsonObject({}, name)
        attachments.append(
            AnymailInboundMessage.construct_attachment(
                content_type=details.text("type", None) or file.content_type,
                content=file.content,
                charset=details.text("charset", None) or file.charset,
                filename=details.text("filename", None) or file.filename,
                content_id=details.text("content-id", None) or cid_of.get(name),
            )
        )
    return attachments


def _json_field(fields: dict[str, FormPart], name: str) -> JsonObject | None:
    part = fields.get(name)
    if part is None:
        return None
    return json_object(parse_json(part.content, name), name)


class _UnlessVerificationKeySet:
    """``warn_if_no_basic_auth`` as the class says it (``manage.py check``): True unless
    a verification key is set. A view sets its own, from its kwargs or the setting."""

    def __get__(self, instance: object, owner: type) -> bool:
        return not is_setting_set(VERIFICATION_KEY, "SendGrid")


class SendGridTrackingWebhookView(AnymailTrackingWebhookView):
    """The Event Webhook: ``https://[user:pass@]host/anymail/sendgrid/tracking/``."""

    esp_name = "SendGrid"
    signature_scheme = "ECDSA P-256 (tracking, optional)"
    content_types = ("application/json",)
    warn_if_no_basic_auth = _UnlessVerificationKeySet()
    #: ``as_view(tracking_webhook_verification_key=...)`` overrides the setting.
    tracking_webhook_verification_key: ClassVar[str | None] = None
    declared_settings = (VERIFICATION_KEY,)

    def __init__(self, **kwargs: Any) -> None:
        key = self.view_setting(VERIFICATION_KEY, kwargs)
        self.verifier = EcdsaVerifier(key) if key is not None else None
        # Basic auth is optional once posts are signed.
        self.warn_if_no_basic_auth = self.verifier is None
        super().__init__(**kwargs)

    def check_body(self, request: HttpRequest) -> None:
        _refuse_misrouted(request, "multipart/form-data", "Inbound Parse", "inbound")
        super().check_body(request)

    def validate_request(self, request: HttpRequest) -> Any:
        if self.verifier is None:
            return None
        return self.verifier.verify(request.body, request.headers)

    def parse_events(self, request: HttpRequest) -> list[AnymailTrackingEvent]:
        return parse_tracking_events(self.json_body(request))


class SendGridInboundWebhookView(AnymailInboundWebhookView):
    """Inbound Parse: ``https://user:pass@host/anymail/sendgrid/inbound/`` (trailing slash)."""

    esp_name = "SendGrid"
    content_types = ("multipart/form-data",)

    _form_digest: bytes = b""

    def check_body(self, request: HttpRequest) -> None:
        _refuse_misrouted(request, "application/json", "Event Webhook", "tracking")
        super().check_body(request)

    def parse_events(self, request: HttpRequest) -> list[AnymailInboundEvent]:
        parts = parse_form_data(read_body(request), request.META.get("CONTENT_TYPE", ""))
        self._form_digest = form_digest(parts)
        # SendGrid gives no time or id; esp_event is the request.
        return [AnymailInboundEvent(esp_event=request, message=parse_inbound_message(parts))]

    def dedupe_key(self, event: AnymailInboundEvent) -> str | None:
        # The fields, not the body: a retry's multipart boundary may differ.
        return digest_key(f"{self.esp_name} inbound", self._form_digest)

    @cached_property
    def dedupe_ttl(self) -> float:
        # Inbound Parse retries for 3 days, the Event Webhook for one.
        if is_setting_set(WEBHOOK_DEDUPE_TTL, self.esp_name):
            return get_dedupe_ttl(self.esp_name)
        return INBOUND_DEDUPE_TTL


def _refuse_misrouted(request: HttpRequest, content_type: str, product: str, route: str) -> None:
    # A configuration error answers 500: SendGrid keeps retrying while the URL is fixed.
    if (request.content_type or "").lower() == content_type:
        raise AnymailConfigurationError(
            f"A SendGrid {product} post came to {request.path}. Set its URL at SendGrid "
            f"to Anymail's sendgrid/{route}/ route (the post is retried meanwhile)."
        )
