"""Brevo inbound parsing webhooks: parsed fields in, AnymailInboundMessage out, and the
attachment downloads from Brevo's API (stubbed with ``responses``)."""

from __future__ import annotations

import copy
import logging
import warnings
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
import requests
import responses
from django.test import Client

from anymail.exceptions import (
    AnymailAPIError,
    AnymailConfigurationError,
    AnymailDeprecationWarning,
    AnymailImproperlyConfigured,
)
from anymail.inbound import AnymailInboundMessage
from anymail.signals import AnymailInboundEvent, inbound
from anymail.testing import captured_events, webhook_request, webhook_secret_setting
from anymail.webhooks.sendinblue import SendinBlueInboundWebhookView

from .brevo_support import (
    API_KEY,
    ATTACHMENTS_URL,
    IMAGE_ATTACHMENT,
    TEXT_ATTACHMENT,
    add_attachments,
    fixture,
    sendinblue_call,
)
from .support import assert_refused

SECRET = "brevobrevobrevob:revobrevobrevobr"
URL = "/anymail/brevo/inbound/"
LEGACY_URL = "/anymail/sendinblue/inbound/"


@pytest.fixture(autouse=True)
def brevo_settings(settings: Any) -> Any:
    with webhook_secret_setting(SECRET):
        settings.ANYMAIL = {**settings.ANYMAIL, "BREVO_API_KEY": API_KEY}
        yield


@pytest.fixture
def events() -> Any:
    with captured_events(inbound) as received:
        yield received


@pytest.fixture
def api(mocked_responses: responses.RequestsMock) -> responses.RequestsMock:
    return mocked_responses


def post(payload: Any, url: str = URL, client: Client | None = None, **options: Any) -> Any:
    return webhook_request("brevo", payload, **options).post(client or Client(), url)


def quiet() -> Client:
    """A client that answers 500 as a server would, instead of raising."""
    return Client(raise_request_exception=False)


def with_attachment(**fields: Any) -> dict[str, Any]:
    """inbound_basic.json with one attachment (fields override the defaults)."""
    payload = fixture("inbound_basic.json")
    payload["items"][0]["Uuid"] = ["dddddddd-eeee-4fff-8000-111111111111"]
    payload["items"][0]["Attachments"] = [
        {
            "Name": "notes.txt",
            "ContentType": "text/plain",
            "ContentLength": len(TEXT_ATTACHMENT),
            "ContentID": None,
            "DownloadToken": "token-1",
            **fields,
        }
    ]
    return payload


# --- parsing ----------------------------------------------------------------------------


def test_inbound_basic(events: list[Any], api: responses.RequestsMock) -> None:
    payload = fixture("inbound_basic.json")
    response = post(payload)
    assert response.status_code == 200, response.content
    assert len(api.calls) == 0  # no attachments: nothing to download
    (event,) = events
    assert isinstance(event, AnymailInboundEvent)
    assert event.event_type == "inbound"
    assert event.event_id == "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee"
    assert event.timestamp is None  # Brevo gives no time of receipt
    assert event.esp_event == payload["items"][0]

    message = event.message
    assert isinstance(message, AnymailInboundMessage)
    assert str(message.from_email) == "Sender Name <sender@example.net>"
    assert [str(address) for address in message.to] == ["support@inbound.example.com"]
    assert [str(address) for address in message.cc] == ["Copy <copy@example.net>"]
    assert message.subject == "Question about order 1234"
    assert message.date == datetime(2026, 3, 4, 6, 6, 8, tzinfo=timezone(timedelta(hours=1)))
    assert message["Message-ID"] == "<CAF1234567890@mail.example.net>"
    assert message.get_all("Received") == [
        "by mx.example.net for <support@inbound.example.com>; Wed, 04 Mar 2026 06:06:09 +0100",
        "from [198.51.100.7] by smtp.example.net; Wed, 04 Mar 2026 06:06:08 +0100",
    ]
    assert message.text == "Where is my *order*?\n- Sender\n"
    assert message.html == '<div dir="ltr">Where is my <i>order</i>?<br>- Sender</div>\n'
    assert message.stripped_text == "Where is my *order*?  \n"
    assert message.stripped_html is None
    assert message.spam_score == 1.3
    assert message.spam_detected is None  # Brevo gives a score, no verdict
    assert message.envelope_sender is None
    assert message.envelope_recipient is None
    assert message.attachments == []
    # The structure is ours, not the original's (Brevo doesn't post the MIME).
    assert message.get_content_type() == "multipart/alternative"
    assert message.get_param("boundary") != "000000000000abcdef"


def test_inbound_attachments_are_downloaded(events: list[Any], api: responses.RequestsMock) -> None:
    add_attachments(api)
    assert post(fixture("inbound_attachments.json")).status_code == 200

    assert [call.request.url for call in api.calls] == [
        ATTACHMENTS_URL + "fake-download-token-text",
        ATTACHMENTS_URL + "fake-download-token-image",
    ]
    for call in api.calls:
        assert call.request.method == "GET"
        assert call.request.headers["api-key"] == API_KEY
        assert call.request.headers["User-Agent"].startswith("django-anymail/")

    message = events[0].message
    assert events[0].event_id == "bbbbbbbb-cccc-4ddd-8eee-ffffffffffff"
    (notes,) = message.attachments
    assert notes.get_filename() == "notes.txt"
    assert notes.get_content_type() == "text/plain"
    assert notes.get_content_bytes() == TEXT_ATTACHMENT
    assert notes.get_content_text() == TEXT_ATTACHMENT.decode()
    assert not notes.is_inline()
    (logo,) = message.inlines
    assert message.content_id_map == {"logo123@example.net": logo}
    assert logo.get_filename() == "logo.png"
    assert logo.get_content_type() == "image/png"
    assert logo.get_content_bytes() == IMAGE_ATTACHMENT
    # From the headers: Return-Path unquoted, Delivered-To.
    assert message.envelope_sender == "bounces+sender@example.net"
    assert message.envelope_recipient == "support@inbound.example.com"
    # The html and its inline image are related, beside the text and the attachment.
    assert message.get_content_type() == "multipart/mixed"
    assert message.text == "Where is my *order*?\n- Sender\n"


def test_the_served_content_type_wins(events: list[Any], api: responses.RequestsMock) -> None:
    api.get(
        ATTACHMENTS_URL + "token-1",
        body="Käse, 5 €".encode("iso-8859-15"),
        content_type="text/plain; charset=ISO-8859-15",
    )
    assert post(with_attachment(ContentType="application/octet-stream")).status_code == 200
    (attachment,) = events[0].message.attachments
    assert attachment.get_content_type() == "text/plain"
    assert attachment.get_content_charset() == "iso-8859-15"
    assert attachment.get_content_text() == "Käse, 5 €"


def test_the_declared_content_type_when_none_is_served(
    events: list[Any], api: responses.RequestsMock
) -> None:
    api.get(ATTACHMENTS_URL + "token-1", body=b"%PDF-1.4", content_type=None)
    assert post(with_attachment(Name="a.pdf", ContentType="application/pdf")).status_code == 200
    (attachment,) = events[0].message.attachments
    assert attachment.get_content_type() == "application/pdf"
    assert attachment.get_content_bytes() == b"%PDF-1.4"


@pytest.mark.parametrize("name", ["", None, "..", "dir/", "a\r\nb.txt"])
def test_odd_attachment_names(name: Any, events: list[Any], api: responses.RequestsMock) -> None:
    # A forwarded message/rfc822 part has no name; others are whatever the sender wrote.
    api.get(ATTACHMENTS_URL + "token-1", body=b"data", content_type="application/octet-stream")
    assert post(with_attachment(Name=name)).status_code == 200
    (attachment,) = events[0].message.attachments
    assert attachment.get_content_bytes() == b"data"
    filename = attachment.get_filename()
    assert filename is None or ("\n" not in filename and "\r" not in filename)


def test_download_token_is_url_quoted(events: list[Any], api: responses.RequestsMock) -> None:
    api.get(ATTACHMENTS_URL + "a%2Fb%2Bc%3D%3F%23", body=b"x", content_type="text/plain")
    assert post(with_attachment(DownloadToken="a/b+c=?#")).status_code == 200
    assert len(api.calls) == 1


@pytest.mark.parametrize("token", ["", ".", ".."])
def test_a_token_that_would_be_a_path_segment_is_refused(
    token: str, events: list[Any], api: responses.RequestsMock
) -> None:
    response = post(with_attachment(DownloadToken=token))
    assert response.status_code == 400
    assert b"DownloadToken is not a token" in response.content
    assert len(api.calls) == 0


def test_api_url_setting(settings: Any, events: list[Any], api: responses.RequestsMock) -> None:
    settings.ANYMAIL = {**settings.ANYMAIL, "BREVO_API_URL": "https://proxy.example.com/brevo/v3"}
    api.get("https://proxy.example.com/brevo/v3/inbound/attachments/token-1", body=b"x")
    assert post(with_attachment()).status_code == 200
    assert len(events) == 1


def test_large_attachment_round_trips(events: list[Any], api: responses.RequestsMock) -> None:
    content = bytes(range(256)) * 12_000  # 3 MB: spooled to disk, not kept in memory
    api.get(ATTACHMENTS_URL + "token-1", body=content, content_type="application/zip")
    payload = with_attachment(Name="big.zip", ContentLength=len(content))
    assert post(payload).status_code == 200
    (attachment,) = events[0].message.attachments
    assert attachment.get_content_bytes() == content


def test_spam_score_in_brevo_reference_shape(events: list[Any]) -> None:
    payload = fixture("inbound_basic.json")
    del payload["items"][0]["SpamScore"]
    payload["items"][0]["Spam"] = {"Score": 4.5}
    assert post(payload).status_code == 200
    assert events[0].message.spam_score == 4.5


def test_one_event_per_item(events: list[Any]) -> None:
    payload = fixture("inbound_basic.json")
    second = copy.deepcopy(payload["items"][0])
    second["Uuid"] = ["cccccccc-dddd-4eee-8fff-000000000000"]
    second["Headers"]["Subject"] = "Second"
    payload["items"].append(second)
    assert post(payload).status_code == 200
    assert [event.message.subject for event in events] == ["Question about order 1234", "Second"]
    assert [event.event_id for event in events] == [
        "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee",
        "cccccccc-dddd-4eee-8fff-000000000000",
    ]


def test_no_items(events: list[Any]) -> None:
    assert post({"items": []}).status_code == 200
    assert events == []


@pytest.mark.parametrize(
    "headers",
    [{"Bad Name": "x"}, {"X:Y": "x"}, {"": "x"}, {"Subject\r\n": "x"}, {"Received": [7]}],
)
def test_malformed_headers_are_refused(headers: dict[str, Any], events: list[Any]) -> None:
    payload = fixture("inbound_basic.json")
    payload["items"][0]["Headers"] = headers
    response = post(payload)
    assert response.status_code == 400
    assert response.content.startswith(b"Malformed Brevo webhook payload: body.items[0].Headers")
    assert events == []


# --- duplicates and limits ----------------------------------------------------------------


def test_a_duplicate_is_not_downloaded_again(
    events: list[Any], api: responses.RequestsMock
) -> None:
    add_attachments(api)
    payload = fixture("inbound_attachments.json")
    assert post(payload).status_code == 200
    assert post(payload).status_code == 200
    assert len(events) == 1
    assert len(api.calls) == 2  # the first post's two downloads only


def test_over_the_size_limit(settings: Any, events: list[Any], api: responses.RequestsMock) -> None:
    settings.ANYMAIL = {**settings.ANYMAIL, "INBOUND_MAX_SIZE": 1000}
    api.get(ATTACHMENTS_URL + "token-1", body=b"x" * 2000)
    # The declared length is not trusted: the download stops at the limit.
    response = post(with_attachment(ContentLength=10))
    assert_refused(response, events, b"INBOUND_MAX_SIZE")


def test_declared_length_over_the_limit_is_refused_before_downloading(
    settings: Any, events: list[Any], api: responses.RequestsMock
) -> None:
    settings.ANYMAIL = {**settings.ANYMAIL, "INBOUND_MAX_SIZE": 1000}
    response = post(with_attachment(ContentLength=5000))
    assert response.status_code == 400
    assert len(api.calls) == 0
    assert events == []


def test_too_many_attachments(
    settings: Any, events: list[Any], api: responses.RequestsMock
) -> None:
    settings.ANYMAIL = {**settings.ANYMAIL, "INBOUND_MAX_PARTS": 10}
    payload = with_attachment()
    payload["items"][0]["Attachments"] *= 9
    response = post(payload)
    assert response.status_code == 400
    assert b"INBOUND_MAX_PARTS" in response.content
    assert len(api.calls) == 0


# --- download failures --------------------------------------------------------------------


@pytest.mark.parametrize(
    "answer",
    [
        requests.ConnectionError("connection refused to https://api.brevo.com/... token-1"),
        requests.Timeout("read timed out"),
        requests.exceptions.ChunkedEncodingError("connection broken"),
        500,
        502,
        503,
        429,
    ],
)
def test_transient_download_failure_is_503_and_the_retry_works(
    answer: Any, events: list[Any], api: responses.RequestsMock, caplog: Any
) -> None:
    if isinstance(answer, Exception):
        api.get(ATTACHMENTS_URL + "token-1", body=answer)
    else:
        api.get(ATTACHMENTS_URL + "token-1", status=answer, json={"message": "try later"})
    with caplog.at_level(logging.ERROR, logger="anymail"):
        response = post(with_attachment())
    assert response.status_code == 503
    assert response.content.startswith(
        b"Couldn't download the attachment 1 of inbound item 1 from Brevo's API"
        if isinstance(answer, Exception)
        else b"Brevo's API answered %d to the download of the attachment 1" % answer
    )
    assert events == []
    for text in (response.content.decode(), caplog.text):
        assert API_KEY not in text
        assert "token-1" not in text

    api.replace("GET", ATTACHMENTS_URL + "token-1", body=TEXT_ATTACHMENT)
    assert post(with_attachment()).status_code == 200
    assert len(events) == 1


def test_refused_api_key_is_a_configuration_error(
    events: list[Any], api: responses.RequestsMock
) -> None:
    api.get(ATTACHMENTS_URL + "token-1", status=401, json={"code": "unauthorized"})
    with pytest.raises(AnymailConfigurationError) as raised:
        post(with_attachment())
    assert str(raised.value) == (
        "Brevo's API refused the download of the attachment 1 of inbound item 1 (401): "
        "check that BREVO_API_KEY is your Brevo API key."
    )
    assert post(with_attachment(), client=quiet()).status_code == 500  # Brevo retries
    assert events == []


def test_other_api_error_quotes_brevo(events: list[Any], api: responses.RequestsMock) -> None:
    api.get(
        ATTACHMENTS_URL + "token-1",
        status=404,
        json={"code": "document_not_found", "message": "Attachment not found"},
    )
    with pytest.raises(AnymailAPIError) as raised:
        post(with_attachment())
    text = str(raised.value)
    assert text.startswith(
        "Brevo's API answered 404 to the download of the attachment 1 of inbound item 1."
    )
    assert "Attachment not found" in text
    assert API_KEY not in text and API_KEY not in repr(raised.value.args)
    assert events == []


def test_missing_api_key(settings: Any, events: list[Any], api: responses.RequestsMock) -> None:
    settings.ANYMAIL = {"WEBHOOK_SECRET": SECRET}
    assert post(fixture("inbound_basic.json")).status_code == 200  # no attachment: no key needed
    with pytest.raises(AnymailImproperlyConfigured) as raised:
        post(with_attachment())
    assert str(raised.value) == (
        "Missing Anymail setting BREVO_API_KEY: Brevo's inbound webhook needs your Brevo v3 API "
        "key to download attachments. Set it in your settings.py as "
        'ANYMAIL = {"BREVO_API_KEY": ...}, ANYMAIL_BREVO_API_KEY or BREVO_API_KEY.'
    )
    assert len(api.calls) == 0


def test_bare_api_key_setting(
    settings: Any, events: list[Any], api: responses.RequestsMock
) -> None:
    settings.ANYMAIL = {"WEBHOOK_SECRET": SECRET}
    settings.BREVO_API_KEY = "xkeysib-bare"
    api.get(ATTACHMENTS_URL + "token-1", body=b"x")
    assert post(with_attachment()).status_code == 200
    assert api.calls[0].request.headers["api-key"] == "xkeysib-bare"


def test_invalid_api_key_is_never_shown(settings: Any, api: responses.RequestsMock) -> None:
    settings.ANYMAIL = {**settings.ANYMAIL, "BREVO_API_KEY": "xkeysib-secret\nvalue"}
    with pytest.raises(AnymailImproperlyConfigured) as raised:
        post(with_attachment())
    assert "BREVO_API_KEY" in str(raised.value)
    assert "secret" not in str(raised.value)
    assert len(api.calls) == 0


def test_api_key_is_not_sent_to_another_host_on_redirect(
    events: list[Any], api: responses.RequestsMock
) -> None:
    api.get(
        ATTACHMENTS_URL + "token-1",
        status=302,
        headers={"Location": "https://storage.example.net/file?signature=abc"},
    )
    api.get("https://storage.example.net/file", body=b"stored")
    assert post(with_attachment()).status_code == 200
    assert api.calls[0].request.headers["api-key"] == API_KEY
    assert "api-key" not in api.calls[1].request.headers
    assert events[0].message.attachments[0].get_content_bytes() == b"stored"


# --- misrouting ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "payload",
    [
        fixture("tracking_delivered.json"),
        fixture("tracking_batched.json"),
        {"event": "delivered"},
    ],
)
def test_tracking_post_at_the_inbound_url_is_a_configuration_error(
    payload: Any, events: list[Any]
) -> None:
    with pytest.raises(AnymailConfigurationError) as raised:
        post(payload)
    assert str(raised.value) == (
        "You seem to have set Brevo's *tracking* webhook URL to Anymail's Brevo *inbound* "
        "webhook URL. Point it at Anymail's /anymail/brevo/tracking/ URL instead."
    )
    assert post(payload, client=quiet()).status_code == 500
    assert events == []


@pytest.mark.parametrize("payload", [{}, [], [{"items": []}], {"Items": []}])
def test_other_bodies_are_malformed(payload: Any, events: list[Any]) -> None:
    assert post(payload).status_code == 400
    assert events == []


# --- the deprecated SendinBlue route ------------------------------------------------------


@pytest.fixture
def legacy() -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", AnymailDeprecationWarning)
        yield


def test_sendinblue_route_warns_and_dispatches_as_sendinblue(api: responses.RequestsMock) -> None:
    payload = fixture("inbound_basic.json")
    call = sendinblue_call("inbound", payload, inbound, SendinBlueInboundWebhookView)
    assert call["event"].message.subject == "Question about order 1234"


def test_sendinblue_reads_its_own_api_settings(
    settings: Any, legacy: None, events: list[Any], api: responses.RequestsMock
) -> None:
    settings.ANYMAIL = {
        "WEBHOOK_SECRET": SECRET,
        "SENDINBLUE_API_KEY": "xkeysib-old",
        "SENDINBLUE_API_URL": "https://api.sendinblue.com/v3/",
        "BREVO_API_KEY": "xkeysib-new",
    }
    api.get("https://api.sendinblue.com/v3/inbound/attachments/token-1", body=b"x")
    assert post(with_attachment(), url=LEGACY_URL).status_code == 200
    assert api.calls[0].request.headers["api-key"] == "xkeysib-old"


def test_sendinblue_falls_back_to_brevo_api_settings(
    settings: Any, legacy: None, events: list[Any], api: responses.RequestsMock
) -> None:
    # Renaming the settings before changing the URL at Brevo doesn't break inbound mail.
    api.get(ATTACHMENTS_URL + "token-1", body=b"x")
    assert post(with_attachment(), url=LEGACY_URL).status_code == 200
    assert api.calls[0].request.headers["api-key"] == API_KEY


def test_sendinblue_misrouting_names_the_legacy_url(legacy: None) -> None:
    with pytest.raises(AnymailConfigurationError, match=r"Anymail's SendinBlue \*inbound\*"):
        post(fixture("tracking_delivered.json"), url=LEGACY_URL)


def test_non_ascii_headers(events: list[Any]) -> None:
    payload = fixture("inbound_basic.json")
    headers = payload["items"][0]["Headers"]
    headers["From"] = "Jörg Müller <jorg@example.de>"
    headers["Subject"] = "Grüße, order №1234"
    headers["To"] = "=?utf-8?q?Support_=C3=A9quipe?= <support@inbound.example.com>"
    assert post(payload).status_code == 200
    message = events[0].message
    assert message.from_email.display_name == "Jörg Müller"
    assert message.from_email.addr_spec == "jorg@example.de"
    assert message.subject == "Grüße, order №1234"
    assert message.to[0].display_name == "Support équipe"
    assert message.as_bytes()  # serializable
