"""Mailgun: tracking webhooks and inbound routes.

- Tracking webhooks post JSON, ``{"signature": {...}, "event-data": {...}}``, one
  event each. Legacy tracking webhooks (before 2018) post form fields instead,
  user variables mixed in (``_mailgun_forms``); the same URL takes both.
- Inbound routes ``forward()`` a form: Mailgun's parsed fields and attachment files
  (``.../inbound/``), or the raw message in ``body-mime`` (``.../inbound_mime/``).

Every post is signed: a hex HMAC-SHA256 of ``timestamp + token`` made with the
webhook signing key (``MAILGUN_WEBHOOK_SIGNING_KEY``, else ``MAILGUN_API_KEY``).
The signature does not cover the event itself: a captured signature block is
only good once (dedupe on the token) and only within ``MAILGUN_WEBHOOK_MAX_AGE``.
"""

from __future__ import annotations

from collections.abc import Mapping, MutableMapping
from datetime import datetime
from email.utils import getaddresses
from typing import Any, ClassVar, Final

from django.http import HttpRequest

from ..backends.mailgun import API_KEY
from ..conf import STRINGS, Setting, get_setting
from ..exceptions import AnymailConfigurationError, AnymailImproperlyConfigured
from ..inbound import AnymailInboundMessage
from ..signals import AnymailInboundEvent, AnymailTrackingEvent, EventType, RejectReason
from ._mailgun_forms import (
    bracketed,
    construct_parsed_message,
    form_text,
    parse_legacy_tracking_event,
    urlencoded_bytes,
)
from ._payload import JsonObject, check_text, finite_number, json_object
from .base import AnymailBaseWebhookView, AnymailInboundWebhookView, AnymailTrackingWebhookView
from .signing import MailgunVerifier

__all__ = ["MailgunInboundWebhookView", "MailgunTrackingWebhookView"]

EVENT_TYPES: Final = {
    "accepted": EventType.QUEUED,
    "rejected": EventType.REJECTED,
    "delivered": EventType.DELIVERED,
    "opened": EventType.OPENED,
    "clicked": EventType.CLICKED,
    "unsubscribed": EventType.UNSUBSCRIBED,
    "complained": EventType.COMPLAINED,
}
#: A "failed" event by its severity (anything else: failed).
FAILED_EVENT_TYPES: Final = {
    "permanent": EventType.BOUNCED,
    "temporary": EventType.DEFERRED,
}
#: event-data.reason -> reject_reason (anything else: other). The suppress-* reasons
#: mean Mailgun didn't try, because of an earlier bounce, unsubscribe or complaint.
REJECT_REASONS: Final = {
    "bounce": RejectReason.BOUNCED,
    "delayed-bounce": RejectReason.BOUNCED,
    "suppress-bounce": RejectReason.BOUNCED,
    "suppress-unsubscribe": RejectReason.UNSUBSCRIBED,
    "suppress-complaint": RejectReason.SPAM,
    "espblock": RejectReason.BLOCKED,
    "old": RejectReason.TIMED_OUT,
}

FORM_CONTENT_TYPES: Final = ("application/x-www-form-urlencoded", "multipart/form-data")


# --- tracking -----------------------------------------------------------------------


def parse_tracking_event(body: JsonObject) -> AnymailTrackingEvent:
    """The event of a (non-legacy) JSON tracking webhook post."""
    data = body.object("event-data")
    event = data.text("event")
    reason = data.text("reason", None)
    reject_reason = None
    if event == "failed":
        severity = data.text("severity", None)
        event_type = FAILED_EVENT_TYPES.get(severity or "", EventType.FAILED)
        if reason is not None or severity == "permanent":
            reject_reason = REJECT_REASONS.get(reason or "", RejectReason.OTHER)
    else:
        event_type = EVENT_TYPES.get(event, EventType.UNKNOWN)
        if event == "rejected":
            reject_reason = REJECT_REASONS.get(reason or "", RejectReason.OTHER)

    status = data.object("delivery-status", None)
    description = status.text("description", None) if status else None
    if event == "rejected":
        reject = data.object("reject", None)
        description = reject.text("reason", None) if reject else None
    headers = _object_at(data, "message", "headers")
    client_info = data.object("client-info", None)
    user_variables = data.raw("user-variables", {})
    return AnymailTrackingEvent(
        event_type,
        timestamp=data.epoch("timestamp"),
        event_id=body.object("signature").text("token"),
        esp_event=body.data,
        message_id=bracketed(headers.text("message-id", None) if headers else None),
        recipient=data.text("recipient", None)
        or (single_address(headers.text("to", None)) if headers else None),
        reject_reason=reject_reason,
        description=description or None,
        mta_response=(status.text("message", None) if status else None) or None,
        tags=data.texts("tags", []),
        # A list (seen as "[]") instead of an object means none.
        metadata=dict(user_variables) if isinstance(user_variables, Mapping) else {},
        click_url=data.text("url", None),
        user_agent=client_info.text("user-agent", None) if client_info else None,
    )


def _object_at(data: JsonObject, *keys: str) -> JsonObject | None:
    for key in keys:
        found = data.object(key, None)
        if found is None:
            return None
        data = found
    return data


def single_address(header: str | None) -> str | None:
    """The addr-spec of a To header that names exactly one address, else None."""
    if not header:
        return None
    addresses = [addr for _, addr in getaddresses([header]) if addr]
    return addresses[0] if len(addresses) == 1 else None


# --- inbound ------------------------------------------------------------------------


def parse_inbound_message(request: HttpRequest) -> AnymailInboundMessage:
    """The message of an inbound route's form post (raw MIME, or Mailgun's parsed fields)."""
    form = request.POST
    if "body-mime" in form:
        raw = urlencoded_bytes(request, b"body-mime")
        if raw is not None:
            message = AnymailInboundMessage.parse_raw_mime_bytes(raw)
        else:
            mime = check_text(form["body-mime"], "form.body-mime", None)
            message = AnymailInboundMessage.parse_raw_mime(mime)
    else:
        message = construct_parsed_message(request)
    message.envelope_sender = form_text(form, "sender")
    message.envelope_recipient = form_text(form, "recipient")
    message.stripped_text = form_text(form, "stripped-text", None)
    message.stripped_html = form_text(form, "stripped-html", None)
    # Present only when the domain's spam filter is set to add these headers.
    spam_flag = message.get("X-Mailgun-Sflag")
    message.spam_detected = None if spam_flag is None else str(spam_flag).strip().lower() == "yes"
    message.spam_score = finite_number(message.get("X-Mailgun-Sscore"))
    return message


# --- views --------------------------------------------------------------------------


WEBHOOK_SIGNING_KEY: Final = Setting(
    "webhook_signing_key",
    STRINGS,
    "The HTTP webhook signing key from your Mailgun dashboard (a list during rotation); "
    "MAILGUN_API_KEY when unset.",
    default=None,
    secret=True,
)


def signing_keys(kwargs: MutableMapping[str, Any]) -> Any:
    """MAILGUN_WEBHOOK_SIGNING_KEY (one key or a list), else MAILGUN_API_KEY.

    ``as_view(webhook_signing_key=...)``, or its older name ``api_key=``, wins.
    """
    for name in ("webhook_signing_key", "api_key"):
        if kwargs.get(name, "") is None:
            del kwargs[name]  # None: "use the settings"
    if "api_key" in kwargs:
        kwargs.setdefault("webhook_signing_key", kwargs["api_key"])
        del kwargs["api_key"]
    keys = get_setting(WEBHOOK_SIGNING_KEY, "Mailgun", kwargs)
    if keys is None:
        keys = get_setting(API_KEY, "Mailgun", default=None, check=False)
    if keys is None:
        raise AnymailImproperlyConfigured(
            "Mailgun webhooks need ANYMAIL MAILGUN_WEBHOOK_SIGNING_KEY, the HTTP webhook "
            "signing key from your Mailgun dashboard (MAILGUN_API_KEY is not set either)."
        )
    return keys


class MailgunBaseWebhookView(AnymailBaseWebhookView):
    esp_name = "Mailgun"
    signature_scheme = "HMAC-SHA256"
    warn_if_no_basic_auth = False  # Mailgun signs every post
    content_types = ("application/json", *FORM_CONTENT_TYPES)
    webhook_signing_key: ClassVar[Any] = None
    api_key: ClassVar[Any] = None  # the older name of webhook_signing_key
    declared_settings = (WEBHOOK_SIGNING_KEY, API_KEY)

    def __init__(self, **kwargs: Any) -> None:
        self.verifier = MailgunVerifier(signing_keys(kwargs))
        super().__init__(**kwargs)

    def is_json(self, request: HttpRequest) -> bool:
        return request.content_type == "application/json"

    def validate_request(self, request: HttpRequest) -> datetime:
        if self.is_json(request):
            fields = json_object(self.json_body(request)).object("signature").data
        else:
            fields = request.POST  # its get() is the last value: Mailgun's own, after
            # any user variables of the same name (legacy webhooks)
        return self.verifier.verify(
            fields.get("timestamp"),
            fields.get("token"),
            fields.get("signature"),
            fields.get("parent-signature"),
        )


class MailgunTrackingWebhookView(MailgunBaseWebhookView, AnymailTrackingWebhookView):
    """Mailgun's tracking webhooks, current (JSON) and legacy (form fields)."""

    def parse_events(self, request: HttpRequest) -> list[Any]:
        if self.is_json(request):
            return [parse_tracking_event(json_object(self.json_body(request)))]
        form = request.POST
        if "event" not in form and "sender" in form:
            raise AnymailConfigurationError(
                "You seem to have pointed a Mailgun inbound route at Anymail's tracking "
                "webhook URL. Forward routes to /anymail/mailgun/inbound_mime/ instead."
            )
        return [parse_legacy_tracking_event(form)]


class MailgunInboundWebhookView(MailgunBaseWebhookView, AnymailInboundWebhookView):
    """Mailgun inbound routes: ``forward()`` to ``.../inbound/`` or ``.../inbound_mime/``."""

    def parse_events(self, request: HttpRequest) -> list[Any]:
        if self.is_json(request):
            raise AnymailConfigurationError(
                "You seem to have pointed a Mailgun tracking webhook at Anymail's inbound "
                "URL. Use /anymail/mailgun/tracking/ for tracking webhooks."
            )
        form = request.POST
        if form.get("event", "inbound") != "inbound":
            raise AnymailConfigurationError(
                "You seem to have pointed a Mailgun legacy tracking webhook at Anymail's "
                "inbound URL. Use /anymail/mailgun/tracking/ for tracking webhooks."
            )
        if "attachments" in form:
            raise AnymailConfigurationError(
                "Anymail's Mailgun inbound webhook can't use a store(notify=...) route. "
                "Change the route's action to forward() to /anymail/mailgun/inbound_mime/."
            )
        fields = JsonObject(form, "form")
        return [
            AnymailInboundEvent(
                timestamp=fields.epoch("timestamp"),
                event_id=fields.text("token"),
                esp_event=request,
                message=parse_inbound_message(request),
            )
        ]
