"""Brevo in the contract suite.

Brevo never refuses recipients at send time (blocked or invalid addresses are
reported later, by tracking webhooks), so there is no ``rejected`` answer.
"""

from __future__ import annotations

from ...utils import fixture_json
from ..registry import JSON_EXCHANGE, Credential, OptionsExample, demo_case, json_at

CASE = demo_case(
    "brevo",
    "Brevo",
    endpoint=r"^https://api\.brevo\.com/v3/smtp/email$",
    error=(
        400,
        fixture_json("brevo", "send_error_400_invalid_parameter.json"),
        "valid sender email required",
    ),
    requires_html_body=True,
    credentials=(Credential.in_header("api_key", "BREVO_API_KEY", "api-key"),),
    sent_tags=json_at("tags"),
    options_example=OptionsExample(
        {
            "api_url": "https://proxy.example.com/brevo/v3",  # "/" added
            "workaround_display_name_bugs": False,
            "prevent_header_encoding_bugs": False,
        },
        "https://proxy.example.com/brevo/v3/smtp/email",
        attributes={"workaround_display_name_bugs": False, "prevent_header_encoding_bugs": False},
    ),
    request_headers=JSON_EXCHANGE,
)
