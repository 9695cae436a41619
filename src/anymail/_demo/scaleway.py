"""``anymail demo --esp scaleway``: the demo message as Scaleway TEM sends.

TEM has no batch sending, templates or merge features, so the demo does what
an app would: it sends each recipient a message of their own, with the merge
fields filled in beforehand. Anything else TEM can't send is listed as "Not sent".
"""

from __future__ import annotations

import copy
import json
import re
import uuid
from typing import Any

from anymail.addresses import parse_single_address

BACKEND = "anymail.backends.scaleway.EmailBackend"
OPTIONS = {
    "secret_key": "11111111-2222-4333-8444-555555555555",
    "project_id": "00000000-0000-4000-8000-00000000abcd",
}
ADAPTED = (
    "Scaleway TEM has no batch sending or merge features: each recipient gets a message "
    "of their own, with the merge fields (merge_data, merge_global_data, merge_metadata) "
    "filled in by the demo before sending."
)

_FIELD = re.compile(r"\{\{(\w+)\}\}")


def adapt(message: Any) -> list[Any]:
    messages = []
    for to in message.to:
        addr_spec = parse_single_address(to).addr_spec
        fields = {**message.merge_global_data, **message.merge_data[addr_spec]}

        def fill(text: str, fields: dict[str, Any] = fields) -> str:
            return _FIELD.sub(lambda match: str(fields.get(match[1], match[0])), text)

        single = copy.deepcopy(message)
        single.to = [to]
        single.subject = fill(message.subject)
        single.body = fill(message.body)
        single.alternatives = [
            (fill(content), mimetype) for content, mimetype in message.alternatives
        ]
        single.metadata = {**message.metadata, **message.merge_metadata[addr_spec]}
        single.merge_data = single.merge_global_data = single.merge_metadata = None
        messages.append(single)
    return messages


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
            # TEM's ids are random UUIDs; these are stable ones, distinct per recipient.
            "id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"mailto:{address}")),
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
        for rcpt_type, address in recipients
    ]
    return 200, {"Content-Type": "application/json"}, json.dumps({"emails": emails})
