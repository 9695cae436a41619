"""Resend backend: the exact requests Resend receives, and how its answers are read."""

from __future__ import annotations

import base64
import functools
import json
from datetime import UTC, date, datetime, timedelta, timezone
from email.mime.base import MIMEBase
from email.mime.image import MIMEImage
from email.mime.text import MIMEText
from typing import Any

import pytest
import responses

from anymail.backends.resend import EmailBackend
from anymail.exceptions import (
    AnymailAPIError,
    AnymailError,
    AnymailImproperlyConfigured,
    AnymailUnsupportedFeature,
)
from anymail.message import AnymailMessage, AnymailRecipientStatus
from tests.backends.support import (
    answering,
    anymail_settings,
    api_error,
    assert_display_names_recipients,
    attach_logo,
    display_names_message,
    endpoint_answerer,
    http_fixture,
    invoice_message,
    refused,
    sender,
    short_message,
)
from tests.utils import (
    PNG,
    fixture_json,
    only_request,
    only_request_json,
)

API = "https://api.resend.com/"
API_KEY = "re_test_123456789"
SINGLE_ID = "49a3999c-0ce1-4ea6-ab68-afcd6dc2e794"
BATCH_IDS = ["ae2014de-c168-4c61-8267-70d2662a1ce1", "faccb7a5-8a28-4e9a-ac64-8da1cc3bc1cb"]


fixture = functools.partial(fixture_json, "resend")


esp_settings = anymail_settings(RESEND_API_KEY=API_KEY)


#: Resend's answer (by default, the success fixture for the endpoint).
mock_resend = endpoint_answerer(
    API,
    "emails",
    lambda endpoint: fixture(
        "send_success_batch.json" if endpoint == "emails/batch" else "send_success.json"
    ),
)


#: The shared test message, with the short texts and named recipient these tests show.
make_message = short_message
send = sender(EmailBackend)

#: The ESP giving its default answer, and the ``responses`` mock to read requests from.
resend = answering(mock_resend)


# --- the request -------------------------------------------------------------


def test_every_supported_feature_whole_request(resend: responses.RequestsMock) -> None:
    message = invoice_message(
        html='<p>Thanks for your order. <img src="cid:logo123@example.com"></p>',
        headers={"X-Order-Id": 1234},
        tags=["order", "receipt"],
        metadata={"order_id": "1234"},
        send_at=datetime(2026, 3, 4, 5, 6, 7, 8000, tzinfo=UTC),
    )
    attach_logo(message, b"\x89PNG\r\n\x1a\nfake-png-bytes", "logo123@example.com")
    assert send(message) == 1

    request = only_request(resend)
    assert request.url == API + "emails"
    assert only_request_json(resend) == fixture("send_request_basic.json")
    assert message.anymail_status.recipients == {
        "alice@example.com": AnymailRecipientStatus(SINGLE_ID, "queued"),
        "cc@example.com": AnymailRecipientStatus(SINGLE_ID, "queued"),
        "bcc@example.com": AnymailRecipientStatus(SINGLE_ID, "queued"),
    }
    assert message.anymail_status.message_id == SINGLE_ID


def test_non_ascii_names_idn_domains_and_multiple_reply_to(resend: responses.RequestsMock) -> None:
    message = display_names_message(
        subject="Bestätigung für Jörg",
        body="Grüße",
        reply_to=["Hilfe <help@example.com>", "other@example.com"],
        headers={"X-Note": "naïve"},
    )
    send(message)
    assert only_request_json(resend) == {
        "from": '"Müller, Jörg" <from@xn--bcher-kva.example>',
        "to": [
            '"Müller, Jörg" <to@example.com>',
            '"Smith, Jo" <jo@example.com>',
            "Zoë <zoe@xn--exmple-cua.com>",
        ],
        "cc": ['"Ana (García)" <cc@example.com>'],
        "bcc": ['"Zoë @ Shop" <bcc@example.com>'],
        "reply_to": ["Hilfe <help@example.com>", "other@example.com"],
        "subject": "Bestätigung für Jörg",
        "text": "Grüße",
        "headers": {"X-Note": "naïve"},
    }
    assert_display_names_recipients(message)


def test_html_only_and_reply_to_header(resend: responses.RequestsMock) -> None:
    message = make_message(body="<p>Hi</p>", headers={"Reply-To": "Desk <desk@example.com>"})
    message.content_subtype = "html"
    send(message)
    assert only_request_json(resend) == {
        "from": "from@example.com",
        "to": ["Recipient Name <to@example.com>"],
        "reply_to": ["Desk <desk@example.com>"],
        "subject": "Subject",
        "html": "<p>Hi</p>",
    }


def test_tags_and_metadata_are_json_headers(resend: responses.RequestsMock) -> None:
    message = make_message(
        tags=["Größe", "two"],
        metadata={"user": "Zoë", "count": 3},
        headers={"X-Custom": "value"},
    )
    send(message)
    headers = only_request_json(resend)["headers"]
    assert headers == {
        "X-Custom": "value",
        "X-Tags": '["Gr\\u00f6\\u00dfe", "two"]',
        "X-Metadata": '{"user": "Zo\\u00eb", "count": 3}',
    }
    # Readable back as they were (the tracking webhook does this).
    assert json.loads(headers["X-Tags"]) == ["Größe", "two"]
    assert json.loads(headers["X-Metadata"]) == {"user": "Zoë", "count": 3}


# --- attachments ---------------------------------------------------------------


def test_attachment_details(resend: responses.RequestsMock) -> None:
    message = make_message()
    message.attach("Rechnung für März.txt", "Total: 10 €\n", "text/plain")
    latin = MIMEText("Prix : 10 €", "plain", "iso-8859-15")
    latin.add_header("Content-Disposition", "attachment", filename="prix.txt")
    message.attachments.append(latin)
    message.attach("photo.jpe", b"jpeg bytes", "image/jpeg")  # another extension of its type
    message.attach("archive.tar.gz", b"gz bytes", "application/gzip")  # compressed: not guessed
    message.attach("README", b"no extension", "application/octet-stream")
    send(message)
    assert only_request_json(resend)["attachments"] == [
        {
            "filename": "Rechnung für März.txt",
            "content": "VG90YWw6IDEwIOKCrAo=",
            "content_type": "text/plain; charset=utf-8",
        },
        {
            "filename": "prix.txt",
            "content": "UHJpeCA6IDEwIKQ=",
            "content_type": "text/plain; charset=iso-8859-15",
        },
        {"filename": "photo.jpe", "content": "anBlZyBieXRlcw==", "content_type": "image/jpeg"},
        {
            "filename": "archive.tar.gz",
            "content": "Z3ogYnl0ZXM=",
            "content_type": "application/gzip",
        },
        {
            "filename": "README",
            "content": "bm8gZXh0ZW5zaW9u",
            "content_type": "application/octet-stream",
        },
    ]


def test_unnamed_attachments_get_a_filename(resend: responses.RequestsMock) -> None:
    message = make_message()
    message.attachments.append(MIMEText("plain text", "plain", "utf-8"))
    pdf = MIMEBase("application", "pdf")
    pdf.set_payload(b"%PDF")
    message.attachments.append(pdf)
    send(message)
    assert only_request_json(resend)["attachments"] == [
        {
            "filename": "attachment.txt",
            "content": "cGxhaW4gdGV4dA==",
            "content_type": "text/plain; charset=utf-8",
        },
        {"filename": "attachment.pdf", "content": "JVBERg==", "content_type": "application/pdf"},
    ]


def unnamed_unknown_type_message() -> AnymailMessage:
    message = make_message()
    part = MIMEBase("application", "x-anymail-unknown")
    part.set_payload(b"data")
    message.attachments.append(part)
    return message


def test_unnamed_attachment_of_unknown_type(mocked_responses: responses.RequestsMock) -> None:
    with refused(
        mocked_responses,
        AnymailUnsupportedFeature,
        match=r"Resend does not support unnamed attachments of type application/x-anymail-unknown",
    ):
        send(unnamed_unknown_type_message())

    # Without the check, it is sent as plain "attachment".
    mock_resend(mocked_responses)
    send(unnamed_unknown_type_message(), verify_attachment_extensions=False)
    assert only_request_json(mocked_responses)["attachments"] == [
        {
            "filename": "attachment",
            "content": "ZGF0YQ==",
            "content_type": "application/x-anymail-unknown",
        }
    ]


def mismatched_attachment_message() -> AnymailMessage:
    message = make_message()
    message.attach("data.txt", "a,b\n1,2\n", "text/csv")
    message.attach("ok.csv", "a,b\n", "text/csv")
    return message


def test_attachment_extension_must_match_type(mocked_responses: responses.RequestsMock) -> None:
    with pytest.raises(AnymailUnsupportedFeature) as excinfo:
        send(mismatched_attachment_message())
    text = str(excinfo.value)
    assert "Resend does not support attachments of type text/csv with name 'data.txt'" in text
    assert "RESEND_VERIFY_ATTACHMENT_EXTENSIONS" in text
    assert len(mocked_responses.calls) == 0


def test_attachment_extension_mismatch_ignored_leaves_it_out(
    resend: responses.RequestsMock,
) -> None:
    send(mismatched_attachment_message(), ignore_unsupported_features=True)
    assert [a["filename"] for a in only_request_json(resend)["attachments"]] == ["ok.csv"]


@pytest.mark.parametrize(
    "where",
    ["kwarg", "ANYMAIL", "ANYMAIL_RESEND"],
)
def test_attachment_extension_check_can_be_turned_off(
    settings: Any, resend: responses.RequestsMock, where: str
) -> None:
    kwargs: dict[str, Any] = {}
    if where == "kwarg":
        kwargs["verify_attachment_extensions"] = False
    elif where == "ANYMAIL":
        settings.ANYMAIL = {**settings.ANYMAIL, "RESEND_VERIFY_ATTACHMENT_EXTENSIONS": False}
    else:
        settings.ANYMAIL_RESEND_VERIFY_ATTACHMENT_EXTENSIONS = False
    send(mismatched_attachment_message(), **kwargs)
    assert only_request_json(resend)["attachments"][0] == {
        "filename": "data.txt",
        "content": "YSxiCjEsMgo=",
        "content_type": "text/csv; charset=utf-8",
    }


def test_verify_attachment_extensions_must_be_bool(settings: Any) -> None:
    settings.ANYMAIL = {**settings.ANYMAIL, "RESEND_VERIFY_ATTACHMENT_EXTENSIONS": "no"}
    with pytest.raises(AnymailImproperlyConfigured, match="RESEND_VERIFY_ATTACHMENT_EXTENSIONS"):
        EmailBackend()


def test_inline_image_helper(resend: responses.RequestsMock) -> None:
    message = make_message()
    cid = message.attach_inline_image(PNG, filename="logo.png")
    message.attach_alternative(f'<img src="cid:{cid}">', "text/html")
    send(message)
    data = only_request_json(resend)
    assert data["html"] == f'<img src="cid:{cid}">'
    assert data["attachments"] == [
        {
            "filename": "logo.png",
            "content": base64.b64encode(PNG).decode("ascii"),
            "content_type": "image/png",
            "content_id": cid,
        }
    ]


def inline_without_cid_message() -> AnymailMessage:
    message = make_message()
    image = MIMEImage(PNG, "png")
    image.add_header("Content-Disposition", "inline", filename="pic.png")
    message.attachments.append(image)
    return message


def test_inline_attachment_without_content_id(mocked_responses: responses.RequestsMock) -> None:
    with pytest.raises(
        AnymailUnsupportedFeature, match="Resend does not support inline attachments without"
    ):
        send(inline_without_cid_message())
    # Ignoring it sends the image as an ordinary attachment.
    mock_resend(mocked_responses)
    send(inline_without_cid_message(), ignore_unsupported_features=True)
    attachment = only_request_json(mocked_responses)["attachments"][0]
    assert attachment["filename"] == "pic.png"
    assert "content_id" not in attachment


# --- send_at -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("send_at", "scheduled_at"),
    [
        (datetime(2026, 3, 4, 5, 6, 7, 123456, tzinfo=UTC), "2026-03-04T05:06:07.123+00:00"),
        (datetime(2026, 3, 4, 5, 6, 7, tzinfo=UTC), "2026-03-04T05:06:07+00:00"),
        (
            datetime(2026, 3, 4, 5, 6, 7, tzinfo=timezone(timedelta(hours=1))),
            "2026-03-04T05:06:07+01:00",
        ),
        # Naive datetimes and dates are in the current timezone (America/New_York).
        (datetime(2026, 3, 4, 5, 6, 7), "2026-03-04T05:06:07-05:00"),
        (date(2026, 7, 4), "2026-07-04T00:00:00-04:00"),
        (1772600767, "2026-03-04T05:06:07+00:00"),
    ],
)
def test_send_at(resend: responses.RequestsMock, send_at: Any, scheduled_at: str) -> None:
    send(make_message(send_at=send_at))
    assert only_request_json(resend)["scheduled_at"] == scheduled_at


def test_natural_language_schedule_through_esp_extra(resend: responses.RequestsMock) -> None:
    send(make_message(esp_extra={"scheduled_at": "in 1 hour"}))
    assert only_request_json(resend)["scheduled_at"] == "in 1 hour"


# --- unsupported features -----------------------------------------------------------


@pytest.mark.parametrize(
    ("attrs", "feature"),
    [
        ({"merge_data": {"to@example.com": {"a": 1}}}, "merge_data without template_id"),
        ({"merge_global_data": {"a": 1}}, "merge_global_data without template_id"),
        ({"template_id": "welcome"}, "a text or html body with template_id"),
        (
            {"merge_metadata": {"to@example.com": {"a": 1}}, "send_at": 1772600767},
            "send_at with batch sending",
        ),
    ],
)
def test_unsupported_features(
    mocked_responses: responses.RequestsMock, attrs: dict[str, Any], feature: str
) -> None:
    message = make_message(**attrs)
    with refused(mocked_responses, AnymailUnsupportedFeature) as excinfo:
        send(message)
    assert f"Resend does not support {feature}" in str(excinfo.value)


def test_multiple_html_parts_unsupported() -> None:
    message = make_message()
    message.attach_alternative("<p>one</p>", "text/html")
    message.attach_alternative("<p>two</p>", "text/html")
    with pytest.raises(AnymailUnsupportedFeature, match="multiple html parts"):
        send(message)


def test_attachments_with_batch_sending(mocked_responses: responses.RequestsMock) -> None:
    message = make_message(merge_metadata={})
    message.attach("a.txt", "a", "text/plain")
    message.attach_inline_image(PNG, filename="logo.png")
    with refused(
        mocked_responses,
        AnymailUnsupportedFeature,
        match="Resend does not support attachments with batch sending",
    ):
        send(message)


def test_ignore_unsupported_features(mocked_responses: responses.RequestsMock) -> None:
    mock_resend(mocked_responses, endpoint="emails/batch", body={"data": [{"id": "id-1"}]})
    message = make_message(
        to=["to@example.com"],
        track_opens=True,
        track_clicks=True,
        envelope_sender="bounce@example.com",
        send_at=1772600767,
        merge_data={"to@example.com": {"name": "A"}},
        merge_global_data={"site": "Example"},
    )
    message.attach("a.txt", "a", "text/plain")
    backend = EmailBackend(ignore_unsupported_features=True)
    payload = backend.build_message_payload(message, backend.send_defaults)
    assert payload.ignored_features == [
        "envelope_sender",
        "track_clicks",
        "track_opens",
        "attachments with batch sending",
        "send_at with batch sending",
        "merge_data without template_id",
        "merge_global_data without template_id",
    ]
    assert backend.send_messages([message]) == 1
    # Still a batch send (merge_data asked for one), without the unsupported parts.
    assert only_request(mocked_responses).url == API + "emails/batch"
    assert only_request_json(mocked_responses) == [
        {
            "from": "from@example.com",
            "to": ["to@example.com"],
            "subject": "Subject",
            "text": "Body",
        }
    ]


# --- batch sending -----------------------------------------------------------------


def test_batch_merge_metadata_and_merge_headers(mocked_responses: responses.RequestsMock) -> None:
    mock_resend(mocked_responses, endpoint="emails/batch")
    message = AnymailMessage(
        subject="Your order",
        body="Thanks for your order.",
        from_email="shop@example.com",
        to=["alice@example.com", "Bob <bob@example.com>"],
        headers={"list-unsubscribe": "<https://www.example.com/unsub/default>"},
        metadata={"batch": "zx912"},
        merge_metadata={
            "alice@example.com": {"user_id": "u-1"},
            "bob@example.com": {"user_id": "u-2"},
        },
        merge_headers={
            "alice@example.com": {"List-Unsubscribe": "<https://www.example.com/unsub/a>"},
            # Keys match like addresses: case-insensitively.
            "BOB@example.com": {"List-Unsubscribe": "<https://www.example.com/unsub/b>"},
        },
    )
    assert send(message) == 1
    request = only_request(mocked_responses)
    assert request.url == "https://api.resend.com/emails/batch"
    assert request.headers["Authorization"] == f"Bearer {API_KEY}"
    # merge_headers replace the message's headers case-insensitively.
    assert only_request_json(mocked_responses) == fixture("send_request_batch.json")

    status = message.anymail_status
    assert status.status == {"queued"}
    assert status.message_id == set(BATCH_IDS)
    assert status.recipients == {
        "alice@example.com": AnymailRecipientStatus(BATCH_IDS[0], "queued"),
        "bob@example.com": AnymailRecipientStatus(BATCH_IDS[1], "queued"),
    }


def test_empty_merge_data_makes_a_batch_with_cc_and_bcc_copies(
    mocked_responses: responses.RequestsMock,
) -> None:
    mock_resend(mocked_responses, endpoint="emails/batch")
    message = make_message(
        to=["a@example.com", "b@example.com"],
        cc=["cc@example.com"],
        bcc=["bcc@example.com"],
        tags=["t"],
        merge_data={},
    )
    send(message)
    base = {
        "from": "from@example.com",
        "cc": ["cc@example.com"],
        "bcc": ["bcc@example.com"],
        "subject": "Subject",
        "text": "Body",
        "headers": {"X-Tags": '["t"]'},
    }
    assert only_request_json(mocked_responses) == [
        {**base, "to": ["a@example.com"]},
        {**base, "to": ["b@example.com"]},
    ]
    assert message.anymail_status.recipients == {
        "a@example.com": AnymailRecipientStatus(BATCH_IDS[0], "queued"),
        "b@example.com": AnymailRecipientStatus(BATCH_IDS[1], "queued"),
        "cc@example.com": AnymailRecipientStatus(None, "queued"),
        "bcc@example.com": AnymailRecipientStatus(None, "queued"),
    }


def test_empty_per_recipient_merge_data_without_template(
    mocked_responses: responses.RequestsMock,
) -> None:
    mock_resend(mocked_responses, endpoint="emails/batch", body={"data": [{"id": "id-1"}]})
    send(make_message(to=["to@example.com"], merge_data={"to@example.com": {}}))
    assert only_request_json(mocked_responses)[0]["to"] == ["to@example.com"]


def test_batch_without_to_recipients(mocked_responses: responses.RequestsMock) -> None:
    message = make_message(to=[], cc=["cc@example.com"], merge_metadata={})
    with pytest.raises(AnymailUnsupportedFeature, match="without any 'to' recipients"):
        send(message)
    mock_resend(mocked_responses)
    message = make_message(to=[], cc=["cc@example.com"], merge_metadata={})
    send(message, ignore_unsupported_features=True)
    assert only_request(mocked_responses).url == API + "emails"
    assert only_request_json(mocked_responses)["cc"] == ["cc@example.com"]


def test_batch_recipient_in_cc_too(mocked_responses: responses.RequestsMock) -> None:
    mock_resend(mocked_responses, endpoint="emails/batch")
    message = make_message(
        to=["a@example.com", "B@Example.com"], cc=["b@example.com"], merge_metadata={}
    )
    send(message)
    # One status per address (Resend treats case as insignificant): the "to" id wins.
    assert message.anymail_status.recipients == {
        "a@example.com": AnymailRecipientStatus(BATCH_IDS[0], "queued"),
        "b@example.com": AnymailRecipientStatus(BATCH_IDS[1], "queued"),
    }


# --- templates ---------------------------------------------------------------------


def test_template_send(resend: responses.RequestsMock) -> None:
    message = AnymailMessage(
        from_email="Example Shop <shop@example.com>",
        to=["alice@example.com"],
        template_id="order-confirmation",
        merge_global_data={"PRODUCT": "Vintage lamp", "PRICE": 49},
    )
    assert send(message) == 1
    request = only_request(resend)
    assert request.url == API + "emails"
    # Django's default empty subject is left out: the template's subject applies.
    assert only_request_json(resend) == fixture("send_request_template.json")
    assert message.anymail_status.message_id == SINGLE_ID


def test_template_with_subject_none_and_from_none(resend: responses.RequestsMock) -> None:
    message = AnymailMessage(to=["alice@example.com"], template_id=123)
    message.subject = None
    message.from_email = None
    send(message)
    assert only_request_json(resend) == {
        "to": ["alice@example.com"],
        "template": {"id": "123"},
    }


def test_template_keeps_subject_and_reply_to_overrides(resend: responses.RequestsMock) -> None:
    message = AnymailMessage(
        subject="Override",
        to=["alice@example.com"],
        reply_to=["help@example.com"],
        template_id="t",
    )
    send(message)
    assert only_request_json(resend) == {
        "from": "from@example.com",
        "to": ["alice@example.com"],
        "reply_to": ["help@example.com"],
        "subject": "Override",
        "template": {"id": "t"},
    }


def test_template_with_body_ignored_drops_body(resend: responses.RequestsMock) -> None:
    message = make_message(template_id="t")
    message.attach_alternative("<p>html</p>", "text/html")
    send(message, ignore_unsupported_features=True)
    assert only_request_json(resend) == {
        "from": "from@example.com",
        "to": ["Recipient Name <to@example.com>"],
        "subject": "Subject",
        "template": {"id": "t"},
    }


def test_template_batch_with_merge_data(mocked_responses: responses.RequestsMock) -> None:
    mock_resend(mocked_responses, endpoint="emails/batch")
    message = AnymailMessage(
        from_email="shop@example.com",
        to=["alice@example.com", "Bob <bob@example.com>"],
        template_id="order-confirmation",
        merge_global_data={"SHOP": "Example", "PRICE": 10},
        merge_data={
            "alice@example.com": {"NAME": "Alice", "PRICE": 49},
            "bob@example.com": {"NAME": "Bob"},
        },
        merge_metadata={"alice@example.com": {"user_id": "u-1"}},
    )
    send(message)
    assert only_request(mocked_responses).url == API + "emails/batch"
    assert only_request_json(mocked_responses) == [
        {
            "from": "shop@example.com",
            "to": ["alice@example.com"],
            "template": {
                "id": "order-confirmation",
                "variables": {"SHOP": "Example", "PRICE": 49, "NAME": "Alice"},
            },
            "headers": {"X-Metadata": '{"user_id": "u-1"}'},
        },
        {
            "from": "shop@example.com",
            "to": ["Bob <bob@example.com>"],
            "template": {
                "id": "order-confirmation",
                "variables": {"SHOP": "Example", "PRICE": 10, "NAME": "Bob"},
            },
        },
    ]
    assert message.anymail_status.message_id == set(BATCH_IDS)


def test_template_batch_without_variables(mocked_responses: responses.RequestsMock) -> None:
    mock_resend(mocked_responses, endpoint="emails/batch")
    message = AnymailMessage(to=["a@example.com", "b@example.com"], template_id="t", merge_data={})
    send(message)
    assert [item["template"] for item in only_request_json(mocked_responses)] == [
        {"id": "t"},
        {"id": "t"},
    ]


# --- esp_extra --------------------------------------------------------------------


def test_esp_extra_is_deep_merged(resend: responses.RequestsMock) -> None:
    message = make_message(
        tags=["t"],
        headers={"X-Custom": "a"},
        esp_extra={
            "tags": [{"name": "Co_Brand", "value": "Acme_Inc"}],
            "headers": {"x-custom": "b", "X-More": "c"},
            "topic_id": "topic-1",
        },
    )
    send(message)
    assert only_request_json(resend) == {
        "from": "from@example.com",
        "to": ["Recipient Name <to@example.com>"],
        "subject": "Subject",
        "text": "Body",
        # Header names merge case-insensitively (the last spelling is sent).
        "headers": {"x-custom": "b", "X-Tags": '["t"]', "X-More": "c"},
        "tags": [{"name": "Co_Brand", "value": "Acme_Inc"}],
        "topic_id": "topic-1",
    }


def test_esp_extra_reaches_every_batch_item(mocked_responses: responses.RequestsMock) -> None:
    mock_resend(mocked_responses, endpoint="emails/batch")
    message = make_message(
        to=["a@example.com", "b@example.com"],
        template_id="t",
        merge_data={"a@example.com": {"N": 1}},
        esp_extra={"tags": [{"name": "k", "value": "v"}], "template": {"variables": {"X": "x"}}},
    )
    message.body = ""
    send(message)
    items = only_request_json(mocked_responses)
    assert [item["tags"] for item in items] == [[{"name": "k", "value": "v"}]] * 2
    assert [item["template"] for item in items] == [
        {"id": "t", "variables": {"X": "x", "N": 1}},
        {"id": "t", "variables": {"X": "x"}},
    ]


def test_esp_extra_idempotency_key(resend: responses.RequestsMock) -> None:
    send(make_message(esp_extra={"idempotency_key": "order-1234/confirmation"}))
    request = only_request(resend)
    assert request.headers["Idempotency-Key"] == "order-1234/confirmation"
    assert "idempotency_key" not in only_request_json(resend)


@pytest.mark.parametrize("key", ["", "x" * 257, "line\nbreak", 42, None])
def test_esp_extra_bad_idempotency_key(mocked_responses: responses.RequestsMock, key: Any) -> None:
    with refused(
        mocked_responses, AnymailError, match=r"Invalid Resend esp_extra\['idempotency_key'\]"
    ):
        send(make_message(esp_extra={"idempotency_key": key}))


def test_esp_extra_headers_must_be_a_dict_for_batch() -> None:
    message = make_message(merge_headers={}, esp_extra={"headers": [("X-A", "1")]})
    with pytest.raises(AnymailError, match="must be a dict"):
        EmailBackend().build_message_payload(message, {}).serialize_data()


# --- settings -----------------------------------------------------------------------


def test_api_url_default() -> None:
    # (The contract case's options_example sends to an api_url given as an option and
    # as a setting.)
    assert EmailBackend().api_url == "https://api.resend.com/"


def test_resend_send_defaults(settings: Any, mocked_responses: responses.RequestsMock) -> None:
    settings.ANYMAIL = {
        "RESEND_API_KEY": API_KEY,
        "SEND_DEFAULTS": {"tags": ["global"], "metadata": {"site": "all"}},
        "RESEND_SEND_DEFAULTS": {"tags": ["resend"], "esp_extra": {"topic_id": "t-1"}},
    }
    mock_resend(mocked_responses)
    send(make_message(tags=["message"]))
    data = only_request_json(mocked_responses)
    # RESEND_SEND_DEFAULTS replaces SEND_DEFAULTS key by key; tags then merge with the message's.
    assert data["headers"] == {
        "X-Tags": '["resend", "message"]',
        "X-Metadata": '{"site": "all"}',
    }
    assert data["topic_id"] == "t-1"


# --- response parsing and errors ------------------------------------------------------


def test_recipients_matched_case_insensitively(resend: responses.RequestsMock) -> None:
    message = make_message(
        to=["Alice@Example.com"], cc=["alice@example.com"], bcc=["x@example.com"]
    )
    send(message)
    assert message.anymail_status.recipients == {
        "Alice@Example.com": AnymailRecipientStatus(SINGLE_ID, "queued"),
        "x@example.com": AnymailRecipientStatus(SINGLE_ID, "queued"),
    }


def test_rate_limit_headers_on_success(mocked_responses: responses.RequestsMock) -> None:
    mock_resend(
        mocked_responses,
        headers={"ratelimit-limit": "5", "ratelimit-remaining": "4", "ratelimit-reset": "1"},
    )
    message = make_message()
    send(message)
    assert message.anymail_status.esp_response.headers["ratelimit-remaining"] == "4"


@pytest.mark.parametrize(
    ("name", "status"),
    [
        ("send_error_401_missing_api_key.json", 401),
        ("send_error_401_restricted_api_key.json", 401),
        ("send_error_403_invalid_api_key.json", 403),
        ("send_error_403_unverified_domain.json", 403),
        ("send_error_409_idempotency_mismatch.json", 409),
        ("send_error_422_missing_field.json", 422),
        ("send_error_422_validation.json", 422),
        ("send_error_500.json", 500),
    ],
)
def test_api_errors(mocked_responses: responses.RequestsMock, name: str, status: int) -> None:
    body = fixture(name)
    mock_resend(mocked_responses, body=body, status=status)
    err = api_error(send, make_message(), status, API_KEY)
    text = str(err)
    assert err.response.json() == body
    assert text.startswith(f"Resend API error: HTTP {status} ")
    assert body["message"] in text
    assert f"({body['name']})" in text
    if body["name"].endswith("api_key"):
        assert "Check your RESEND_API_KEY setting" in text


def test_422_error_message_in_full(mocked_responses: responses.RequestsMock) -> None:
    mock_resend(mocked_responses, body=fixture("send_error_422_validation.json"), status=422)
    with pytest.raises(AnymailAPIError) as excinfo:
        send(make_message())
    reason = excinfo.value.response.reason  # "Unprocessable Entity" (or "Content", by Python)
    assert str(excinfo.value).splitlines()[0] == (
        f"Resend API error: HTTP 422 {reason}: Invalid `to` field. The email "
        "address needs to follow the `email@example.com` or `Name <email@example.com>` "
        "format (validation_error)."
    )


def test_error_fails_silently(mocked_responses: responses.RequestsMock) -> None:
    mock_resend(mocked_responses, body=fixture("send_error_500.json"), status=500)
    message = make_message()
    assert send(message, fail_silently=True) == 0
    assert message.anymail_status.status is None


def test_rate_limited_keeps_headers(mocked_responses: responses.RequestsMock) -> None:
    status, headers, body = http_fixture("resend", "send_error_429_rate_limit.http")
    content_type = headers.pop("content-type")
    mock_resend(
        mocked_responses, body=body, status=status, headers=headers, content_type=content_type
    )
    err = api_error(send, make_message(), 429, API_KEY)
    assert err.response.headers["retry-after"] == "1"
    assert err.response.headers["ratelimit-remaining"] == "0"
    assert "Too many requests. You can only make 5 requests per second" in str(err)
    assert "(rate_limit_exceeded)" in str(err)


def test_non_json_success_response(mocked_responses: responses.RequestsMock) -> None:
    status = 200
    mock_resend(mocked_responses, body="<html>Bad Gateway</html>", status=status)
    err = api_error(send, make_message(), status, API_KEY)
    assert "<html>Bad Gateway</html>" in str(err)


@pytest.mark.parametrize(
    ("endpoint", "body", "problem"),
    [
        ("emails", {"object": "email"}, "expected an 'id'"),
        ("emails", [], "expected an 'id'"),
        ("emails/batch", {"id": "x"}, "expected 'data' with one result per batch email (2)"),
        # A permissive-mode answer (Anymail asks for strict validation): not one per item.
        (
            "emails/batch",
            fixture("send_success_batch_permissive.json"),
            "expected 'data' with one result per batch email (2)",
        ),
        ("emails/batch", {"data": [{"id": "x"}, {}]}, "each batch result needs an 'id'"),
    ],
)
def test_unexpected_response_format(
    mocked_responses: responses.RequestsMock, endpoint: str, body: Any, problem: str
) -> None:
    mock_resend(mocked_responses, endpoint=endpoint, body=body)
    message = make_message(to=["a@example.com", "b@example.com"])
    if endpoint == "emails/batch":
        message.merge_metadata = {}
    err = api_error(send, message, 200, API_KEY)
    assert str(err).startswith(f"Invalid Resend API response format: {problem}.")
