"""Mailgun inbound routes: parsed fields (urlencoded and multipart) and raw MIME."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl, urlencode

import pytest
from django.test import Client
from django.urls import resolve, reverse

from anymail.exceptions import AnymailConfigurationError
from anymail.signals import AnymailInboundEvent, inbound
from anymail.testing import WebhookRequest, captured_events, webhook_request
from anymail.webhooks.mailgun import MailgunBaseWebhookView, MailgunInboundWebhookView
from tests.utils import FIXTURES_DIR

from .support import ORDER_QUESTION, headline

FIXTURES = FIXTURES_DIR / "mailgun"
SIGNING_KEY = "mg-test-webhook-signing-key-NOT-REAL"
SIGNED_AT = datetime.fromtimestamp(1768471200, UTC)  # the inbound fixtures' signatures
URL = "mailgun_inbound_webhook"
MIME_URL = "/anymail/mailgun/inbound_mime/"
FORM = "application/x-www-form-urlencoded"


def form_fixture(name: str) -> list[tuple[str, str]]:
    return parse_qsl((FIXTURES / name).read_text("ascii"), keep_blank_values=True)


def attachments_fixture() -> tuple[list[tuple[str, str]], dict[str, tuple[str, Any, str]]]:
    """The fields and files of inbound_parsed_attachments.json, for a multipart post."""
    data = json.loads((FIXTURES / "inbound_parsed_attachments.json").read_text("utf-8"))
    files = {
        item["field"]: (
            item["filename"],
            item["content_text"]
            if "content_text" in item
            else base64.b64decode(item["content_base64"]),
            item["content_type"],
        )
        for item in data["files"]
    }
    return [tuple(pair) for pair in data["fields"]], files  # type: ignore[misc]


@pytest.fixture(autouse=True)
def mailgun_settings(settings: Any) -> None:
    settings.ANYMAIL = {"MAILGUN_WEBHOOK_SIGNING_KEY": SIGNING_KEY}


@pytest.fixture
def events() -> Iterator[list[Any]]:
    with captured_events(inbound) as received:
        yield received


def post(payload: Any, url: str = URL, **options: Any) -> Any:
    return webhook_request("mailgun", payload, **options).post(Client(), url)


def test_both_urls_reach_the_one_view() -> None:
    assert reverse(URL) == "/anymail/mailgun/inbound/"
    for url in ("/anymail/mailgun/inbound/", MIME_URL):
        match = resolve(url)
        assert match.url_name == URL
        assert match.func.view_class is MailgunInboundWebhookView  # type: ignore[attr-defined]
    assert Client().head(MIME_URL).status_code == 200


def test_fully_parsed_fields(events: list[Any]) -> None:
    fields = form_fixture("inbound_parsed.form.txt")
    response = post(fields)
    assert response.status_code == 200, response.content
    [event] = events
    assert isinstance(event, AnymailInboundEvent)
    assert event.event_type == "inbound"
    assert event.event_id == dict(fields)["token"]
    assert abs(event.timestamp - datetime.now(UTC)) < timedelta(minutes=1)  # signed now
    assert event.esp_event.POST["subject"] == "Question about order 12345"  # the request
    message = event.message
    assert headline(message) == ORDER_QUESTION
    assert message["Message-Id"] == "<CAinbound0001@mail.example.org>"
    assert message["Received"].startswith("from mail.example.org by mxa.mailgun.org")
    assert message.text == "Hi, where is my order?\n\n> quoted earlier text\n-- \nSig"
    assert message.html == (
        "<div>Hi, where is my order?</div><blockquote>quoted earlier text</blockquote>"
    )
    assert message.stripped_text == "Hi, where is my order?"
    assert message.stripped_html == "<div>Hi, where is my order?</div>"
    assert message.envelope_sender == "bounces+abc@example.org"
    assert message.envelope_recipient == "support@inbound.example.com"
    assert (message.spam_detected, message.spam_score) == (False, 0.3)
    assert message.attachments == [] and message.inlines == []


def test_fully_parsed_with_attachment_and_inline_image(events: list[Any]) -> None:
    fields, files = attachments_fixture()
    response = post(fields, files=files)
    assert response.status_code == 200, response.content
    message = events[0].message
    assert message.subject == "Question about order 12345"  # from message-headers
    assert message.text == "See attached.\n"
    assert message.html == '<div>See attached. <img src="cid:logo@example.org"></div>'
    [attachment] = message.attachments
    assert attachment.get_filename() == "invoice.txt"
    assert attachment.get_content_type() == "text/plain"
    assert attachment.get_content_charset() == "utf-8"
    assert attachment.get_content_text() == "Invoice 12345: total 42.00 EUR\n"
    [inline] = message.inlines
    assert message.content_id_map == {"logo@example.org": inline}
    assert inline.get_filename() == "logo.gif"
    assert inline.get_content_type() == "image/gif"
    assert inline.get_content_bytes() == files["attachment-2"][1]
    assert inline.as_uploaded_file().read() == files["attachment-2"][1]


def test_attachment_count_bounds_the_files_and_missing_ones_are_skipped(
    events: list[Any],
) -> None:
    fields, files = attachments_fixture()
    fields = [(name, "3" if name == "attachment-count" else value) for name, value in fields]
    files = {"attachment-2": files["attachment-2"], "attachment-4": files["attachment-1"]}
    assert post(fields, files=files).status_code == 200
    message = events[0].message
    assert message.attachments == []  # attachment-1 dropped, attachment-4 not counted
    assert list(message.content_id_map) == ["logo@example.org"]


def test_a_huge_attachment_count_is_only_a_number(events: list[Any]) -> None:
    fields, files = attachments_fixture()
    fields = [(n, "999999999999" if n == "attachment-count" else v) for n, v in fields]
    assert post(fields, files=files).status_code == 200
    assert len(events[0].message.attachments) == 1


def test_raw_mime(events: list[Any]) -> None:
    fields = form_fixture("inbound_mime.form.txt")
    response = post(fields, MIME_URL)
    assert response.status_code == 200, response.content
    [event] = events
    assert event.event_id == dict(fields)["token"]
    message = event.message
    assert message.as_bytes().startswith(b"Received: from mail.example.org")
    assert (message.from_email.display_name, message.from_email.addr_spec) == (
        "Envelope Sender",
        "from@example.org",
    )
    assert [to.addr_spec for to in message.to] == ["support@inbound.example.com"]
    assert message.subject == "Raw MIME test"
    assert message.text == "Café menu attached."
    assert message.html is None
    [attachment] = message.attachments
    assert attachment.get_filename() == "menu.csv"
    assert attachment.get_content_text() == "item,price\r\ncoffee,2.50"
    assert (message.spam_detected, message.spam_score) == (True, 7.9)
    assert message.envelope_sender == "bounces+abc@example.org"
    assert message.envelope_recipient == "support@inbound.example.com"
    assert message.stripped_text is None


@pytest.mark.parametrize("url", [MIME_URL, "/anymail/mailgun/inbound/"])
@pytest.mark.parametrize("name", ["inbound_mime.form.txt", "inbound_parsed.form.txt"])
def test_fixtures_posted_exactly_as_mailgun_signed_them(
    name: str, url: str, events: list[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(MailgunBaseWebhookView, "now", lambda self: SIGNED_AT)
    response = WebhookRequest((FIXTURES / name).read_bytes(), FORM).post(Client(), url)
    assert response.status_code == 200, response.content
    assert events[0].timestamp == SIGNED_AT
    assert events[0].message.envelope_recipient == "support@inbound.example.com"


def raw_message(body: bytes, charset: str) -> bytes:
    return (
        b"From: sender@example.org\r\nTo: support@inbound.example.com\r\n"
        b"Subject: 8-bit\r\nMIME-Version: 1.0\r\n"
        b"Content-Type: text/plain; charset=" + charset.encode() + b"\r\n"
        b"Content-Transfer-Encoding: 8bit\r\n\r\n" + body
    )


def test_raw_mime_keeps_its_8bit_bytes(events: list[Any]) -> None:
    # Latin-1 bytes are not UTF-8: decoding the form as text would turn them into U+FFFD.
    mime = raw_message("Grüße aus Köln".encode("iso-8859-1"), "iso-8859-1")
    fields = [("recipient", "support@inbound.example.com"), ("body-mime", mime)]
    assert post(fields, MIME_URL).status_code == 200
    assert events[0].message.text == "Grüße aus Köln"


def test_raw_mime_in_a_multipart_post(events: list[Any]) -> None:
    mime = raw_message("Grüße".encode(), "utf-8").decode()
    assert post([("body-mime", mime)], MIME_URL, files={}).status_code == 200
    assert events[0].message.text == "Grüße"


@pytest.mark.parametrize(
    ("headers", "detected", "score"),
    [
        ([], None, None),  # the domain doesn't add spam headers: unknown, not "not spam"
        ([["X-Mailgun-Sflag", "No"]], False, None),
        ([["x-mailgun-sflag", "YES"], ["X-Mailgun-Sscore", "12.5"]], True, 12.5),
        ([["X-Mailgun-Sscore", "high"]], None, None),
        ([["X-Mailgun-Sscore", "nan"]], None, None),
    ],
)
def test_spam_headers(headers: list[Any], detected: Any, score: Any, events: list[Any]) -> None:
    fields = [("message-headers", json.dumps(headers)), ("body-plain", "Hi")]
    assert post(fields).status_code == 200
    assert (events[0].message.spam_detected, events[0].message.spam_score) == (detected, score)


def test_without_message_headers_the_from_and_subject_fields_are_used(events: list[Any]) -> None:
    fields = [("from", "A <a@example.org>"), ("subject", "Hello"), ("body-plain", "Hi")]
    assert post(fields).status_code == 200
    message = events[0].message
    assert (message.from_email.addr_spec, message.subject, message.text) == (
        "a@example.org",
        "Hello",
        "Hi",
    )


def test_structured_header_values_are_left_to_the_message_structure(events: list[Any]) -> None:
    headers = [["Subject", "Hi"], ["Content-Type", ["multipart/mixed", {"boundary": "b"}]]]
    fields = [("message-headers", json.dumps(headers)), ("body-html", "<p>x</p>")]
    assert post(fields).status_code == 200
    assert (events[0].message.subject, events[0].message.html) == ("Hi", "<p>x</p>")


def test_replayed_inbound_post_is_a_duplicate(events: list[Any]) -> None:
    request = webhook_request("mailgun", form_fixture("inbound_mime.form.txt"))
    assert request.post(Client(), MIME_URL).status_code == 200
    assert request.post(Client(), MIME_URL).status_code == 200
    assert len(events) == 1


def test_stale_and_forged_inbound_posts_are_refused(events: list[Any]) -> None:
    fields = form_fixture("inbound_parsed.form.txt")
    stale = post(fields, timestamp=datetime.now(UTC) - timedelta(days=1))
    assert stale.status_code == 400 and b"window" in stale.content
    assert post(fields, signing_key="wrong-key").status_code == 400
    body = (FIXTURES / "inbound_parsed.form.txt").read_bytes().replace(b"token=9", b"token=8")
    assert WebhookRequest(body, FORM).post(Client(), URL).status_code == 400
    assert events == []


def test_message_over_the_inbound_limit_is_400(settings: Any, events: list[Any]) -> None:
    settings.ANYMAIL = {**settings.ANYMAIL, "INBOUND_MAX_SIZE": 200}
    response = post(form_fixture("inbound_mime.form.txt"), MIME_URL)
    assert response.status_code == 400
    assert events == []


def test_malformed_fields_are_400(events: list[Any]) -> None:
    for name, value in [
        ("message-headers", "{not json"),
        ("message-headers", '{"To": "x"}'),
        ("content-id-map", '["attachment-1"]'),
        ("content-id-map", '{"<cid>": 1}'),
        ("attachment-count", "two"),
    ]:
        response = post([(name, value), ("body-plain", "Hi")])
        assert response.status_code == 400, (name, value)
        assert response.content.startswith(b"Malformed Mailgun webhook payload: form.")
    assert events == []


# --- misrouted posts ----------------------------------------------------------------


def test_tracking_webhook_at_the_inbound_url(events: list[Any]) -> None:
    payload = json.loads((FIXTURES / "tracking_delivered.json").read_text())
    with pytest.raises(AnymailConfigurationError, match="tracking webhook at Anymail's inbound"):
        post(payload)
    legacy = parse_qsl((FIXTURES / "legacy_opened.form.txt").read_text(), keep_blank_values=True)
    with pytest.raises(AnymailConfigurationError, match="legacy tracking webhook"):
        post(legacy, MIME_URL)
    assert events == []


def test_store_notify_route(events: list[Any]) -> None:
    fields = [*form_fixture("inbound_parsed.form.txt"), ("attachments", "[]")]
    with pytest.raises(AnymailConfigurationError, match=r"store\(notify=...\)"):
        post(fields)
    # Answered 500 (and logged), so that Mailgun retries after the route is fixed.
    quiet = Client(raise_request_exception=False)
    request = webhook_request("mailgun", fields, token="another-token")
    assert request.post(quiet, URL).status_code == 500
    assert events == []


def test_unsigned_misrouted_posts_are_just_refused(events: list[Any]) -> None:
    body = urlencode([("event", "opened"), ("timestamp", "1"), ("token", "t"), ("signature", "s")])
    assert WebhookRequest(body.encode(), FORM).post(Client(), URL).status_code == 400
