"""SendGrid in the contract suite: 202 with an empty body; errors as {"errors": [...]}.

SendGrid never refuses recipients at send time (they become "dropped" events
later), so there is no ``rejected`` answer.
"""

from __future__ import annotations

from ...utils import fixture_json
from ..registry import JSON_REQUEST, Credential, OptionsExample, demo_case, json_at

CASE = demo_case(
    "sendgrid",
    "SendGrid",
    endpoint=r"^https://api\.sendgrid\.com/v3/mail/send$",
    error=(
        403,
        fixture_json("sendgrid", "send_error_403_sender_identity.json"),
        "The from address does not match a verified Sender Identity",
    ),
    credentials=(Credential.in_header("api_key", "SENDGRID_API_KEY", "Authorization", "Bearer "),),
    sent_tags=json_at("categories"),
    options_example=OptionsExample(
        {
            "api_url": "https://api.eu.sendgrid.com/v3/",
            "generate_message_id": False,
            "merge_field_format": "-{}-",
        },
        "https://api.eu.sendgrid.com/v3/mail/send",
        attributes={"generate_message_id": False},
    ),
    request_headers=JSON_REQUEST,
)
