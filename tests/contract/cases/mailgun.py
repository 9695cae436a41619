"""Mailgun in the contract suite.

Mailgun queues every accepted call and reports refused recipients only later,
through webhooks, so there is no ``rejected`` answer.
"""

from __future__ import annotations

from typing import Any

from ...utils import form_fields
from ..registry import Credential, OptionsExample, basic_auth, demo_case


def _tags(request: Any) -> list[str]:
    return [value for name, value in form_fields(request) if name == "o:tag"]


CASE = demo_case(
    "mailgun",
    "Mailgun",
    options={"api_key": "key-test-mailgun-NOT-REAL"},
    # Any sender domain (the contract messages are from example.com).
    endpoint=r"^https://api\.mailgun\.net/v3/[^/]+/messages$",
    error=(
        400,
        {"message": "to parameter is not a valid address. please check documentation"},
        "to parameter is not a valid address",
    ),
    credentials=(Credential("api_key", "MAILGUN_API_KEY", basic_auth(1), header="Authorization"),),
    sent_tags=_tags,
    options_example=OptionsExample(
        {"sender_domain": "mg.example.eu", "api_url": "https://api.eu.mailgun.net/v3"},
        "https://api.eu.mailgun.net/v3/mg.example.eu/messages",
    ),
)
