"""Form posts read from their raw bytes: for ESPs that post forms, not JSON.

Django's ``request.POST`` does not suit webhooks that post forms:

- it decodes every field as UTF-8, replacing what isn't, where SendGrid's Inbound
  Parse sends fields in other charsets (named in a ``charsets`` field) and raw
  messages with 8-bit bytes; and Mandrill signs the fields' exact values;
- ``DATA_UPLOAD_MAX_MEMORY_SIZE`` (2.5 MB by default) refuses a raw message or a
  batch of inbound messages of ordinary size, answered 400: the ESP drops the mail.

So these helpers parse the raw body (read by ``_body.read_body``, bounded by the
view's own ``WEBHOOK_MAX_BODY_SIZE``) with strict, bounded rules: anything
malformed is an :exc:`AnymailWebhookPayloadError` (400).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from email.message import Message
from email.parser import HeaderParser
from email.policy import compat32
from email.utils import collapse_rfc2231_value
from typing import Final
from urllib.parse import parse_qsl

from ..exceptions import AnymailWebhookPayloadError

#: Most fields accepted in one form: real posts have a few dozen.
MAX_FORM_FIELDS: Final = 2000


def parse_urlencoded(body: bytes) -> list[tuple[str, str]]:
    """The (name, value) pairs of an ``application/x-www-form-urlencoded`` body, in order.

    Values are exactly as sent (percent-decoded, strict UTF-8), for signatures.
    """
    try:
        text = body.decode("utf-8")
        return parse_qsl(
            text,
            keep_blank_values=True,
            encoding="utf-8",
            errors="strict",
            max_num_fields=MAX_FORM_FIELDS,
        )
    except UnicodeDecodeError:
        raise AnymailWebhookPayloadError("the form data is not valid UTF-8.") from None
    except ValueError:
        raise AnymailWebhookPayloadError(
            f"the form has more than {MAX_FORM_FIELDS} fields."
        ) from None


@dataclass(frozen=True)
class FormPart:
    """One part of a ``multipart/form-data`` body: a field, or a file if ``filename``."""

    name: str
    content: bytes
    filename: str | None = None
    content_type: str | None = None
    charset: str | None = None


def parse_form_data(body: bytes, content_type: str) -> list[FormPart]:
    """The parts of a ``multipart/form-data`` body (``content_type``: its header), in order.

    Part contents are the exact bytes sent: no charset decoding, no size limit
    besides the body's.
    """
    boundary = _param(_header_message("Content-Type", content_type), "boundary", "content-type")
    if not boundary or len(boundary) > 200 or not boundary.isascii():
        raise AnymailWebhookPayloadError("the multipart form has no usable boundary.")
    delimiter = b"\r\n--" + boundary.encode("ascii")
    # The first delimiter may start the body, without the line break before it.
    chunks = (b"\r\n" + body).split(delimiter)
    if len(chunks) < 2 or not chunks[-1].startswith(b"--"):
        raise AnymailWebhookPayloadError("the multipart form is truncated (no final boundary).")
    if len(chunks) - 2 > MAX_FORM_FIELDS:
        raise AnymailWebhookPayloadError(f"the form has more than {MAX_FORM_FIELDS} fields.")
    return [_form_part(chunk) for chunk in chunks[1:-1]]


def _form_part(chunk: bytes) -> FormPart:
    # After the delimiter: optional whitespace, a line break, headers, a blank line.
    _padding, newline, rest = chunk.partition(b"\r\n")
    if rest.startswith(b"\r\n"):
        head, separator, content = b"", newline, rest[2:]
    else:
        head, separator, content = rest.partition(b"\r\n\r\n")
    if not newline or not separator:
        raise AnymailWebhookPayloadError("a part of the multipart form has no headers.")
    # Browsers and ESPs send non-ASCII file names as raw UTF-8 in these headers.
    headers = HeaderParser(policy=compat32).parsestr(head.decode("utf-8", "replace") + "\r\n\r\n")
    name = _param(headers, "name", "content-disposition")
    if name is None:
        raise AnymailWebhookPayloadError("a part of the multipart form has no field name.")
    filename = _param(headers, "filename", "content-disposition")
    content_type = headers.get_content_type() if "Content-Type" in headers else None
    return FormPart(
        name=name,
        content=content,
        filename=filename,
        content_type=content_type,
        charset=_param(headers, "charset", "content-type"),
    )


def _header_message(name: str, value: str) -> Message:
    message = Message(policy=compat32)
    message[name] = value
    return message


def _param(headers: Message, param: str, header: str) -> str | None:
    value = headers.get_param(param, None, header=header)
    if value is None:
        return None
    # An RFC 2231 value (name*=utf-8''...) comes as a tuple: decode it.
    return collapse_rfc2231_value(value) if isinstance(value, tuple) else str(value)


def form_digest(parts: list[FormPart]) -> bytes:
    """A digest of the form's fields and files (names, file names, contents), in order."""
    digest = hashlib.sha256()
    for part in parts:
        for value in (part.name.encode(), (part.filename or "").encode(), part.content):
            digest.update(len(value).to_bytes(8, "big") + value)
    return digest.digest()
