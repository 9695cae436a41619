"""Mandrill's combined webhook: signatures over URL + form, tracking and inbound events.

Posts are the fact sheet's exact form bodies (with their expected signatures) or
built with anymail.testing's "mandrill" builder; the shared behaviour (auth,
replays, receiver errors, hostile bodies) is also run by the webhook contract
suite (tests/webhooks/contract/cases/mandrill.py).
"""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from typing import Any

import pytest
import responses
from django.core.mail import get_connection
from django.test import Client

from anymail.exceptions import AnymailImproperlyConfigured
from anymail.message import AnymailMessage
from anymail.signals import AnymailInboundEvent
from anymail.testing import WebhookRequest, webhook_request
from anymail.webhooks.mandrill import MandrillCombinedWebhookView, MandrillTrackingWebhookView
from tests.utils import FIXTURES_DIR, fixture_json, request_json

from .support import changed_fields

KEY = "TEST-mandrill-webhook-key-NOT-REAL"
URL = "/anymail/mandrill/"
SIGNATURES = fixture_json("mandrill", "signatures.json")["signatures"]


@pytest.fixture(autouse=True)
def webhook_settings(settings: Any) -> None:
    settings.ANYMAIL = {"MANDRILL_WEBHOOK_KEY": KEY}


def form_post(name: str, signature: str, secret: str | None = None) -> WebhookRequest:
    """A fixture's exact form body with an X-Mandrill-Signature (and basic auth)."""
    headers = {"X-Mandrill-Signature": signature}
    if secret is not None:
        headers["Authorization"] = "Basic " + base64.b64encode(secret.encode()).decode()
    return WebhookRequest(
        body=(FIXTURES_DIR / "mandrill" / name).read_bytes(),
        content_type="application/x-www-form-urlencoded",
        headers=headers,
    )


def at(timestamp: int) -> datetime:
    return datetime.fromtimestamp(timestamp, UTC)


# --- the fact sheet's signed bodies --------------------------------------------------


@pytest.mark.parametrize(
    "vector",
    SIGNATURES,
    ids=[f"{v['file']}-{'auth' if '@' in v['url'] else 'plain'}" for v in SIGNATURES],
)
def test_signed_fixture_bodies_verify(
    settings: Any, events: list[Any], messages: list[Any], vector: dict[str, str]
) -> None:
    secret = "username:password" if "@" in vector["url"] else None
    if secret:
        settings.ANYMAIL = {**settings.ANYMAIL, "WEBHOOK_SECRET": secret}
    response = form_post(vector["file"], vector["X-Mandrill-Signature"], secret).post(Client(), URL)
    assert response.status_code == 200
    expected = {"tracking_batch.form.txt": (12, 0), "inbound.form.txt": (0, 1)}
    # validation_empty.form.txt: Mandrill's URL check, signed with "test-webhook": nothing.
    assert (len(events), len(messages)) == expected.get(vector["file"], (0, 0))


def test_signature_covers_the_basic_auth_credentials_in_the_url(settings: Any) -> None:
    settings.ANYMAIL = {**settings.ANYMAIL, "WEBHOOK_SECRET": "username:password"}
    (plain,) = [
        v for v in SIGNATURES if v["file"] == "tracking_batch.form.txt" and "@" not in v["url"]
    ]
    # Signed for the URL without credentials, posted with them: not what Mandrill signs.
    request = form_post(plain["file"], plain["X-Mandrill-Signature"], "username:password")
    response = request.post(Client(), URL)
    assert response.status_code == 400
    # The URL used is shown (it is the usual culprit), without the password.
    assert b"for URL http://username:***@testserver/anymail/mandrill/" in response.content


# --- every event of the batch --------------------------------------------------------

MSG_ID = "0123456789abcdef0123456789abcdef"
TAGS = ["shipping", "transactional"]
METADATA = {"order_id": "12345", "customer": "c-678"}
FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"


def expect(event_type: str, **fields: Any) -> dict[str, Any]:
    return {"event_type": event_type, **fields}


def message_event(event_type: str, ts: int, recipient: str, **fields: Any) -> dict[str, Any]:
    return expect(event_type, timestamp=at(ts), message_id=MSG_ID, recipient=recipient,
                  tags=TAGS, metadata=METADATA, **fields)  # fmt: skip


#: The events of tracking_batch.form.txt: what differs from AnymailTrackingEvent's defaults.
EXPECTED_BATCH = [
    message_event("sent", 1768469413, "recipient@example.com",
                  mta_response="250 2.0.0 OK 1768469413 abc123 - gsmtp"),
    message_event("deferred", 1768469500, "recipient@example.com",
                  mta_response="451 4.7.1 Greylisted, please try again later"),
    message_event("bounced", 1768469440, "bad-mailbox@example.com", description="bad_mailbox",
                  mta_response="smtp;550 5.1.1 The email account that you tried to reach does "
                  "not exist."),
    message_event("bounced", 1768469450, "full-mailbox@example.com", description="mailbox_full",
                  mta_response="smtp;552 5.2.2 Mailbox full"),
    # Newer than the 6.0 manual (which says Mandrill has no delivered events).
    message_event("delivered", 1768469414, "recipient@example.com", mta_response="250 2.0.0 OK"),
    message_event("opened", 1768470000, "recipient@example.com", user_agent=FIREFOX),
    message_event("clicked", 1768470060, "recipient@example.com", user_agent=FIREFOX,
                  click_url="https://shop.example.com/orders/12345"),
    message_event("complained", 1768470180, "recipient@example.com"),
    message_event("unsubscribed", 1768470120, "recipient@example.com"),
    message_event("rejected", 1768469405, "bounced-before@example.com"),
    # Sync (deny/allow list) events: unknown, about the address in "reject".
    expect("unknown", timestamp=at(1768469600), recipient="bad-mailbox@example.com",
           description="550 mailbox does not exist"),
    expect("unknown", timestamp=at(1768469700), recipient="vip@example.com",
           description="added manually"),
]  # fmt: skip


def batch() -> list[Any]:
    names = ["send", "deferral", "hard_bounce", "soft_bounce", "delivered", "open", "click"]
    names += ["spam", "unsub", "reject", "blacklist", "whitelist"]
    return [fixture_json("mandrill", f"tracking_{name}.json") for name in names]


def test_batch_gives_one_tracking_event_each(events: list[Any], messages: list[Any]) -> None:
    (vector,) = [
        v for v in SIGNATURES if v["file"] == "tracking_batch.form.txt" and "@" not in v["url"]
    ]
    response = form_post(vector["file"], vector["X-Mandrill-Signature"]).post(Client(), URL)
    assert response.status_code == 200
    assert [changed_fields(event) for event in events] == EXPECTED_BATCH
    assert [event.esp_event for event in events] == batch()
    assert messages == []


def test_inbound_event_goes_to_the_inbound_signal(events: list[Any], messages: list[Any]) -> None:
    inbound_event = fixture_json("mandrill", "inbound.json")
    response = webhook_request("mandrill", [batch()[0], inbound_event]).post(Client(), URL)
    assert response.status_code == 200
    assert [event.event_type for event in events] == ["sent"]
    (event,) = messages
    assert isinstance(event, AnymailInboundEvent)
    assert event.event_type == "inbound"
    assert event.timestamp == at(1768471200)
    assert event.event_id is None
    assert event.esp_event == inbound_event
    message = event.message
    assert message.subject == "Question about order 12345"
    assert message.from_email.addr_spec == "from@example.org"
    assert [to.addr_spec for to in message.to] == [
        "support@inbound.example.com",
        "other@example.com",
    ]
    assert message.text == "Hi, where is my order?"  # (the last line break is the boundary's)
    assert message["Message-ID"] == "<CAinbound0001@mail.example.org>"
    (attachment,) = message.attachments
    assert attachment.get_filename() == "notes.txt"
    assert attachment.get_content_text() == "some notes"
    assert message.envelope_recipient == "support@inbound.example.com"
    assert message.envelope_sender is None  # Mandrill doesn't give the MAIL FROM
    assert message.spam_score == 1.2
    assert message.spam_detected is None


def test_message_id_tags_and_metadata_match_what_the_backend_sent(
    events: list[Any], mocked_responses: responses.RequestsMock
) -> None:
    mocked_responses.add(
        responses.POST,
        "https://mandrillapp.com/api/1.0/messages/send.json",
        json=fixture_json("mandrill", "send_success.json"),
    )
    message = AnymailMessage(
        "Hi",
        "Body",
        "from@example.com",
        ["to@example.com"],
        cc=["cc@example.com"],
        bcc=["bcc@example.com"],
    )
    message.tags = ["welcome"]
    message.metadata = {"user_id": "42"}
    get_connection("anymail.backends.mandrill.EmailBackend", api_key="k").send_messages([message])
    sent = request_json(mocked_responses.calls[0])["message"]
    for recipient, status in message.anymail_status.recipients.items():
        # What Mandrill reports for that recipient's copy.
        event = {
            "event": "send",
            "_id": status.message_id,
            "ts": 1768469413,
            "msg": {"_id": status.message_id, "email": recipient, "tags": sent["tags"],
                    "metadata": sent["metadata"]},
        }  # fmt: skip
        assert webhook_request("mandrill", [event]).post(Client(), URL).status_code == 200
    assert [(e.recipient, e.message_id) for e in events] == [
        ("to@example.com", "0123456789abcdef0123456789abcdef"),
        ("cc@example.com", "1123456789abcdef0123456789abcdef"),
        ("bcc@example.com", "2123456789abcdef0123456789abcdef"),
    ]
    assert all(e.tags == ["welcome"] and e.metadata == {"user_id": "42"} for e in events)


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        # Mandrill (PHP) writes an empty metadata dict as [].
        ({"msg": {"metadata": [], "tags": []}}, {"metadata": {}, "tags": []}),
        ({"msg": {}}, {"metadata": {}, "tags": [], "recipient": None, "message_id": MSG_ID}),
        ({"_id": None, "msg": {"_id": "from-msg"}}, {"message_id": "from-msg"}),
        ({"event": "future_event"}, {"event_type": "unknown"}),
        ({"ts": None}, {"timestamp": None}),
    ],
)
def test_event_details(
    events: list[Any], changes: dict[str, Any], expected: dict[str, Any]
) -> None:
    event = {**batch()[0], **changes}
    event = {key: value for key, value in event.items() if value is not None}
    assert webhook_request("mandrill", [event]).post(Client(), URL).status_code == 200
    (received,) = events
    assert {key: getattr(received, key) for key in expected} == expected


# --- signature and key handling -----------------------------------------------------


@pytest.mark.parametrize(
    "request_",
    [
        pytest.param(
            lambda: webhook_request("mandrill", batch(), webhook_key="wrong"), id="wrong-key"
        ),
        pytest.param(
            lambda: webhook_request("mandrill", batch()).with_headers(
                {"X-Mandrill-Signature": None}
            ),
            id="no-signature",
        ),
        pytest.param(
            lambda: webhook_request("mandrill", batch(), url="/anymail/mandrill/tracking/"),
            id="other-url",
        ),
        pytest.param(
            lambda: (lambda r: r.with_body(r.body.replace(b"12345", b"12346", 1)))(
                webhook_request("mandrill", batch())
            ),
            id="one-byte",
        ),
        pytest.param(
            lambda: (lambda r: r.with_body(r.body + b"&extra=field"))(
                webhook_request("mandrill", batch())
            ),
            id="added-field",
        ),
    ],
)
def test_forged_or_tampered_posts_are_refused(events: list[Any], request_: Any) -> None:
    response = request_().post(Client(), URL)
    assert response.status_code == 400
    assert response.content.startswith(
        b"Mandrill webhook: missing or incorrect X-Mandrill-Signature"
    )
    assert KEY.encode() not in response.content
    assert events == []


def test_key_list_allows_rotation(settings: Any, events: list[Any]) -> None:
    settings.ANYMAIL = {"MANDRILL_WEBHOOK_KEY": ["new-key", KEY]}
    assert (
        webhook_request("mandrill", batch()[:1], webhook_key=KEY).post(Client(), URL).status_code
        == 200
    )
    assert (
        webhook_request("mandrill", batch()[1:2], webhook_key="new-key")
        .post(Client(), URL)
        .status_code
        == 200
    )
    assert len(events) == 2


def test_key_given_to_the_view_and_bare_setting(settings: Any, rf: Any, events: list[Any]) -> None:
    settings.ANYMAIL = {}
    settings.MANDRILL_WEBHOOK_KEY = "bare-key"
    request = webhook_request("mandrill", batch()[:1], webhook_key="bare-key").post(rf, URL)
    assert MandrillCombinedWebhookView.as_view()(request).status_code == 200
    request = webhook_request("mandrill", batch()[1:2], webhook_key="view-key").post(rf, URL)
    assert MandrillCombinedWebhookView.as_view(webhook_key="view-key")(request).status_code == 200
    assert len(events) == 2


def test_webhook_url_setting_for_servers_behind_a_proxy(settings: Any, events: list[Any]) -> None:
    public_url = "https://mail-hooks.example.com/anymail/mandrill/"
    request = webhook_request("mandrill", batch()[:1], url=public_url)
    # Django sees http://testserver/...: not the URL Mandrill signed.
    assert request.post(Client(), URL).status_code == 400
    settings.ANYMAIL = {**settings.ANYMAIL, "MANDRILL_WEBHOOK_URL": public_url}
    assert request.post(Client(), URL).status_code == 200
    assert len(events) == 1


def test_legacy_tracking_url_is_the_same_view(events: list[Any], messages: list[Any]) -> None:
    assert MandrillTrackingWebhookView is MandrillCombinedWebhookView
    url = "/anymail/mandrill/tracking/"
    payload = [batch()[0], fixture_json("mandrill", "inbound.json")]
    assert webhook_request("mandrill", payload, url=url).post(Client(), url).status_code == 200
    assert (len(events), len(messages)) == (1, 1)


# --- Mandrill's URL checks and a missing key -----------------------------------------


def test_head_is_answered_without_the_webhook_key(settings: Any) -> None:
    settings.ANYMAIL = {}
    assert Client().head(URL).status_code == 200
    assert Client().head("/anymail/mandrill/tracking/").status_code == 200
    assert Client().get(URL).status_code == 405


def test_empty_test_batch_is_answered_200(settings: Any, events: list[Any]) -> None:
    # Signed with "test-webhook", before Mandrill has shown the real key...
    url_check = webhook_request("mandrill", [], webhook_key="test-webhook")
    settings.ANYMAIL = {}
    assert url_check.post(Client(), URL).status_code == 200
    # ... and after it is configured.
    settings.ANYMAIL = {"MANDRILL_WEBHOOK_KEY": KEY}
    assert url_check.post(Client(), URL).status_code == 200
    assert webhook_request("mandrill", []).post(Client(), URL).status_code == 200
    assert events == []


def test_test_webhook_key_signs_nothing_but_the_empty_batch(events: list[Any]) -> None:
    forged = webhook_request("mandrill", batch()[:1], webhook_key="test-webhook")
    assert forged.post(Client(), URL).status_code == 400
    unsigned_empty = webhook_request("mandrill", [], webhook_key="someone-else")
    assert unsigned_empty.post(Client(), URL).status_code == 400
    assert events == []


def test_post_without_the_key_configured_is_a_500_so_mandrill_retries(
    settings: Any, events: list[Any]
) -> None:
    request = webhook_request("mandrill", batch()[:1])
    settings.ANYMAIL = {}
    with pytest.raises(AnymailImproperlyConfigured, match="MANDRILL_WEBHOOK_KEY"):
        request.post(Client(), URL)
    assert request.post(Client(raise_request_exception=False), URL).status_code == 500
    settings.ANYMAIL = {"MANDRILL_WEBHOOK_KEY": KEY}
    assert request.post(Client(), URL).status_code == 200  # the retry, once it is set
    assert len(events) == 1


# --- malformed posts and limits --------------------------------------------------------


def signed_form(body: bytes) -> WebhookRequest:
    """``body`` as the form, signed over its fields as the view will read them."""
    from urllib.parse import parse_qsl

    from anymail.webhooks.signing import MandrillVerifier

    fields = parse_qsl(body.decode(), keep_blank_values=True)
    signature = MandrillVerifier(KEY).sign("http://testserver" + URL, fields)
    return WebhookRequest(
        body, "application/x-www-form-urlencoded", {"X-Mandrill-Signature": signature}
    )


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"&", "expected one mandrill_events form field, found 0."),
        (b"other=1", "expected one mandrill_events form field, found 0."),
        (
            b"mandrill_events=%5B%5D&mandrill_events=%5B%5D",
            "expected one mandrill_events form field, found 2.",
        ),
        (b"mandrill_events=not+json", "mandrill_events is not valid JSON (line 1, column 1)."),
        (b"mandrill_events=%7B%7D", "mandrill_events should be a list, not an object."),
        (b"mandrill_events=%5B1%5D", "mandrill_events[0] should be an object, not a number."),
        (b"mandrill_events=%5B%7B%22event%22%3A7%7D%5D", "mandrill_events[0].event should be text"),
        (
            b"mandrill_events=%5B%7B%22event%22%3A%22inbound%22%7D%5D",
            "mandrill_events[0].msg is missing.",
        ),
        (b"mandrill_events=%FF", "the form data is not valid UTF-8."),
    ],
)
def test_malformed_events_are_400(events: list[Any], body: bytes, reason: str) -> None:
    request = (
        signed_form(body)
        if b"%FF" not in body
        else WebhookRequest(
            body, "application/x-www-form-urlencoded", {"X-Mandrill-Signature": "x"}
        )
    )
    response = request.post(Client(), URL)
    assert response.status_code == 400
    assert reason in response.content.decode()
    assert events == []


def test_json_body_is_400(events: list[Any]) -> None:
    request = WebhookRequest(json.dumps(batch()).encode(), "application/json")
    response = request.post(Client(), URL)
    assert response.status_code == 400
    assert b"application/x-www-form-urlencoded" in response.content


def test_batch_larger_than_djangos_form_memory_limit(settings: Any, messages: list[Any]) -> None:
    # DATA_UPLOAD_MAX_MEMORY_SIZE is for forms; WEBHOOK_MAX_BODY_SIZE bounds webhook bodies.
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    inbound_event = fixture_json("mandrill", "inbound.json")
    inbound_event["msg"]["raw_msg"] += "x" * 5000 + "\n"
    assert webhook_request("mandrill", [inbound_event]).post(Client(), URL).status_code == 200
    assert len(messages) == 1


def test_repeated_event_in_a_later_batch_is_not_dispatched_again(events: list[Any]) -> None:
    assert webhook_request("mandrill", batch()[:3]).post(Client(), URL).status_code == 200
    # Mandrill events have no id: the event's own content identifies it.
    assert webhook_request("mandrill", batch()[2:5]).post(Client(), URL).status_code == 200
    assert [event.event_type for event in events] == [
        "sent",
        "deferred",
        "bounced",
        "bounced",
        "delivered",
    ]
