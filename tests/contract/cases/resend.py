"""Resend in the contract suite: {"id": ...} per email, {"data": [...]} per batch.

Resend never refuses single recipients at send time (the request succeeds or
fails as a whole), so there is no ``rejected`` answer.
"""

from __future__ import annotations

import json
from typing import Any

from ...utils import fixture_json, request_json
from ..registry import JSON_EXCHANGE, Credential, OptionsExample, PlainSend, demo_case


def _tags(request: Any) -> list[str]:
    return list(json.loads(request_json(request)["headers"]["X-Tags"]))


CASE = demo_case(
    "resend",
    "Resend",
    endpoint=r"^https://api\.resend\.com/emails(/batch)?$",
    error=(422, fixture_json("resend", "send_error_422_validation.json"), "Invalid `to` field."),
    credentials=(Credential.in_header("api_key", "RESEND_API_KEY", "Authorization", "Bearer "),),
    sent_tags=_tags,
    options_example=OptionsExample(
        # (No trailing slash: the endpoint still goes below the URL's path.)
        {"api_url": "https://proxy.example.com/resend", "verify_attachment_extensions": False},
        "https://proxy.example.com/resend/emails",
        attributes={"verify_attachment_extensions": False},
    ),
    request_headers=JSON_EXCHANGE,
    plain_send=PlainSend(
        "https://api.resend.com/emails",
        {
            "from": "from@example.com",
            "to": ["Recipient Name <to@example.com>"],
            "subject": "Subject line",
            "text": "Body text of the message",
        },
        "queued",
        "49a3999c-0ce1-4ea6-ab68-afcd6dc2e794",
        answer=fixture_json("resend", "send_success.json"),
        absent_headers=("Idempotency-Key",),
    ),
)
