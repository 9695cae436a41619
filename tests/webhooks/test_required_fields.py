"""A post without the fields its ESP always sends is refused (400), never dispatched empty.

Each case is an authenticated post that is well-formed JSON but lacks a field the
ESP's fact sheet (and every fixture) has: the event type, the recipient, the
message id, or the sender/recipient of an inbound message. The answer names the
missing field. Test and ping posts the ESPs really send stay accepted.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from anymail.signals import inbound, tracking
from anymail.testing import captured_events, webhook_request
from tests.utils import fixture_json

SECRET = "requiredfields12:requiredfields12"

POSTMARK_DELIVERY = {
    "RecordType": "Delivery",
    "MessageID": "0a1b2c3d-0000-4000-8000-000000000001",
    "Recipient": "to@example.com",
    "DeliveredAt": "2026-03-02T14:05:09Z",
}
MAILJET_SENT = {"event": "sent", "time": 1772478309, "MessageID": 1, "email": "to@example.com"}
BREVO_DELIVERED = {"event": "delivered", "email": "to@example.com", "message-id": "<m@x>"}
SENDGRID_DELIVERED = {"event": "delivered", "email": "to@example.com", "timestamp": 1772478309}


def without(data: dict[str, Any], key: str) -> dict[str, Any]:
    return {name: value for name, value in data.items() if name != key}


#: (esp, kind, body, the field named in the refusal)
REFUSED: list[Any] = [
    pytest.param("postmark", "inbound", {}, "MessageID", id="postmark-inbound-empty"),
    pytest.param("postmark", "inbound", {"foo": 1}, "MessageID", id="postmark-inbound-foo"),
    pytest.param(
        "postmark", "inbound", {"MessageID": "x"}, "FromFull", id="postmark-inbound-id-only"
    ),
    pytest.param(
        "postmark",
        "inbound",
        {"MessageID": "x", "FromFull": {"Email": "a@example.com"}},
        "OriginalRecipient",
        id="postmark-inbound-no-recipient",
    ),
    pytest.param(
        "postmark", "tracking", {"RecordType": "Delivery"}, "MessageID", id="postmark-type-only"
    ),
    *(
        pytest.param(
            "postmark", "tracking", without(POSTMARK_DELIVERY, key), key, id=f"postmark-no-{key}"
        )
        for key in ("RecordType", "MessageID", "Recipient")
    ),
    pytest.param(
        "postmark",
        "tracking",
        {**without(POSTMARK_DELIVERY, "Recipient"), "RecordType": "Bounce"},
        "Email",
        id="postmark-bounce-no-email",
    ),
    pytest.param("mailjet", "inbound", {}, "Sender", id="mailjet-inbound-empty"),
    pytest.param("mailjet", "inbound", {"foo": 1}, "Sender", id="mailjet-inbound-foo"),
    pytest.param(
        "mailjet", "inbound", {"Sender": "a@example.com"}, "Recipient", id="mailjet-inbound-sender"
    ),
    pytest.param("mailjet", "tracking", {"event": "sent"}, "time", id="mailjet-event-only"),
    pytest.param("mailjet", "tracking", [{"event": "sent"}], "time", id="mailjet-grouped"),
    *(
        pytest.param("mailjet", "tracking", without(MAILJET_SENT, key), key, id=f"mailjet-no-{key}")
        for key in ("event", "time", "MessageID", "email")
    ),
    pytest.param("brevo", "inbound", {"items": [{}]}, "Uuid", id="brevo-inbound-empty-item"),
    pytest.param(
        "brevo", "inbound", {"items": [{"Uuid": ["u"]}]}, "Headers", id="brevo-inbound-no-headers"
    ),
    pytest.param("brevo", "tracking", {"event": "delivered"}, "email", id="brevo-event-only"),
    *(
        pytest.param("brevo", "tracking", without(BREVO_DELIVERED, key), key, id=f"brevo-no-{key}")
        for key in ("event", "email", "message-id")
    ),
    pytest.param("sendgrid", "tracking", [{}], "event", id="sendgrid-empty-event"),
    pytest.param(
        "sendgrid", "tracking", [{"event": "delivered"}], "email", id="sendgrid-event-only"
    ),
    pytest.param(
        "sendgrid",
        "tracking",
        [SENDGRID_DELIVERED, without(SENDGRID_DELIVERED, "email")],
        "body[1].email",
        id="sendgrid-second-event-no-email",
    ),
]

#: Posts the ESPs send that carry little, but all they are documented to carry.
ACCEPTED: list[Any] = [
    pytest.param("postmark", "tracking", {"RecordType": "SomethingNew"}, 1, id="postmark-new-type"),
    pytest.param(
        "postmark", "tracking", without(POSTMARK_DELIVERY, "DeliveredAt"), 1, id="postmark-no-time"
    ),
    pytest.param("mailjet", "tracking", [], 0, id="mailjet-empty-group"),
    pytest.param(
        "mailjet", "tracking", {**MAILJET_SENT, "MessageID": 0}, 1, id="mailjet-message-id-0"
    ),
    pytest.param("brevo", "tracking", {"event": "something_new"}, 1, id="brevo-new-event"),
    pytest.param("brevo", "inbound", {"items": []}, 0, id="brevo-inbound-no-items"),
    pytest.param("sendgrid", "tracking", [], 0, id="sendgrid-empty-batch"),
    pytest.param(
        "sendgrid",
        "tracking",
        [{"event": "account_status_change", "type": "compliance_suspend", "timestamp": 1}],
        1,
        id="sendgrid-account-event-without-email",
    ),
    pytest.param(
        "sendgrid", "tracking", [without(SENDGRID_DELIVERED, "timestamp")], 1, id="sendgrid-no-ts"
    ),
]


@pytest.fixture(autouse=True)
def webhook_secret(settings: Any) -> None:
    settings.ANYMAIL = {"WEBHOOK_SECRET": SECRET, "BREVO_API_KEY": "brevo-api-key-NOT-REAL"}


def post(esp: str, kind: str, body: Any) -> tuple[Any, list[Any]]:
    with captured_events(tracking) as tracked, captured_events(inbound) as received:
        response = webhook_request(esp, body).post(Client(), f"/anymail/{esp}/{kind}/")
    return response, tracked + received


@pytest.mark.parametrize(("esp", "kind", "body", "field"), REFUSED)
def test_post_without_a_required_field_is_refused(
    esp: str, kind: str, body: Any, field: str
) -> None:
    response, dispatched = post(esp, kind, body)
    assert response.status_code == 400, response.content
    assert dispatched == []
    assert f"{field} is missing" in response.content.decode()


@pytest.mark.parametrize(("esp", "kind", "body", "count"), ACCEPTED)
def test_sparse_documented_post_is_accepted(esp: str, kind: str, body: Any, count: int) -> None:
    response, dispatched = post(esp, kind, body)
    assert response.status_code == 200, response.content
    assert len(dispatched) == count


@pytest.mark.parametrize(
    ("esp", "name"),
    [
        ("postmark", "inbound_check_button.json"),
        ("postmark", "tracking_subscription_resubscribe.json"),
        ("mailjet", "tracking_grouped_empty.json"),
    ],
)
def test_test_posts_from_the_dashboards_still_dispatch(esp: str, name: str) -> None:
    kind = name.split("_", 1)[0]
    response, dispatched = post(esp, kind, fixture_json(esp, name))
    assert response.status_code == 200, response.content
    assert len(dispatched) == (0 if name == "tracking_grouped_empty.json" else 1)
