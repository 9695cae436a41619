"""SendGrid in the contract suite: 202 with an empty body; errors as {"errors": [...]}."""

from pathlib import Path

import responses

from ..registry import ContractCase

API_URL = "https://api.sendgrid.com/v3/mail/send"
FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "sendgrid"


def mock_success(mock: responses.RequestsMock) -> None:
    mock.add(
        responses.POST,
        API_URL,
        status=202,
        body="",
        headers={"X-Message-Id": "0Xf00Aa1Bb2Cc3Dd4Ee5Ff"},
    )


def mock_error(mock: responses.RequestsMock) -> tuple[int, str]:
    body = (FIXTURES / "send_error_403_sender_identity.json").read_text(encoding="utf-8")
    mock.add(responses.POST, API_URL, status=403, body=body, content_type="application/json")
    return 403, "The from address does not match a verified Sender Identity"


# SendGrid never refuses recipients at send time (they become "dropped" events
# later), so there is no mock_all_rejected.
CASE = ContractCase(
    id="sendgrid",
    backend="anymail.backends.sendgrid.EmailBackend",
    esp_name="SendGrid",
    options={"api_key": "SG.contract-test-key"},
    mock_success=mock_success,
    mock_error=mock_error,
)
