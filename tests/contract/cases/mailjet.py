"""Mailjet in the contract suite."""

from __future__ import annotations

import json
from typing import Any

import responses

from ..registry import ContractCase

_ENDPOINT = "https://api.mailjet.com/v3.1/send"


def _accepted(request: Any) -> tuple[int, dict[str, str], str]:
    """Mailjet's success answer for whatever was sent: one result per message."""
    body = json.loads(request.body)
    shared = body.get("Globals", {})
    message_id = 576460752303423489
    results = []
    for message in body["Messages"]:
        result: dict[str, Any] = {"Status": "success", "CustomID": ""}
        for field in ("To", "Cc", "Bcc"):
            result[field] = []
            for address in message.get(field, shared.get(field, []) if field != "To" else []):
                result[field].append(
                    {
                        "Email": address["Email"],
                        "MessageUUID": f"a1b2c3d4-0000-4000-8000-{message_id % 10**12:012d}",
                        "MessageID": message_id,
                        "MessageHref": f"https://api.mailjet.com/v3/REST/message/{message_id}",
                    }
                )
                message_id += 1
        results.append(result)
    return 200, {}, json.dumps({"Messages": results})


def mock_success(mock: responses.RequestsMock) -> None:
    mock.add_callback(
        responses.POST, _ENDPOINT, callback=_accepted, content_type="application/json"
    )


def mock_error(mock: responses.RequestsMock) -> tuple[int, str]:
    mock.add(
        responses.POST,
        _ENDPOINT,
        status=401,
        json={
            "ErrorIdentifier": "00000000-aaaa-4bbb-8ccc-000000000006",
            "StatusCode": 401,
            "ErrorMessage": "API key authentication/authorization failure. You may be "
            "unauthorized to access the API or your API key may be expired.",
        },
    )
    return 401, "API key authentication/authorization failure"


# Mailjet never reports a recipient as rejected or invalid at send time (an
# error result means "failed"), so there is no mock_all_rejected.
CASE = ContractCase(
    id="mailjet",
    backend="anymail.backends.mailjet.EmailBackend",
    esp_name="Mailjet",
    options={"api_key": "test-api-key", "secret_key": "test-secret-key"},
    mock_success=mock_success,
    mock_error=mock_error,
)
