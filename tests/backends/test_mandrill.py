"""Mandrill backend: the exact requests Mandrill receives, and how its answers are read."""

from __future__ import annotations

import base64
import copy
import functools
import json
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import pytest
import responses
from django.core.mail import EmailMessage, EmailMultiAlternatives

from anymail.backends.mandrill import EmailBackend
from anymail.exceptions import (
    AnymailError,
    AnymailRecipientsRefused,
    AnymailRequestsAPIError,
    AnymailUnsupportedFeature,
)
from anymail.message import AnymailMessage, AnymailRecipientStatus
from tests.backends.support import (
    answerer,
    answering,
    anymail_settings,
    api_error,
    django_message,
    plain_message,
    refused,
)
from tests.utils import (
    PNG,
    make_message,
    only_request,
    only_request_json,
    request_json,
)
from tests.utils import fixture_text as shared_fixture_text

API_KEY = "test-mandrill-api-key-NOT-REAL"
SEND_URL = "https://mandrillapp.com/api/1.0/messages/send.json"
TEMPLATE_URL = "https://mandrillapp.com/api/1.0/messages/send-template.json"
BACKEND = "anymail.backends.mandrill.EmailBackend"


fixture_text = functools.partial(shared_fixture_text, "mandrill")


def b64(content: bytes | str) -> str:
    if isinstance(content, str):
        content = content.encode("utf-8")
    return base64.b64encode(content).decode("ascii")


esp_settings = anymail_settings(MANDRILL_API_KEY=API_KEY)


#: Mandrill's answer for the one recipient most tests send to.
SENT_TO_ONE = [
    {"email": "to@example.com", "status": "sent", "_id": "abc123", "reject_reason": None}
]


#: Mandrill's answer (by default SENT_TO_ONE) at ``url``.
mock_send = answerer(SEND_URL, lambda: SENT_TO_ONE, content_type="application/json")

#: The ESP giving its default answer, and the ``responses`` mock to read requests from.
mandrill = answering(mock_send)


def plain_request(message: Any = None, **request: Any) -> dict[str, Any]:
    """The request of plain_message(), ``message`` adding to its "message" part and
    ``request`` to the request."""
    plain = {
        "from_email": "from@example.com",
        "to": [{"email": "to@example.com", "type": "to"}],
        "subject": "Subject",
        "text": "Body",
    }
    return {"key": API_KEY, "message": {**plain, **(message or {})}, **request}


def connection(**kwargs: Any) -> EmailBackend:
    # What get_connection(BACKEND, **kwargs) returns (that call is deprecated in Django 6.1).
    return EmailBackend(**kwargs)


# --- the plain message ---------------------------------------------------------


def test_text_and_html_message(mandrill: responses.RequestsMock) -> None:
    message = EmailMultiAlternatives(
        "Subject", "Text", "Sender <from@example.com>", ["to@example.com"]
    )
    message.attach_alternative("<p>HTML</p>", "text/html")
    connection().send_messages([message])
    assert only_request_json(mandrill)["message"] == {
        "from_email": "from@example.com",
        "from_name": "Sender",
        "to": [{"email": "to@example.com", "type": "to"}],
        "subject": "Subject",
        "text": "Text",
        "html": "<p>HTML</p>",
    }


def test_html_only_message(mandrill: responses.RequestsMock) -> None:
    message = EmailMessage("Subject", "<p>HTML</p>", "from@example.com", ["to@example.com"])
    message.content_subtype = "html"
    connection().send_messages([message])
    data = only_request_json(mandrill)["message"]
    assert data["html"] == "<p>HTML</p>"
    assert "text" not in data


# --- every supported feature -----------------------------------------------------


def test_every_feature_whole_request(mocked_responses: responses.RequestsMock) -> None:
    mock_send(mocked_responses, body=fixture_text("send_success.json"))
    message = make_message(
        subject="Subject ✓",
        from_email='"Widgets, Inc." <from@exämple.com>',
        to=["Recipient <to@example.com>"],
        cc=["cc@example.com"],
        bcc=["Blind Copy <bcc@example.com>"],
        reply_to=["Reply One <reply1@example.com>", "reply2@example.com"],
        headers={"X-Custom": "custom value", "List-Unsubscribe": "<mailto:unsub@example.com>"},
        envelope_sender="bounces@bounce.example.com",
        metadata={"order": "1234", "customer": "c-17"},
        tags=["receipt", "shop"],
        track_clicks=True,
        track_opens=False,
        send_at=datetime(2030, 5, 6, 7, 8, 9, 123456, tzinfo=UTC),
        esp_extra={"ip_pool": "Main Pool", "message": {"important": True}},
    )
    message.attach_alternative("<p>HTML body <img src='cid:x'></p>", "text/html")
    message.attach("report.csv", "a,b\n1,2\n", "text/csv")
    message.attach("résumé.pdf", b"%PDF-1.4 fake", "application/pdf")
    message.attach("data.bin", b"\x00\x01\x02", None)
    cid = message.attach_inline_image(PNG, "logo.png")

    assert connection().send_messages([message]) == 1
    request = only_request(mocked_responses)
    assert request.url == SEND_URL
    assert request.headers["Content-Type"] == "application/json"
    assert only_request_json(mocked_responses) == {
        "key": API_KEY,
        "message": {
            "from_email": "from@xn--exmple-cua.com",
            "from_name": "Widgets, Inc.",
            "to": [
                {"email": "to@example.com", "name": "Recipient", "type": "to"},
                {"email": "cc@example.com", "type": "cc"},
                {"email": "bcc@example.com", "name": "Blind Copy", "type": "bcc"},
            ],
            "subject": "Subject ✓",
            "headers": {
                "Reply-To": "Reply One <reply1@example.com>, reply2@example.com",
                "X-Custom": "custom value",
                "List-Unsubscribe": "<mailto:unsub@example.com>",
            },
            "text": "Body text of the message",
            "html": "<p>HTML body <img src='cid:x'></p>",
            "attachments": [
                {
                    "type": "text/csv; charset=utf-8",
                    "name": "report.csv",
                    "content": b64("a,b\n1,2\n"),
                },
                {"type": "application/pdf", "name": "résumé.pdf", "content": b64(b"%PDF-1.4 fake")},
                {"type": "application/octet-stream", "name": "data.bin", "content": b64(b"\0\1\2")},
            ],
            "images": [{"type": "image/png", "name": cid, "content": b64(PNG)}],
            "return_path_domain": "bounce.example.com",
            "metadata": {"order": "1234", "customer": "c-17"},
            "tags": ["receipt", "shop"],
            "track_clicks": True,
            "track_opens": False,
            "important": True,
        },
        "send_at": "2030-05-06 07:08:09",
        "ip_pool": "Main Pool",
    }
    assert "bcc_address" not in json.dumps(only_request_json(mocked_responses))

    status = message.anymail_status
    assert status.status == {"sent", "queued"}
    assert status.message_id == {
        "0123456789abcdef0123456789abcdef",
        "1123456789abcdef0123456789abcdef",
        "2123456789abcdef0123456789abcdef",
    }
    assert status.recipients == {
        "to@example.com": AnymailRecipientStatus("0123456789abcdef0123456789abcdef", "sent"),
        "cc@example.com": AnymailRecipientStatus("1123456789abcdef0123456789abcdef", "queued"),
        "bcc@example.com": AnymailRecipientStatus("2123456789abcdef0123456789abcdef", "sent"),
    }


def test_unicode_display_names_and_idna(mandrill: responses.RequestsMock) -> None:
    message = EmailMessage(
        "Subject", "Body", "Jörg Müller <jorg@bücher.example>", ["Ana García <ana@españa.example>"]
    )
    connection().send_messages([message])
    data = only_request_json(mandrill)["message"]
    assert data["from_email"] == "jorg@xn--bcher-kva.example"
    assert data["from_name"] == "Jörg Müller"
    assert data["to"] == [
        {"email": "ana@xn--espaa-rta.example", "name": "Ana García", "type": "to"}
    ]


def test_reply_to_header_from_extra_headers(mandrill: responses.RequestsMock) -> None:
    # A Reply-To in headers is the reply_to (Django's semantics), not a raw header.
    message = django_message(headers={"reply-to": "Help <help@example.com>", "X-Other": "1"})
    connection().send_messages([message])
    assert only_request_json(mandrill)["message"]["headers"] == {
        "Reply-To": "Help <help@example.com>",
        "X-Other": "1",
    }


def test_from_header_moves_from_email_to_envelope(mandrill: responses.RequestsMock) -> None:
    message = django_message(
        "bounces@return.example.com", headers={"From": "Shown <shown@example.com>"}
    )
    connection().send_messages([message])
    data = only_request_json(mandrill)["message"]
    assert data["from_email"] == "shown@example.com"
    assert data["from_name"] == "Shown"
    assert data["return_path_domain"] == "return.example.com"


def test_inline_image_without_content_id_is_an_attachment(mandrill: responses.RequestsMock) -> None:
    message = make_message()
    message.attach(_mime_part(PNG, "image", "png", disposition="inline", filename="pic.png"))
    connection().send_messages([message])
    data = only_request_json(mandrill)["message"]
    assert data["attachments"] == [{"type": "image/png", "name": "pic.png", "content": b64(PNG)}]
    assert "images" not in data


def test_attachment_without_filename(mandrill: responses.RequestsMock) -> None:
    message = make_message()
    message.attach(None, b"raw", "application/octet-stream")
    connection().send_messages([message])
    assert only_request_json(mandrill)["message"]["attachments"] == [
        {"type": "application/octet-stream", "name": "attachment.bin", "content": b64(b"raw")}
    ]


# --- send_at ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("send_at", "expected"),
    [
        # aware, not UTC: converted to UTC
        (
            datetime(2030, 1, 2, 3, 4, 5, tzinfo=timezone(timedelta(hours=-8))),
            "2030-01-02 11:04:05",
        ),
        # naive: Django's current timezone (tests: America/New_York, UTC-5 in January)
        (datetime(2030, 1, 2, 3, 4, 5, 999999), "2030-01-02 08:04:05"),
        # date: midnight in the current timezone
        (date(2030, 7, 1), "2030-07-01 04:00:00"),
        # POSIX timestamp
        (1893553445, "2030-01-02 03:04:05"),
    ],
)
def test_send_at(mocked_responses: responses.RequestsMock, send_at: Any, expected: str) -> None:
    mock_send(mocked_responses, body=fixture_text("send_scheduled.json"))
    message = make_message()
    message.send_at = send_at
    connection().send_messages([message])
    assert only_request_json(mocked_responses)["send_at"] == expected
    # "scheduled" is accepted-for-later: queued
    assert message.anymail_status.status == {"queued"}
    assert message.anymail_status.message_id == "7123456789abcdef0123456789abcdef"


# --- templates -----------------------------------------------------------------


def test_template_send_whole_request(mocked_responses: responses.RequestsMock) -> None:
    mock_send(mocked_responses, url=TEMPLATE_URL)
    message = AnymailMessage(
        to=["to@example.com"], template_id="welcome-email", merge_global_data={"SITE": "Shop"}
    )
    message.from_email = None  # use the template's
    message.subject = None  # use the template's
    assert connection().send_messages([message]) == 1
    request = only_request(mocked_responses)
    assert request.url == TEMPLATE_URL
    assert only_request_json(mocked_responses) == {
        "key": API_KEY,
        "message": {
            "to": [{"email": "to@example.com", "type": "to"}],
            "global_merge_vars": [{"name": "SITE", "content": "Shop"}],
        },
        "template_name": "welcome-email",
        "template_content": [],
    }
    assert message.anymail_status.status == {"sent"}


@pytest.mark.parametrize(
    ("template_content", "sent"),
    [
        (
            {"header": "<h1>Hi</h1>", "footer": "Bye"},
            [{"name": "header", "content": "<h1>Hi</h1>"}, {"name": "footer", "content": "Bye"}],
        ),
        # Mandrill's own list form passes through.
        ([{"name": "header", "content": "Hi"}], [{"name": "header", "content": "Hi"}]),
    ],
)
def test_template_content_from_esp_extra(
    mocked_responses: responses.RequestsMock, template_content: Any, sent: Any
) -> None:
    mock_send(mocked_responses, url=TEMPLATE_URL)
    esp_extra = {"template_content": template_content}
    untouched = copy.deepcopy(esp_extra)
    message = AnymailMessage(
        "Subject",
        "",
        "from@example.com",
        ["to@example.com"],
        template_id="welcome-email",
        esp_extra=esp_extra,
    )
    connection().send_messages([message])
    data = only_request_json(mocked_responses)
    assert data["template_content"] == sent
    assert data["message"]["subject"] == "Subject"
    assert "text" not in data["message"]
    # the caller's dict is untouched
    assert esp_extra == untouched


def test_int_template_id_is_sent_as_a_string(mocked_responses: responses.RequestsMock) -> None:
    # template_name is Mandrill's slug, a string (a template named "2024" has slug "2024").
    mock_send(mocked_responses, url=TEMPLATE_URL)
    connection().send_messages([make_message(template_id=2024)])
    assert only_request_json(mocked_responses)["template_name"] == "2024"


def test_unknown_template_error(mocked_responses: responses.RequestsMock) -> None:
    mock_send(mocked_responses, fixture_text("error_unknown_template.json"), 500, TEMPLATE_URL)
    message = AnymailMessage(
        "Subject", "", "from@example.com", ["to@example.com"], template_id="welcome-email"
    )
    with pytest.raises(AnymailRequestsAPIError) as excinfo:
        connection().send_messages([message])
    assert 'Unknown_Template: No such template "welcome-email"' in str(excinfo.value)


# --- batch sends ---------------------------------------------------------------


def test_batch_send_whole_request(mocked_responses: responses.RequestsMock) -> None:
    mock_send(
        mocked_responses,
        body=json.dumps(
            [
                {"email": "alice@example.com", "status": "sent", "_id": "id-alice"},
                {"email": "bob@example.com", "status": "queued", "_id": "id-bob"},
            ]
        ),
    )
    message = AnymailMessage(
        subject="Order *|ORDER|* shipped",
        body="Hi *|NAME|*",
        from_email="shop@example.com",
        to=["alice@example.com", "Bob <bob@example.com>"],
        merge_data={
            "alice@example.com": {"NAME": "Alice", "ORDER": "12345"},
            "bob@example.com": {"ORDER": "54321", "NAME": "Bob"},
        },
        merge_global_data={"SHIP_DATE": "May 15", "SHOP": "Example"},
        merge_metadata={
            "alice@example.com": {"customer": "c-1"},
            "bob@example.com": {"customer": "c-2"},
        },
        metadata={"batch": "b-7"},
        # the batch rule wins over an explicit preserve_recipients
        esp_extra={"message": {"preserve_recipients": True, "merge_language": "mailchimp"}},
    )
    assert connection().send_messages([message]) == 1
    assert only_request(mocked_responses).url == SEND_URL
    assert only_request_json(mocked_responses) == {
        "key": API_KEY,
        "message": {
            "from_email": "shop@example.com",
            "to": [
                {"email": "alice@example.com", "type": "to"},
                {"email": "bob@example.com", "name": "Bob", "type": "to"},
            ],
            "subject": "Order *|ORDER|* shipped",
            "text": "Hi *|NAME|*",
            "metadata": {"batch": "b-7"},
            "recipient_metadata": [
                {"rcpt": "alice@example.com", "values": {"customer": "c-1"}},
                {"rcpt": "bob@example.com", "values": {"customer": "c-2"}},
            ],
            "merge_vars": [
                {
                    "rcpt": "alice@example.com",
                    "vars": [
                        {"name": "NAME", "content": "Alice"},
                        {"name": "ORDER", "content": "12345"},
                    ],
                },
                {
                    "rcpt": "bob@example.com",
                    "vars": [
                        {"name": "NAME", "content": "Bob"},
                        {"name": "ORDER", "content": "54321"},
                    ],
                },
            ],
            "global_merge_vars": [
                {"name": "SHIP_DATE", "content": "May 15"},
                {"name": "SHOP", "content": "Example"},
            ],
            "merge_language": "mailchimp",
            "preserve_recipients": False,
        },
    }
    status = message.anymail_status
    assert status.message_id == {"id-alice", "id-bob"}
    assert status.recipients["alice@example.com"] == AnymailRecipientStatus("id-alice", "sent")
    assert status.recipients["bob@example.com"] == AnymailRecipientStatus("id-bob", "queued")


@pytest.mark.parametrize(
    "attrs",
    [{"merge_data": {}}, {"merge_metadata": {}}, {"merge_metadata": {"to@example.com": {}}}],
)
def test_empty_merge_attributes_make_a_batch(
    mandrill: responses.RequestsMock, attrs: dict[str, Any]
) -> None:
    message = plain_message(**attrs)
    connection().send_messages([message])
    assert only_request_json(mandrill)["message"]["preserve_recipients"] is False


def test_non_batch_leaves_preserve_recipients_to_esp_extra(
    mandrill: responses.RequestsMock,
) -> None:
    message = plain_message(
        to=["to@example.com", "to2@example.com"],
        esp_extra={"message": {"preserve_recipients": True}},
    )
    connection().send_messages([message])
    assert only_request_json(mandrill)["message"]["preserve_recipients"] is True


def test_merge_headers_unsupported(mandrill: responses.RequestsMock) -> None:
    message = plain_message(
        merge_headers={"to@example.com": {"List-Unsubscribe": "<https://example.com/u/1>"}},
    )
    with refused(
        mandrill,
        AnymailUnsupportedFeature,
        match=r"Mandrill does not support merge_headers",
    ):
        connection().send_messages([message])

    # Ignored: sent without the headers, but still as individual messages.
    connection(ignore_unsupported_features=True).send_messages([message])
    data = only_request_json(mandrill)["message"]
    assert "headers" not in data
    assert data["preserve_recipients"] is False


# --- esp_extra -------------------------------------------------------------------


def test_esp_extra_shallow_merges(mandrill: responses.RequestsMock) -> None:
    esp_extra = {
        "async": True,
        "ip_pool": "Bulk Pool",
        "message": {
            "subaccount": "Marketing Dept.",
            "metadata": {"replaced": "yes"},
            "recipient_metadata": {
                "z@example.com": {"rank": "2"},
                "to@example.com": {"rank": "1"},
            },
        },
    }
    message = plain_message(
        metadata={"order": "1"},
        esp_extra=esp_extra,
    )
    connection().send_messages([message])
    assert only_request_json(mandrill) == plain_request(
        {
            # shallow: esp_extra's metadata replaces the message's
            "metadata": {"replaced": "yes"},
            "subaccount": "Marketing Dept.",
            "recipient_metadata": [
                {"rcpt": "to@example.com", "values": {"rank": "1"}},
                {"rcpt": "z@example.com", "values": {"rank": "2"}},
            ],
        },
        **{"async": True, "ip_pool": "Bulk Pool"},
    )
    # the caller's dict is untouched
    assert esp_extra["message"]["recipient_metadata"] == {
        "z@example.com": {"rank": "2"},
        "to@example.com": {"rank": "1"},
    }
    assert set(esp_extra) == {"async", "ip_pool", "message"}


def test_esp_extra_from_send_defaults(
    mocked_responses: responses.RequestsMock, settings: Any
) -> None:
    settings.ANYMAIL = {
        "MANDRILL_API_KEY": API_KEY,
        "MANDRILL_SEND_DEFAULTS": {
            "esp_extra": {"message": {"subaccount": "customer-123"}},
            "tags": ["default-tag"],
        },
    }
    mock_send(mocked_responses)
    message = plain_message(
        tags=["mine"],
        esp_extra={"message": {"important": True}},
    )
    connection().send_messages([message])
    data = only_request_json(mocked_responses)["message"]
    assert data["subaccount"] == "customer-123"
    assert data["important"] is True
    assert data["tags"] == ["default-tag", "mine"]


def test_esp_extra_message_must_be_a_dict(mocked_responses: responses.RequestsMock) -> None:
    message = AnymailMessage(
        "Subject", "Body", "from@example.com", ["to@example.com"], esp_extra={"message": ["x"]}
    )
    with refused(mocked_responses, AnymailError, match=r"esp_extra\['message'\] must be a dict"):
        connection().send_messages([message])


# --- unsupported features ----------------------------------------------------------


def _mime_part(
    content: bytes,
    maintype: str,
    subtype: str,
    disposition: str,
    filename: str | None = None,
    cid: str | None = None,
) -> Any:
    """A MIME attachment part, in the form this Django version expects."""
    import django

    if django.VERSION >= (6, 0):
        from email.message import MIMEPart

        part = MIMEPart()
        part.set_content(
            content,
            maintype=maintype,
            subtype=subtype,
            disposition=disposition,
            filename=filename,
            cid=cid,
        )
        return part
    from email.mime.base import MIMEBase

    legacy = MIMEBase(maintype, subtype)
    legacy.set_payload(base64.b64encode(content).decode("ascii"))
    legacy["Content-Transfer-Encoding"] = "base64"
    if filename:
        legacy.add_header("Content-Disposition", disposition, filename=filename)
    else:
        legacy.add_header("Content-Disposition", disposition)
    if cid:
        legacy["Content-ID"] = cid
    return legacy


def test_inline_non_image_unsupported(mandrill: responses.RequestsMock) -> None:

    def make() -> AnymailMessage:
        message = make_message()
        message.attach(
            _mime_part(b"%PDF", "application", "pdf", "inline", "doc.pdf", "<doc@inline>")
        )
        return message

    with refused(mandrill, AnymailUnsupportedFeature, match=r"Mandrill does not support inline"):
        connection().send_messages([make()])

    # Ignored: sent as an ordinary attachment (like any unsupported inline
    # image), not dropped.
    connection(ignore_unsupported_features=True).send_messages([make()])
    data = only_request_json(mandrill)["message"]
    assert "images" not in data
    assert data["attachments"] == [
        {"type": "application/pdf", "name": "doc.pdf", "content": b64(b"%PDF")}
    ]


# --- response parsing --------------------------------------------------------------


def test_mixed_status_response(mocked_responses: responses.RequestsMock) -> None:
    mock_send(mocked_responses, body=fixture_text("send_mixed_status.json"))
    message = plain_message(
        to=["ok@example.com", "bounced-before@example.com", "not-an-address@example"],
    )
    assert connection().send_messages([message]) == 1
    status = message.anymail_status
    assert status.status == {"sent", "rejected", "invalid"}
    assert status.recipients == {
        "ok@example.com": AnymailRecipientStatus("3123456789abcdef0123456789abcdef", "sent"),
        "bounced-before@example.com": AnymailRecipientStatus(
            "4123456789abcdef0123456789abcdef", "rejected"
        ),
        "not-an-address@example": AnymailRecipientStatus(
            "5123456789abcdef0123456789abcdef", "invalid"
        ),
    }


def test_all_rejected_raises(mocked_responses: responses.RequestsMock) -> None:
    mock_send(mocked_responses, body=fixture_text("send_all_rejected.json"))
    message = plain_message(
        to=["bounced-before@example.com", "unsubscribed@example.com"],
    )
    with pytest.raises(AnymailRecipientsRefused) as excinfo:
        connection().send_messages([message])
    assert "bounced-before@example.com (rejected)" in str(excinfo.value)
    assert message.anymail_status.status == {"rejected"}

    message.anymail_status = None
    assert connection(ignore_recipient_status=True).send_messages([message]) == 1
    assert message.anymail_status.recipients["unsubscribed@example.com"] == (
        AnymailRecipientStatus("6123456789abcdef0123456789abcdef", "rejected")
    )


def test_unknown_status_and_missing_id(mocked_responses: responses.RequestsMock) -> None:
    mock_send(
        mocked_responses,
        body=json.dumps(
            [
                json.loads(fixture_text("send_unknown_status.json"))[0],
                {"email": "cc@example.com", "status": "sent"},
            ]
        ),
    )
    message = AnymailMessage(
        "Subject", "Body", "from@example.com", ["to@example.com"], cc=["cc@example.com"]
    )
    connection().send_messages([message])
    assert message.anymail_status.recipients == {
        "to@example.com": AnymailRecipientStatus("8123456789abcdef0123456789abcdef", "unknown"),
        "cc@example.com": AnymailRecipientStatus(None, "sent"),
    }
    assert message.anymail_status.status == {"unknown", "sent"}


@pytest.mark.parametrize(
    "body",
    [
        '{"email": "to@example.com", "status": "sent"}',
        '[{"status": "sent"}]',
        '["to@example.com"]',
        "null",
    ],
)
def test_invalid_success_response(mocked_responses: responses.RequestsMock, body: str) -> None:
    mock_send(mocked_responses, body=body)
    message = make_message()
    with pytest.raises(AnymailRequestsAPIError, match="Invalid Mandrill API response") as excinfo:
        connection().send_messages([message])
    assert excinfo.value.status_code == 200
    assert excinfo.value.response is not None


def test_non_json_success_response(mocked_responses: responses.RequestsMock) -> None:
    mock_send(mocked_responses, body="<html>Oops</html>")
    with pytest.raises(AnymailRequestsAPIError, match="Invalid JSON in the Mandrill") as excinfo:
        connection().send_messages([make_message()])
    assert "<html>Oops</html>" in str(excinfo.value)


def test_error_object_with_200_status(mocked_responses: responses.RequestsMock) -> None:
    mock_send(mocked_responses, body=fixture_text("error_validation.json"))
    with pytest.raises(AnymailRequestsAPIError, match="ValidationError: Validation error"):
        connection().send_messages([make_message()])


# --- errors ------------------------------------------------------------------------


ERROR_CASES = [
    ("error_invalid_key.json", "Invalid_Key: Invalid API key"),
    ("error_validation.json", "ValidationError: Validation error:"),
    ("error_unknown_template.json", 'Unknown_Template: No such template "welcome-email"'),
    ("error_unknown_subaccount.json", "Unknown_Subaccount: No subaccount exists with the id"),
    ("error_payment_required.json", "PaymentRequired: Email scheduling is only available"),
    ("error_rate_limit.json", "RequestLimitExceeded: Too Many Requests attempted recently"),
    ("error_general.json", "GeneralError: An unknown error occurred"),
]


@pytest.mark.parametrize(("fixture", "quoted"), ERROR_CASES)
@pytest.mark.parametrize("http_status", [500, 401, 402, 404, 429, 503])
def test_error_responses(
    mocked_responses: responses.RequestsMock, fixture: str, quoted: str, http_status: int
) -> None:
    mock_send(mocked_responses, body=fixture_text(fixture), status=http_status)
    send = connection().send_messages
    err = api_error(lambda message: send([message]), make_message(), http_status, API_KEY)
    assert quoted in str(err)
    assert f"HTTP {http_status}" in str(err)
    assert err.response.json() == json.loads(fixture_text(fixture))
    assert err.esp_name == "Mandrill"


def test_invalid_key_error_whole_message(mocked_responses: responses.RequestsMock) -> None:
    mock_send(mocked_responses, body=fixture_text("error_invalid_key.json"), status=500)
    with pytest.raises(AnymailRequestsAPIError) as excinfo:
        connection().send_messages([make_message()])
    assert str(excinfo.value) == (
        "Mandrill API error: Invalid_Key: Invalid API key (HTTP 500 Internal Server Error).\n"
        'Mandrill API response 500: {"status": "error", "code": -1, "name": "Invalid_Key", '
        '"message": "Invalid API key"}'
    )


# --- settings ----------------------------------------------------------------------


def _sent_key_and_url(mock: responses.RequestsMock) -> tuple[str, str]:
    call = mock.calls[-1]
    return request_json(call)["key"], call.request.url


def _send(mock: responses.RequestsMock, url: str = SEND_URL, **kwargs: Any) -> tuple[str, str]:
    mock_send(mock, url=url)
    message = make_message()
    connection(**kwargs).send_messages([message])
    return _sent_key_and_url(mock)


def test_api_url_default_and_overrides(
    mocked_responses: responses.RequestsMock, settings: Any
) -> None:
    assert EmailBackend.default_api_url == "https://mandrillapp.com/api/1.0"
    custom = "https://proxy.example.com/mandrill/api/1.3/messages/send.json"
    settings.ANYMAIL = {
        "MANDRILL_API_KEY": API_KEY,
        "MANDRILL_API_URL": "https://proxy.example.com/mandrill/api/1.3",
    }
    assert _send(mocked_responses, url=custom)[1] == custom
    # a trailing slash is fine
    settings.ANYMAIL = {
        "MANDRILL_API_KEY": API_KEY,
        "MANDRILL_API_URL": "https://proxy.example.com/mandrill/api/1.3/",
    }
    assert _send(mocked_responses, url=custom)[1] == custom
    # prefixed setting
    settings.ANYMAIL = {"MANDRILL_API_KEY": API_KEY}
    settings.ANYMAIL_MANDRILL_API_URL = "https://other.example.com/api/1.0"
    other = "https://other.example.com/api/1.0/messages/send.json"
    assert _send(mocked_responses, url=other)[1] == other
    # kwarg
    kwarg = "https://kwarg.example.com/api/messages/send.json"
    assert _send(mocked_responses, url=kwarg, api_url="https://kwarg.example.com/api")[1] == kwarg


def test_api_url_is_not_a_bare_setting(
    mocked_responses: responses.RequestsMock, settings: Any
) -> None:
    settings.MANDRILL_API_URL = "https://ignored.example.com/api"
    assert _send(mocked_responses)[1] == SEND_URL


def test_send_defaults(mocked_responses: responses.RequestsMock, settings: Any) -> None:
    settings.ANYMAIL = {
        "MANDRILL_API_KEY": API_KEY,
        "SEND_DEFAULTS": {"metadata": {"global": "g"}, "track_opens": True},
        "MANDRILL_SEND_DEFAULTS": {"metadata": {"esp": "e"}, "tags": ["esp-tag"]},
    }
    mock_send(mocked_responses)
    message = AnymailMessage(
        "Subject", "Body", "from@example.com", ["to@example.com"], metadata={"own": "o"}
    )
    connection().send_messages([message])
    data = only_request_json(mocked_responses)["message"]
    # For each key, MANDRILL_SEND_DEFAULTS replaces SEND_DEFAULTS.
    assert data["metadata"] == {"esp": "e", "own": "o"}
    assert data["tags"] == ["esp-tag"]
    assert data["track_opens"] is True
