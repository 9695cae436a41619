"""``anymail demo --esp mailgun``: the multipart request Mailgun's Messages API would get."""

from __future__ import annotations

import json
from typing import Any

BACKEND = "anymail.backends.mailgun.EmailBackend"
OPTIONS = {"api_key": "key-demo-mailgun-NOT-REAL", "sender_domain": "mg.shop.example.com"}


ADAPTED = "merge fields rewritten in Mailgun's on-the-fly %recipient.name% syntax."


def adapt(message: Any) -> None:
    def recipient_fields(text: str) -> str:
        for key in ("name", "order_no", "shop"):
            text = text.replace("{{" + key + "}}", "%recipient." + key + "%")
        return text

    message.subject = recipient_fields(message.subject)
    message.body = recipient_fields(message.body)
    alternatives = message.alternatives
    message.alternatives = []
    for content, mimetype in alternatives:
        message.attach_alternative(recipient_fields(content), mimetype)


def respond(request: Any) -> tuple[int, dict[str, str], str]:
    body = {
        "id": "<20260115093012.5f3e1a2b4c6d8e90@mg.shop.example.com>",
        "message": "Queued. Thank you.",
    }
    return 200, {"Content-Type": "application/json"}, json.dumps(body)
