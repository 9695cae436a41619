"""Values as ESPs write them in JSON: messages by key names, attachment lists, headers, ids."""

from __future__ import annotations

import base64
import binascii
import functools
import operator
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ._base import Attachment, Message

#: The sandbox's recipient, as its opened and clicked events report it: the link it
#: follows, its address and its browser.
CLICKED_URL = "https://example.com/"
CLIENT_IP = "127.0.0.1"
USER_AGENT = "Mozilla/5.0 (sandbox)"


@dataclass(frozen=True)
class JsonKeys:
    """An ESP's key names for a message's subject, bodies and headers in its JSON send body.

    ``headers`` names a JSON object of headers; None where the ESP writes them its own
    way (the caller reads them).
    """

    subject: str
    text: str
    html: str
    headers: str | None

    def message(
        self,
        data: Mapping[str, Any],
        from_email: str,
        recipients: tuple[list[str], list[str], list[str]],
        **fields: Any,
    ) -> Message:
        """The message ``data`` describes, to ``recipients`` (to, cc, bcc).

        ``fields`` are its other fields, and any the ESP writes its own way (they win).
        """
        to, cc, bcc = recipients
        read: dict[str, Any] = {
            "subject": str(data.get(self.subject) or ""),
            "text": data.get(self.text),
            "html": data.get(self.html),
        }
        if self.headers is not None:
            read["headers"] = text_headers(data.get(self.headers))
        return Message(from_email=from_email, to=to, cc=cc, bcc=bcc, **{**read, **fields})


@dataclass(frozen=True)
class AttachmentKeys:
    """Where an ESP's JSON send body keeps attachments, by its key names.

    ``lists``: the lists of attachment objects (files, then inline images, where the ESP
    keeps them apart); then an object's keys for the file name, the content (base64),
    the content type and the content id (None: the ESP has no such key).
    """

    lists: tuple[str, ...]
    filename: str
    content: str
    content_type: str | None = None
    content_id: str | None = None

    def read(self, data: Mapping[str, Any]) -> list[Attachment]:
        items = functools.reduce(operator.add, [data.get(key) or [] for key in self.lists])
        return [
            Attachment(
                str(item.get(self.filename, "")),
                item.get(self.content_type, "") if self.content_type else "",
                b64decode(item.get(self.content)),
                item.get(self.content_id) if self.content_id else None,
            )
            for item in items
        ]


def text_headers(headers: Any) -> dict[str, str]:
    """A JSON object of headers, names and values as text."""
    return {str(name): str(value) for name, value in (headers or {}).items()}


def b64decode(value: Any) -> bytes:
    try:
        return base64.b64decode(str(value or ""), validate=False)
    except (binascii.Error, ValueError):
        return b""


def new_uuid() -> str:
    return str(uuid.uuid4())
