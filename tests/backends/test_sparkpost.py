"""SparkPost backend: the requests it makes, and how it reads SparkPost's answers."""

from __future__ import annotations

import base64
import functools
import json
import re
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import django
import pytest
import responses
from django.core import mail
from django.core.mail import get_connection

from anymail.backends.sparkpost import EmailBackend
from anymail.exceptions import (
    AnymailAPIError,
    AnymailImproperlyConfigured,
    AnymailRecipientsRefused,
    AnymailRequestsAPIError,
    AnymailUnsupportedFeature,
)
from anymail.message import AnymailMessage, AnymailRecipientStatus
from tests.backends.support import (
    SAMPLE_LOGO,
    answering,
    anymail_settings,
    api_error,
    assert_sent,
    django_message,
    order_message,
    plain_message,
    refused,
)
from tests.utils import (
    PNG,
    add_response,
    fixture_json,
    only_request,
    only_request_json,
)

API_KEY = "test-sparkpost-api-key"
TRANSMISSIONS_URL = "https://api.sparkpost.com/api/v1/transmissions/"
BACKEND = "anymail.backends.sparkpost.EmailBackend"


fixture = functools.partial(fixture_json, "sparkpost")


def mock_send(
    mock: responses.RequestsMock,
    accepted: int = 1,
    rejected: int = 0,
    transmission_id: str = "30223642452547393",
    url: str = TRANSMISSIONS_URL,
) -> None:
    add_response(
        mock,
        url,
        {
            "results": {
                "total_rejected_recipients": rejected,
                "total_accepted_recipients": accepted,
                "id": transmission_id,
            }
        },
    )


def backend(**kwargs: Any) -> EmailBackend:
    return EmailBackend(**{"api_key": API_KEY, **kwargs})


def send(message: Any, **kwargs: Any) -> int:
    return backend(**kwargs).send_messages([message])


#: The ESP giving its default answer, and the ``responses`` mock to read requests from.
sparkpost = answering(mock_send)


def inline_image(content: bytes, content_id: str, subtype: str = "png") -> Any:
    """An inline image MIME part with a chosen Content-ID, for this Django version."""
    if django.VERSION >= (6, 0):
        from email.message import MIMEPart

        part = MIMEPart()
        part.set_content(
            content, maintype="image", subtype=subtype, disposition="inline", cid=f"<{content_id}>"
        )
        return part
    from email.mime.image import MIMEImage

    image = MIMEImage(content, subtype)
    image.add_header("Content-Disposition", "inline")
    image.add_header("Content-ID", f"<{content_id}>")
    return image


esp_settings = anymail_settings()


# --- the whole request -------------------------------------------------------


def test_plain_message(sparkpost: responses.RequestsMock) -> None:
    message = mail.EmailMessage("Subject", "Body text", "from@example.com", ["to@example.com"])
    assert send(message) == 1

    request = only_request(sparkpost)
    assert request.url == TRANSMISSIONS_URL
    assert "X-MSYS-SUBACCOUNT" not in request.headers
    assert "num_rcpt_errors" not in (request.url or "")
    assert only_request_json(sparkpost) == {
        "recipients": [{"address": {"email": "to@example.com", "header_to": "to@example.com"}}],
        "content": {"from": "from@example.com", "subject": "Subject", "text": "Body text"},
    }
    status = message.anymail_status
    assert status.status == {"queued"}
    assert status.message_id == "30223642452547393"
    assert status.recipients == {
        "to@example.com": AnymailRecipientStatus("30223642452547393", "queued")
    }
    assert status.esp_response.json()["results"]["id"] == "30223642452547393"


def every_feature_message() -> AnymailMessage:
    """The message behind the fact sheet's request_single.json sample."""
    message = order_message(
        envelope_sender="bounces@mail.example.com",
        track_opens=True,
        track_clicks=False,
        send_at=datetime(2026, 3, 3, 18, 0, 0, tzinfo=UTC),
    )
    message.attach(inline_image(SAMPLE_LOGO, "logo@example.com"))
    return message


def test_every_feature(mocked_responses: responses.RequestsMock) -> None:
    add_response(mocked_responses, TRANSMISSIONS_URL, body=fixture("send_success.json"))
    message = every_feature_message()
    assert send(message) == 1

    header_to = "Recipient Name <to@example.com>, other@example.com"
    assert only_request_json(mocked_responses) == {
        "recipients": [
            {"address": {"email": "to@example.com", "header_to": header_to}},
            {"address": {"email": "other@example.com", "header_to": header_to}},
            {"address": {"email": "cc@example.com", "header_to": header_to}},
            {"address": {"email": "bcc@example.com", "header_to": header_to}},
        ],
        "content": {
            "from": "Example Shop <shop@example.com>",
            "subject": "Your order",
            "reply_to": "Help Desk <help@example.com>",
            "text": "Thanks for your order.",
            "html": '<p>Thanks for your order.</p><img src="cid:logo@example.com">',
            # A visible Cc header; bcc never appears in the headers.
            "headers": {"X-Custom": "custom value", "Cc": "cc@example.com"},
            "attachments": [
                {
                    "name": "receipt.txt",
                    "type": "text/plain; charset=utf-8",
                    "data": "VG90YWw6IDEwIOKCrAo=",
                }
            ],
            "inline_images": [
                {"name": "logo@example.com", "type": "image/png", "data": "iVBORw0KGgo="}
            ],
        },
        "metadata": {"order_id": "12345"},
        "campaign_id": "order-confirmation",
        "return_path": "bounces@mail.example.com",
        "options": {
            "open_tracking": True,
            "click_tracking": False,
            "start_time": "2026-03-03T18:00:00+00:00",
        },
    }
    recipients = ("to@example.com", "other@example.com", "cc@example.com", "bcc@example.com")
    assert_sent(message, "queued", "7318265432183591", recipients=recipients)


def _without_optional_quotes(body: dict[str, Any]) -> dict[str, Any]:
    """Normalize the spellings RFC 5322/2045 leave open: quoted plain display names, charset."""

    def unquote(text: str) -> str:
        return text.replace('"', "")

    body = json.loads(json.dumps(body))
    for recipient in body["recipients"]:
        recipient["address"]["header_to"] = unquote(recipient["address"]["header_to"])
    content = body["content"]
    for field in ("from", "reply_to"):
        if field in content:
            content[field] = unquote(content[field])
    for attachment in content.get("attachments", []):
        attachment["type"] = unquote(attachment["type"])
    return body


def test_every_feature_matches_the_fact_sheet_sample(
    mocked_responses: responses.RequestsMock,
) -> None:
    add_response(mocked_responses, TRANSMISSIONS_URL, body=fixture("send_success.json"))
    send(every_feature_message())
    assert _without_optional_quotes(
        only_request_json(mocked_responses)
    ) == _without_optional_quotes(fixture("request_single.json"))


def test_batch_template_send(mocked_responses: responses.RequestsMock) -> None:
    add_response(mocked_responses, TRANSMISSIONS_URL, body=fixture("send_success.json"))
    # from_email is Django's DEFAULT_FROM_EMAIL and the subject Django's empty
    # default: both are left out, so the template's own are used.
    message = AnymailMessage(
        to=["alice@example.com", '"Bob" <bob@example.com>'],
        bcc=["bcc@example.com"],
        template_id="welcome-template",
        merge_data={
            "alice@example.com": {"name": "Alice"},
            "bob@example.com": {"name": "Bob"},
        },
        merge_global_data={
            "site": "Example",
            "dynamic_html": {
                "status_html": '<a href="https://example.com/o/{{order_no}}">Status</a>'
            },
        },
        merge_metadata={
            "alice@example.com": {"order_id": "1"},
            "bob@example.com": {"order_id": "2"},
        },
        metadata={"batch": "b1"},
        tags=["welcome"],
    )
    assert send(message) == 1

    alice = {"email": "alice@example.com", "header_to": "alice@example.com"}
    bob = {"email": "bob@example.com", "header_to": "Bob <bob@example.com>"}
    assert only_request_json(mocked_responses) == {
        "recipients": [
            {
                "address": alice,
                "substitution_data": {"name": "Alice"},
                "metadata": {"order_id": "1"},
            },
            {"address": bob, "substitution_data": {"name": "Bob"}, "metadata": {"order_id": "2"}},
            # bcc gets one copy of each "to" recipient's message, personalized alike
            {
                "address": {**alice, "email": "bcc@example.com"},
                "substitution_data": {"name": "Alice"},
                "metadata": {"order_id": "1"},
            },
            {
                "address": {**bob, "email": "bcc@example.com"},
                "substitution_data": {"name": "Bob"},
                "metadata": {"order_id": "2"},
            },
        ],
        "content": {"template_id": "welcome-template"},
        "substitution_data": {
            "site": "Example",
            "dynamic_html": {
                "status_html": '<a href="https://example.com/o/{{order_no}}">Status</a>'
            },
        },
        "metadata": {"batch": "b1"},
        "campaign_id": "welcome",
    }
    assert _without_optional_quotes(
        only_request_json(mocked_responses)
    ) == _without_optional_quotes(fixture("request_batch_template.json"))
    # 4 entries sent, 4 accepted: every address is queued, under one transmission id.
    assert message.anymail_status.recipients == {
        "alice@example.com": AnymailRecipientStatus("7318265432183591", "queued"),
        "bob@example.com": AnymailRecipientStatus("7318265432183591", "queued"),
        "bcc@example.com": AnymailRecipientStatus("7318265432183591", "queued"),
    }


def test_on_the_fly_merge_with_cc(mocked_responses: responses.RequestsMock) -> None:
    mock_send(mocked_responses, accepted=6)
    message = AnymailMessage(
        subject="Hi {{name}}",
        body="Your code is {{code}}",
        from_email="from@example.com",
        to=["a@example.com", "b@example.com", "c@example.com"],
        cc=["Boss <boss@example.com>"],
        merge_data={
            "a@example.com": {"name": "A", "code": "1"},
            "b@example.com": {"name": "B"},
            "unknown@example.com": {"name": "nobody"},  # not a recipient: not sent
        },
        merge_global_data={"code": "none"},
    )
    send(message)
    body = only_request_json(mocked_responses)
    # Recipient data overrides global data inside SparkPost: nothing merged here.
    assert body["substitution_data"] == {"code": "none"}
    assert body["content"] == {
        "from": "from@example.com",
        "subject": "Hi {{name}}",
        "text": "Your code is {{code}}",
        "headers": {"Cc": "Boss <boss@example.com>"},
    }
    a = {"address": {"email": "a@example.com", "header_to": "a@example.com"}}
    b = {"address": {"email": "b@example.com", "header_to": "b@example.com"}}
    c = {"address": {"email": "c@example.com", "header_to": "c@example.com"}}
    a["substitution_data"] = {"name": "A", "code": "1"}
    b["substitution_data"] = {"name": "B"}
    boss = "boss@example.com"
    assert body["recipients"] == [
        a,
        b,
        c,
        {**a, "address": {**a["address"], "email": boss}},
        {**b, "address": {**b["address"], "email": boss}},
        {**c, "address": {**c["address"], "email": boss}},
    ]
    assert message.anymail_status.status == {"queued"}


def test_empty_merge_data_is_still_a_batch(mocked_responses: responses.RequestsMock) -> None:
    mock_send(mocked_responses, accepted=2)
    message = AnymailMessage(
        "Subject", "Body", "from@example.com", ["a@example.com", "B <b@example.com>"]
    )
    message.merge_data = {}
    send(message)
    assert only_request_json(mocked_responses)["recipients"] == [
        {"address": {"email": "a@example.com", "header_to": "a@example.com"}},
        {"address": {"email": "b@example.com", "header_to": "B <b@example.com>"}},
    ]


def test_merge_metadata_keeps_transmission_metadata(
    mocked_responses: responses.RequestsMock,
) -> None:
    mock_send(mocked_responses, accepted=2)
    message = plain_message(
        to=["a@example.com", "b@example.com"],
        metadata={"batch": "7", "kind": "receipt"},
        merge_metadata={"a@example.com": {"kind": "special", "user": 1}},
    )
    send(message)
    body = only_request_json(mocked_responses)
    # SparkPost itself merges recipient metadata over the transmission's.
    assert body["metadata"] == {"batch": "7", "kind": "receipt"}
    assert body["recipients"] == [
        {
            "address": {"email": "a@example.com", "header_to": "a@example.com"},
            "metadata": {"kind": "special", "user": 1},
        },
        {"address": {"email": "b@example.com", "header_to": "b@example.com"}},
    ]


def test_merge_headers(mocked_responses: responses.RequestsMock) -> None:
    mock_send(mocked_responses, accepted=2)
    message = plain_message(
        to=["alice@example.com", "bob@example.com"],
        headers={"X-Custom": "default value", "X-Other": "same for all"},
        merge_headers={
            "alice@example.com": {
                "x-custom": "for Alice",
                "List-Unsubscribe": "<https://example.com/unsub/alice>",
            },
            "bob@example.com": {"X-Custom": "for Bob"},
        },
    )
    send(message)
    assert only_request_json(mocked_responses) == {
        "recipients": [
            {
                "address": {"email": "alice@example.com", "header_to": "alice@example.com"},
                "substitution_data": {
                    "Header__X_Custom": "for Alice",
                    "Header__List_Unsubscribe": "<https://example.com/unsub/alice>",
                },
            },
            {
                "address": {"email": "bob@example.com", "header_to": "bob@example.com"},
                "substitution_data": {"Header__X_Custom": "for Bob"},
            },
        ],
        "content": {
            "from": "from@example.com",
            "subject": "Subject",
            "text": "Body",
            "headers": {
                "X-Custom": "{{Header__X_Custom}}",
                "X-Other": "same for all",
                "List-Unsubscribe": "{{Header__List_Unsubscribe}}",
            },
        },
        # The message's own header value is the default for recipients without one.
        "substitution_data": {"Header__X_Custom": "default value"},
    }


def test_merge_headers_with_merge_data(sparkpost: responses.RequestsMock) -> None:
    message = plain_message(
        to=["alice@example.com"],
        merge_data={"alice@example.com": {"name": "Alice"}},
        merge_global_data={"site": "Example"},
        merge_headers={"alice@example.com": {"X-Order": 42}},
    )
    send(message)
    body = only_request_json(sparkpost)
    assert body["recipients"][0]["substitution_data"] == {
        "name": "Alice",
        "Header__X_Order": "42",
    }
    assert body["substitution_data"] == {"site": "Example"}
    assert body["content"]["headers"] == {"X-Order": "{{Header__X_Order}}"}


# --- features one by one --------------------------------------------------------


def test_cc_and_bcc_only(mocked_responses: responses.RequestsMock) -> None:
    mock_send(mocked_responses, accepted=2)
    message = mail.EmailMessage(
        "Subject", "Body", "from@example.com", cc=["cc@example.com"], bcc=["bcc@example.com"]
    )
    send(message)
    body = only_request_json(mocked_responses)
    assert body["recipients"] == [
        {"address": {"email": "cc@example.com", "header_to": ""}},
        {"address": {"email": "bcc@example.com", "header_to": ""}},
    ]
    assert body["content"]["headers"] == {"Cc": "cc@example.com"}


def test_international_addresses(mocked_responses: responses.RequestsMock) -> None:
    mock_send(mocked_responses, accepted=2)
    message = mail.EmailMessage(
        "Sujet: ça va?",
        "Body",
        '"Ünïcode Shop" <shop@bücher.example>',
        ["Jürgen Müller <j@münchen.example>", "jörg@example.com"],
    )
    message.attach("Übersicht.txt", "ö", "text/plain")
    send(message)
    body = only_request_json(mocked_responses)
    header_to = "Jürgen Müller <j@xn--mnchen-3ya.example>, jörg@example.com"
    # SparkPost doesn't IDNA-encode domains itself; it does RFC 2047-encode names.
    assert body["recipients"] == [
        {"address": {"email": "j@xn--mnchen-3ya.example", "header_to": header_to}},
        {"address": {"email": "jörg@example.com", "header_to": header_to}},
    ]
    assert body["content"]["from"] == "Ünïcode Shop <shop@xn--bcher-kva.example>"
    assert body["content"]["subject"] == "Sujet: ça va?"
    assert body["content"]["attachments"] == [
        {"name": "Übersicht.txt", "type": "text/plain; charset=utf-8", "data": "w7Y="}
    ]
    # The body is UTF-8 JSON, not \u escapes.
    assert "Jürgen".encode() in only_request(mocked_responses).body
    assert message.anymail_status.status == {"queued"}
    assert set(message.anymail_status.recipients) == {
        "j@xn--mnchen-3ya.example",
        "jörg@example.com",
    }


def test_attachment_without_filename_and_inline_image(sparkpost: responses.RequestsMock) -> None:
    message = plain_message()
    message.attach(None, b"\x00\x01", "application/octet-stream")
    cid = message.attach_inline_image(PNG, filename="logo.png")
    message.attach_alternative(f'<img src="cid:{cid}">', "text/html")
    send(message)
    content = only_request_json(sparkpost)["content"]
    assert content["attachments"] == [
        {"name": "attachment.bin", "type": "application/octet-stream", "data": "AAE="}
    ]
    assert content["inline_images"] == [
        {"name": cid, "type": "image/png", "data": base64.b64encode(PNG).decode()}
    ]
    assert "\n" not in content["inline_images"][0]["data"]


def test_inline_part_without_content_id_is_an_attachment(sparkpost: responses.RequestsMock) -> None:
    # SparkPost names inline images by Content-ID: without one, it can only be attached.
    message = plain_message()
    part = inline_image(PNG, "unused")
    del part["Content-ID"]
    message.attach(part)
    send(message)
    content = only_request_json(sparkpost)["content"]
    assert "inline_images" not in content
    assert content["attachments"] == [
        {"name": "attachment.png", "type": "image/png", "data": base64.b64encode(PNG).decode()}
    ]


def test_amp_alternative(sparkpost: responses.RequestsMock) -> None:
    message = AnymailMessage("Subject", "Text", "from@example.com", ["to@example.com"])
    message.attach_alternative("<p>HTML</p>", "text/html")
    message.attach_alternative("<html ⚡4email></html>", "text/x-amp-html")
    send(message)
    assert only_request_json(sparkpost)["content"] == {
        "from": "from@example.com",
        "subject": "Subject",
        "text": "Text",
        "html": "<p>HTML</p>",
        "amp_html": "<html ⚡4email></html>",
    }


@pytest.mark.parametrize(
    ("alternatives", "feature"),
    [
        ([("<p>1</p>", "text/html"), ("<p>2</p>", "text/html")], "multiple html parts"),
        ([("a", "text/x-amp-html"), ("b", "text/x-amp-html")], "multiple AMP parts"),
        ([("BEGIN:VCALENDAR", "text/calendar")], "alternative part with type 'text/calendar'"),
    ],
)
def test_unsupported_alternatives(
    sparkpost: responses.RequestsMock, alternatives: list[tuple[str, str]], feature: str
) -> None:
    message = AnymailMessage("Subject", "Text", "from@example.com", ["to@example.com"])
    for content, mimetype in alternatives:
        message.attach_alternative(content, mimetype)
    with refused(
        sparkpost,
        AnymailUnsupportedFeature,
        match=re.escape(f"SparkPost does not support {feature}"),
    ):
        send(message)


def test_amp_without_text_or_html(sparkpost: responses.RequestsMock) -> None:
    message = AnymailMessage("Subject", "", "from@example.com", ["to@example.com"])
    message.attach_alternative("<html ⚡4email></html>", "text/x-amp-html")
    with pytest.raises(AnymailUnsupportedFeature, match="AMP part without a text or html body"):
        send(message)


def test_multiple_from_is_unsupported(sparkpost: responses.RequestsMock) -> None:
    message = django_message(headers={"From": "a@example.com, b@example.com"})
    with refused(sparkpost, AnymailUnsupportedFeature, match=r"SparkPost.*multiple from addresses"):
        send(message)


def test_from_header_makes_from_email_the_return_path(sparkpost: responses.RequestsMock) -> None:
    message = django_message(
        "bounces@example.com",
        headers={"From": "Shown <shown@example.com>", "Reply-To": "r@example.com"},
    )
    send(message)
    body = only_request_json(sparkpost)
    assert body["content"]["from"] == "Shown <shown@example.com>"
    assert body["content"]["reply_to"] == "r@example.com"
    assert body["return_path"] == "bounces@example.com"
    assert "headers" not in body["content"]


@pytest.mark.parametrize("header", ["Subject", "content-type", "Content-Transfer-Encoding"])
def test_reserved_extra_headers(sparkpost: responses.RequestsMock, header: str) -> None:
    message = django_message(headers={header: "x"})
    with pytest.raises(AnymailUnsupportedFeature, match=f"'{header}' header in extra_headers"):
        send(message)
    # When ignoring unsupported features, the header is left out.
    send(message, ignore_unsupported_features=True)
    assert "headers" not in only_request_json(sparkpost)["content"]


def test_reserved_merge_headers(sparkpost: responses.RequestsMock) -> None:
    message = plain_message(
        merge_headers={"to@example.com": {"Reply-To": "x@example.com"}},
    )
    with pytest.raises(AnymailUnsupportedFeature, match="'Reply-To' header in merge_headers"):
        send(message)


def test_multiple_tags(sparkpost: responses.RequestsMock) -> None:
    message = AnymailMessage(
        "Subject", "Body", "from@example.com", ["to@example.com"], tags=["one", "two"]
    )
    with pytest.raises(AnymailUnsupportedFeature, match="SparkPost does not support multiple tags"):
        send(message)
    send(message, ignore_unsupported_features=True)
    assert only_request_json(sparkpost)["campaign_id"] == "one"


@pytest.mark.parametrize(
    ("send_at", "start_time"),
    [
        # an aware datetime keeps its offset; microseconds are dropped
        (
            datetime(2026, 3, 3, 18, 0, 5, 999999, tzinfo=timezone(timedelta(hours=-8))),
            "2026-03-03T18:00:05-08:00",
        ),
        # naive datetimes and dates are in Django's current time zone (America/New_York)
        (datetime(2026, 7, 4, 9, 30), "2026-07-04T09:30:00-04:00"),
        (date(2026, 1, 15), "2026-01-15T00:00:00-05:00"),
        # a POSIX timestamp is UTC
        (1772560800, "2026-03-03T18:00:00+00:00"),
        (1772560800.25, "2026-03-03T18:00:00+00:00"),
    ],
)
def test_send_at(sparkpost: responses.RequestsMock, send_at: Any, start_time: str) -> None:
    message = AnymailMessage(
        "Subject", "Body", "from@example.com", ["to@example.com"], send_at=send_at
    )
    send(message)
    assert only_request_json(sparkpost)["options"] == {"start_time": start_time}


def test_tracking_options(sparkpost: responses.RequestsMock) -> None:
    message = plain_message(
        track_opens=False,
        track_clicks=True,
    )
    send(message)
    assert only_request_json(sparkpost)["options"] == {
        "open_tracking": False,
        "click_tracking": True,
    }


# --- stored templates ---------------------------------------------------------------


def template_message(**kwargs: Any) -> AnymailMessage:
    params: dict[str, Any] = {"to": ["to@example.com"], "template_id": "welcome-template"}
    params.update(kwargs)
    return AnymailMessage(**params)


def test_template_uses_templates_subject_and_from(sparkpost: responses.RequestsMock) -> None:
    message = template_message(from_email="shop@example.com", subject="ignored")
    # Set after construction, as the docs say: use the template's values.
    message.from_email = None
    message.subject = None
    send(message)
    assert only_request_json(sparkpost) == {
        "recipients": [{"address": {"email": "to@example.com", "header_to": "to@example.com"}}],
        "content": {"template_id": "welcome-template"},
    }


def test_template_with_numeric_id_and_draft(sparkpost: responses.RequestsMock) -> None:
    message = template_message(template_id=11806290401558530)
    message.esp_extra = {"content": {"use_draft_template": True}}
    send(message)
    assert only_request_json(sparkpost)["content"] == {
        "template_id": "11806290401558530",
        "use_draft_template": True,
    }


def test_template_with_subject_is_left_to_sparkpost(
    mocked_responses: responses.RequestsMock,
) -> None:
    add_response(
        mocked_responses,
        TRANSMISSIONS_URL,
        status=422,
        body=fixture("send_error_422_content_and_template.json"),
    )
    message = template_message(subject="A subject")
    with pytest.raises(AnymailAPIError, match="Both content object and template_id") as excinfo:
        send(message)
    assert excinfo.value.status_code == 422
    assert only_request_json(mocked_responses)["content"] == {
        "template_id": "welcome-template",
        "subject": "A subject",
    }


@pytest.mark.parametrize(
    ("kwargs", "feature", "left_out"),
    [
        (
            {"from_email": "shop@example.com"},
            "from_email with template_id (set the message's from_email to None",
            ("content", "from"),
        ),
        ({"reply_to": ["r@example.com"]}, "reply_to with template_id", ("content", "reply_to")),
        ({"headers": {"X-Custom": "1"}}, "extra headers with template_id", ("content", "headers")),
        (
            {"merge_headers": {"to@example.com": {"X-Custom": "1"}}},
            "merge_headers with template_id",
            ("content", "headers"),
        ),
        (
            {"attachments": [("a.txt", "text", "text/plain")]},
            "attachments or inline images with template_id",
            ("content", "attachments"),
        ),
    ],
)
def test_template_refuses_what_sparkpost_would_ignore(
    sparkpost: responses.RequestsMock,
    kwargs: dict[str, Any],
    feature: str,
    left_out: tuple[str, str],
) -> None:
    with refused(
        sparkpost,
        AnymailUnsupportedFeature,
        match=re.escape(f"SparkPost does not support {feature}"),
    ):
        send(template_message(**kwargs))

    send(template_message(**kwargs), ignore_unsupported_features=True)
    section, field = left_out
    assert field not in only_request_json(sparkpost)[section]
    assert "substitution_data" not in only_request_json(sparkpost)


def test_template_with_cc(mocked_responses: responses.RequestsMock) -> None:
    mock_send(mocked_responses, accepted=2)
    with pytest.raises(AnymailUnsupportedFeature, match=r"cc recipients .* with template_id"):
        send(template_message(cc=["cc@example.com"]))
    # Ignoring: the cc recipient still gets the message, without a Cc header.
    send(template_message(cc=["cc@example.com"]), ignore_unsupported_features=True)
    body = only_request_json(mocked_responses)
    assert body["content"] == {"template_id": "welcome-template"}
    assert [r["address"]["email"] for r in body["recipients"]] == [
        "to@example.com",
        "cc@example.com",
    ]


def test_template_bcc_is_fine(mocked_responses: responses.RequestsMock) -> None:
    mock_send(mocked_responses, accepted=2)
    message = template_message(bcc=["bcc@example.com"])
    send(message)
    # bcc needs no header, so nothing is left out next to the template.
    assert only_request_json(mocked_responses) == {
        "recipients": [
            {"address": {"email": "to@example.com", "header_to": "to@example.com"}},
            {"address": {"email": "bcc@example.com", "header_to": "to@example.com"}},
        ],
        "content": {"template_id": "welcome-template"},
    }
    assert message.anymail_status.status == {"queued"}


# --- esp_extra ------------------------------------------------------------------------


def test_esp_extra_is_deep_merged(sparkpost: responses.RequestsMock) -> None:
    message = plain_message(
        track_clicks=True,
        metadata={"a": "1"},
        esp_extra={
            "options": {"transactional": True, "ip_pool": "my-pool"},
            "description": "Receipts",
            "metadata": {"b": "2"},
            "content": {"subject": "From esp_extra"},
        },
    )
    send(message)
    assert only_request_json(sparkpost) == {
        "recipients": [{"address": {"email": "to@example.com", "header_to": "to@example.com"}}],
        "content": {"from": "from@example.com", "subject": "From esp_extra", "text": "Body"},
        "metadata": {"a": "1", "b": "2"},
        "options": {"click_tracking": True, "transactional": True, "ip_pool": "my-pool"},
        "description": "Receipts",
    }


def test_esp_extra_from_send_defaults(
    mocked_responses: responses.RequestsMock, settings: Any
) -> None:
    settings.ANYMAIL = {
        "SEND_DEFAULTS": {"esp_extra": {"options": {"ip_pool": "shared"}}, "tags": ["global"]},
        "SPARKPOST_SEND_DEFAULTS": {"esp_extra": {"options": {"transactional": True}}},
    }
    mock_send(mocked_responses)
    message = plain_message()
    message.esp_extra = {"options": {"inline_css": True}}
    send(message)
    body = only_request_json(mocked_responses)
    # SPARKPOST_SEND_DEFAULTS' esp_extra replaces SEND_DEFAULTS' (other keys stay);
    # the message's esp_extra is deep-merged over it.
    assert body["options"] == {"transactional": True, "inline_css": True}
    assert body["campaign_id"] == "global"


def test_esp_extra_in_the_6_0_sdk_style(sparkpost: responses.RequestsMock) -> None:
    message = template_message(
        esp_extra={
            "transactional": True,
            "description": "Marketing test-run for new templates",
            "use_draft_template": True,
            "options": {"ip_pool": "pool"},
        }
    )
    send(message)
    body = only_request_json(sparkpost)
    assert body["options"] == {"transactional": True, "ip_pool": "pool"}
    assert body["content"] == {"template_id": "welcome-template", "use_draft_template": True}
    assert body["description"] == "Marketing test-run for new templates"
    assert "transactional" not in body


def test_esp_extra_stored_recipient_list(mocked_responses: responses.RequestsMock) -> None:
    mock_send(mocked_responses, accepted=1000)
    message = plain_message(
        merge_data={"to@example.com": {"name": "ignored"}},
        esp_extra={"recipients": {"list_id": "my-list"}},
    )
    send(message)
    assert only_request_json(mocked_responses)["recipients"] == {"list_id": "my-list"}
    # The counts are about the list, not the message's recipients.
    assert message.anymail_status.recipients == {
        "to@example.com": AnymailRecipientStatus("30223642452547393", "unknown")
    }


# --- responses ------------------------------------------------------------------------


def test_all_rejected(mocked_responses: responses.RequestsMock) -> None:
    add_response(
        mocked_responses, TRANSMISSIONS_URL, body=fixture("send_success_all_rejected.json")
    )
    message = mail.EmailMessage(
        "Subject", "Body", "from@example.com", ["bad1@example.com", "bad2@example.com"]
    )
    with pytest.raises(AnymailRecipientsRefused, match="SparkPost refused every recipient"):
        send(message)
    assert message.anymail_status.status == {"rejected"}

    message = mail.EmailMessage(
        "Subject", "Body", "from@example.com", ["bad1@example.com", "bad2@example.com"]
    )
    assert send(message, ignore_recipient_status=True) == 1
    assert message.anymail_status.recipients == {
        "bad1@example.com": AnymailRecipientStatus("7318265432183592", "rejected"),
        "bad2@example.com": AnymailRecipientStatus("7318265432183592", "rejected"),
    }


def test_partial_rejection_with_errors_in_a_200(mocked_responses: responses.RequestsMock) -> None:
    add_response(mocked_responses, TRANSMISSIONS_URL, body=fixture("send_success_rcpt_errors.json"))
    message = mail.EmailMessage(
        "Subject", "Body", "from@example.com", ["good@example.com", "bad@example.com"]
    )
    assert send(message) == 1
    # SparkPost doesn't say which one failed.
    assert message.anymail_status.status == {"unknown"}
    assert message.anymail_status.message_id == "7318265432183593"


def test_count_mismatch_is_unknown(mocked_responses: responses.RequestsMock) -> None:
    mock_send(mocked_responses, accepted=3)
    message = django_message()
    send(message)
    assert message.anymail_status.status == {"unknown"}


@pytest.mark.parametrize(
    "answer",
    [
        {"results": {"id": "1"}},
        {"results": {"total_accepted_recipients": 1, "total_rejected_recipients": 0}},
        {"id": "1", "total_accepted_recipients": 1, "total_rejected_recipients": 0},
        ["unexpected"],
    ],
)
def test_invalid_response_format(mocked_responses: responses.RequestsMock, answer: Any) -> None:
    add_response(mocked_responses, TRANSMISSIONS_URL, body=answer)
    message = django_message()
    with pytest.raises(AnymailAPIError, match="Invalid SparkPost API response format") as excinfo:
        send(message)
    assert excinfo.value.status_code == 200
    assert excinfo.value.response is not None


def test_non_json_success_response(mocked_responses: responses.RequestsMock) -> None:
    add_response(mocked_responses, TRANSMISSIONS_URL, body="<html>OK</html>")
    message = django_message()
    with pytest.raises(AnymailRequestsAPIError, match="Invalid JSON in the SparkPost API response"):
        send(message)


@pytest.mark.parametrize(
    ("status", "fixture_name", "expected"),
    [
        (
            400,
            "send_error_400_invalid_domain.json",
            "HTTP 400 Bad Request: Invalid domain: Unconfigured or unverified sending domain. "
            "(code 7001)",
        ),
        (400, "send_error_400_no_sending_domain.json", "No sending domain specified (code 7001)"),
        (401, "send_error_401.json", "HTTP 401 Unauthorized: Unauthorized."),
        (420, "send_error_420_sending_limit.json", "Exceed Sending Limit (hourly) (code 2101)"),
        (
            422,
            "send_error_422_required_field.json",
            "required field is missing: content object or template_id required (code 1400)",
        ),
        (
            422,
            "send_error_422_template_not_found.json",
            "Subresource not found: template 'welcome-template' does not exist (code 1603)",
        ),
    ],
)
def test_api_errors(
    mocked_responses: responses.RequestsMock, status: int, fixture_name: str, expected: str
) -> None:
    add_response(mocked_responses, TRANSMISSIONS_URL, status=status, body=fixture(fixture_name))
    message = django_message()
    err = api_error(send, message, status, API_KEY)
    assert expected in str(err)
    assert str(err).startswith("SparkPost API error: HTTP ")


def test_rate_limit_keeps_headers(mocked_responses: responses.RequestsMock) -> None:
    add_response(
        mocked_responses,
        TRANSMISSIONS_URL,
        status=429,
        body={"errors": [{"message": "Too many requests"}]},
        headers={"Retry-After": "5"},
    )
    message = django_message()
    with pytest.raises(AnymailRequestsAPIError, match="Too many requests") as excinfo:
        send(message)
    assert excinfo.value.status_code == 429
    assert excinfo.value.response.headers["Retry-After"] == "5"


def test_non_json_error(mocked_responses: responses.RequestsMock) -> None:
    add_response(
        mocked_responses, TRANSMISSIONS_URL, status=503, body="<h1>Service Unavailable</h1>"
    )
    message = django_message()
    err = api_error(send, message, 503, API_KEY)
    assert "HTTP 503 Service Unavailable." in str(err)
    assert "<h1>Service Unavailable</h1>" in str(err)


# --- settings -------------------------------------------------------------------------


def test_api_key_setting_places(sparkpost: responses.RequestsMock, settings: Any) -> None:
    message = django_message()

    settings.ANYMAIL = {"SPARKPOST_API_KEY": "key-from-anymail-dict"}
    settings.ANYMAIL_SPARKPOST_API_KEY = "key-from-prefixed"
    settings.SPARKPOST_API_KEY = "key-from-bare"
    EmailBackend().send_messages([message])
    assert sparkpost.calls[-1].request.headers["Authorization"] == "key-from-anymail-dict"

    settings.ANYMAIL = {}
    EmailBackend().send_messages([message])
    assert sparkpost.calls[-1].request.headers["Authorization"] == "key-from-prefixed"

    del settings.ANYMAIL_SPARKPOST_API_KEY
    EmailBackend().send_messages([message])
    assert sparkpost.calls[-1].request.headers["Authorization"] == "key-from-bare"

    get_connection(BACKEND, api_key="key-from-kwargs").send_messages([message])
    assert sparkpost.calls[-1].request.headers["Authorization"] == "key-from-kwargs"


def test_missing_api_key(settings: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    # The environment variable the old SDK read is not a settings source.
    monkeypatch.setenv("SPARKPOST_API_KEY", "key-from-environment")
    with pytest.raises(AnymailImproperlyConfigured) as excinfo:
        EmailBackend()
    text = str(excinfo.value)
    assert "SPARKPOST_API_KEY" in text
    assert "ANYMAIL_SPARKPOST_API_KEY" in text
    assert "key-from-environment" not in text


def test_eu_api_url(mocked_responses: responses.RequestsMock, settings: Any) -> None:
    eu_url = "https://api.eu.sparkpost.com/api/v1/transmissions/"
    mock_send(mocked_responses, url=eu_url)
    message = django_message()

    settings.ANYMAIL = {"SPARKPOST_API_URL": "https://api.eu.sparkpost.com/api/v1"}
    send(message)
    assert mocked_responses.calls[-1].request.url == eu_url

    settings.ANYMAIL = {}
    settings.ANYMAIL_SPARKPOST_API_URL = "https://api.eu.sparkpost.com/api/v1/"
    send(message)
    assert mocked_responses.calls[-1].request.url == eu_url

    del settings.ANYMAIL_SPARKPOST_API_URL
    enterprise = "https://acme.api.e.sparkpost.com/api/v1/transmissions/"
    mock_send(mocked_responses, url=enterprise)
    send(message, api_url="https://acme.api.e.sparkpost.com/api/v1")
    assert mocked_responses.calls[-1].request.url == enterprise


def test_api_url_is_not_a_bare_setting(
    mocked_responses: responses.RequestsMock, settings: Any
) -> None:
    settings.SPARKPOST_API_URL = "https://api.eu.sparkpost.com/api/v1"
    mock_send(mocked_responses)
    send(django_message())
    assert mocked_responses.calls[-1].request.url == TRANSMISSIONS_URL


def test_subaccount(sparkpost: responses.RequestsMock, settings: Any) -> None:
    message = django_message()

    settings.ANYMAIL = {"SPARKPOST_SUBACCOUNT": 123}
    send(message)
    assert sparkpost.calls[-1].request.headers["X-MSYS-SUBACCOUNT"] == "123"

    settings.ANYMAIL = {}
    settings.ANYMAIL_SPARKPOST_SUBACCOUNT = "456"
    send(message)
    assert sparkpost.calls[-1].request.headers["X-MSYS-SUBACCOUNT"] == "456"

    get_connection(BACKEND, api_key=API_KEY, subaccount=789).send_messages([message])
    assert sparkpost.calls[-1].request.headers["X-MSYS-SUBACCOUNT"] == "789"


@pytest.mark.parametrize("value", ["acme", True, 1.5, "12a"])
def test_invalid_subaccount(value: Any) -> None:
    with pytest.raises(AnymailImproperlyConfigured, match="SPARKPOST_SUBACCOUNT") as excinfo:
        EmailBackend(api_key=API_KEY, subaccount=value)
    assert "numeric id" in str(excinfo.value)


def test_sparkpost_send_defaults(mocked_responses: responses.RequestsMock, settings: Any) -> None:
    settings.ANYMAIL = {
        "SEND_DEFAULTS": {"metadata": {"site": "global"}, "track_opens": False},
        "SPARKPOST_SEND_DEFAULTS": {"tags": ["from-defaults"], "metadata": {"site": "sparkpost"}},
    }
    mock_send(mocked_responses)
    message = AnymailMessage(
        "Subject", "Body", "from@example.com", ["to@example.com"], metadata={"order": "9"}
    )
    send(message)
    body = only_request_json(mocked_responses)
    assert body["campaign_id"] == "from-defaults"
    assert body["metadata"] == {"site": "sparkpost", "order": "9"}
    assert body["options"] == {"open_tracking": False}  # from SEND_DEFAULTS


def test_one_session_per_send_messages(sparkpost: responses.RequestsMock) -> None:
    messages = [django_message() for _ in range(3)]
    connection = backend()
    assert connection.send_messages(messages) == 3
    assert connection.session is None  # closed afterwards
    assert len(sparkpost.calls) == 3
