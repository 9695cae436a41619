"""Postmark backend: the exact requests Postmark receives, and how its answers are read."""

from __future__ import annotations

import functools
from datetime import UTC, datetime
from email.mime.image import MIMEImage
from typing import Any

import pytest
import responses

from anymail.backends.postmark import EmailBackend
from anymail.exceptions import (
    AnymailError,
    AnymailRecipientsRefused,
    AnymailRequestsAPIError,
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
    order_message,
    refused,
    sender,
    short_message,
)
from tests.utils import (
    PNG,
    fixture_json,
    only_request,
    only_request_json,
    request_json,
)

API = "https://api.postmarkapp.com/"
TOKEN = "test-server-token"


fixture = functools.partial(fixture_json, "postmark")


esp_settings = anymail_settings(POSTMARK_SERVER_TOKEN=TOKEN)


#: Postmark answering at ``endpoint``: by default, the single-send success fixture.
mock_postmark = endpoint_answerer(API, "email", lambda endpoint: fixture("send_success.json"))


#: The shared test message, with the short texts and named recipient these tests show.
make_message = short_message
send = sender(EmailBackend)

#: The ESP giving its default answer, and the ``responses`` mock to read requests from.
postmark = answering(mock_postmark)


# --- the request -------------------------------------------------------------


def test_every_supported_feature_whole_request(postmark: responses.RequestsMock) -> None:
    message = order_message(track_opens=True, track_clicks=True)
    attach_logo(message)
    assert send(message) == 1

    expected = fixture("request_single.json")
    # Python's address formatter quotes a display name only when it must (both
    # forms mean the same to Postmark).
    expected["From"] = "Example Shop <shop@example.com>"
    expected["To"] = "Recipient Name <to@example.com>, other@example.com"
    expected["ReplyTo"] = "Help Desk <help@example.com>"
    assert only_request_json(postmark) == expected
    assert only_request(postmark).url == API + "email"


def test_display_names_needing_quotes_and_idn_domains(postmark: responses.RequestsMock) -> None:
    message = display_names_message()
    send(message)
    assert only_request_json(postmark) == {
        "From": '"Müller, Jörg" <from@xn--bcher-kva.example>',
        "To": '"Müller, Jörg" <to@example.com>, "Smith, Jo" <jo@example.com>, '
        "Zoë <zoe@xn--exmple-cua.com>",
        "Cc": '"Ana (García)" <cc@example.com>',
        "Bcc": '"Zoë @ Shop" <bcc@example.com>',
        "ReplyTo": '"Müller, Jörg" <reply@example.com>',
        "Subject": "Subject",
        "TextBody": "Body",
    }
    assert_display_names_recipients(message)


def test_attachment_details(postmark: responses.RequestsMock) -> None:
    message = make_message()
    message.attach("Résumé café.pdf", b"%PDF-1.4", "application/pdf")
    message.attach(None, b"raw bytes", "application/octet-stream")
    message.attach("notes.txt", "latin-1 text: é", "text/plain")
    message.encoding = "iso-8859-1"
    send(message)
    assert only_request_json(postmark)["Attachments"] == [
        {"Name": "Résumé café.pdf", "Content": "JVBERi0xLjQ=", "ContentType": "application/pdf"},
        {
            "Name": "attachment.bin",
            "Content": "cmF3IGJ5dGVz",
            "ContentType": "application/octet-stream",
        },
        {
            "Name": "notes.txt",
            "Content": "bGF0aW4tMSB0ZXh0OiDp",
            "ContentType": 'text/plain; charset="iso-8859-1"',
        },
    ]


def test_inline_image_helper(postmark: responses.RequestsMock) -> None:
    message = make_message()
    cid = message.attach_inline_image(PNG, "logo.png")
    message.attach_alternative(f'<img src="cid:{cid}">', "text/html")
    send(message)
    data = only_request_json(postmark)
    assert data["HtmlBody"] == f'<img src="cid:{cid}">'
    assert data["Attachments"] == [
        {
            "Name": "logo.png",
            "Content": "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP4//8/"
            "AAX+Av6n1qTAAAAAAElFTkSuQmCC",
            "ContentType": "image/png",
            "ContentID": f"cid:{cid}",
        }
    ]


def test_inline_image_without_content_id_goes_as_an_attachment(
    postmark: responses.RequestsMock,
) -> None:
    # Nothing could refer to it by cid: no (empty) ContentID is sent.
    message = make_message()
    image = MIMEImage(PNG, "png")
    image.add_header("Content-Disposition", "inline", filename="logo.png")
    message.attachments.append(image)
    send(message)
    assert only_request_json(postmark)["Attachments"] == [
        {
            "Name": "logo.png",
            "Content": "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP4//8/"
            "AAX+Av6n1qTAAAAAAElFTkSuQmCC",
            "ContentType": "image/png",
        }
    ]


def test_html_only_and_headers(postmark: responses.RequestsMock) -> None:
    message = make_message(body="<p>Hi</p>", headers={"X-One": "1", "X-Unicode": "Grüße"})
    message.content_subtype = "html"
    send(message)
    data = only_request_json(postmark)
    assert data == {
        "From": "from@example.com",
        "To": "Recipient Name <to@example.com>",
        "Subject": "Subject",
        "HtmlBody": "<p>Hi</p>",
        "Headers": [{"Name": "X-One", "Value": "1"}, {"Name": "X-Unicode", "Value": "Grüße"}],
    }


def test_reply_to_header_and_multiple_reply_to(postmark: responses.RequestsMock) -> None:
    message = make_message(
        reply_to=["a@example.com"], headers={"Reply-To": "b@example.com, C <c@example.com>"}
    )
    send(message)
    data = only_request_json(postmark)
    assert data["ReplyTo"] == "b@example.com, C <c@example.com>"
    assert "Headers" not in data


@pytest.mark.parametrize(
    ("track_clicks", "track_opens", "expected"),
    [
        (True, True, {"TrackLinks": "HtmlAndText", "TrackOpens": True}),
        (False, False, {"TrackLinks": "None", "TrackOpens": False}),
    ],
)
def test_tracking(
    postmark: responses.RequestsMock,
    track_clicks: bool,
    track_opens: bool,
    expected: dict[str, Any],
) -> None:
    send(make_message(track_clicks=track_clicks, track_opens=track_opens))
    data = only_request_json(postmark)
    assert {key: data[key] for key in expected} == expected


# --- esp_extra ---------------------------------------------------------------


def test_esp_extra_is_a_shallow_update(postmark: responses.RequestsMock) -> None:
    message = make_message(
        metadata={"a": "1", "b": "2"},
        track_clicks=True,
        esp_extra={
            "MessageStream": "broadcast",
            "TrackLinks": "HtmlOnly",
            "Metadata": {"c": "3"},  # replaces, doesn't merge
        },
    )
    send(message)
    assert only_request_json(postmark) == {
        "From": "from@example.com",
        "To": "Recipient Name <to@example.com>",
        "Subject": "Subject",
        "TextBody": "Body",
        "Metadata": {"c": "3"},
        "TrackLinks": "HtmlOnly",
        "MessageStream": "broadcast",
    }


def test_esp_extra_server_token(postmark: responses.RequestsMock) -> None:
    mock_postmark(postmark)
    message = make_message(esp_extra={"server_token": "per-message-token", "InlineCss": False})
    connection = EmailBackend()
    connection.send_messages([message, make_message()])
    # The two calls may run concurrently: tell them apart by their bodies.
    first, second = sorted(
        postmark.calls, key=lambda call: "InlineCss" not in call.request.body.decode()
    )
    assert first.request.headers["X-Postmark-Server-Token"] == "per-message-token"
    assert "server_token" not in request_json(first)
    assert request_json(first)["InlineCss"] is False
    # Only for that message:
    assert second.request.headers["X-Postmark-Server-Token"] == TOKEN
    # The message's own esp_extra is left alone.
    assert message.esp_extra == {"server_token": "per-message-token", "InlineCss": False}


@pytest.mark.parametrize("token", ["", "has space", "line\nbreak", 12345])
def test_esp_extra_bad_server_token(mocked_responses: responses.RequestsMock, token: Any) -> None:
    with pytest.raises(AnymailError, match=r"esp_extra\['server_token'\]") as excinfo:
        send(make_message(esp_extra={"server_token": token}))
    if isinstance(token, str) and token:
        assert token not in str(excinfo.value)
    assert len(mocked_responses.calls) == 0


def test_esp_extra_reaches_every_batch_message(mocked_responses: responses.RequestsMock) -> None:
    mock_postmark(mocked_responses, "email/batch", fixture("send_batch_mixed.json")[:2])
    message = make_message(
        to=["alice@example.com", "bob@example.com"],
        merge_data={},
        esp_extra={"MessageStream": "outbound-2"},
    )
    send(message)
    assert [m["MessageStream"] for m in only_request_json(mocked_responses)] == [
        "outbound-2",
        "outbound-2",
    ]


# --- unsupported features ----------------------------------------------------


@pytest.mark.parametrize(
    ("attrs", "feature"),
    [
        ({"merge_data": {"to@example.com": {"name": "A"}}}, "merge_data without template_id"),
        ({"merge_global_data": {"site": "Example"}}, "merge_global_data without template_id"),
    ],
)
def test_template_features_without_template(
    mocked_responses: responses.RequestsMock, attrs: dict[str, Any], feature: str
) -> None:
    with refused(
        mocked_responses, AnymailUnsupportedFeature, match=f"Postmark does not support {feature}"
    ):
        send(make_message(**attrs))


def test_ignore_unsupported_features(postmark: responses.RequestsMock) -> None:
    message = make_message(
        tags=["first", "second"],
        send_at=datetime(2030, 1, 2, tzinfo=UTC),
        envelope_sender="bounces@example.com",
        merge_global_data={"site": "Example"},
    )
    assert send(message, ignore_unsupported_features=True) == 1
    assert only_request_json(postmark) == {
        "From": "from@example.com",
        "To": "Recipient Name <to@example.com>",
        "Subject": "Subject",
        "TextBody": "Body",
        "Tag": "first",
    }


def test_ignored_merge_data_without_template_still_batches(
    mocked_responses: responses.RequestsMock,
) -> None:
    mock_postmark(mocked_responses, "email/batch", [fixture("send_success.json")])
    message = make_message(merge_data={"to@example.com": {"name": "A"}})
    send(message, ignore_unsupported_features=True)
    assert only_request_json(mocked_responses) == [
        {
            "From": "from@example.com",
            "To": "Recipient Name <to@example.com>",
            "Subject": "Subject",
            "TextBody": "Body",
        }
    ]


def test_batch_without_to_recipients(mocked_responses: responses.RequestsMock) -> None:
    message = make_message(to=[], cc=["cc@example.com"], merge_metadata={})
    with pytest.raises(AnymailUnsupportedFeature, match="without any 'to' recipients"):
        send(message)

    mock_postmark(mocked_responses, body=fixture("send_success_cc_only.json"))
    send(message, ignore_unsupported_features=True)
    assert only_request(mocked_responses).url == API + "email"
    assert only_request_json(mocked_responses) == {
        "From": "from@example.com",
        "Cc": "cc@example.com",
        "Subject": "Subject",
        "TextBody": "Body",
    }


# --- batch sends and templates -------------------------------------------------


def test_plain_batch_send(mocked_responses: responses.RequestsMock) -> None:
    mock_postmark(mocked_responses, "email/batch", fixture("send_batch_mixed.json"))
    message = make_message(
        to=["alice@example.com", "Bob <bob@example.com>", "carol@example.com"],
        cc=["cc@example.com"],
        bcc=["bcc@example.com"],
        merge_data={},
    )
    assert send(message) == 1
    common = {
        "From": "from@example.com",
        "Cc": "cc@example.com",
        "Bcc": "bcc@example.com",
        "Subject": "Subject",
        "TextBody": "Body",
    }
    assert only_request(mocked_responses).url == API + "email/batch"
    assert only_request_json(mocked_responses) == [
        {**common, "To": "alice@example.com"},
        {**common, "To": "Bob <bob@example.com>"},
        {**common, "To": "carol@example.com"},
    ]

    status = message.anymail_status
    first = "0a1b2c3d-0000-4000-8000-000000000011"
    second = "0a1b2c3d-0000-4000-8000-000000000012"
    assert status.recipients == {
        "alice@example.com": AnymailRecipientStatus(first, "sent"),
        "bob@example.com": AnymailRecipientStatus(second, "sent"),
        "carol@example.com": AnymailRecipientStatus(None, "rejected"),
        # cc and bcc got a copy of each message: the last accepted one's id
        "cc@example.com": AnymailRecipientStatus(second, "sent"),
        "bcc@example.com": AnymailRecipientStatus(second, "sent"),
    }
    assert status.message_id == {first, second}
    assert status.status == {"sent", "rejected"}


def test_batch_merge_metadata_and_merge_headers(mocked_responses: responses.RequestsMock) -> None:
    mock_postmark(mocked_responses, "email/batch", fixture("send_batch_mixed.json")[:2])
    message = make_message(
        to=["alice@example.com", "bob@example.com"],
        metadata={"batch": "b1", "order_id": "0"},
        merge_metadata={"alice@example.com": {"order_id": "1"}},
        headers={"X-Batch": "b1", "List-Unsubscribe": "<mailto:unsub@example.com>"},
        merge_headers={
            "bob@example.com": {
                "list-unsubscribe": "<https://example.com/unsub/bob>",
                "X-Bob": "yes",
            }
        },
    )
    send(message)
    base = {
        "From": "from@example.com",
        "Subject": "Subject",
        "TextBody": "Body",
    }
    assert only_request_json(mocked_responses) == [
        {
            **base,
            "To": "alice@example.com",
            "Headers": [
                {"Name": "X-Batch", "Value": "b1"},
                {"Name": "List-Unsubscribe", "Value": "<mailto:unsub@example.com>"},
            ],
            "Metadata": {"batch": "b1", "order_id": "1"},
        },
        {
            **base,
            "To": "bob@example.com",
            "Headers": [
                {"Name": "X-Batch", "Value": "b1"},
                {"Name": "list-unsubscribe", "Value": "<https://example.com/unsub/bob>"},
                {"Name": "X-Bob", "Value": "yes"},
            ],
            "Metadata": {"batch": "b1", "order_id": "0"},
        },
    ]


def test_batch_with_templates(mocked_responses: responses.RequestsMock) -> None:
    mock_postmark(
        mocked_responses, "email/batchWithTemplates", fixture("send_batch_mixed.json")[:2]
    )
    message = AnymailMessage(
        from_email="shop@example.com",
        to=["alice@example.com", "Bob <bob@example.com>"],
        cc=["cc@example.com"],
        template_id="welcome",
        merge_global_data={"site": "Example"},
        merge_data={"alice@example.com": {"name": "Alice"}, "bob@example.com": {"name": "Bob"}},
        metadata={"batch": "b1"},
        merge_metadata={
            "alice@example.com": {"order_id": "1"},
            "bob@example.com": {"order_id": "2"},
        },
    )
    assert send(message) == 1
    expected = fixture("request_batch_with_templates.json")
    expected["Messages"][1]["To"] = "Bob <bob@example.com>"  # quoted only when needed
    assert only_request(mocked_responses).url == API + "email/batchWithTemplates"
    assert only_request_json(mocked_responses) == expected
    assert message.anymail_status.recipients == {
        "alice@example.com": AnymailRecipientStatus("0a1b2c3d-0000-4000-8000-000000000011", "sent"),
        "bob@example.com": AnymailRecipientStatus("0a1b2c3d-0000-4000-8000-000000000012", "sent"),
        "cc@example.com": AnymailRecipientStatus("0a1b2c3d-0000-4000-8000-000000000012", "sent"),
    }


def test_merge_data_keys_match_like_addresses(mocked_responses: responses.RequestsMock) -> None:
    mock_postmark(
        mocked_responses, "email/batchWithTemplates", fixture("send_batch_mixed.json")[:2]
    )
    message = make_message(
        subject="",
        body="",
        to=["Alice@Example.com", "ana@exämple.com"],
        template_id=42,
        merge_data={"alice@example.com": {"name": "Alice"}, "Ana@Exämple.com": {"name": "Ana"}},
    )
    send(message)
    models = [m["TemplateModel"] for m in only_request_json(mocked_responses)["Messages"]]
    assert models == [{"name": "Alice"}, {"name": "Ana"}]


def sent_with_template(mocked: responses.RequestsMock, message: Any) -> Any:
    """The JSON body Postmark's email/withTemplate receives when ``message`` is sent."""
    mock_postmark(mocked, "email/withTemplate")
    assert send(message) == 1
    assert only_request(mocked).url == API + "email/withTemplate"
    return only_request_json(mocked)


def test_template_send(mocked_responses: responses.RequestsMock) -> None:
    message = AnymailMessage(
        from_email="shop@example.com",
        to=["Recipient Name <to@example.com>"],
        template_id=1234,
        merge_global_data={"name": "Alice", "order_no": "12345"},
    )
    # Django's default empty subject and body are left out.
    assert sent_with_template(mocked_responses, message) == {
        "From": "shop@example.com",
        "To": "Recipient Name <to@example.com>",
        "TemplateId": 1234,
        "TemplateModel": {"name": "Alice", "order_no": "12345"},
    }
    assert message.anymail_status.status == {"sent"}


@pytest.mark.parametrize(
    ("template_id", "expected"),
    [
        (5678, {"TemplateId": 5678}),
        ("5678", {"TemplateId": 5678}),
        ("welcome-email", {"TemplateAlias": "welcome-email"}),
        ("v2.1", {"TemplateAlias": "v2.1"}),
        ("٣", {"TemplateAlias": "٣"}),  # not an ASCII number
    ],
)
def test_template_id_or_alias(
    mocked_responses: responses.RequestsMock, template_id: Any, expected: dict[str, Any]
) -> None:
    message = make_message(subject="", body="", template_id=template_id)
    assert sent_with_template(mocked_responses, message) == {
        "From": "from@example.com",
        "To": "Recipient Name <to@example.com>",
        **expected,
        "TemplateModel": {},
    }


def test_template_with_subject_none_and_from_none(mocked_responses: responses.RequestsMock) -> None:
    message = make_message(template_id="welcome")
    message.subject = None
    message.from_email = None
    message.body = None
    assert sent_with_template(mocked_responses, message) == {
        "To": "Recipient Name <to@example.com>",
        "TemplateAlias": "welcome",
        "TemplateModel": {},
    }


def test_template_keeps_non_empty_subject(mocked_responses: responses.RequestsMock) -> None:
    # Postmark refuses a subject with a template; we let it say so.
    data = sent_with_template(mocked_responses, make_message(template_id="welcome"))
    assert data["Subject"] == "Subject"
    assert data["TextBody"] == "Body"


# --- settings ------------------------------------------------------------------


def test_api_url_default_and_settings(settings: Any) -> None:
    assert EmailBackend().api_url == "https://api.postmarkapp.com/"
    settings.POSTMARK_API_URL = "https://bare.example.com/"  # not a bare setting: ignored
    assert EmailBackend().api_url == "https://api.postmarkapp.com/"
    settings.ANYMAIL_POSTMARK_API_URL = "https://prefixed.example.com/"
    assert EmailBackend().api_url == "https://prefixed.example.com/"
    settings.ANYMAIL = {"POSTMARK_SERVER_TOKEN": TOKEN, "POSTMARK_API_URL": "https://dict.example"}
    assert EmailBackend().api_url == "https://dict.example"
    # (The contract case's options_example sends to an api_url without a trailing
    # slash, given as an option and as a setting.)


def test_postmark_send_defaults(settings: Any, mocked_responses: responses.RequestsMock) -> None:
    settings.ANYMAIL = {
        "POSTMARK_SERVER_TOKEN": TOKEN,
        "SEND_DEFAULTS": {"tags": ["global"], "metadata": {"site": "global"}},
        "POSTMARK_SEND_DEFAULTS": {
            "tags": ["postmark"],  # replaces the global tags (not merged)
            "esp_extra": {"MessageStream": "transactional", "InlineCss": False},
        },
    }
    mock_postmark(mocked_responses)
    send(make_message(esp_extra={"InlineCss": True}))
    data = only_request_json(mocked_responses)
    assert data["Tag"] == "postmark"
    assert data["MessageStream"] == "transactional"
    assert data["InlineCss"] is True
    assert data["Metadata"] == {"site": "global"}  # only keys the ESP defaults set are replaced


# --- response parsing ------------------------------------------------------------


def test_delivery_delayed_is_queued(mocked_responses: responses.RequestsMock) -> None:
    mock_postmark(mocked_responses, body=fixture("send_delayed.json"))
    message = make_message(to=["to@example.com"])
    send(message)
    assert message.anymail_status.recipients == {
        "to@example.com": AnymailRecipientStatus("0a1b2c3d-0000-4000-8000-000000000003", "queued")
    }


def test_cc_and_bcc_only(mocked_responses: responses.RequestsMock) -> None:
    mock_postmark(mocked_responses, body=fixture("send_success_cc_only.json"))
    message = make_message(to=[], cc=["cc@example.com"], bcc=["Bcc@Example.com"])
    assert send(message) == 1
    assert only_request_json(mocked_responses) == {
        "From": "from@example.com",
        "Cc": "cc@example.com",
        "Bcc": "Bcc@Example.com",
        "Subject": "Subject",
        "TextBody": "Body",
    }
    message_id = "0a1b2c3d-0000-4000-8000-000000000002"
    assert message.anymail_status.recipients == {
        "cc@example.com": AnymailRecipientStatus(message_id, "sent"),
        "Bcc@Example.com": AnymailRecipientStatus(message_id, "sent"),
    }


def test_partially_inactive_recipients(mocked_responses: responses.RequestsMock) -> None:
    mock_postmark(mocked_responses, body=fixture("send_partial_inactive.json"))
    message = make_message(
        to=["HardBounce@example.com", "valid@example.com", "Hates Spam <spam@example.com>"]
    )
    assert send(message) == 1
    message_id = "0a1b2c3d-0000-4000-8000-000000000004"
    assert message.anymail_status.recipients == {
        "HardBounce@example.com": AnymailRecipientStatus(None, "rejected"),  # case as sent
        "valid@example.com": AnymailRecipientStatus(message_id, "sent"),
        "spam@example.com": AnymailRecipientStatus(None, "rejected"),
    }
    assert message.anymail_status.message_id == message_id


def test_all_inactive_recipients(mocked_responses: responses.RequestsMock) -> None:
    body = fixture("send_error_406_inactive.json")
    mock_postmark(mocked_responses, body=body, status=422)
    message = make_message(to=["First.Last@example.com", "spam@example.com"])
    with pytest.raises(AnymailRecipientsRefused):
        send(message)

    mock_postmark(mocked_responses, body=body, status=422)
    message = make_message(to=["First.Last@example.com", "spam@example.com"])
    assert send(message, ignore_recipient_status=True) == 1
    status = message.anymail_status
    assert status.recipients == {
        "First.Last@example.com": AnymailRecipientStatus(None, "rejected"),
        "spam@example.com": AnymailRecipientStatus(None, "rejected"),
    }
    assert status.message_id is None
    assert status.esp_response.status_code == 422


def test_inactive_list_with_line_break_and_no_final_sentence() -> None:
    from anymail.backends._postmark_answers import _inactive_addresses

    assert _inactive_addresses("Found inactive addresses: a.b@x.co.uk, c@y.org.\nInactive ...") == [
        "a.b@x.co.uk",
        "c@y.org",
    ]
    assert _inactive_addresses("Found inactive addresses: a.b@x.co.uk") == ["a.b@x.co.uk"]
    assert _inactive_addresses("OK") == []


def test_invalid_to_address(mocked_responses: responses.RequestsMock) -> None:
    body = fixture("send_error_300_invalid_to.json")
    mock_postmark(mocked_responses, body=body, status=422)
    with pytest.raises(AnymailRecipientsRefused):
        send(make_message(to=["invalid@localhost"]))

    mock_postmark(mocked_responses, body=body, status=422)
    message = make_message(to=["invalid@localhost"])
    send(message, ignore_recipient_status=True)
    assert message.anymail_status.recipients == {
        "invalid@localhost": AnymailRecipientStatus(None, "invalid")
    }


def test_invalid_cc_address_leaves_others_unknown(
    mocked_responses: responses.RequestsMock,
) -> None:
    body = {"ErrorCode": 300, "Message": "Invalid 'Cc' address: 'bad@example.com'."}
    mock_postmark(mocked_responses, body=body, status=422)
    message = make_message(to=["to@example.com"], cc=["Bad@example.com"])
    assert send(message) == 1  # not every recipient was refused
    assert message.anymail_status.recipients == {
        "to@example.com": AnymailRecipientStatus(None, "unknown"),
        "Bad@example.com": AnymailRecipientStatus(None, "invalid"),  # case as sent
    }
    assert message.anymail_status.status == {"unknown", "invalid"}


def test_cc_parse_error_wording(mocked_responses: responses.RequestsMock) -> None:
    mock_postmark(mocked_responses, body=fixture("send_error_300_parse_cc.json"), status=422)
    message = make_message(to=["to@example.com"], cc=["user@example.com"])
    send(message)
    assert message.anymail_status.recipients["user@+"] == AnymailRecipientStatus(None, "invalid")
    assert message.anymail_status.recipients["to@example.com"].status == "unknown"


@pytest.mark.parametrize(
    ("fixture_name", "text"),
    [
        ("send_error_300_invalid_from.json", "Invalid 'From' address: 'invalid@localhost'."),
        ("send_error_300_reply_to.json", "Error parsing 'Reply-To'"),
        ("send_error_300_metadata.json", "Invalid metadata content."),
        ("send_error_400_sender_signature.json", "is not a Sender Signature on your account"),
        ("send_error_1101_template_not_found.json", "was not found"),
        ("send_error_1235_stream.json", "The 'MessageStream' provided does not exist"),
    ],
)
def test_422_errors_are_api_errors(
    mocked_responses: responses.RequestsMock, fixture_name: str, text: str
) -> None:
    body = fixture(fixture_name)
    mock_postmark(mocked_responses, body=body, status=422)
    err = api_error(send, make_message(), 422, TOKEN)
    assert err.response is not None and err.response.json() == body
    assert text in str(err)
    assert str(err).startswith(f"Postmark API error: HTTP 422: ErrorCode {body['ErrorCode']}: ")


def test_error_code_as_string(mocked_responses: responses.RequestsMock) -> None:
    mock_postmark(mocked_responses, body={**fixture("send_success.json"), "ErrorCode": "0"})
    message = make_message()
    send(message)
    assert message.anymail_status.status == {"sent"}

    mock_postmark(
        mocked_responses,
        body={**fixture("send_error_406_inactive.json"), "ErrorCode": "406"},
        status=422,
    )
    message = make_message(to=["spam@example.com"])
    send(message, ignore_recipient_status=True)
    assert message.anymail_status.status == {"rejected"}


def test_batch_with_other_error_raises_and_names_accepted(
    mocked_responses: responses.RequestsMock,
) -> None:
    body = [
        fixture("send_batch_mixed.json")[0],
        fixture("send_error_1101_template_not_found.json"),
    ]
    mock_postmark(mocked_responses, "email/batchWithTemplates", body)
    message = make_message(
        subject="",
        body="",
        to=["alice@example.com", "bob@example.com"],
        template_id="welcome",
        merge_data={},
    )
    with pytest.raises(AnymailRequestsAPIError) as excinfo:
        send(message)
    text = str(excinfo.value)
    assert "ErrorCode 1101: The Template's 'Alias'" in text
    assert "Postmark did accept the messages to alice@example.com." in text
    assert excinfo.value.status_code == 200


def test_batch_request_refused_as_a_whole(mocked_responses: responses.RequestsMock) -> None:
    body = {"ErrorCode": 410, "Message": "You may only send up to 500 messages in a batch."}
    mock_postmark(mocked_responses, "email/batch", body, status=422)
    with pytest.raises(AnymailRequestsAPIError, match="ErrorCode 410: You may only send"):
        send(make_message(to=["a@example.com", "b@example.com"], merge_metadata={}))


def test_batch_all_inactive(mocked_responses: responses.RequestsMock) -> None:
    mock_postmark(mocked_responses, "email/batch", [fixture("send_batch_mixed.json")[2]])
    message = make_message(to=["carol@example.com"], merge_headers={})
    with pytest.raises(AnymailRecipientsRefused):
        send(message)
    assert message.anymail_status.recipients == {
        "carol@example.com": AnymailRecipientStatus(None, "rejected")
    }


@pytest.mark.parametrize(
    ("endpoint", "body", "problem"),
    [
        ("email", {"ErrorCode": 0, "Message": "OK"}, "needs a 'MessageID'"),
        ("email", {"ErrorCode": 0, "MessageID": "x"}, "needs a 'Message'"),
        ("email", [fixture("send_success.json")], "expected a JSON object"),
        ("email/batch", fixture("send_success.json"), "expected a list of 2 results"),
        ("email/batch", [fixture("send_success.json")], "expected a list of 2 results"),
    ],
)
def test_unexpected_response_format(
    mocked_responses: responses.RequestsMock, endpoint: str, body: Any, problem: str
) -> None:
    mock_postmark(mocked_responses, endpoint, body)
    to = ["a@example.com", "b@example.com"]
    batch = {"merge_data": {}} if endpoint == "email/batch" else {}
    with pytest.raises(AnymailRequestsAPIError, match="Invalid Postmark API response format") as e:
        send(make_message(to=to, **batch))
    assert problem in str(e.value)


def test_unknown_error_code_format(mocked_responses: responses.RequestsMock) -> None:
    mock_postmark(mocked_responses, body={"ErrorCode": "oops", "Message": "Strange"}, status=422)
    with pytest.raises(AnymailRequestsAPIError, match="Postmark API error: HTTP 422: Strange"):
        send(make_message())


def test_bad_token_401(mocked_responses: responses.RequestsMock) -> None:
    body = fixture("send_error_10_bad_token.json")
    mock_postmark(mocked_responses, body=body, status=401)
    err = api_error(send, make_message(), 401, TOKEN)
    text = str(err)
    assert "Check your POSTMARK_SERVER_TOKEN setting" in text
    assert "The Server Token you provided in the X-Postmark-Server-Token" in text
    assert TOKEN not in text


@pytest.mark.parametrize("status", [200, 422])
def test_non_json_response(mocked_responses: responses.RequestsMock, status: int) -> None:
    mock_postmark(mocked_responses, body="<html>oops</html>", status=status)
    with pytest.raises(AnymailRequestsAPIError, match="Invalid JSON") as excinfo:
        send(make_message())
    assert excinfo.value.status_code == status
    assert "<html>oops</html>" in str(excinfo.value)


def test_debug_api_requests_hides_the_token(
    settings: Any, mocked_responses: responses.RequestsMock, capsys: pytest.CaptureFixture[str]
) -> None:
    settings.ANYMAIL = {"POSTMARK_SERVER_TOKEN": TOKEN, "DEBUG_API_REQUESTS": True}
    mock_postmark(mocked_responses)
    send(make_message(esp_extra={"server_token": "per-message-token"}))
    out = capsys.readouterr().out
    assert "===== Anymail API request: POST https://api.postmarkapp.com/email" in out
    assert "X-Postmark-Server-Token: [REDACTED]" in out
    assert TOKEN not in out
    assert "per-message-token" not in out
