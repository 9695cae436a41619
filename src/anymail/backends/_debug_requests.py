"""DEBUG_API_REQUESTS: each API request and its response, written out with secrets hidden.

Secret headers (by name), secret fields of JSON bodies (by pattern) and every
credential value of the backend are replaced; long bodies are cut short.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, TextIO

import requests

from .._redact import (
    MAX_PARSED_TEXT,
    REDACTED,
    is_secret_name,
    printable,
    redact_text,
    redact_values,
    truncate,
    url_without_userinfo,
)

#: How much of a request or response body DEBUG_API_REQUESTS shows.
_DUMP_BODY_LIMIT = 10000


def write_api_request(
    response: requests.Response, stream: TextIO, secrets: Iterable[str] = ()
) -> None:
    """Write the request and response to ``stream``: secret headers and fields, and
    each of ``secrets`` (credential values), replaced."""
    secrets = frozenset(secrets)
    request = response.request
    url = url_without_userinfo(_strip_query(request.url))
    lines = [f"===== Anymail API request: {request.method} {url}"]
    lines += [f"{name}: {_redact_header(name, value)}" for name, value in request.headers.items()]
    body = _shown_body(request.body, "utf-8", secrets)
    if body:
        lines += ["", body]
    lines += [
        f"----- Response {response.status_code} {response.reason}",
        *(f"{name}: {value}" for name, value in response.headers.items()),
        "",
        _shown_body(response.content, response.encoding or "utf-8", secrets),
        "=====",
    ]
    stream.write(printable(redact_values("\n".join(lines), secrets)) + "\n")


def _shown_body(body: Any, encoding: str, secrets: frozenset[str]) -> str:
    """The start of a body, secrets hidden (JSON pretty-printed)."""
    if isinstance(body, bytes | str) and len(body) > MAX_PARSED_TEXT:
        # Not parsed: only the part that is shown is redacted (by pattern and value).
        body = body[: _DUMP_BODY_LIMIT * 2]
    if isinstance(body, bytes):
        try:
            body = body.decode(encoding, errors="replace")
        except LookupError:
            body = body.decode("utf-8", errors="replace")
    if not isinstance(body, str):
        return ""  # e.g. a streamed upload: nothing to show
    return truncate(redact_text(body, secrets, indent=2), _DUMP_BODY_LIMIT)


def _strip_query(url: str | None) -> str:
    return (url or "").split("?", 1)[0]


def _redact_header(name: str, value: str) -> str:
    return REDACTED if is_secret_name(name) else value
