"""MIME helpers for sending: no ESP knowledge.

For backends that send Django's own MIME (``message.message()``) or put
addresses and header values in API parameters: ASCII domains (IDNA 2008) in
Django's headers, 7-bit clean bodies, RFC 2047 header values on one line, and
CRLF bytes.
"""

from __future__ import annotations

import base64
import copy
import re
from email import quoprimime
from email.generator import BytesGenerator
from email.header import Header
from email.message import Message
from io import BytesIO
from typing import Any, Final

from django.core.mail import EmailMessage

from .addresses import EmailAddress, parse_address_list

#: A line break and the indent after it (a folded header value).
_FOLD_RE: Final = re.compile(r"\r?\n[ \t]*")

#: Parts whose body is already 7-bit clean whatever it holds.
_SAFE_TRANSFER_ENCODINGS: Final = frozenset({"quoted-printable", "base64"})
#: RFC 5322 line-length limit, without the CRLF.
_MAX_LINE_LENGTH: Final = 998

#: Headers that hold addresses (the email package parses these as address lists).
_ADDRESS_HEADERS: Final = frozenset(
    {
        "from",
        "sender",
        "reply-to",
        "to",
        "cc",
        "bcc",
        "resent-from",
        "resent-sender",
        "resent-to",
        "resent-cc",
        "resent-bcc",
    }
)


def one_line_address(email: EmailAddress) -> str:
    """The address with an RFC 2047 display name, on one line (for an API parameter).

    The email package folds a long encoded display name over several lines
    ("\\n " between encoded-words), which has no place in an API parameter:
    the encoded-words are joined with a space instead, which decoders ignore.
    """
    return _FOLD_RE.sub(" ", email.format(use_rfc2047=True))


def encode_header_value(value: str) -> str:
    """An ASCII header value: RFC 2047 encoded-words when ``value`` is not ASCII."""
    if value.isascii():
        return value
    return Header(value, "utf-8").encode(maxlinelen=10000)


def set_header(mime: Message, name: str, value: str) -> None:
    """Set header ``name`` (replacing the first one of that name, if any)."""
    if name in mime:
        mime.replace_header(name, value)
    else:
        mime[name] = value


def with_idna_2008_domains(message: EmailMessage) -> EmailMessage:
    """A shallow copy of ``message`` whose addresses have ASCII domains, for ``message()``.

    Django would convert a Unicode domain in a header itself, with IDNA 2003
    ("faß.example" becomes "fass.example", not the "xn--fa-hia.example" of the
    envelope), and raise a bare UnicodeError for a domain it can't convert.
    Only values with non-ASCII text are re-formatted: the rest reach Django as given.
    """
    copied = copy.copy(message)
    copied.from_email = _ascii_domains(message.from_email, "from_email")
    for field in ("to", "cc", "reply_to"):
        setattr(
            copied, field, [_ascii_domains(item, field) for item in getattr(message, field) or []]
        )
    copied.extra_headers = {
        name: _ascii_domains(value, f"{name} header")
        if str(name).lower() in _ADDRESS_HEADERS
        else value
        for name, value in message.extra_headers.items()
    }
    return copied


def _ascii_domains(addresses: Any, field: str) -> Any:
    """An address list header value with IDNA 2008 (UTS #46) domains."""
    if addresses is None or str(addresses).isascii():
        return addresses
    return ", ".join(email.format() for email in parse_address_list(addresses, field))


def make_7bit(mime: Message) -> None:
    """Re-encode every part that isn't 7-bit clean: quoted-printable for text, else base64.

    Django leaves non-ASCII text parts "8bit", which an ESP that rewrites bodies
    (e.g. for open and click tracking) may corrupt.
    """
    for part in mime.walk():
        cte = str(part.get("Content-Transfer-Encoding", "7bit")).strip().lower()
        if part.is_multipart():
            # multipart/* or message/rfc822: walk() re-encodes what they contain,
            # and these types allow no transfer encoding other than 7bit/8bit/binary.
            if cte != "7bit" and "Content-Transfer-Encoding" in part:
                set_header(part, "Content-Transfer-Encoding", "7bit")
            continue
        if cte in _SAFE_TRANSFER_ENCODINGS:
            continue
        payload = part.get_payload()
        if isinstance(payload, str) and _is_7bit_clean(payload):
            continue
        data = part.get_payload(decode=True)
        if not isinstance(data, bytes):
            data = b""
        del part["Content-Transfer-Encoding"]
        if part.get_content_maintype() == "text":
            # Like the email package's own QP: line breaks stay line breaks.
            part.set_payload(quoprimime.body_encode(data.decode("latin-1")))
            part["Content-Transfer-Encoding"] = "quoted-printable"
        else:
            part.set_payload(_base64_lines(data))
            part["Content-Transfer-Encoding"] = "base64"


def _is_7bit_clean(payload: str) -> bool:
    return payload.isascii() and all(len(line) <= _MAX_LINE_LENGTH for line in payload.splitlines())


def _base64_lines(data: bytes) -> str:
    encoded = base64.b64encode(data).decode("ascii")
    return "\n".join(encoded[i : i + 76] for i in range(0, len(encoded), 76)) + "\n"


def as_ascii_bytes(mime: Message) -> bytes:
    """The message as bytes with CRLF line ends, its headers ASCII (no SMTPUTF8)."""
    policy = mime.policy.clone(linesep="\r\n")
    if hasattr(policy, "utf8"):
        policy = policy.clone(utf8=False)  # type: ignore[call-arg]  # (EmailPolicy has it)
    output = BytesIO()
    BytesGenerator(output, mangle_from_=False, policy=policy).flatten(mime)
    return output.getvalue()
