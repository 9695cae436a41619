"""Postmark in the contract suite."""

from __future__ import annotations

import json
from typing import Any

from ...utils import fixture_json
from ..registry import JSON_EXCHANGE, Credential, OptionsExample, PlainSend, demo_case, json_at


def _all_inactive(request: Any) -> tuple[int, dict[str, str], str]:
    answer = {
        "ErrorCode": 406,
        "Message": "You tried to send to recipient(s) that have been marked as inactive. "
        "Found inactive addresses: to@example.com. Inactive recipients are ones that "
        "have generated a hard bounce, a spam complaint, or a manual suppression.",
    }
    return 422, {"Content-Type": "application/json"}, json.dumps(answer)


CASE = demo_case(
    "postmark",
    "Postmark",
    endpoint=r"^https://api\.postmarkapp\.com/email(/\w+)?$",
    error=(
        401,
        {
            "ErrorCode": 10,
            "Message": "The Server Token you provided in the X-Postmark-Server-Token "
            "request header was invalid. Please verify that you are using a valid token.",
        },
        "The Server Token you provided",
    ),
    http_errors=(
        (413, {"ErrorCode": 413, "Message": "Request too large."}, "Request too large."),
        (500, {"ErrorCode": 100, "Message": "Maintenance."}, "Maintenance."),
    ),
    rejected=_all_inactive,
    credentials=(
        Credential.in_header("server_token", "POSTMARK_SERVER_TOKEN", "X-Postmark-Server-Token"),
    ),
    sent_tags=json_at("Tag", listed=True),
    # (No trailing slash: the endpoint still goes below the URL's path.)
    options_example=OptionsExample(
        {"api_url": "https://proxy.example.com/postmark"},
        "https://proxy.example.com/postmark/email",
    ),
    request_headers=JSON_EXCHANGE,
    plain_send=PlainSend(
        "https://api.postmarkapp.com/email",
        {
            "From": "from@example.com",
            "To": "Recipient Name <to@example.com>",
            "Subject": "Subject line",
            "TextBody": "Body text of the message",
        },
        "sent",
        "0a1b2c3d-0000-4000-8000-000000000001",
        answer=fixture_json("postmark", "send_success.json"),
    ),
)
