"""SendGrid webhooks: the Event Webhook (signed or not) and Inbound Parse (raw and parsed).

Posts are built with anymail.testing's "sendgrid" and "sendgrid_inbound" builders;
the shared behaviour (auth, replays, receiver errors, hostile bodies) is also run
by the webhook contract suite (tests/webhooks/contract/cases/sendgrid.py).
"""

from __future__ import annotations

import base64
import json
import sys
from datetime import UTC, datetime
from typing import Any

import pytest
import responses
from django.core.mail import get_connection
from django.test import Client
from django.urls import include, path

from anymail._testing_sendgrid import (
    encode_form_data,
    sendgrid_inbound_webhook_request,
    sendgrid_webhook_request,
    verification_key,
)
from anymail.exceptions import (
    AnymailConfigurationError,
    AnymailImproperlyConfigured,
    AnymailImproperlyInstalled,
    AnymailInsecureWebhookWarning,
)
from anymail.message import AnymailMessage
from anymail.testing import WebhookRequest, webhook_request
from anymail.webhooks._signers import EcdsaTestSigner
from anymail.webhooks.sendgrid import SendGridTrackingWebhookView
from tests.utils import FIXTURES_DIR, fixture_json, request_json

from .sendgrid_fixtures import inbound_form_fields
from .support import DISPLAYED_FROM, changed_fields, headline, parts

SECRET = "sendgridsendgrid:sendgridsendgrid"
TRACKING = "sendgrid_tracking_webhook"
INBOUND = "sendgrid_inbound_webhook"
SIGNED_VECTOR = fixture_json("sendgrid", "tracking_signed_request.json")
# One view with a verification key given to as_view(), for the kwarg override test.
OTHER_SIGNER = EcdsaTestSigner()
urlpatterns = [
    path("anymail/", include("anymail.urls")),
    path(
        "override/",
        SendGridTrackingWebhookView.as_view(
            tracking_webhook_verification_key=OTHER_SIGNER.public_key
        ),
    ),
]


@pytest.fixture(autouse=True)
def webhook_settings(settings: Any) -> None:
    settings.ROOT_URLCONF = __name__
    settings.ANYMAIL = {
        "WEBHOOK_SECRET": SECRET,
        "SENDGRID_TRACKING_WEBHOOK_VERIFICATION_KEY": verification_key(),
    }


def at(timestamp: int) -> datetime:
    return datetime.fromtimestamp(timestamp, UTC)


def pin_clock(monkeypatch: pytest.MonkeyPatch, timestamp: int) -> None:
    monkeypatch.setattr(SendGridTrackingWebhookView, "now", lambda self: at(timestamp))


# --- tracking: every event of the fixture batch -----------------------------------------

ID = "3c2f4b1e-0000-4000-8000-0000000000"
TAGS = ["order-confirmation", "shop"]
ORDER = {"order_id": "12345"}
BROWSER = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/120.0 Safari/537.36"
)


def expect(event_type: str, **fields: Any) -> dict[str, Any]:
    return {"event_type": event_type, **fields}


def of_the_order(event_type: str, timestamp: int, event_id: str, **fields: Any) -> dict[str, Any]:
    """An event of message 01, the order confirmation to to@example.com."""
    return expect(
        event_type,
        timestamp=at(timestamp),
        event_id=event_id,
        message_id=ID + "01",
        recipient="to@example.com",
        tags=TAGS,
        metadata=ORDER,
        **fields,
    )


def dropped(reason: str, event_id: str, message: str, recipient: str, description: str) -> Any:
    """A "dropped" event (all at the batch's first time): rejected for ``reason``."""
    return expect(
        "rejected",
        reject_reason=reason,
        timestamp=at(1772478306),
        event_id=event_id,
        message_id=ID + message,
        recipient=recipient,
        description=description,
    )


#: The events of tracking_batch.json: what differs from AnymailTrackingEvent's defaults.
EXPECTED_BATCH: list[dict[str, Any]] = [
    of_the_order("queued", 1772478306, "cHJvY2Vzc2VkLTAwMDE"),
    of_the_order("deferred", 1772478307, "ZGVmZXJyZWQtMDAwMQ",
                 mta_response="451 4.7.650 The mail server has been temporarily rate limited."),
    of_the_order("delivered", 1772478310, "ZGVsaXZlcmVkLTAwMDE",
                 mta_response="250 2.0.0 OK  1772478310 x12-20020a05.1 - gsmtp"),
    of_the_order("opened", 1772481906, "b3Blbi0wMDAx", user_agent=BROWSER),
    of_the_order("clicked", 1772481920, "Y2xpY2stMDAwMQ",
                 click_url="https://example.com/orders/12345", user_agent=BROWSER),
    expect("bounced", reject_reason="bounced", timestamp=at(1772478311),
         event_id="Ym91bmNlLTAwMDE", message_id=ID + "02", recipient="nobody@example.net",
         mta_response="550 5.1.1 The email account that you tried to reach does not exist."),
    expect("bounced", reject_reason="blocked", timestamp=at(1772478312),
         event_id="YmxvY2tlZC0wMDAx", message_id=ID + "03", recipient="blocked@example.org",
         mta_response="550 5.7.1 Service unavailable; client host [192.0.2.1] blocked using "
         "zen.spamhaus.org"),
    dropped("bounced", "ZHJvcHBlZC0wMDAx", "04", "hardbounced@example.com", "Bounced Address"),
    dropped("unsubscribed", "ZHJvcHBlZC0wMDAy", "05", "leaver@example.com",
            "Unsubscribed Address"),
    # The sheet's recommendation over the public release's "other".
    dropped("spam", "ZHJvcHBlZC0wMDAz", "06", "complainer@example.com", "Spam Reporting Address"),
    dropped("invalid", "ZHJvcHBlZC0wMDA0", "07", "not-an-address", "Invalid"),
    # A category given as a string, not a list.
    expect("complained", reject_reason="spam", timestamp=at(1772490000),
         event_id="c3BhbXJlcG9ydC0wMDAx", message_id=ID + "08",
         recipient="complainer@example.com", tags=["newsletter"]),
    expect("unsubscribed", reject_reason="unsubscribed", timestamp=at(1772490001),
         event_id="dW5zdWItMDAwMQ", message_id=ID + "09", recipient="leaver@example.com",
         tags=["newsletter"]),
    expect("unsubscribed", reject_reason="unsubscribed", timestamp=at(1772490002),
         event_id="Z3Vuc3ViLTAwMDE", message_id=ID + "0a", recipient="leaver@example.com",
         click_url="https://example.com/preferences", user_agent="Mozilla/5.0"),
    expect("subscribed", timestamp=at(1772490003), event_id="Z3Jlc3ViLTAwMDE",
         message_id=ID + "0a", recipient="leaver@example.com",
         click_url="https://example.com/preferences", user_agent="Mozilla/5.0"),
    # Sent by a release before anymail_id: smtp-id is the message id.
    expect("queued", timestamp=at(1772478306), event_id="bGVnYWN5LTAwMDE",
         message_id="<0Xf00Aa1Bb2Cc3Dd4Ee5Ff@geopod-ismtpd-3>", recipient="legacy@example.com",
         tags=["legacy"]),
    # An account event (2024+): no recipient, no message.
    expect("unknown", timestamp=at(1772500000), event_id="YWNjb3VudC0wMDAx"),
]  # fmt: skip


def test_tracking_batch_every_event(events: list[Any]) -> None:
    batch = fixture_json("sendgrid", "tracking_batch.json")
    response = webhook_request("sendgrid", batch).post(Client(), TRACKING)
    assert response.status_code == 200
    assert [changed_fields(event) for event in events] == EXPECTED_BATCH
    # esp_event is the event's own JSON object; the timestamps are aware UTC.
    assert [event.esp_event for event in events] == batch
    assert all(event.timestamp.tzinfo is UTC for event in events)


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        # Milliseconds (one Marketing Campaigns sample) are read as such.
        ({"timestamp": 1772478306123}, {"timestamp": datetime(2026, 3, 2, 19, 5, 6, 123000, UTC)}),
        # An unusable time does not lose the event.
        ({"timestamp": None}, {"timestamp": None}),
        ({"timestamp": "soon"}, {"timestamp": None}),
        ({"timestamp": 10**30}, {"timestamp": None}),
        ({"event": "machine_learning_event"}, {"event_type": "unknown", "reject_reason": None}),
        ({"event": "dropped", "reason": "Expired"}, {"reject_reason": "timed_out"}),
        ({"event": "dropped", "reason": "Recipient List over Package Quota"},
         {"reject_reason": "other", "description": "Recipient List over Package Quota"}),
        ({"event": "dropped", "type": "blocked", "reason": "x"}, {"reject_reason": "blocked"}),
        ({"event": "bounce"}, {"reject_reason": "bounced"}),  # no type: a bounce
        ({"category": None}, {"tags": []}),
        # Custom args come back at the top level; SendGrid's own fields are not metadata.
        ({"order_id": "7", "user": "u-1", "sg_template_id": "d-1", "pool": {"name": "p"}},
         {"metadata": {"order_id": "7", "user": "u-1"}}),
    ],
)  # fmt: skip
def test_tracking_event_details(
    events: list[Any], changes: dict[str, Any], expected: dict[str, Any]
) -> None:
    event = {**fixture_json("sendgrid", "tracking_batch.json")[0], **changes}
    event = {key: value for key, value in event.items() if value is not None}
    assert webhook_request("sendgrid", [event]).post(Client(), TRACKING).status_code == 200
    (received,) = events
    assert {key: getattr(received, key) for key in expected} == expected


def test_message_id_tags_and_metadata_match_what_the_backend_sent(
    events: list[Any], mocked_responses: responses.RequestsMock
) -> None:
    mocked_responses.add(responses.POST, "https://api.sendgrid.com/v3/mail/send", status=202)
    message = AnymailMessage(
        "Hi", "Body", "from@example.com", ["to@example.com", "other@example.com"]
    )
    message.tags = ["welcome", "onboarding"]
    message.metadata = {"user_id": 42, "plan": "pro"}
    message.merge_metadata = {"to@example.com": {"cohort": "a"}}
    get_connection("anymail.backends.sendgrid.EmailBackend", api_key="k").send_messages([message])
    sent = request_json(mocked_responses.calls[0])
    # SendGrid puts the message's and the personalization's custom args, and the
    # categories, into every event of that personalization.
    for personalization in sent["personalizations"]:
        custom_args = {**sent["custom_args"], **personalization["custom_args"]}
        event = {
            "email": personalization["to"][0]["email"],
            "timestamp": 1772478310,
            "event": "delivered",
            "sg_event_id": "ev-" + personalization["to"][0]["email"],
            "category": sent["categories"],
            **custom_args,
        }
        assert webhook_request("sendgrid", [event]).post(Client(), TRACKING).status_code == 200
    by_recipient = {event.recipient: event for event in events}
    for recipient in ("to@example.com", "other@example.com"):
        status = message.anymail_status.recipients[recipient]
        assert by_recipient[recipient].message_id == status.message_id
        assert by_recipient[recipient].tags == ["welcome", "onboarding"]
    # Metadata values come back as the strings SendGrid stores.
    assert by_recipient["to@example.com"].metadata == {
        "user_id": "42",
        "plan": "pro",
        "cohort": "a",
    }
    assert by_recipient["other@example.com"].metadata == {"user_id": "42", "plan": "pro"}


# --- tracking: signatures and replays ---------------------------------------------------


def signed_vector(signature: str | None = None, body: bytes | None = None) -> WebhookRequest:
    headers = dict(SIGNED_VECTOR["headers"])
    if signature is not None:
        headers["X-Twilio-Email-Event-Webhook-Signature"] = signature
    return WebhookRequest(
        body=(FIXTURES_DIR / "sendgrid" / "tracking_signed_body.bin").read_bytes()
        if body is None
        else body,
        content_type=headers.pop("Content-Type"),
        headers=headers,
    )


@pytest.fixture
def vector_key(settings: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """The fact sheet's signed vector: its key, and a clock 10 minutes after it was signed."""
    settings.ANYMAIL = {
        "SENDGRID_TRACKING_WEBHOOK_VERIFICATION_KEY": SIGNED_VECTOR["verification_key"]
    }
    pin_clock(monkeypatch, int(SIGNED_VECTOR["headers"]["X-Twilio-Email-Event-Webhook-Timestamp"]))


@pytest.mark.usefixtures("vector_key")
def test_signed_vector_verifies(events: list[Any]) -> None:
    body = (FIXTURES_DIR / "sendgrid" / "tracking_signed_body.bin").read_bytes()
    assert body == base64.b64decode(SIGNED_VECTOR["body_base64"])
    assert body.endswith(b"\r\n")  # verified as received, never re-serialized
    with _no_warning():  # signed: no basic auth needed
        response = signed_vector().post(Client(), TRACKING)
    assert response.status_code == 200
    assert [(event.event_type, event.event_id) for event in events] == [
        ("delivered", "c2lnbmVkLTAwMDE"),
        ("opened", "c2lnbmVkLTAwMDI"),  # an Apple MPP prefetch (sg_machine_open) still opens
    ]


@pytest.mark.usefixtures("vector_key")
@pytest.mark.parametrize(
    "forged",
    [
        pytest.param(lambda: signed_vector(SIGNED_VECTOR["wrong_key_signature"]), id="wrong-key"),
        pytest.param(
            lambda: signed_vector(body=signed_vector().body.rstrip(b"\r\n")), id="crlf-stripped"
        ),
        pytest.param(
            lambda: signed_vector(body=signed_vector().body.replace(b"12345", b"12346")),
            id="one-byte",
        ),
        pytest.param(lambda: signed_vector("not base64!"), id="garbage-signature"),
        pytest.param(lambda: signed_vector("MEUCIQ=="), id="truncated-der"),
        pytest.param(
            lambda: signed_vector().with_headers({"X-Twilio-Email-Event-Webhook-Signature": None}),
            id="no-signature",
        ),
        pytest.param(
            lambda: signed_vector().with_headers({"X-Twilio-Email-Event-Webhook-Timestamp": None}),
            id="no-timestamp",
        ),
        pytest.param(
            lambda: signed_vector().with_headers(
                {"X-Twilio-Email-Event-Webhook-Timestamp": "1772478401"}
            ),
            id="other-timestamp",
        ),
    ],
)
def test_forged_or_tampered_posts_are_refused(events: list[Any], forged: Any) -> None:
    response = forged().post(Client(), TRACKING)
    assert response.status_code == 400
    assert response.content.startswith(b"SendGrid webhook: ")
    assert events == []


@pytest.mark.parametrize(
    ("age_hours", "status"), [(-1 / 60, 200), (1, 200), (24, 200), (25.1, 400), (24 * 30, 400)]
)
def test_signed_timestamp_window_outlasts_sendgrids_retries(
    events: list[Any], monkeypatch: pytest.MonkeyPatch, age_hours: float, status: int
) -> None:
    signed_at = 1772478400
    pin_clock(monkeypatch, signed_at + int(age_hours * 3600))
    batch = fixture_json("sendgrid", "tracking_batch.json")[:1]
    response = sendgrid_webhook_request(batch, timestamp=signed_at).post(Client(), TRACKING)
    assert response.status_code == status
    if status == 400:
        assert b"SENDGRID_WEBHOOK_MAX_AGE" in response.content
        assert events == []


def test_window_is_configurable(
    settings: Any, events: list[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    settings.ANYMAIL = {**settings.ANYMAIL, "SENDGRID_WEBHOOK_MAX_AGE": 600}
    pin_clock(monkeypatch, 1772478400 + 601)
    batch = fixture_json("sendgrid", "tracking_batch.json")[:1]
    request = sendgrid_webhook_request(batch, timestamp=1772478400)
    assert request.post(Client(), TRACKING).status_code == 400
    settings.ANYMAIL = {**settings.ANYMAIL, "SENDGRID_WEBHOOK_MAX_AGE": None}
    assert request.post(Client(), TRACKING).status_code == 200


def test_replayed_event_in_a_later_batch_is_not_dispatched_again(events: list[Any]) -> None:
    batch = fixture_json("sendgrid", "tracking_batch.json")
    assert webhook_request("sendgrid", batch[:3]).post(Client(), TRACKING).status_code == 200
    # SendGrid's retry regroups events: the ones already handled (by sg_event_id) are skipped.
    assert webhook_request("sendgrid", batch[1:5]).post(Client(), TRACKING).status_code == 200
    assert [event.event_id for event in events] == [item["sg_event_id"] for item in batch[:5]]


def test_no_verification_key_means_no_signature_check(settings: Any, events: list[Any]) -> None:
    settings.ANYMAIL = {"WEBHOOK_SECRET": SECRET}
    batch = fixture_json("sendgrid", "tracking_batch.json")[:2]
    request = webhook_request("sendgrid", batch, signed=False)
    assert request.post(Client(), TRACKING).status_code == 200
    assert len(events) == 2


def test_verification_key_given_to_the_view_wins_over_the_setting(events: list[Any]) -> None:
    batch = fixture_json("sendgrid", "tracking_batch.json")[:1]
    signed_by_setting_key = webhook_request("sendgrid", batch)
    assert signed_by_setting_key.post(Client(), "/override/").status_code == 400
    signed_by_view_key = webhook_request("sendgrid", batch, signer=OTHER_SIGNER)
    assert signed_by_view_key.post(Client(), "/override/").status_code == 200
    assert len(events) == 1


@pytest.mark.parametrize("key", ["", "not a key", base64.b64encode(b"\x30\x03junk").decode()])
def test_unusable_verification_key_is_a_configuration_error(settings: Any, key: str) -> None:
    settings.ANYMAIL = {**settings.ANYMAIL, "SENDGRID_TRACKING_WEBHOOK_VERIFICATION_KEY": key}
    with pytest.raises(AnymailImproperlyConfigured) as info:
        webhook_request("sendgrid", []).post(Client(), TRACKING)
    assert "SENDGRID_TRACKING_WEBHOOK_VERIFICATION_KEY" in str(info.value)
    assert key not in str(info.value) or not key


def test_verification_key_needs_cryptography(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "cryptography", None)
    with pytest.raises(AnymailImproperlyInstalled) as info:
        SendGridTrackingWebhookView()
    assert "django-anymail[sendgrid]" in str(info.value)


def test_bare_verification_key_setting(settings: Any, events: list[Any]) -> None:
    settings.ANYMAIL = {"WEBHOOK_SECRET": SECRET}
    settings.SENDGRID_TRACKING_WEBHOOK_VERIFICATION_KEY = OTHER_SIGNER.public_key
    batch = fixture_json("sendgrid", "tracking_batch.json")[:1]
    assert webhook_request("sendgrid", batch).post(Client(), TRACKING).status_code == 400
    request = webhook_request("sendgrid", batch, signer=OTHER_SIGNER)
    assert request.post(Client(), TRACKING).status_code == 200


# --- insecure-webhook warnings ---------------------------------------------------------


class _no_warning:
    """Fails if an insecure-webhook warning is issued inside the block."""

    def __enter__(self) -> None:
        import warnings

        self._catcher = warnings.catch_warnings(record=True)
        self._records = self._catcher.__enter__()
        warnings.simplefilter("always")

    def __exit__(self, *exc: Any) -> None:
        self._catcher.__exit__(*exc)
        insecure = [r for r in self._records if r.category is AnymailInsecureWebhookWarning]
        assert insecure == [], [str(r.message) for r in insecure]


def test_insecure_warning_only_without_basic_auth_and_without_a_key(settings: Any) -> None:
    settings.ANYMAIL = {}
    with pytest.warns(AnymailInsecureWebhookWarning, match="SendGrid webhook is not secured"):
        SendGridTrackingWebhookView()
    settings.ANYMAIL = {"SENDGRID_TRACKING_WEBHOOK_VERIFICATION_KEY": verification_key()}
    with _no_warning():
        SendGridTrackingWebhookView()
    settings.ANYMAIL = {"WEBHOOK_SECRET": SECRET}
    with _no_warning():
        SendGridTrackingWebhookView()


def test_system_check_lists_the_unprotected_sendgrid_views(settings: Any) -> None:
    from anymail.checks import check_webhook_secrets

    settings.ANYMAIL = {}
    (warning,) = check_webhook_secrets()
    assert warning.id == "anymail.W001"
    assert "SendGridInboundWebhookView" in warning.msg
    assert "SendGridTrackingWebhookView" in warning.msg
    # Signed tracking posts need no basic auth; Inbound Parse posts are not signed.
    settings.ANYMAIL = {"SENDGRID_TRACKING_WEBHOOK_VERIFICATION_KEY": verification_key()}
    (warning,) = check_webhook_secrets()
    assert "SendGridInboundWebhookView" in warning.msg
    assert "SendGridTrackingWebhookView" not in warning.msg


def test_inbound_insecure_warning_without_basic_auth(settings: Any) -> None:
    from anymail.webhooks.sendgrid import SendGridInboundWebhookView

    # The Event Webhook's key does not sign Inbound Parse posts.
    settings.ANYMAIL = {"SENDGRID_TRACKING_WEBHOOK_VERIFICATION_KEY": verification_key()}
    with pytest.warns(AnymailInsecureWebhookWarning):
        SendGridInboundWebhookView()
    settings.ANYMAIL = {"WEBHOOK_SECRET": SECRET}
    with _no_warning():
        SendGridInboundWebhookView()


# --- inbound ------------------------------------------------------------------------


def post_inbound(fields: Any, **options: Any) -> Any:
    return webhook_request("sendgrid_inbound", fields, **options).post(Client(), INBOUND)


def test_inbound_parsed_mode(messages: list[Any]) -> None:
    assert post_inbound(inbound_form_fields("inbound_parsed.form.json")).status_code == 200
    (event,) = messages
    assert event.event_type == "inbound"
    assert event.timestamp is None and event.event_id is None
    assert event.esp_event.path == "/anymail/sendgrid/inbound/"  # the HttpRequest
    message = event.message
    assert headline(message) == {
        **DISPLAYED_FROM,
        "subject": "Café order",  # an RFC 2047 header, decoded
        "date": datetime(2026, 3, 2, 8, 10, 11, tzinfo=UTC),
    }
    assert message["Message-ID"] == "<CAF00000000000002@mail.example.org>"
    assert message.get_all("Received")[0].startswith("from mail.example.org")
    # text and html were posted in ISO-8859-1, as the charsets field says.
    assert message.text == "Café order\n"
    assert message.html == '<p>Café order <img src="cid:logo@example.org"></p>'
    assert message.envelope_sender == "bounces@example.org"
    assert message.envelope_recipient == "support@inbound.example.com"
    assert message.spam_score == 0.3
    assert message.spam_detected is None  # SendGrid gives no verdict
    assert message.stripped_text is None
    assert parts(message.attachments) == [("note.txt", "text/plain", "Hello, attachment ✓\n")]
    (inline,) = message.inlines
    assert inline.get_filename() == "logo.png"
    assert inline.get_content_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert message.content_id_map == {"logo@example.org": inline}


def test_inbound_raw_mode(messages: list[Any]) -> None:
    assert post_inbound(inbound_form_fields("inbound_raw.form.json")).status_code == 200
    message = messages[0].message
    assert message.subject == "Invoice attached"
    assert message["Message-ID"] == "<CAF00000000000003@mail.example.org>"
    assert message.text == "See attached invoice — thanks."
    (attachment,) = message.attachments
    assert attachment.get_filename() == "invoice.csv"
    assert attachment.get_content_bytes() == b"item,qty\r\nwidget,2\r\n"
    assert message.envelope_sender == "bounces@example.org"
    assert message.envelope_recipient == "support@inbound.example.com"
    assert message.spam_score == 7.9
    assert message.spam_detected is None


def test_inbound_raw_message_bytes_are_kept_exactly(messages: list[Any]) -> None:
    # 8-bit Latin-1 bytes that are not UTF-8: Django's request.POST would replace them.
    raw = (
        b"From: a@example.org\r\nTo: b@example.com\r\nSubject: caf\xe9\r\n"
        b"Content-Type: text/plain; charset=iso-8859-1\r\n"
        b"Content-Transfer-Encoding: 8bit\r\n\r\nCaf\xe9 cr\xe8me\r\n"
    )
    assert post_inbound([("email", raw), ("envelope", {"to": [], "from": ""})]).status_code == 200
    message = messages[0].message
    assert message.text == "Café crème\n"
    assert message.envelope_recipient is None
    assert message.envelope_sender is None


def test_inbound_larger_than_djangos_form_memory_limit(settings: Any, messages: list[Any]) -> None:
    # DATA_UPLOAD_MAX_MEMORY_SIZE (2.5 MB by default) is for forms: Anymail's own
    # WEBHOOK_MAX_BODY_SIZE bounds webhook bodies, so a big raw message is received.
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    body = ("x" * 70 + "\n") * 100
    raw = f"From: a@example.org\nSubject: big\n\n{body}".encode()
    assert post_inbound([("email", raw)]).status_code == 200
    (event,) = messages
    assert event.message.text == body
    assert raw in event.esp_event.body  # the request still has its body for receivers


def test_inbound_attachments_in_numeric_order_and_missing_files_skipped(
    messages: list[Any],
) -> None:
    info = {f"attachment{n}": {"filename": f"f{n}.txt", "type": "text/plain"} for n in (1, 2, 10)}
    info["attachment3"] = {"filename": "dropped.txt", "type": "text/plain"}  # not posted
    fields: list[tuple[str, Any]] = [
        ("headers", "Subject: files\n"),
        ("attachment-info", info),
        ("attachment10", ("f10.txt", b"ten", "text/plain")),
        ("attachment2", ("f2.txt", b"two", "text/plain")),
        ("attachment1", ("f1.txt", b"one", "text/plain")),
    ]
    assert post_inbound(fields).status_code == 200
    message = messages[0].message
    assert [part.get_filename() for part in message.attachments] == ["f1.txt", "f2.txt", "f10.txt"]
    assert message.text is None and message.html is None


def test_inbound_content_ids_field_marks_inline_parts(messages: list[Any]) -> None:
    fields = [
        ("headers", "Subject: logo\n"),
        ("html", '<img src="cid:logo">'),
        ("attachment-info", {"attachment1": {"filename": "logo.png", "type": "image/png"}}),
        ("content-ids", {"logo": "attachment1"}),
        ("attachment1", ("logo.png", b"\x89PNG\r\n", "image/png")),
    ]
    assert post_inbound(fields).status_code == 200
    message = messages[0].message
    assert list(message.content_id_map) == ["logo"]
    assert message.attachments == []


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        (
            [("to", "a@example.com"), ("envelope", "{}")],
            "invalid SendGrid inbound payload: it has neither 'email' (raw MIME) nor 'headers'",
        ),
        ([("email", "x"), ("envelope", "{not json")], "envelope is not valid JSON"),
        ([("email", "x"), ("envelope", '{"to": "a@example.com"}')], "envelope.to should be a list"),
        ([("headers", "x"), ("charsets", "[]")], "charsets should be an object"),
    ],
)
def test_inbound_malformed_payloads_are_400(
    messages: list[Any], fields: list[tuple[str, Any]], reason: str
) -> None:
    response = post_inbound(fields)
    assert response.status_code == 400
    assert reason in response.content.decode()
    assert messages == []


@pytest.mark.parametrize(
    ("request_", "url", "message"),
    [
        (lambda: webhook_request("sendgrid", [{"event": "processed"}]), INBOUND,
         "A SendGrid Event Webhook post came to /anymail/sendgrid/inbound/. Set its URL at "
         "SendGrid to Anymail's sendgrid/tracking/ route"),
        (lambda: webhook_request("sendgrid_inbound", inbound_form_fields("inbound_raw.form.json")),
         TRACKING,
         "A SendGrid Inbound Parse post came to /anymail/sendgrid/tracking/. Set its URL at "
         "SendGrid to Anymail's sendgrid/inbound/ route"),
    ],
)  # fmt: skip
def test_misrouted_post_is_a_configuration_error_so_sendgrid_retries(
    events: list[Any], messages: list[Any], request_: Any, url: str, message: str
) -> None:
    with pytest.raises(AnymailConfigurationError) as info:
        request_().post(Client(), url)
    assert str(info.value).startswith(message)
    assert request_().post(Client(raise_request_exception=False), url).status_code == 500
    assert events == [] and messages == []


def test_inbound_retry_with_another_boundary_is_not_dispatched_again(messages: list[Any]) -> None:
    fields = inbound_form_fields("inbound_raw.form.json")
    assert post_inbound(fields).status_code == 200
    assert post_inbound(fields, boundary="another-boundary-1234").status_code == 200
    assert len(messages) == 1
    assert post_inbound([*fields, ("SPF", "fail")]).status_code == 200  # not the same post
    assert len(messages) == 2


def test_inbound_dedupe_remembers_for_sendgrids_three_days_of_retries(settings: Any) -> None:
    from anymail.webhooks.sendgrid import SendGridInboundWebhookView, SendGridTrackingWebhookView

    assert SendGridInboundWebhookView().dedupe_ttl >= 72 * 3600
    assert SendGridTrackingWebhookView().dedupe_ttl >= 24 * 3600
    settings.ANYMAIL = {**settings.ANYMAIL, "SENDGRID_WEBHOOK_DEDUPE_TTL": 3600}
    assert SendGridInboundWebhookView().dedupe_ttl == 3600


def test_inbound_builder_encodes_exact_bytes() -> None:
    body = encode_form_data([("a", b"\xff"), ("b", "é"), ("c", {"k": 1})], boundary="B")
    assert body == (
        b'--B\r\nContent-Disposition: form-data; name="a"\r\n\r\n\xff\r\n'
        b'--B\r\nContent-Disposition: form-data; name="b"\r\n\r\n\xc3\xa9\r\n'
        b'--B\r\nContent-Disposition: form-data; name="c"\r\n\r\n{"k": 1}\r\n--B--\r\n'
    )
    request = sendgrid_inbound_webhook_request(b"raw", boundary="B", basic_auth=None)
    assert request.content_type == "multipart/form-data; boundary=B"
    assert request.body == b"raw" and dict(request.headers) == {}
    assert json.loads(sendgrid_webhook_request([{"a": 1}], signed=False).body) == [{"a": 1}]
