"""Anymail's message API: AnymailMessage, AnymailMessageMixin, AnymailStatus, inline images.

Every Anymail attribute (``metadata``, ``tags``, ``merge_data`` ...) works on
*any* Django ``EmailMessage``: backends read them with ``getattr``. The classes
here only add constructor arguments, type declarations and convenience methods.
"""

from __future__ import annotations

import mimetypes
from collections.abc import Iterable, Mapping
from email.mime.image import MIMEImage
from email.utils import make_msgid
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Final

import django
from django.core.mail import EmailMessage, EmailMultiAlternatives

from ._features import ANYMAIL_MESSAGE_ATTRIBUTES

if TYPE_CHECKING:
    from .addresses import EmailAddress

#: The normalized per-recipient send statuses.
ANYMAIL_STATUSES: Final = frozenset({"sent", "queued", "invalid", "rejected", "failed", "unknown"})


class AnymailRecipientStatus:
    """The send status and ESP message id for one recipient."""

    __slots__ = ("message_id", "status")

    def __init__(self, message_id: str | None, status: str | None) -> None:
        if status is not None and status not in ANYMAIL_STATUSES:
            raise ValueError(
                f"Invalid AnymailRecipientStatus status {status!r}: "
                f"must be one of {sorted(ANYMAIL_STATUSES)}."
            )
        self.message_id = message_id
        self.status = status

    def __repr__(self) -> str:
        return f"AnymailRecipientStatus(message_id={self.message_id!r}, status={self.status!r})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, AnymailRecipientStatus):
            return NotImplemented
        return (self.message_id, self.status) == (other.message_id, other.status)

    __hash__ = None  # type: ignore[assignment]  # mutable


class AnymailStatus:
    """The normalized result of sending one message (``message.anymail_status``).

    - ``recipients``: dict of recipient address (without display name) to
      :class:`AnymailRecipientStatus`; empty if the send failed.
    - ``status``: the set of all recipients' statuses, or None if the send failed.
    - ``message_id``: the ESP's id: one value if every recipient shares it, a set
      of the distinct ids if the ESP gives each recipient its own, None if failed.
    - ``esp_response``: the raw ESP response (its type depends on the backend).
    """

    def __init__(self) -> None:
        self.message_id: str | set[str] | None = None
        self.status: set[str] | None = None
        self.recipients: dict[str, AnymailRecipientStatus] = {}
        self.esp_response: Any = None

    def set_recipient_status(self, recipients: Mapping[str, AnymailRecipientStatus]) -> None:
        """Add per-recipient statuses, and recompute ``status`` and ``message_id``."""
        self.recipients.update(recipients)
        statuses = {r.status for r in self.recipients.values() if r.status is not None}
        self.status = statuses
        ids = {r.message_id for r in self.recipients.values() if r.message_id is not None}
        if not ids:
            self.message_id = None
        elif len(ids) == 1:
            self.message_id = next(iter(ids))
        else:
            self.message_id = ids

    def __repr__(self) -> str:
        return (
            f"AnymailStatus(status={self.status!r}, message_id={self.message_id!r}, "
            f"{len(self.recipients)} recipients)"
        )


class RecipientStatuses(dict[str, AnymailRecipientStatus]):
    """What ``parse_recipient_status()`` returns, built up address by address.

    Keyed by each address as first given (normally the addr_spec sent), and
    matched ignoring case: ESPs often echo addresses in another case.
    """

    def __init__(self, recipients: Iterable[EmailAddress] = (), status: str | None = None) -> None:
        super().__init__()
        self._keys: dict[str, str] = {}
        for address in recipients:
            self.set(address.addr_spec, None, status)

    def set(
        self, address: str, message_id: str | None, status: str | None, *, replace: bool = True
    ) -> None:
        """Record ``address``'s status (unless it has one already and not ``replace``)."""
        if not replace and address.lower() in self._keys:
            return
        key = self._keys.setdefault(address.lower(), address)
        self[key] = AnymailRecipientStatus(message_id, status)


# Magic numbers of the image formats email clients display inline.
_IMAGE_SIGNATURES: Final = (
    (b"\x89PNG\r\n\x1a\n", "png"),
    (b"\xff\xd8\xff", "jpeg"),
    (b"GIF87a", "gif"),
    (b"GIF89a", "gif"),
    (b"BM", "bmp"),
    (b"II*\x00", "tiff"),
    (b"MM\x00*", "tiff"),
)


def _image_subtype(content: bytes, filename: str | None) -> str:
    for signature, subtype in _IMAGE_SIGNATURES:
        if content.startswith(signature):
            return subtype
    if content[:4] == b"RIFF" and content[8:12] == b"WEBP":
        return "webp"
    head = content[:256].lstrip().lower()
    if head.startswith(b"<svg") or (head.startswith(b"<?xml") and b"<svg" in content[:1024]):
        return "svg+xml"
    if filename:
        guessed = mimetypes.guess_type(filename)[0]
        if guessed and guessed.startswith("image/"):
            return guessed.split("/", 1)[1]
    raise ValueError(
        "Could not tell the image type of the inline image content; "
        "pass subtype='png' (or 'jpeg', 'gif' ...) to attach_inline_image."
    )


def attach_inline_image_file(
    message: EmailMessage,
    path: str | Path,
    subtype: str | None = None,
    idstring: str = "img",
    domain: str | None = None,
) -> str:
    """Attach the image file at ``path`` as an inline image; return its Content-ID.

    The file's basename becomes the attachment's filename.
    """
    path = Path(path)
    content = path.read_bytes()
    return attach_inline_image(message, content, path.name, subtype, idstring, domain)


def attach_inline_image(
    message: EmailMessage,
    content: bytes,
    filename: str | None = None,
    subtype: str | None = None,
    idstring: str = "img",
    domain: str | None = None,
) -> str:
    """Attach ``content`` (image bytes) as an inline image; return its Content-ID.

    The Content-ID's domain defaults to the literal "inline" rather than this
    machine's hostname, which would leak it (and confuses some ESPs and Gmail
    when the hostname looks like a filename, e.g. ends in ".com").
    """
    content_id = make_msgid(idstring, domain or "inline")  # "<...@inline>"
    subtype = subtype or _image_subtype(content, filename)
    if django.VERSION >= (6, 0):
        # Django 6 builds messages with the modern email API and deprecates
        # legacy MIMEBase attachments.
        from email.message import MIMEPart

        part = MIMEPart()
        part.set_content(
            content,
            maintype="image",
            subtype=subtype,
            disposition="inline",
            filename=filename,
            cid=content_id,
        )
        message.attach(part)
    else:
        image = MIMEImage(content, subtype)
        if filename:
            image.add_header("Content-Disposition", "inline", filename=filename)
        else:
            image.add_header("Content-Disposition", "inline")
        image.add_header("Content-ID", content_id)
        message.attach(image)
    return content_id[1:-1]


class AnymailMessageMixin:
    """Adds Anymail's attributes (as constructor arguments) and helpers to an EmailMessage.

    Attributes not given to the constructor stay *unset*, so that global send
    defaults apply to them; set an attribute to ``None`` to turn a default off.
    """

    anymail_attributes: ClassVar[tuple[str, ...]] = ANYMAIL_MESSAGE_ATTRIBUTES

    if TYPE_CHECKING:
        envelope_sender: str | None
        metadata: dict[str, Any] | None
        merge_metadata: dict[str, dict[str, Any]] | None
        merge_headers: dict[str, dict[str, str]] | None
        tags: list[str] | None
        track_clicks: bool | None
        track_opens: bool | None
        send_at: Any
        template_id: str | int | None
        merge_data: dict[str, dict[str, Any]] | None
        merge_global_data: dict[str, Any] | None
        esp_extra: dict[str, Any] | None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        anymail_values = {
            name: kwargs.pop(name) for name in self.anymail_attributes if name in kwargs
        }
        super().__init__(*args, **kwargs)
        for name, value in anymail_values.items():
            setattr(self, name, value)
        self.anymail_status = AnymailStatus()

    # The module's functions, as methods: the message is ``self``.
    attach_inline_image_file = attach_inline_image_file
    attach_inline_image = attach_inline_image


class AnymailMessage(AnymailMessageMixin, EmailMultiAlternatives):
    """An ``EmailMultiAlternatives`` whose constructor also takes every Anymail attribute."""
