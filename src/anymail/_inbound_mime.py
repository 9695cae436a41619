"""The machinery behind :mod:`anymail.inbound`: limits, spooling, lenient decoding.

Raw MIME is parsed as bytes by the standard library's feed parser with the
compat32 policy (the classic ``email.message.Message`` API, whose header access
never raises on malformed input). Around it:

- **Limits** on total size, number of parts and nesting depth are checked while
  parsing, so a hostile message is refused early with
  :exc:`AnymailInboundParseError` (a 400 in a webhook), never a crash.
- **Spooling.** The feed parser collects a body as a list of line strings and
  joins them: close to three times the body's size in memory. So long runs of
  base64 lines (attachments) go to a temporary file *before* the parser sees
  them, replaced by one placeholder line; after parsing, the placeholder is
  swapped for a :class:`SpooledBody`. A base64 line can never be a boundary, a
  header or a blank line, so the parser sees the same structure either way.
- **Lenient decoding** of headers, addresses, dates and text for the
  normalized attributes: malformed input gives ``None``/``[]``/replacement
  characters, not exceptions.
"""

from __future__ import annotations

import binascii
import re
import secrets
import tempfile
from base64 import encodebytes
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from email import errors as email_errors
from email.feedparser import BytesFeedParser
from email.header import Header
from email.message import Message
from email.policy import Compat32, compat32
from email.policy import default as default_policy
from email.utils import parsedate_to_datetime
from typing import IO, Any, ClassVar, Final

from .addresses import EmailAddress, idna_encode_domain
from .conf import POSITIVE_INT, Setting, get_django_setting, get_positive_int
from .exceptions import AnymailInboundParseError, AnymailInvalidAddress

DEFAULT_MAX_SIZE: Final = 50 * 1024 * 1024
DEFAULT_MAX_PARTS: Final = 5000
DEFAULT_MAX_DEPTH: Final = 50
#: Bodies are spooled above Django's FILE_UPLOAD_MAX_MEMORY_SIZE, but never below this.
MIN_SPOOL_SIZE: Final = 64 * 1024

_BASE64_LINE: Final = re.compile(rb"[A-Za-z0-9+/=]+\r?\n")
_FEED_BATCH: Final = 64 * 1024
_COPY_CHUNK: Final = 57 * 4 * 1024  # whole base64 quanta (4) and encoded lines (57 bytes)


MAX_SIZE: Final = Setting(
    "inbound_max_size",
    POSITIVE_INT,
    "Largest raw received message Anymail parses, in bytes.",
    default=DEFAULT_MAX_SIZE,
    per_esp=False,
    option=False,
)
MAX_PARTS: Final = Setting(
    "inbound_max_parts",
    POSITIVE_INT,
    "Most MIME parts in a received message, the message itself included.",
    default=DEFAULT_MAX_PARTS,
    per_esp=False,
    option=False,
)
MAX_DEPTH: Final = Setting(
    "inbound_max_depth",
    POSITIVE_INT,
    "Deepest nesting of MIME parts in parts in a received message.",
    default=DEFAULT_MAX_DEPTH,
    per_esp=False,
    option=False,
)


@dataclass(frozen=True)
class Limits:
    """The inbound limits and spooling settings, read afresh for each message."""

    max_size: int
    max_parts: int
    max_depth: int
    spool_size: int
    spool_dir: str | None

    #: Read by from_settings() (the settings reference lists them).
    declared_settings: ClassVar[tuple[Setting, ...]] = (MAX_SIZE, MAX_PARTS, MAX_DEPTH)

    @classmethod
    def from_settings(cls) -> Limits:
        return cls(
            max_size=get_positive_int(MAX_SIZE),
            max_parts=get_positive_int(MAX_PARTS),
            max_depth=get_positive_int(MAX_DEPTH),
            spool_size=max(
                get_django_setting("FILE_UPLOAD_MAX_MEMORY_SIZE", 2621440), MIN_SPOOL_SIZE
            ),
            spool_dir=get_django_setting("FILE_UPLOAD_TEMP_DIR"),
        )

    def too_large(self) -> AnymailInboundParseError:
        return AnymailInboundParseError(
            f"Inbound message is larger than {self.max_size} bytes. "
            "Raise ANYMAIL INBOUND_MAX_SIZE if you expect messages this large."
        )


def spool_file(limits: Limits) -> IO[bytes]:
    return tempfile.TemporaryFile(dir=limits.spool_dir)


class SpooledBody:
    """A part's transfer-encoded (ASCII) body, kept in a temporary file.

    ``size`` bytes of ``file``, followed by ``tail`` (a line break the file
    does not hold).
    """

    __slots__ = ("file", "size", "tail")

    def __init__(self, file: IO[bytes], size: int, tail: bytes = b"") -> None:
        self.file = file
        self.size = size
        self.tail = tail

    def read_text(self) -> str:
        self.file.seek(0)
        return (self.file.read(self.size) + self.tail).decode("ascii")

    def decode_base64_into(self, out: IO[bytes]) -> int | None:
        """Decode into ``out`` chunk by chunk; None if malformed (``out`` then holds junk).

        Strict decoding (padding only at the very end) gives exactly what the
        email package's own decoder gives; anything else is left to it.
        """
        self.file.seek(0)
        remaining, carry, written = self.size, b"", 0
        try:
            while remaining > 0:
                block = self.file.read(min(_COPY_CHUNK, remaining))
                if not block:
                    break
                remaining -= len(block)
                data = carry + block.translate(None, b"\r\n")
                # Keep the last quantum back: only the final one may hold padding.
                cut = max(len(data) - len(data) % 4 - 4, 0)
                if data.find(b"=", 0, cut) >= 0:
                    return None
                decoded = binascii.a2b_base64(memoryview(data)[:cut], strict_mode=True)
                written += out.write(decoded)
                carry = data[cut:]
            if len(carry) % 4:
                return None
            return written + out.write(binascii.a2b_base64(carry, strict_mode=True))
        except binascii.Error:
            return None

    @classmethod
    def encode_base64(cls, source: IO[bytes], limits: Limits) -> SpooledBody:
        """Base64-encode a (binary) file into a new spooled body, in 76-character lines."""
        file = spool_file(limits)
        size = 0
        while chunk := source.read(_COPY_CHUNK):
            encoded = b"".join(
                binascii.b2a_base64(chunk[i : i + 57]) for i in range(0, len(chunk), 57)
            )
            file.write(encoded)
            size += len(encoded)
        return cls(file, size)

    def close(self) -> None:
        self.file.close()


class _LimitedFeedParser(BytesFeedParser):
    """The standard feed parser, counting parts and nesting as it makes them."""

    def __init__(self, factory: Callable[..., Message], limits: Limits) -> None:
        super().__init__(factory, policy=compat32)
        self._limits = limits
        self._part_count = 0

    def _new_message(self) -> None:
        # The feed parser makes every part here; _msgstack holds the new part's
        # ancestors. (Both unchanged in the email package since Python 2.4.)
        self._part_count += 1
        if self._part_count > self._limits.max_parts:
            raise AnymailInboundParseError(
                f"Inbound message has more than {self._limits.max_parts} MIME parts. "
                "Raise ANYMAIL INBOUND_MAX_PARTS if you expect messages this complex."
            )
        if len(self._msgstack) > self._limits.max_depth:  # type: ignore[attr-defined]
            raise AnymailInboundParseError(
                f"Inbound message nests MIME parts more than {self._limits.max_depth} deep. "
                "Raise ANYMAIL INBOUND_MAX_DEPTH if you expect messages this complex."
            )
        super()._new_message()  # type: ignore[misc]


class _SpoolingFeeder:
    """Feeds lines to the parser, diverting long base64 runs to temporary files."""

    def __init__(self, parser: _LimitedFeedParser, limits: Limits) -> None:
        self.parser = parser
        self.limits = limits
        # Random, so a sender cannot put a look-alike placeholder in the message.
        self.key_prefix = f"\0anymail-spool-{secrets.token_hex(8)}-"
        self.spools: dict[str, SpooledBody] = {}
        self.batch: list[bytes] = []
        self.batch_size = 0
        self.run: list[bytes] = []
        self.run_size = 0
        self.run_file: IO[bytes] | None = None
        self.last_line = b""

    def feed(self, lines: Iterable[bytes]) -> None:
        total = 0
        for line in lines:
            total += len(line)
            if total > self.limits.max_size:
                raise self.limits.too_large()
            if _BASE64_LINE.fullmatch(line):
                self._add_to_run(line)
                continue
            if self.run_size:
                self._end_run()
            self._send(line)
        if self.run_size:
            self._end_run()
        if self.batch:
            self.parser.feed(b"".join(self.batch))

    def _add_to_run(self, line: bytes) -> None:
        self.run_size += len(line)
        self.last_line = line
        if self.run_file is not None:
            self.run_file.write(line)
            return
        self.run.append(line)
        if self.run_size > self.limits.spool_size:
            self.run_file = spool_file(self.limits)
            self.run_file.writelines(self.run)
            self.run = []

    def _end_run(self) -> None:
        if self.run_file is None:
            for line in self.run:
                self._send(line)
        else:
            # The placeholder line ends with the run's last line break; the file
            # holds the run without it (the parser may drop it, before a boundary).
            eol = b"\r\n" if self.last_line.endswith(b"\r\n") else b"\n"
            key = f"{self.key_prefix}{len(self.spools)}\0"
            self.spools[key] = SpooledBody(self.run_file, self.run_size - len(eol))
            self._send(key.encode("ascii") + eol)
        self.run, self.run_size, self.run_file = [], 0, None

    def _send(self, line: bytes) -> None:
        self.batch.append(line)
        self.batch_size += len(line)
        if self.batch_size >= _FEED_BATCH:
            self.parser.feed(b"".join(self.batch))
            self.batch, self.batch_size = [], 0

    def resolve(self, part: Message) -> None:
        """Swap placeholders in ``part`` and its subparts for the spooled bodies."""
        payload = part._payload  # type: ignore[attr-defined]
        if isinstance(payload, list):
            for subpart in payload:
                self.resolve(subpart)
        elif isinstance(payload, str) and self.key_prefix in payload:
            key = payload.rstrip("\r\n")
            if key in self.spools:
                body = self.spools.pop(key)
                body.tail = payload[len(key) :].encode("ascii")
                part._set_spooled_payload(body)  # type: ignore[attr-defined]
            else:
                part._payload = self._expand(payload)  # type: ignore[attr-defined]
        for name in ("preamble", "epilogue"):
            value = getattr(part, name)
            if value and self.key_prefix in value:
                setattr(part, name, self._expand(value))

    def _expand(self, text: str) -> str:
        # A placeholder sharing its text with other lines: rare, so back in memory.
        pattern = re.escape(self.key_prefix) + r"\d+\0"
        return re.sub(pattern, lambda match: self.spools[match[0]].read_text(), text)

    def close(self) -> None:
        for body in self.spools.values():
            body.close()
        if self.run_file is not None:
            self.run_file.close()


def parse_lines(lines: Iterable[bytes], factory: Callable[..., Message]) -> Any:
    """Parse raw MIME given as byte lines (split after b"\\n") into ``factory`` objects."""
    limits = Limits.from_settings()
    parser = _LimitedFeedParser(factory, limits)
    feeder = _SpoolingFeeder(parser, limits)
    try:
        feeder.feed(lines)
        message = parser.close()
        feeder.resolve(message)
    finally:
        feeder.close()  # whatever is still here was not used
    return message


class _VerbatimHeaders(Compat32):
    """compat32, writing header values back as they were received (no re-folding).

    Used to give the content of an attached message: re-folding every header
    of a large one through email.header.Header takes seconds.
    """

    def fold_binary(self, name: str, value: Any) -> bytes:
        if isinstance(value, str):
            try:
                return f"{name}: {value}{self.linesep}".encode("ascii", "surrogateescape")
            except UnicodeEncodeError:
                pass  # Unicode text set by code (construct()): compat32 encodes it
        return super().fold_binary(name, value)


VERBATIM_HEADERS: Final = _VerbatimHeaders()


# --- lenient decoding -----------------------------------------------------------------


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


def base64_lines(content: bytes) -> str:
    return encodebytes(content).decode("ascii")


def file_lines(fp: IO[bytes] | IO[str], max_size: int) -> Iterator[bytes]:
    # readline() with a limit: one endless line can't fill memory before the size check.
    while line := fp.readline(max_size + 1):
        yield encode_utf8(line) if isinstance(line, str) else line
