"""SparkPost's event webhooks (tracking) and relay webhooks (inbound)."""

from __future__ import annotations

import base64
import copy
import functools
import json
from datetime import UTC, datetime
from typing import Any

import pytest
import responses
from django.core.cache import caches
from django.test import Client, RequestFactory

from anymail.backends.sparkpost import EmailBackend
from anymail.exceptions import (
    AnymailConfigurationError,
    AnymailImproperlyConfigured,
)
from anymail.signals import AnymailInboundEvent, AnymailTrackingEvent, tracking
from anymail.testing import captured_events, json_webhook_request
from anymail.webhooks.sparkpost import SparkPostTrackingWebhookView
from tests.utils import FIXTURES_DIR, add_response, fixture_json, make_message, only_request_json

from .support import fixture_names, poster, received_inbound, tracked

SECRET = "sparkpostspark:postsparkpostsp"
TRANSMISSIONS_URL = "https://api.sparkpost.com/api/v1/transmissions/"
FIXTURES = fixture_names("sparkpost", "tracking*.json", "inbound*.json")
TRANSMISSION_ID = "7318265432183591"
METADATA = {"order_id": "12345", "user_id": "42"}


@pytest.fixture(autouse=True)
def webhook_secret(settings: Any) -> None:
    settings.ANYMAIL = {"WEBHOOK_SECRET": SECRET}


def fixture(name: str) -> Any:
    return fixture_json("sparkpost", name)


post = poster("sparkpost")


def wrapped(category: str, **fields: Any) -> dict[str, Any]:
    return {"msys": {category: fields}}


post_events = functools.partial(tracked, post)


def at(epoch: int) -> datetime:
    return datetime.fromtimestamp(epoch, UTC)


# --- tracking: every event of the fixture batch -------------------------------------------

BOUNCE_REASON = "550 5.1.1 <nobody@example.net>: Recipient address rejected: User unknown"
RENDER_ERROR = (
    "554 5.3.3 [internal] Error while rendering part html: "
    "substitution value 'order_no' did not exist or was null"
)
IPHONE = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X)"
WINDOWS = "Mozilla/5.0 (Windows NT 10.0; Win64; x64)"
AMP = "Mozilla/5.0 (AMP)"


def expect(
    event_type: str,
    timestamp: datetime,
    recipient: str = "To@Example.com",
    reject_reason: str | None = None,
    description: str | None = None,
    mta_response: str | None = None,
    click_url: str | None = None,
    user_agent: str | None = None,
) -> tuple[Any, ...]:
    """An event's (event_type, timestamp, recipient, reject_reason, description,
    mta_response, click_url, user_agent): None where not given, the recipient the batch
    mostly tracks."""
    return (
        event_type,
        timestamp,
        recipient,
        reject_reason,
        description,
        mta_response,
        click_url,
        user_agent,
    )


def refusal(event_type: str, timestamp: datetime, recipient: str, reason: Any, text: str) -> Any:
    """A refusal whose description is the MTA's response."""
    return expect(event_type, timestamp, recipient, reason, text, text)


# Each event of tracking_batch.json, in order.
BATCH_EXPECTED: list[tuple[Any, ...]] = [
    expect("queued", at(1772478306)),
    expect("delivered", at(1772478310)),
    expect(
        "bounced",
        at(1772478311),
        "nobody@example.net",
        "invalid",
        "550 5.1.1 ...@... Recipient address rejected: User unknown",
        BOUNCE_REASON,
    ),
    refusal(
        "autoresponded",  # bounce_class 60
        at(1772478312),
        "away@example.org",
        "other",
        "550 5.0.0 Auto-reply: I am out of the office",
    ),
    refusal(
        "deferred",
        at(1772478313),
        "slow@nomx.example.com",
        "bounced",
        "454 4.4.4 [internal] no MX or A for domain",
    ),
    expect(
        "bounced",
        at(1772478400),
        "gone@example.com",
        "invalid",
        "550: 5.1.1 unknown or illegal alias: ...@...",
        "550: 5.1.1 unknown or illegal alias: gone@example.com",
    ),
    refusal(
        "rejected",
        at(1772478306),
        "blocked@example.com",
        "blocked",
        "554 5.7.1 [internal] Policy rejection: recipient domain is on the account block list",
    ),
    expect("complained", at(1772490000), reject_reason="spam"),
    refusal(
        "failed",
        datetime(2026, 3, 2, 19, 5, 7, tzinfo=UTC),  # an ISO 8601 timestamp
        "alice@example.com",
        None,
        RENDER_ERROR,
    ),
    refusal(
        "rejected",
        at(1772478306),
        "suppressed@example.com",
        None,
        "554 5.7.1 recipient address suppressed due to customer policy",
    ),
    expect("unknown", at(1772481900), user_agent=IPHONE),  # initial_open: the open follows
    expect("opened", at(1772481906), user_agent=IPHONE),
    expect(
        "clicked", at(1772481920), click_url="https://example.com/orders/12345", user_agent=WINDOWS
    ),
    expect("unknown", at(1772481930), user_agent=AMP),
    expect("opened", at(1772481931), user_agent=AMP),
    expect("clicked", at(1772481932), click_url="https://example.com/amp-link", user_agent=AMP),
    expect("unsubscribed", at(1772490001), reject_reason="unsubscribed"),
    expect("unsubscribed", at(1772490002), reject_reason="unsubscribed", user_agent=WINDOWS),
    # A relay (inbound) event: not about a sent message.
    expect("unknown", at(1772490100), "support@inbound.example.com"),
]


def test_every_event_of_the_batch(events: list[AnymailTrackingEvent]) -> None:
    batch = fixture("tracking_batch.json")
    response = post(batch)
    assert response.status_code == 200
    assert len(events) == len(batch) == len(BATCH_EXPECTED)
    for index, (event, item, expected) in enumerate(
        zip(events, batch, BATCH_EXPECTED, strict=True)
    ):
        actual = (
            event.event_type,
            event.timestamp,
            event.recipient,
            event.reject_reason,
            event.description,
            event.mta_response,
            event.click_url,
            event.user_agent,
        )
        assert actual == expected, index
        assert event.event_id == f"90000000000000000{index + 1:02d}"
        assert event.esp_event == item  # the wrapped event, as SparkPost posted it
        if index < 18:
            # The transmission id: the message_id the send reported.
            assert event.message_id == TRANSMISSION_ID
            assert event.tags == ["order-confirmation"]  # campaign_id
            assert event.metadata == METADATA  # rcpt_meta
        else:
            assert (event.message_id, event.tags, event.metadata) == (None, [], {})
        assert event.timestamp is not None and event.timestamp.tzinfo is not None


def test_extra_siblings_of_msys_are_ignored(events: list[AnymailTrackingEvent]) -> None:
    bounce = fixture("tracking_batch.json")[2]
    assert "cust" in bounce
    post([bounce])
    assert events[0].event_type == "bounced"
    assert events[0].esp_event == bounce


def test_ping_is_answered_and_dispatches_nothing(events: list[AnymailTrackingEvent]) -> None:
    assert fixture("tracking_ping.json") == [{"msys": {}}]
    assert post(fixture("tracking_ping.json")).status_code == 200
    assert post([]).status_code == 200
    assert events == []


def test_pings_in_a_batch_are_skipped(events: list[AnymailTrackingEvent]) -> None:
    delivery = fixture("tracking_batch.json")[1]
    post([{"msys": {}}, delivery, {"msys": {}}])
    assert [event.event_type for event in events] == ["delivered"]


@pytest.mark.parametrize(
    ("bounce_class", "event_type", "reject_reason"),
    [
        ("10", "bounced", "invalid"),
        (10, "bounced", "invalid"),  # a number means the same
        ("1", "bounced", "other"),
        ("24", "bounced", "timed_out"),
        ("25", "bounced", "blocked"),
        ("51", "bounced", "spam"),
        ("52", "bounced", "spam"),
        ("53", "bounced", "other"),
        ("60", "autoresponded", "other"),
        ("80", "subscribed", "other"),
        ("90", "unsubscribed", "unsubscribed"),
        ("100", "autoresponded", "other"),
        ("999", "bounced", "other"),  # not in SparkPost's table
        (None, "bounced", None),
    ],
)
def test_bounce_classes(bounce_class: Any, event_type: str, reject_reason: str | None) -> None:
    bounce = fixture("tracking_batch.json")[2]
    bounce["msys"]["message_event"]["bounce_class"] = bounce_class
    (event,) = post_events([bounce])
    assert (event.event_type, event.reject_reason) == (event_type, reject_reason)


def test_initial_open_counts_as_opened_with_the_setting(settings: Any) -> None:
    batch = fixture("tracking_batch.json")
    opens = [batch[10], batch[13]]  # initial_open, amp_initial_open
    assert [event.event_type for event in post_events(opens)] == ["unknown", "unknown"]
    caches["default"].clear()  # else the second post is a duplicate
    settings.ANYMAIL = {**settings.ANYMAIL, "SPARKPOST_TRACK_INITIAL_OPEN_AS_OPENED": True}
    assert [event.event_type for event in post_events(opens)] == ["opened", "opened"]


def test_initial_open_view_argument_overrides_the_setting(settings: Any) -> None:
    settings.ANYMAIL = {**settings.ANYMAIL, "SPARKPOST_TRACK_INITIAL_OPEN_AS_OPENED": True}
    initial_open = fixture("tracking_batch.json")[10]
    for argument, expected in ((False, "unknown"), (None, "opened"), (True, "opened")):
        caches["default"].clear()  # else each post after the first is a duplicate
        request = json_webhook_request([initial_open]).post(RequestFactory(), "/")
        view = SparkPostTrackingWebhookView.as_view(track_initial_open_as_opened=argument)
        with captured_events(tracking) as received:
            assert view(request).status_code == 200
        assert received[0].event_type == expected


def test_initial_open_setting_must_be_a_bool(settings: Any) -> None:
    settings.ANYMAIL = {**settings.ANYMAIL, "SPARKPOST_TRACK_INITIAL_OPEN_AS_OPENED": "False"}
    with pytest.raises(AnymailImproperlyConfigured, match="TRACK_INITIAL_OPEN_AS_OPENED"):
        post(fixture("tracking_batch.json"))


def test_recipient_falls_back_to_rcpt_to_and_unknown_types_are_unknown() -> None:
    (event,) = post_events(
        [
            wrapped(
                "ab_test_event",
                type="ab_test_completed",
                event_id="42",
                timestamp=1772478306,
                rcpt_to="lower@example.com",
            )
        ]
    )
    assert (event.event_type, event.recipient, event.timestamp) == (
        "unknown",
        "lower@example.com",
        at(1772478306),
    )


def test_events_without_optional_fields() -> None:
    (event,) = post_events([wrapped("message_event", type="delivery")])
    assert event.event_type == "delivered"
    assert (event.timestamp, event.event_id, event.message_id, event.recipient) == (None,) * 4
    assert (event.tags, event.metadata) == ([], {})


def test_sends_and_events_join(mocked_responses: responses.RequestsMock, settings: Any) -> None:
    """An event reports the send's message_id, and its tags and metadata as sent."""
    settings.ANYMAIL = {**settings.ANYMAIL, "SPARKPOST_API_KEY": "test-key"}
    add_response(mocked_responses, TRANSMISSIONS_URL, body=fixture("send_success.json"))
    message = make_message(to=["To@Example.com"], tags=["order-confirmation"], metadata=METADATA)
    EmailBackend().send_messages([message])
    sent = only_request_json(mocked_responses)
    # What SparkPost reports for that transmission (fields copied from the request).
    delivery = copy.deepcopy(fixture("tracking_batch.json")[1])
    event_fields = delivery["msys"]["message_event"]
    event_fields.update(
        transmission_id=message.anymail_status.message_id,
        campaign_id=sent["campaign_id"],
        rcpt_meta=sent["metadata"],
    )
    (event,) = post_events([delivery])
    assert event.message_id == message.anymail_status.message_id == TRANSMISSION_ID
    assert event.tags == message.tags
    assert event.metadata == message.metadata
    assert event.recipient in message.anymail_status.recipients  # raw_rcpt_to keeps the case


# --- tracking: refusals ------------------------------------------------------------------


def test_relay_message_at_the_tracking_url_is_a_configuration_error() -> None:
    with pytest.raises(AnymailConfigurationError, match="relay webhook"):
        post(fixture("inbound_relay.json"))
    # Not a 400: SparkPost retries while the URL is fixed.
    assert (
        post(
            fixture("inbound_relay.json"), client=Client(raise_request_exception=False)
        ).status_code
        == 500
    )


@pytest.mark.parametrize(
    "body",
    [
        [{"msys": {"message_event": {"type": "delivery"}, "track_event": {"type": "open"}}}],
        [{"cust": {}}],  # no msys
        [{"msys": []}],
        [{"msys": {"message_event": "delivery"}}],
        {"msys": {}},  # not a list
        [wrapped("message_event", type="delivery", timestamp="yesterday")],
        [wrapped("message_event", type="bounce", bounce_class=["10"])],
        [wrapped("message_event", type="delivery", rcpt_meta="order 12345")],
    ],
)
def test_malformed_batches_are_refused(events: list[AnymailTrackingEvent], body: Any) -> None:
    response = post(body)
    assert response.status_code == 400
    assert response.content.startswith(b"Malformed SparkPost webhook payload")
    assert events == []


def test_a_malformed_event_refuses_the_whole_batch(events: list[AnymailTrackingEvent]) -> None:
    batch = fixture("tracking_batch.json")
    batch[5]["msys"]["message_event"]["event_id"] = 6
    assert post(batch).status_code == 400
    assert events == []


def test_overlapping_batches_dispatch_each_event_once(events: list[AnymailTrackingEvent]) -> None:
    batch = fixture("tracking_batch.json")
    assert post(batch[:3]).status_code == 200
    assert post(batch[1:5]).status_code == 200  # a retry that SparkPost re-batched
    assert [event.event_id for event in events] == [
        f"90000000000000000{n:02d}" for n in (1, 2, 3, 4, 5)
    ]


# --- inbound -----------------------------------------------------------------------------


post_message = functools.partial(received_inbound, post)


def test_inbound_relay_message() -> None:
    payload = fixture("inbound_relay.json")
    event = post_message(payload)
    message = event.message
    assert event.event_type == "inbound"
    assert (event.timestamp, event.event_id) == (None, None)
    assert event.esp_event == payload[0]
    assert message.from_email is not None
    assert (message.from_email.display_name, message.from_email.addr_spec) == (
        "Displayed From",
        "from+test@example.org",
    )
    assert [str(to) for to in message.to] == ["support@inbound.example.com"]
    assert message.subject == "Reply to your order"
    assert message.date == datetime(2026, 3, 2, 8, 10, 11, tzinfo=UTC)
    assert message["Message-ID"] == "<CAF00000000000004@mail.example.org>"
    assert message.text == "Thanks!"  # the line break before a boundary is the boundary's
    assert message.html == "<p>Thanks!</p>"
    assert message.envelope_sender == "bounces@example.org"
    assert message.envelope_recipient == "support@inbound.example.com"
    assert (message.spam_detected, message.spam_score) == (None, None)
    assert (message.stripped_text, message.stripped_html) == (None, None)


def test_inbound_base64_message_is_parsed_as_bytes() -> None:
    """Decoding the base64 to text (UTF-8) would fail on this latin-1 body."""
    payload = fixture("inbound_relay_base64.json")
    raw = base64.b64decode(payload[0]["msys"]["relay_message"]["content"]["email_rfc822"])
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")
    message = post_message(payload).message
    assert message.subject == "Café"
    assert message.text == "Un café, s'il vous plaît.\n"
    assert message.get_content_bytes() == b"Un caf\xe9, s'il vous pla\xeet.\r\n"
    assert message.envelope_sender == "bounces@example.org"


def test_inbound_8bit_text_message_survives() -> None:
    """Unencoded: an 8-bit UTF-8 body in the JSON string is parsed from its UTF-8 bytes."""
    payload = fixture("inbound_relay.json")
    content = payload[0]["msys"]["relay_message"]["content"]
    content["email_rfc822"] = (
        "From: a@example.org\r\nTo: support@inbound.example.com\r\nSubject: Zoë\r\n"
        "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
        "Merci, Zoë 😀\r\n"
    )
    message = post_message(payload).message
    assert message.text == "Merci, Zoë 😀\n"
    assert message.get_content_bytes() == "Merci, Zoë 😀\r\n".encode()


def test_inbound_base64_with_line_breaks() -> None:
    payload = fixture("inbound_relay_base64.json")
    content = payload[0]["msys"]["relay_message"]["content"]
    text = content["email_rfc822"]
    content["email_rfc822"] = "\r\n".join(text[i : i + 76] for i in range(0, len(text), 76))
    assert post_message(payload).message.subject == "Café"


def test_inbound_ping_dispatches_nothing(messages: list[AnymailInboundEvent]) -> None:
    assert post(fixture("tracking_ping.json"), "inbound").status_code == 200
    assert messages == []


def test_inbound_retry_is_dispatched_once(messages: list[AnymailInboundEvent]) -> None:
    payload = fixture("inbound_relay.json")
    assert post(payload, "inbound").status_code == 200
    assert post(payload, "inbound").status_code == 200
    assert len(messages) == 1
    other = fixture("inbound_relay_base64.json")
    assert post(other, "inbound").status_code == 200
    assert len(messages) == 2


def test_tracking_events_at_the_inbound_url_are_a_configuration_error() -> None:
    with pytest.raises(AnymailConfigurationError, match="event webhook"):
        post(fixture("tracking_batch.json"), "inbound")


def test_inbound_relays_other_than_smtp_are_a_configuration_error(
    messages: list[AnymailInboundEvent],
) -> None:
    payload = fixture("inbound_relay.json")
    payload[0]["msys"]["relay_message"]["protocol"] = "http"
    with pytest.raises(AnymailConfigurationError, match="SMTP only"):
        post(payload, "inbound")
    payload[0]["msys"]["relay_message"]["protocol"] = "SMTP"
    assert post(payload, "inbound").status_code == 200
    assert len(messages) == 1


@pytest.mark.parametrize(
    ("field", "value"),
    [("email_rfc822", "not base64!"), ("email_rfc822", None), ("email_rfc822_is_base64", "yes")],
)
def test_inbound_malformed_content_is_refused(
    messages: list[AnymailInboundEvent], field: str, value: Any
) -> None:
    payload = fixture("inbound_relay_base64.json")
    payload[0]["msys"]["relay_message"]["content"][field] = value
    response = post(payload, "inbound")
    assert response.status_code == 400
    assert messages == []


# --- hostile input, over every fixture ---------------------------------------------------


def test_fixture_list_is_complete() -> None:
    assert FIXTURES == [
        "inbound_relay.json",
        "inbound_relay_base64.json",
        "tracking_batch.json",
        "tracking_ping.json",
    ]
    assert json.loads((FIXTURES_DIR / "sparkpost" / "tracking_ping.json").read_text()) == [
        {"msys": {}}
    ]
