"""SendGrid's Inbound Parse fixtures as form fields for anymail.testing's builder."""

from __future__ import annotations

import base64
from typing import Any

from tests.utils import fixture_json


def inbound_form_fields(name: str) -> list[tuple[str, Any]]:
    """The fields of ``tests/fixtures/sendgrid/<name>``, in order, files last.

    ``{"bytes_base64": ...}`` values are exact (non-UTF-8) bytes; files become
    ``(filename, content, content_type)`` tuples.
    """
    data = fixture_json("sendgrid", name)
    fields: list[tuple[str, Any]] = [
        (field, base64.b64decode(value["bytes_base64"]) if isinstance(value, dict) else value)
        for field, value in data["fields"]
    ]
    fields += [
        (
            file["field"],
            (file["filename"], base64.b64decode(file["content_base64"]), file["content_type"]),
        )
        for file in data["files"]
    ]
    return fields
