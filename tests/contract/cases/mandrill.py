import json
from pathlib import Path

import responses

from ..registry import ContractCase

FIXTURES = Path(__file__).parent.parent.parent / "fixtures" / "mandrill"
SEND_URL = "https://mandrillapp.com/api/1.0/messages/send.json"
TEMPLATE_URL = "https://mandrillapp.com/api/1.0/messages/send-template.json"


def _recipients(request: object) -> list[str]:
    body = json.loads(getattr(request, "body", b"") or b"{}")
    return [recipient["email"] for recipient in body.get("message", {}).get("to", [])]


def _answer_each(status: str) -> object:
    """A callback answering with one result of ``status`` for each recipient sent."""

    def callback(request: object) -> tuple[int, dict[str, str], str]:
        results = [
            {"email": email, "status": status, "_id": f"id-{index}", "reject_reason": None}
            for index, email in enumerate(_recipients(request))
        ]
        if status == "rejected":
            for result in results:
                result["reject_reason"] = "hard-bounce"
        return 200, {}, json.dumps(results)

    return callback


def mock_success(mock: responses.RequestsMock) -> None:
    for url in (SEND_URL, TEMPLATE_URL):
        mock.add_callback(
            responses.POST, url, callback=_answer_each("sent"), content_type="application/json"
        )


def mock_error(mock: responses.RequestsMock) -> tuple[int, str]:
    # Classic Mandrill answers every API error with HTTP 500.
    mock.add(
        responses.POST,
        SEND_URL,
        body=(FIXTURES / "error_invalid_key.json").read_text(encoding="utf-8"),
        status=500,
        content_type="application/json",
    )
    return 500, "Invalid_Key: Invalid API key"


def mock_all_rejected(mock: responses.RequestsMock) -> None:
    mock.add_callback(
        responses.POST, SEND_URL, callback=_answer_each("rejected"), content_type="application/json"
    )


CASE = ContractCase(
    id="mandrill",
    backend="anymail.backends.mandrill.EmailBackend",
    esp_name="Mandrill",
    options={"api_key": "contract-test-mandrill-key"},
    mock_success=mock_success,
    mock_error=mock_error,
    mock_all_rejected=mock_all_rejected,
)
