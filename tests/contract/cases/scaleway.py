"""Scaleway TEM in the contract suite.

TEM refuses no recipient at send time, so there is no ``rejected`` answer.
"""

from __future__ import annotations

import json
from typing import Any

from ...utils import request_json
from ..registry import JSON_EXCHANGE, Credential, OptionsExample, PlainSend, demo_case, json_at


def _tags(request: Any) -> list[str]:
    headers = request_json(request)["additional_headers"]
    (tags,) = [header["value"] for header in headers if header["key"] == "X-Tags"]
    return list(json.loads(tags))


CASE = demo_case(
    "scaleway",
    "Scaleway",
    endpoint=r"^https://api\.scaleway\.com/transactional-email/v1alpha1/regions/fr-par/emails$",
    error=(
        401,
        {
            "type": "denied_authentication",
            "message": "authentication is denied",
            "method": "api_key",
            "reason": "invalid_argument",
        },
        "authentication is denied",
    ),
    http_errors=(
        (404, {"type": "not_found", "message": "resource is not found"}, "resource is not found"),
        (500, {"message": "internal error"}, "internal error"),
        (503, "", "HTTP 503"),
    ),
    credentials=(
        Credential.in_header("secret_key", "SCALEWAY_SECRET_KEY", "X-Auth-Token"),
        # Not a secret, and not read from a bare SCALEWAY_PROJECT_ID setting.
        Credential(
            "project_id",
            "SCALEWAY_PROJECT_ID",
            json_at("project_id"),
            bare_setting=False,
            secret=False,
            invalid=("", "   ", None),
        ),
    ),
    sent_tags=_tags,
    options_example=OptionsExample(
        {"region": "nl-ams", "api_url": "https://mailers.example.com/{region}/"},
        "https://mailers.example.com/nl-ams/emails",
    ),
    request_headers=JSON_EXCHANGE,
    plain_send=PlainSend(
        "https://api.scaleway.com/transactional-email/v1alpha1/regions/fr-par/emails",
        {
            "project_id": "00000000-0000-4000-8000-00000000abcd",
            "from": {"email": "from@example.com"},
            "to": [{"email": "to@example.com", "name": "Recipient Name"}],
            "subject": "Subject line",
            "text": "Body text of the message",
        },
        "queued",
        # The demo answer's stable id for to@example.com.
        "9ece222a-fe09-574c-b30b-28114533303b",
        absent_headers=("Authorization",),
    ),
)
