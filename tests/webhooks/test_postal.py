"""Postal's tracking webhook and inbound HTTP endpoint (raw message format).

Bodies are the fact sheet's fixtures (tests/fixtures/postal/), signed through
anymail.testing with a throwaway RSA key, or with the fixture's own signatures
(known-answer vectors made with Postal's scheme) over their exact bytes.
"""

from __future__ import annotations

import base64
import dataclasses
import functools
import textwrap
from datetime import UTC, datetime
from typing import Any

import pytest
import responses
from django.core.cache import caches
from django.test import Client, RequestFactory

from anymail._testing_postal import webhook_key
from anymail.backends.postal import EmailBackend
from anymail.exceptions import AnymailConfigurationError, AnymailImproperlyConfigured
from anymail.signals import AnymailInboundEvent, AnymailTrackingEvent, inbound, tracking
from anymail.testing import captured_events, json_webhook_request, webhook_request
from anymail.webhooks._signers import EcdsaTestSigner, RsaTestSigner
from anymail.webhooks.postal import PostalTrackingWebhookView
from tests.utils import FIXTURES_DIR, add_response, fixture_json, run_django_script

from .support import (
    assert_refused,
    fixture_names,
    poster,
    received_inbound,
    sent_order,
    tracked_event,
)

SECRET = "postalpostalpost:alpostalpostalp"
FIXTURES = fixture_names("postal", "tracking*.json", "inbound*.json")
SENT_AT = datetime.fromtimestamp(1772600790.5, UTC)


@pytest.fixture(autouse=True)
def postal_settings(settings: Any) -> None:
    settings.ANYMAIL = {"WEBHOOK_SECRET": SECRET, "POSTAL_WEBHOOK_KEY": webhook_key()}


def fixture(name: str) -> Any:
    return fixture_json("postal", name)


def fixture_bytes(name: str) -> bytes:
    return (FIXTURES_DIR / "postal" / name).read_bytes()


post = poster("postal")


post_event = functools.partial(tracked_event, post)


# --- tracking: every fixture --------------------------------------------------------------

NO_MESSAGE = {"message_id": None, "recipient": None, "tags": []}
#: A notice about the mail server, not about a message: unknown.
SERVER_NOTICE: dict[str, Any] = {
    "event_type": "unknown",
    "reject_reason": None,
    **NO_MESSAGE,
    "description": None,
    "mta_response": None,
    "click_url": None,
    "user_agent": None,
}


ALICE = {"message_id": 1503, "recipient": "alice@example.com", "tags": ["receipt"]}
TRACKING_EXPECTED: dict[str, dict[str, Any]] = {
    "tracking_message_sent.json": {
        "event_type": "delivered",
        "reject_reason": None,
        **ALICE,
        "description": "Message for alice@example.com accepted by mx1.example.com (192.0.2.25)",
        "mta_response": "250 2.0.0 OK 1772600789 abc123 - fake",
        "click_url": None,
        "user_agent": None,
    },
    "tracking_message_delayed.json": {
        "event_type": "deferred",
        "reject_reason": None,
        **ALICE,
        "description": "Temporary SMTP delivery error when sending to mx1.example.com (192.0.2.25)",
        "mta_response": "451 4.7.1 Greylisted, please try again later",
        "click_url": None,
        "user_agent": None,
    },
    "tracking_message_delivery_failed.json": {
        "event_type": "failed",
        "reject_reason": None,
        **ALICE,
        "description": "Permanent SMTP delivery error when sending to mx1.example.com (192.0.2.25)",
        "mta_response": "550 5.1.1 <alice@example.com>: Recipient address rejected: User unknown",
        "click_url": None,
        "user_agent": None,
    },
    "tracking_message_held.json": {
        "event_type": "queued",
        "reject_reason": None,
        **ALICE,
        "description": "Recipient (alice@example.com) is on the suppression list "
        "(reason: too many hard fails)",
        "mta_response": None,  # "output": ""
        "click_url": None,
        "user_agent": None,
    },
    "tracking_message_bounced.json": {
        "event_type": "bounced",
        "reject_reason": "bounced",
        **ALICE,  # the original message, not the bounce message
        "description": None,
        "mta_response": None,
        "click_url": None,
        "user_agent": None,
    },
    "tracking_message_link_clicked.json": {
        "event_type": "clicked",
        "reject_reason": None,
        **ALICE,
        "description": None,
        "mta_response": None,
        "click_url": "https://www.example.com/orders/1234",
        "user_agent": "Mozilla/5.0 (X11; Linux x86_64) ExampleBrowser/1.0",
    },
    "tracking_message_loaded.json": {
        "event_type": "opened",  # finer than the public release's "unknown"
        "reject_reason": None,
        **ALICE,
        "description": None,
        "mta_response": None,
        "click_url": None,
        "user_agent": "Mozilla/5.0 (X11; Linux x86_64) ExampleBrowser/1.0",
    },
    "tracking_domain_dns_error.json": SERVER_NOTICE,
    "tracking_send_limit_approaching.json": SERVER_NOTICE,
}


@pytest.mark.parametrize("name", sorted(TRACKING_EXPECTED))
def test_every_tracking_fixture(name: str) -> None:
    payload = fixture(name)
    event = post_event(payload)
    actual = {field: getattr(event, field) for field in TRACKING_EXPECTED[name]}
    assert actual == TRACKING_EXPECTED[name]
    assert event.timestamp == SENT_AT
    assert event.timestamp is not None and event.timestamp.tzinfo is not None
    assert event.event_id == payload["uuid"]
    assert event.metadata == {}
    assert event.esp_event == payload


def test_every_tracking_fixture_is_covered() -> None:
    tracking_fixtures = {name for name in FIXTURES if name.startswith("tracking_")}
    assert tracking_fixtures == {*TRACKING_EXPECTED, "tracking_incoming_delivery_failed.json"}


def test_reports_on_received_mail_dispatch_nothing(events: list[AnymailTrackingEvent]) -> None:
    """Postal's report on delivering an *incoming* message (e.g. to our inbound URL)."""
    response = post(fixture("tracking_incoming_delivery_failed.json"))
    assert response.status_code == 200
    assert events == []


def test_null_or_empty_tag_is_no_tag() -> None:
    for tag in (None, ""):
        payload = fixture("tracking_message_sent.json")
        payload["payload"]["message"]["tag"] = tag
        payload["uuid"] = f"uuid-{tag!r}"
        assert post_event(payload).tags == []


def test_recipient_is_the_envelope_address_or_none() -> None:
    payload = fixture("tracking_message_sent.json")
    payload["payload"]["message"]["to"] = "not an address"
    assert post_event(payload).recipient is None


def test_unknown_events_keep_their_message_fields() -> None:
    payload = fixture("tracking_message_sent.json")
    payload["event"] = "MessageSomethingNew"
    event = post_event(payload)
    assert (event.event_type, event.message_id, event.recipient) == (
        "unknown",
        1503,
        "alice@example.com",
    )


def test_sends_and_events_join(mocked_responses: responses.RequestsMock, settings: Any) -> None:
    """An event's message_id is the integer id the send reported for that recipient."""
    settings.ANYMAIL = {
        **settings.ANYMAIL,
        "POSTAL_API_KEY": "test-key",
        "POSTAL_API_URL": "https://postal.example.com",
    }
    add_response(
        mocked_responses,
        "https://postal.example.com/api/v1/send/message",
        body=fixture("send_success.json"),
    )
    message = sent_order(tags=["receipt"])
    EmailBackend().send_messages([message])
    assert message.anymail_status.message_id == {1503, 1504, 1505}
    event = post_event(fixture("tracking_message_sent.json"))
    assert event.recipient is not None
    assert event.message_id == message.anymail_status.recipients[event.recipient].message_id
    assert event.tags == message.tags


def test_replayed_event_is_dispatched_once(events: list[AnymailTrackingEvent]) -> None:
    """No timestamp is signed: a replay of a captured post is caught by its uuid."""
    request = webhook_request("postal", fixture("tracking_message_sent.json"))
    assert request.post(Client(), "postal_tracking_webhook").status_code == 200
    assert request.post(Client(), "postal_tracking_webhook").status_code == 200
    assert len(events) == 1


def test_inbound_post_at_the_tracking_url_is_a_configuration_error() -> None:
    with pytest.raises(AnymailConfigurationError, match=r"\*inbound\* webhook .* \*tracking\*"):
        post(fixture("inbound_raw_message.json"))


@pytest.mark.parametrize(
    "body",
    [
        [],
        {"event": "MessageSent"},  # no payload
        {"event": 7, "payload": {}},
        {"event": "MessageSent", "payload": {"message": {"id": "1503"}}, "uuid": "u"},
        {"event": "MessageSent", "payload": {"message": "1503"}},
        {"event": "MessageSent", "payload": {}, "timestamp": "yesterday"},
    ],
)
def test_malformed_tracking_posts_are_refused(
    events: list[AnymailTrackingEvent], body: Any
) -> None:
    response = post(body)
    assert response.status_code == 400
    assert response.content.startswith(b"Malformed Postal webhook payload")
    assert events == []


# --- signatures --------------------------------------------------------------------------


def known_answer_requests(name: str) -> tuple[str, bytes, dict[str, str]]:
    """(the fixture key, the exact signed bytes, both signature headers) of a vector."""
    data = fixture("signatures.json")
    (vector,) = [vector for vector in data["vectors"] if vector["file"] == name]
    headers = {
        header: vector[header] for header in ("X-Postal-Signature", "X-Postal-Signature-256")
    }
    return data["POSTAL_WEBHOOK_KEY"], fixture_bytes(name), headers


@pytest.mark.parametrize(
    ("name", "kind"),
    [("tracking_message_sent.json", "tracking"), ("inbound_raw_message.json", "inbound")],
)
@pytest.mark.parametrize(
    "headers_sent",
    [
        ("X-Postal-Signature", "X-Postal-Signature-256"),  # Postal 3.2+
        ("X-Postal-Signature",),  # Postal before 3.2
        ("X-Postal-Signature-256",),
    ],
)
def test_known_answer_signatures(
    settings: Any, name: str, kind: str, headers_sent: tuple[str, ...]
) -> None:
    key, body, headers = known_answer_requests(name)
    settings.ANYMAIL = {"POSTAL_WEBHOOK_KEY": key}
    sent = {header: headers[header] for header in headers_sent}
    with captured_events(tracking) as tracked, captured_events(inbound) as received:
        response = json_webhook_request(body, headers=sent).post(Client(), f"postal_{kind}_webhook")
    assert response.status_code == 200, response.content
    assert len(tracked + received) == 1


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ("tamper", b"incorrect X-Postal-Signature-256"),
        ("wrong-256-valid-sha1", b"incorrect X-Postal-Signature-256"),  # no downgrade
        ("tamper-sha1-only", b"incorrect X-Postal-Signature."),
        ("other-file-signature", b"incorrect X-Postal-Signature-256"),
        ("garbage", b"incorrect X-Postal-Signature-256"),
        ("empty", b"incorrect X-Postal-Signature-256"),
        ("missing", b"the X-Postal-Signature header is missing"),
    ],
)
def test_bad_signatures_are_refused(
    settings: Any, events: list[AnymailTrackingEvent], change: str, reason: bytes
) -> None:
    key, body, headers = known_answer_requests("tracking_message_sent.json")
    _, _, other = known_answer_requests("inbound_raw_message.json")
    settings.ANYMAIL = {"POSTAL_WEBHOOK_KEY": key}
    # One flipped byte, inside a value the parser would accept either way.
    tampered = body.replace(b'"id": 1503', b'"id": 1504')
    assert tampered != body
    bodies_and_headers = {
        "tamper": (tampered, headers),
        "wrong-256-valid-sha1": (
            body,
            {**headers, "X-Postal-Signature-256": other["X-Postal-Signature-256"]},
        ),
        "tamper-sha1-only": (tampered, {"X-Postal-Signature": headers["X-Postal-Signature"]}),
        "other-file-signature": (body, other),
        "garbage": (body, {**headers, "X-Postal-Signature-256": "not base64 at all!"}),
        "empty": (body, {**headers, "X-Postal-Signature-256": ""}),
        "missing": (body, {}),
    }
    sent_body, sent_headers = bodies_and_headers[change]
    response = json_webhook_request(sent_body, headers=sent_headers).post(
        Client(), "postal_tracking_webhook"
    )
    assert_refused(response, events, reason)


@pytest.mark.parametrize("kind", ["tracking", "inbound"])
def test_wrong_key_is_refused(kind: str, events: list[AnymailTrackingEvent]) -> None:
    payload = fixture(
        "tracking_message_sent.json" if kind == "tracking" else "inbound_raw_message.json"
    )
    with captured_events(inbound) as received:
        response = post(payload, kind, signer=RsaTestSigner())
    assert response.status_code == 400
    assert b"POSTAL_WEBHOOK_KEY" in response.content
    assert events == received == []


def test_legacy_sha1_only_posts_are_accepted(events: list[AnymailTrackingEvent]) -> None:
    request = webhook_request("postal", fixture("tracking_message_sent.json"), legacy=True)
    assert set(request.headers) == {"Authorization", "X-Postal-Signature"}
    assert request.post(Client(), "postal_tracking_webhook").status_code == 200
    assert len(events) == 1


def test_webhook_key_tolerates_pem_and_whitespace(settings: Any) -> None:
    key = webhook_key()
    wrapped = "\n".join(key[i : i + 64] for i in range(0, len(key), 64))
    for value in (
        f"-----BEGIN PUBLIC KEY-----\n{wrapped}\n-----END PUBLIC KEY-----\n",
        f"  {wrapped}\n",
    ):
        caches["default"].clear()
        settings.ANYMAIL = {"POSTAL_WEBHOOK_KEY": value}
        assert post(fixture("tracking_message_sent.json")).status_code == 200


@pytest.mark.parametrize("value", [None, "", "   ", "not a key", "c2hvcnQ="])
def test_missing_or_unusable_key_is_a_configuration_error(settings: Any, value: Any) -> None:
    settings.ANYMAIL = {"POSTAL_WEBHOOK_KEY": value} if value is not None else {}
    with pytest.raises(AnymailImproperlyConfigured, match="POSTAL_WEBHOOK_KEY") as info:
        post(fixture("tracking_message_sent.json"))
    if value and value.strip():
        assert value.strip() not in str(info.value)


def test_ec_key_is_refused(settings: Any) -> None:
    settings.ANYMAIL = {"POSTAL_WEBHOOK_KEY": EcdsaTestSigner().public_key}
    with pytest.raises(AnymailImproperlyConfigured, match="not an RSA public key"):
        post(fixture("tracking_message_sent.json"))


def test_view_argument_overrides_the_key_setting(settings: Any) -> None:
    settings.ANYMAIL = {"POSTAL_WEBHOOK_KEY": RsaTestSigner().public_key}
    request = webhook_request("postal", fixture("tracking_message_sent.json"))
    assert (
        PostalTrackingWebhookView.as_view()(request.post(RequestFactory(), "/")).status_code == 400
    )
    view = PostalTrackingWebhookView.as_view(webhook_key=webhook_key())
    with captured_events(tracking) as received:
        assert view(request.post(RequestFactory(), "/")).status_code == 200
    assert len(received) == 1


def test_views_need_cryptography_only_when_used() -> None:
    # A fresh interpreter in which cryptography cannot be imported.
    script = textwrap.dedent(
        """
        import importlib.abc, sys

        class Block(importlib.abc.MetaPathFinder):
            def find_spec(self, name, path=None, target=None):
                if name.split(".")[0] == "cryptography":
                    raise ImportError(f"{name} is blocked")
                return None

        sys.meta_path.insert(0, Block())
        import django
        django.setup()
        from django.conf import settings
        settings.ANYMAIL = {"POSTAL_WEBHOOK_KEY": "MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8A"}
        from django.test import Client
        from anymail.exceptions import AnymailImproperlyInstalled
        import anymail.webhooks.postal
        try:
            Client().post("/anymail/postal/tracking/", b"{}", content_type="application/json")
        except AnymailImproperlyInstalled as err:
            print("refused:", err.install_extra)
        """
    )
    stdout = run_django_script(script)
    assert stdout.strip() == "refused: postal"


# --- inbound -----------------------------------------------------------------------------


post_message = functools.partial(received_inbound, post)


def with_raw_message(raw: bytes) -> dict[str, Any]:
    payload = fixture("inbound_raw_message.json")
    encoded = base64.b64encode(raw).decode("ascii")
    payload["message"] = "\n".join(encoded[i : i + 60] for i in range(0, len(encoded), 60)) + "\n"
    payload["size"] = len(raw)
    return payload


def test_inbound_raw_message() -> None:
    payload = fixture("inbound_raw_message.json")
    event = post_message(payload)
    message = event.message
    assert event.event_type == "inbound"
    assert event.event_id == "1702"
    assert event.timestamp is None
    assert event.esp_event == payload
    # The whole message, byte for byte (serialized with \n line ends).
    assert message.as_bytes() == fixture_bytes("inbound_raw_message.eml").replace(b"\r\n", b"\n")
    assert message.from_email is not None
    assert message.from_email.addr_spec == "sender@example.net"
    assert [to.addr_spec for to in message.to] == ["support@inbound.example.com"]
    assert message.subject == "Question about order 1234"
    assert message.text == "Where is my order? Merci, Zoë"
    assert message.html == "<p>Where is my order? Merci, Zoë</p>"
    assert message.envelope_sender == "sender@example.net"
    assert message.envelope_recipient == "support@inbound.example.com"
    assert (message.spam_detected, message.spam_score) == (False, 1.3)


def test_inbound_8bit_non_utf8_message_is_parsed_as_bytes() -> None:
    raw = (
        b"From: a@example.net\r\nTo: support@inbound.example.com\r\nSubject: caf\xe9\r\n"
        b"Content-Type: text/plain; charset=iso-8859-1\r\n"
        b"Content-Transfer-Encoding: 8bit\r\n\r\nUn caf\xe9, s'il vous pla\xeet.\r\n"
    )
    message = post_message(with_raw_message(raw)).message
    assert message.text == "Un café, s'il vous plaît.\n"
    assert message.get_content_bytes() == b"Un caf\xe9, s'il vous pla\xeet.\r\n"


@pytest.mark.parametrize(
    ("headers", "detected", "score"),
    [
        (b"X-Postal-Spam: yes\r\nX-Postal-Spam-Score: 7.5\r\n", True, 7.5),
        (b"X-Postal-Spam: NO\r\nX-Postal-Spam-Score: -0.2\r\n", False, -0.2),
        (b"X-Postal-Spam: maybe\r\nX-Postal-Spam-Score: lots\r\n", None, None),
        (b"X-Postal-Spam-Score: nan\r\n", None, None),
        (b"", None, None),  # spam checking off
        # Postal prepends its headers: the first of each is Postal's, not the sender's.
        (b"X-Postal-Spam: yes\r\nX-Postal-Spam: no\r\n", True, None),
    ],
)
def test_inbound_spam_headers(headers: bytes, detected: bool | None, score: float | None) -> None:
    raw = headers + b"From: a@example.net\r\nSubject: hi\r\n\r\nHello\r\n"
    message = post_message(with_raw_message(raw)).message
    assert (message.spam_detected, message.spam_score) == (detected, score)


def test_inbound_unencoded_message() -> None:
    payload = fixture("inbound_raw_message.json")
    payload["base64"] = False
    payload["message"] = (
        "From: a@example.net\r\nSubject: Zoë\r\nContent-Type: text/plain; charset=utf-8\r\n"
        "\r\nMerci, Zoë\r\n"
    )
    message = post_message(payload).message
    assert message.text == "Merci, Zoë\n"


def test_inbound_retry_is_dispatched_once(messages: list[AnymailInboundEvent]) -> None:
    payload = fixture("inbound_raw_message.json")
    assert post(payload, "inbound").status_code == 200
    assert post(payload, "inbound").status_code == 200
    assert len(messages) == 1


def test_messages_of_two_mail_servers_with_the_same_id_are_both_dispatched(
    messages: list[AnymailInboundEvent],
) -> None:
    """Postal numbers messages per mail server: an id alone doesn't identify a message."""
    first = with_raw_message(b"From: a@example.net\r\nSubject: one\r\n\r\nOne\r\n")
    second = with_raw_message(b"From: b@example.net\r\nSubject: two\r\n\r\nTwo\r\n")
    assert first["id"] == second["id"]
    for payload in (first, second, first):
        assert post(payload, "inbound").status_code == 200
    assert [event.message.subject for event in messages] == ["one", "two"]


def test_tracking_post_at_the_inbound_url_is_a_configuration_error() -> None:
    with pytest.raises(AnymailConfigurationError, match=r"\*tracking\* webhook .* \*inbound\*"):
        post(fixture("tracking_message_sent.json"), "inbound")


def test_processed_hash_format_is_a_configuration_error() -> None:
    """Answered 5xx, not 400: Postal would bounce the message for a 4xx, but retries a 5xx."""
    hash_format = {
        "id": 1702,
        "rcpt_to": "support@inbound.example.com",
        "mail_from": "sender@example.net",
        "subject": "Question about order 1234",
        "plain_body": "Where is my order?",
        "html_body": None,
        "attachments": [],
    }
    with pytest.raises(AnymailConfigurationError, match="Delivered as the raw message"):
        post(hash_format, "inbound")
    quiet = Client(raise_request_exception=False)
    assert post(hash_format, "inbound", client=quiet).status_code == 500


def test_form_encoded_posts_are_a_configuration_error_once_signed(
    messages: list[AnymailInboundEvent],
) -> None:
    form = b"id=1702&rcpt_to=support%40inbound.example.com&message=abc"
    signed = webhook_request("postal", form)
    form_request = dataclasses.replace(signed, content_type="application/x-www-form-urlencoded")
    with pytest.raises(AnymailConfigurationError, match="Sent in the body as JSON"):
        form_request.post(Client(), "postal_inbound_webhook")
    # Unsigned, it is only a forged post.
    forged = form_request.with_headers({"X-Postal-Signature-256": None, "X-Postal-Signature": None})
    assert forged.post(Client(), "postal_inbound_webhook").status_code == 400
    assert messages == []


@pytest.mark.parametrize(
    ("field", "value"),
    [("message", "not base64!"), ("message", None), ("base64", "true"), ("id", "1702")],
)
def test_inbound_malformed_posts_are_refused(
    messages: list[AnymailInboundEvent], field: str, value: Any
) -> None:
    payload = fixture("inbound_raw_message.json")
    payload[field] = value
    response = post(payload, "inbound")
    assert response.status_code == 400
    assert messages == []
