"""AnymailInboundMessage: a received email, with Anymail's normalized attributes.

It is the standard library's ``email.message.Message`` (the classic compat32
API), so every part of a message, attachments included, is one too. ESP
webhook views make one from raw MIME (``parse_raw_mime*``: always parsed as
bytes) or, where the ESP posts parsed fields instead, with :meth:`construct`.

What each part is (docs/inbound.md has the details):

- body: the first ``text/plain`` (``text/html``) part that has no filename and
  is not marked as an attachment, outside any attached message;
- inline: any other part marked ``inline``, or unmarked but with a Content-ID;
- attachment: every other part; an attached message (``message/rfc822``,
  delivery reports) is one attachment, not searched for bodies.

Large base64 bodies are kept in temporary files, not in memory (see
``_inbound_mime``); ``get_content_bytes()`` and ``as_uploaded_file()`` read them.
"""

from __future__ import annotations

import io
import mimetypes
import os
import tempfile
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import datetime
from email.message import Message
from email.parser import BytesHeaderParser
from email.policy import Policy, compat32
from typing import IO, Any, TypeVar, overload

from django.core.files.uploadedfile import UploadedFile

from ._inbound_decoding import (
    address_header_value,
    clean_filename,
    decode_header_text,
    decode_text,
    encode_utf8,
    parse_address_values,
    parse_date_value,
    raw_header_text,
)
from ._inbound_mime import (
    VERBATIM_HEADERS,
    Limits,
    SpooledBody,
    base64_lines,
    file_lines,
    parse_lines,
)
from .addresses import EmailAddress

__all__ = ["AnymailInboundMessage"]

_T = TypeVar("_T")
_M = TypeVar("_M", bound="AnymailInboundMessage")

#: Headers that describe the MIME structure: construct() makes its own.
_STRUCTURE_HEADERS = frozenset({"content-type", "content-transfer-encoding", "mime-version"})


class AnymailInboundMessage(Message):
    """A received email message (or one of its parts)."""

    def __init__(self, policy: Policy = compat32) -> None:
        self._anymail_spool: SpooledBody | None = None
        super().__init__(policy)
        #: Set by the ESP's webhook (None if the ESP didn't say).
        self.envelope_sender: str | None = None
        self.envelope_recipient: str | None = None
        self.stripped_text: str | None = None
        self.stripped_html: str | None = None
        self.spam_detected: bool | None = None
        self.spam_score: float | None = None

    # The email package reads and writes ``_payload`` directly. A spooled body is
    # read back from its file only when something asks for the encoded text.
    @property
    def _payload(self) -> Any:
        if self._anymail_spool is not None:
            return self._anymail_spool.read_text()
        return self._anymail_payload

    @_payload.setter
    def _payload(self, value: Any) -> None:
        self._anymail_spool = None
        self._anymail_payload = value

    def _set_spooled_payload(self, body: SpooledBody) -> None:
        self._payload = None
        self._anymail_spool = body

    def is_multipart(self) -> bool:
        return isinstance(self._anymail_payload, list)  # without reading a spooled body

    def __getstate__(self) -> dict[str, Any]:
        # A temporary file doesn't pickle or copy: take the body into memory.
        state = self.__dict__.copy()
        if self._anymail_spool is not None:
            state["_anymail_payload"] = self._anymail_spool.read_text()
            state["_anymail_spool"] = None
        return state

    # --- normalized attributes ---------------------------------------------------------

    @property
    def from_email(self) -> EmailAddress | None:
        addresses = self.get_address_header("From")
        return addresses[0] if addresses else None

    @property
    def to(self) -> list[EmailAddress]:
        return self.get_address_header("To")

    @property
    def cc(self) -> list[EmailAddress]:
        return self.get_address_header("Cc")

    @property
    def subject(self) -> str | None:
        values = self._raw_values("Subject")
        return decode_header_text(values[0]) if values else None

    @property
    def date(self) -> datetime | None:
        return self.get_date_header("Date")

    @property
    def text(self) -> str | None:
        """The plain text body, line breaks as ``\\n``; None if there is none."""
        return self._body("plain")

    @property
    def html(self) -> str | None:
        """The HTML body, line breaks as ``\\n``; None if there is none."""
        return self._body("html")

    @property
    def attachments(self) -> list[AnymailInboundMessage]:
        return [part for part in _leaf_parts(self) if part.is_attachment()]

    @property
    def inlines(self) -> list[AnymailInboundMessage]:
        return [part for part in _leaf_parts(self) if part.is_inline()]

    @property
    def content_id_map(self) -> dict[str, AnymailInboundMessage]:
        """Parts with a Content-ID, by that ID without its angle brackets."""
        parts: dict[str, AnymailInboundMessage] = {}
        for part in _leaf_parts(self):
            content_id = part._content_id()
            if content_id and content_id not in parts:
                parts[content_id] = part
        return parts

    #: The spec's older name for :attr:`content_id_map`.
    inline_attachments = content_id_map

    def get_address_header(self, header: str) -> list[EmailAddress]:
        """Every parsable address in all ``header`` headers ([] if none)."""
        return parse_address_values(self._raw_values(header))

    def get_date_header(self, header: str) -> datetime | None:
        """The first ``header`` header as a datetime; None if missing or unparsable."""
        values = self._raw_values(header)
        return parse_date_value(values[0]) if values else None

    def _raw_values(self, header: str) -> list[Any]:
        # Stored values, not get_all(): compat32 turns 8-bit ones into Header objects.
        name = header.lower()
        return [value for key, value in self.raw_items() if key.lower() == name]

    def _body(self, subtype: str) -> str | None:
        for part in _leaf_parts(self):
            if _is_body(part) and part.get_content_subtype() == subtype:
                text = part.get_content_text()
                return text.replace("\r\n", "\n").replace("\r", "\n")
        return None

    def _content_id(self) -> str | None:
        values = self._raw_values("Content-ID")
        content_id = raw_header_text(values[0]).strip().strip("<>").strip() if values else ""
        return content_id or None

    # --- attachment helpers ------------------------------------------------------------

    def is_attachment(self) -> bool:
        """True for an attachment: not a body, not inline, not a multipart container."""
        return _is_leaf(self) and not _is_body(self) and not self.is_inline()

    def is_inline(self) -> bool:
        """True for an inline part (marked ``inline``, or unmarked with a Content-ID)."""
        if not _is_leaf(self) or _is_body(self):
            return False
        disposition = self.get_content_disposition()
        return disposition == "inline" or (disposition is None and bool(self._content_id()))

    #: The spec's older name for :meth:`is_inline`.
    is_inline_attachment = is_inline

    @overload
    def get_filename(self, failobj: None = None) -> str | None: ...
    @overload
    def get_filename(self, failobj: _T) -> str | _T: ...
    def get_filename(self, failobj: Any = None) -> Any:
        """The sender's filename (decoded; line breaks and control characters removed)."""
        source: Message = self
        raw = [
            (key, value)
            for key, value in self.raw_items()
            if key.lower() in ("content-disposition", "content-type")
        ]
        if any(not str(value).isascii() for _, value in raw):
            # compat32 would turn 8-bit parameters into U+FFFD: decode them first.
            source = Message()
            for key, value in raw:
                source[key] = raw_header_text(value)
        filename = Message.get_filename(source)
        return failobj if filename is None else clean_filename(filename)

    def get_content_bytes(self) -> bytes:
        """The content, transfer encoding (base64, quoted-printable) undone."""
        out = io.BytesIO()
        self._write_content(out)
        return out.getvalue()

    def get_content_text(self, charset: str | None = None, errors: str = "replace") -> str:
        """The content as text, in ``charset`` (default: the declared one, else a guess)."""
        return decode_text(self.get_content_bytes(), charset or self.get_content_charset(), errors)

    def as_uploaded_file(self) -> UploadedFile:
        """The content as a Django UploadedFile (in memory or on disk, like uploads).

        Its name is the filename, or "attachment.<extension>" if there is none.
        """
        limits = Limits.from_settings()
        # Handed to the caller inside the UploadedFile: no context manager here.
        file = tempfile.SpooledTemporaryFile(  # noqa: SIM115
            max_size=limits.spool_size, dir=limits.spool_dir
        )
        size = self._write_content(file)
        file.seek(0)
        return UploadedFile(
            file=file,
            name=self._upload_name(),
            content_type=self.get_content_type(),
            size=size,
            charset=self.get_content_charset(),
        )

    def _upload_name(self) -> str:
        # Django refuses "", "." and ".." (and keeps only the last path element).
        name = os.path.basename(self.get_filename() or "")
        if name in ("", ".", ".."):
            name = "attachment" + (mimetypes.guess_extension(self.get_content_type()) or "")
        return name

    def _write_content(self, out: IO[bytes]) -> int:
        spool = self._anymail_spool
        if spool is not None and _transfer_encoding(self) == "base64":
            size = spool.decode_base64_into(out)
            if size is not None:
                return size
            out.seek(0)
            out.truncate()  # not strict base64: the email package's decoder copes
        if self.is_multipart():
            return out.write(_container_bytes(self))
        if self._anymail_spool is None and self._anymail_payload is None:
            return 0
        payload = self.get_payload(decode=True)
        return out.write(payload if isinstance(payload, bytes) else b"")

    # --- making messages ---------------------------------------------------------------

    @classmethod
    def parse_raw_mime(cls: type[_M], s: str | bytes) -> _M:
        """Parse a raw MIME message given as text (8-bit text is UTF-8 encoded first)."""
        if isinstance(s, str):
            s = encode_utf8(s)
        return cls.parse_raw_mime_bytes(s)

    @classmethod
    def parse_raw_mime_bytes(cls: type[_M], b: bytes) -> _M:
        limits = Limits.from_settings()
        if len(b) > limits.max_size:
            raise limits.too_large()
        return parse_lines(io.BytesIO(b), cls)  # a BytesIO yields lines, without copying b

    @classmethod
    def parse_raw_mime_file(cls: type[_M], fp: IO[bytes] | IO[str]) -> _M:
        """Parse a raw MIME message from a file (binary, or text opened with newline="")."""
        return parse_lines(file_lines(fp, Limits.from_settings().max_size), cls)

    @classmethod
    def construct(
        cls: type[_M],
        raw_headers: str | bytes | None = None,
        from_email: str | EmailAddress | None = None,
        to: str | Sequence[str | EmailAddress] | None = None,
        cc: str | Sequence[str | EmailAddress] | None = None,
        subject: str | None = None,
        headers: Mapping[str, str | Sequence[str]] | Iterable[tuple[str, str]] | None = None,
        text: str | None = None,
        text_charset: str = "utf-8",
        html: str | None = None,
        html_charset: str = "utf-8",
        attachments: Iterable[AnymailInboundMessage] | None = None,
    ) -> _M:
        """Build a message from an ESP's parsed fields.

        ``raw_headers`` is a header block as received; ``headers`` are added after
        it, as (name, value) pairs or a dict whose values may be lists (repeated
        headers). ``from_email``, ``to``, ``cc`` and ``subject`` replace those
        headers. Structure headers (Content-Type ...) are dropped: the message
        gets a structure made from ``text``, ``html`` and ``attachments``
        (from :meth:`construct_attachment`; parts with a Content-ID are inline).
        """
        msg = cls()
        pairs: list[tuple[str, Any]] = []
        if raw_headers is not None:
            if isinstance(raw_headers, str):
                raw_headers = encode_utf8(raw_headers)
            pairs.extend(BytesHeaderParser(policy=compat32).parsebytes(raw_headers).raw_items())
        if headers is not None:
            items = headers.items() if isinstance(headers, Mapping) else headers
            for name, value in items:
                values = [value] if isinstance(value, str) else value
                pairs.extend((name, item) for item in values)
        for name, value in (("From", from_email), ("To", to), ("Cc", cc), ("Subject", subject)):
            if value is not None:
                pairs = [(key, v) for key, v in pairs if key.lower() != name.lower()]
                pairs.append((name, value))
        for name, value in pairs:
            if name.lower() not in _STRUCTURE_HEADERS:
                msg[name] = address_header_value(name, value)
        msg["MIME-Version"] = "1.0"

        parts = list(attachments or [])
        inlines = [part for part in parts if part.is_inline()]
        files = [part for part in parts if not part.is_inline()]
        text_part = cls._text_part("plain", text, text_charset) if text is not None else None
        html_part = cls._text_part("html", html, html_charset) if html is not None else None
        if html_part is not None and inlines:
            html_part, inlines = cls._container("related", [html_part, *inlines]), []
        bodies = [part for part in (text_part, html_part) if part is not None]
        body = (
            cls._container("alternative", bodies) if len(bodies) > 1 else next(iter(bodies), None)
        )
        if inlines or files:
            body = cls._container("mixed", [*([body] if body else []), *inlines, *files])
        if body is None:
            body = cls._text_part("plain", "", "utf-8")
        for name, value in body.raw_items():
            if name.lower() in _STRUCTURE_HEADERS - {"mime-version"}:
                msg[name] = value
        msg.set_payload(body.get_payload())
        return msg

    @classmethod
    def construct_attachment(
        cls: type[_M],
        content_type: str | None,
        content: bytes | str,
        charset: str | None = None,
        filename: str | None = None,
        content_id: str | None = None,
        base64: bool = False,
    ) -> _M:
        """An attachment part (inline if it has a ``content_id``) for :meth:`construct`.

        ``content`` is bytes or text; with ``base64=True`` it is already base64-encoded.
        """
        part = cls()
        part["Content-Type"] = raw_header_text(content_type or "application/octet-stream")
        if base64:
            if isinstance(content, bytes):
                content = content.decode("ascii", "replace")
            part.set_payload(content)
            part["Content-Transfer-Encoding"] = "base64"
        else:
            if isinstance(content, str):
                content = content.encode(charset or "utf-8")
            part._payload = base64_lines(content)
            part["Content-Transfer-Encoding"] = "base64"
        if charset:
            part.set_param("charset", charset)
        cls._finish_attachment(part, filename, content_id)
        return part

    @classmethod
    def construct_attachment_from_uploaded_file(
        cls: type[_M], file: UploadedFile, content_id: str | None = None
    ) -> _M:
        """An attachment part from a Django UploadedFile (large ones stay on disk)."""
        part = cls()
        part["Content-Type"] = raw_header_text(file.content_type or "application/octet-stream")
        charset: str | bytes | None = file.charset
        if isinstance(charset, bytes):  # as Django's multipart parser gives it
            charset = charset.decode("ascii", "replace")
        if charset:
            part.set_param("charset", charset)
        part["Content-Transfer-Encoding"] = "base64"
        file.seek(0)
        limits = Limits.from_settings()
        if file.size is not None and file.size > limits.spool_size:
            part._set_spooled_payload(SpooledBody.encode_base64(file, limits))
        else:
            part._payload = base64_lines(file.read())
        cls._finish_attachment(part, file.name, content_id)
        return part

    @staticmethod
    def _finish_attachment(part: Message, filename: str | None, content_id: str | None) -> None:
        params: dict[str, Any] = {}
        if filename:
            filename = clean_filename(filename)
            params["filename"] = filename if filename.isascii() else ("utf-8", "", filename)
        part.add_header("Content-Disposition", "inline" if content_id else "attachment", **params)
        if content_id:
            part["Content-ID"] = f"<{raw_header_text(content_id).strip().strip('<>')}>"

    @classmethod
    def _text_part(cls, subtype: str, text: str, charset: str) -> AnymailInboundMessage:
        part = cls()
        part["Content-Type"] = f"text/{subtype}"
        try:
            text.encode(charset)
        except (LookupError, UnicodeError):
            charset = "utf-8"  # the declared charset can't hold this text
        part.set_payload(text, charset)
        del part["MIME-Version"]
        return part

    @classmethod
    def _container(cls, subtype: str, parts: list[Any]) -> AnymailInboundMessage:
        container = cls()
        container["Content-Type"] = f"multipart/{subtype}"
        for part in parts:
            container.attach(part)
        return container


def _leaf_parts(message: Message) -> Iterator[Any]:
    """Every non-container part, depth first; attached messages are not entered."""
    if _is_leaf(message):
        yield message
    else:
        for part in _subparts(message):
            yield from _leaf_parts(part)


def _subparts(container: Message) -> list[Message]:
    payload = container.get_payload()
    return (
        [part for part in payload if isinstance(part, Message)] if isinstance(payload, list) else []
    )


def _is_leaf(part: Message) -> bool:
    return not part.is_multipart() or part.get_content_maintype() == "message"


def _is_body(part: Message) -> bool:
    return (
        part.get_content_type() in ("text/plain", "text/html")
        and part.get_content_disposition() != "attachment"
        and not part.get_filename()
    )


def _transfer_encoding(part: Message) -> str:
    return str(part.get("Content-Transfer-Encoding", "")).strip().lower()


def _container_bytes(part: Message) -> bytes:
    """A container's content: the attached message(s) for message/*, else the whole part."""
    if part.get_content_maintype() == "message":
        return b"".join(sub.as_bytes(policy=VERBATIM_HEADERS) for sub in _subparts(part))
    return part.as_bytes(policy=VERBATIM_HEADERS)
