"""Mailgun's form posts: typed field access, legacy (pre-2018) tracking webhooks, and
inbound messages from Mailgun's parsed fields.

Legacy webhooks post flat form fields, with the message's user variables mixed
in among Mailgun's own. Mailgun's fields come first, except ``signature``,
``timestamp`` and ``token``, which come last: so Mailgun's value of a field is
its first one, or the last one for those three.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Final
from urllib.parse import unquote_to_bytes

from django.http import HttpRequest, QueryDict

from ..exceptions import AnymailWebhookPayloadError
from ..inbound import AnymailInboundMessage
from ..signals import AnymailTrackingEvent, EventType, RejectReason
from ._payload import MAX_TEXT_LENGTH, JsonObject, check_text, json_object, parse_json

LEGACY_EVENT_TYPES: Final = {
    "delivered": EventType.DELIVERED,
    "dropped": EventType.REJECTED,
    "bounced": EventType.BOUNCED,
    "complained": EventType.COMPLAINED,
    "unsubscribed": EventType.UNSUBSCRIBED,
    "opened": EventType.OPENED,
    "clicked": EventType.CLICKED,
}
#: Legacy ``code`` values with a reason of their own; other 4xx/5xx codes: bounced.
LEGACY_CODE_REASONS: Final = {
    499: RejectReason.TIMED_OUT,  # Mailgun gave up after retrying
    605: RejectReason.BOUNCED,  # not sent: an earlier bounce
    607: RejectReason.SPAM,  # not sent: an earlier complaint
}
#: The fields Mailgun itself puts in legacy webhooks (the rest are user variables).
LEGACY_FIELDS: Final = frozenset(
    {
        "attachment-count", "body-plain", "campaign-id", "campaign-name", "city",
        "client-name", "client-os", "client-type", "code", "country", "description",
        "device-type", "domain", "error", "event", "h", "ip", "mailing-list",
        "message-headers", "message-id", "Message-Id", "notification", "reason",
        "recipient", "region", "signature", "tag", "timestamp", "token", "url",
        "user-agent", "X-Mailgun-Sid", "X-Mailgun-Tag",
    }
)  # fmt: skip
#: Fields a user variable of the same name can't be told apart from.
UNRECOVERABLE_FIELDS: Final = frozenset(
    {"body-plain", "h", "message-headers", "message-id", "Message-Id", "tag", "X-Mailgun-Tag"}
)
SIGNATURE_FIELDS: Final = frozenset({"signature", "timestamp", "token"})

_ENHANCED_STATUS_RE: Final = re.compile(r"([245])\.\d{1,3}\.\d{1,3}", re.ASCII)
_ATTACHMENT_FIELD_RE: Final = re.compile(r"attachment-([0-9]{1,6})", re.ASCII)


def form_text(form: QueryDict, key: str, max_length: int | None = MAX_TEXT_LENGTH) -> str | None:
    """A form field's last value (None if absent), checked like any payload text."""
    value = form.get(key)
    return None if value is None else check_text(value, f"form.{key}", max_length)


def first_text(form: QueryDict, key: str, max_length: int | None = MAX_TEXT_LENGTH) -> str | None:
    """A form field's first value (None if absent)."""
    values = form.getlist(key)
    return check_text(values[0], f"form.{key}", max_length) if values else None


def form_count(form: QueryDict, key: str) -> int | None:
    value = form_text(form, key, 12)
    if value is None:
        return None
    if not (value.isascii() and value.isdigit()):
        raise AnymailWebhookPayloadError(f"form.{key} should be a whole number.")
    return int(value)


def header_pairs(form: QueryDict, key: str = "message-headers") -> list[tuple[str, Any]]:
    """The JSON list of [name, value] headers Mailgun posts (values are text, except for
    some structured headers such as Content-Type: [value, {params}])."""
    path = f"form.{key}"
    text = form_text(form, key, None)
    items = parse_json(text, path) if text is not None else []
    if not isinstance(items, list):
        raise AnymailWebhookPayloadError(f"{path} should be a list of [name, value] pairs.")
    pairs = []
    for index, item in enumerate(items):
        if not (isinstance(item, list) and len(item) == 2):
            raise AnymailWebhookPayloadError(f"{path}[{index}] should be a [name, value] pair.")
        pairs.append((check_text(item[0], f"{path}[{index}][0]", 998), item[1]))
    return pairs


def bracketed(message_id: str | None) -> str | None:
    """The Message-ID as our sender's anymail_status has it: in angle brackets."""
    if not message_id or not message_id.strip():
        return None
    message_id = message_id.strip()
    return message_id if message_id.startswith("<") else f"<{message_id}>"


def legacy_reject_reason(code: str | None) -> str | None:
    """reject_reason from a legacy ``code``: an SMTP-like number or an RFC 3463 status."""
    if not code or not code.strip():
        return None
    code = code.strip()
    if code.isascii() and code.isdigit() and len(code) <= 6:
        number = int(code)
        if number in LEGACY_CODE_REASONS:
            return LEGACY_CODE_REASONS[number]
        return RejectReason.BOUNCED if 400 <= number < 600 else RejectReason.OTHER
    status = _ENHANCED_STATUS_RE.fullmatch(code)
    if status:
        return RejectReason.BOUNCED if status[1] in "45" else RejectReason.OTHER
    return None


def parse_legacy_tracking_event(form: QueryDict) -> AnymailTrackingEvent:
    """The event of a legacy tracking webhook post."""
    event = first_text(form, "event")
    if event is None:
        raise AnymailWebhookPayloadError("form.event is missing.")
    headers = header_pairs(form) if "message-headers" in form else None
    message_id = first_text(form, "Message-Id") or first_text(form, "message-id")
    fields = JsonObject(form, "form")  # get(): the last value
    return AnymailTrackingEvent(
        LEGACY_EVENT_TYPES.get(event, EventType.UNKNOWN),
        timestamp=fields.epoch("timestamp"),
        event_id=fields.text("token"),
        esp_event=form,
        message_id=bracketed(message_id),
        recipient=first_text(form, "recipient"),
        reject_reason=legacy_reject_reason(first_text(form, "code")),
        description=first_text(form, "description", None) or None,
        mta_response=first_text(form, "error", None)
        or first_text(form, "notification", None)
        or None,
        tags=_legacy_tags(form, headers),
        metadata=_legacy_metadata(form, headers),
        click_url=first_text(form, "url", None),
        user_agent=first_text(form, "user-agent"),
    )


def _legacy_tags(form: QueryDict, headers: list[tuple[str, Any]] | None) -> list[str]:
    for key in ("tag", "X-Mailgun-Tag"):
        tags = form.getlist(key)
        if tags:
            return [check_text(tag, f"form.{key}", 998) for tag in tags]
    # Delivery events carry the tags only in the message's headers.
    return [
        value
        for name, value in headers or []
        if name.lower() == "x-mailgun-tag" and isinstance(value, str)
    ]


def _legacy_metadata(form: QueryDict, headers: list[tuple[str, Any]] | None) -> dict[str, Any]:
    metadata: dict[str, Any] = {}
    if headers is not None:
        # Delivery events: the X-Mailgun-Variables header (JSON) our sender's v: fields made.
        for name, value in headers:
            if name.lower() == "x-mailgun-variables" and isinstance(value, str):
                try:
                    variables = parse_json(value, "form.message-headers.X-Mailgun-Variables")
                except AnymailWebhookPayloadError:
                    continue  # unreadable metadata doesn't make the event any less real
                if isinstance(variables, Mapping):
                    metadata.update(variables)
        return metadata
    # Engagement events: the user variables are form fields among Mailgun's own.
    for key in form:
        values = form.getlist(key)
        if key in UNRECOVERABLE_FIELDS:
            continue
        if key not in LEGACY_FIELDS:
            metadata[key] = values[-1]
        elif len(values) > 1:
            metadata[key] = values[0] if key in SIGNATURE_FIELDS else values[-1]
    return {key: check_text(value, f"form.{key}") for key, value in metadata.items()}


# --- inbound: parsed fields ------------------------------------------------------


def construct_parsed_message(request: HttpRequest) -> AnymailInboundMessage:
    """An inbound message from Mailgun's parsed fields and attachment files."""
    form = request.POST
    headers = [(name, value) for name, value in header_pairs(form) if isinstance(value, str)]
    content_ids: dict[str, str] = {}
    if "content-id-map" in form:
        path = "form.content-id-map"
        cid_map = json_object(parse_json(form_text(form, "content-id-map", None) or "", path), path)
        content_ids = {cid_map.text(cid): cid for cid in cid_map.data}
    # attachment-1 ... attachment-<count>; Django leaves out files with unsafe names.
    count = form_count(form, "attachment-count") or 0
    numbered = (
        (int(match[1]), field)
        for field in request.FILES
        if (match := _ATTACHMENT_FIELD_RE.fullmatch(field)) and 0 < int(match[1]) <= count
    )
    attachments = [
        AnymailInboundMessage.construct_attachment_from_uploaded_file(
            request.FILES[field], content_id=content_ids.get(field)
        )
        for _, field in sorted(numbered)
    ]
    return AnymailInboundMessage.construct(
        headers=headers,
        # The fields only matter if Mailgun sent no headers (it always does).
        from_email=None if headers else form_text(form, "from"),
        subject=None if headers else form_text(form, "subject"),
        text=form_text(form, "body-plain", None),
        html=form_text(form, "body-html", None),
        attachments=attachments,
    )


def urlencoded_bytes(request: HttpRequest, name: bytes) -> bytes | None:
    """The last value of a urlencoded field, as the bytes sent (raw MIME may be 8-bit
    in any charset; Django's form decoding would replace what isn't UTF-8)."""
    if request.content_type != "application/x-www-form-urlencoded":
        return None
    found = None
    for item in request.body.split(b"&"):
        key, _, value = item.partition(b"=")
        if unquote_to_bytes(key.replace(b"+", b" ")) == name:
            found = value
    return unquote_to_bytes(found.replace(b"+", b" ")) if found is not None else None
