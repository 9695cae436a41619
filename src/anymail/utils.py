"""Small shared helpers. Nothing here knows about any particular ESP.

For extenders, this module also re-exports the names third-party backends
import from ``anymail.utils``: ``get_anymail_setting``, ``EmailAddress``,
``parse_address_list`` and ``parse_single_address``.
"""

from __future__ import annotations

import base64
import codecs
import json
import mimetypes
from collections.abc import Mapping, MutableMapping
from dataclasses import KW_ONLY, dataclass, replace
from datetime import UTC, date, datetime, time
from email.message import Message
from typing import Any, Final

from django.utils.encoding import force_str
from django.utils.functional import Promise
from django.utils.timezone import get_current_timezone, is_naive, make_aware
from requests.structures import CaseInsensitiveDict

from .addresses import EmailAddress, parse_address_list, parse_single_address
from .conf import UNSET, get_anymail_setting, get_django_setting
from .exceptions import AnymailSerializationError

__all__ = [
    "UNSET",
    "Attachment",
    "CaseInsensitiveDict",
    "EmailAddress",
    "force_non_lazy",
    "get_anymail_setting",
    "merge_dicts_deep",
    "parse_address_list",
    "parse_single_address",
    "serialize_json",
    "to_aware_datetime",
    "update_deep",
]

_DEFAULT_ATTACHMENT_MIME_TYPE: Final = "application/octet-stream"


def force_non_lazy(value: Any) -> Any:
    """Resolve Django lazy strings (e.g. gettext_lazy) anywhere inside ``value``."""
    if isinstance(value, Promise):
        return force_str(value)
    if isinstance(value, dict):
        return {force_non_lazy(k): force_non_lazy(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(force_non_lazy(item) for item in value)
    return value


def update_deep(target: MutableMapping[str, Any], source: Mapping[str, Any]) -> None:
    """Merge ``source`` into ``target`` in place, recursing into nested dicts.

    Non-dict values (including lists) from ``source`` replace those in ``target``.
    """
    for key, value in source.items():
        current = target.get(key)
        if isinstance(value, Mapping) and isinstance(current, MutableMapping):
            update_deep(current, value)
        else:
            target[key] = value


def merge_dicts_deep(*dicts: Mapping[str, Any] | None) -> dict[str, Any]:
    """A new dict: each of ``dicts`` deep-merged over the ones before it."""
    result: dict[str, Any] = {}
    for item in dicts:
        if item:
            update_deep(result, _deep_copy_dicts(item))
    return result


def _deep_copy_dicts(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {k: _deep_copy_dicts(v) for k, v in value.items()}
    return value


class _LazyAwareEncoder(json.JSONEncoder):
    def default(self, o: Any) -> Any:
        if isinstance(o, Promise):
            return force_str(o)
        return super().default(o)


def serialize_json(data: Any, field: str | None = None, **dumps_kwargs: Any) -> str:
    """``json.dumps`` that accepts lazy strings, and on failure says *which* value failed.

    Raises :exc:`AnymailSerializationError` naming the path of the first
    value that is not JSON-serializable, e.g. ``metadata['total']`` (a Decimal).
    """
    try:
        return json.dumps(data, cls=_LazyAwareEncoder, **dumps_kwargs)
    except (TypeError, ValueError) as err:
        path, bad = _find_unserializable(data, field or "data")
        where = f" {path}" if path else ""
        kind = type(bad).__name__ if path else "value"
        raise AnymailSerializationError(
            f"Don't know how to send {kind}{where} to the ESP: {err}. "
            "Convert it to a str (or int/float) before sending; e.g. format Decimal, "
            "date and model values yourself.",
            orig_err=err,
        ) from None


_JSON_SCALARS: Final = (str, int, float, bool, type(None), Promise)


def _find_unserializable(value: Any, path: str) -> tuple[str | None, Any]:
    if isinstance(value, _JSON_SCALARS):
        return None, None
    if isinstance(value, Mapping):
        for key, item in value.items():
            if not isinstance(key, _JSON_SCALARS):
                return f"{path} key {key!r}", key
            found = _find_unserializable(item, f"{path}[{key!r}]")
            if found[0]:
                return found
        return None, None
    if isinstance(value, list | tuple):
        for index, item in enumerate(value):
            found = _find_unserializable(item, f"{path}[{index}]")
            if found[0]:
                return found
        return None, None
    return path, value


def to_aware_datetime(value: Any) -> datetime:
    """Normalize a ``send_at``-style value to an aware datetime.

    Accepts an aware datetime (kept), a naive datetime or a date (interpreted in
    Django's current timezone; a date means its midnight), or an int/float POSIX
    timestamp.
    """
    if isinstance(value, datetime):
        if is_naive(value):
            return make_aware(value, get_current_timezone())
        return value
    if isinstance(value, date):
        return make_aware(datetime.combine(value, time(0, 0)), get_current_timezone())
    if isinstance(value, int | float) and not isinstance(value, bool):
        return datetime.fromtimestamp(value, UTC)
    raise TypeError(
        f"send_at must be a datetime, date, or int/float POSIX timestamp, not {value!r}."
    )


# eq=False: attachments compare (and hash) by identity, as two attachments of
# one message may well have the same name and content.
@dataclass(slots=True, eq=False)
class Attachment:
    """A normalized message attachment (a regular file or an inline image).

    - ``content``: the bytes to send;
    - ``name``: the filename, or None (``filename``: a name to send even then);
    - ``mimetype``: e.g. "image/png" (no parameters);
    - ``charset``: for text attachments given as str, the charset used to encode them;
    - ``content_type``: ``mimetype`` plus the charset parameter if there is one;
    - ``inline``, ``content_id`` (without angle brackets), ``cid`` ("cid:<content_id>").
    """

    content: bytes
    mimetype: str
    name: str | None = None
    _: KW_ONLY
    charset: str | None = None
    inline: bool = False
    content_id: str | None = None

    @property
    def b64content(self) -> str:
        return base64.b64encode(self.content).decode("ascii")

    @property
    def content_type(self) -> str:
        if self.charset and self.mimetype.startswith("text/"):
            return f"{self.mimetype}; charset={self.charset}"
        return self.mimetype

    @property
    def filename(self) -> str:
        """``name``, or for an unnamed attachment one made from its type ("attachment.png").

        For ESPs that need a name: some refuse an attachment without one, others
        drop it or take its type from the name's extension.
        """
        if self.name:
            return self.name
        return f"attachment{mimetypes.guess_extension(self.mimetype.lower()) or ''}"

    def as_utf8(self) -> Attachment:
        """This attachment with its text in UTF-8 (itself if it is already, or not text).

        For ESPs that label every text attachment charset=utf-8. Raises LookupError
        or UnicodeDecodeError when the content doesn't decode with its charset.
        """
        if not self.charset or not self.mimetype.startswith("text/"):
            return self
        if codecs.lookup(self.charset).name == "utf-8":
            return self
        content = self.content.decode(self.charset).encode("utf-8")
        return replace(self, content=content, charset="utf-8")

    @property
    def cid(self) -> str:
        return f"cid:{self.content_id}" if self.content_id else ""

    def __repr__(self) -> str:
        details = [repr(self.name), self.content_type, f"{len(self.content)} bytes"]
        if self.inline:
            details.append(f"inline cid={self.content_id!r}")
        return f"Attachment({', '.join(details)})"

    @classmethod
    def from_django(cls, attachment: Any, encoding: str | None = None) -> Attachment:
        """Normalize any attachment Django's ``EmailMessage.attachments`` may hold.

        That is an ``(filename, content, mimetype)`` tuple or ``EmailAttachment``,
        a legacy ``email.mime`` object, or (Django 6+) an ``email.message.MIMEPart``.
        """
        charset = encoding or get_django_setting("DEFAULT_CHARSET")
        if isinstance(attachment, Message):
            return cls._from_mime(attachment, charset)
        filename, content, mimetype = attachment
        if filename is not None:
            filename = force_str(filename)
        if not mimetype:
            mimetype = (filename and mimetypes.guess_type(filename)[0]) or (
                _DEFAULT_ATTACHMENT_MIME_TYPE
            )
        mimetype = mimetype.split(";", 1)[0].strip()
        if isinstance(content, Message):  # message/rfc822
            content = content.as_bytes()
        elif hasattr(content, "message") and callable(content.message):  # EmailMessage
            content = content.message().as_bytes()
        text_charset = None
        if isinstance(content, str):
            content = content.encode(charset)
            if mimetype.startswith("text/"):
                text_charset = charset
        return cls(bytes(content), mimetype, filename or None, charset=text_charset)

    @classmethod
    def _from_mime(cls, part: Message, default_charset: str) -> Attachment:
        content_id = part.get("Content-ID")
        if content_id is not None:
            content_id = str(content_id).strip()
            if content_id.startswith("<") and content_id.endswith(">"):
                content_id = content_id[1:-1]
        disposition = part.get_content_disposition()  # "inline", "attachment" or None
        inline = disposition == "inline" or (disposition is None and bool(content_id))
        mimetype = part.get_content_type()
        if part.is_multipart() or mimetype == "message/rfc822":
            payload = part.get_payload()
            if (
                mimetype == "message/rfc822"
                and isinstance(payload, list)
                and payload
                and isinstance(payload[0], Message)
            ):
                content = payload[0].as_bytes()
            else:
                content = part.as_bytes()
        else:
            decoded = part.get_payload(decode=True)
            content = decoded if isinstance(decoded, bytes) else b""
        charset = part.get_content_charset() if mimetype.startswith("text/") else None
        return cls(
            content,
            mimetype,
            part.get_filename(),
            charset=charset,
            inline=inline,
            content_id=content_id or None,
        )
