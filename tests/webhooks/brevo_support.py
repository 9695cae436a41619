"""What the Brevo webhook tests share: fixtures, URLs, and Brevo's attachment API stub."""

from __future__ import annotations

import re
from typing import Any, Final

import responses

from tests.utils import fixture_json

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
