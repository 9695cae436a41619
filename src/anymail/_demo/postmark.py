"""``anymail demo --esp postmark``: the demo message as a Postmark template batch send."""

from __future__ import annotations

import json
from typing import Any

BACKEND = "anymail.backends.postmark.EmailBackend"
# Postmark's documented test token: accepted by the API, never delivers.
OPTIONS = {"server_token": "POSTMARK_API_TEST"}


ADAPTED = (
    "a stored template (template_id 'order-shipped') replaces the subject and bodies: "
    "Postmark needs one for merge_data, and refuses a subject or body beside it."
)


def adapt(message: Any) -> None:
    message.template_id = "order-shipped"
    message.subject = ""
    message.body = ""
    message.alternatives = []


def respond(request: Any) -> tuple[int, dict[str, str], str]:
    body = json.loads(request.body)
    if isinstance(body, dict) and "Messages" in body:
        messages, single = body["Messages"], False
    elif isinstance(body, list):
        messages, single = body, False
    else:
        messages, single = [body], True
    results = [
        {
            "To": message.get("To", ""),
            "SubmittedAt": "2026-03-02T14:05:06.1234567-05:00",
            "MessageID": f"b7bc2f4a-e38e-4336-af7d-{index:012d}",
            "ErrorCode": 0,
            "Message": "OK",
        }
        for index, message in enumerate(messages, 1)
    ]
    return 200, {"Content-Type": "application/json"}, json.dumps(results[0] if single else results)
