"""Mailjet's Event API (tracking) and Parse API (inbound) webhooks."""

from __future__ import annotations

import functools
from datetime import UTC, datetime
from typing import Any

import pytest
import responses
from django.core.mail import get_connection
from django.test import Client

from anymail.exceptions import AnymailConfigurationError
from anymail.inbound import AnymailInboundMessage
from anymail.message import AnymailMessage
from anymail.signals import AnymailTrackingEvent
from tests.utils import add_response, fixture_json, only_request_json

from .support import (
    ORDER_QUESTION,
    fixture_names,
    headline,
    parts,
    poster,
    received_inbound,
    tracked,
    tracked_event,
)

SECRET = "mailjetmailjetma:iljetmailjetmail"
TRACKING_FIXTURES = fixture_names("mailjet", "tracking_*")
INBOUND_FIXTURES = fixture_names("mailjet", "inbound_*")
MESSAGE_ID = "576460752303423489"  # beyond 2**53: exact only if never a float
METADATA = {"order_id": "12345", "customer": "c-678"}


@pytest.fixture(autouse=True)
def webhook_secret(settings: Any) -> None:
    settings.ANYMAIL = {
        "WEBHOOK_SECRET": SECRET,
        "MAILJET_API_KEY": "api-key",
        "MAILJET_SECRET_KEY": "secret-key",
    }


def fixture(name: str) -> Any:
    return fixture_json("mailjet", name)


post = poster("mailjet")


post_events = functools.partial(tracked, post)
post_event = functools.partial(tracked_event, post)


# --- tracking: every fixture --------------------------------------------------------------

COMMON = {
    "event_id": None,  # Mailjet events have no id
    "message_id": MESSAGE_ID,
    "tags": ["shipping"],
    "metadata": METADATA,
}
TRACKING_EXPECTED: dict[str, dict[str, Any]] = {
    "tracking_sent.json": {
        **COMMON,
        "event_type": "delivered",
        "timestamp": datetime(2026, 1, 15, 9, 30, 31, tzinfo=UTC),
        "recipient": "to@example.com",
        "reject_reason": None,
        "description": None,
        "mta_response": "sent (250 2.0.0 OK 1768469431 abc123 - gsmtp)",
        "click_url": None,
        "user_agent": None,
    },
    "tracking_open.json": {
        **COMMON,
        "event_type": "opened",
        "timestamp": datetime(2026, 1, 15, 9, 40, tzinfo=UTC),
        "recipient": "to@example.com",
        "reject_reason": None,
        "description": None,
        "mta_response": None,
        "click_url": None,
        "user_agent": "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0",
    },
    "tracking_click.json": {
        **COMMON,
        "event_type": "clicked",
        "timestamp": datetime(2026, 1, 15, 9, 41, tzinfo=UTC),
        "recipient": "to@example.com",
        "reject_reason": None,
        "click_url": "https://shop.example.com/orders/12345",
        "user_agent": "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0",
    },
    "tracking_bounce_hard.json": {
        **COMMON,
        "event_type": "bounced",
        "timestamp": datetime(2026, 1, 15, 9, 30, 40, tzinfo=UTC),
        "recipient": "bad-mailbox@example.com",
        "reject_reason": "bounced",
        # The sheet's finer mapping: the error as description, the SMTP reply as
        # mta_response (the public release leaves both None).
        "description": "user unknown",
        "mta_response": "550 5.1.1 <bad-mailbox@example.com>: Recipient address rejected: "
        "User unknown",
    },
    "tracking_bounce_soft_greylisted.json": {
        **COMMON,
        "event_type": "deferred",  # Mailjet tries again
        "timestamp": datetime(2026, 1, 15, 9, 30, 50, tzinfo=UTC),
        "recipient": "grey@example.com",
        "reject_reason": None,  # only bounced and rejected events have one
        "description": "greylisted",
        "mta_response": "451 4.7.1 Greylisted, please try again later",
    },
    "tracking_blocked.json": {
        **COMMON,
        "event_type": "rejected",
        "timestamp": datetime(2026, 1, 15, 9, 30, 5, tzinfo=UTC),
        "recipient": "blocked@example.com",
        "reject_reason": "blocked",
        "description": "preblocked",
        "mta_response": None,
    },
    "tracking_spam.json": {
        **COMMON,
        "event_type": "complained",
        "timestamp": datetime(2026, 1, 15, 9, 43, tzinfo=UTC),
        "recipient": "to@example.com",
        "reject_reason": None,
        "description": None,
    },
    "tracking_unsub.json": {
        **COMMON,
        "event_type": "unsubscribed",
        "timestamp": datetime(2026, 1, 15, 9, 42, tzinfo=UTC),
        "recipient": "to@example.com",
        "user_agent": "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0",
    },
}


def test_every_tracking_fixture_is_covered() -> None:
    grouped = {"tracking_grouped_batch.json", "tracking_grouped_empty.json"}
    assert sorted([*TRACKING_EXPECTED, *grouped]) == TRACKING_FIXTURES


@pytest.mark.parametrize("name", sorted(TRACKING_EXPECTED))
def test_single_event_post(name: str, events: list[AnymailTrackingEvent]) -> None:
    # An ungrouped post (Event API version 1): one bare object.
    payload = fixture(name)
    assert post(payload).status_code == 200
    assert len(events) == 1
    expected = TRACKING_EXPECTED[name]
    assert {field: getattr(events[0], field) for field in expected} == expected
    assert events[0].esp_event == payload


def test_grouped_post_is_one_signal_per_event(events: list[AnymailTrackingEvent]) -> None:
    payload = fixture("tracking_grouped_batch.json")
    assert post(payload).status_code == 200
    assert [
        (event.event_type, event.message_id, event.recipient, event.tags, event.metadata)
        for event in events
    ] == [
        ("delivered", MESSAGE_ID, "to@example.com", ["shipping"], METADATA),
        ("opened", MESSAGE_ID, "to@example.com", ["shipping"], METADATA),
        # Empty customcampaign and Payload: no tags, no metadata.
        ("delivered", "576460752303423502", "bob@example.com", [], {}),
    ]
    assert [event.esp_event for event in events] == payload


def test_empty_grouped_post_is_acknowledged(events: list[AnymailTrackingEvent]) -> None:
    assert post(fixture("tracking_grouped_empty.json")).status_code == 200
    assert events == []


# --- tracking: the mapping tables -----------------------------------------------------------


@pytest.mark.parametrize(
    ("event", "event_type"),
    [
        ("sent", "delivered"),
        ("open", "opened"),
        ("click", "clicked"),
        ("bounce", "bounced"),
        ("blocked", "rejected"),
        ("spam", "complained"),
        ("unsub", "unsubscribed"),
        ("some_future_event", "unknown"),
    ],
)
def test_event_types(event: str, event_type: str) -> None:
    assert post_event({**fixture("tracking_sent.json"), "event": event}).event_type == event_type


@pytest.mark.parametrize(
    ("error", "reject_reason"),
    [
        ("user unknown", "bounced"),
        ("mailbox inactive", "bounced"),
        ("quota exceeded", "bounced"),
        ("blacklisted", "blocked"),
        ("spam reporter", "spam"),
        ("invalid domain", "bounced"),
        ("no mail host", "bounced"),
        ("relay/access denied", "bounced"),
        ("greylisted", "other"),
        ("typofix", "invalid"),
        ("sender blocked", "blocked"),
        ("content blocked", "blocked"),
        ("policy issue", "blocked"),
        ("preblocked", "blocked"),
        ("duplicate in campaign", "other"),
        ("bad or empty template", "other"),
        ("error in template language", "other"),
        ("system issue", "other"),
        ("protocol issue", "other"),
        ("connection issue", "other"),
        ("some future error", "other"),
    ],
)
def test_reject_reasons(error: str, reject_reason: str) -> None:
    for name in ("tracking_bounce_hard.json", "tracking_blocked.json"):
        event = post_event({**fixture(name), "error": error, "hard_bounce": True})
        assert (event.reject_reason, event.description) == (reject_reason, error)


def test_hard_greylisted_bounce_is_bounced() -> None:
    payload = {**fixture("tracking_bounce_soft_greylisted.json"), "hard_bounce": True}
    event = post_event(payload)
    assert (event.event_type, event.reject_reason) == ("bounced", "other")


def test_bounce_without_error_has_no_reject_reason() -> None:
    payload = fixture("tracking_bounce_hard.json")
    del payload["error"], payload["error_related_to"]
    event = post_event(payload)
    assert (event.event_type, event.reject_reason, event.description) == ("bounced", None, None)


@pytest.mark.parametrize(
    ("payload", "metadata"),
    [
        ('{"order_id": "12345", "items": [1, 2]}', {"order_id": "12345", "items": [1, 2]}),
        ("", {}),
        (None, {}),
        ("not json", {}),  # set by other software: not metadata, not refused either
        ("[1, 2]", {}),
        ('"text"', {}),
        ("[" * 100 + "]" * 100, {}),
    ],
)
def test_metadata_from_event_payload(payload: str | None, metadata: dict[str, Any]) -> None:
    event = post_event({**fixture("tracking_sent.json"), "Payload": payload})
    assert event.metadata == metadata


def test_sandbox_message_id_zero_is_no_message_id() -> None:
    assert post_event({**fixture("tracking_sent.json"), "MessageID": 0}).message_id is None


# --- tracking: duplicates -------------------------------------------------------------------


def test_retried_batch_dispatches_only_new_events(events: list[AnymailTrackingEvent]) -> None:
    batch = fixture("tracking_grouped_batch.json")
    assert post(batch[:2]).status_code == 200
    # Mailjet retries (and may regroup): events already handled are skipped.
    assert post(batch).status_code == 200
    assert post(fixture("tracking_open.json")).status_code == 200
    assert [event.recipient for event in events] == [
        "to@example.com",
        "to@example.com",
        "bob@example.com",
    ]


def test_events_differing_in_one_field_are_both_dispatched(
    events: list[AnymailTrackingEvent],
) -> None:
    first = fixture("tracking_open.json")
    assert post([first, {**first, "time": first["time"] + 1}]).status_code == 200
    assert len(events) == 2


# --- tracking: misrouting and refusals ------------------------------------------------------


def test_inbound_post_at_the_tracking_url_is_a_configuration_error(events: list[Any]) -> None:
    payload = fixture("inbound_parse.json")
    with pytest.raises(AnymailConfigurationError, match="/anymail/mailjet/inbound/"):
        post(payload)
    # 500, so that Mailjet keeps the message for its retries while the route is fixed.
    assert post(payload, client=Client(raise_request_exception=False)).status_code == 500
    assert events == []


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        ([{"time": 1768469431}], b"body[0].event is missing."),
        ([fixture_json("mailjet", "tracking_sent.json"), 7], b"body[1] should be an object"),
        (
            {"event": "sent", "time": 1768469431, "MessageID": "576460752303423489"},
            b"MessageID should be a whole",
        ),
        ({"event": "sent", "time": "yesterday"}, b"body.time should be a Unix time"),
    ],
)
def test_malformed_events_are_refused(payload: Any, reason: bytes, events: list[Any]) -> None:
    response = post(payload)
    assert response.status_code == 400
    assert reason in response.content
    assert events == []  # not even the valid events of the batch


# --- joining events to sends ----------------------------------------------------------------


def test_events_join_the_send_by_message_id_with_its_tags_and_metadata(
    mocked_responses: responses.RequestsMock,
) -> None:
    add_response(
        mocked_responses, "https://api.mailjet.com/v3.1/send", fixture("send_success.json")
    )
    message = AnymailMessage(
        "Subject",
        "Body",
        "from@example.com",
        ["to@example.com"],
        cc=["cc@example.com"],
        bcc=["bcc@example.com"],
        tags=["shipping"],
        metadata={"order_id": "12345", "quantity": 2, "gift": True},
        connection=get_connection("anymail.backends.mailjet.EmailBackend"),
    )
    message.send()
    sent = only_request_json(mocked_responses)["Globals"]
    status = message.anymail_status.recipients
    # Mailjet echoes EventPayload as "Payload" and CustomCampaign as "customcampaign".
    batch = [
        {
            **fixture("tracking_sent.json"),
            "email": address,
            "MessageID": int(status[address].message_id),
            "customcampaign": sent["CustomCampaign"],
            "Payload": sent["EventPayload"],
        }
        for address in ("to@example.com", "cc@example.com", "bcc@example.com")
    ]
    events = post_events(batch)
    assert [(event.recipient, event.message_id) for event in events] == [
        (address, status[address].message_id) for address in status
    ]
    assert all(event.tags == message.tags for event in events)
    assert all(event.metadata == message.metadata for event in events)


# --- inbound ----------------------------------------------------------------------------------


post_inbound = functools.partial(received_inbound, post)


def test_inbound_parse() -> None:
    payload = fixture("inbound_parse.json")
    event = post_inbound(payload)
    assert (event.event_type, event.event_id, event.timestamp) == ("inbound", None, None)
    assert event.esp_event == payload
    message = event.message
    assert isinstance(message, AnymailInboundMessage)
    assert headline(message) == ORDER_QUESTION
    assert message["Reply-To"] == "replies@example.org"
    assert message["Message-ID"] == "<CAinbound0001@mail.example.org>"
    # A list value is a repeated header, in order.
    assert message.get_all("Received") == [
        "from mail.example.org by parse.mailjet.com; Thu, 15 Jan 2026 10:00:01 +0000",
        "by 10.0.0.1 with HTTP; Thu, 15 Jan 2026 10:00:00 +0000",
    ]
    assert message.text == "Hi, where is my order?\n"
    assert message.html == "<div>Hi, where is my order?</div>\n"
    assert message.envelope_sender == "bounces+abc@example.org"
    assert message.envelope_recipient == "support@parse-in1.mailjet.com"
    assert message.spam_score == 0.602
    assert message.spam_detected is None  # Mailjet gives a score, no verdict
    assert (message.stripped_text, message.stripped_html) == (None, None)
    assert message.attachments == message.inlines == []


def test_inbound_parse_attachments() -> None:
    message = post_inbound(fixture("inbound_parse_attachments.json")).message
    assert message.text == "See attached.\n"
    assert message.html == '<div>See attached. <img src="cid:logo@example.org"></div>\n'
    assert message.spam_score == 1.7
    assert parts(message.attachments) == [
        ("invoice.txt", "text/plain", "Invoice 12345: total 42.00 €\n")
    ]
    [inline] = message.inlines
    assert (inline.get_filename(), inline.get_content_type()) == ("logo.gif", "image/gif")
    assert inline.get_content_bytes().startswith(b"GIF89a")
    assert message.content_id_map == {"logo@example.org": inline}


@pytest.mark.parametrize(
    ("score", "expected"), [("-1.5", -1.5), ("", None), ("n/a", None), ("inf", None)]
)
def test_inbound_spam_score(score: str, expected: float | None) -> None:
    payload = {**fixture("inbound_parse.json"), "SpamAssassinScore": score}
    assert post_inbound(payload).message.spam_score == expected


def test_inbound_attachment_refs_that_are_not_attachments_are_ignored() -> None:
    payload = fixture("inbound_parse_attachments.json")
    payload["Parts"].append({"Headers": {"Content-Type": "text/plain"}, "ContentRef": "Subject"})
    message = post_inbound(payload).message
    assert [part.get_filename() for part in message.attachments] == ["invoice.txt"]


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"Attachment1": "not base64!"}, b"body.Attachment1 is not valid base64."),
        ({"Attachment1": None}, b"body.Attachment1 is null."),
        ({"Headers": {"Bad Name": "x"}}, b"body.Headers.Bad Name is not a valid header name."),
        ({"Headers": {"X-Count": 7}}, b"body.Headers.X-Count should be text"),
    ],
)
def test_inbound_malformed_is_refused(
    change: dict[str, Any], reason: bytes, messages: list[Any]
) -> None:
    response = post({**fixture("inbound_parse_attachments.json"), **change}, "inbound")
    assert response.status_code == 400
    assert reason in response.content
    assert messages == []


def test_tracking_post_at_the_inbound_url_is_a_configuration_error(messages: list[Any]) -> None:
    with pytest.raises(AnymailConfigurationError, match="/anymail/mailjet/tracking/"):
        post(fixture("tracking_sent.json"), "inbound")
    assert messages == []
