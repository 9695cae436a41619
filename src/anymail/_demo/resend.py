"""``anymail demo --esp resend``: the demo message as a Resend stored-template batch send."""

from __future__ import annotations

import json
from typing import Any

BACKEND = "anymail.backends.resend.EmailBackend"
OPTIONS = {"api_key": "re_demo_key_not_real"}


ADAPTED = (
    "a stored template (template_id 'order-shipped') replaces the subject and bodies: "
    "Resend needs one for merge_data, and refuses a body beside it. The attachments stay, "
    "to show that Resend's batch endpoint can't take them."
)


def adapt(message: Any) -> None:
    message.template_id = "order-shipped"
    message.subject = None
    message.body = ""
    message.alternatives = []


def respond(request: Any) -> tuple[int, dict[str, str], str]:
    body = json.loads(request.body)
    headers = {
        "Content-Type": "application/json",
        "ratelimit-limit": "5",
        "ratelimit-remaining": "4",
        "ratelimit-reset": "1",
    }
    if isinstance(body, list):
        ids = [{"id": f"5e4c8f5a-7a3e-4c1b-9f0d-{index:012d}"} for index in range(1, len(body) + 1)]
        return 200, headers, json.dumps({"data": ids})
    return 200, headers, json.dumps({"id": "5e4c8f5a-7a3e-4c1b-9f0d-000000000000"})
