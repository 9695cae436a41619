"""Postal in the contract suite.

Postal never refuses recipients at send time (suppressed addresses are held and
reported later by webhook), so there is no ``rejected`` answer.
"""

from ..registry import JSON_EXCHANGE, Credential, OptionsExample, PlainSend, demo_case, json_at

CASE = demo_case(
    "postal",
    "Postal",
    endpoint=r"^https://postal\.example\.com/api/v1/send/message$",
    # Postal reports refused requests with HTTP 200 and status "error".
    error=(
        200,
        {
            "status": "error",
            "time": 0.0,
            "flags": {},
            "data": {
                "message": "The From address is not authorised to send mail from this server",
                "code": "UnauthenticatedFromAddress",
            },
        },
        "The From address is not authorised to send mail from this server",
    ),
    credentials=(Credential.in_header("api_key", "POSTAL_API_KEY", "X-Server-API-Key"),),
    sent_tags=json_at("tag", listed=True),
    options_example=OptionsExample(
        # (No trailing slash: the endpoint still goes below the URL's path.)
        {"api_url": "http://mail.internal:5000/postal"},
        "http://mail.internal:5000/postal/api/v1/send/message",
    ),
    request_headers=JSON_EXCHANGE,
    plain_send=PlainSend(
        "https://postal.example.com/api/v1/send/message",
        {
            "from": "from@example.com",
            "to": ["Recipient Name <to@example.com>"],
            "subject": "Subject line",
            "plain_body": "Body text of the message",
        },
        "queued",
        1501,
        absent_headers=("Authorization",),
    ),
)
