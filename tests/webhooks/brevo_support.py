"""What the Brevo webhook tests share: fixtures, URLs, and Brevo's attachment API stub."""

from __future__ import annotations

import re
from typing import Any, Final

import pytest
import responses
from django.dispatch import Signal
from django.test import Client

from anymail.exceptions import AnymailDeprecationWarning
from anymail.testing import webhook_request
from tests.utils import fixture_json

from .support import signal_calls

API_KEY: Final = "xkeysib-test-0123456789abcdef"
ATTACHMENTS_URL: Final = "https://api.brevo.com/v3/inbound/attachments/"
TEXT_ATTACHMENT: Final = b"Order 1234 notes\n"
#: The 68-byte PNG that inbound_attachments.json declares.
IMAGE_ATTACHMENT: Final = bytes.fromhex(
    "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489"
    "0000000b49444154789c6360000200000500017a5eab3f0000000049454e44ae426082"
)


def fixture(name: str) -> Any:
    return fixture_json("brevo", name)


def sendinblue_call(kind: str, payload: Any, signal: Signal, view: type) -> dict[str, Any]:
    """The first ``signal`` call of a post to the deprecated SendinBlue ``kind`` route
    ("tracking" or "inbound"), which must warn that the route is deprecated (naming
    Brevo's URL and view) and dispatch from ``view`` as "SendinBlue"."""
    with signal_calls(signal) as calls, pytest.warns(AnymailDeprecationWarning) as warned:
        request = webhook_request("brevo", payload)
        response = request.post(Client(), f"/anymail/sendinblue/{kind}/")
    assert response.status_code == 200
    assert str(warned[0].message) == (
        f"Anymail's SendinBlue {kind} webhook (/anymail/sendinblue/{kind}/) is deprecated: "
        "SendinBlue is now Brevo. Change the webhook URL at Brevo to Anymail's "
        f"/anymail/brevo/{kind}/ URL (Brevo{kind.title()}WebhookView)."
    )
    assert calls[0]["sender"] is view
    assert calls[0]["esp_name"] == "SendinBlue"
    return calls[0]


def add_attachments(mock: responses.RequestsMock) -> None:
    """Serve inbound_attachments.json's two attachments, as Brevo's API does."""
    mock.get(
        ATTACHMENTS_URL + "fake-download-token-text",
        body=TEXT_ATTACHMENT,
        content_type="text/plain; charset=utf-8",
    )
    mock.get(
        ATTACHMENTS_URL + "fake-download-token-image",
        body=IMAGE_ATTACHMENT,
        content_type="image/png",
    )


def any_attachment_api() -> responses.RequestsMock:
    """Brevo's attachment API answering every token (for mutated payloads)."""
    mock = responses.RequestsMock(assert_all_requests_are_fired=False)
    mock.get(
        re.compile(re.escape(ATTACHMENTS_URL) + ".*"),
        body=TEXT_ATTACHMENT,
        content_type="text/plain",
    )
    return mock
