"""Mandrill in the contract suite: the API key travels in the JSON body."""

from __future__ import annotations

import json
from typing import Any

from ...utils import fixture_json, request_json
from ..registry import JSON_REQUEST, Credential, OptionsExample, PlainSend, demo_case, json_at


def _all_rejected(request: Any) -> tuple[int, dict[str, str], str]:
    results = [
        {
            "email": recipient["email"],
            "status": "rejected",
            "_id": f"id-{index}",
            "reject_reason": "hard-bounce",
        }
        for index, recipient in enumerate(request_json(request)["message"]["to"])
    ]
    return 200, {"Content-Type": "application/json"}, json.dumps(results)


CASE = demo_case(
    "mandrill",
    "Mandrill",
    endpoint=r"^https://mandrillapp\.com/api/1\.0/messages/send(-template)?\.json$",
    # Classic Mandrill answers every API error with HTTP 500.
    error=(500, fixture_json("mandrill", "error_invalid_key.json"), "Invalid_Key: Invalid API key"),
    rejected=_all_rejected,
    # (Mandrill doesn't check the key's form: only its type.)
    credentials=(
        Credential("api_key", "MANDRILL_API_KEY", json_at("key"), invalid=(None, "", 12345)),
    ),
    sent_tags=json_at("message", "tags"),
    options_example=OptionsExample(
        {"api_url": "https://mailers.example.com/api/1.0"},
        "https://mailers.example.com/api/1.0/messages/send.json",
    ),
    request_headers=JSON_REQUEST,
    plain_send=PlainSend(
        "https://mandrillapp.com/api/1.0/messages/send.json",
        {
            "key": "demo-mandrill-key-NOT-REAL",
            "message": {
                "from_email": "from@example.com",
                "to": [{"email": "to@example.com", "name": "Recipient Name", "type": "to"}],
                "subject": "Subject line",
                "text": "Body text of the message",
            },
        },
        "sent",
        "abc123",
        answer=[
            {"email": "to@example.com", "status": "sent", "_id": "abc123", "reject_reason": None}
        ],
        absent_headers=("Authorization",),
    ),
)
