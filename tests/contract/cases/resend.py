"""Resend in the contract suite: {"id": ...} per email, {"data": [...]} per batch."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import responses

from ..registry import ContractCase

_ENDPOINT = re.compile(r"^https://api\.resend\.com/emails(/batch)?$")
FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "resend"


def _accepted(request: Any) -> tuple[int, dict[str, str], str]:
    """Resend's answer for whatever was sent: one id per email object."""
    body = json.loads(request.body)
    headers = {"ratelimit-limit": "5", "ratelimit-remaining": "4", "ratelimit-reset": "1"}
    if isinstance(body, list):
        ids = [{"id": f"4ef9a417-02e9-4d39-ad75-{index:012d}"} for index in range(1, len(body) + 1)]
        return 200, headers, json.dumps({"data": ids})
    return 200, headers, json.dumps({"id": "4ef9a417-02e9-4d39-ad75-000000000000"})


def mock_success(mock: responses.RequestsMock) -> None:
    mock.add_callback(
        responses.POST, _ENDPOINT, callback=_accepted, content_type="application/json"
    )


def mock_error(mock: responses.RequestsMock) -> tuple[int, str]:
    body = (FIXTURES / "send_error_422_validation.json").read_text(encoding="utf-8")
    mock.add(responses.POST, _ENDPOINT, status=422, body=body, content_type="application/json")
    return 422, "Invalid `to` field."


# Resend never refuses single recipients at send time (the request succeeds or
# fails as a whole), so there is no mock_all_rejected.
CASE = ContractCase(
    id="resend",
    backend="anymail.backends.resend.EmailBackend",
    esp_name="Resend",
    options={"api_key": "re_contract_test_key"},
    mock_success=mock_success,
    mock_error=mock_error,
)
