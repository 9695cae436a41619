"""What the Resend webhook tests share: secrets, fixtures and an emulated Receiving API."""

from __future__ import annotations

import base64
import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Final

import responses

from tests.utils import FIXTURES_DIR, fixture_json

from .support import fixture_names

#: The fact sheet's fake tracking secret (its signatures.json vectors use it).
SIGNING_SECRET: Final = fixture_json("resend", "signatures.json")["signing_secret"]
#: Resend gives the inbound endpoint a secret of its own.
INBOUND_SECRET: Final = "whsec_" + base64.b64encode(b"inbound-endpoint-secret-for-tests").decode()
#: A secret Resend never used for these endpoints.
OTHER_SECRET: Final = "whsec_" + base64.b64encode(b"somebody-else's-svix-secret!").decode()
API_KEY: Final = "re_TestKey_full_access_NOT_REAL_4f9a"

SETTINGS: Final = {
    "RESEND_SIGNING_SECRET": SIGNING_SECRET,
    "RESEND_INBOUND_SECRET": INBOUND_SECRET,
    "RESEND_API_KEY": API_KEY,
}

TRACKING_FIXTURES: Final = fixture_names("resend", "tracking_*.json")

EMAIL_ID: Final = "8136d3fb-0439-4b09-b939-b8436a3524b6"
RETRIEVE_URL: Final = f"https://api.resend.com/emails/receiving/{EMAIL_ID}?html_format=cid"
ATTACHMENTS_URL: Final = f"https://api.resend.com/emails/receiving/{EMAIL_ID}/attachments"
RAW_URL: Final = fixture_json("resend", "inbound_retrieve_received_email.json")["raw"][
    "download_url"
]
RAW_MESSAGE: Final = (FIXTURES_DIR / "resend" / "inbound_raw_message.eml").read_bytes()


def fixture(name: str) -> Any:
    return fixture_json("resend", name)


def received_email(**changes: Any) -> dict[str, Any]:
    """The Receiving API's answer for EMAIL_ID (the fixture), with ``changes``."""
    return {**fixture("inbound_retrieve_received_email.json"), **changes}


@contextmanager
def receiving_api(email: dict[str, Any] | None = None) -> Iterator[responses.RequestsMock]:
    """Resend's Receiving API and download CDN, answering for any email id."""
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.get(
            re.compile(r"https://api\.resend\.com/emails/receiving/[^/?]+(\?.*)?$"),
            json=email if email is not None else received_email(),
        )
        mock.get(RAW_URL, body=RAW_MESSAGE)
        yield mock
