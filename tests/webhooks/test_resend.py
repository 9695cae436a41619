"""Resend tracking webhook: every fixture mapped, Svix signatures, windows, duplicates."""

from __future__ import annotations

import json
import warnings
from datetime import UTC, datetime
from typing import Any

import pytest
import responses
from django.core import checks
from django.test import Client, RequestFactory
from svix.webhooks import Webhook

from anymail._testing_resend import resend_webhook_request
from anymail.backends.resend import EmailBackend
from anymail.exceptions import (
    AnymailConfigurationError,
    AnymailImproperlyConfigured,
    AnymailInsecureWebhookWarning,
)
from anymail.message import AnymailMessage
from anymail.signals import AnymailTrackingEvent
from anymail.testing import WebhookRequest, captured_events
from anymail.webhooks._payload import JsonObject
from anymail.webhooks.resend import (
    ResendInboundWebhookView,
    ResendTrackingWebhookView,
    bounce_reason,
)
from tests.utils import FIXTURES_DIR, make_message, request_json

from .resend_support import (
    INBOUND_SECRET,
    OTHER_SECRET,
    SETTINGS,
    SIGNING_SECRET,
    TRACKING_FIXTURES,
    fixture,
)

URL = "resend_tracking_webhook"
BASIC_AUTH = "resendresendrese:ndresendresendre"
EMAIL_ID = "4ef9a417-02e9-4d39-ad75-9611e0fcc33c"
ORDER_TAGS = ["order", "receipt"]
ORDER_METADATA = {"order_id": "1234"}


@pytest.fixture(autouse=True)
def resend_settings(settings: Any) -> None:
    settings.ANYMAIL = dict(SETTINGS)


@pytest.fixture
def events() -> Any:
    with captured_events() as received:
        yield received


def post(payload: Any, **options: Any) -> Any:
    return resend_webhook_request(payload, **options).post(Client(), URL)


def when(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


# --- every event mapped ------------------------------------------------------------------

#: fixture -> the fields of its event (besides those every email fixture shares).
EXPECTED: dict[str, dict[str, Any]] = {
    "tracking_email_sent.json": {"event_type": "sent"},
    "tracking_email_scheduled.json": {"event_type": "queued"},
    "tracking_email_delivered.json": {"event_type": "delivered"},
    "tracking_email_delivery_delayed.json": {"event_type": "deferred"},
    "tracking_email_complained.json": {"event_type": "complained", "reject_reason": "spam"},
    "tracking_email_bounced.json": {
        "event_type": "bounced",
        "reject_reason": "bounced",
        "description": "The recipient's email provider sent a hard bounce message, but didn't "
        "specify the reason for the hard bounce. We recommend removing the recipient's email "
        "address from your mailing list.",
        "mta_response": "smtp; 550 5.1.1 user unknown",
    },
    "tracking_email_bounced_suppressed_legacy.json": {
        "event_type": "bounced",
        "reject_reason": "blocked",
        "description": "Resend has suppressed sending to this address because it is on the "
        "account-level suppression list. This does not count toward your bounce rate metric",
        "recipient": "blocked@example.com",
        # The legacy payload has no headers: nothing to recover.
        "tags": [],
        "metadata": {},
    },
    "tracking_email_opened.json": {"event_type": "opened"},
    "tracking_email_clicked.json": {
        "event_type": "clicked",
        "click_url": "https://www.example.com/orders/1234",
        "user_agent": "Mozilla/5.0 (X11; Linux x86_64) ExampleBrowser/1.0",
    },
    "tracking_email_failed.json": {
        "event_type": "failed",
        "reject_reason": "other",
        "description": "reached_daily_quota",
    },
    "tracking_email_suppressed.json": {
        "event_type": "rejected",
        "reject_reason": "blocked",
        "description": "Resend has suppressed sending to this address because it is on the "
        "account-level suppression list.",
    },
    "tracking_contact_created.json": {
        "event_type": "unknown",
        "message_id": None,
        "recipient": None,
        "tags": [],
        "metadata": {},
    },
}


def test_every_fixture_has_expectations() -> None:
    assert sorted(EXPECTED) == TRACKING_FIXTURES


@pytest.mark.parametrize("name", TRACKING_FIXTURES)
def test_fixture_gives_exactly_its_event(name: str, events: list[Any]) -> None:
    payload = fixture(name)
    request = resend_webhook_request(payload, svix_id="msg_2FakeSvixIdForThisTest0001")
    response = request.post(Client(), URL)
    assert response.status_code == 200, response.content
    assert len(events) == 1
    event = events[0]
    assert isinstance(event, AnymailTrackingEvent)
    expected = {
        "event_type": None,
        "timestamp": when(payload["created_at"]),  # the event's time, not the email's
        "event_id": "msg_2FakeSvixIdForThisTest0001",
        "message_id": EMAIL_ID,
        "recipient": "alice@example.com",  # the first "to", without its display name
        "reject_reason": None,
        "description": None,
        "mta_response": None,
        "tags": ORDER_TAGS,
        "metadata": ORDER_METADATA,
        "click_url": None,
        "user_agent": None,
        **EXPECTED[name],
    }
    assert {key: getattr(event, key) for key in expected} == expected
    assert event.timestamp.tzinfo is not None
    assert event.esp_event == payload


def test_native_resend_tags_stay_in_esp_event(events: list[Any]) -> None:
    post(fixture("tracking_email_delivered.json"))
    assert events[0].esp_event["data"]["tags"] == {"category": "order_confirmation"}
    assert events[0].tags == ORDER_TAGS  # Anymail's tags come from X-Tags only


@pytest.mark.parametrize(
    ("bounce", "reason"),
    [
        ({"type": "Permanent", "subType": "General", "message": "x"}, "bounced"),
        ({"type": "Transient", "subType": "MailboxFull", "message": "bounce message"}, "bounced"),
        ({"type": "Permanent", "subType": "Suppressed", "message": "x"}, "blocked"),
        ({"type": "Permanent", "subType": "OnAccountSuppressionList"}, "blocked"),
        ({"message": "Resend has suppressed sending to this address"}, "blocked"),
        ({"type": "Transient", "subType": "MailboxFull", "message": "mailbox full"}, "other"),
        ({"type": "Undetermined", "subType": "Undetermined", "message": ""}, "other"),
        ({}, "other"),
    ],
)
def test_bounce_reject_reason(bounce: dict[str, Any], reason: str) -> None:
    assert bounce_reason(JsonObject(bounce)) == reason


def test_suppressed_event_diagnostics_are_the_mta_response(events: list[Any]) -> None:
    payload = fixture("tracking_email_suppressed.json")
    payload["data"]["suppressed"]["diagnosticCode"] = ["smtp; 550 5.1.1 gone", "smtp; 550 x"]
    post(payload)
    assert events[0].mta_response == "smtp; 550 5.1.1 gone\nsmtp; 550 x"


@pytest.mark.parametrize(
    ("headers", "tags", "metadata"),
    [
        # Header names are case-insensitive.
        ([{"name": "x-tags", "value": '["a"]'}], ["a"], {}),
        ([{"name": "X-METADATA", "value": '{"k": 1}'}], [], {"k": 1}),
        # JSON as our backend writes it (ASCII, \u escapes) and folded by a mail system.
        (
            [
                {"name": "X-Tags", "value": '["caf\\u00e9",\r\n "two"]'},
                {"name": "X-Metadata", "value": '{"name": "Zo\\u00eb"}'},
            ],
            ["café", "two"],
            {"name": "Zoë"},
        ),
        # Someone else's headers of those names: no tags or metadata, not an error.
        ([{"name": "X-Tags", "value": "newsletter"}], [], {}),
        ([{"name": "X-Tags", "value": '{"a": 1}'}], [], {}),
        ([{"name": "X-Tags", "value": '["a", 7, null]'}], ["a"], {}),
        ([{"name": "X-Metadata", "value": '["a"]'}], [], {}),
        ([{"name": "X-Metadata", "value": "[" * 1000}], [], {}),
        # The first of a repeated header counts.
        ([{"name": "X-Tags", "value": '["a"]'}, {"name": "X-Tags", "value": '["b"]'}], ["a"], {}),
        ([], [], {}),
    ],
)
def test_tags_and_metadata_from_headers(
    headers: list[dict[str, str]], tags: list[str], metadata: dict[str, Any], events: list[Any]
) -> None:
    payload = fixture("tracking_email_delivered.json")
    payload["data"]["headers"] = headers
    assert post(payload).status_code == 200
    assert (events[0].tags, events[0].metadata) == (tags, metadata)


def test_unparsable_recipient_is_none(events: list[Any]) -> None:
    payload = fixture("tracking_email_delivered.json")
    payload["data"]["to"] = ["not an address"]
    assert post(payload).status_code == 200
    assert events[0].recipient is None


# --- joined to what our backend sent -------------------------------------------------------


def sent_email(message: AnymailMessage, answer: dict[str, Any], endpoint: str) -> Any:
    """Send ``message`` through the Resend backend; the email object(s) Resend received."""
    with responses.RequestsMock() as mock:
        mock.post(f"https://api.resend.com/{endpoint}", json=answer)
        EmailBackend().send_messages([message])
        return request_json(mock.calls[0])


def event_for(email: dict[str, Any], email_id: str, event_type: str) -> dict[str, Any]:
    """The Resend event for an email object we sent (headers as Resend reports them)."""
    return {
        "type": event_type,
        "created_at": "2026-03-04T05:06:09.823Z",
        "data": {
            "created_at": "2026-03-04T05:06:07.982Z",
            "email_id": email_id,
            "from": email["from"],
            "to": email["to"],
            "subject": email["subject"],
            "headers": [{"name": name, "value": value} for name, value in email["headers"].items()],
        },
    }


def test_event_joins_the_send_with_its_tags_and_metadata(events: list[Any]) -> None:
    message = make_message(
        to=["Zoë Client <zoe@example.com>"],
        tags=["commande", "reçu"],
        metadata={"order": 1234, "note": "très bien", "nested": {"ok": True}},
    )
    sent = sent_email(message, {"id": "49a3999c-0ce1-4ea6-ab68-afcd6dc2e794"}, "emails")
    post(event_for(sent, message.anymail_status.message_id, "email.delivered"))
    event = events[0]
    assert event.message_id == message.anymail_status.message_id
    assert event.recipient in message.anymail_status.recipients
    assert event.tags == message.tags
    assert event.metadata == message.metadata


def test_batch_events_join_each_recipient_and_their_merge_metadata(events: list[Any]) -> None:
    message = make_message(
        to=["alice@example.com", "Bob <bob@example.com>"],
        metadata={"campaign": "spring"},
        merge_metadata={"alice@example.com": {"user": 1}, "bob@example.com": {"user": 2}},
    )
    ids = ["ae2014de-c168-4c61-8267-70d2662a1ce1", "faccb7a5-8a28-4e9a-ac64-8da1cc3bc1cb"]
    sent = sent_email(message, {"data": [{"id": one} for one in ids]}, "emails/batch")
    for email, email_id in zip(sent, ids, strict=True):
        post(event_for(email, email_id, "email.opened"))
    status = message.anymail_status.recipients
    assert [(event.recipient, event.message_id, event.metadata) for event in events] == [
        (
            "alice@example.com",
            status["alice@example.com"].message_id,
            {"campaign": "spring", "user": 1},
        ),
        (
            "bob@example.com",
            status["bob@example.com"].message_id,
            {"campaign": "spring", "user": 2},
        ),
    ]


# --- Svix signatures -----------------------------------------------------------------------


def pin_clock(monkeypatch: pytest.MonkeyPatch, when: datetime) -> None:
    for view in (ResendTrackingWebhookView, ResendInboundWebhookView):
        monkeypatch.setattr(view, "now", lambda self: when)


def vector_request(index: int, signature_key: str = "svix-signature") -> WebhookRequest:
    """A known-answer vector of the fact sheet: the fixture's exact bytes, Resend's headers."""
    vector = fixture("signatures.json")["vectors"][index]
    body = (FIXTURES_DIR / "resend" / vector["file"]).read_bytes()
    headers = {name: vector[name] for name in ("svix-id", "svix-timestamp")}
    return WebhookRequest(body, headers={**headers, "svix-signature": vector[signature_key]})


@pytest.mark.parametrize("signature_key", ["svix-signature", "svix-signature_with_rotation"])
def test_known_answer_vector(
    signature_key: str, monkeypatch: pytest.MonkeyPatch, events: list[Any]
) -> None:
    pin_clock(monkeypatch, datetime.fromtimestamp(1772600770 + 60, UTC))
    response = vector_request(0, signature_key).post(Client(), URL)
    assert response.status_code == 200, response.content
    assert events[0].event_type == "delivered"
    assert events[0].event_id == "msg_2FakeSvixId0000000000001"


@pytest.mark.parametrize(("offset", "status"), [(-301, 400), (-299, 200), (299, 200), (301, 400)])
def test_svix_five_minute_window(
    offset: int, status: int, monkeypatch: pytest.MonkeyPatch, events: list[Any]
) -> None:
    # The signed time may be 5 minutes off either way (Svix's own tolerance).
    pin_clock(monkeypatch, datetime.fromtimestamp(1772600770 - offset, UTC))
    response = vector_request(0).post(Client(), URL)
    assert response.status_code == status
    assert len(events) == (1 if status == 200 else 0)
    if status == 400:
        assert b"window" in response.content


def test_window_setting(settings: Any, monkeypatch: pytest.MonkeyPatch, events: list[Any]) -> None:
    settings.ANYMAIL = {**SETTINGS, "RESEND_WEBHOOK_MAX_AGE": 3600}
    pin_clock(monkeypatch, datetime.fromtimestamp(1772600770 + 1800, UTC))
    assert vector_request(0).post(Client(), URL).status_code == 200


@pytest.mark.parametrize(
    "change",
    [
        "flip-a-body-byte",
        "other-svix-id",
        "other-timestamp",
        "no-v1-prefix",
        "v2-label",
        "no-signature",
        "no-headers",
    ],
)
def test_forged_posts_are_refused(
    change: str, monkeypatch: pytest.MonkeyPatch, events: list[Any]
) -> None:
    pin_clock(monkeypatch, datetime.fromtimestamp(1772600770, UTC))
    request = vector_request(0)
    signature = request.headers["svix-signature"]
    forged = {
        "flip-a-body-byte": request.with_body(request.body.replace(b"delivered", b"delivereD")),
        "other-svix-id": request.with_headers({"svix-id": "msg_2FakeSvixId0000000000002"}),
        "other-timestamp": request.with_headers({"svix-timestamp": "1772600771"}),
        "no-v1-prefix": request.with_headers({"svix-signature": signature[3:]}),
        "v2-label": request.with_headers({"svix-signature": "v2" + signature[2:]}),
        "no-signature": request.with_headers({"svix-signature": None}),
        "no-headers": request.with_headers(
            {"svix-id": None, "svix-timestamp": None, "svix-signature": None}
        ),
    }[change]
    response = forged.post(Client(), URL)
    assert response.status_code == 400
    assert events == []


def test_wrong_secret_names_the_setting(events: list[Any]) -> None:
    response = post(fixture("tracking_email_sent.json"), signing_secret=OTHER_SECRET)
    assert response.status_code == 400
    assert b"RESEND_SIGNING_SECRET" in response.content
    assert SIGNING_SECRET.encode() not in response.content
    assert events == []


def test_the_inbound_secret_does_not_sign_tracking_posts(events: list[Any]) -> None:
    response = post(fixture("tracking_email_sent.json"), signing_secret=INBOUND_SECRET)
    assert response.status_code == 400
    assert events == []


def test_secret_rotation_list_accepts_either(settings: Any, events: list[Any]) -> None:
    settings.ANYMAIL = {**SETTINGS, "RESEND_SIGNING_SECRET": [OTHER_SECRET, SIGNING_SECRET]}
    assert (
        post(fixture("tracking_email_sent.json"), signing_secret=SIGNING_SECRET).status_code == 200
    )
    assert post(fixture("tracking_email_sent.json"), signing_secret=OTHER_SECRET).status_code == 200
    assert (
        post(fixture("tracking_email_sent.json"), signing_secret=INBOUND_SECRET).status_code == 400
    )
    assert len(events) == 2


def test_view_argument_overrides_the_secret_setting(events: list[Any]) -> None:
    view = ResendTrackingWebhookView.as_view(signing_secret=OTHER_SECRET)
    signed_by_other = resend_webhook_request(
        fixture("tracking_email_sent.json"), signing_secret=OTHER_SECRET
    )
    assert (
        view(signed_by_other.post(RequestFactory(), "/anymail/resend/tracking/")).status_code == 200
    )
    signed_by_setting = resend_webhook_request(fixture("tracking_email_sent.json"))
    assert (
        view(signed_by_setting.post(RequestFactory(), "/anymail/resend/tracking/")).status_code
        == 400
    )
    assert len(events) == 1


@pytest.mark.parametrize("secret", ["", "  ", "whsec_", "whsec_not base64!", 42, []])
def test_unusable_secret_is_a_configuration_error(settings: Any, secret: Any) -> None:
    settings.ANYMAIL = {**SETTINGS, "RESEND_SIGNING_SECRET": secret}
    with pytest.raises(AnymailImproperlyConfigured, match="RESEND_SIGNING_SECRET"):
        post(fixture("tracking_email_sent.json"), signing_secret=SIGNING_SECRET)


def test_cross_checked_with_the_svix_library(events: list[Any]) -> None:
    """Posts signed by Svix's own library pass; ours verify with it."""
    body = json.dumps(fixture("tracking_email_opened.json")).encode()
    now = datetime.now(UTC).replace(microsecond=0)
    signature = Webhook(SIGNING_SECRET).sign("msg_SignedBySvixLibrary", now, body.decode())
    headers = {
        "svix-id": "msg_SignedBySvixLibrary",
        "svix-timestamp": str(int(now.timestamp())),
        "svix-signature": signature,
    }
    assert WebhookRequest(body, headers=headers).post(Client(), URL).status_code == 200
    assert events[0].event_id == "msg_SignedBySvixLibrary"
    # A rotation header made of Svix signatures under an old and the current secret.
    old = Webhook(OTHER_SECRET).sign("msg_SignedBySvixLibrary2", now, body.decode())
    rotated = {**headers, "svix-id": "msg_SignedBySvixLibrary2"}
    rotated["svix-signature"] = f"{old} " + Webhook(SIGNING_SECRET).sign(
        "msg_SignedBySvixLibrary2", now, body.decode()
    )
    assert WebhookRequest(body, headers=rotated).post(Client(), URL).status_code == 200
    # And what our test builder sends, Svix's library accepts.
    ours = resend_webhook_request(fixture("tracking_email_opened.json"))
    Webhook(SIGNING_SECRET).verify(ours.body, dict(ours.headers))


def test_vendor_neutral_header_names(events: list[Any]) -> None:
    request = resend_webhook_request(fixture("tracking_email_sent.json"), svix_id="msg_neutral")
    neutral = {name.replace("svix-", "webhook-"): value for name, value in request.headers.items()}
    assert WebhookRequest(request.body, headers=neutral).post(Client(), URL).status_code == 200
    assert events[0].event_id == "msg_neutral"


# --- duplicates ------------------------------------------------------------------------------


def test_a_retry_is_acknowledged_and_not_dispatched_again(events: list[Any]) -> None:
    payload = fixture("tracking_email_delivered.json")
    first = resend_webhook_request(payload, svix_id="msg_retried")
    assert first.post(Client(), URL).status_code == 200
    # Svix signs each attempt afresh (new timestamp, new signature), with the same svix-id.
    retry = resend_webhook_request(
        payload, svix_id="msg_retried", timestamp=int(datetime.now(UTC).timestamp()) - 100
    )
    assert retry.headers["svix-signature"] != first.headers["svix-signature"]
    assert retry.post(Client(), URL).status_code == 200
    assert first.post(Client(), URL).status_code == 200  # a replay within the window
    assert len(events) == 1
    # Another event (another svix-id) with the very same body is dispatched.
    assert post(payload, svix_id="msg_another").status_code == 200
    assert len(events) == 2


# --- basic auth and warnings -------------------------------------------------------------------


def test_basic_auth_only(settings: Any, events: list[Any]) -> None:
    settings.ANYMAIL = {"WEBHOOK_SECRET": BASIC_AUTH}
    assert post(fixture("tracking_email_sent.json"), signing_secret=None).status_code == 200
    assert post(fixture("tracking_email_sent.json"), basic_auth=None).status_code == 400
    # Without a secret the svix-id is not checked, but it still identifies the event.
    request = resend_webhook_request(fixture("tracking_email_sent.json"), svix_id="msg_unsigned")
    assert request.post(Client(), URL).status_code == 200
    assert events[-1].event_id == "msg_unsigned"


def test_signature_and_basic_auth_together(settings: Any, events: list[Any]) -> None:
    settings.ANYMAIL = {**SETTINGS, "WEBHOOK_SECRET": BASIC_AUTH}
    assert post(fixture("tracking_email_sent.json")).status_code == 200
    assert post(fixture("tracking_email_sent.json"), basic_auth=None).status_code == 400
    assert post(fixture("tracking_email_sent.json"), signing_secret=None).status_code == 400
    assert len(events) == 1


@pytest.mark.parametrize(
    ("settings_", "warned"),
    [
        ({}, True),
        ({"RESEND_SIGNING_SECRET": SIGNING_SECRET}, False),
        ({"WEBHOOK_SECRET": BASIC_AUTH}, False),
        ({"RESEND_INBOUND_SECRET": INBOUND_SECRET}, True),  # the other endpoint's secret
    ],
)
def test_insecure_warning_only_without_secret_or_basic_auth(
    settings: Any, settings_: dict[str, str], warned: bool
) -> None:
    settings.ANYMAIL = settings_
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ResendTrackingWebhookView()
    assert [w.category for w in caught] == ([AnymailInsecureWebhookWarning] if warned else [])


@pytest.mark.parametrize(
    ("settings_", "listed"),
    [
        ({}, ["ResendTrackingWebhookView", "ResendInboundWebhookView"]),
        ({"RESEND_SIGNING_SECRET": SIGNING_SECRET}, ["ResendInboundWebhookView"]),
        ({"RESEND_INBOUND_SECRET": INBOUND_SECRET}, ["ResendTrackingWebhookView"]),
        ({"RESEND_SIGNING_SECRET": SIGNING_SECRET, "RESEND_INBOUND_SECRET": INBOUND_SECRET}, []),
    ],
)
def test_system_check_lists_the_unsigned_resend_views(
    settings: Any, settings_: dict[str, str], listed: list[str]
) -> None:
    settings.ANYMAIL = settings_
    messages = [m.msg for m in checks.run_checks() if m.id == "anymail.W001"]
    text = " ".join(messages)
    assert [
        name for name in ("ResendTrackingWebhookView", "ResendInboundWebhookView") if name in text
    ] == listed


# --- misrouting and bodies -------------------------------------------------------------------


def test_received_email_at_the_tracking_url_is_a_configuration_error(events: list[Any]) -> None:
    with pytest.raises(AnymailConfigurationError, match="/anymail/resend/inbound/"):
        post(fixture("inbound_email_received.json"), inbound=False)
    assert events == []


def test_wrong_content_type_is_refused(events: list[Any]) -> None:
    request = resend_webhook_request(fixture("tracking_email_sent.json"))
    response = Client().post(
        "/anymail/resend/tracking/",
        request.body,
        content_type="text/plain",
        headers=dict(request.headers),
    )
    assert response.status_code == 400
    assert events == []
