"""``anymail demo --esp postal``: the demo message as one Postal send/message call.

Postal has no templates or merge features, so the demo's per-recipient merge
fields are taken out (one message goes to both recipients, each of whom gets
their own Postal message id). Everything else Postal can't send (the inline
image, metadata, click tracking, a second tag) is listed as "Not sent".
"""

from __future__ import annotations

import json
import re
from typing import Any

from anymail.addresses import parse_address_list

BACKEND = "anymail.backends.postal.EmailBackend"
OPTIONS = {"api_key": "demo-postal-api-key", "api_url": "https://postal.example.com/"}

#: A merge field, possibly in bold, with the space before it: " <b>{{order_no}}</b>".
_MERGE_FIELD = re.compile(r"\s*(?:<b>)?\{\{\w+\}\}(?:</b>)?")


ADAPTED = (
    "Postal has no templates or merge features: merge_data, merge_global_data, "
    "merge_metadata and the {{fields}} are taken out, and one message goes to both recipients."
)


def adapt(message: Any) -> None:
    message.merge_data = None
    message.merge_global_data = None
    message.merge_metadata = None
    message.subject = _MERGE_FIELD.sub("", message.subject)
    message.body = _MERGE_FIELD.sub("", message.body)
    message.alternatives = [
        (_MERGE_FIELD.sub("", content), mimetype) for content, mimetype in message.alternatives
    ]


def respond(request: Any) -> tuple[int, dict[str, str], str]:
    """Postal's success answer: one message (with its own id) per to/cc/bcc address."""
    body = json.loads(request.body)
    addresses = [
        address.addr_spec
        for field in ("to", "cc", "bcc")
        for address in parse_address_list(body.get(field) or [])
    ]
    messages = {
        address: {"id": 1501 + index, "token": f"DemoToken{index:03d}"}
        for index, address in enumerate(dict.fromkeys(addresses))
    }
    answer = {
        "status": "success",
        "time": 0.11,
        "flags": {},
        "data": {
            "message_id": "5c9e1f7a-2b3d-4e8f-9a0b-1c2d3e4f5a6b@rp.postal.example.com",
            "messages": messages,
        },
    }
    return 200, {"Content-Type": "application/json"}, json.dumps(answer)
