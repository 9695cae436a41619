"""Brevo in the contract suite.

Brevo never refuses recipients at send time (blocked or invalid addresses are
reported later, by tracking webhooks), so there is no ``mock_all_rejected``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import responses

from ..registry import ContractCase

_SEND_URL = "https://api.brevo.com/v3/smtp/email"
_FIXTURES = Path(__file__).parents[2] / "fixtures" / "brevo"


def _accepted(request: Any) -> tuple[int, dict[str, str], str]:
    """Brevo's 201 answer: one messageId, or one per messageVersions entry."""
    body = json.loads(request.body)
    versions = body.get("messageVersions")
    if versions is not None:
        ids = [
            f"<202603040506.1234567890{i}.{i}@smtp-relay.mailin.fr>" for i in range(len(versions))
        ]
        return 201, {}, json.dumps({"messageIds": ids})
    return 201, {}, (_FIXTURES / "send_success.json").read_text(encoding="utf-8")


def mock_success(mock: responses.RequestsMock) -> None:
    mock.add_callback(
        responses.POST, _SEND_URL, callback=_accepted, content_type="application/json"
    )


def mock_error(mock: responses.RequestsMock) -> tuple[int, str]:
    mock.add(
        responses.POST,
        _SEND_URL,
        status=400,
        body=(_FIXTURES / "send_error_400_invalid_parameter.json").read_text(encoding="utf-8"),
        content_type="application/json",
    )
    return 400, "valid sender email required"


CASE = ContractCase(
    id="brevo",
    backend="anymail.backends.brevo.EmailBackend",
    esp_name="Brevo",
    options={"api_key": "xkeysib-contract-test-key"},
    mock_success=mock_success,
    mock_error=mock_error,
    requires_html_body=True,
)
