"""The machinery behind :mod:`anymail.inbound`: limits and spooling.

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
  normalized attributes is ``_inbound_decoding``'s.
"""

from __future__ import annotations

import binascii
import re
import secrets
import tempfile
from base64 import encodebytes
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from email.feedparser import BytesFeedParser
from email.message import Message
from email.policy import Compat32, compat32
from typing import IO, Any, ClassVar, Final

from ._inbound_decoding import encode_utf8
from .conf import POSITIVE_INT, Setting, get_django_setting, get_positive_int
from .exceptions import AnymailInboundParseError

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


def base64_lines(content: bytes) -> str:
    return encodebytes(content).decode("ascii")


def file_lines(fp: IO[bytes] | IO[str], max_size: int) -> Iterator[bytes]:
    # readline() with a limit: one endless line can't fill memory before the size check.
    while line := fp.readline(max_size + 1):
        yield encode_utf8(line) if isinstance(line, str) else line
