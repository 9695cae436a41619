"""Values as ESPs write them in JSON: attachment lists, header objects, base64, ids."""

from __future__ import annotations

import base64
import binascii
import uuid
from typing import Any

from ._base import Attachment

#: The sandbox's recipient, as its opened and clicked events report it: the link it
#: follows, its address and its browser.
CLICKED_URL = "https://example.com/"
CLIENT_IP = "127.0.0.1"
USER_AGENT = "Mozilla/5.0 (sandbox)"


def attachments(
    items: Any, filename: str, content: str, content_type: str | None, content_id: str | None = None
) -> list[Attachment]:
    """The attachments in a JSON list of objects, by the ESP's key names (content in base64)."""
    return [
        Attachment(
            str(item.get(filename, "")),
            item.get(content_type, "") if content_type else "",
            b64decode(item.get(content)),
            item.get(content_id) if content_id else None,
        )
        for item in items or []
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
