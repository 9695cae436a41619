"""Mailgun tracking webhooks: every fixture, signatures, replays, settings, legacy forms."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from email.parser import BytesParser
from email.policy import default as default_policy
from typing import Any
from urllib.parse import parse_qsl

import pytest
import responses
from django.test import Client
from django.urls import include, path, reverse

from anymail.backends.mailgun import EmailBackend
from anymail.exceptions import (
    AnymailConfigurationError,
    AnymailImproperlyConfigured,
)
from anymail.message import AnymailMessage
from anymail.signals import AnymailTrackingEvent
from anymail.testing import WebhookRequest, webhook_request
from anymail.webhooks._mailgun_forms import legacy_reject_reason
from anymail.webhooks.mailgun import MailgunBaseWebhookView, MailgunTrackingWebhookView
from tests.utils import FIXTURES_DIR

from .support import EVENT_FIELDS, assert_refused, event_fields

FIXTURES = FIXTURES_DIR / "mailgun"
SIGNING_KEY = "mg-test-webhook-signing-key-NOT-REAL"
PARENT_KEY = "mg-test-parent-account-signing-key-NOT-REAL"
#: When the fixtures were signed (their signature.timestamp).
SIGNED_AT = datetime.fromtimestamp(1768469500, UTC)
URL = "mailgun_tracking_webhook"
MESSAGE_ID = "<20260115093012.5f3e1a2b4c6d8e90@mg.example.com>"
UA = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
ORDER = {"order_id": "12345", "customer": "c-678"}


def at(*args: int) -> datetime:
    return datetime(2026, 1, 15, *args, tzinfo=UTC)


#: Every JSON tracking fixture and the exact event it is (fields not listed: None/[]/{}).
EXPECTED: dict[str, dict[str, Any]] = {
    "tracking_accepted.json": {
        "event_type": "queued",
        "timestamp": at(9, 30, 12, 372891),
        "event_id": "070c160a6299c5438070b1aa737b14fc2992ed49579c142648",
        "recipient": "recipient@example.com",
    },
    "tracking_delivered.json": {
        "event_type": "delivered",
        "timestamp": at(9, 30, 31, 658528),
        "event_id": "373e0712c83cffe15ff427b60e788b549f82496fe5fd5391f7",
        "recipient": "recipient@example.com",
        "mta_response": "OK",
        "tags": ["shipping", "transactional"],
        "metadata": ORDER,
    },
    "tracking_failed_permanent_bounce.json": {
        "event_type": "bounced",
        "timestamp": at(9, 30, 40, 104692),
        "event_id": "2fa4d30e765cc2539f94f92a2a2c6b2fa23c329409216fb615",
        "recipient": "bad-mailbox@example.com",
        "reject_reason": "bounced",
        "mta_response": "5.1.1 The email account that you tried to reach does not exist.",
        "tags": ["shipping"],
        "metadata": ORDER,
    },
    "tracking_failed_permanent_suppress_bounce.json": {
        "event_type": "bounced",
        "timestamp": at(9, 30, 41, 500000),
        "event_id": "782c5130e673eaebd43780914d3b3acedefec0cc4bb62e899a",
        "recipient": "bounced-before@example.com",
        "reject_reason": "bounced",
        "description": "Not delivering to previously bounced address",
    },
    "tracking_failed_temporary.json": {
        "event_type": "deferred",
        "timestamp": at(9, 30, 50, 659519),
        "event_id": "b62a223d7f502b33dc6a86aaf7ee3a32d1b4bbdc49e5755752",
        "recipient": "full-mailbox@example.com",
        "reject_reason": "other",
        "mta_response": "4.2.2 Mailbox full",
    },
    "tracking_failed_delivery_status_null.json": {
        "event_type": "bounced",
        "timestamp": at(9, 31),
        "event_id": "a64f4dc887f1b4d76fdedf9cfa274b6d6a11a7c25bf19c9133",
        "recipient": "slow@example.com",
        "reject_reason": "timed_out",
    },
    "tracking_rejected.json": {
        "event_type": "rejected",
        "timestamp": at(9, 30, 5, 104692),
        "event_id": "20cd938a2ea64f612b3523bc9219130c6fc66cd09b394ea384",
        "recipient": "recipient@example.com",  # from message.headers.to
        "reject_reason": "other",
        "description": "Sandbox subdomains are for test purposes only.",
    },
    "tracking_opened.json": {
        "event_type": "opened",
        "timestamp": at(9, 40, 0, 250000),
        "event_id": "5023662705d96810758a40e018035f9a90b8df6e8250eb522e",
        "recipient": "recipient@example.com",
        "tags": ["shipping", "transactional"],
        "metadata": ORDER,
        "user_agent": UA,
    },
    "tracking_clicked.json": {
        "event_type": "clicked",
        "timestamp": at(9, 41, 0, 750000),
        "event_id": "d66440b202c06f7ffbb75593cc84f21734c87afed2d71c787e",
        "recipient": "recipient@example.com",
        "tags": ["shipping", "transactional"],
        "metadata": ORDER,
        "click_url": "https://shop.example.com/orders/12345?utm_source=email",
        "user_agent": UA,
    },
    "tracking_unsubscribed.json": {
        "event_type": "unsubscribed",
        "timestamp": at(9, 42),
        "event_id": "621e19700fdcf51f959e420de17869718703d6680b55d26d4d",
        "recipient": "recipient@example.com",
        "metadata": ORDER,
        "user_agent": UA,
    },
    "tracking_complained.json": {
        "event_type": "complained",
        "timestamp": at(9, 43),
        "event_id": "c26fe786b8ace1e70a220bea87800772d0b103b9fbc864c93d",
        "recipient": "recipient@example.com",
        "metadata": ORDER,
    },
}

#: Every legacy form fixture and its event (their timestamp is the signed one).
EXPECTED_LEGACY: dict[str, dict[str, Any]] = {
    "legacy_delivered.form.txt": {
        "event_type": "delivered",
        "event_id": "87997ae72b02ff957303ca4acdfebb0b4514078e96417fcb93",
        "recipient": "recipient@example.com",
        # From the X-Mailgun-Tag and X-Mailgun-Variables headers in message-headers.
        "tags": ["shipping"],
        "metadata": ORDER,
    },
    "legacy_dropped_bounce.form.txt": {
        "event_type": "rejected",
        "event_id": "a51ce948b48d0cded6262dff9c07a187770c6d1da971be6519",
        "recipient": "bounced-before@example.com",
        "reject_reason": "bounced",  # code 605
        "description": "Not delivering to previously bounced address",
        "tags": ["shipping"],
        "metadata": ORDER,
    },
    "legacy_bounced.form.txt": {
        "event_type": "bounced",
        "event_id": "b63ca50e284d0e148f4b1e827f7971bd8daa9248f1fdd10004",
        "recipient": "bad-mailbox@example.com",
        "reject_reason": "bounced",  # code 550
        "mta_response": "5.1.1 The email account that you tried to reach does not exist.",
        "tags": ["shipping"],
        "metadata": ORDER,
    },
    "legacy_opened.form.txt": {
        "event_type": "opened",
        "event_id": "a1bcf20eaa5d41b08f4e10f8c6c5912bfec911441afdbe6f9b",
        "recipient": "recipient@example.com",
        "tags": ["shipping", "transactional"],
        "metadata": ORDER,  # the form fields that aren't Mailgun's
        "user_agent": UA,
    },
    "legacy_clicked.form.txt": {
        "event_type": "clicked",
        "event_id": "bbca7726399fb69e69154b03f0399e5e5ec0daf089450e3ce7",
        "recipient": "recipient@example.com",
        "tags": ["shipping"],
        "metadata": {"order_id": "12345"},
        "click_url": "https://shop.example.com/orders/12345",
        "user_agent": UA,
    },
}


def expected_fields(expected: dict[str, Any]) -> dict[str, Any]:
    defaults = dict.fromkeys(EVENT_FIELDS, None) | {
        "tags": [],
        "metadata": {},
        "message_id": MESSAGE_ID,
    }
    return defaults | expected


def fixture_json(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def fixture_body(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def form_fixture(name: str) -> list[tuple[str, str]]:
    return parse_qsl(fixture_body(name).decode("ascii"), keep_blank_values=True)


@pytest.fixture(autouse=True)
def mailgun_settings(settings: Any) -> Any:
    settings.ANYMAIL = {"MAILGUN_WEBHOOK_SIGNING_KEY": SIGNING_KEY}
    return settings


@pytest.fixture
def signing_time(monkeypatch: pytest.MonkeyPatch) -> None:
    """The view's clock a minute after the fixtures were signed, to post them unchanged."""
    monkeypatch.setattr(
        MailgunBaseWebhookView, "now", lambda self: SIGNED_AT + timedelta(minutes=1)
    )


def post(payload: Any, url: str = URL, **options: Any) -> Any:
    return webhook_request("mailgun", payload, **options).post(Client(), url)


def post_exactly(body: bytes, content_type: str, url: str = URL) -> Any:
    return WebhookRequest(body, content_type).post(Client(), url)


# --- every fixture ------------------------------------------------------------------


@pytest.mark.parametrize("name", EXPECTED)
def test_tracking_fixture_signed_by_the_testing_builder(name: str, events: list[Any]) -> None:
    payload = fixture_json(name)
    response = post(payload)
    assert response.status_code == 200, response.content
    [event] = events
    assert isinstance(event, AnymailTrackingEvent)
    assert event_fields(event) == expected_fields(EXPECTED[name])
    assert event.esp_event["event-data"] == payload["event-data"]
    assert event.timestamp.tzinfo is not None


@pytest.mark.parametrize("name", EXPECTED)
def test_tracking_fixture_posted_exactly_as_mailgun_signed_it(
    name: str, events: list[Any], signing_time: None
) -> None:
    response = post_exactly(fixture_body(name), "application/json")
    assert response.status_code == 200, response.content
    assert [event_fields(event) for event in events] == [expected_fields(EXPECTED[name])]
    assert events[0].esp_event == fixture_json(name)


@pytest.mark.parametrize("name", EXPECTED_LEGACY)
def test_legacy_fixture_signed_by_the_testing_builder(name: str, events: list[Any]) -> None:
    response = post(form_fixture(name))
    assert response.status_code == 200, response.content
    [event] = events
    expected = expected_fields(EXPECTED_LEGACY[name])
    expected["timestamp"] = event.timestamp  # signed now
    assert event_fields(event) == expected
    assert abs(event.timestamp - datetime.now(UTC)) < timedelta(minutes=1)
    assert event.esp_event.getlist("event") == [form_fixture(name)[0][1]]  # the QueryDict


@pytest.mark.parametrize("name", EXPECTED_LEGACY)
def test_legacy_fixture_posted_exactly_as_mailgun_signed_it(
    name: str, events: list[Any], signing_time: None
) -> None:
    body = fixture_body(name)
    response = post_exactly(body, "application/x-www-form-urlencoded")
    assert response.status_code == 200, response.content
    assert [event_fields(event) for event in events] == [
        expected_fields(EXPECTED_LEGACY[name] | {"timestamp": SIGNED_AT})
    ]


def test_legacy_fixture_posted_as_multipart(events: list[Any]) -> None:
    # Mailgun's legacy webhooks post multipart/form-data when the event has attachments.
    response = post(form_fixture("legacy_bounced.form.txt"), files={})
    assert response.status_code == 200
    assert events[0].event_type == "bounced"
    assert events[0].reject_reason == "bounced"


# --- event mapping beyond the fixtures ------------------------------------------------


def delivered(**event_data: Any) -> dict[str, Any]:
    payload = fixture_json("tracking_delivered.json")
    payload["event-data"].update(event_data)
    return payload


@pytest.mark.parametrize(
    ("reason", "reject_reason"),
    [
        ("bounce", "bounced"),
        ("delayed-bounce", "bounced"),
        ("suppress-bounce", "bounced"),
        ("suppress-unsubscribe", "unsubscribed"),
        ("suppress-complaint", "spam"),
        ("espblock", "blocked"),
        ("old", "timed_out"),
        ("generic", "other"),
        ("greylisted", "other"),
        ("something-new", "other"),
        (None, "other"),
    ],
)
def test_failed_permanent_reasons(
    reason: str | None, reject_reason: str, events: list[Any]
) -> None:
    # Finer than the public release, which maps every reason but two to "other".
    assert post(delivered(event="failed", severity="permanent", reason=reason)).status_code == 200
    assert (events[0].event_type, events[0].reject_reason) == ("bounced", reject_reason)


def test_failed_temporary_without_reason_has_no_reject_reason(events: list[Any]) -> None:
    assert post(delivered(event="failed", severity="temporary")).status_code == 200
    assert (events[0].event_type, events[0].reject_reason) == ("deferred", None)


def test_failed_with_unknown_severity_is_failed(events: list[Any]) -> None:
    assert post(delivered(event="failed", severity="whatever", reason="bounce")).status_code == 200
    assert (events[0].event_type, events[0].reject_reason) == ("failed", "bounced")


@pytest.mark.parametrize("event", ["stored", "list_member_uploaded", "new-thing"])
def test_other_events_are_unknown(event: str, events: list[Any]) -> None:
    assert post(delivered(event=event)).status_code == 200
    assert events[0].event_type == "unknown"
    assert events[0].esp_event["event-data"]["event"] == event


def test_rejected_with_several_recipients_has_none(events: list[Any]) -> None:
    payload = fixture_json("tracking_rejected.json")
    payload["event-data"]["message"]["headers"]["to"] = "a@example.com, B <b@example.com>"
    assert post(payload).status_code == 200
    assert events[0].recipient is None


def test_empty_texts_are_none_and_bracketed_ids_kept(events: list[Any]) -> None:
    payload = delivered(message={"headers": {"message-id": MESSAGE_ID}})
    payload["event-data"]["delivery-status"].update(message="", description="")
    assert post(payload).status_code == 200
    assert (events[0].message_id, events[0].mta_response, events[0].description) == (
        MESSAGE_ID,
        None,
        None,
    )


def test_minimal_event(events: list[Any]) -> None:
    payload = {"event-data": {"event": "opened", "timestamp": 1768470000}}
    assert post(payload).status_code == 200
    [event] = events
    assert event_fields(event) == expected_fields(
        {
            "event_type": "opened",
            "timestamp": at(9, 40),
            "event_id": event.esp_event["signature"]["token"],
            "message_id": None,
        }
    )


@pytest.mark.parametrize(
    "change",
    [
        {"event-data": None},
        {"event-data": []},
        {"event-data": {"timestamp": 1768470000}},
        {"event-data": {"event": 7, "timestamp": 1768470000}},
        {"event-data": {"event": "opened"}},
        {"event-data": {"event": "opened", "timestamp": "yesterday"}},
        {"event-data": {"event": "opened", "timestamp": 1, "tags": "shipping"}},
        {"event-data": {"event": "opened", "timestamp": 1, "message": {"headers": []}}},
    ],
)
def test_malformed_events_are_400(change: dict[str, Any], events: list[Any]) -> None:
    response = post({**fixture_json("tracking_opened.json"), **change})
    assert response.status_code == 400
    assert response.content.startswith(b"Malformed Mailgun webhook payload: body.event-data")
    assert events == []


# --- metadata, tags and message ids as our sender puts them -----------------------------


def mailgun_form_fields(call: responses.Call) -> list[tuple[str, str]]:
    """The (name, value) fields of the multipart body our backend sent."""
    request = call.request
    head = f"Content-Type: {request.headers['Content-Type']}\r\n\r\n".encode()
    message = BytesParser(policy=default_policy).parsebytes(head + request.body)
    return [
        (part.get_param("name", header="content-disposition"), part.get_content())
        for part in message.iter_parts()
        if part.get_filename() is None
    ]


def test_events_join_the_sent_message(
    settings: Any, mocked_responses: responses.RequestsMock, events: list[Any]
) -> None:
    settings.ANYMAIL = {**settings.ANYMAIL, "MAILGUN_API_KEY": "key-NOT-REAL"}
    mocked_responses.post(
        "https://api.mailgun.net/v3/example.com/messages",
        body=fixture_body("send_success.json"),
        content_type="application/json",
    )
    message = AnymailMessage(
        "Hi", "Body", "from@example.com", ["to@example.com"],
        tags=["shipping", "transactional"],
        metadata={"order_id": "12345", "customer": "c-678"},
        connection=EmailBackend(),
    )  # fmt: skip
    message.send()
    fields = mailgun_form_fields(mocked_responses.calls[0])
    # What Mailgun reports: v: fields as user-variables, o:tag as tags, and its id
    # without the angle brackets its send response has.
    payload = delivered(
        **{
            "user-variables": {name[2:]: value for name, value in fields if name[:2] == "v:"},
            "tags": [value for name, value in fields if name == "o:tag"],
            "message": {"headers": {"message-id": message.anymail_status.message_id[1:-1]}},
        }
    )
    assert post(payload).status_code == 200
    assert events[0].message_id == message.anymail_status.message_id
    assert events[0].metadata == message.metadata
    assert events[0].tags == message.tags


# --- signatures, keys, freshness and replays ---------------------------------------------


def test_bad_signature_fixture_is_refused(events: list[Any], signing_time: None) -> None:
    response = post_exactly(fixture_body("tracking_bad_signature.json"), "application/json")
    assert_refused(response, events, b"MAILGUN_WEBHOOK_SIGNING_KEY")


@pytest.mark.parametrize("field", ["timestamp", "token", "signature"])
def test_one_changed_byte_in_a_signed_value_is_refused(
    field: str, events: list[Any], signing_time: None
) -> None:
    payload = fixture_json("tracking_delivered.json")
    value = payload["signature"][field]
    payload["signature"][field] = value[:-1] + ("0" if value[-1] != "0" else "1")
    assert post_exactly(json.dumps(payload).encode(), "application/json").status_code == 400
    assert events == []


def test_wrong_key_is_refused(events: list[Any]) -> None:
    response = post(fixture_json("tracking_delivered.json"), signing_key="some-other-key")
    assert response.status_code == 400
    assert events == []


@pytest.mark.parametrize(
    "signature",
    [None, {}, {"timestamp": "1768469500", "token": "abc"}, "abc", [], {"timestamp": 1}],
)
def test_missing_or_malformed_signature_block_is_refused(signature: Any, events: list[Any]) -> None:
    payload = fixture_json("tracking_delivered.json")
    payload["signature"] = signature
    assert post_exactly(json.dumps(payload).encode(), "application/json").status_code == 400
    del payload["signature"]
    assert post_exactly(json.dumps(payload).encode(), "application/json").status_code == 400
    assert events == []


def test_subaccount_parent_signature(settings: Any, events: list[Any], signing_time: None) -> None:
    body = fixture_body("tracking_delivered_subaccount.json")
    # Only parent-signature verifies, with the parent account's key.
    assert post_exactly(body, "application/json").status_code == 400
    settings.ANYMAIL = {"MAILGUN_WEBHOOK_SIGNING_KEY": [SIGNING_KEY, PARENT_KEY]}
    assert post_exactly(body, "application/json").status_code == 200
    assert events[0].event_id == "cfc1506f571542825eb878d00c1f980304f70d29a2d01c23e2"


def test_signing_key_rotation(settings: Any, events: list[Any]) -> None:
    settings.ANYMAIL = {"MAILGUN_WEBHOOK_SIGNING_KEY": ["new-key", SIGNING_KEY]}
    assert post(fixture_json("tracking_opened.json"), signing_key=SIGNING_KEY).status_code == 200
    assert post(fixture_json("tracking_clicked.json"), signing_key="new-key").status_code == 200
    assert post(fixture_json("tracking_clicked.json"), signing_key="old-key").status_code == 400
    assert len(events) == 2


def test_stale_post_is_refused_and_the_window_is_generous(settings: Any, events: list[Any]) -> None:
    now = datetime.now(UTC)
    # Mailgun retries for about 8 hours, keeping the signed timestamp: 12 hours accepted.
    old = post(fixture_json("tracking_opened.json"), timestamp=now - timedelta(hours=11))
    assert old.status_code == 200
    stale = post(fixture_json("tracking_clicked.json"), timestamp=now - timedelta(hours=13))
    assert stale.status_code == 400
    assert b"window" in stale.content and b"MAILGUN_WEBHOOK_MAX_AGE" in stale.content
    future = post(fixture_json("tracking_clicked.json"), timestamp=now + timedelta(hours=1))
    assert future.status_code == 400
    assert len(events) == 1
    settings.ANYMAIL = {**settings.ANYMAIL, "MAILGUN_WEBHOOK_MAX_AGE": 24 * 3600}
    late = post(fixture_json("tracking_clicked.json"), timestamp=now - timedelta(hours=13))
    assert late.status_code == 200


def test_a_captured_signature_with_another_event_is_a_duplicate(events: list[Any]) -> None:
    # Mailgun signs timestamp + token only, not the event: the token makes it single-use.
    genuine = webhook_request("mailgun", fixture_json("tracking_delivered.json"))
    assert genuine.post(Client(), URL).status_code == 200
    forged = json.loads(genuine.body)
    forged["event-data"]["recipient"] = "attacker@example.com"
    assert genuine.with_body(json.dumps(forged).encode()).post(Client(), URL).status_code == 200
    assert [event.recipient for event in events] == ["recipient@example.com"]


def test_legacy_signature_uses_the_last_fields(events: list[Any]) -> None:
    # A user variable named "token" comes first; Mailgun's own token, signed, comes last.
    fields = [("token", "user-value"), *form_fixture("legacy_opened.form.txt")]
    assert post(fields).status_code == 200
    assert events[0].event_id != "user-value"
    assert events[0].metadata == {**ORDER, "token": "user-value"}


def test_legacy_tampered_form_is_refused(events: list[Any], signing_time: None) -> None:
    body = fixture_body("legacy_opened.form.txt").replace(b"token=a1", b"token=b1")
    assert post_exactly(body, "application/x-www-form-urlencoded").status_code == 400
    assert events == []


# --- settings -----------------------------------------------------------------------


def test_signing_key_falls_back_to_the_api_key(settings: Any, events: list[Any]) -> None:
    settings.ANYMAIL = {"MAILGUN_API_KEY": "api-key-NOT-REAL"}
    assert post(delivered(), signing_key="api-key-NOT-REAL").status_code == 200
    settings.ANYMAIL = {}
    settings.MAILGUN_API_KEY = "bare-api-key-NOT-REAL"  # the API key may be a bare setting
    assert post(delivered(), signing_key="bare-api-key-NOT-REAL", token="t2").status_code == 200
    # The signing key wins: it differs from the API key once either is rotated.
    settings.ANYMAIL = {"MAILGUN_API_KEY": "api-key-NOT-REAL", "MAILGUN_WEBHOOK_SIGNING_KEY": "s"}
    assert post(delivered(), signing_key="api-key-NOT-REAL", token="t3").status_code == 400
    assert post(delivered(), signing_key="s", token="t4").status_code == 200
    assert len(events) == 3


def test_no_key_at_all_is_a_configuration_error(settings: Any) -> None:
    settings.ANYMAIL = {}
    with pytest.raises(AnymailImproperlyConfigured, match="MAILGUN_WEBHOOK_SIGNING_KEY"):
        post(delivered(), signing_key="anything")
    with pytest.raises(AnymailImproperlyConfigured, match="it is empty"):
        MailgunTrackingWebhookView(webhook_signing_key="")


urlpatterns = [
    path("kwarg/", MailgunTrackingWebhookView.as_view(webhook_signing_key="kwarg-key")),
    path("legacy-kwarg/", MailgunTrackingWebhookView.as_view(api_key="old-kwarg-key")),
    path("anymail/", include("anymail.urls")),
]


@pytest.mark.urls(__name__)
def test_view_kwargs_override_the_settings(events: list[Any]) -> None:
    assert post(delivered(), "/kwarg/", signing_key="kwarg-key").status_code == 200
    assert post(delivered(), "/kwarg/", signing_key=SIGNING_KEY, token="b").status_code == 400
    legacy = post(delivered(), "/legacy-kwarg/", signing_key="old-kwarg-key", token="c")
    assert legacy.status_code == 200
    assert len(events) == 2


# --- routing ------------------------------------------------------------------------


def test_inbound_route_at_the_tracking_url_is_a_configuration_error(events: list[Any]) -> None:
    fields = form_fixture("inbound_parsed.form.txt")
    with pytest.raises(AnymailConfigurationError, match=r"inbound route .* tracking"):
        post(fields)
    assert events == []


def test_unsigned_misrouted_post_is_just_refused(events: list[Any]) -> None:
    body = fixture_body("inbound_parsed.form.txt").replace(b"signature=c", b"signature=0")
    assert post_exactly(body, "application/x-www-form-urlencoded").status_code == 400


def test_head_and_get() -> None:
    assert Client().head(reverse(URL)).status_code == 200
    assert Client().get(reverse(URL)).status_code == 405


# --- legacy forms in detail -------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "reason"),
    [
        ("550", "bounced"),
        ("421", "bounced"),
        ("499", "timed_out"),
        ("605", "bounced"),
        ("607", "spam"),
        ("250", "other"),
        ("5.1.1", "bounced"),
        ("4.2.2", "bounced"),
        ("2.0.0", "other"),
        ("hardfail", None),
        ("", None),
        (None, None),
    ],
)
def test_legacy_codes(code: str | None, reason: str | None) -> None:
    assert legacy_reject_reason(code) == reason


def test_legacy_user_variables_among_mailgun_fields(events: list[Any]) -> None:
    fields = form_fixture("legacy_clicked.form.txt")
    signature_fields = [pair for pair in fields if pair[0] in ("timestamp", "token", "signature")]
    fields = [pair for pair in fields if pair not in signature_fields]
    # User variables that shadow Mailgun's fields come after them, except before the
    # signature fields, which Mailgun appends last; some names can't be recovered.
    fields += [("event", "user-event"), ("city", "Paris"), ("tag", "user-tag")]
    fields = [("timestamp", "user-time"), *fields, *signature_fields]
    assert post(fields).status_code == 200
    [event] = events
    assert event.event_type == "clicked"
    assert event.metadata == {"order_id": "12345", "event": "user-event", "timestamp": "user-time"}
    assert event.tags == ["shipping", "user-tag"]


def test_legacy_metadata_header_that_is_not_json_is_ignored(events: list[Any]) -> None:
    fields = dict(form_fixture("legacy_delivered.form.txt"))
    fields["message-headers"] = json.dumps([["X-Mailgun-Variables", "{not json"]])
    assert post(list(fields.items())).status_code == 200
    assert (events[0].event_type, events[0].metadata, events[0].tags) == ("delivered", {}, [])


def test_legacy_without_event_is_400(events: list[Any]) -> None:
    fields = [pair for pair in form_fixture("legacy_opened.form.txt") if pair[0] != "event"]
    response = post(fields)
    assert response.status_code == 400
    assert b"form.event is missing" in response.content


@pytest.mark.parametrize("field", ["message-headers"])
@pytest.mark.parametrize("value", ["{}", "[1]", "[[1, 2]]", '[["a"]]', "nope", "[" * 100_000])
def test_legacy_malformed_headers_are_400(field: str, value: str, events: list[Any]) -> None:
    fields = dict(form_fixture("legacy_delivered.form.txt"))
    fields[field] = value
    assert post(list(fields.items())).status_code == 400
    assert events == []
