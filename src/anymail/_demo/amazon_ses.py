"""``anymail demo --esp amazon_ses``: the demo message as an SES v2 template (bulk) send.

The backend calls SES through boto3, so instead of a ``requests`` transport
this adapter hooks the boto3 client's own events: it records the API call
(operation and parameters) and the signed HTTP request botocore would send,
and answers with a canned success response. Nothing leaves the machine.
"""

from __future__ import annotations

import contextlib
import json
from typing import Any

BACKEND = "anymail.backends.amazon_ses.EmailBackend"
# Dummy credentials (never used for a real call) and a region, so boto3 needs
# nothing from the environment.
OPTIONS = {
    "client_params": {
        "region_name": "us-east-1",
        "aws_access_key_id": "AKIDDEMOEXAMPLE",
        "aws_secret_access_key": "demo-secret-access-key",
    },
    "configuration_set_name": "TrackingConfigSet",
}


ADAPTED = (
    "a stored SES template (template_id 'OrderShipped') replaces the subject and bodies, "
    "as SES applies merge_data only to templates; SES can't attach files to a template "
    "send, so the attachment and inline image are left out."
)


def adapt(message: Any) -> None:
    message.template_id = "OrderShipped"
    message.subject = ""
    message.body = ""
    message.alternatives = []
    message.attachments = []


class _Body:
    """The minimal raw-response object botocore reads a body from."""

    def __init__(self, content: bytes) -> None:
        self.content = content

    def stream(self, **kwargs: Any) -> Any:
        yield self.content


def respond(request: Any) -> tuple[int, dict[str, str], bytes]:
    """SES's success answer: a message id (per bulk entry, for template sends)."""
    body = json.loads(request.body or b"{}")
    if "BulkEmailEntries" in body:
        results = [
            {"Status": "SUCCESS", "MessageId": f"0100019a8c41aa01-demo-{index:06d}-000000"}
            for index, _entry in enumerate(body["BulkEmailEntries"], 1)
        ]
        answer: dict[str, Any] = {"BulkEmailEntryResults": results}
    else:
        answer = {"MessageId": "0100019a8c3e5f21-demo-000001-000000"}
    headers = {"content-type": "application/json", "x-amzn-requestid": "demo-request-id"}
    return 200, headers, json.dumps(answer).encode("utf-8")


def open_captured(backend: Any) -> list[tuple[str, dict[str, Any], Any]]:
    """Open the backend's boto3 client with each API call recorded and answered locally."""
    from botocore import xform_name
    from botocore.awsrequest import AWSResponse

    captured: list[tuple[str, dict[str, Any], Any]] = []
    pending: dict[str, Any] = {}

    def record_call(params: dict[str, Any], model: Any, **kwargs: Any) -> None:
        pending["call"] = (f"{xform_name(model.name)} (SES v2 {model.name})", dict(params))

    def answer(request: Any, **kwargs: Any) -> AWSResponse:
        operation, params = pending.pop("call")
        captured.append((operation, params, request))
        status, headers, body = respond(request)
        return AWSResponse(request.url, status, headers, _Body(body))

    backend.open()
    events = backend.client.meta.events
    events.register("provide-client-params.sesv2", record_call)
    events.register("before-send.sesv2", answer)
    return captured


def describe(backend: Any, captured: tuple[str, dict[str, Any], Any]) -> str:
    operation, params, request = captured
    return (
        f"===== {backend.esp_name} API call: {operation}\n{_dump(params)}\n"
        f"===== {backend.esp_name} API request (as botocore sends it)\n{_format_request(request)}"
    )


def _dump(data: Any) -> str:
    def text(value: Any) -> str:
        # Raw MIME data is bytes (7-bit): show it as the text it is.
        if isinstance(value, bytes):
            return value.decode("ascii", errors="replace")
        raise TypeError(f"{type(value).__name__} is not JSON serializable")

    return json.dumps(data, indent=2, ensure_ascii=False, default=text)


def _format_request(request: Any) -> str:
    lines = [f"{request.method} {request.url}"]
    for name, value in request.headers.items():
        if isinstance(value, bytes):
            value = value.decode("ascii", errors="replace")
        lines.append(f"{name}: {value}")
    body = request.body
    if isinstance(body, bytes):
        body = body.decode("utf-8", errors="replace")
    if body:
        with contextlib.suppress(ValueError):
            body = json.dumps(json.loads(body), indent=2, ensure_ascii=False)
        lines += ["", body]
    return "\n".join(lines)
