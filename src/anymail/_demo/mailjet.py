"""``anymail demo --esp mailjet``: the Send API v3.1 request for the demo message."""

from __future__ import annotations

import json
import re
from typing import Any

import requests
from django.core.mail.message import EmailAlternative

BACKEND = "anymail.backends.mailjet.EmailBackend"
OPTIONS = {"api_key": "demo-api-key", "secret_key": "demo-secret-key"}

_FIELD = re.compile(r"\{\{\s*(\w+)\s*\}\}")


ADAPTED = (
    "merge fields rewritten as Mailjet's [[var:name]] in the bodies, and taken out of "
    "the subject (Mailjet doesn't merge fields into the subject)."
)


def adapt(message: Any) -> None:
    message.subject = _FIELD.sub("", message.subject).replace("  ", " ")
    message.body = _FIELD.sub(r"[[var:\1]]", message.body)
    message.alternatives = [
        EmailAlternative(_FIELD.sub(r"[[var:\1]]", content), mimetype)
        for content, mimetype in message.alternatives
    ]


def respond(request: requests.PreparedRequest) -> tuple[int, dict[str, str], str]:
    """Mailjet's success answer: each recipient of each message gets its own MessageID."""
    body = request.body or b"{}"
    data = json.loads(body)
    shared = data.get("Globals", {})
    message_id = 576460752303423489
    results = []
    for message in data.get("Messages", []):
        result: dict[str, Any] = {"Status": "success", "CustomID": ""}
        for field in ("To", "Cc", "Bcc"):
            addresses = message.get(field, shared.get(field, []) if field != "To" else [])
            result[field] = []
            for address in addresses:
                result[field].append(
                    {
                        "Email": address["Email"],
                        "MessageUUID": f"a1b2c3d4-0000-4000-8000-{message_id % 10**12:012d}",
                        "MessageID": message_id,
                        "MessageHref": f"https://api.mailjet.com/v3/REST/message/{message_id}",
                    }
                )
                message_id += 1
        results.append(result)
    return 200, {"Content-Type": "application/json"}, json.dumps({"Messages": results})
