"""Postal backend: the exact requests a Postal server receives, and how its answers are read."""

from __future__ import annotations

import base64
import functools
from datetime import UTC, datetime
from decimal import Decimal
from email.message import MIMEPart
from typing import Any

import pytest
import requests
import responses

from anymail.backends.postal import EmailBackend
from anymail.exceptions import (
    AnymailAPIError,
    AnymailImproperlyConfigured,
    AnymailRequestsAPIError,
    AnymailSerializationError,
    AnymailUnsupportedFeature,
)
from anymail.message import AnymailRecipientStatus
from tests.backends.support import (
    answerer,
    answering,
    anymail_settings,
    api_error,
    invoice_message,
    refused,
    sender,
    short_message,
)
from tests.utils import (
    PNG,
    assert_missing_setting,
    fixture_json,
    only_request,
    only_request_json,
    request_json,
)

API_URL = "https://postal.example.com/"
ENDPOINT = API_URL + "api/v1/send/message"
# The key Postal echoes back in the send_error_invalid_api_key.json fixture.
API_KEY = "fake-server-api-key-not-real"


fixture = functools.partial(fixture_json, "postal")


esp_settings = anymail_settings(POSTAL_API_KEY=API_KEY, POSTAL_API_URL=API_URL)


def success_for(*addresses: str, first_id: int = 1503) -> dict[str, Any]:
    """Postal's success answer, with one message per recipient address."""
    return {
        "status": "success",
        "time": 0.05,
        "flags": {},
        "data": {
            "message_id": "0f1e2d3c-4b5a-4968-8776-655443322110@rp.postal.example.com",
            "messages": {
                address: {"id": first_id + index, "token": f"FakeToken{index:03d}"}
                for index, address in enumerate(addresses)
            },
        },
    }


#: Postal's answer (by default, success for to@example.com).
mock_postal = answerer(ENDPOINT, lambda: success_for("to@example.com"))


#: The shared test message, with the short texts and named recipient these tests show.
make_message = short_message
send = sender(EmailBackend)

#: The ESP giving its default answer, and the ``responses`` mock to read requests from.
postal = answering(mock_postal)


# --- the request -------------------------------------------------------------


def test_every_supported_feature_whole_request(mocked_responses: responses.RequestsMock) -> None:
    mock_postal(mocked_responses, body=fixture("send_success.json"))
    message = invoice_message(
        headers={"X-Order-Id": "1234"},
        envelope_sender="bounces@example.com",
        tags=["receipt"],
        esp_extra={"bounce": False},
    )
    assert send(message) == 1

    assert only_request(mocked_responses).url == ENDPOINT
    assert only_request_json(mocked_responses) == {
        **fixture("send_request_message.json"),
        "bounce": False,
    }

    # Postal makes one message per recipient (to, cc and bcc), each with its own id.
    status = message.anymail_status
    assert status.status == {"queued"}
    assert status.message_id == {1503, 1504, 1505}
    assert status.recipients == {
        "alice@example.com": AnymailRecipientStatus(1503, "queued"),
        "cc@example.com": AnymailRecipientStatus(1504, "queued"),
        "bcc@example.com": AnymailRecipientStatus(1505, "queued"),
    }


def test_display_names_idn_domains_and_eai(mocked_responses: responses.RequestsMock) -> None:
    mock_postal(mocked_responses, body=success_for("ana@xn--exmple-cua.com", "jörg@example.com"))
    message = make_message(
        from_email='"Widgets, Inc." <shop@example.com>',
        to=["Ana García <ana@exämple.com>", "jörg@example.com"],
        cc=["Cc One <cc1@example.com>", "cc2@example.com"],
    )
    send(message)
    data = only_request_json(mocked_responses)
    assert data["from"] == '"Widgets, Inc." <shop@example.com>'
    # Domains in their ASCII form; local parts (EAI) left alone for Postal to handle.
    assert data["to"] == ["Ana García <ana@xn--exmple-cua.com>", "jörg@example.com"]
    assert data["cc"] == ["Cc One <cc1@example.com>", "cc2@example.com"]
    assert set(message.anymail_status.recipients) == {"ana@xn--exmple-cua.com", "jörg@example.com"}


def test_html_only_and_extra_headers(postal: responses.RequestsMock) -> None:
    message = make_message(
        body="<p>Hi</p>", headers={"X-Custom": "custom value", "List-Unsubscribe": "<mailto:u@x>"}
    )
    message.content_subtype = "html"
    send(message)
    assert only_request_json(postal) == {
        "from": "from@example.com",
        "to": ["Recipient Name <to@example.com>"],
        "subject": "Subject",
        "html_body": "<p>Hi</p>",
        "headers": {"X-Custom": "custom value", "List-Unsubscribe": "<mailto:u@x>"},
    }


def test_from_header_keeps_from_email_as_sender(postal: responses.RequestsMock) -> None:
    # Django's SMTP semantics: a From header is what recipients see, and
    # from_email becomes the envelope sender (Postal's "sender").
    message = make_message(headers={"From": "Shown <shown@example.com>"})
    send(message)
    data = only_request_json(postal)
    assert data["from"] == "Shown <shown@example.com>"
    assert data["sender"] == "from@example.com"
    assert "headers" not in data


@pytest.mark.parametrize(
    ("attrs", "field", "expected"),
    [
        # The envelope sender goes as its addr-spec (IDNA-encoded).
        (
            {"envelope_sender": "Bounce Handler <bounces@exämple.com>"},
            "sender",
            "bounces@xn--exmple-cua.com",
        ),
        (
            {"reply_to": ['"Help, Desk" <help@example.com>']},
            "reply_to",
            '"Help, Desk" <help@example.com>',
        ),
    ],
)
def test_address_fields(
    postal: responses.RequestsMock, attrs: dict[str, Any], field: str, expected: str
) -> None:
    send(make_message(**attrs))
    assert only_request_json(postal)[field] == expected


def test_multiple_reply_to(postal: responses.RequestsMock) -> None:
    message = make_message(reply_to=["one@example.com", "Two <two@example.com>"])
    with refused(postal, AnymailUnsupportedFeature) as excinfo:
        send(message)
    assert "Postal does not support multiple reply_to addresses" in str(excinfo.value)

    send(message, ignore_unsupported_features=True)
    assert only_request_json(postal)["reply_to"] == "one@example.com"


def test_attachment_details(postal: responses.RequestsMock) -> None:
    message = make_message()
    message.encoding = "iso-8859-1"
    message.attach("Résumé café.pdf", b"%PDF-1.4", "application/pdf")
    message.attach("notes.txt", "latin-1 text: é", "text/plain")
    message.attach("data.bin", b"\x00\x01\x02")  # type guessed: none, so octet-stream
    part = MIMEPart()
    part.set_content(b"PK\x03\x04", "application", "zip", filename="archive.zip")
    message.attachments.append(part)  # as Django 6 stores a MIMEPart attachment
    send(message)
    assert only_request_json(postal)["attachments"] == [
        {"name": "Résumé café.pdf", "content_type": "application/pdf", "data": "JVBERi0xLjQ="},
        {
            "name": "notes.txt",
            "content_type": "text/plain; charset=iso-8859-1",
            "data": "bGF0aW4tMSB0ZXh0OiDp",  # the iso-8859-1 bytes, not UTF-8
        },
        {"name": "data.bin", "content_type": "application/octet-stream", "data": "AAEC"},
        {"name": "archive.zip", "content_type": "application/zip", "data": "UEsDBA=="},
    ]


def test_attachment_without_filename(postal: responses.RequestsMock) -> None:
    # Postal refuses an unnamed attachment (AttachmentMissingName): it gets a
    # name made from its type.
    message = make_message()
    message.attach(None, b"raw bytes", "application/octet-stream")
    message.attach(None, PNG, "image/png")
    message.attach("named.txt", "named", "text/plain")
    send(message)
    assert only_request_json(postal)["attachments"] == [
        {
            "name": "attachment.bin",
            "content_type": "application/octet-stream",
            "data": "cmF3IGJ5dGVz",
        },
        {
            "name": "attachment.png",
            "content_type": "image/png",
            "data": base64.b64encode(PNG).decode(),
        },
        {"name": "named.txt", "content_type": "text/plain; charset=utf-8", "data": "bmFtZWQ="},
    ]


def test_ignored_inline_image_is_an_ordinary_attachment(postal: responses.RequestsMock) -> None:
    # (Postal refuses inline images unless ignoring: the contract suite checks that.)
    message = make_message()
    cid = message.attach_inline_image(PNG, "logo.png")
    message.attach_alternative(f'<img src="cid:{cid}">', "text/html")
    send(message, ignore_unsupported_features=True)
    data = only_request_json(postal)
    assert data["html_body"] == f'<img src="cid:{cid}">'
    # Ignored means "sent as an ordinary attachment": the image isn't lost.
    assert data["attachments"] == [
        {"name": "logo.png", "content_type": "image/png", "data": base64.b64encode(PNG).decode()}
    ]


def test_single_tag_and_multiple_tags(postal: responses.RequestsMock) -> None:
    send(make_message(tags=["welcome"]))
    assert only_request_json(postal)["tag"] == "welcome"

    message = make_message(tags=["first", "second"])
    with pytest.raises(AnymailUnsupportedFeature, match="Postal does not support multiple tags"):
        send(message)
    send(message, ignore_unsupported_features=True)
    assert request_json(postal.calls[1])["tag"] == "first"


def test_ignored_batch_features_with_one_to_send_one_message(
    mocked_responses: responses.RequestsMock,
) -> None:
    # With IGNORE_UNSUPPORTED_FEATURES, merge and template features are left out.
    # With a single "to", one ordinary message exposes no one (the cc is visible anyway).
    mock_postal(mocked_responses, body=success_for("a@example.com", "cc@example.com"))
    message = make_message(
        to=["a@example.com"],
        cc=["cc@example.com"],
        template_id="welcome",
        merge_data={"a@example.com": {"name": "A"}},
        merge_global_data={"site": "Example"},
        merge_metadata={"a@example.com": {"x": "1"}},
        merge_headers={"a@example.com": {"X-A": "1"}},
        metadata={"order": "1"},
        track_clicks=True,
        track_opens=True,
        send_at=datetime(2030, 1, 2, tzinfo=UTC),
    )
    assert send(message, ignore_unsupported_features=True) == 1
    assert only_request_json(mocked_responses) == {
        "from": "from@example.com",
        "to": ["a@example.com"],
        "cc": ["cc@example.com"],
        "subject": "Subject",
        "plain_body": "Body",
    }
    assert message.anymail_status.message_id == {1503, 1504}


@pytest.mark.parametrize(
    "batch", [{"merge_data": {"a@example.com": {"name": "A"}}}, {"merge_metadata": {}}]
)
def test_batch_to_several_recipients_is_refused_even_when_ignoring(
    postal: responses.RequestsMock, batch: dict[str, Any]
) -> None:
    # A batch asks for one message per "to". Postal can't batch, and one message
    # to everyone would show each recipient all the others: never sent, even
    # with IGNORE_UNSUPPORTED_FEATURES.
    message = make_message(to=["a@example.com", "B <b@example.com>"], **batch)
    with refused(postal, AnymailUnsupportedFeature, match="show every recipient to the others"):
        send(message, ignore_unsupported_features=True)


def test_esp_extra_is_a_shallow_update(postal: responses.RequestsMock) -> None:
    message = make_message(
        headers={"X-One": "1", "X-Two": "2"},
        tags=["anymail-tag"],
        esp_extra={"bounce": True, "headers": {"X-Three": "3"}, "tag": "extra-tag"},
    )
    send(message)
    assert only_request_json(postal) == {
        "from": "from@example.com",
        "to": ["Recipient Name <to@example.com>"],
        "subject": "Subject",
        "plain_body": "Body",
        "headers": {"X-Three": "3"},  # replaces Anymail's headers as a whole
        "tag": "extra-tag",
        "bounce": True,
    }


def test_esp_extra_in_send_defaults(
    settings: Any, mocked_responses: responses.RequestsMock
) -> None:
    settings.ANYMAIL = {
        "POSTAL_API_KEY": API_KEY,
        "POSTAL_API_URL": API_URL,
        "SEND_DEFAULTS": {"tags": ["global"], "esp_extra": {"bounce": False}},
        "POSTAL_SEND_DEFAULTS": {"tags": ["postal"], "esp_extra": {"future_param": 1}},
    }
    mock_postal(mocked_responses)
    send(make_message(esp_extra={"bounce": True}))
    data = only_request_json(mocked_responses)
    # POSTAL_SEND_DEFAULTS replaces SEND_DEFAULTS keys; the message's esp_extra wins.
    assert data["tag"] == "postal"
    assert data["future_param"] == 1
    assert data["bounce"] is True


def test_esp_extra_unserializable_names_the_key(postal: responses.RequestsMock) -> None:
    with refused(postal, AnymailSerializationError, match="'total'"):
        send(make_message(esp_extra={"total": Decimal("1.5")}))


# --- settings --------------------------------------------------------------------


def test_api_url_is_required(settings: Any) -> None:
    # No default (Postal is self-hosted), and not accepted as a bare setting.
    settings.ANYMAIL = {"POSTAL_API_KEY": API_KEY}
    settings.POSTAL_API_URL = API_URL
    with pytest.raises(AnymailImproperlyConfigured) as excinfo:
        EmailBackend()
    assert_missing_setting(str(excinfo.value), "POSTAL_API_URL", "api_url", bare_setting=False)


def test_api_url_settings_and_trailing_slash(settings: Any) -> None:
    settings.ANYMAIL = {"POSTAL_API_KEY": API_KEY}
    settings.ANYMAIL_POSTAL_API_URL = "https://prefixed.example.com"
    assert EmailBackend().api_url == "https://prefixed.example.com/"
    settings.ANYMAIL = {"POSTAL_API_KEY": API_KEY, "POSTAL_API_URL": "https://dict.example"}
    assert EmailBackend().api_url == "https://dict.example/"
    # (The contract case's options_example sends to an api_url without a trailing
    # slash, given as an option and as a setting.)


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("postal.example.com", "base URL of your Postal server"),
        ("https://", "base URL of your Postal server"),
        ("", "base URL of your Postal server"),
        (None, "base URL of your Postal server"),
        ("https://postal.example.com/api/v1/send/message", "without the API path"),
        ("https://postal.example.com/api/v1/", "without the API path"),
    ],
)
def test_invalid_api_url(settings: Any, url: Any, problem: str) -> None:
    settings.ANYMAIL = {"POSTAL_API_KEY": API_KEY, "POSTAL_API_URL": url}
    with pytest.raises(AnymailImproperlyConfigured) as excinfo:
        EmailBackend()
    assert "Invalid Anymail setting POSTAL_API_URL" in str(excinfo.value)
    assert problem in str(excinfo.value)


# --- response parsing ------------------------------------------------------------


def test_recipients_come_from_postal_response(mocked_responses: responses.RequestsMock) -> None:
    # Keys are Postal's parsed addresses (case as given, display names stripped).
    mock_postal(mocked_responses, body=success_for("Mixed.Case@Example.com", first_id=9001))
    message = make_message(to=["Someone <Mixed.Case@Example.com>"])
    send(message)
    assert message.anymail_status.recipients == {
        "Mixed.Case@Example.com": AnymailRecipientStatus(9001, "queued")
    }
    assert message.anymail_status.message_id == 9001


def test_cc_and_bcc_only(mocked_responses: responses.RequestsMock) -> None:
    mock_postal(mocked_responses, body=success_for("cc@example.com", "bcc@example.com"))
    message = make_message(to=[], cc=["cc@example.com"], bcc=["bcc@example.com"])
    assert send(message) == 1
    assert only_request_json(mocked_responses) == {
        "from": "from@example.com",
        "cc": ["cc@example.com"],
        "bcc": ["bcc@example.com"],
        "subject": "Subject",
        "plain_body": "Body",
    }
    assert message.anymail_status.message_id == {1503, 1504}


@pytest.mark.parametrize(
    ("fixture_name", "expected"),
    [
        ("send_error_access_denied.json", "AccessDenied: Must be authenticated as a server."),
        (
            "send_error_attachment_missing_name.json",
            "AttachmentMissingName: An attachment is missing a name",
        ),
        ("send_error_no_content.json", "NoContent: There is no content defined for this e-mail"),
        (
            "send_error_unauthenticated_from.json",
            "UnauthenticatedFromAddress: The From address is not authorised to send mail "
            "from this server",
        ),
        (
            "send_error_parameter_error_raw.json",
            "status 'parameter-error': `rcpt_to` parameter is required but is missing",
        ),
    ],
)
def test_error_status_with_http_200(
    mocked_responses: responses.RequestsMock, fixture_name: str, expected: str
) -> None:
    mock_postal(mocked_responses, body=fixture(fixture_name))
    err = api_error(send, make_message(), 200, API_KEY)
    assert str(err).startswith(f"Postal API error: {expected}")
    assert err.response is not None and err.response.json() == fixture(fixture_name)
    assert isinstance(err, AnymailAPIError) and isinstance(err, requests.RequestException)


def test_invalid_api_key_error_never_shows_the_key(
    mocked_responses: responses.RequestsMock,
) -> None:
    # Postal echoes the key it received as data.token.
    mock_postal(mocked_responses, body=fixture("send_error_invalid_api_key.json"))
    with pytest.raises(AnymailRequestsAPIError) as excinfo:
        send(make_message())
    text = str(excinfo.value)
    assert text == (
        "Postal API error: InvalidServerAPIKey: The API token provided in X-Server-API-Key "
        "was not valid. Check your POSTAL_API_KEY setting: it must be a server's API "
        "credential (Postal: your server > Credentials, type API).\n"
        'Postal API response 200: {"status": "error", "time": 0.0, "flags": {}, "data": '
        '{"message": "The API token provided in X-Server-API-Key was not valid.", '
        '"token": "[REDACTED]", "code": "InvalidServerAPIKey"}}'
    )
    assert API_KEY not in repr(excinfo.value.args)


def test_key_echoed_outside_json_is_redacted(mocked_responses: responses.RequestsMock) -> None:
    mock_postal(mocked_responses, body=f"Bad key {API_KEY}", status=403)
    with pytest.raises(AnymailRequestsAPIError) as excinfo:
        send(make_message())
    assert API_KEY not in str(excinfo.value)
    assert "Postal API response 403: Bad key [REDACTED]" in str(excinfo.value)


@pytest.mark.parametrize(
    ("status", "body", "quoted"),
    [
        (200, "<html>maintenance</html>", "maintenance"),
        (200, '["not", "an", "object"]', '["not", "an", "object"]'),
    ],
)
def test_http_errors_and_non_json(
    mocked_responses: responses.RequestsMock, status: int, body: str, quoted: str
) -> None:
    mock_postal(mocked_responses, body=body, status=status)
    err = api_error(send, make_message(), status, API_KEY)
    assert f"Postal API response {status}: " in str(err)
    assert quoted in str(err)
    if status == 200:
        assert str(err).startswith("Invalid Postal API response: expected a JSON object.")
    else:
        assert str(err).startswith(f"Postal API error: HTTP {status}")


def test_empty_error_body(mocked_responses: responses.RequestsMock) -> None:
    mock_postal(mocked_responses, body="", status=503)
    with pytest.raises(AnymailRequestsAPIError) as excinfo:
        send(make_message())
    assert str(excinfo.value) == (
        "Postal API error: HTTP 503 Service Unavailable.\nPostal API response 503 (empty)"
    )


@pytest.mark.parametrize(
    "body",
    [
        {"status": "success", "data": {}},
        {"status": "success", "data": {"messages": {"to@example.com": 1503}}},
        {"status": "success"},
    ],
)
def test_unexpected_success_format(mocked_responses: responses.RequestsMock, body: Any) -> None:
    mock_postal(mocked_responses, body=body)
    with pytest.raises(AnymailRequestsAPIError, match="Invalid Postal API response format"):
        send(make_message())


def test_error_without_details(mocked_responses: responses.RequestsMock) -> None:
    mock_postal(mocked_responses, body={"status": "error", "data": {"code": "ServerSuspended"}})
    with pytest.raises(AnymailRequestsAPIError) as excinfo:
        send(make_message())
    assert str(excinfo.value).startswith("Postal API error: ServerSuspended\n")


def test_debug_api_requests_hides_the_key(
    settings: Any, mocked_responses: responses.RequestsMock, capsys: pytest.CaptureFixture[str]
) -> None:
    settings.ANYMAIL = {
        "POSTAL_API_KEY": API_KEY,
        "POSTAL_API_URL": API_URL,
        "DEBUG_API_REQUESTS": True,
    }
    mock_postal(mocked_responses, body=fixture("send_error_invalid_api_key.json"))
    with pytest.raises(AnymailRequestsAPIError):
        send(make_message())
    out = capsys.readouterr().out
    assert "POST https://postal.example.com/api/v1/send/message" in out
    assert "X-Server-API-Key: [REDACTED]" in out
    assert "InvalidServerAPIKey" in out
    assert API_KEY not in out
