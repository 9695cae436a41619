"""Anymail's console backend: shows what would be sent, sends nothing.

Runs the whole Anymail send pipeline like the test backend, then writes the
normalized send parameters (send defaults included) to a stream (stdout by
default, or the ``stream`` option) instead of collecting messages in an outbox.
"""

from __future__ import annotations

import json
import sys
import threading
from typing import Any, Final, TextIO

from django.core.mail import EmailMessage

from ..conf import OBJECT, Setting
from ..utils import Attachment
from .test import EmailBackend as TestEmailBackend

STREAM: Final = Setting(
    "stream",
    OBJECT,
    "Where to print the messages (a text file object; default: stdout).",
    default=None,
    per_esp=False,
    in_settings=False,
)


class EmailBackend(TestEmailBackend):
    """``anymail.backends.console.EmailBackend``: print each message's send params."""

    esp_name = "Console"
    declared_settings = (STREAM,)

    def __init__(self, *args: Any, stream: TextIO | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.stream = stream if stream is not None else sys.stdout
        self._lock = threading.RLock()

    def deliver(self, message: EmailMessage) -> None:
        params = message.anymail_send_params
        text = json.dumps(params, indent=2, ensure_ascii=False, default=_describe)
        with self._lock:
            self.stream.write(f"Anymail send params:\n{text}\n{'-' * 79}\n")
            self.stream.flush()


def _describe(value: Any) -> Any:
    if isinstance(value, Attachment):
        return {
            "name": value.name,
            "content_type": value.content_type,
            "size": len(value.content),
            "inline": value.inline,
            "content_id": value.content_id,
        }
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)
