"""Hiding secrets in text Anymail shows: error messages and DEBUG_API_REQUESTS dumps.

Some ESPs echo credentials back in error responses (e.g. the API key they
refused). Values under secret-looking names are replaced before any such text
is quoted. (No imports from the rest of Anymail: exceptions.py uses this.)
"""

from __future__ import annotations

import json
from typing import Any, Final

REDACTED: Final = "[REDACTED]"

#: A header or JSON field whose name contains one of these holds a secret.
SECRET_NAME_WORDS: Final = ("auth", "key", "token", "secret", "password", "signature")


def is_secret_name(name: str) -> bool:
    lowered = name.lower()
    return any(word in lowered for word in SECRET_NAME_WORDS)


def redact_json(value: Any) -> Any:
    """A copy of parsed JSON with every string under a secret-looking name replaced."""
    if isinstance(value, dict):
        return {
            key: REDACTED
            if is_secret_name(str(key)) and isinstance(item, str)
            else redact_json(item)
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [redact_json(item) for item in value]
    return value


def redact_text(text: str, indent: int | None = None) -> str:
    """``text`` with secrets hidden, if it is JSON; other text is returned as it is."""
    try:
        data = json.loads(text)
    except ValueError:
        return text
    return json.dumps(redact_json(data), indent=indent, ensure_ascii=False)
