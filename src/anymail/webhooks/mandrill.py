"""Mandrill (Mailchimp Transactional): tracking and inbound at one combined URL.

Mandrill posts ``application/x-www-form-urlencoded`` with one field,
``mandrill_events``: a JSON array of message events (``event``), sync events
(``type``: deny/allow-list changes, no ``event``) and inbound messages
(``event: "inbound"``). Each event is one signal: inbound events go to
``inbound``, the rest to ``tracking``.

Every post is signed: ``X-Mandrill-Signature`` is a base64 HMAC-SHA1, keyed with
the webhook's key (``MANDRILL_WEBHOOK_KEY``), of the URL exactly as entered at
Mandrill (``MANDRILL_WEBHOOK_URL`` when proxies hide it) followed by the sorted
form fields. Nothing is timestamped, and events carry no id: dedupe digests each
event. Mandrill checks a new URL with a HEAD request (answered 200 without the
key, which it only reveals afterwards), or else with an empty batch signed with
the key ``test-webhook``, also answered 200.
"""

from __future__ import annotations

from typing import Any, ClassVar, Final

from django.http import HttpRequest

from ..conf import STRINGS, URL, Setting, get_setting
from ..exceptions import (
    AnymailImproperlyConfigured,
    AnymailWebhookPayloadError,
    AnymailWebhookValidationFailure,
)
from ..inbound import AnymailInboundMessage
from ..signals import AnymailEvent, AnymailInboundEvent, AnymailTrackingEvent, EventType
from ._basic_auth import offered_credentials
from ._body import read_body
from ._forms import parse_urlencoded
from ._payload import JsonObject, json_objects, parse_json
from .base import AnymailBaseWebhookView
from .signing import MandrillVerifier

EVENT_TYPES: Final = {
    "send": EventType.SENT,
    "deferral": EventType.DEFERRED,
    "hard_bounce": EventType.BOUNCED,
    "soft_bounce": EventType.BOUNCED,  # temporary problems come as deferrals
    "delivered": EventType.DELIVERED,  # newer than Anymail 6.0's manual
    "open": EventType.OPENED,
    "click": EventType.CLICKED,
    "spam": EventType.COMPLAINED,
    "unsub": EventType.UNSUBSCRIBED,
    "reject": EventType.REJECTED,
}
#: Message events whose SMTP reply is the last of ``msg.smtp_events`` (bounces have ``diag``).
SMTP_EVENTS: Final = frozenset({"send", "deferral", "delivered", "hard_bounce", "soft_bounce"})
#: The key Mandrill signs its URL-check post with, before it issues the real one.
URL_CHECK_KEY: Final = "test-webhook"
URL_CHECK_FIELDS: Final = [("mandrill_events", "[]")]
EVENTS_FIELD: Final = "mandrill_events"


def parse_events(fields: list[tuple[str, str]]) -> list[AnymailEvent]:
    values = [value for name, value in fields if name == EVENTS_FIELD]
    if len(values) != 1:
        raise AnymailWebhookPayloadError(
            f"expected one {EVENTS_FIELD} form field, found {len(values)}."
        )
    items = json_objects(parse_json(values[0], EVENTS_FIELD), EVENTS_FIELD)
    return [
        parse_inbound_event(item) if item.text("event", None) == "inbound" else parse_tracking(item)
        for item in items
    ]


def parse_tracking(item: JsonObject) -> AnymailTrackingEvent:
    kind = item.text("event", None)
    if kind is None:
        # A sync event: "type" says what changed on the deny/allow list, "reject" for whom.
        reject = item.object("reject", None) or JsonObject({}, f"{item.path}.reject")
        return AnymailTrackingEvent(
            EventType.UNKNOWN,
            timestamp=item.epoch("ts", None),
            esp_event=item.data,
            recipient=reject.text("email", None),
            description=reject.text("detail", None) or reject.text("reason", None),
        )
    msg = item.object("msg", None) or JsonObject({}, f"{item.path}.msg")
    mta_response = msg.text("diag", None)
    if mta_response is None and kind in SMTP_EVENTS:
        smtp_events = msg.objects("smtp_events", [])
        mta_response = smtp_events[-1].text("diag", None) if smtp_events else None
    return AnymailTrackingEvent(
        EVENT_TYPES.get(kind, EventType.UNKNOWN),
        timestamp=item.epoch("ts", None),
        esp_event=item.data,
        # The send response's per-recipient _id.
        message_id=item.text("_id", None) or msg.text("_id", None),
        recipient=msg.text("email", None),
        description=msg.text("bounce_description", None),
        mta_response=mta_response,
        tags=msg.texts("tags", []),
        metadata=_metadata(msg),
        click_url=item.text("url", None),
        user_agent=item.text("user_agent", None),
    )


def _metadata(msg: JsonObject) -> dict[str, Any]:
    # Mandrill is written in PHP, which writes an empty dict as [].
    if msg.raw("metadata", None) == []:
        return {}
    metadata = msg.object("metadata", None)
    return dict(metadata.data) if metadata is not None else {}


def parse_inbound_event(item: JsonObject) -> AnymailInboundEvent:
    msg = item.object("msg")
    message = AnymailInboundMessage.parse_raw_mime(msg.text("raw_msg", max_length=None))
    # The address Mandrill received it for; the envelope sender isn't given.
    message.envelope_recipient = msg.text("email", None)
    spam_report = msg.object("spam_report", None)
    message.spam_score = spam_report.number("score", None) if spam_report else None
    return AnymailInboundEvent(
        timestamp=item.epoch("ts", None), esp_event=item.data, message=message
    )


WEBHOOK_KEY: Final = Setting(
    "webhook_key",
    STRINGS,
    "The webhook's authentication key from Mandrill (a list for several webhooks or routes).",
    default=None,
    secret=True,
    bare=True,
)
WEBHOOK_URL: Final = Setting(
    "webhook_url",
    URL,
    "The webhook URL exactly as entered at Mandrill, when it differs from the one "
    "Django sees (a proxy).",
    default=None,
    bare=True,
)


class MandrillCombinedWebhookView(AnymailBaseWebhookView[AnymailEvent]):
    """Tracking and inbound: ``https://[user:pass@]host/anymail/mandrill/``."""

    esp_name = "Mandrill"
    signal = None  # inbound events to inbound, the others to tracking
    signature_scheme = "HMAC-SHA1"
    warn_if_no_basic_auth = False  # every post is signed
    content_types = ("application/x-www-form-urlencoded",)
    #: ``as_view(webhook_key=..., webhook_url=...)`` override the settings.
    webhook_key: ClassVar[str | list[str] | None] = None
    webhook_url: ClassVar[str | None] = None
    declared_settings = (WEBHOOK_KEY, WEBHOOK_URL)

    _fields: list[tuple[str, str]] | None = None

    def form_fields(self, request: HttpRequest) -> list[tuple[str, str]]:
        if self._fields is None:
            self._fields = parse_urlencoded(read_body(request))
        return self._fields

    def _setting(self, setting: Setting) -> Any:
        override = getattr(self, setting.name)
        kwargs = {setting.name: override} if override is not None else None
        return get_setting(setting, self.esp_name, kwargs)

    def signed_url(self, request: HttpRequest) -> str:
        """The URL Mandrill signed: as entered there, basic auth credentials included."""
        url = self._setting(WEBHOOK_URL)
        if url is not None:
            return str(url)
        url = request.build_absolute_uri()
        credentials = offered_credentials(request)
        if credentials is not None:
            scheme, _, rest = url.partition("://")
            url = f"{scheme}://{credentials.decode('utf-8', 'replace')}@{rest}"
        return url

    def validate_request(self, request: HttpRequest) -> None:
        fields = self.form_fields(request)
        url = self.signed_url(request)
        keys = self._setting(WEBHOOK_KEY)
        if keys is not None:
            try:
                MandrillVerifier(keys).verify(url, fields, request.headers)
                return
            except AnymailWebhookValidationFailure:
                if not self._is_url_check(url, fields, request):
                    raise
        elif not self._is_url_check(url, fields, request):
            # A 500: Mandrill retries, so no event is lost while the key is being set.
            raise AnymailImproperlyConfigured(
                "Missing Anymail setting MANDRILL_WEBHOOK_KEY: set it (in ANYMAIL, as "
                "ANYMAIL_MANDRILL_WEBHOOK_KEY or MANDRILL_WEBHOOK_KEY) to the webhook key "
                "Mandrill shows for this webhook."
            )

    @staticmethod
    def _is_url_check(url: str, fields: list[tuple[str, str]], request: HttpRequest) -> bool:
        """Mandrill's URL check: an empty batch, signed with the key 'test-webhook'."""
        if fields != URL_CHECK_FIELDS:
            return False
        try:
            MandrillVerifier(URL_CHECK_KEY).verify(url, fields, request.headers)
        except AnymailWebhookValidationFailure:
            return False
        return True

    def parse_events(self, request: HttpRequest) -> list[AnymailEvent]:
        return parse_events(self.form_fields(request))


#: The URL ``mandrill/tracking/`` of Anymail before 1.3 (tracking only) routes here too.
MandrillTrackingWebhookView = MandrillCombinedWebhookView
