"""Postmark's tracking and inbound webhooks: every fixture, the mapping tables, security."""

from __future__ import annotations

import base64
import functools
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from django.core.mail import get_connection
from django.test import Client

from anymail.exceptions import AnymailConfigurationError
from anymail.inbound import AnymailInboundMessage
from anymail.message import AnymailMessage
from anymail.signals import AnymailInboundEvent, AnymailTrackingEvent, tracking
from anymail.testing import captured_events, webhook_request
from tests.utils import PNG, add_response, fixture_json, only_request_json

from .support import (
    DISPLAYED_FROM,
    assert_refused,
    fixture_names,
    headline,
    named,
    parts,
    poster,
    received_inbound,
    signal_calls,
    tracked_event,
)

SECRET = "postmarkpostmark:postmarkpostmark"
EST = timezone(timedelta(hours=-5))
TRACKING_FIXTURES = fixture_names("postmark", "tracking_*")
INBOUND_FIXTURES = fixture_names("postmark", "inbound_*")


@pytest.fixture(autouse=True)
def webhook_secret(settings: Any) -> None:
    settings.ANYMAIL = {"WEBHOOK_SECRET": SECRET, "POSTMARK_SERVER_TOKEN": "server-token"}


def fixture(name: str) -> Any:
    return fixture_json("postmark", name)


post = poster("postmark")


post_event = functools.partial(tracked_event, post)


# --- tracking: every fixture --------------------------------------------------------------

MESSAGE_1 = "0a1b2c3d-0000-4000-8000-000000000001"
#: What the open and the click of MESSAGE_1 (a welcome email) have in common.
WELCOME_EMAIL = {
    "event_id": None,
    "message_id": MESSAGE_1,
    "recipient": "to@example.com",
    "reject_reason": None,
    "description": None,
    "mta_response": None,
    "tags": ["welcome-email"],
    "metadata": {"order_id": "12345"},
}
TRACKING_EXPECTED: dict[str, dict[str, Any]] = {
    "tracking_delivery.json": {
        "event_type": "delivered",
        "timestamp": datetime(2026, 3, 2, 14, 5, 9, 396393, tzinfo=EST),
        "event_id": None,
        "message_id": MESSAGE_1,
        "recipient": "to@example.com",
        "reject_reason": None,
        "description": None,
        "mta_response": "smtp;250 2.0.0 OK 1772478309 abc123.456 - gsmtp",
        "tags": ["welcome-email"],
        "metadata": {"order_id": "12345", "user_id": "42"},
        "click_url": None,
        "user_agent": None,
    },
    "tracking_bounce_hard.json": {
        "event_type": "bounced",
        "timestamp": datetime(2026, 3, 2, 14, 6, 10, 123456, tzinfo=EST),
        "event_id": "4323372036854775807",
        "message_id": MESSAGE_1,
        "recipient": "bounce@example.com",
        "reject_reason": "bounced",
        "description": "The server was unable to deliver your message "
        "(ex: unknown user, mailbox not found).",
        "mta_response": "smtp;550 5.1.1 The email account that you tried to reach does not exist.",
        "tags": ["welcome-email"],
        "metadata": {"order_id": "12345"},
        "click_url": None,
        "user_agent": None,
    },
    "tracking_bounce_transient.json": {
        "event_type": "deferred",
        "timestamp": datetime(2026, 3, 2, 14, 7, tzinfo=UTC),
        "event_id": "4323372036854775808",
        "message_id": "0a1b2c3d-0000-4000-8000-000000000005",
        "recipient": "slow@example.com",
        "reject_reason": None,
        "description": "The server could not temporarily deliver your message "
        "(ex: Message is delayed due to network troubles).",
        "mta_response": "smtp;451 4.4.1 Temporary failure, please try again later",
        "tags": [],  # "Tag": "" is no tag
        "metadata": {},
        "click_url": None,
        "user_agent": None,
    },
    "tracking_bounce_blocked.json": {
        "event_type": "rejected",
        "timestamp": datetime(2026, 3, 2, 14, 8, tzinfo=UTC),
        "event_id": "4323372036854775809",
        "message_id": "0a1b2c3d-0000-4000-8000-000000000006",
        "recipient": "blocked@example.net",
        "reject_reason": "blocked",
        "description": "The ISP blocked the message.",
        "mta_response": "smtp;554 5.7.1 Message rejected due to content restrictions",
        "tags": [],  # no Tag or Metadata keys at all
        "metadata": {},
        "click_url": None,
        "user_agent": None,
    },
    "tracking_spam_complaint.json": {
        "event_type": "complained",
        "timestamp": datetime(2026, 3, 2, 15, 0, tzinfo=EST),
        "event_id": "4323372036854775810",
        "message_id": "0a1b2c3d-0000-4000-8000-000000000007",
        "recipient": "complainer@example.com",
        "reject_reason": "spam",
        "description": "The subscriber explicitly marked this message as spam.",
        "mta_response": "Test spam complaint details",
        "tags": ["newsletter"],
        "metadata": {"user_id": "42"},
        "click_url": None,
        "user_agent": None,
    },
    "tracking_open.json": {
        "event_type": "opened",
        "timestamp": datetime(2026, 3, 2, 16, 21, 41, 249368, tzinfo=EST),
        **WELCOME_EMAIL,
        "click_url": None,
        "user_agent": "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_0) AppleWebKit/537.36 "
        "(KHTML, like Gecko) Chrome/120.0 Safari/537.36",
    },
    "tracking_click.json": {
        "event_type": "clicked",
        "timestamp": datetime(2026, 3, 2, 21, 21, 11, 906561, tzinfo=UTC),
        **WELCOME_EMAIL,
        "click_url": "https://example.com/orders/12345?utm_source=email",
        "user_agent": "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:121.0) "
        "Gecko/20100101 Firefox/121.0",
    },
    "tracking_subscription_unsubscribe.json": {
        "event_type": "unsubscribed",
        "timestamp": datetime(2026, 3, 3, 10, 11, 12, tzinfo=UTC),
        "event_id": None,
        "message_id": "0a1b2c3d-0000-4000-8000-000000000008",
        "recipient": "leaver@example.com",
        "reject_reason": "unsubscribed",
        "tags": ["newsletter"],
        "metadata": {"user_id": "77"},
    },
    "tracking_subscription_resubscribe.json": {
        "event_type": "subscribed",
        "timestamp": datetime(2026, 3, 4, 10, 11, 12, tzinfo=UTC),
        "event_id": None,
        "message_id": "0a1b2c3d-0000-4000-8000-000000000009",
        "recipient": "returner@example.com",
        "reject_reason": None,
        "tags": ["newsletter"],
        "metadata": {},
    },
    "tracking_subscription_hardbounce.json": {
        "event_type": "bounced",
        "timestamp": datetime(2026, 3, 5, 10, 11, 12, tzinfo=UTC),
        "event_id": None,
        "message_id": "0a1b2c3d-0000-4000-8000-00000000000a",
        "recipient": "gone@example.com",
        "reject_reason": "bounced",
        "tags": [],
        "metadata": {},
    },
}


def test_every_tracking_fixture_has_expectations() -> None:
    assert sorted(TRACKING_EXPECTED) == TRACKING_FIXTURES


@pytest.mark.parametrize("name", sorted(TRACKING_EXPECTED))
def test_tracking_fixture(name: str, events: list[AnymailTrackingEvent]) -> None:
    payload = fixture(name)
    response = post(payload)
    assert response.status_code == 200
    assert len(events) == 1
    event = events[0]
    expected = TRACKING_EXPECTED[name]
    assert {field: getattr(event, field) for field in expected} == expected
    assert event.timestamp is not None and event.timestamp.utcoffset() is not None
    assert event.esp_event == payload


def test_signal_arguments() -> None:
    with signal_calls(tracking) as received:
        assert post(fixture("tracking_delivery.json")).status_code == 200
    from anymail.webhooks.postmark import PostmarkTrackingWebhookView

    assert [(kwargs["sender"], kwargs["esp_name"]) for kwargs in received] == [
        (PostmarkTrackingWebhookView, "Postmark")
    ]


# --- tracking: the mapping tables -----------------------------------------------------------

BOUNCE_TYPES = [
    # (Type, event_type, reject_reason), from Postmark's bounce-type list
    ("HardBounce", "bounced", "bounced"),
    ("Transient", "deferred", None),
    ("Unsubscribe", "unsubscribed", "unsubscribed"),
    ("Subscribe", "subscribed", None),
    ("AutoResponder", "autoresponded", None),
    ("AddressChange", "autoresponded", None),
    ("DnsError", "deferred", None),
    ("SpamNotification", "complained", "spam"),
    ("OpenRelayTest", "deferred", None),
    ("Unknown", "unknown", None),
    ("SoftBounce", "bounced", "bounced"),
    ("VirusNotification", "bounced", "other"),
    ("ChallengeVerification", "autoresponded", None),
    ("BadEmailAddress", "rejected", "invalid"),
    ("SpamComplaint", "complained", "spam"),
    ("ManuallyDeactivated", "rejected", "blocked"),
    ("Unconfirmed", "rejected", None),
    ("Blocked", "rejected", "blocked"),
    ("SMTPApiError", "failed", None),
    ("InboundError", "unknown", None),
    ("DMARCPolicy", "rejected", "blocked"),
    ("TemplateRenderingFailed", "failed", None),
    ("SomeFutureType", "bounced", None),
]


@pytest.mark.parametrize(("bounce_type", "event_type", "reject_reason"), BOUNCE_TYPES)
def test_bounce_types(bounce_type: str, event_type: str, reject_reason: str | None) -> None:
    # Mapped by Type, never by TypeCode (sources disagree on the codes).
    payload = {**fixture("tracking_bounce_hard.json"), "Type": bounce_type, "TypeCode": 1}
    event = post_event(payload)
    assert (event.event_type, event.reject_reason) == (event_type, reject_reason)


def test_bounce_without_type_is_a_bounce() -> None:
    payload = fixture("tracking_bounce_hard.json")
    del payload["Type"]
    event = post_event(payload)
    assert (event.event_type, event.reject_reason) == ("bounced", None)


@pytest.mark.parametrize(
    ("suppress_sending", "reason", "event_type", "reject_reason"),
    [
        (True, "ManualSuppression", "unsubscribed", "unsubscribed"),
        (True, "HardBounce", "bounced", "bounced"),
        (True, "SpamComplaint", "complained", "spam"),
        (True, "SomethingElse", "unsubscribed", None),
        (True, None, "unsubscribed", None),
        ("missing", "ManualSuppression", "unsubscribed", "unsubscribed"),
        (False, None, "subscribed", None),
    ],
)
def test_subscription_changes(
    suppress_sending: Any, reason: str | None, event_type: str, reject_reason: str | None
) -> None:
    payload = {**fixture("tracking_subscription_unsubscribe.json"), "SuppressionReason": reason}
    if suppress_sending == "missing":
        del payload["SuppressSending"]
    else:
        payload["SuppressSending"] = suppress_sending
    event = post_event(payload)
    assert (event.event_type, event.reject_reason) == (event_type, reject_reason)


def test_unknown_record_type_is_dispatched_as_unknown() -> None:
    payload = {**fixture("tracking_delivery.json"), "RecordType": "SomeFutureRecord"}
    event = post_event(payload)
    assert event.event_type == "unknown"
    assert event.message_id == MESSAGE_1
    assert event.esp_event == payload


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2026-03-02T14:05:09.3963933-05:00", datetime(2026, 3, 2, 14, 5, 9, 396393, tzinfo=EST)),
        ("2026-03-02T19:05:09Z", datetime(2026, 3, 2, 19, 5, 9, tzinfo=UTC)),
        ("2026-03-02T19:05:09", datetime(2026, 3, 2, 19, 5, 9, tzinfo=UTC)),  # no offset: UTC
        ("not a date", None),  # unparsable: left out, not refused (a 400 loses the event)
        ("2026-13-45T00:00:00Z", None),
    ],
)
def test_timestamps(value: str, expected: datetime | None) -> None:
    event = post_event({**fixture("tracking_delivery.json"), "DeliveredAt": value})
    assert event.timestamp == expected
    if expected is not None:
        assert event.timestamp is not None and event.timestamp.utcoffset() is not None


def test_timestamp_of_the_wrong_type_is_refused(events: list[AnymailTrackingEvent]) -> None:
    response = post({**fixture("tracking_delivery.json"), "DeliveredAt": 1772478309})
    assert_refused(response, events, b"body.DeliveredAt should be text")


# Postmark posts a sample event for each trigger when a webhook is created or edited,
# and keeps the webhook only if each is answered 200.
# Like Postmark's samples, they name a message and a recipient, but little else.
TEST_MESSAGE = {"MessageID": "00000000-0000-0000-0000-000000000000"}
TEST_EMAIL, TEST_RECIPIENT = {"Email": "john@example.com"}, {"Recipient": "john@example.com"}
WEBHOOK_TEST_POSTS = [
    {"RecordType": "Delivery", **TEST_MESSAGE, **TEST_RECIPIENT},
    {"RecordType": "Bounce", "ID": 42, "Type": "HardBounce", **TEST_MESSAGE, **TEST_EMAIL},
    {
        "RecordType": "SpamComplaint",
        "ID": 43,
        "Type": "SpamComplaint",
        **TEST_MESSAGE,
        **TEST_EMAIL,
    },
    {"RecordType": "Open", "FirstOpen": True, **TEST_MESSAGE, **TEST_RECIPIENT},
    {
        "RecordType": "Click",
        "OriginalLink": "https://example.com",
        **TEST_MESSAGE,
        **TEST_RECIPIENT,
    },
    {"RecordType": "SubscriptionChange", "SuppressSending": True, **TEST_MESSAGE, **TEST_RECIPIENT},
]


@pytest.mark.parametrize("payload", WEBHOOK_TEST_POSTS, ids=lambda p: p["RecordType"])
def test_webhook_creation_test_posts_are_answered_200(payload: dict[str, Any]) -> None:
    event = post_event(payload)
    assert event.esp_event == payload


# --- tracking: event ids and duplicates -----------------------------------------------------

TRACE = "X-PM-Webhook-Trace-Id"


def test_trace_header_is_the_event_id_of_records_without_an_id() -> None:
    event = post_event(fixture("tracking_open.json"), headers={TRACE: "5f1c-trace-0001"})
    assert event.event_id == "5f1c-trace-0001"
    # A bounce record's own ID wins.
    event = post_event(fixture("tracking_bounce_hard.json"), headers={TRACE: "5f1c-trace-0002"})
    assert event.event_id == "4323372036854775807"


@pytest.mark.parametrize("value", ["has space", "x" * 201, "tab\tchar", "café"])
def test_trace_header_that_is_not_an_id_is_ignored(value: str) -> None:
    # Django's test client sends header values as given; a server might too.
    request = webhook_request("postmark", fixture("tracking_open.json"))
    with captured_events(tracking) as received:
        response = Client().post(
            "/anymail/postmark/tracking/",
            request.body,
            content_type="application/json",
            headers={**request.headers, TRACE: value},
        )
    assert response.status_code == 200
    assert received[0].event_id is None


def test_retry_of_a_post_is_not_dispatched_again(events: list[AnymailTrackingEvent]) -> None:
    for payload in (fixture("tracking_open.json"), fixture("tracking_bounce_hard.json")):
        request = webhook_request("postmark", payload, headers={TRACE: "trace-retry"})
        for retries_remaining in ("6", "5"):
            retry = request.with_headers({"X-PM-Retries-Remaining": retries_remaining})
            assert retry.post(Client(), "postmark_tracking_webhook").status_code == 200
    assert [event.event_type for event in events] == ["opened", "bounced"]


def test_bounce_record_id_dedupes_even_if_the_body_changed(
    events: list[AnymailTrackingEvent],
) -> None:
    payload = fixture("tracking_bounce_hard.json")
    assert post(payload).status_code == 200
    assert post({**payload, "Inactive": False, "CanActivate": False}).status_code == 200
    assert len(events) == 1


def test_a_repeated_trace_id_never_drops_a_different_event(
    events: list[AnymailTrackingEvent],
) -> None:
    # The trace header is documented but unverified: events it names are deduplicated
    # by their content, so a trace id that repeated could not make events vanish.
    first = fixture("tracking_open.json")
    second = {**first, "ReceivedAt": "2026-03-02T16:25:00.0000000-05:00", "FirstOpen": False}
    assert post(first, headers={TRACE: "same-trace"}).status_code == 200
    assert post(second, headers={TRACE: "same-trace"}).status_code == 200
    assert [event.timestamp for event in events] == [
        datetime(2026, 3, 2, 16, 21, 41, 249368, tzinfo=EST),
        datetime(2026, 3, 2, 16, 25, tzinfo=EST),
    ]


# --- tracking: misrouting and refusals ------------------------------------------------------


@pytest.mark.parametrize(
    "payload",
    [fixture_json("postmark", "inbound_parsed.json"), {"RecordType": "Inbound"}],
    ids=["inbound-message", "record-type-inbound"],
)
def test_inbound_post_at_the_tracking_url_is_a_configuration_error(
    payload: dict[str, Any], events: list[AnymailTrackingEvent]
) -> None:
    with pytest.raises(AnymailConfigurationError, match="/anymail/postmark/inbound/"):
        post(payload)
    # A 500 (not a 400): once the URL is fixed, Postmark's retries deliver the message.
    assert post(payload, client=Client(raise_request_exception=False)).status_code == 500
    assert events == []


def test_post_without_record_type_is_refused(events: list[AnymailTrackingEvent]) -> None:
    payload = fixture("tracking_delivery.json")
    del payload["RecordType"]
    response = post(payload)
    assert response.status_code == 400
    assert response.content == b"Malformed Postmark webhook payload: body.RecordType is missing."
    assert events == []


# --- joining events to sends ----------------------------------------------------------------


def test_events_join_the_send_by_message_id_with_its_tags_and_metadata(
    mocked_responses: Any,
) -> None:
    add_response(
        mocked_responses, "https://api.postmarkapp.com/email", fixture("send_success.json")
    )
    message = AnymailMessage(
        "Subject",
        "Body",
        "from@example.com",
        ["to@example.com"],
        tags=["welcome-email"],
        metadata={"order_id": "12345", "user_id": "42"},
        connection=get_connection("anymail.backends.postmark.EmailBackend"),
    )
    message.send()
    sent = only_request_json(mocked_responses)
    # What Postmark echoes back in its events: the Tag and Metadata it was sent.
    event = post_event(
        {
            **fixture("tracking_delivery.json"),
            "MessageID": message.anymail_status.message_id,
            "Tag": sent["Tag"],
            "Metadata": sent["Metadata"],
        }
    )
    assert event.message_id == message.anymail_status.message_id
    assert event.message_id == message.anymail_status.recipients["to@example.com"].message_id
    assert event.tags == message.tags
    assert event.metadata == message.metadata


# --- inbound ----------------------------------------------------------------------------------


post_inbound = functools.partial(received_inbound, post)


def test_inbound_parsed(messages: list[AnymailInboundEvent]) -> None:
    payload = fixture("inbound_parsed.json")
    event = post_inbound(payload)
    assert event.event_type == "inbound"
    assert event.event_id == "0a1b2c3d-0000-4000-8000-0000000000aa"  # Postmark's MessageID
    assert event.timestamp is None
    assert event.esp_event == payload
    message = event.message
    assert isinstance(message, AnymailInboundMessage)
    # Postmark moves Date and Reply-To out of Headers: they are put back.
    assert headline(message) == {
        **DISPLAYED_FROM,
        "subject": "Question about order 12345",
        "date": datetime(2026, 3, 2, 9, 10, 11, tzinfo=timezone(timedelta(hours=1))),
    }
    assert message["Bcc"] is None  # BccFull is empty: no empty header
    assert message["Reply-To"] == "reply@example.org"
    assert message["Message-ID"] == "<CAF00000000000000@mail.example.org>"
    assert message.get_all("Received") == [
        "by p-pm-inboundg01.example.net (Postfix, from userid 996) id 4F00; "
        "Mon,  2 Mar 2026 08:10:12 +0000 (UTC)"
    ]
    assert message.text == "Where is my order?\n\n> old quoted text\n"
    assert message.html == "<div>Where is my order?</div>"
    assert message.stripped_text == "Where is my order?"
    assert message.stripped_html is None
    # Headers[0], Return-Path, is Postmark's envelope sender: not kept as a header.
    assert message.envelope_sender == "bounces@example.org"
    assert message["Return-Path"] is None
    assert message.envelope_recipient == "support@inbound.example.com"
    assert message.spam_detected is False
    assert message.spam_score == -0.1
    assert parts(message.attachments) == [("note.txt", "text/plain", "Hello, attachment ✓\n")]
    pixel = base64.b64decode(payload["Attachments"][1]["Content"])
    assert parts(message.inlines) == [("pixel.png", "image/png", pixel)]
    assert message.content_id_map == {"pixel@example.org": message.inlines[0]}


def test_inbound_display_names_with_specials_survive() -> None:
    payload = fixture("inbound_parsed.json")
    payload["FromFull"]["Name"] = 'Zoë "Z" Smith, Esq.'
    payload["ToFull"][1]["Name"] = "Ops \\ Support"
    message = post_inbound(payload).message
    assert named(message.from_email) == [('Zoë "Z" Smith, Esq.', "from+test@example.org")]
    assert named(message.to) == [
        ("Support Team", "support@inbound.example.com"),
        ("Ops \\ Support", "other@example.com"),
    ]


def test_inbound_raw_email_is_parsed_as_bytes() -> None:
    event = post_inbound(fixture("inbound_raw.json"))
    message = event.message
    assert event.event_id == "0a1b2c3d-0000-4000-8000-0000000000ab"
    assert message.subject == "Café question"
    assert message.text == "Café? ☕\n"  # 8-bit UTF-8 body intact
    assert message["Message-ID"] == "<CAF00000000000001@mail.example.org>"
    # The Return-Path inside RawEmail is the sender's: the envelope comes from Headers[0].
    assert message.envelope_sender == "bounces@example.org"
    assert message["Return-Path"] == "<forged@attacker.example.net>"
    # The delivered-to address, only in BccFull, is added as Bcc.
    assert message["Bcc"] == "archive@inbound.example.com"
    assert message.envelope_recipient == "archive@inbound.example.com"
    assert message.stripped_text == ""
    assert message.spam_detected is True
    assert message.spam_score == 6.2
    assert message.attachments == []


def test_inbound_raw_email_keeps_its_own_bcc() -> None:
    payload = fixture("inbound_raw.json")
    payload["RawEmail"] = payload["RawEmail"].replace(
        "Subject:", "Bcc: other@inbound.example.com\nSubject:", 1
    )
    message = post_inbound(payload).message
    assert message.get_all("Bcc") == ["other@inbound.example.com"]


def test_inbound_check_button_payload() -> None:
    # The dashboard's "Check" button posts attachments with "Data", not "Content".
    message = post_inbound(fixture("inbound_check_button.json")).message
    assert message.from_email is not None
    assert message.from_email.display_name == "Postmarkapp Support"
    assert message.from_email.addr_spec == "support@postmarkapp.com"
    assert [to.addr_spec for to in message.to] == ["mailbox+SampleHash@inbound.postmarkapp.com"]
    assert message.cc == []
    assert message["Cc"] is None
    assert message["X-Header-Test"] == ""
    assert message["Reply-To"] == "replyto@example.com"
    assert message.envelope_sender is None  # no Return-Path first in Headers
    assert message.spam_detected is False  # no X-Spam-Status: Postmark's sample
    assert message.spam_score is None
    [attachment] = message.attachments
    assert attachment.get_filename() == "test.txt"
    assert attachment.get_content_bytes() == b"This is attachment contents, base-64 encoded."


@pytest.mark.parametrize(
    ("status", "score", "detected", "expected_score"),
    [
        ("Yes, score=6.2 required=5.0 tests=HTML_MESSAGE", "6.2", True, 6.2),
        ("No, score=-0.1 required=5.0", "-0.1", False, -0.1),
        ("Yes", "not a number", True, None),
        ("yesterday", "nan", False, None),
    ],
)
def test_inbound_spam_headers(
    status: str, score: str, detected: bool, expected_score: float | None
) -> None:
    payload = fixture("inbound_parsed.json")
    for header in payload["Headers"]:
        if header["Name"] == "X-Spam-Status":
            header["Value"] = status
        if header["Name"] == "X-Spam-Score":
            header["Value"] = score
    message = post_inbound(payload).message
    assert (message.spam_detected, message.spam_score) == (detected, expected_score)


def test_inbound_return_path_elsewhere_in_headers_is_not_the_envelope() -> None:
    payload = fixture("inbound_parsed.json")
    payload["Headers"].append(payload["Headers"].pop(0))
    message = post_inbound(payload).message
    assert message.envelope_sender is None
    assert message["Return-Path"] == "<bounces@example.org>"


def test_inbound_attachment_filename_line_breaks_are_cleaned() -> None:
    payload = fixture("inbound_parsed.json")
    payload["Attachments"][0]["Name"] = "quarterly\r\n report.pdf"
    message = post_inbound(payload).message
    assert message.attachments[0].get_filename() == "quarterly report.pdf"


def test_inbound_attachment_with_invalid_base64_is_refused(messages: list[Any]) -> None:
    payload = fixture("inbound_parsed.json")
    payload["Attachments"][0]["Content"] = "not base64!"
    response = post(payload, "inbound")
    assert response.status_code == 400
    assert response.content == (
        b"Malformed Postmark webhook payload: body.Attachments[0].Content is not valid base64."
    )
    assert messages == []


def test_inbound_message_over_djangos_form_limit_is_received() -> None:
    # 3 MB of attachment: over DATA_UPLOAD_MAX_MEMORY_SIZE's 2.5 MB default, far under
    # Postmark's 35 MB. A 400 here would lose the message (Postmark doesn't retry 4xx).
    payload = fixture("inbound_parsed.json")
    content = PNG * (3 * 1024 * 1024 // len(PNG))
    payload["Attachments"][1]["Content"] = base64.b64encode(content).decode("ascii")
    message = post_inbound(payload).message
    assert message.inlines[0].get_content_bytes() == content


def test_tracking_post_at_the_inbound_url_is_a_configuration_error(messages: list[Any]) -> None:
    with pytest.raises(AnymailConfigurationError, match="/anymail/postmark/tracking/"):
        post(fixture("tracking_delivery.json"), "inbound")
    assert messages == []
