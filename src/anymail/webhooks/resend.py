"""Resend: tracking and inbound webhooks, delivered by Svix.

- :class:`ResendTrackingWebhookView` (``/anymail/resend/tracking/``): each post is
  one event (``email.delivered``, ``email.bounced`` ...): one ``tracking`` event.
- :class:`ResendInboundWebhookView` (``/anymail/resend/inbound/``): each post is an
  ``email.received`` event without the mail itself, which is fetched by its id
  through Resend's API (``_resend_api``): one ``inbound`` event.

Svix signs every post (``svix-id``, ``svix-timestamp``, ``svix-signature``) with
the endpoint's own secret: ``RESEND_SIGNING_SECRET`` for tracking,
``RESEND_INBOUND_SECRET`` for inbound (a list of secrets during a rotation).
Without one, basic auth (``WEBHOOK_SECRET``) is the only check. Svix signs each
attempt afresh, so the window is its own 5 minutes; ``svix-id`` stays the same
across retries and is each event's ``event_id``, for deduplication.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, MutableMapping
from types import MappingProxyType
from typing import Any, ClassVar, Final

from django.http import HttpRequest

from ..addresses import parse_address_list
from ..backends.base_requests import API_URL
from ..backends.resend import API_KEY, EmailBackend
from ..conf import (
    REQUESTS_TIMEOUT,
    STRINGS,
    Setting,
    get_credential,
    get_requests_timeout,
    get_setting,
    is_setting_set,
)
from ..exceptions import AnymailConfigurationError, AnymailInvalidAddress
from ..exceptions import AnymailWebhookPayloadError as PayloadError
from ..inbound import AnymailInboundMessage
from ..signals import AnymailInboundEvent, AnymailTrackingEvent, EventType, RejectReason
from ._body import DEFAULT_MAX_BODY_SIZE
from ._payload import JsonObject, json_object, parse_json
from ._resend_api import ReceivedEmailFetcher
from .base import AnymailBaseWebhookView, AnymailInboundWebhookView, AnymailTrackingWebhookView
from .dedupe import event_key
from .signing import SvixVerifier

__all__ = ["ResendInboundWebhookView", "ResendTrackingWebhookView"]

ESP_NAME: Final = "Resend"

#: Resend event ``type`` -> Anymail event_type (anything else: unknown).
EVENT_TYPES: Final[Mapping[str, str]] = MappingProxyType(
    {
        "email.sent": EventType.SENT,
        "email.scheduled": EventType.QUEUED,
        "email.delivered": EventType.DELIVERED,
        "email.delivery_delayed": EventType.DEFERRED,
        "email.complained": EventType.COMPLAINED,
        "email.bounced": EventType.BOUNCED,  # reject_reason: see bounce_reason()
        "email.opened": EventType.OPENED,
        "email.clicked": EventType.CLICKED,
        "email.failed": EventType.FAILED,
        "email.suppressed": EventType.REJECTED,
    }
)
#: Resend event ``type`` -> Anymail reject_reason.
REJECT_REASONS: Final[Mapping[str, str]] = MappingProxyType(
    {
        "email.complained": RejectReason.SPAM,
        "email.failed": RejectReason.OTHER,
        "email.suppressed": RejectReason.BLOCKED,
    }
)
#: Resend event ``type`` -> (its detail object in ``data``, the detail's description).
DETAILS: Final[Mapping[str, tuple[str, str]]] = MappingProxyType(
    {
        "email.bounced": ("bounce", "message"),
        "email.failed": ("failed", "reason"),
        "email.suppressed": ("suppressed", "message"),
    }
)
#: ``bounce.subType`` of a bounce that is really a suppression (Resend didn't try).
SUPPRESSED_SUBTYPES: Final = frozenset({"Suppressed", "OnAccountSuppressionList"})

#: What a Resend event type looks like ("email.received", "contact.created").
_EVENT_TYPE_RE: Final = re.compile(r"[a-z]+(?:\.[a-z_]+)+")
#: A Resend email id (a UUID): nothing that could change the API path it goes in.
_EMAIL_ID_RE: Final = re.compile(r"[A-Za-z0-9_-]{1,100}")
#: A header value's folding (JSON in X-Tags / X-Metadata may have been folded).
_FOLD_RE: Final = re.compile(r"\r?\n(?=[ \t])")


def misrouted(event_type: str, url: str, right_url: str) -> AnymailConfigurationError:
    return AnymailConfigurationError(
        f"You seem to have set Resend's *{event_type}* webhook to Anymail's Resend *{url}* "
        f"webhook URL. Point it at /anymail/resend/{right_url}/ instead."
    )


def event_type_of(body: JsonObject) -> str:
    return body.text("type", max_length=100)


# --- tracking ---------------------------------------------------------------------------


def parse_tracking_event(body: JsonObject, event_id: str | None) -> AnymailTrackingEvent:
    """The tracking event of one Resend post (``event_id``: its ``svix-id``)."""
    event_type = event_type_of(body)
    if event_type == "email.received":
        raise misrouted(event_type, "tracking", "inbound")
    data = body.object("data")
    detail_key, description_key = DETAILS.get(event_type, ("", ""))
    detail = data.object(detail_key, None) if detail_key else None
    click = data.object("click", None)
    tags, metadata = tags_and_metadata(data)
    if event_type == "email.bounced":
        reject_reason: str | None = bounce_reason(detail)
    else:
        reject_reason = REJECT_REASONS.get(event_type)
    diagnostics = detail.texts("diagnosticCode", []) if detail is not None else []
    return AnymailTrackingEvent(
        EVENT_TYPES.get(event_type, EventType.UNKNOWN),
        timestamp=body.iso_datetime("created_at"),
        event_id=event_id,
        esp_event=body.data,
        message_id=data.text("email_id", None),
        recipient=first_recipient(data),
        reject_reason=reject_reason,
        description=detail.text(description_key, None) if detail is not None else None,
        mta_response="\n".join(diagnostics) or None,
        tags=tags,
        metadata=metadata,
        click_url=click.text("link", None, max_length=None) if click is not None else None,
        user_agent=click.text("userAgent", None) if click is not None else None,
    )


def bounce_reason(bounce: JsonObject | None) -> str:
    """blocked for a suppressed address, bounced for a hard bounce, else other."""
    if bounce is None:
        return RejectReason.OTHER
    message = bounce.text("message", "")
    if bounce.text("subType", "") in SUPPRESSED_SUBTYPES or "suppressed sending" in message:
        return RejectReason.BLOCKED
    if bounce.text("type", "") == "Permanent" or "bounce message" in message:
        return RejectReason.BOUNCED
    return RejectReason.OTHER


def first_recipient(data: JsonObject) -> str | None:
    """The first "to" address: Resend doesn't say which recipient an event is about."""
    to = data.texts("to", [])
    if not to:
        return None
    try:
        addresses = parse_address_list(to[0])
    except AnymailInvalidAddress:
        return None
    return addresses[0].addr_spec if addresses else None


def tags_and_metadata(data: JsonObject) -> tuple[list[str], dict[str, Any]]:
    """Anymail's tags and metadata, from the ``X-Tags`` and ``X-Metadata`` JSON headers
    our backend sends (Resend reports the custom headers in ``data.headers``)."""
    values: dict[str, Any] = {}
    for header in data.objects("headers", []):
        name = header.text("name", "").lower()
        if name in ("x-tags", "x-metadata") and name not in values:
            values[name] = _json_header(header.text("value", "", max_length=None))
    tags = values.get("x-tags")
    metadata = values.get("x-metadata")
    return (
        [tag for tag in tags if isinstance(tag, str)] if isinstance(tags, list) else [],
        metadata if isinstance(metadata, dict) else {},
    )


def _json_header(value: str) -> Any:
    # Someone else's header of the same name needn't be JSON: then it is no tag/metadata.
    try:
        return parse_json(_FOLD_RE.sub("", value), "header")
    except PayloadError:
        return None


# --- inbound ----------------------------------------------------------------------------


def parse_inbound_event(
    body: JsonObject, event_id: str | None, fetch: Callable[[str], AnymailInboundMessage]
) -> AnymailInboundEvent:
    """The inbound event of one ``email.received`` post; ``fetch(email_id)`` gets the mail."""
    event_type = event_type_of(body)
    if not _EVENT_TYPE_RE.fullmatch(event_type):
        raise PayloadError("body.type is not a Resend event type.")
    if event_type != "email.received":
        raise misrouted(event_type, "inbound", "tracking")
    data = body.object("data")
    email_id = data.text("email_id")
    if not _EMAIL_ID_RE.fullmatch(email_id):
        raise PayloadError("body.data.email_id is not a Resend email id.")
    received_for = data.texts("received_for", [])
    timestamp = body.iso_datetime("created_at")
    # Everything in the post is checked before the API is called.
    message = fetch(email_id)
    return_path = message.get_address_header("Return-Path")
    message.envelope_sender = return_path[0].addr_spec if return_path else None
    message.envelope_recipient = received_for[0] if len(received_for) == 1 else None
    return AnymailInboundEvent(
        EventType.INBOUND,
        timestamp=timestamp,
        event_id=event_id,
        esp_event=body.data,
        message=message,
    )


# --- views ------------------------------------------------------------------------------


def svix_id(request: HttpRequest) -> str | None:
    """The post's ``svix-id`` (the same in every retry of an event), if usable."""
    for id_header, _timestamp, _signature in SvixVerifier.header_names:
        value = request.headers.get(id_header)
        if value is not None:
            return value if value.isascii() and value.isprintable() and len(value) <= 256 else None
    return None


class _UnlessSigned:
    """``warn_if_no_basic_auth``: True unless the view checks signatures. On the class
    (for Anymail's system check) that means the endpoint's secret setting is set."""

    def __get__(self, view: ResendBaseWebhookView | None, owner: Any) -> bool:
        if view is not None:
            return view.verifier is None
        return not is_setting_set(owner.signature_setting, owner.esp_name)


def _option(kwargs: MutableMapping[str, Any], name: str) -> None:
    # as_view(name=None) means "use the setting", as for webhook_secret.
    if name in kwargs and kwargs[name] is None:
        del kwargs[name]


SIGNING_SECRET: Final = Setting(
    "signing_secret",
    STRINGS,
    "The tracking webhook endpoint's signing secret ('whsec_...'; a list during "
    "rotation): posts must then be signed.",
    default=None,
    secret=True,
)
INBOUND_SECRET: Final = Setting(
    "inbound_secret",
    STRINGS,
    "The inbound webhook endpoint's signing secret ('whsec_...'; a list during "
    "rotation): posts must then be signed.",
    default=None,
    secret=True,
)


class ResendBaseWebhookView(AnymailBaseWebhookView):
    """Svix signature (when the endpoint's secret is configured), JSON body."""

    esp_name = ESP_NAME
    signature_scheme = "Svix HMAC-SHA256 (optional)"
    content_types = ("application/json",)
    #: The setting that holds this endpoint's ``whsec_...`` secret(s).
    signature_setting: ClassVar[Setting]
    #: Basic auth is optional once posts are signed.
    warn_if_no_basic_auth = _UnlessSigned()

    def __init__(self, **kwargs: Any) -> None:
        _option(kwargs, self.signature_setting.name)
        secret = get_setting(self.signature_setting, self.esp_name, kwargs)
        key_setting = self.signature_setting.full_name(self.esp_name)
        self.verifier = (
            SvixVerifier(secret, key_setting=key_setting) if secret is not None else None
        )
        super().__init__(**kwargs)

    def validate_request(self, request: HttpRequest) -> Any:
        if self.verifier is None:
            return None
        return self.verifier.verify(request.body, request.headers)


class ResendTrackingWebhookView(ResendBaseWebhookView, AnymailTrackingWebhookView):
    """Resend's email events -> ``tracking`` signal."""

    signature_setting = SIGNING_SECRET
    declared_settings = (SIGNING_SECRET,)
    #: ``as_view(signing_secret=...)`` overrides RESEND_SIGNING_SECRET.
    signing_secret: ClassVar[str | list[str] | None] = None

    def parse_events(self, request: HttpRequest) -> list[AnymailTrackingEvent]:
        return [parse_tracking_event(json_object(self.json_body(request)), svix_id(request))]


class ResendInboundWebhookView(ResendBaseWebhookView, AnymailInboundWebhookView):
    """Resend's ``email.received`` events -> the fetched message -> ``inbound`` signal."""

    signature_setting = INBOUND_SECRET
    declared_settings = (INBOUND_SECRET, API_KEY, API_URL, REQUESTS_TIMEOUT)
    # The post only says that mail arrived (the mail is fetched): a tracking-sized limit.
    max_body_size = DEFAULT_MAX_BODY_SIZE
    #: ``as_view(...)`` overrides of RESEND_INBOUND_SECRET, RESEND_API_KEY, RESEND_API_URL.
    inbound_secret: ClassVar[str | list[str] | None] = None
    api_key: ClassVar[str | None] = None
    api_url: ClassVar[str | None] = None
    default_api_url: ClassVar[str | None] = EmailBackend.default_api_url

    def __init__(self, **kwargs: Any) -> None:
        for name in ("api_key", "api_url"):
            _option(kwargs, name)
        self.fetcher = ReceivedEmailFetcher(
            get_credential(API_KEY, self.esp_name, kwargs),
            get_setting(API_URL, self.esp_name, kwargs, default=self.default_api_url),
            get_requests_timeout(),
        )
        super().__init__(**kwargs)

    def parse_events(self, request: HttpRequest) -> list[AnymailInboundEvent]:
        event_id = svix_id(request)
        store = self.dedupe_store
        if event_id and store is not None and store.seen(event_key(ESP_NAME, event_id)):
            return []  # a retry of a mail already dispatched: don't fetch it again
        body = json_object(self.json_body(request))
        return [parse_inbound_event(body, event_id, self.fetcher.fetch)]
