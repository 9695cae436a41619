"""Mailgun in the contract suite."""

from __future__ import annotations

import re

import responses

from ..registry import ContractCase

# Any sender domain (the contract messages are from example.com).
_ENDPOINT = re.compile(r"^https://api\.mailgun\.net/v3/[^/]+/messages$")


def mock_success(mock: responses.RequestsMock) -> None:
    mock.add(
        responses.POST,
        _ENDPOINT,
        json={
            "id": "<20260115093012.5f3e1a2b4c6d8e90@example.com>",
            "message": "Queued. Thank you.",
        },
    )


def mock_error(mock: responses.RequestsMock) -> tuple[int, str]:
    mock.add(
        responses.POST,
        _ENDPOINT,
        status=400,
        json={"message": "to parameter is not a valid address. please check documentation"},
    )
    return 400, "to parameter is not a valid address"


# No mock_all_rejected: Mailgun queues every accepted call and reports refused
# recipients only later, through webhooks.
CASE = ContractCase(
    id="mailgun",
    backend="anymail.backends.mailgun.EmailBackend",
    esp_name="Mailgun",
    options={"api_key": "key-test-mailgun-NOT-REAL"},
    mock_success=mock_success,
    mock_error=mock_error,
)
