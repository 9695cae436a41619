"""SparkPost in the contract suite."""

from __future__ import annotations

import json
from typing import Any

from ...utils import request_json
from ..registry import JSON_REQUEST, Credential, OptionsExample, demo_case, json_at


def _all_rejected(request: Any) -> tuple[int, dict[str, str], str]:
    sent = len(request_json(request)["recipients"])
    results = {"total_rejected_recipients": sent, "total_accepted_recipients": 0, "id": "7318"}
    return 200, {"Content-Type": "application/json"}, json.dumps({"results": results})


CASE = demo_case(
    "sparkpost",
    "SparkPost",
    endpoint=r"^https://api\.sparkpost\.com/api/v1/transmissions/$",
    error=(
        400,
        {
            "errors": [
                {
                    "description": "Unconfigured or unverified sending domain.",
                    "code": "7001",
                    "message": "Invalid domain",
                }
            ]
        },
        "Unconfigured or unverified sending domain.",
    ),
    rejected=_all_rejected,
    credentials=(Credential.in_header("api_key", "SPARKPOST_API_KEY", "Authorization"),),
    sent_tags=json_at("campaign_id", listed=True),
    options_example=OptionsExample(
        {"api_url": "https://api.eu.sparkpost.com/api/v1", "subaccount": 42},
        "https://api.eu.sparkpost.com/api/v1/transmissions/",
        headers={"X-MSYS-SUBACCOUNT": "42"},
    ),
    request_headers=JSON_REQUEST,
)
