"""Run a demo ESP's backend with its traffic captured instead of sent (demo, benchmarks)."""

from __future__ import annotations

import contextlib
import json
import re
from typing import Any, TextIO

import requests
from django.utils.module_loading import import_string
from requests.adapters import BaseAdapter

from . import DemoEsp, adapt

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


def format_request(request: Any) -> str:
    """A requests (or botocore) prepared request, as the demo prints it."""
    lines = [f"{request.method} {request.url}"]
    for name, value in request.headers.items():
        if isinstance(value, bytes):  # (botocore's signed headers)
            value = value.decode("ascii", errors="replace")
        lines.append(f"{name}: {value}")
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


def make_backend(esp: DemoEsp) -> Any:
    """The ESP's backend, with its dummy credentials, dropping what the ESP can't send."""
    # Sequential: the captured transport is mounted on the backend's own session.
    return import_string(esp.backend)(
        ignore_unsupported_features=True, send_concurrency=1, **esp.options
    )


def open_captured(esp: DemoEsp, backend: Any) -> list[Any]:
    """Open ``backend`` with the ESP's canned answers as its transport.

    Returns the list each request is appended to (for :func:`describe`).
    """
    if esp.transport == "boto3":
        return _open_boto3_captured(esp, backend)
    adapter = CaptureAdapter(esp.answer)
    backend.open()
    backend.session.mount("https://", adapter)
    backend.session.mount("http://", adapter)
    return adapter.requests


def describe(esp: DemoEsp, backend: Any, captured: Any) -> str:
    """A captured request as the demo prints it."""
    if esp.transport == "boto3":
        operation, params, request = captured
        return (
            f"===== {backend.esp_name} API call: {operation}\n{_dump(params)}\n"
            f"===== {backend.esp_name} API request (as botocore sends it)\n"
            f"{format_request(request)}"
        )
    return f"===== {backend.esp_name} API request\n{format_request(captured)}"


def send_captured(esp: DemoEsp, message: Any, out: TextIO) -> None:
    from anymail.cli import print_status

    messages = adapt(esp, message)
    backend = make_backend(esp)
    out.write(f"----- Demo changes for {backend.esp_name}: {esp.adapted}\n")
    payloads: list[Any] = []
    build = backend.build_message_payload

    def build_and_keep(*args: Any, **kwargs: Any) -> Any:
        payload = build(*args, **kwargs)
        payloads.append(payload)
        return payload

    backend.build_message_payload = build_and_keep
    captured = open_captured(esp, backend)
    try:
        backend.send_messages(messages)
    finally:
        backend.close()
    for request in captured:
        out.write(describe(esp, backend, request) + "\n")
    ignored = [feature for payload in payloads for feature in payload.ignored_features]
    if ignored:
        out.write(
            f"----- Not sent ({backend.esp_name} does not support): "
            f"{'; '.join(dict.fromkeys(ignored))}\n"
        )
    for sent in messages:
        print_status(sent, out)


# --- boto3 (Amazon SES) -----------------------------------------------------------------


class _Body:
    """The minimal raw-response object botocore reads a body from."""

    def __init__(self, content: bytes) -> None:
        self.content = content

    def stream(self, **kwargs: Any) -> Any:
        yield self.content


def _open_boto3_captured(esp: DemoEsp, backend: Any) -> list[Any]:
    """Open the backend's boto3 client with each API call recorded and answered locally.

    It hooks the client's own events: each call is recorded as (operation,
    parameters, the signed HTTP request botocore would send).
    """
    from botocore import xform_name
    from botocore.awsrequest import AWSResponse

    captured: list[tuple[str, dict[str, Any], Any]] = []
    pending: dict[str, Any] = {}

    def record_call(params: dict[str, Any], model: Any, **kwargs: Any) -> None:
        pending["call"] = (f"{xform_name(model.name)} (SES v2 {model.name})", dict(params))

    def answer(request: Any, **kwargs: Any) -> AWSResponse:
        operation, params = pending.pop("call")
        captured.append((operation, params, request))
        status, headers, body = esp.answer(request)
        content = body.encode("utf-8") if isinstance(body, str) else body
        return AWSResponse(request.url, status, headers, _Body(content))

    backend.open()
    events = backend.client.meta.events
    events.register("provide-client-params.sesv2", record_call)
    events.register("before-send.sesv2", answer)
    return captured


def _dump(data: Any) -> str:
    def text(value: Any) -> str:
        # Raw MIME data is bytes (7-bit): show it as the text it is.
        if isinstance(value, bytes):
            return value.decode("ascii", errors="replace")
        raise TypeError(f"{type(value).__name__} is not JSON serializable")

    return json.dumps(data, indent=2, ensure_ascii=False, default=text)
