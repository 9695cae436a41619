"""Postmark in the contract suite."""

from __future__ import annotations

import json
import re
from typing import Any

import responses

from ..registry import ContractCase

_ENDPOINT = re.compile(r"^https://api\.postmarkapp\.com/email(/\w+)?$")


def _accepted(request: Any) -> tuple[int, dict[str, str], str]:
    """Postmark's success answer for whatever was sent: one result per message."""
    body = json.loads(request.body)
    if isinstance(body, dict) and "Messages" in body:
        messages = body["Messages"]
    elif isinstance(body, list):
        messages = body
    else:
        messages = None
    results = [
        {
            "ErrorCode": 0,
            "Message": "OK",
            "MessageID": f"0a1b2c3d-0000-4000-8000-{index:012d}",
            "SubmittedAt": "2026-03-02T14:05:06.1234567-05:00",
            "To": message.get("To", ""),
        }
        for index, message in enumerate(messages if messages is not None else [body], 1)
    ]
    answer = results if messages is not None else results[0]
    return 200, {}, json.dumps(answer)


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
            "ErrorCode": 10,
            "Message": "The Server Token you provided in the X-Postmark-Server-Token "
            "request header was invalid. Please verify that you are using a valid token.",
        },
    )
    return 401, "The Server Token you provided"


def mock_all_rejected(mock: responses.RequestsMock) -> None:
    mock.add(
        responses.POST,
        _ENDPOINT,
        status=422,
        json={
            "ErrorCode": 406,
            "Message": "You tried to send to recipient(s) that have been marked as inactive. "
            "Found inactive addresses: to@example.com. Inactive recipients are ones that "
            "have generated a hard bounce, a spam complaint, or a manual suppression.",
        },
    )


CASE = ContractCase(
    id="postmark",
    backend="anymail.backends.postmark.EmailBackend",
    esp_name="Postmark",
    options={"server_token": "POSTMARK_API_TEST"},
    mock_success=mock_success,
    mock_error=mock_error,
    mock_all_rejected=mock_all_rejected,
)
