"""``anymail demo --esp scaleway``: the demo message as a Scaleway TEM send.

TEM has no batch sending, templates or tracking options, so the demo runs
with those features left out (the demo lists them), and its inline logo goes
as an ordinary attachment.
"""

from __future__ import annotations

import json
from typing import Any

BACKEND = "anymail.backends.scaleway.EmailBackend"
OPTIONS = {
    "secret_key": "11111111-2222-4333-8444-555555555555",
    "project_id": "00000000-0000-4000-8000-00000000abcd",
}


def respond(request: Any) -> tuple[int, dict[str, str], str]:
    """TEM's answer: one email object (with its own id) per to, cc and bcc recipient."""
    body = json.loads(request.body)
    recipients = [
        (rcpt_type, recipient["email"])
        for rcpt_type in ("to", "cc", "bcc")
        for recipient in body.get(rcpt_type, [])
    ]
    emails = [
        {
            "id": f"6d2b1c4e-0f3a-4b5c-9d8e-{index:012d}",
            "message_id": "a1f0c9d2-7e4b-4c3a-8b1d-2e5f6a7b8c9d",
            "project_id": body.get("project_id"),
            "mail_from": body.get("from", {}).get("email"),
            "mail_rcpt": address,
            "rcpt_type": rcpt_type,
            "subject": body.get("subject"),
            "created_at": "2026-03-02T14:05:06.123456789Z",
            "updated_at": "2026-03-02T14:05:06.123456789Z",
            "status": "new",
            "status_details": "not yet processed",
            "try_count": 0,
            "last_tries": [],
            "flags": [],
        }
        for index, (rcpt_type, address) in enumerate(recipients, 1)
    ]
    return 200, {"Content-Type": "application/json"}, json.dumps({"emails": emails})
