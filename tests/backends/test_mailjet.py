"""Mailjet backend: Send API v3.1 requests and responses, asserted at the wire."""

from __future__ import annotations

import base64
import functools
import json
from email.mime.nonmultipart import MIMENonMultipart
from email.mime.text import MIMEText
from typing import Any

import pytest
import responses
from django.core import mail
from django.core.mail import get_connection

from anymail.exceptions import (
    AnymailImproperlyConfigured,
    AnymailRequestsAPIError,
    AnymailSerializationError,
    AnymailUnsupportedFeature,
)
from anymail.message import AnymailMessage, AnymailRecipientStatus
from tests.backends.support import answerer, api_error, django_message, plain_message, refused
from tests.utils import (
    PNG,
    fixture_text,
    make_message,
    only_request,
    only_request_json,
    request_json,
)

BACKEND = "anymail.backends.mailjet.EmailBackend"
SEND_URL = "https://api.mailjet.com/v3.1/send"
API_KEY = "test-api-key"
SECRET_KEY = "test-secret-key"
#: HTTP basic auth of API_KEY:SECRET_KEY.
AUTHORIZATION = "Basic " + base64.b64encode(f"{API_KEY}:{SECRET_KEY}".encode()).decode()


fixture = functools.partial(fixture_text, "mailjet")


def b64(content: bytes) -> str:
    return base64.b64encode(content).decode("ascii")


@pytest.fixture(autouse=True)
def mailjet_settings(settings: Any) -> None:
    settings.ANYMAIL = {"MAILJET_API_KEY": API_KEY, "MAILJET_SECRET_KEY": SECRET_KEY}
    settings.EMAIL_BACKEND = BACKEND


#: Mailjet's answer at the send endpoint (by default send_success.json).
mock_send = answerer(
    SEND_URL, lambda: fixture("send_success.json"), content_type="application/json"
)


def success_for(*to: str) -> str:
    """A success answer with one message per "to" address (as for a batch)."""
    return json.dumps(
        {
            "Messages": [
                {
                    "Status": "success",
                    "CustomID": "",
                    "To": [
                        {
                            "Email": address,
                            "MessageUUID": f"uuid-{index}",
                            "MessageID": 576460752303423500 + index,
                            "MessageHref": "https://api.mailjet.com/v3/REST/message/x",
                        }
                    ],
                    "Cc": [],
                    "Bcc": [],
                }
                for index, address in enumerate(to)
            ]
        }
    )


def send(message: Any, **options: Any) -> int:
    return get_connection(**options).send_messages([message])


# --- settings ---------------------------------------------------------------------


@pytest.mark.parametrize("name", ["MAILJET_API_KEY", "MAILJET_SECRET_KEY"])
@pytest.mark.parametrize(
    "value", ["k\u00e9y-non-ascii-0123", "key with space", "key\nline", "", 12345, None]
)
def test_invalid_credentials_are_configuration_errors(settings: Any, name: str, value: Any) -> None:
    # Checked at construction: requests would fail later (a UnicodeEncodeError or an
    # InvalidHeader quoting the value), when sending.
    settings.ANYMAIL = {"MAILJET_API_KEY": API_KEY, "MAILJET_SECRET_KEY": SECRET_KEY, name: value}
    with pytest.raises(AnymailImproperlyConfigured, match=f"Invalid Anymail setting {name}") as e:
        get_connection()
    if isinstance(value, str) and value:
        assert value not in str(e.value)


def test_api_url_default_and_bare_setting_ignored(settings: Any) -> None:
    settings.MAILJET_API_URL = "https://example.com/not-used/"  # not a bare setting
    assert get_connection().api_url == "https://api.mailjet.com/v3.1/"
    settings.ANYMAIL = {**settings.ANYMAIL, "MAILJET_API_URL": "https://api.us.mailjet.com/v3.1/"}
    assert get_connection().api_url == "https://api.us.mailjet.com/v3.1/"


@pytest.mark.parametrize(
    "api_url", ["https://api.mailjet.com/v3", "https://api.mailjet.com/v3/", "http://x/v3/send"]
)
def test_old_v3_api_url_is_refused(settings: Any, api_url: str) -> None:
    settings.ANYMAIL_MAILJET_API_URL = api_url
    with pytest.raises(AnymailImproperlyConfigured, match=r"MAILJET_API_URL.*v3\.1"):
        get_connection()


def test_send_defaults(mocked_responses: responses.RequestsMock, settings: Any) -> None:
    settings.ANYMAIL = {
        **settings.ANYMAIL,
        "SEND_DEFAULTS": {"metadata": {"global": "yes"}, "track_opens": True},
        "MAILJET_SEND_DEFAULTS": {
            "tags": ["mailjet-default"],
            "esp_extra": {"Globals": {"Priority": 2}},
        },
    }
    mock_send(mocked_responses, body=success_for("to@example.com"))
    send(plain_message(metadata={"a": "1"}))
    assert only_request_json(mocked_responses)["Globals"] == {
        "From": {"Email": "from@example.com"},
        "Subject": "Subject",
        "TextPart": "Body",
        "EventPayload": '{"global":"yes","a":"1"}',
        "TrackOpens": "enabled",
        "CustomCampaign": "mailjet-default",
        "Priority": 2,
    }


# --- message features -------------------------------------------------------------


def test_every_supported_feature(mocked_responses: responses.RequestsMock) -> None:
    mock_send(mocked_responses)  # send_success.json: to, cc and bcc
    message = make_message(
        from_email='"Shop, Inc." <orders@shop.example.com>',
        to=["Recipient <to@example.com>"],
        cc=["cc@example.com"],
        bcc=["Blind <bcc@example.com>"],
        reply_to=["Help Desk <help@shop.example.com>"],
        headers={"X-Custom": "value ü", "List-Unsubscribe": "<mailto:u@shop.example.com>"},
        envelope_sender="bounces@shop.example.com",
        metadata={"order": "1234", "n": 5},
        tags=["receipts"],
        track_clicks=False,
        track_opens=True,
        merge_global_data={"site": "Shop"},
        esp_extra={"Globals": {"Priority": 3}, "SandboxMode": False},
    )
    message.attach_alternative("<p>HTML body <img src='cid:logo'></p>", "text/html")
    message.attach("report.csv", "a,b\n1,2\n", "text/csv")
    message.attach("data.bin", b"\x00\x01\x02", "application/octet-stream")
    cid = message.attach_inline_image(PNG, "logo.png")

    assert send(message) == 1
    assert only_request_json(mocked_responses) == {
        "Globals": {
            "From": {"Email": "orders@shop.example.com", "Name": "Shop, Inc."},
            "Cc": [{"Email": "cc@example.com"}],
            "Bcc": [{"Email": "bcc@example.com", "Name": "Blind"}],
            "Subject": "Subject line",
            "ReplyTo": {"Email": "help@shop.example.com", "Name": "Help Desk"},
            "Headers": {
                "X-Custom": "value ü",
                "List-Unsubscribe": "<mailto:u@shop.example.com>",
            },
            "TextPart": "Body text of the message",
            "HTMLPart": "<p>HTML body <img src='cid:logo'></p>",
            "Attachments": [
                {
                    "ContentType": "text/csv",
                    "Filename": "report.csv",
                    "Base64Content": b64(b"a,b\n1,2\n"),
                },
                {
                    "ContentType": "application/octet-stream",
                    "Filename": "data.bin",
                    "Base64Content": b64(b"\x00\x01\x02"),
                },
            ],
            "InlinedAttachments": [
                {
                    "ContentType": "image/png",
                    "Filename": "logo.png",
                    "Base64Content": b64(PNG),
                    "ContentID": cid,
                }
            ],
            "Sender": {"Email": "bounces@shop.example.com"},
            "EventPayload": '{"order":"1234","n":5}',
            "CustomCampaign": "receipts",
            "TrackClicks": "disabled",
            "TrackOpens": "enabled",
            "Variables": {"site": "Shop"},
            "Priority": 3,
        },
        "Messages": [{"To": [{"Email": "to@example.com", "Name": "Recipient"}]}],
        "SandboxMode": False,
    }
    status = message.anymail_status
    assert status.status == {"sent"}
    assert status.recipients == {
        "to@example.com": AnymailRecipientStatus("576460752303423489", "sent"),
        "cc@example.com": AnymailRecipientStatus("576460752303423490", "sent"),
        "bcc@example.com": AnymailRecipientStatus("576460752303423491", "sent"),
    }
    assert status.message_id == {
        "576460752303423489",
        "576460752303423490",
        "576460752303423491",
    }


def test_addresses(mocked_responses: responses.RequestsMock) -> None:
    mock_send(mocked_responses, body=success_for("a@example.com"))
    message = mail.EmailMessage(
        from_email="Ünïcode Sender <from@exämple.com>",
        to=[
            '"Last, First" <a@example.com>',
            "Jörg <jörg@example.com>",
            "plain@bücher.example",
        ],
        body="B",
    )
    send(message)
    data = only_request_json(mocked_responses)
    assert data["Globals"]["From"] == {"Email": "from@xn--exmple-cua.com", "Name": "Ünïcode Sender"}
    assert data["Messages"] == [
        {
            "To": [
                {"Email": "a@example.com", "Name": "Last, First"},
                {"Email": "jörg@example.com", "Name": "Jörg"},
                {"Email": "plain@xn--bcher-kva.example"},
            ]
        }
    ]
    # The JSON is UTF-8 (not \\u escapes, not Latin-1).
    assert "Jörg".encode() in only_request(mocked_responses).body
    # Mailjet gave ids only for the first: the others weren't reported, so failed.
    assert message.anymail_status.recipients == {
        "a@example.com": AnymailRecipientStatus("576460752303423500", "sent"),
        "jörg@example.com": AnymailRecipientStatus(None, "failed"),
        "plain@xn--bcher-kva.example": AnymailRecipientStatus(None, "failed"),
    }


def test_multiple_reply_to(mocked_responses: responses.RequestsMock) -> None:
    mock_send(mocked_responses, body=success_for("to@example.com"))
    message = django_message(reply_to=["a@example.com", "b@x.com"])
    with refused(
        mocked_responses, AnymailUnsupportedFeature, match="Mailjet does not support multiple reply"
    ):
        send(message)

    send(message, ignore_unsupported_features=True)
    assert only_request_json(mocked_responses)["Globals"]["ReplyTo"] == {"Email": "a@example.com"}


def test_reply_to_header_uses_reply_to_property(mocked_responses: responses.RequestsMock) -> None:
    mock_send(mocked_responses, body=success_for("to@example.com"))
    message = django_message(headers={"Reply-To": "Header <header@example.com>", "X-Other": "1"})
    send(message)
    data = only_request_json(mocked_responses)["Globals"]
    assert data["ReplyTo"] == {"Email": "header@example.com", "Name": "Header"}
    assert data["Headers"] == {"X-Other": "1"}  # never a Reply-To header (send-0011)


def test_multiple_tags(mocked_responses: responses.RequestsMock) -> None:
    mock_send(mocked_responses, body=success_for("to@example.com"))
    message = plain_message(tags=["first", "second"])
    with pytest.raises(AnymailUnsupportedFeature, match="Mailjet does not support multiple tags"):
        send(message)
    send(message, ignore_unsupported_features=True)
    assert only_request_json(mocked_responses)["Globals"]["CustomCampaign"] == "first"


def test_no_to_recipients(mocked_responses: responses.RequestsMock) -> None:
    message = mail.EmailMessage("S", "B", "from@example.com", cc=["cc@example.com"])
    with refused(
        mocked_responses,
        AnymailUnsupportedFeature,
        match="Mailjet does not support messages without any to recipients",
    ):
        send(message)

    # Ignoring it sends the request anyway; Mailjet's refusal is raised.
    mock_send(mocked_responses, body=fixture("send_error_global_400.json"), status=400)
    with pytest.raises(AnymailRequestsAPIError, match="mj-0002"):
        send(message, ignore_unsupported_features=True)
    assert only_request_json(mocked_responses)["Messages"] == []


def test_send_at_unsupported(mocked_responses: responses.RequestsMock) -> None:
    mock_send(mocked_responses, body=success_for("to@example.com"))
    message = plain_message(send_at=1893456000)
    with pytest.raises(AnymailUnsupportedFeature, match="Mailjet does not support send_at"):
        send(message)
    assert send(message, ignore_unsupported_features=True) == 1
    assert "send_at" not in json.dumps(only_request_json(mocked_responses))


# Legacy email.mime parts on purpose (Django 6.1 deprecates them, but still takes them).
@pytest.mark.filterwarnings("ignore:MIMEBase attachments are deprecated")
def test_attachment_details(mocked_responses: responses.RequestsMock) -> None:
    mock_send(mocked_responses, body=success_for("to@example.com"))
    message = django_message()
    message.encoding = "iso-8859-1"
    message.attach("café.txt", "Crème brûlée", "text/plain")  # str: encoded as iso-8859-1
    message.attach(None, b"%PDF-1.4", "application/pdf")  # unnamed
    latin1 = MIMEText("Ça va?", "plain", "iso-8859-1")
    latin1.add_header("Content-Disposition", "attachment", filename="note.txt")
    message.attach(latin1)
    unknown = MIMENonMultipart("text", "plain", charset="x-unknown-charset")
    unknown.set_payload(b"\xff raw bytes")
    unknown.add_header("Content-Disposition", "attachment", filename="raw.txt")
    message.attach(unknown)
    send(message)
    assert only_request_json(mocked_responses)["Globals"]["Attachments"] == [
        {
            "ContentType": "text/plain",  # no charset: Mailjet adds utf-8 ...
            "Filename": "café.txt",
            "Base64Content": b64("Crème brûlée".encode()),  # ... so send utf-8
        },
        {
            "ContentType": "application/pdf",
            "Filename": "attachment.pdf",
            "Base64Content": b64(b"%PDF-1.4"),
        },
        {
            "ContentType": "text/plain",
            "Filename": "note.txt",
            "Base64Content": b64("Ça va?".encode()),
        },
        {
            "ContentType": "text/plain",
            "Filename": "raw.txt",
            "Base64Content": b64(b"\xff raw bytes"),  # unknown charset: sent as is
        },
    ]


def test_inline_image_without_filename(mocked_responses: responses.RequestsMock) -> None:
    mock_send(mocked_responses, body=success_for("to@example.com"))
    message = plain_message()
    cid = message.attach_inline_image(PNG)
    message.attach_alternative(f"<img src='cid:{cid}'>", "text/html")
    send(message)
    globals_ = only_request_json(mocked_responses)["Globals"]
    assert "Attachments" not in globals_
    assert globals_["InlinedAttachments"] == [
        {
            "ContentType": "image/png",
            "Filename": "attachment.png",
            "Base64Content": b64(PNG),
            "ContentID": cid,
        }
    ]


def test_bodies(mocked_responses: responses.RequestsMock) -> None:
    mock_send(mocked_responses, body=success_for("to@example.com"))
    message = mail.EmailMultiAlternatives("S", "", "from@example.com", ["to@example.com"])
    message.attach_alternative("<p>Only HTML</p>", "text/html")
    send(message)
    globals_ = request_json(mocked_responses.calls[0])["Globals"]
    assert globals_["HTMLPart"] == "<p>Only HTML</p>"
    assert "TextPart" not in globals_  # empty text body left out

    html_message = mail.EmailMessage("S", "<p>html</p>", "from@example.com", ["to@example.com"])
    html_message.content_subtype = "html"
    send(html_message)
    globals_ = request_json(mocked_responses.calls[1])["Globals"]
    assert globals_["HTMLPart"] == "<p>html</p>"
    assert "TextPart" not in globals_


def test_second_html_and_other_alternatives(mocked_responses: responses.RequestsMock) -> None:
    mock_send(mocked_responses, body=success_for("to@example.com"))
    message = mail.EmailMultiAlternatives("S", "T", "from@example.com", ["to@example.com"])
    message.attach_alternative("<p>one</p>", "text/html")
    message.attach_alternative("<p>two</p>", "text/html")
    with refused(
        mocked_responses, AnymailUnsupportedFeature, match="Mailjet does not support multiple html"
    ):
        send(message)

    send(message, ignore_unsupported_features=True)
    assert only_request_json(mocked_responses)["Globals"]["HTMLPart"] == "<p>one</p>"


@pytest.mark.parametrize("header", ["Message-ID", "X-MJ-CustomID", "X-Mailjet-Campaign"])
def test_headers_mailjet_refuses(mocked_responses: responses.RequestsMock, header: str) -> None:
    mock_send(mocked_responses, body=success_for("to@example.com"))
    message = django_message(headers={header: "x", "X-Ok": "y"})
    with refused(
        mocked_responses, AnymailUnsupportedFeature, match=f"Mailjet does not support .*{header}"
    ):
        send(message)
    send(message, ignore_unsupported_features=True)
    assert only_request_json(mocked_responses)["Globals"]["Headers"] == {"X-Ok": "y"}


def test_metadata_serialization_error_names_the_value() -> None:
    from decimal import Decimal

    message = plain_message(
        merge_metadata={"to@example.com": {"price": Decimal("1.50")}},
    )
    with pytest.raises(AnymailSerializationError, match=r"merge_metadata.*to@example.com.*price"):
        send(message)


# --- templates and batch sends ----------------------------------------------------


def test_template_send(mocked_responses: responses.RequestsMock) -> None:
    mock_send(mocked_responses, body=success_for("alice@example.com"))
    message = AnymailMessage(to=["alice@example.com"], template_id="176375")
    message.from_email = None  # use the template's sender
    message.merge_global_data = {"ship_date": "May 15"}
    send(message)
    assert only_request_json(mocked_responses) == {
        "Globals": {
            # no From, Subject or TextPart: the template's own are used
            "TemplateID": 176375,
            "TemplateLanguage": True,
            "Variables": {"ship_date": "May 15"},
        },
        "Messages": [{"To": [{"Email": "alice@example.com"}]}],
    }
    assert message.anymail_status.status == {"sent"}


def test_template_subject_none_and_int_id(mocked_responses: responses.RequestsMock) -> None:
    mock_send(mocked_responses, body=success_for("alice@example.com"))
    message = AnymailMessage(
        "Ignored", from_email="from@example.com", to=["alice@example.com"], template_id=42
    )
    message.subject = None
    send(message)
    assert only_request_json(mocked_responses)["Globals"] == {
        "From": {"Email": "from@example.com"},
        "TemplateID": 42,
        "TemplateLanguage": True,
    }


@pytest.mark.parametrize(
    "template_id",
    # int() would turn the last four into (wrong) numbers: only ASCII digits are an ID.
    ["welcome-email", "12ab", True, "1_000", "-5", -5, "\u0661\u0662"],
)
def test_template_id_must_be_numeric(
    mocked_responses: responses.RequestsMock, template_id: Any
) -> None:
    message = AnymailMessage(to=["to@example.com"], template_id=template_id)
    for options in ({}, {"ignore_unsupported_features": True}):
        with pytest.raises(AnymailUnsupportedFeature, match="numeric ID") as excinfo:
            send(message, **options)
        assert repr(template_id) in str(excinfo.value)
    assert len(mocked_responses.calls) == 0


def test_batch_send_with_template(mocked_responses: responses.RequestsMock) -> None:
    mock_send(mocked_responses, body=fixture("send_success_batch.json"))
    message = AnymailMessage(
        from_email="orders@example.com",
        to=["alice@example.com", "Bob <bob@example.com>", "carol@example.com"],
        template_id="176375",
        merge_data={
            "alice@example.com": {"name": "Alice", "order_no": "12345"},
            "bob@example.com": {"name": "Bob", "ship_date": "overridden"},
        },
        merge_global_data={"ship_date": "May 15"},
        metadata={"batch": "b1"},
        merge_metadata={"bob@example.com": {"customer": 7}},
        headers={"X-Shared": "s"},
        merge_headers={"alice@example.com": {"x-shared": "mine", "X-Extra": "e"}},
    )
    send(message)
    assert only_request_json(mocked_responses) == {
        "Globals": {
            "From": {"Email": "orders@example.com"},
            "Headers": {"X-Shared": "s"},
            "EventPayload": '{"batch":"b1"}',
            "TemplateID": 176375,
            "TemplateLanguage": True,
            "Variables": {"ship_date": "May 15"},
        },
        "Messages": [
            {
                "To": [{"Email": "alice@example.com"}],
                "Headers": {"x-shared": "mine", "X-Extra": "e"},
                "Variables": {"ship_date": "May 15", "name": "Alice", "order_no": "12345"},
            },
            {
                "To": [{"Email": "bob@example.com", "Name": "Bob"}],
                "EventPayload": '{"batch":"b1","customer":7}',
                "Variables": {"ship_date": "overridden", "name": "Bob"},
            },
            {"To": [{"Email": "carol@example.com"}]},
        ],
    }
    # The fixture answers for alice and bob only: carol isn't reported, so failed.
    status = message.anymail_status
    assert status.recipients == {
        "alice@example.com": AnymailRecipientStatus("576460752303423501", "sent"),
        "bob@example.com": AnymailRecipientStatus("576460752303423502", "sent"),
        "carol@example.com": AnymailRecipientStatus(None, "failed"),
    }
    assert status.status == {"sent", "failed"}
    assert status.message_id == {"576460752303423501", "576460752303423502"}


@pytest.mark.parametrize("feature", ["merge_data", "merge_metadata", "merge_headers"])
def test_empty_merge_feature_makes_a_batch(
    mocked_responses: responses.RequestsMock, feature: str
) -> None:
    mock_send(mocked_responses, body=success_for("a@example.com", "b@example.com"))
    message = AnymailMessage(
        "S", "Hi [[var:name]]", "from@example.com", ["a@example.com", "b@example.com"]
    )
    setattr(message, feature, {})
    send(message)
    assert only_request_json(mocked_responses)["Messages"] == [
        {"To": [{"Email": "a@example.com"}]},
        {"To": [{"Email": "b@example.com"}]},
    ]
    assert message.anymail_status.recipients == {
        "a@example.com": AnymailRecipientStatus("576460752303423500", "sent"),
        "b@example.com": AnymailRecipientStatus("576460752303423501", "sent"),
    }


def test_batch_on_the_fly_template_with_cc(mocked_responses: responses.RequestsMock) -> None:
    answer = json.loads(success_for("a@example.com", "b@example.com"))
    # Mailjet sends the cc a copy of each message, each with its own id.
    answer["Messages"][0]["Cc"] = [{"Email": "cc@example.com", "MessageID": 11}]
    answer["Messages"][1]["Cc"] = [{"Email": "CC@example.com", "MessageID": 12}]
    mock_send(mocked_responses, body=json.dumps(answer))
    message = AnymailMessage(
        "Shipped",
        "Dear [[var:name]]",
        "from@example.com",
        ["a@example.com", "b@example.com"],
        cc=["cc@example.com"],
        merge_data={"a@example.com": {"name": "A"}, "b@example.com": {"name": "B"}},
    )
    send(message)
    data = only_request_json(mocked_responses)
    assert data["Globals"]["Cc"] == [{"Email": "cc@example.com"}]
    assert "TemplateID" not in data["Globals"] and "TemplateLanguage" not in data["Globals"]
    assert data["Messages"] == [
        {"To": [{"Email": "a@example.com"}], "Variables": {"name": "A"}},
        {"To": [{"Email": "b@example.com"}], "Variables": {"name": "B"}},
    ]
    assert message.anymail_status.recipients == {
        "a@example.com": AnymailRecipientStatus("576460752303423500", "sent"),
        "b@example.com": AnymailRecipientStatus("576460752303423501", "sent"),
        "cc@example.com": AnymailRecipientStatus("11", "sent"),  # the first copy
    }


@pytest.mark.parametrize(
    ("headers", "problem"),
    [
        ({"Reply-To": "other@example.com"}, "Reply-To in merge_headers"),
        ({"X-MJ-EventPayload": "x"}, "X-MJ-EventPayload"),
    ],
)
def test_merge_headers_mailjet_refuses(
    mocked_responses: responses.RequestsMock, headers: dict[str, str], problem: str
) -> None:
    mock_send(mocked_responses, body=success_for("to@example.com"))
    message = plain_message(
        merge_headers={"to@example.com": {**headers, "X-Ok": "1"}},
    )
    with pytest.raises(AnymailUnsupportedFeature, match=problem):
        send(message)
    send(message, ignore_unsupported_features=True)
    assert only_request_json(mocked_responses)["Messages"] == [
        {"To": [{"Email": "to@example.com"}], "Headers": {"X-Ok": "1"}}
    ]


def test_esp_extra_deep_merge(mocked_responses: responses.RequestsMock) -> None:
    mock_send(mocked_responses, body=fixture("send_sandbox_success.json"))
    message = plain_message(
        tags=["anymail-tag"],
        esp_extra={
            "SandboxMode": True,
            "AdvanceErrorHandling": True,
            "Globals": {"CustomCampaign": "esp-extra-wins", "From": {"Name": "Added"}},
        },
    )
    send(message)
    assert only_request_json(mocked_responses) == {
        "Globals": {
            "From": {"Email": "from@example.com", "Name": "Added"},
            "Subject": "Subject",
            "TextPart": "Body",
            "CustomCampaign": "esp-extra-wins",
        },
        "Messages": [{"To": [{"Email": "to@example.com"}]}],
        "SandboxMode": True,
        "AdvanceErrorHandling": True,
    }
    # A sandbox send gets MessageID 0: nothing was sent, so no message id.
    assert message.anymail_status.recipients == {
        "to@example.com": AnymailRecipientStatus(None, "sent")
    }
    assert message.anymail_status.message_id is None


def test_esp_extra_messages_replace_the_list(mocked_responses: responses.RequestsMock) -> None:
    mock_send(mocked_responses, body=success_for("x@example.com"))
    message = plain_message(
        esp_extra={"Messages": [{"To": [{"Email": "x@example.com"}], "Priority": 1}]},
    )
    send(message)
    assert only_request_json(mocked_responses)["Messages"] == [
        {"To": [{"Email": "x@example.com"}], "Priority": 1}
    ]
    # Statuses follow what was actually sent.
    assert message.anymail_status.recipients == {
        "x@example.com": AnymailRecipientStatus("576460752303423500", "sent")
    }


# --- responses and errors ---------------------------------------------------------


def test_partial_failure_does_not_raise(mocked_responses: responses.RequestsMock) -> None:
    mock_send(mocked_responses, body=fixture("send_partial_error_400.json"), status=400)
    message = plain_message(to=["alice@example.com", "invalid@123.4"], merge_data={})
    assert send(message) == 1
    status = message.anymail_status
    assert status.recipients == {
        "alice@example.com": AnymailRecipientStatus("576460752303423501", "sent"),
        "invalid@123.4": AnymailRecipientStatus(None, "failed"),
    }
    assert status.status == {"sent", "failed"}
    assert status.message_id == "576460752303423501"
    assert status.esp_response.status_code == 400


@pytest.mark.parametrize("status_code", [500, 502, 503])
def test_server_errors_raise_even_with_a_success_listed(
    mocked_responses: responses.RequestsMock, status_code: int
) -> None:
    # The partial-success rule is for 4xx: a 5xx is a server failure, whatever its body.
    mock_send(mocked_responses, body=fixture("send_partial_error_400.json"), status=status_code)
    message = plain_message(to=["alice@example.com", "invalid@123.4"], merge_data={})
    err = api_error(send, message, status_code, API_KEY, SECRET_KEY)
    assert str(err).startswith(f"Mailjet API error: HTTP {status_code} ")
    assert "Messages[0]: success; Messages[1]: mj-0013 " in str(err)
    assert send(message, fail_silently=True) == 0


@pytest.mark.parametrize(
    ("fixture_name", "status_code", "quoted"),
    [
        # Every message failed:
        (
            "send_error_message_400.json",
            400,
            'Messages[0]: send-0003 At least "HTMLPart", "TextPart" or "TemplateID" must be '
            "provided. (related to HTMLPart, TextPart)",
        ),
        (
            "send_error_headers_400.json",
            400,
            "send-0011 Header cannot be customized",
        ),
        (
            "send_error_sender_403.json",
            403,
            'send-0008 "unverified@example.com" is not an authorized sender email address',
        ),
        # The call failed:
        (
            "send_error_global_400.json",
            400,
            "mj-0002 Malformed JSON, please review the syntax and properties types. "
            "(ErrorIdentifier 00000000-aaaa-4bbb-8ccc-000000000005)",
        ),
        (
            "send_error_401.json",
            401,
            "HTTP 401 Unauthorized: API key authentication/authorization failure.",
        ),
    ],
)
def test_errors_raise(
    mocked_responses: responses.RequestsMock, fixture_name: str, status_code: int, quoted: str
) -> None:
    # Deliberately raises when every message failed (rather than reporting every
    # recipient "failed"): nothing was sent, and Mailjet's error text says what to fix.
    mock_send(mocked_responses, body=fixture(fixture_name), status=status_code)
    message = django_message()
    err = api_error(send, message, status_code, API_KEY, SECRET_KEY)
    assert str(err).startswith(f"Mailjet API error: HTTP {status_code}")
    assert quoted in str(err)


def test_every_batch_message_failed_names_each(mocked_responses: responses.RequestsMock) -> None:
    error = json.loads(fixture("send_error_message_400.json"))["Messages"][0]
    mock_send(mocked_responses, body=json.dumps({"Messages": [error, error]}), status=400)
    message = AnymailMessage("S", "", "from@example.com", ["a@x.com", "b@x.com"], merge_data={})
    with pytest.raises(AnymailRequestsAPIError, match=r"Messages\[0\]: send-0003.*Messages\[1\]"):
        send(message)


def test_rate_limit_keeps_headers(mocked_responses: responses.RequestsMock) -> None:
    mock_send(
        mocked_responses,
        body=fixture("send_error_429.txt"),
        status=429,
        content_type="text/plain",
        headers={"Retry-After": "30"},
    )
    message = django_message()
    err = api_error(send, message, 429, API_KEY, SECRET_KEY)
    assert err.response.headers["Retry-After"] == "30"
    assert str(err).startswith("Mailjet API error: HTTP 429 Too Many Requests.")
    assert "Rate limit exceeded" in str(err)


def test_server_error(mocked_responses: responses.RequestsMock) -> None:
    mock_send(
        mocked_responses,
        body=json.dumps(
            {"ErrorIdentifier": "f00d-1234", "StatusCode": 500, "ErrorMessage": "Internal error"}
        ),
        status=500,
    )
    message = django_message()
    err = api_error(send, message, 500, API_KEY, SECRET_KEY)
    assert "Internal error (ErrorIdentifier f00d-1234)" in str(err)


@pytest.mark.parametrize(
    ("body", "problem"),
    [("not json", "Invalid JSON"), ('{"Status": "ok"}', "no 'Messages' list")],
)
def test_unexpected_success_body(
    mocked_responses: responses.RequestsMock, body: str, problem: str
) -> None:
    mock_send(mocked_responses, body=body)
    message = django_message()
    with pytest.raises(AnymailRequestsAPIError, match=problem) as excinfo:
        send(message)
    assert excinfo.value.status_code == 200
