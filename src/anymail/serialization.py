"""Email messages as JSON, for the trip to a background task worker.

:func:`message_to_json` turns a Django ``EmailMessage`` (or
``EmailMultiAlternatives``, ``AnymailMessage``) into JSON-safe data: every
Django field, every Anymail attribute that is set (``None`` included: it turns
a send default off), attachments of every kind Django takes (``(filename,
content, mimetype)``, legacy ``MIMEBase`` and ``MIMEPart`` objects, inline
images with their Content-ID). :func:`message_from_json` rebuilds a message
that sends the same ESP request.

- Lazy strings are resolved when the message is queued, in the language active then.
- A naive ``send_at`` (or a date) is made aware in the time zone current when
  the message is queued, as a direct send would do.
- A value JSON can't hold (a Decimal, a model instance ...) raises
  :exc:`AnymailSerializationError` naming it, when the message is queued.

Bytes, tuples, dates and dicts with non-str keys travel as small tagged objects
(``{"$anymail": "bytes", ...}``), so they come back as they went.

The worker rebuilds an ``EmailMessage`` or an ``AnymailMessage`` (for messages
with ``alternatives``): a subclass's own methods and attributes don't travel.
"""

from __future__ import annotations

import base64
import email
import email.policy
import math
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from email.message import Message, MIMEPart
from email.mime.base import MIMEBase
from typing import Any, Final

from django.core.mail import EmailMessage, EmailMultiAlternatives
from django.core.mail.message import EmailAlternative, EmailAttachment
from django.utils.encoding import force_str
from django.utils.functional import Promise

from ._features import ANYMAIL_MESSAGE_ATTRIBUTES
from .conf import UNSET
from .exceptions import AnymailSerializationError
from .message import AnymailMessage
from .utils import to_aware_datetime

__all__ = ["FORMAT", "message_from_json", "message_to_json"]

#: The version of the JSON layout (a worker refuses others).
FORMAT: Final = 1

#: The key that marks a tagged value.
TAG: Final = "$anymail"

#: Message fields kept as they are (encoded like any value).
_FIELDS: Final = (
    "subject",
    "body",
    "from_email",
    "to",
    "cc",
    "bcc",
    "reply_to",
    "extra_headers",
    "content_subtype",
    "encoding",
)
#: Undocumented Django attributes, carried only when set on the message itself.
_INSTANCE_FIELDS: Final = ("mixed_subtype", "alternative_subtype")


class _ParsedMIMEBase(MIMEBase):
    """A legacy MIME part rebuilt by the email parser.

    A ``MIMEBase``, so Django (5.2) attaches it as the part it was; the parser
    fills in the headers that ``MIMEBase.__init__`` would have made.
    """

    def __init__(self, *, policy: Any = None) -> None:
        Message.__init__(self, policy=email.policy.compat32 if policy is None else policy)


# --- to JSON ---------------------------------------------------------------------------------


def _unserializable(path: str, value: Any, what: str = "") -> AnymailSerializationError:
    return AnymailSerializationError(
        f"Can't queue this message: the {what or type(value).__name__} in {path} can't travel "
        "as JSON to the task worker. Convert it to a str (or int/float) before sending."
    )


def _encode(value: Any, path: str) -> Any:
    if isinstance(value, Promise):
        return force_str(value)
    if value is None or isinstance(value, str | bool | int):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise _unserializable(path, value, f"float {value}")
        return value
    if isinstance(value, list):
        return [_encode(item, f"{path}[{index}]") for index, item in enumerate(value)]
    if isinstance(value, tuple):
        return {TAG: "tuple", "items": _encode(list(value), path)}
    if isinstance(value, Mapping):
        if all(isinstance(key, str) for key in value) and TAG not in value:
            return {key: _encode(item, f"{path}[{key!r}]") for key, item in value.items()}
        return {
            TAG: "dict",
            "items": [
                [_encode(key, f"{path} key {key!r}"), _encode(item, f"{path}[{key!r}]")]
                for key, item in value.items()
            ],
        }
    if isinstance(value, bytes | bytearray | memoryview):
        return {TAG: "bytes", "base64": base64.b64encode(bytes(value)).decode("ascii")}
    if isinstance(value, datetime):
        return {TAG: "datetime", "iso": value.isoformat()}
    if isinstance(value, date):
        return {TAG: "date", "iso": value.isoformat()}
    raise _unserializable(path, value)


def _encode_mime(part: Message) -> dict[str, Any]:
    kind = "mimepart" if isinstance(part, MIMEPart) else "mime"
    return {TAG: kind, "base64": base64.b64encode(part.as_bytes()).decode("ascii")}


def _encode_attachment(attachment: Any, path: str) -> Any:
    if isinstance(attachment, Message):
        return _encode_mime(attachment)
    try:
        filename, content, mimetype = attachment
    except (TypeError, ValueError):
        raise _unserializable(path, attachment) from None
    if isinstance(content, Message):
        encoded_content: Any = _encode_mime(content)
    elif isinstance(content, EmailMessage):
        # An attached email (message/rfc822): its MIME, made now as Django would at send.
        encoded_content = _encode_mime(content.message())
    else:
        encoded_content = _encode(content, f"{path} content")
    return {
        TAG: "attachment",
        "filename": _encode(filename, f"{path} filename"),
        "content": encoded_content,
        "mimetype": _encode(mimetype, f"{path} mimetype"),
    }


def message_to_json(message: EmailMessage) -> dict[str, Any]:
    """JSON-safe data for ``message``; AnymailSerializationError names what can't be."""
    fields = {name: _encode(getattr(message, name, None), name) for name in _FIELDS}
    for name in _INSTANCE_FIELDS:
        if name in vars(message):
            fields[name] = _encode(vars(message)[name], name)
    has_alternatives = hasattr(message, "alternatives")
    if has_alternatives:
        fields["alternatives"] = [
            _encode(list(alternative), f"alternatives[{index}]")
            for index, alternative in enumerate(message.alternatives)
        ]
    attachments = [
        _encode_attachment(attachment, f"attachments[{index}]")
        for index, attachment in enumerate(message.attachments)
    ]
    anymail = {}
    for name, value in iter_anymail_attributes(message):
        if name == "send_at" and isinstance(value, date):
            # Naive times mean the time zone current now, not the worker's.
            value = to_aware_datetime(value)
        anymail[name] = _encode(value, name)
    return {
        "format": FORMAT,
        "class": "EmailMultiAlternatives" if has_alternatives else "EmailMessage",
        "fields": fields,
        "attachments": attachments,
        "anymail": anymail,
    }


# --- from JSON -------------------------------------------------------------------------------


def _decode(value: Any) -> Any:
    if isinstance(value, list):
        return [_decode(item) for item in value]
    if not isinstance(value, dict):
        return value
    kind = value.get(TAG)
    if kind is None:
        return {key: _decode(item) for key, item in value.items()}
    if kind == "tuple":
        return tuple(_decode(value["items"]))
    if kind == "dict":
        return {_decode(key): _decode(item) for key, item in value["items"]}
    if kind == "bytes":
        return base64.b64decode(value["base64"])
    if kind == "datetime":
        return datetime.fromisoformat(value["iso"])
    if kind == "date":
        return date.fromisoformat(value["iso"])
    if kind in ("mime", "mimepart"):
        return _decode_mime(value)
    raise ValueError(f"Unknown tagged value {kind!r} in a queued message.")


def _decode_mime(value: dict[str, Any]) -> Message:
    data = base64.b64decode(value["base64"])
    if value[TAG] == "mimepart":
        return email.message_from_bytes(data, _class=MIMEPart, policy=email.policy.default)
    return email.message_from_bytes(data, _class=_ParsedMIMEBase)


def _decode_attachment(value: Any) -> Any:
    if isinstance(value, dict) and value.get(TAG) == "attachment":
        return EmailAttachment(
            _decode(value["filename"]), _decode(value["content"]), _decode(value["mimetype"])
        )
    return _decode(value)


def message_from_json(data: Mapping[str, Any]) -> EmailMessage:
    """The message that :func:`message_to_json` made ``data`` from."""
    if data.get("format") != FORMAT:
        raise ValueError(
            f"Queued message format {data.get('format')!r} is not {FORMAT}: it was queued by "
            "another Anymail version. Run the same Anymail version in the worker."
        )
    message: EmailMessage = (
        AnymailMessage() if data["class"] == "EmailMultiAlternatives" else EmailMessage()
    )
    fields = dict(data["fields"])
    alternatives = fields.pop("alternatives", None)
    for name, value in fields.items():
        setattr(message, name, _decode(value))
    if alternatives is not None and isinstance(message, EmailMultiAlternatives):
        message.alternatives = [EmailAlternative(*_decode(item)) for item in alternatives]
    message.attachments = [_decode_attachment(item) for item in data["attachments"]]
    for name, value in data["anymail"].items():
        setattr(message, name, _decode(value))
    return message


def iter_anymail_attributes(message: Any) -> Iterable[tuple[str, Any]]:
    """(name, value) for each Anymail attribute *set* on ``message`` (None included)."""
    for name in ANYMAIL_MESSAGE_ATTRIBUTES:
        value = getattr(message, name, UNSET)
        if value is not UNSET:
            yield name, value
