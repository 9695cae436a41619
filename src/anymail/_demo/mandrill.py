"""``anymail demo --esp mandrill``: the request Mandrill's messages/send API would receive."""

from __future__ import annotations

import json
from typing import Any

BACKEND = "anymail.backends.mandrill.EmailBackend"
OPTIONS = {"api_key": "demo-mandrill-key-NOT-REAL"}


ADAPTED = (
    "esp_extra selects Mandrill's handlebars merge language, which the demo's {{name}} "
    "fields use (Mandrill's default is MailChimp's *|NAME|*)."
)


def adapt(message: Any) -> None:
    extra = dict(getattr(message, "esp_extra", None) or {})
    extra["message"] = {**extra.get("message", {}), "merge_language": "handlebars"}
    message.esp_extra = extra


def respond(request: Any) -> tuple[int, dict[str, str], str]:
    """One "sent" result per recipient in the request, as Mandrill answers."""
    body = json.loads(request.body or b"{}")
    results = [
        {
            "email": recipient["email"],
            "status": "sent",
            "_id": f"{index:x}0a1b2c3d4e5f60718293a4b5c6d7e8f"[:32],
            "reject_reason": None,
            "queued_reason": None,
        }
        for index, recipient in enumerate(body.get("message", {}).get("to", []), start=1)
    ]
    return 200, {"Content-Type": "application/json"}, json.dumps(results)
