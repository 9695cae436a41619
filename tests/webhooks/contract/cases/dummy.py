"""The test-only Dummy ESP (see ../dummy_esp.py): the framework on its own."""

from datetime import timedelta
from typing import Any

from ..dummy_esp import SIGNING_SECRET, dummy_webhook_request
from ..registry import signed_by, webhook_case


def payload() -> dict[str, Any]:
    return {
        "events": [
            {
                "id": "evt_1",
                "type": "delivered",
                "at": 1764979200,
                "message_id": "m-1",
                "recipient": "to@example.com",
                "tags": ["welcome"],
                "metadata": {"user_id": "42"},
            },
            {
                # No id: deduplicated by a digest of the event.
                "type": "opened",
                "at": "1764979260",
                "message_id": "m-1",
                "recipient": "to@example.com",
            },
        ]
    }


CASES = [
    webhook_case(
        "dummy",
        "Dummy",
        payload,
        event_count=2,
        # An ESP the framework has no window for: the setting gives it one.
        settings={"DUMMY_SIGNING_SECRET": SIGNING_SECRET, "DUMMY_WEBHOOK_MAX_AGE": 300},
        **signed_by(
            dummy_webhook_request, {"signing_secret": "whsec_" + "QUJD" * 8}, timedelta(minutes=10)
        ),
    ),
]
