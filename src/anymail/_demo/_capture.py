"""Run a backend with its traffic captured instead of sent (``anymail demo``, benchmarks)."""

from __future__ import annotations

import contextlib
import json
import re
from types import ModuleType
from typing import Any, TextIO

import requests
from django.utils.module_loading import import_string
from requests.adapters import BaseAdapter

_CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


class CaptureAdapter(BaseAdapter):
    """A requests transport that records each request and answers with a canned response."""

    def __init__(self, respond: Any) -> None:
        super().__init__()
        self.respond = respond
        self.requests: list[requests.PreparedRequest] = []

    def send(  # type: ignore[override]
        self, request: requests.PreparedRequest, **kwargs: Any
    ) -> requests.Response:
        self.requests.append(request)
        status, headers, body = self.respond(request)
        response = requests.Response()
        response.status_code = status
        response.reason = "OK" if status < 400 else "Error"
        response.headers.update(headers)
        response._content = body.encode("utf-8") if isinstance(body, str) else body
        response.url = request.url or ""
        response.request = request
        return response

    def close(self) -> None:
        pass


def format_request(request: requests.PreparedRequest) -> str:
    lines = [f"{request.method} {request.url}"]
    lines += [f"{name}: {value}" for name, value in request.headers.items()]
    body = request.body
    if isinstance(body, bytes):
        # Binary parts (a multipart attachment) are shown escaped, not dumped raw
        # into the terminal.
        body = _CONTROL_CHARS.sub(
            lambda m: f"\\x{ord(m[0]):02x}", body.decode("utf-8", errors="backslashreplace")
        )
    if body:
        with contextlib.suppress(ValueError):
            body = json.dumps(json.loads(body), indent=2, ensure_ascii=False)
        lines += ["", body]
    return "\n".join(lines)


def make_backend(module: ModuleType) -> Any:
    """The module's backend, with its dummy credentials, dropping what the ESP can't send."""
    # Sequential: the captured transport is mounted on the backend's own session.
    return import_string(module.BACKEND)(
        ignore_unsupported_features=True, send_concurrency=1, **module.OPTIONS
    )


def open_captured(module: ModuleType, backend: Any) -> list[Any]:
    """Open ``backend`` with the module's canned ESP as its transport.

    Returns the list each request is appended to (for :func:`describe`).
    """
    custom = getattr(module, "open_captured", None)
    if custom is not None:  # a backend that doesn't use requests
        captured: list[Any] = custom(backend)
        return captured
    adapter = CaptureAdapter(module.respond)
    backend.open()
    backend.session.mount("https://", adapter)
    backend.session.mount("http://", adapter)
    return adapter.requests


def describe(module: ModuleType, backend: Any, request: Any) -> str:
    """A captured request as the demo prints it."""
    custom = getattr(module, "describe", None)
    if custom is not None:
        text: str = custom(backend, request)
        return text
    return f"===== {backend.esp_name} API request\n{format_request(request)}"


def adapted_messages(module: ModuleType, message: Any) -> list[Any]:
    """The demo message as the module adapts it for its ESP (one or several messages)."""
    adapt = getattr(module, "adapt", None)
    if adapt is None:
        return [message]
    replaced = adapt(message)
    return [message] if replaced is None else list(replaced)


def send_captured(module: ModuleType, message: Any, out: TextIO) -> None:
    from anymail.cli import print_status

    messages = adapted_messages(module, message)
    backend = make_backend(module)
    out.write(f"----- Demo changes for {backend.esp_name}: {module.ADAPTED}\n")
    payloads: list[Any] = []
    build = backend.build_message_payload

    def build_and_keep(*args: Any, **kwargs: Any) -> Any:
        payload = build(*args, **kwargs)
        payloads.append(payload)
        return payload

    backend.build_message_payload = build_and_keep
    captured = open_captured(module, backend)
    try:
        backend.send_messages(messages)
    finally:
        backend.close()
    for request in captured:
        out.write(describe(module, backend, request) + "\n")
    ignored = [feature for payload in payloads for feature in payload.ignored_features]
    if ignored:
        out.write(
            f"----- Not sent ({backend.esp_name} does not support): "
            f"{'; '.join(dict.fromkeys(ignored))}\n"
        )
    for sent in messages:
        print_status(sent, out)
