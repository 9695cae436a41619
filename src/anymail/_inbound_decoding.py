"""Lenient decoding of received mail for :mod:`anymail.inbound`'s normalized attributes:
text, headers, addresses, dates and file names. Malformed input gives ``None``, ``[]``
or replacement characters, never an exception.
"""

from __future__ import annotations

import binascii
import re
from collections.abc import Iterable, Iterator
from datetime import datetime
from email import errors as email_errors
from email.header import Header
from email.policy import default as default_policy
from email.utils import parsedate_to_datetime
from typing import Any, Final

from .addresses import EmailAddress, idna_encode_domain
from .exceptions import AnymailInvalidAddress


def encode_utf8(text: str) -> bytes:
    """Text as UTF-8, with surrogate escapes turned back into the bytes they stand for.

    (Lone surrogates of any other kind, e.g. "\\ud800" in JSON, become "?".)
    """
    try:
        return text.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        return text.encode("utf-8", "replace")


def decode_8bit(data: bytes) -> str:
    """Bytes of unknown charset as text: UTF-8 if valid, else Windows-1252."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("windows-1252", "replace")


def decode_text(data: bytes, charset: str | None, errors: str = "replace") -> str:
    """``data`` in ``charset``; an unknown, missing or ASCII charset falls back to guessing."""
    if charset and charset.lower() not in ("us-ascii", "ascii"):
        try:
            return data.decode(charset, errors)
        except LookupError:
            pass  # unknown charset, or not a text codec ("base64", "zlib")
        except UnicodeDecodeError:
            if errors == "strict":
                raise
        except (UnicodeError, ValueError):
            pass  # a codec that refuses this error handler (e.g. "idna")
    return decode_8bit(data)


# The standard library's header parser still raises more than HeaderParseError on
# some malformed input (e.g. AttributeError: 'Group' object has no attribute 'local_part').
_HEADER_PARSER_ERRORS: Final = (
    email_errors.HeaderParseError,
    ValueError,
    IndexError,
    AttributeError,
    TypeError,
)
_FOLDING = re.compile(r"\r?\n(?=[ \t])")
_LINE_BREAKS = re.compile(r"[\r\n]+")


def raw_header_text(value: str | Header) -> str:
    """A raw header value, unfolded, with any 8-bit bytes decoded (encoded-words kept)."""
    text = _LINE_BREAKS.sub(" ", _FOLDING.sub("", str(value)))
    if not text.isascii():
        # compat32 keeps 8-bit header bytes as surrogate escapes.
        text = decode_8bit(encode_utf8(text))
    return text


_ENCODED_WORD = re.compile(r"=\?([^?\s]+)\?([QqBb])\?([^?]*)\?=")


def decode_header_text(value: str | Header) -> str:
    """A header value as readable text: unfolded, RFC 2047 encoded-words decoded.

    (A regular expression rather than the email package's header parser, whose
    time grows with the square of the header's length.)
    """
    text = raw_header_text(value)
    pieces: list[str] = []
    end = 0
    for match in _ENCODED_WORD.finditer(text):
        between = text[end : match.start()]
        if end == 0 or not between.isspace():  # space between encoded-words isn't text
            pieces.append(between)
        pieces.append(_decode_word(*match.groups()))
        end = match.end()
    pieces.append(text[end:])
    return "".join(pieces)


def _decode_word(charset: str, encoding: str, encoded: str) -> str:
    data = encoded.encode("ascii", "replace")
    try:
        if encoding in "Qq":
            data = binascii.a2b_qp(data, header=True)
        else:
            data = data.rstrip(b"=")
            data = binascii.a2b_base64(data + b"=" * (-len(data) % 4))
    except binascii.Error:
        data = b""  # not even the email package can decode it
    # RFC 2231 lets the charset carry a language: "utf-8*en".
    return decode_text(data, charset.partition("*")[0])


# Quoted strings, comments and <angle-addr>s, whose commas and colons don't count.
_ADDRESS_TOKEN = re.compile(r'"(?:\\.|[^"\\])*"?|\((?:\\.|[^()\\])*\)?|<[^>]*>?|[,;:]|[^",;:(<]+')
#: Longer than any real mailbox: skipped rather than parsed (the parser is quadratic).
_MAX_ADDRESS_LENGTH: Final = 2048


def _split_addresses(text: str) -> Iterator[str]:
    """Each mailbox of an address list: split at top-level commas, group names dropped."""
    piece: list[str] = []
    for match in _ADDRESS_TOKEN.finditer(text):
        text_part = match[0]
        if text_part in (",", ";", ":"):
            if text_part != ":":  # "group-name:" starts a group; its name is no address
                yield "".join(piece)
            piece = []
        else:
            piece.append(text_part)
    yield "".join(piece)


def parse_address_values(values: Iterable[str | Header]) -> list[EmailAddress]:
    """Every usable address in these header values; unparsable ones are skipped."""
    addresses: list[EmailAddress] = []
    for value in values:
        for text in _split_addresses(raw_header_text(value)):
            if not text.strip() or len(text) > _MAX_ADDRESS_LENGTH:
                continue
            try:
                header = default_policy.header_factory("to", text)
            except _HEADER_PARSER_ERRORS:
                continue
            if any(_is_invalid(defect) for defect in header.defects):
                continue
            for address in header.addresses:
                if not address.username or not address.domain:
                    continue
                try:
                    domain = idna_encode_domain(address.domain)
                except AnymailInvalidAddress:
                    continue
                addresses.append(
                    EmailAddress(_text(address.display_name), _text(address.username), domain)
                )
    return addresses


def _is_invalid(defect: Exception) -> bool:
    # Obsolete syntax, unknown charsets and encoded-words where RFC 2047 doesn't
    # allow them (in quotes, without spaces) are common and still give the
    # intended address; a missing comma or angle bracket does not.
    return isinstance(defect, email_errors.InvalidHeaderDefect) and "encoded" not in str(defect)


def _text(value: str) -> str:
    """Parsed header text, with undecodable bytes (surrogate escapes) decoded after all."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return decode_8bit(encode_utf8(value))
    return value


def parse_date_value(value: str | Header) -> datetime | None:
    try:
        return parsedate_to_datetime(raw_header_text(value))
    except (TypeError, ValueError, IndexError, OverflowError):
        return None


_CONTROL_CHARS = re.compile(r"[\x00-\x1f\x7f]+")


def clean_filename(name: str) -> str:
    """A sender's filename as text: encoded-words decoded, line breaks and controls removed."""
    text = decode_header_text(name)
    return _CONTROL_CHARS.sub(" ", text).strip()


# --- for AnymailInboundMessage's constructors ---------------------------------------------

_ADDRESS_HEADERS: Final = frozenset({"from", "to", "cc", "bcc", "reply-to", "sender"})


def address_header_value(name: str, value: Any) -> Any:
    """A header value to store: addresses get RFC 2047 display names where needed."""
    if name.lower() not in _ADDRESS_HEADERS or isinstance(value, Header):
        return value
    items = [value] if isinstance(value, str | EmailAddress) else list(value)
    return ", ".join(_address_text(item) for item in items)


def _address_text(item: str | EmailAddress) -> str:
    if isinstance(item, EmailAddress):
        return item.format(use_rfc2047=True)
    if item.isascii():
        return item  # as the ESP sent it
    parsed = parse_address_values([item])
    return ", ".join(address.format(use_rfc2047=True) for address in parsed) if parsed else item
