"""Run a backend with its HTTP traffic captured instead of sent (for ``anymail demo``)."""

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


def send_captured(module: ModuleType, message: Any, out: TextIO) -> None:
    from anymail.cli import print_status

    adapt = getattr(module, "adapt", None)
    if adapt is not None:
        adapt(message)
    backend = import_string(module.BACKEND)(ignore_unsupported_features=True, **module.OPTIONS)
    payloads: list[Any] = []
    build = backend.build_message_payload

    def build_and_keep(*args: Any, **kwargs: Any) -> Any:
        payload = build(*args, **kwargs)
        payloads.append(payload)
        return payload

    backend.build_message_payload = build_and_keep
    custom_send = getattr(module, "send", None)
    if custom_send is not None:
        custom_send(backend, message, out)
    else:
        adapter = CaptureAdapter(module.respond)
        backend.open()
        backend.session.mount("https://", adapter)
        backend.session.mount("http://", adapter)
        try:
            backend.send_messages([message])
        finally:
            backend.close()
        for request in adapter.requests:
            out.write(f"===== {backend.esp_name} API request\n{format_request(request)}\n")
    for payload in payloads:
        if payload.ignored_features:
            out.write(
                f"----- Not sent ({backend.esp_name} does not support): "
                f"{'; '.join(payload.ignored_features)}\n"
            )
    print_status(message, out)
