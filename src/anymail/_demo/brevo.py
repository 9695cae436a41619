"""``anymail demo --esp brevo``: the demo message as a Brevo batch send (messageVersions)."""

from __future__ import annotations

import json
import re
from typing import Any

BACKEND = "anymail.backends.brevo.EmailBackend"
OPTIONS = {"api_key": "xkeysib-demo-not-a-real-key"}

_PLACEHOLDER = re.compile(r"\{\{\s*(\w+)\s*\}\}")


def _brevo_placeholders(text: str) -> str:
    return _PLACEHOLDER.sub(r"{{ params.\1 }}", text)


ADAPTED = (
    "merge fields rewritten as Brevo's {{ params.name }}, which Brevo fills in from "
    "merge_data and merge_global_data without a stored template."
)


def adapt(message: Any) -> None:
    message.subject = _brevo_placeholders(message.subject)
    message.body = _brevo_placeholders(message.body)
    alternatives, message.alternatives = message.alternatives, []
    for content, mimetype in alternatives:
        message.attach_alternative(_brevo_placeholders(content), mimetype)


def respond(request: Any) -> tuple[int, dict[str, str], str]:
    body = json.loads(request.body)
    versions = body.get("messageVersions")
    if versions is None:
        answer: dict[str, Any] = {"messageId": "<202603021405.50123456789@smtp-relay.mailin.fr>"}
    else:
        answer = {
            "messageIds": [
                f"<202603021405.50123456789.{index}@smtp-relay.mailin.fr>"
                for index in range(1, len(versions) + 1)
            ]
        }
    return 201, {"Content-Type": "application/json; charset=utf-8"}, json.dumps(answer)
