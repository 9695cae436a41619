"""Mailjet in the contract suite.

Mailjet never reports a recipient as rejected or invalid at send time (an error
result means "failed"), so there is no ``rejected`` answer.
"""

from ..registry import (
    JSON_EXCHANGE,
    Credential,
    OptionsExample,
    PlainSend,
    basic_auth,
    demo_case,
    json_at,
)

CASE = demo_case(
    "mailjet",
    "Mailjet",
    endpoint=r"^https://api\.mailjet\.com/v3\.1/send$",
    error=(
        401,
        {
            "ErrorIdentifier": "00000000-aaaa-4bbb-8ccc-000000000006",
            "StatusCode": 401,
            "ErrorMessage": "API key authentication/authorization failure. You may be "
            "unauthorized to access the API or your API key may be expired.",
        },
        "API key authentication/authorization failure",
    ),
    credentials=(
        Credential("api_key", "MAILJET_API_KEY", basic_auth(0), header="Authorization"),
        Credential("secret_key", "MAILJET_SECRET_KEY", basic_auth(1), header="Authorization"),
    ),
    sent_tags=json_at("Globals", "CustomCampaign", listed=True),
    options_example=OptionsExample(
        {"api_url": "https://api.us.mailjet.com/v3.1"}, "https://api.us.mailjet.com/v3.1/send"
    ),
    request_headers=JSON_EXCHANGE,
    plain_send=PlainSend(
        "https://api.mailjet.com/v3.1/send",
        {
            "Globals": {
                "From": {"Email": "from@example.com"},
                "Subject": "Subject line",
                "TextPart": "Body text of the message",
            },
            "Messages": [{"To": [{"Email": "to@example.com", "Name": "Recipient Name"}]}],
        },
        "sent",
        "576460752303423489",  # the demo answer's first MessageID
    ),
)
