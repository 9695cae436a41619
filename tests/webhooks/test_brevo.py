"""Brevo tracking webhooks (and the deprecated SendinBlue routes), through their URLs.

Every ``tracking_*.json`` fixture of Brevo's fact sheet is posted as Brevo posts it
(JSON, basic auth) and the dispatched event is compared field by field.
"""

from __future__ import annotations

import json
import warnings
from datetime import UTC, datetime
from typing import Any

import pytest
import responses
from django.test import Client

from anymail.exceptions import (
    AnymailConfigurationError,
    AnymailDeprecationWarning,
)
from anymail.message import AnymailMessage
from anymail.signals import AnymailTrackingEvent, tracking
from anymail.testing import webhook_request, webhook_secret_setting
from anymail.webhooks.brevo import BrevoTrackingWebhookView, parse_tracking_body
from anymail.webhooks.sendinblue import SendinBlueTrackingWebhookView
from tests.utils import request_json

from .brevo_support import fixture, sendinblue_call
from .support import assert_refused, event_fields, fixture_names, signal_calls

SECRET = "brevobrevobrevob:revobrevobrevobr"
URL = "/anymail/brevo/tracking/"
MESSAGE_ID = "<202603040506.12345678901@smtp-relay.mailin.fr>"
#: ts_epoch 1772600768123 (ms); the "date" field says 06:06:08 in Brevo's CET.
AT = datetime(2026, 3, 4, 5, 6, 8, 123000, tzinfo=UTC)

DEFAULTS: dict[str, Any] = {
    "timestamp": AT,
    "event_id": None,  # Brevo's "id" is the webhook's
    "message_id": MESSAGE_ID,
    "recipient": "alice@example.com",
    "reject_reason": None,
    "description": None,
    "mta_response": None,
    "tags": [],
    "metadata": {},
    "click_url": None,
    "user_agent": None,
}
ORDER = {"order_id": "1234"}

#: fixture -> the fields of its event that differ from DEFAULTS.
EXPECTED: dict[str, dict[str, Any]] = {
    "tracking_request.json": {
        "event_type": "queued",
        "tags": ["order", "receipt"],
        "metadata": ORDER,
    },
    "tracking_delivered.json": {
        "event_type": "delivered",
        "tags": ["order", "receipt"],
        "metadata": ORDER,
    },
    "tracking_hard_bounce.json": {
        "event_type": "bounced",
        "reject_reason": "bounced",
        "recipient": "no-such-user@example.com",
        # Verbatim, leading space included.
        "mta_response": " RecipientError: 550 5.5.0 Requested action not taken: "
        "mailbox unavailable.",
        "tags": ["header-tag"],
    },
    "tracking_soft_bounce.json": {
        "event_type": "bounced",
        "reject_reason": "bounced",
        "recipient": "someone@no-mx.example.com",
        "mta_response": "undefined Unable to find MX of domain no-mx.example.com",
    },
    "tracking_blocked.json": {
        "event_type": "rejected",
        "reject_reason": "blocked",
        "mta_response": "blocked : due to blacklist user",
    },
    "tracking_invalid_email.json": {
        "event_type": "bounced",
        "reject_reason": "invalid",
        "recipient": "not-an-address@@example.com",
        "mta_response": "invalid email address",
    },
    "tracking_deferred.json": {
        "event_type": "deferred",
        "recipient": "busy@example.com",
        "mta_response": "421 4.7.0 Try again later, closing connection.",
    },
    "tracking_spam.json": {"event_type": "complained", "reject_reason": "spam"},
    "tracking_complaint.json": {
        "event_type": "complained",
        "reject_reason": "spam",
        "tags": ["order"],
        "metadata": ORDER,
    },
    "tracking_opened.json": {"event_type": "opened"},
    "tracking_unique_opened.json": {"event_type": "opened"},
    "tracking_proxy_open.json": {"event_type": "opened", "tags": ["transactionalTag"]},
    "tracking_unique_proxy_open.json": {"event_type": "opened"},
    "tracking_click.json": {
        "event_type": "clicked",
        "click_url": "https://www.example.com/orders/1234?utm_source=email",
    },
    "tracking_unsubscribed.json": {"event_type": "unsubscribed"},
    "tracking_error.json": {"event_type": "failed", "tags": ["order"], "metadata": ORDER},
    "tracking_tag_header_only.json": {"event_type": "delivered", "tags": ["header-tag"]},
    "tracking_ts_epoch_seconds.json": {
        "event_type": "delivered",
        "timestamp": AT.replace(microsecond=0),
    },
}


@pytest.fixture(autouse=True)
def webhook_secret() -> Any:
    with webhook_secret_setting(SECRET):
        yield


def post(payload: Any, url: str = URL, client: Client | None = None, **options: Any) -> Any:
    return webhook_request("brevo", payload, **options).post(client or Client(), url)


def test_every_tracking_fixture_has_expectations() -> None:
    assert set(fixture_names("brevo", "tracking_*.json")) == {*EXPECTED, "tracking_batched.json"}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_tracking_fixture(name: str, events: list[Any]) -> None:
    payload = fixture(name)
    response = post(payload)
    assert response.status_code == 200, response.content
    assert len(events) == 1
    event = events[0]
    assert isinstance(event, AnymailTrackingEvent)
    assert event_fields(event) == {**DEFAULTS, **EXPECTED[name]}
    assert event.esp_event == payload
    assert event.timestamp.tzinfo is not None


def test_batched_post_dispatches_each_event_in_order(events: list[Any]) -> None:
    payload = fixture("tracking_batched.json")
    assert post(payload).status_code == 200
    assert [event.event_type for event in events] == ["queued", "delivered"]
    assert [event.esp_event for event in events] == payload
    assert all(event.tags == ["order"] and event.message_id == MESSAGE_ID for event in events)


def test_signal_arguments() -> None:
    with signal_calls(tracking) as calls:
        post(fixture("tracking_delivered.json"))
    assert calls[0]["sender"] is BrevoTrackingWebhookView
    assert calls[0]["esp_name"] == "Brevo"


def test_empty_batch_is_acknowledged(events: list[Any]) -> None:
    assert post([]).status_code == 200
    assert events == []


def test_unknown_event_is_dispatched_as_unknown(events: list[Any]) -> None:
    payload = {**fixture("tracking_delivered.json"), "event": "some_new_event"}
    assert post(payload).status_code == 200
    assert events[0].event_type == "unknown"
    assert events[0].esp_event["event"] == "some_new_event"


#: What every event about a message names: its recipient and Message-ID.
DELIVERED = {"event": "delivered", "email": "a@example.com", "message-id": "<m@example.com>"}


@pytest.mark.parametrize(
    ("event", "event_type"),
    [
        ("unsubscribe", "unsubscribed"),  # Brevo's changelog wording
        ("unique_proxy_opened", "opened"),
        ("list_addition", "subscribed"),
    ],
)
def test_event_name_variants(event: str, event_type: str) -> None:
    (parsed,) = parse_tracking_body({**DELIVERED, "event": event})
    assert parsed.event_type == event_type


# --- fields -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("times", "expected"),
    [
        ({"ts_epoch": 1772600768123, "ts_event": 1}, AT),  # milliseconds win
        ({"ts_epoch": 1772600768}, AT.replace(microsecond=0)),  # seconds (doc samples)
        ({"ts_event": 1772600768, "ts": 1}, AT.replace(microsecond=0)),
        ({"date": "2026-03-04 06:06:08"}, None),  # not in UTC: not used
    ],
)
def test_timestamp(times: dict[str, Any], expected: datetime | None) -> None:
    (event,) = parse_tracking_body({**DELIVERED, **times})
    assert event.timestamp == expected


@pytest.mark.parametrize("ts_epoch", ["1772600768123", 10**30, True])
def test_unusable_timestamp_is_refused(ts_epoch: Any, events: list[Any]) -> None:
    response = post({**DELIVERED, "ts_epoch": ts_epoch})
    assert_refused(response, events, b"ts_epoch")


@pytest.mark.parametrize(
    ("fields_", "tags"),
    [
        ({"tags": ["a", "b"], "tag": '["c"]'}, ["a", "b"]),  # the list wins
        ({"tag": '["order","receipt"]'}, ["order", "receipt"]),  # JSON in text
        ({"tag": "header-tag"}, ["header-tag"]),  # X-Mailin-Tag header
        ({"tag": "Order confirmation template"}, ["Order confirmation template"]),
        ({"tag": ["a", "b"]}, ["a", "b"]),
        ({"tag": "[draft"}, ["[draft"]),  # only looks like JSON
        ({"tag": "[1, 2]"}, ["[1, 2]"]),
        ({"tag": ""}, []),
        ({"tags": None, "tag": "x"}, ["x"]),
        ({}, []),
    ],
)
def test_tags_from_every_shape(fields_: dict[str, Any], tags: list[str]) -> None:
    (event,) = parse_tracking_body({**DELIVERED, **fields_})
    assert event.tags == tags


@pytest.mark.parametrize(
    ("value", "metadata"),
    [
        ('{"order_id": "1234", "n": 2}', {"order_id": "1234", "n": 2}),
        ('{"nested": {"a": [1]}}', {"nested": {"a": [1]}}),
        ("not json", {}),  # someone else's use of the header
        ("[1, 2]", {}),
        ("", {}),
        (None, {}),
    ],
)
def test_metadata_from_custom_header(value: str | None, metadata: dict[str, Any]) -> None:
    (event,) = parse_tracking_body({**DELIVERED, "X-Mailin-custom": value})
    assert event.metadata == metadata


@pytest.mark.parametrize("payload", [{"email": "a@example.com"}, {"event": 7}, [{"event": None}]])
def test_event_without_a_name_is_refused(payload: Any, events: list[Any]) -> None:
    assert post(payload).status_code == 400
    assert events == []


# --- joining events to what the backend sent --------------------------------------------


@pytest.fixture
def brevo_backend(settings: Any, mocked_responses: responses.RequestsMock) -> Any:
    settings.EMAIL_BACKEND = "anymail.backends.brevo.EmailBackend"
    settings.ANYMAIL = {**settings.ANYMAIL, "BREVO_API_KEY": "xkeysib-send"}
    return mocked_responses


def brevo_event(event: str, recipient: str, message_id: str, sent: dict[str, Any]) -> Any:
    """A Brevo event for a message sent as ``sent`` (the JSON our backend posted)."""
    body: dict[str, Any] = {"event": event, "email": recipient, "message-id": message_id}
    if "tags" in sent:
        body["tags"] = sent["tags"]
        body["tag"] = json.dumps(sent["tags"])
    if "headers" in sent and "X-Mailin-custom" in sent["headers"]:
        body["X-Mailin-custom"] = sent["headers"]["X-Mailin-custom"]
    return body


def test_events_join_the_sent_message(brevo_backend: Any, events: list[Any]) -> None:
    brevo_backend.post(
        "https://api.brevo.com/v3/smtp/email", json=fixture("send_success.json"), status=201
    )
    message = AnymailMessage(
        "Hi", "text", "from@example.com", ["alice@example.com"], tags=["order", "receipt"]
    )
    message.attach_alternative("<p>html</p>", "text/html")
    message.metadata = {"order_id": "1234", "cart": {"items": 2}, "user": 42}
    message.send()
    sent = request_json(brevo_backend.calls[0])
    status = message.anymail_status

    post(brevo_event("delivered", "alice@example.com", status.message_id, sent))
    assert events[0].message_id == status.message_id == MESSAGE_ID
    assert events[0].tags == message.tags
    assert events[0].metadata == message.metadata


def test_batch_events_join_each_recipient(brevo_backend: Any, events: list[Any]) -> None:
    brevo_backend.post(
        "https://api.brevo.com/v3/smtp/email", json=fixture("send_success_batch.json"), status=201
    )
    message = AnymailMessage(
        "Hi", "text", "from@example.com", ["alice@example.com", "bob@example.com"]
    )
    message.attach_alternative("<p>html</p>", "text/html")
    message.metadata = {"campaign": "spring"}
    message.merge_metadata = {"bob@example.com": {"user": "bob"}}
    message.send()
    sent = request_json(brevo_backend.calls[0])
    recipients = message.anymail_status.recipients

    for version in sent["messageVersions"]:
        address = version["to"][0]["email"]
        # A version without headers of its own gets the top-level X-Mailin-custom.
        post(
            brevo_event(
                "delivered",
                address,
                recipients[address].message_id,
                {"headers": {**sent["headers"], **version.get("headers", {})}},
            )
        )
    assert [(event.recipient, event.message_id, event.metadata) for event in events] == [
        ("alice@example.com", recipients["alice@example.com"].message_id, {"campaign": "spring"}),
        (
            "bob@example.com",
            recipients["bob@example.com"].message_id,
            {"campaign": "spring", "user": "bob"},
        ),
    ]
    assert {event.message_id for event in events} == message.anymail_status.message_id


# --- misrouting, security ---------------------------------------------------------------


def test_inbound_post_at_the_tracking_url_is_a_configuration_error(events: list[Any]) -> None:
    with pytest.raises(AnymailConfigurationError) as raised:
        post(fixture("inbound_basic.json"))
    assert str(raised.value) == (
        "You seem to have set Brevo's *inbound* webhook URL to Anymail's Brevo *tracking* "
        "webhook URL. Point it at Anymail's /anymail/brevo/inbound/ URL instead."
    )
    # Answered 500: Brevo keeps the post and retries while the route is fixed.
    response = post(fixture("inbound_basic.json"), client=Client(raise_request_exception=False))
    assert response.status_code == 500
    assert events == []


# --- the deprecated SendinBlue route -----------------------------------------------------


def test_sendinblue_route_warns_and_dispatches_as_sendinblue() -> None:
    payload = fixture("tracking_delivered.json")
    call = sendinblue_call("tracking", payload, tracking, SendinBlueTrackingWebhookView)
    assert call["event"].event_type == "delivered"
    assert call["event"].message_id == MESSAGE_ID


def test_sendinblue_misrouting_names_the_legacy_url() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", AnymailDeprecationWarning)
        with pytest.raises(AnymailConfigurationError, match=r"Anymail's SendinBlue \*tracking\*"):
            post(fixture("inbound_basic.json"), url="/anymail/sendinblue/tracking/")


def test_an_event_posted_to_both_routes_is_dispatched_once(events: list[Any]) -> None:
    # While moving from the SendinBlue URL to the Brevo one, Brevo may post to both.
    payload = fixture("tracking_delivered.json")
    assert post(payload).status_code == 200
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", AnymailDeprecationWarning)
        assert post(payload, url="/anymail/sendinblue/tracking/").status_code == 200
    assert len(events) == 1
