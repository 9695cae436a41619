"""Brevo backend: the exact requests Brevo receives, and how its answers are read."""

from __future__ import annotations

import base64
import functools
import json
from datetime import UTC, date, datetime, timedelta, timezone
from email import encoders
from email.message import MIMEPart
from email.mime.base import MIMEBase
from typing import Any

import django
import pytest
import responses
from django.core.mail import EmailMessage
from django.utils.timezone import override as override_timezone

from anymail.backends.brevo import EmailBackend
from anymail.exceptions import (
    AnymailError,
    AnymailImproperlyConfigured,
    AnymailRequestsAPIError,
    AnymailUnsupportedFeature,
)
from anymail.message import AnymailMessage, AnymailRecipientStatus
from tests.backends.support import (
    answerer,
    answering,
    anymail_settings,
    api_error,
    assert_display_names_recipients,
    assert_sent,
    display_names_message,
    http_fixture,
    invoice_message,
    refused,
    sender,
)
from tests.utils import (
    PNG,
    only_request,
    only_request_json,
    requires_mailers,
)
from tests.utils import fixture_json as shared_fixture_json
from tests.utils import fixture_text as shared_fixture_text
from tests.utils import make_message as make_text_message

API_KEY = "xkeysib-test-key-0123456789"
SEND_URL = "https://api.brevo.com/v3/smtp/email"
MESSAGE_ID = "<202603040506.12345678901@smtp-relay.mailin.fr>"
BATCH_IDS = [
    "<202603040506.12345678901.1@smtp-relay.mailin.fr>",
    "<202603040506.12345678901.2@smtp-relay.mailin.fr>",
]


fixture_text = functools.partial(shared_fixture_text, "brevo")
fixture_json = functools.partial(shared_fixture_json, "brevo")


esp_settings = anymail_settings(BREVO_API_KEY=API_KEY)


#: Brevo's answer at the send endpoint (by default one messageId, HTTP 201).
mock_send = answerer(
    SEND_URL, lambda: {"messageId": MESSAGE_ID}, 201, content_type="application/json"
)


HTML = "<p>Body html of the message</p>"


#: The shared test message, plus an html body (Brevo needs one, unless a template).
make_message = functools.partial(make_text_message, html=HTML)


send = sender(EmailBackend)

#: The ESP giving its default answer, and the ``responses`` mock to read requests from.
brevo = answering(mock_send)


# --- the whole request -----------------------------------------------------------


def test_simple_send(brevo: responses.RequestsMock) -> None:
    message = EmailMessage(
        "Subject here", "<p>Here is the message.</p>", "from@example.com", ["to@example.com"]
    )
    message.content_subtype = "html"
    assert send(message) == 1

    request = only_request(brevo)
    assert request.url == SEND_URL
    # No empty keys: only what the message has.
    assert only_request_json(brevo) == {
        "sender": {"email": "from@example.com"},
        "to": [{"email": "to@example.com"}],
        "subject": "Subject here",
        "htmlContent": "<p>Here is the message.</p>",
    }

    assert_sent(message, "queued", MESSAGE_ID, {"messageId": MESSAGE_ID})
    assert message.anymail_status.esp_response.status_code == 201


def test_request_with_every_supported_feature(mocked_responses: responses.RequestsMock) -> None:
    # Reproduces the sample request in the Brevo fact sheet's fixtures.
    mock_send(mocked_responses, fixture_json("send_success.json"))
    message = invoice_message(
        headers={"List-Unsubscribe": "<mailto:unsubscribe@example.com>"},
        metadata={"order_id": "1234"},
        tags=["order", "receipt"],
        send_at=datetime(2026, 3, 4, 5, 6, 7, tzinfo=UTC),
    )
    assert send(message) == 1

    assert only_request_json(mocked_responses) == fixture_json("send_request_basic.json")
    status = message.anymail_status
    assert status.message_id == MESSAGE_ID
    assert status.recipients == {
        "alice@example.com": AnymailRecipientStatus(MESSAGE_ID, "queued"),
        "cc@example.com": AnymailRecipientStatus(MESSAGE_ID, "queued"),
        "bcc@example.com": AnymailRecipientStatus(MESSAGE_ID, "queued"),
    }


def test_html_only_and_multiple_recipients(brevo: responses.RequestsMock) -> None:
    message = EmailMessage(
        "Subject",
        "<p>HTML</p>",
        "From <from@example.com>",
        ["to1@example.com", "Two <to2@example.com>"],
        cc=["Cc <cc@example.com>"],
    )
    message.content_subtype = "html"
    send(message)
    assert only_request_json(brevo) == {
        "sender": {"email": "from@example.com", "name": "From"},
        "to": [{"email": "to1@example.com"}, {"email": "to2@example.com", "name": "Two"}],
        "cc": [{"email": "cc@example.com", "name": "Cc"}],
        "subject": "Subject",
        "htmlContent": "<p>HTML</p>",
    }


def test_text_only_message_is_refused_before_sending(brevo: responses.RequestsMock) -> None:
    # Brevo answers 400 missing_parameter without htmlContent (or a template).
    message = make_message(html=None)
    with refused(
        brevo,
        AnymailUnsupportedFeature,
        match="Brevo does not support messages without an html body",
    ):
        send(message)

    # Ignoring sends it as it is, for Brevo to judge.
    send(message, ignore_unsupported_features=True)
    assert only_request_json(brevo)["textContent"] == "Body text of the message"
    assert "htmlContent" not in only_request_json(brevo)


def test_html_body_with_text_alternative(brevo: responses.RequestsMock) -> None:
    # The common Django pattern: html as the main body, plain text as an alternative.
    message = make_message(body="<p>Hi</p>", html=None)
    message.content_subtype = "html"
    message.attach_alternative("Hi", "text/plain")
    send(message)
    data = only_request_json(brevo)
    assert (data["textContent"], data["htmlContent"]) == ("Hi", "<p>Hi</p>")


def test_empty_subject_and_body_are_omitted(brevo: responses.RequestsMock) -> None:
    send(make_message(subject="", body="", html=None, template_id=7))
    assert only_request_json(brevo) == {
        "sender": {"email": "from@example.com"},
        "to": [{"email": "to@example.com"}],
        "templateId": 7,
    }


# --- addresses -----------------------------------------------------------------


def test_display_names_and_idna(brevo: responses.RequestsMock) -> None:
    message = make_message(
        from_email='"Shop, Inc." <shop@example.com>',  # ASCII with a special: raw
        to=["Jörg Müller <jorg@příklad.example.cz>"],  # non-ASCII, no specials: raw
        reply_to=["Ünïcödé <reply@example.com>"],
    )
    send(message)
    data = only_request_json(brevo)
    assert data["sender"] == {"email": "shop@example.com", "name": "Shop, Inc."}
    assert data["to"] == [{"email": "jorg@xn--pklad-zsa96e.example.cz", "name": "Jörg Müller"}]
    assert data["replyTo"] == {"email": "reply@example.com", "name": "Ünïcödé"}
    # The recipient status uses the ASCII (IDNA) form of the domain.
    assert set(message.anymail_status.recipients) == {"jorg@xn--pklad-zsa96e.example.cz"}


def test_non_ascii_display_name_with_specials_is_rfc2047_encoded(
    brevo: responses.RequestsMock,
) -> None:
    # Brevo drops such names (or sends raw 8-bit in replyTo) unless pre-encoded.
    message = display_names_message()
    message.attach_alternative(HTML, "text/html")
    send(message)
    data = only_request_json(brevo)
    muller = "=?utf-8?b?TcO8bGxlciwgSsO2cmc=?="
    assert data["sender"] == {"email": "from@xn--bcher-kva.example", "name": muller}
    assert data["to"] == [
        {"email": "to@example.com", "name": muller},
        # (Without a non-ASCII character, or without a special: as it is.)
        {"email": "jo@example.com", "name": "Smith, Jo"},
        {"email": "zoe@xn--exmple-cua.com", "name": "Zoë"},
    ]
    assert data["cc"] == [{"email": "cc@example.com", "name": "=?utf-8?b?QW5hIChHYXJjw61hKQ==?="}]
    assert data["bcc"] == [{"email": "bcc@example.com", "name": "=?utf-8?b?Wm/DqyBAIFNob3A=?="}]
    assert data["replyTo"] == {"email": "reply@example.com", "name": muller}
    assert_display_names_recipients(message)


def test_long_encoded_display_name_stays_on_one_line(brevo: responses.RequestsMock) -> None:
    name = "Ünïcödé Name, that is quite a bit longer than seventy-five characters"
    send(make_message(to=[f'"{name}" <to@example.com>']))
    encoded = only_request_json(brevo)["to"][0]["name"]
    assert "\n" not in encoded
    assert encoded.startswith("=?utf-8?") and encoded.endswith("?=")
    from email.header import decode_header, make_header

    assert str(make_header(decode_header(encoded))) == name


def test_display_name_workaround_can_be_disabled(
    mocked_responses: responses.RequestsMock, settings: Any
) -> None:
    settings.ANYMAIL = {"BREVO_API_KEY": API_KEY, "BREVO_WORKAROUND_DISPLAY_NAME_BUGS": False}
    mock_send(mocked_responses)
    send(make_message(to=['"Müller, Jörg" <to@example.com>']))
    assert only_request_json(mocked_responses)["to"] == [
        {"email": "to@example.com", "name": "Müller, Jörg"}
    ]


def test_eai_addresses_are_sent(brevo: responses.RequestsMock) -> None:
    # Brevo accepts EAI (imperfectly: see the docs); Anymail doesn't refuse it.
    send(make_message(from_email="jörg@example.com", to=["zoë@example.com"]))
    data = only_request_json(brevo)
    assert data["sender"] == {"email": "jörg@example.com"}
    assert data["to"] == [{"email": "zoë@example.com"}]


def test_multiple_reply_to_is_unsupported(brevo: responses.RequestsMock) -> None:
    message = make_message(reply_to=["one@example.com", "Two <two@example.com>"])
    with refused(
        brevo,
        AnymailUnsupportedFeature,
        match=r"Brevo does not support multiple reply_to",
    ):
        send(message)

    send(message, ignore_unsupported_features=True)
    assert only_request_json(brevo)["replyTo"] == {"email": "one@example.com"}


def test_spoofed_to_header_is_unsupported(mocked_responses: responses.RequestsMock) -> None:
    message = make_message(headers={"To": "shown@example.com"})
    with pytest.raises(AnymailUnsupportedFeature, match="Brevo does not support a To header"):
        send(message)


# --- headers and metadata ----------------------------------------------------------


def test_extra_headers(brevo: responses.RequestsMock) -> None:
    message = make_message(headers={"X-Custom": "value", "X-Number": 42, "sender.ip": "1.2.3.4"})
    send(message)
    assert only_request_json(brevo)["headers"] == {
        "X-Custom": "value",
        "X-Number": "42",  # Brevo rejects non-string header values
        "sender.ip": "1.2.3.4",
    }


def test_non_ascii_header_value_is_unsupported(brevo: responses.RequestsMock) -> None:
    message = make_message(headers={"X-Ok": "fine", "X-Extra": "Café"})
    with refused(brevo, AnymailUnsupportedFeature) as excinfo:
        send(message)
    assert "Brevo does not support non-ASCII characters in 'X-Extra' header" in str(excinfo.value)

    # Ignoring unsupported features leaves the header out (rather than risk a lost message).
    send(message, ignore_unsupported_features=True)
    assert only_request_json(brevo)["headers"] == {"X-Ok": "fine"}


def test_non_ascii_header_allowed_without_bug_prevention(brevo: responses.RequestsMock) -> None:
    message = make_message(headers={"X-Extra": "Café"}, metadata={"city": "Zürich"})
    send(message, prevent_header_encoding_bugs=False)
    assert only_request_json(brevo)["headers"] == {
        "X-Extra": "Café",
        "X-Mailin-custom": '{"city": "Zürich"}',
    }


def test_metadata(brevo: responses.RequestsMock) -> None:
    send(make_message(metadata={"user_id": "12345", "items": 6, "path": "a\\u0041"}))
    headers = only_request_json(brevo)["headers"]
    assert headers == {"X-Mailin-custom": '{"user_id": "12345", "items": 6, "path": "a\\\\u0041"}'}
    assert json.loads(headers["X-Mailin-custom"]) == {
        "user_id": "12345",
        "items": 6,
        "path": "a\\u0041",
    }


def test_non_ascii_metadata_is_unsupported(brevo: responses.RequestsMock) -> None:
    message = make_message(metadata={"city": "Zürich"})
    with pytest.raises(AnymailUnsupportedFeature, match="non-ASCII characters in metadata"):
        send(message)
    send(message, ignore_unsupported_features=True)
    assert "headers" not in only_request_json(brevo)


def test_tags(brevo: responses.RequestsMock) -> None:
    send(make_message(tags=["receipt", "Order Confirmation"]))
    data = only_request_json(brevo)
    assert data["tags"] == ["receipt", "Order Confirmation"]
    assert "headers" not in data  # no legacy X-Mailin-Tag header


# --- attachments ------------------------------------------------------------------


def b64(content: bytes) -> str:
    return base64.b64encode(content).decode("ascii")


def test_attachments(brevo: responses.RequestsMock) -> None:
    message = make_message()
    message.attach("data.csv", "a,b\nç,é\n", "text/csv")  # str: utf-8 (DEFAULT_CHARSET)
    message.attach("Pïcture.png", PNG, "image/png")  # non-ASCII name: sent as is
    message.attach(None, b"no name", "application/pdf")
    send(message)
    assert only_request_json(brevo)["attachment"] == [
        {"name": "data.csv", "content": b64("a,b\nç,é\n".encode())},
        {"name": "Pïcture.png", "content": b64(PNG)},
        # Brevo takes the type from the name: an unnamed file gets one from its type.
        {"name": "attachment.pdf", "content": b64(b"no name")},
    ]


def text_part(content: bytes, filename: str, charset: str) -> Any:
    """A text/plain MIME attachment declaring ``charset`` (MIMEPart on Django 6+)."""
    if django.VERSION >= (6, 0):
        part = MIMEPart()
        part.set_content(content, "text", "plain", filename=filename)
    else:
        part = MIMEBase("text", "plain")
        part.set_payload(content)
        encoders.encode_base64(part)
        part.add_header("Content-Disposition", "attachment", filename=filename)
    part.set_param("charset", charset)
    return part


def test_text_attachments_are_transcoded_to_utf8(brevo: responses.RequestsMock) -> None:
    # Brevo labels every text attachment charset=utf-8.
    message = make_message()
    message.encoding = "iso-8859-1"
    message.attach("latin1.txt", "Café crème", "text/plain")
    message.attach(text_part("Grüße".encode("utf-16"), "utf16.txt", "utf-16"))
    message.attach("raw.txt", b"caf\xe9", "text/plain")  # bytes: charset unknown, untouched
    send(message)
    assert only_request_json(brevo)["attachment"] == [
        {"name": "latin1.txt", "content": b64("Café crème".encode())},
        {"name": "utf16.txt", "content": b64("Grüße".encode())},
        {"name": "raw.txt", "content": b64(b"caf\xe9")},
    ]


def test_undecodable_text_attachment_is_an_error(mocked_responses: responses.RequestsMock) -> None:
    message = make_message()
    message.attach(text_part(b"\xff\xfe\xfd", "bad.txt", "utf-16"))
    with refused(mocked_responses, AnymailError, match=r"Can't convert text attachment 'bad.txt'"):
        send(message)


def test_ignored_inline_image_is_an_ordinary_attachment(brevo: responses.RequestsMock) -> None:
    # (Brevo refuses inline images unless ignoring: the contract suite checks that.)
    message = make_message(html=None)
    cid = message.attach_inline_image(PNG, "logo.png")
    message.attach_alternative(f'<img src="cid:{cid}">', "text/html")
    # Ignoring: the image goes out as an ordinary attachment, not dropped.
    send(message, ignore_unsupported_features=True)
    assert only_request_json(brevo)["attachment"] == [{"name": "logo.png", "content": b64(PNG)}]


# --- unsupported features ----------------------------------------------------------


@pytest.mark.parametrize(
    ("attribute", "value"),
    [("track_opens", True), ("track_clicks", False), ("envelope_sender", "bounce@example.com")],
)
def test_ignored_features_leave_no_trace(
    brevo: responses.RequestsMock, attribute: str, value: Any
) -> None:
    # (The contract suite checks that they are refused unless ignored.)
    send(make_message(**{attribute: value}), ignore_unsupported_features=True)
    assert only_request_json(brevo) == {
        "sender": {"email": "from@example.com"},
        "to": [{"email": "to@example.com"}],
        "subject": "Subject line",
        "textContent": "Body text of the message",
        "htmlContent": HTML,
    }


# --- send_at -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("send_at", "expected"),
    [
        (
            datetime(2016, 3, 4, 5, 6, 7, 8000, tzinfo=timezone(timedelta(hours=-8))),
            "2016-03-04T05:06:07.008-08:00",
        ),
        (datetime(2022, 10, 11, 12, 13, 14, 567), "2022-10-11T12:13:14.000+06:00"),  # naive
        (date(2022, 10, 22), "2022-10-22T00:00:00.000+06:00"),
        (1651820889, "2022-05-06T07:08:09.000+00:00"),
        (1651820889.5, "2022-05-06T07:08:09.500+00:00"),
        # A str is passed through as it is.
        ("2026-03-04T05:06:07.008+01:00", "2026-03-04T05:06:07.008+01:00"),
    ],
)
def test_send_at(brevo: responses.RequestsMock, send_at: Any, expected: str) -> None:
    with override_timezone(timezone(timedelta(hours=6))):
        send(make_message(send_at=send_at))
    assert only_request_json(brevo)["scheduledAt"] == expected


# --- templates --------------------------------------------------------------------


def test_template_send(brevo: responses.RequestsMock) -> None:
    message = AnymailMessage(
        to=["Alice <alice@example.com>"],
        template_id="12",  # numeric string is fine
        merge_global_data={"order_no": "12345", "ship_date": "May 15"},
    )
    message.from_email = None  # use the template's sender
    message.subject = None  # and its subject
    send(message)
    assert only_request_json(brevo) == {
        "to": [{"email": "alice@example.com", "name": "Alice"}],
        "templateId": 12,
        "params": {"order_no": "12345", "ship_date": "May 15"},
    }
    assert message.anymail_status.message_id == MESSAGE_ID


def test_template_send_with_overrides(brevo: responses.RequestsMock) -> None:
    # Brevo lets from, subject, reply_to and display names override the template.
    message = make_message(
        from_email="Shop <shop@example.com>",
        subject="Overridden subject",
        body="",
        html=None,
        reply_to=["Support <support@example.com>"],
        template_id=7,
    )
    message.attach("terms.pdf", b"%PDF", "application/pdf")
    send(message)
    assert only_request_json(brevo) == {
        "sender": {"email": "shop@example.com", "name": "Shop"},
        "to": [{"email": "to@example.com"}],
        "replyTo": {"email": "support@example.com", "name": "Support"},
        "subject": "Overridden subject",
        "templateId": 7,
        "attachment": [{"name": "terms.pdf", "content": b64(b"%PDF")}],
    }


# ("²" passes str.isdigit() but not int(): an error message, not a ValueError.)
@pytest.mark.parametrize("template_id", ["welcome-template", "", True, 1.5, "²", "-5"])
def test_template_id_must_be_numeric(
    mocked_responses: responses.RequestsMock, template_id: Any
) -> None:
    message = make_message(template_id=template_id)
    if template_id == "":
        mock_send(mocked_responses)
        send(message)  # empty: no template
        assert "templateId" not in only_request_json(mocked_responses)
        return
    with refused(mocked_responses, AnymailError, match="numeric ID"):
        send(message)


# --- batch sends -----------------------------------------------------------------------


def test_batch_template_send(mocked_responses: responses.RequestsMock) -> None:
    # Reproduces the fact sheet's batch/template sample request.
    mock_send(mocked_responses, fixture_json("send_success_batch.json"))
    message = AnymailMessage(
        from_email="shop@example.com",
        to=["alice@example.com", "Bob <bob@example.com>"],
        template_id=12,
        merge_global_data={"ship_date": "May 15"},
        merge_data={
            "alice@example.com": {"name": "Alice", "order_no": "12345"},
            "bob@example.com": {"name": "Bob", "order_no": "54321"},
            "not-a-recipient@example.com": {"name": "Nobody"},  # ignored
        },
        metadata={"batch": "zx912"},
        merge_metadata={"alice@example.com": {"user_id": "u-1"}},
    )
    message.subject = None
    assert send(message) == 1
    assert only_request_json(mocked_responses) == fixture_json("send_request_batch_template.json")

    status = message.anymail_status
    assert status.message_id == set(BATCH_IDS)
    assert status.recipients == {
        "alice@example.com": AnymailRecipientStatus(BATCH_IDS[0], "queued"),
        "bob@example.com": AnymailRecipientStatus(BATCH_IDS[1], "queued"),
    }


def test_batch_merge_headers_metadata_and_cc(mocked_responses: responses.RequestsMock) -> None:
    mock_send(mocked_responses, {"messageIds": ["<id1@x>", "<id2@x>", "<id3@x>"]})
    message = make_message(
        to=["one@example.com", "two@example.com", "three@example.com"],
        cc=["cc@example.com"],
        bcc=["bcc@example.com"],
        headers={"X-Base": "base", "List-Unsubscribe": "<mailto:u@example.com>"},
        metadata={"campaign": "c1", "shared": "base"},
        merge_metadata={
            "one@example.com": {"shared": "one"},
            "three@example.com": {"user": 3},
        },
        merge_headers={
            "one@example.com": {"List-Unsubscribe": "<mailto:one@example.com>"},
            "two@example.com": {"X-Number": 2},
        },
        merge_data={"two@example.com": {"name": "Two"}},
        html="<p>Hi {{ params.name }}</p>",
    )
    send(message)
    assert only_request_json(mocked_responses) == {
        "sender": {"email": "from@example.com"},
        "cc": [{"email": "cc@example.com"}],
        "bcc": [{"email": "bcc@example.com"}],
        "subject": "Subject line",
        "textContent": "Body text of the message",
        "htmlContent": "<p>Hi {{ params.name }}</p>",
        "headers": {
            "X-Base": "base",
            "List-Unsubscribe": "<mailto:u@example.com>",
            "X-Mailin-custom": '{"campaign": "c1", "shared": "base"}',
        },
        "messageVersions": [
            {
                "to": [{"email": "one@example.com"}],
                "headers": {
                    "List-Unsubscribe": "<mailto:one@example.com>",
                    "X-Mailin-custom": '{"campaign": "c1", "shared": "one"}',
                },
            },
            {
                "to": [{"email": "two@example.com"}],
                "params": {"name": "Two"},
                "headers": {"X-Number": "2"},
            },
            {
                "to": [{"email": "three@example.com"}],
                "headers": {"X-Mailin-custom": '{"campaign": "c1", "shared": "base", "user": 3}'},
            },
        ],
    }
    # cc/bcc get a copy of every version, with no message id of their own.
    assert message.anymail_status.recipients == {
        "one@example.com": AnymailRecipientStatus("<id1@x>", "queued"),
        "two@example.com": AnymailRecipientStatus("<id2@x>", "queued"),
        "three@example.com": AnymailRecipientStatus("<id3@x>", "queued"),
        "cc@example.com": AnymailRecipientStatus(None, "queued"),
        "bcc@example.com": AnymailRecipientStatus(None, "queued"),
    }


@pytest.mark.parametrize("attribute", ["merge_data", "merge_metadata", "merge_headers"])
def test_empty_merge_attribute_still_makes_a_batch(
    mocked_responses: responses.RequestsMock, attribute: str
) -> None:
    mock_send(mocked_responses, {"messageIds": ["<id1@x>", "<id2@x>"]})
    message = make_message(to=["one@example.com", "Two <two@example.com>"], **{attribute: {}})
    send(message)
    assert only_request_json(mocked_responses) == {
        "sender": {"email": "from@example.com"},
        "subject": "Subject line",
        "textContent": "Body text of the message",
        "htmlContent": HTML,
        "messageVersions": [
            {"to": [{"email": "one@example.com"}]},
            {"to": [{"email": "two@example.com", "name": "Two"}]},
        ],
    }
    assert message.anymail_status.message_id == {"<id1@x>", "<id2@x>"}


def test_batch_non_ascii_merge_metadata_and_headers(
    mocked_responses: responses.RequestsMock,
) -> None:
    mock_send(mocked_responses, {"messageIds": ["<id1@x>", "<id2@x>"]})
    to = ["one@example.com", "two@example.com"]
    message = make_message(to=to, merge_metadata={"one@example.com": {"city": "Zürich"}})
    with pytest.raises(AnymailUnsupportedFeature, match="non-ASCII characters in merge_metadata"):
        send(message)
    message = make_message(to=to, merge_headers={"two@example.com": {"X-City": "Zürich"}})
    with refused(
        mocked_responses, AnymailUnsupportedFeature, match="non-ASCII characters in merge_headers"
    ):
        send(message)

    send(message, ignore_unsupported_features=True)
    assert only_request_json(mocked_responses)["messageVersions"] == [
        {"to": [{"email": "one@example.com"}]},
        {"to": [{"email": "two@example.com"}]},
    ]


def test_scheduled_batch_response(mocked_responses: responses.RequestsMock) -> None:
    body = fixture_json("send_success_scheduled_batch.json")
    mock_send(mocked_responses, body)
    message = make_message(
        to=["one@example.com", "two@example.com"],
        merge_data={},
        send_at=datetime(2026, 3, 4, 5, 6, 7, tzinfo=UTC),
        esp_extra={"batchId": body["batchId"]},
    )
    send(message)
    data = only_request_json(mocked_responses)
    assert data["scheduledAt"] == "2026-03-04T05:06:07.000+00:00"
    assert data["batchId"] == body["batchId"]
    assert message.anymail_status.recipients == {
        "one@example.com": AnymailRecipientStatus(body["messageIds"][0], "queued"),
        "two@example.com": AnymailRecipientStatus(body["messageIds"][1], "queued"),
    }


def test_batch_response_with_unexpected_id_count(
    mocked_responses: responses.RequestsMock, caplog: pytest.LogCaptureFixture
) -> None:
    # Accepted, but the ids can't be matched to recipients: don't guess.
    mock_send(mocked_responses, {"messageIds": ["<only-one@x>"]})
    message = make_message(to=["one@example.com", "two@example.com"], merge_data={})
    assert send(message) == 1
    assert message.anymail_status.recipients == {
        "one@example.com": AnymailRecipientStatus(None, "queued"),
        "two@example.com": AnymailRecipientStatus(None, "queued"),
    }
    assert "1 messageIds for 2 batch recipients" in caplog.text


# --- esp_extra ------------------------------------------------------------------------


def test_esp_extra_is_deep_merged(mocked_responses: responses.RequestsMock) -> None:
    mock_send(mocked_responses, {"messageIds": ["<id1@x>"]})
    message = make_message(
        headers={"X-Base": "base"},
        merge_data={"to@example.com": {"name": "To"}},
        esp_extra={
            "preheader": "Preview text",
            "headers": {"idempotencyKey": "abc-123"},
            "sender": {"name": "Override"},
            "messageVersions": [{"to": [{"email": "to@example.com"}], "subject": "Version"}],
        },
    )
    send(message)
    assert only_request_json(mocked_responses) == {
        "sender": {"email": "from@example.com", "name": "Override"},
        "subject": "Subject line",
        "textContent": "Body text of the message",
        "htmlContent": HTML,
        "headers": {"X-Base": "base", "idempotencyKey": "abc-123"},
        "preheader": "Preview text",
        "messageVersions": [{"to": [{"email": "to@example.com"}], "subject": "Version"}],
    }


def test_brevo_send_defaults(mocked_responses: responses.RequestsMock, settings: Any) -> None:
    settings.ANYMAIL = {
        "BREVO_API_KEY": API_KEY,
        "SEND_DEFAULTS": {"tags": ["global"], "metadata": {"global": "yes"}},
        "BREVO_SEND_DEFAULTS": {"tags": ["brevo"], "esp_extra": {"preheader": "Hi"}},
    }
    mock_send(mocked_responses)
    send(make_message(tags=["message"]))
    data = only_request_json(mocked_responses)
    # BREVO_SEND_DEFAULTS replaces SEND_DEFAULTS key by key ("tags"), keeping the others.
    assert data["tags"] == ["brevo", "message"]
    assert data["headers"] == {"X-Mailin-custom": '{"global": "yes"}'}
    assert data["preheader"] == "Hi"


# --- responses and errors ------------------------------------------------------------


def test_empty_success_body(mocked_responses: responses.RequestsMock) -> None:
    mock_send(mocked_responses, b"")
    message = make_message(cc=["cc@example.com"])
    assert send(message) == 1
    assert message.anymail_status.status == {"queued"}
    assert message.anymail_status.message_id is None
    assert message.anymail_status.recipients == {
        "to@example.com": AnymailRecipientStatus(None, "queued"),
        "cc@example.com": AnymailRecipientStatus(None, "queued"),
    }


@pytest.mark.parametrize(
    "body",
    [
        {"unexpected": "shape"},
        ["<id@x>"],
        {"messageId": 123},
        {"messageIds": "x"},
        {"messageIds": [1, 2]},
    ],
)
def test_invalid_success_response_format(
    mocked_responses: responses.RequestsMock, body: Any
) -> None:
    mock_send(mocked_responses, body)
    merge = {"merge_data": {}} if "messageIds" in body else {}
    with pytest.raises(AnymailRequestsAPIError) as excinfo:
        send(make_message(**merge))
    assert "Invalid Brevo API response format" in str(excinfo.value)
    assert excinfo.value.status_code == 201


def test_non_json_success_response(mocked_responses: responses.RequestsMock) -> None:
    mock_send(mocked_responses, "<html>OK</html>")
    with pytest.raises(AnymailRequestsAPIError, match="Invalid JSON in the Brevo API response"):
        send(make_message())


@pytest.mark.parametrize(
    ("fixture", "status", "text"),
    [
        ("send_error_400_invalid_parameter.json", 400, "valid sender email required"),
        ("send_error_400_missing_parameter.json", 400, "htmlContent is missing"),
        ("send_error_401_unauthorized.json", 401, "Key not found"),
        ("send_error_403_permission_denied.json", 403, "SMTP account is not yet activated"),
    ],
)
def test_api_errors(
    mocked_responses: responses.RequestsMock, fixture: str, status: int, text: str
) -> None:
    body = fixture_json(fixture)
    mock_send(mocked_responses, body, status=status)
    err = api_error(send, make_message(), status, API_KEY)
    assert err.response.json() == body
    assert text in str(err)
    assert body["code"] in str(err)  # Brevo's error code is quoted too
    assert f"HTTP {status}" in str(err)


def test_rate_limit_error_keeps_headers(mocked_responses: responses.RequestsMock) -> None:
    status, headers, body = http_fixture("brevo", "send_error_429_rate_limited.http")
    del headers["content-type"]
    mock_send(mocked_responses, body, status=status, headers=headers)
    err = api_error(send, make_message(), 429, API_KEY)
    assert "The expected rate limit is exceeded." in str(err)
    assert err.response.headers["x-sib-ratelimit-reset"] == "1"
    assert err.response.headers["X-Sib-Ratelimit-Remaining"] == "0"


# --- settings ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("old_key", "says", "never_says"),
    [
        (None, "BREVO_API_KEY", "SENDINBLUE"),
        # The old setting is named, but not used (and its value never shown).
        ("old-secret-key", "rename it to BREVO_API_KEY", "old-secret-key"),
    ],
)
def test_missing_api_key(settings: Any, old_key: str | None, says: str, never_says: str) -> None:
    settings.ANYMAIL = {}
    if old_key is not None:
        settings.SENDINBLUE_API_KEY = old_key
    with pytest.raises(AnymailImproperlyConfigured) as excinfo:
        EmailBackend()
    message = str(excinfo.value)
    assert says in message
    assert never_says not in message


def test_api_url_default() -> None:
    # (The contract case's options_example sends to an api_url without a trailing
    # slash, given as an option and as a setting.)
    assert EmailBackend().api_url == "https://api.brevo.com/v3/"


def test_bug_workaround_settings(settings: Any) -> None:
    backend = EmailBackend()
    assert backend.workaround_display_name_bugs is True
    assert backend.prevent_header_encoding_bugs is True
    settings.ANYMAIL_BREVO_WORKAROUND_DISPLAY_NAME_BUGS = False
    settings.ANYMAIL = {"BREVO_API_KEY": API_KEY, "BREVO_PREVENT_HEADER_ENCODING_BUGS": False}
    backend = EmailBackend()
    assert backend.workaround_display_name_bugs is False
    assert backend.prevent_header_encoding_bugs is False
    with pytest.raises(AnymailImproperlyConfigured, match="BREVO_PREVENT_HEADER_ENCODING_BUGS"):
        EmailBackend(prevent_header_encoding_bugs="no")


@requires_mailers
def test_mailers_missing_api_key_with_old_setting_is_still_invalid_mailer(settings: Any) -> None:
    from django.core.mail import InvalidMailer, mailers

    settings.ANYMAIL = {}
    settings.SENDINBLUE_API_KEY = "old-secret-key"
    settings.MAILERS = {"default": {"BACKEND": "anymail.backends.brevo.EmailBackend"}}
    with pytest.raises(InvalidMailer) as excinfo:
        mailers["default"]
    message = str(excinfo.value)
    assert message.startswith("MAILERS['default']: OPTIONS must define 'api_key'")
    assert "rename it to BREVO_API_KEY" in message
    assert "old-secret-key" not in message
