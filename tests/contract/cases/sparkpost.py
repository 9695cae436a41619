"""SparkPost in the contract suite."""

from __future__ import annotations

import json
from typing import Any

import responses

from ..registry import ContractCase

_ENDPOINT = "https://api.sparkpost.com/api/v1/transmissions/"


def _counts(accepted_all: bool) -> Any:
    """SparkPost's answer for whatever was sent: counts of recipients[] entries."""

    def callback(request: Any) -> tuple[int, dict[str, str], str]:
        sent = len(json.loads(request.body)["recipients"])
        results = {
            "total_rejected_recipients": 0 if accepted_all else sent,
            "total_accepted_recipients": sent if accepted_all else 0,
            "id": "7318265432183591",
        }
        return 200, {}, json.dumps({"results": results})

    return callback


def mock_success(mock: responses.RequestsMock) -> None:
    mock.add_callback(
        responses.POST, _ENDPOINT, callback=_counts(True), content_type="application/json"
    )


def mock_all_rejected(mock: responses.RequestsMock) -> None:
    mock.add_callback(
        responses.POST, _ENDPOINT, callback=_counts(False), content_type="application/json"
    )


def mock_error(mock: responses.RequestsMock) -> tuple[int, str]:
    mock.add(
        responses.POST,
        _ENDPOINT,
        status=400,
        json={
            "errors": [
                {
                    "description": "Unconfigured or unverified sending domain.",
                    "code": "7001",
                    "message": "Invalid domain",
                }
            ]
        },
    )
    return 400, "Unconfigured or unverified sending domain."


CASE = ContractCase(
    id="sparkpost",
    backend="anymail.backends.sparkpost.EmailBackend",
    esp_name="SparkPost",
    options={"api_key": "test-api-key"},
    mock_success=mock_success,
    mock_error=mock_error,
    mock_all_rejected=mock_all_rejected,
)
