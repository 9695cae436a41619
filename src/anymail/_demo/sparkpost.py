"""``anymail demo --esp sparkpost``: the demo message as a SparkPost batch transmission.

SparkPost renders the demo's ``{{name}}``/``{{order_no}}`` fields itself (the
message is its own on-the-fly template), so the message needs no changes.
"""

from __future__ import annotations

import json
from typing import Any

BACKEND = "anymail.backends.sparkpost.EmailBackend"
OPTIONS = {"api_key": "demo-sparkpost-api-key"}
ADAPTED = "none (SparkPost renders the demo's {{name}} merge fields itself)."


def respond(request: Any) -> tuple[int, dict[str, str], str]:
    """SparkPost's success answer: every recipients[] entry accepted, one transmission id."""
    recipients = json.loads(request.body).get("recipients")
    accepted = len(recipients) if isinstance(recipients, list) else 0
    results = {
        "total_rejected_recipients": 0,
        "total_accepted_recipients": accepted,
        "id": "7318265432183591",
    }
    return 200, {"Content-Type": "application/json"}, json.dumps({"results": results})
