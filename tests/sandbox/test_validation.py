"""The emulators refuse bad calls with the ESP's own answers (the fact-sheet fixtures)."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
import requests

from anymail.sandbox import Sandbox
from tests.utils import fixture_json

KEY = "sandbox-api-key"
FROM = {"email": "shop@example.com"}
TO = [{"email": "ana@example.com"}]


def basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


#: esp, path after the ESP's API URL, headers, JSON body, HTTP status, fixture
AUTH_CASES: list[tuple[str, str, dict[str, str], Any, int, str]] = [
    ("brevo", "smtp/email", {}, {}, 401, "send_error_401_unauthorized.json"),
    ("mailjet", "send", {}, {}, 401, "send_error_401.json"),
    ("mandrill", "/messages/send.json", {}, {"key": "wrong"}, 500, "error_invalid_key.json"),
    ("postal", "api/v1/send/message", {}, {}, 200, "send_error_access_denied.json"),
    ("postmark", "email", {}, {}, 401, "send_error_10_bad_token.json"),
    ("resend", "emails", {}, {}, 401, "send_error_401_missing_api_key.json"),
    (
        "resend",
        "emails",
        {"Authorization": "Bearer wrong"},
        {},
        403,
        "send_error_403_invalid_api_key.json",
    ),
    (
        "scaleway",
        "emails",
        {"X-Auth-Token": "wrong"},
        {},
        401,
        "send_error_401_denied_authentication.json",
    ),
    ("sendgrid", "mail/send", {}, {}, 401, "send_error_401.json"),
    ("sparkpost", "/transmissions/", {}, {}, 401, "send_error_401.json"),
]

#: Requests with the right key that the ESP refuses: the same columns.
INVALID_CASES: list[tuple[str, str, dict[str, str], Any, int, str]] = [
    (
        "brevo",
        "smtp/email",
        {"api-key": KEY},
        {"sender": FROM, "to": TO, "subject": "Hi"},
        400,
        "send_error_400_missing_parameter.json",
    ),
    (
        "mailjet",
        "send",
        {"Authorization": basic("sandbox", KEY)},
        {"Messages": [{"From": {"Email": "shop@example.com"}, "To": [{"Email": "a@example.com"}]}]},
        400,
        "send_error_message_400.json",
    ),
    (
        "mandrill",
        "/messages/send.json",
        {},
        {"key": KEY, "message": {"to": [{"email": "not an address"}], "text": "Hi"}},
        500,
        "error_validation.json",
    ),
    (
        "postal",
        "api/v1/send/message",
        {"X-Server-API-Key": KEY},
        {"from": "shop@example.com", "to": ["ana@example.com"], "subject": "Hi"},
        200,
        "send_error_no_content.json",
    ),
    (
        "postmark",
        "email",
        {"X-Postmark-Server-Token": KEY},
        {"From": "shop@example.com", "To": "invalid@localhost", "TextBody": "Hi"},
        422,
        "send_error_300_invalid_to.json",
    ),
    (
        "resend",
        "emails",
        {"Authorization": f"Bearer {KEY}"},
        {"from": "shop@example.com", "subject": "Hi", "text": "Hi"},
        422,
        "send_error_422_missing_field.json",
    ),
    (
        "scaleway",
        "emails",
        {"X-Auth-Token": KEY},
        {"from": {"email": "not-an-address"}, "to": TO, "subject": "Your order", "text": "Hi"},
        400,
        "send_error_400_invalid_arguments.json",
    ),
    (
        "sendgrid",
        "mail/send",
        {"Authorization": f"Bearer {KEY}"},
        {
            "personalizations": [{"cc": TO}],
            "from": FROM,
            "content": [{"type": "text/plain", "value": "Hi"}],
        },
        400,
        "send_error_400_personalizations_to.json",
    ),
    (
        "sparkpost",
        "/transmissions/",
        {"Authorization": KEY},
        {"recipients": [{"address": {"email": "ana@example.com"}}]},
        422,
        "send_error_422_required_field.json",
    ),
]

#: Fields that differ per call (Mailjet's error ids).
VOLATILE = {"ErrorIdentifier"}


def without_volatile(data: Any) -> Any:
    if isinstance(data, dict):
        return {k: without_volatile(v) for k, v in data.items() if k not in VOLATILE}
    if isinstance(data, list):
        return [without_volatile(item) for item in data]
    return data


def call(sandbox: Sandbox, esp: str, path: str, headers: dict[str, str], body: Any) -> Any:
    url = sandbox.emulator(esp).api_url(sandbox.url).replace("{region}", "fr-par")
    url = url.rstrip("/") + "/" + path.lstrip("/") if path.startswith("/") else url + path
    return requests.post(
        url,
        data=json.dumps(body),
        headers={"Content-Type": "application/json", **headers},
        timeout=10,
    )


@pytest.fixture
def offline_sandbox() -> Any:
    with Sandbox() as running:
        yield running


@pytest.mark.parametrize(
    ("esp", "path", "headers", "body", "status", "fixture"), AUTH_CASES + INVALID_CASES
)
def test_refusals_match_the_esp(
    offline_sandbox: Sandbox,
    esp: str,
    path: str,
    headers: dict[str, str],
    body: Any,
    status: int,
    fixture: str,
) -> None:
    response = call(offline_sandbox, esp, path, headers, body)
    assert response.status_code == status
    assert without_volatile(response.json()) == without_volatile(fixture_json(esp, fixture))
    assert offline_sandbox.messages() == []
    assert len(offline_sandbox.store.rejected) == 1


def test_mailgun_refusals(offline_sandbox: Sandbox) -> None:
    url = (
        offline_sandbox.emulator("mailgun").api_url(offline_sandbox.url)
        + "/mg.example.com/messages"
    )
    fields = {"from": "shop@example.com", "to": "ana@example.com", "subject": "Hi"}
    refused = requests.post(url, data=fields, timeout=10)
    assert (refused.status_code, refused.text) == (401, "Forbidden")
    invalid = requests.post(url, data=fields, auth=("api", KEY), timeout=10)
    assert invalid.status_code == 400
    assert invalid.json() == fixture_json("mailgun", "send_error_400_missing_body.json")


def test_postmark_recipient_limit(offline_sandbox: Sandbox) -> None:
    too_many = ", ".join(f"r{n}@example.com" for n in range(51))
    response = call(
        offline_sandbox,
        "postmark",
        "email",
        {"X-Postmark-Server-Token": KEY},
        {"From": "shop@example.com", "To": too_many, "TextBody": "Hi"},
    )
    assert response.status_code == 422
    assert response.json()["ErrorCode"] == 300


def test_unknown_endpoint_is_404(offline_sandbox: Sandbox) -> None:
    response = call(offline_sandbox, "postmark", "email/nope", {}, {})
    assert response.status_code == 404
