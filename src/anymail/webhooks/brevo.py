"""Brevo (formerly SendinBlue) webhooks: transactional events and inbound parsing.

- :class:`BrevoTrackingWebhookView`: a transactional webhook posts one event object,
  or a JSON array of them (a webhook created with ``"batched": true``); one
  ``tracking`` event each.
- :class:`BrevoInboundWebhookView`: an inbound parsing webhook posts
  ``{"items": [...]}``, one ``inbound`` event per received email. Brevo posts parsed
  fields, not MIME, and each attachment as a download token: its content comes from
  ``GET {BREVO_API_URL}inbound/attachments/{token}`` with ``BREVO_API_KEY``.

The deprecated SendinBlue views are in ``anymail.webhooks.sendinblue``.

Brevo signs nothing: basic auth (``WEBHOOK_SECRET``) is the only check. Mapping
tables first, then pure parse functions, then the views.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from datetime import UTC, datetime, timedelta
from email.utils import unquote
from types import MappingProxyType
from typing import Any, ClassVar, Final
from urllib.parse import quote

from django.core.files.uploadedfile import UploadedFile
from django.http import HttpRequest

from .._inbound_mime import Limits
from ..backends.base_requests import API_URL
from ..backends.brevo import API_KEY, METADATA_HEADER
from ..backends.brevo import EmailBackend as BrevoBackend
from ..conf import (
    REQUESTS_TIMEOUT,
    Setting,
    get_requests_timeout,
    get_setting,
    is_valid_credential,
)
from ..exceptions import (
    AnymailConfigurationError,
    AnymailImproperlyConfigured,
    AnymailInboundParseError,
    AnymailWebhookPayloadError,
)
from ..inbound import AnymailInboundMessage
from ..signals import AnymailInboundEvent, AnymailTrackingEvent, EventType, RejectReason
from ._download import ApiDownloader
from ._payload import JsonObject, check_text, json_object, json_objects, parse_json
from .base import AnymailInboundWebhookView, AnymailTrackingWebhookView
from .dedupe import event_key

__all__ = [
    "BrevoInboundWebhookView",
    "BrevoTrackingWebhookView",
    "parse_inbound_body",
    "parse_tracking_body",
]

#: Brevo ``event`` -> Anymail event_type (anything else: unknown).
EVENT_TYPES: Final[Mapping[str, str]] = MappingProxyType(
    {
        "request": EventType.QUEUED,  # can precede "blocked": not yet "sent"
        "delivered": EventType.DELIVERED,
        "hard_bounce": EventType.BOUNCED,
        "soft_bounce": EventType.BOUNCED,
        "invalid_email": EventType.BOUNCED,
        "blocked": EventType.REJECTED,
        "spam": EventType.COMPLAINED,
        "complaint": EventType.COMPLAINED,
        "deferred": EventType.DEFERRED,
        "opened": EventType.OPENED,
        "unique_opened": EventType.OPENED,
        "proxy_open": EventType.OPENED,  # loaded by a privacy proxy (Apple Mail...)
        "unique_proxy_open": EventType.OPENED,
        "unique_proxy_opened": EventType.OPENED,
        "click": EventType.CLICKED,
        "unsubscribed": EventType.UNSUBSCRIBED,
        "unsubscribe": EventType.UNSUBSCRIBED,
        "error": EventType.FAILED,
        "list_addition": EventType.SUBSCRIBED,
    }
)
#: Events about a sent message: they always name it and its recipient.
MESSAGE_EVENTS: Final = frozenset(EVENT_TYPES) - {"list_addition"}
#: Brevo ``event`` -> Anymail reject_reason.
REJECT_REASONS: Final[Mapping[str, str]] = MappingProxyType(
    {
        "hard_bounce": RejectReason.BOUNCED,
        "soft_bounce": RejectReason.BOUNCED,
        "invalid_email": RejectReason.INVALID,
        "blocked": RejectReason.BLOCKED,
        "spam": RejectReason.SPAM,
        "complaint": RejectReason.SPAM,
    }
)
#: A ``ts_epoch`` below this is in seconds (as in Brevo's doc samples), not milliseconds.
MILLISECONDS_FROM: Final = 10**11
#: What a header name may be (RFC 5322 ftext): anything else can't come from a message.
_HEADER_NAME_RE: Final = re.compile(r"[!-9;-~]+")

#: Downloads an attachment by its token: as ``ApiDownloader.download()`` does a URL.
AttachmentDownload = Callable[..., AbstractContextManager[UploadedFile]]


def _misrouted(posted: str, view: str, esp_name: str) -> AnymailConfigurationError:
    return AnymailConfigurationError(
        f"You seem to have set Brevo's *{posted}* webhook URL to Anymail's {esp_name} "
        f"*{view}* webhook URL. Point it at Anymail's /anymail/brevo/{posted}/ URL instead."
    )


# --- tracking ---------------------------------------------------------------------------


def parse_tracking_body(data: Any, *, esp_name: str = "Brevo") -> list[AnymailTrackingEvent]:
    """The events of a tracking post: one event object, or a list of them (batched)."""
    if isinstance(data, list):
        return [parse_tracking_event(item) for item in json_objects(data)]
    item = json_object(data)
    if "items" in item:
        raise _misrouted("inbound", "tracking", esp_name)
    return [parse_tracking_event(item)]


def parse_tracking_event(item: JsonObject) -> AnymailTrackingEvent:
    event = item.text("event")
    recipient: str | None
    message_id: str | None
    if event in MESSAGE_EVENTS:  # without them, not Brevo's; an event added later may differ
        recipient, message_id = item.text("email"), item.text("message-id")
    else:
        recipient, message_id = item.text("email", None), item.text("message-id", None)
    return AnymailTrackingEvent(
        EVENT_TYPES.get(event, EventType.UNKNOWN),
        timestamp=event_timestamp(item),
        event_id=None,  # Brevo's "id" is the webhook's id, the same for every event
        esp_event=item.data,
        message_id=message_id,  # as the send's messageId, <...> included
        recipient=recipient,
        reject_reason=REJECT_REASONS.get(event),
        mta_response=item.text("reason", None),
        tags=event_tags(item),
        metadata=event_metadata(item),
        click_url=item.text("link", None),
    )


def event_timestamp(item: JsonObject) -> datetime | None:
    """``ts_epoch`` (UTC milliseconds; the only field surely in UTC), else ``ts_event``."""
    epoch = item.number("ts_epoch", None)
    if epoch is None:
        return item.epoch("ts_event", None)
    seconds, millis = divmod(epoch, 1000) if abs(epoch) >= MILLISECONDS_FROM else (epoch, 0)
    try:
        return datetime.fromtimestamp(seconds, UTC) + timedelta(milliseconds=millis)
    except (OverflowError, OSError, ValueError):
        raise AnymailWebhookPayloadError(
            f"{item.path}.ts_epoch is not a Unix time in a usable range."
        ) from None


def event_tags(item: JsonObject) -> list[str]:
    """The ``tags`` list; else the older ``tag``: a list, a JSON list in text, or one tag.

    (For a template sent without tags, ``tag`` is the template's name.)
    """
    tags = item.texts("tags", None)
    if tags is not None:
        return tags
    if isinstance(item.raw("tag", None), list):
        return item.texts("tag")
    tag = item.text("tag", "")
    if tag.startswith("["):
        path = f"{item.path}.tag"
        try:
            parsed = parse_json(tag, path)
        except AnymailWebhookPayloadError:
            parsed = None  # a tag that merely starts with "["
        if isinstance(parsed, list) and all(isinstance(value, str) for value in parsed):
            return [check_text(value, path) for value in parsed]
    return [tag] if tag else []


def event_metadata(item: JsonObject) -> dict[str, Any]:
    """Anymail's metadata: the JSON object the backend sent in X-Mailin-custom, or {}."""
    value = item.raw(METADATA_HEADER, None)
    if isinstance(value, str):
        try:
            value = parse_json(item.text(METADATA_HEADER, max_length=None), item.path)
        except AnymailWebhookPayloadError:
            return {}  # someone else's X-Mailin-custom header
    return dict(value) if isinstance(value, dict) else {}


# --- inbound ----------------------------------------------------------------------------


def parse_inbound_body(
    data: Any,
    *,
    download: AttachmentDownload,
    seen: Callable[[str], bool] = lambda event_id: False,
    esp_name: str = "Brevo",
) -> list[AnymailInboundEvent]:
    """The events of an inbound post, skipping items ``seen`` (already dispatched)
    before downloading their attachments again."""
    if _is_tracking_body(data):
        raise _misrouted("tracking", "inbound", esp_name)
    events = []
    for number, item in enumerate(json_object(data).objects("items"), 1):
        uuids = item.texts("Uuid")  # (and Headers, below): in every received message
        event_id = uuids[0] if uuids else None
        if event_id is not None and seen(event_id):
            continue
        message = parse_inbound_item(item, download, f"inbound item {number}")
        events.append(
            AnymailInboundEvent(
                EventType.INBOUND, event_id=event_id, esp_event=item.data, message=message
            )
        )
    return events


def _is_tracking_body(data: Any) -> bool:
    items = data if isinstance(data, list) else [data]
    return bool(items) and all(
        isinstance(item, dict) and "event" in item and "items" not in item for item in items
    )


def parse_inbound_item(
    item: JsonObject, download: AttachmentDownload, what: str
) -> AnymailInboundMessage:
    headers = header_pairs(item.object("Headers"))
    text = item.text("RawTextBody", None, max_length=None)
    html = item.text("RawHtmlBody", None, max_length=None)
    limits = Limits.from_settings()
    attachments = item.objects("Attachments", [])
    if len(attachments) + 2 > limits.max_parts:
        raise AnymailInboundParseError(
            f"Inbound message has more than {limits.max_parts} MIME parts. "
            "Raise ANYMAIL INBOUND_MAX_PARTS if you expect messages this complex."
        )
    budget = limits.max_size - len(text or "") - len(html or "")
    parts = []
    for number, attachment in enumerate(attachments, 1):
        declared = attachment.number("ContentLength", None)
        if budget < 0 or (declared is not None and declared > budget):
            raise limits.too_large()
        token = attachment.text("DownloadToken")
        if not token.strip("."):  # "", "." or "..": would not name an attachment in the URL
            raise AnymailWebhookPayloadError(f"{attachment.path}.DownloadToken is not a token.")
        with download(
            token,
            what=f"attachment {number} of {what}",
            max_size=budget,
            too_large=limits.too_large,
            name=attachment.text("Name", None),
            content_type=attachment.text("ContentType", None),
        ) as upload:
            content_id = attachment.text("ContentID", None)
            parts.append(
                AnymailInboundMessage.construct_attachment_from_uploaded_file(upload, content_id)
            )
            budget -= upload.size
    # (Brevo's From, To, Cc and Subject fields repeat those of the Headers.)
    message = AnymailInboundMessage.construct(
        headers=headers, text=text, html=html, attachments=parts
    )
    first = {name.lower(): value for name, value in reversed(headers)}
    if "return-path" in first:
        message.envelope_sender = unquote(first["return-path"].strip())
    if "delivered-to" in first:
        message.envelope_recipient = first["delivered-to"].strip()
    message.stripped_text = item.text("ExtractedMarkdownMessage", None, max_length=None)
    spam = item.object("Spam", None)  # the shape Brevo's reference documents
    message.spam_score = item.number(
        "SpamScore", spam.number("Score", None) if spam is not None else None
    )
    return message


def header_pairs(headers: JsonObject | None) -> list[tuple[str, str]]:
    """(name, value) pairs in order; a repeated header (Received...) holds a list."""
    if headers is None:
        return []
    pairs: list[tuple[str, str]] = []
    for name, value in headers.data.items():
        if not _HEADER_NAME_RE.fullmatch(name):
            raise AnymailWebhookPayloadError(f"{headers.path} has an invalid header name.")
        if isinstance(value, list):
            pairs.extend((name, text) for text in headers.texts(name, max_length=None))
        elif value is not None:
            pairs.append((name, headers.text(name, max_length=None)))
    return pairs


# --- views ------------------------------------------------------------------------------


class BrevoTrackingWebhookView(AnymailTrackingWebhookView):
    """Brevo transactional webhook events -> ``tracking`` signal."""

    esp_name = "Brevo"

    def parse_events(self, request: HttpRequest) -> list[AnymailTrackingEvent]:
        return list(parse_tracking_body(self.json_body(request), esp_name=self.esp_name))


class BrevoInboundWebhookView(AnymailInboundWebhookView):
    """Brevo inbound parsing -> ``inbound`` signal (attachments fetched from Brevo's API)."""

    esp_name = "Brevo"
    #: Prefixes under which the API key and URL are looked for, in order.
    api_settings_esp_names: ClassVar[tuple[str, ...]] = ("Brevo",)
    default_api_url: ClassVar[str | None] = BrevoBackend.default_api_url
    declared_settings = (API_KEY, API_URL, REQUESTS_TIMEOUT)

    def parse_events(self, request: HttpRequest) -> list[AnymailInboundEvent]:
        downloader: ApiDownloader | None = None

        def download(token: str, **options: Any) -> AbstractContextManager[UploadedFile]:
            nonlocal downloader
            if downloader is None:  # only posts with attachments need the API key
                downloader = self.api_downloader()
            url = self.api_url() + "inbound/attachments/" + quote(token, safe="")
            return downloader.download(url, **options)

        try:
            return list(
                parse_inbound_body(
                    self.json_body(request),
                    download=download,
                    seen=self.already_dispatched,
                    esp_name=self.esp_name,
                )
            )
        finally:
            if downloader is not None:
                downloader.session.close()

    def already_dispatched(self, event_id: str) -> bool:
        store = self.dedupe_store  # the key is the one the base view's dedupe_key() gives
        return store is not None and store.seen(event_key(self._settings_esp_name, event_id))

    def api_setting(self, setting: Setting) -> tuple[str, Any]:
        """(full name, value or None) of an API setting, from the first prefix that has it."""
        for esp_name in self.api_settings_esp_names:
            value = get_setting(setting, esp_name, default=None, check=False)
            if value is not None:
                return setting.full_name(esp_name), value
        return setting.full_name(self.api_settings_esp_names[-1]), None

    def api_url(self) -> str:
        name, url = self.api_setting(API_URL)
        if url is None:
            return str(self.default_api_url)
        if not isinstance(url, str) or not url:
            raise AnymailImproperlyConfigured(
                f"Invalid Anymail setting {name}: expected the URL of Brevo's v3 API."
            )
        return url if url.endswith("/") else url + "/"

    def api_downloader(self) -> ApiDownloader:
        name, api_key = self.api_setting(API_KEY)
        if api_key is None:
            raise AnymailImproperlyConfigured(
                f"Missing Anymail setting {name}: Brevo's inbound webhook needs your Brevo v3 "
                f"API key to download attachments. Set it in your settings.py as "
                f'ANYMAIL = {{"{name}": ...}}, ANYMAIL_{name} or {name}.'
            )
        if not is_valid_credential(api_key):
            raise AnymailImproperlyConfigured(
                f"Invalid Anymail setting {name}: expected your Brevo v3 API key, a non-empty "
                "string without spaces or line breaks."
            )
        limits = Limits.from_settings()
        return ApiDownloader(
            esp_name="Brevo",
            credential_headers={"api-key": api_key},
            key_setting=name,
            timeout=get_requests_timeout(),
            spool_size=limits.spool_size,
            spool_dir=limits.spool_dir,
        )
