"""Resend inbound webhook: email.received, the mail fetched through Resend's API."""

from __future__ import annotations

import base64
import copy
import json
import logging
from datetime import UTC, datetime
from typing import Any

import pytest
import requests
import responses
from django.test import Client, RequestFactory
from django.views.debug import ExceptionReporter

from anymail._testing_resend import resend_webhook_request
from anymail.exceptions import AnymailConfigurationError, AnymailImproperlyConfigured
from anymail.signals import AnymailInboundEvent, inbound
from anymail.testing import WebhookRequest, captured_events
from anymail.webhooks.resend import ResendInboundWebhookView
from tests.utils import FIXTURES_DIR
from tests.webhooks.contract.fuzz import mutations

from .resend_support import (
    API_KEY,
    ATTACHMENTS_URL,
    EMAIL_ID,
    INBOUND_SECRET,
    RAW_MESSAGE,
    RAW_URL,
    RETRIEVE_URL,
    SETTINGS,
    SIGNING_SECRET,
    fixture,
    received_email,
    receiving_api,
)
from .support import assert_refused

URL = "resend_inbound_webhook"
NOTES = b"Notes about 1234\n"  # the 17 bytes of notes.txt
NOTES_URL = fixture("inbound_list_attachments.json")["data"][0]["download_url"]


@pytest.fixture(autouse=True)
def resend_settings(settings: Any) -> None:
    settings.ANYMAIL = dict(SETTINGS)


@pytest.fixture
def events() -> Any:
    with captured_events(inbound) as received:
        yield received


@pytest.fixture
def api() -> Any:
    """Resend's API, nothing registered: each test says what it answers."""
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


def post(payload: Any = None, client: Client | None = None, **options: Any) -> Any:
    if payload is None:
        payload = fixture("inbound_email_received.json")
    request = resend_webhook_request(payload, **options)
    return request.post(client or Client(), URL)


def quiet_client() -> Client:
    return Client(raise_request_exception=False)


# --- the message, from the raw download ---------------------------------------------------------


def test_received_email_is_fetched_and_parsed_from_its_raw_message(events: list[Any]) -> None:
    payload = fixture("inbound_email_received.json")
    with receiving_api() as api:
        response = post(payload, svix_id="msg_2FakeSvixIdInbound0001")
        calls = list(api.calls)
    assert response.status_code == 200, response.content
    # The API with the key, then the signed download URL without it.
    assert [call.request.url for call in calls] == [RETRIEVE_URL, RAW_URL]
    fetch, download = (call.request for call in calls)
    assert fetch.method == download.method == "GET"
    assert fetch.headers["Authorization"] == f"Bearer {API_KEY}"
    assert fetch.headers["Accept"] == "application/json"
    assert fetch.headers["User-Agent"].startswith("django-anymail/")
    assert "Authorization" not in download.headers

    assert len(events) == 1
    event = events[0]
    assert isinstance(event, AnymailInboundEvent)
    assert event.event_type == "inbound"
    assert event.event_id == "msg_2FakeSvixIdInbound0001"
    assert event.timestamp == datetime(2026, 3, 4, 5, 6, 10, 126000, tzinfo=UTC)
    assert event.esp_event == payload
    message = event.message
    assert str(message.from_email) == "Sender Name <sender@example.net>"
    assert [str(address) for address in message.to] == ["support@inbound.example.com"]
    assert message.subject == "Question about order 1234"
    assert message.date == datetime.fromisoformat("2026-03-04T06:06:08+01:00")
    assert message["Message-ID"] == "<CAF1234567890@mail.example.net>"
    assert message.text == "Where is my order? Merci, Zoë"
    assert message.html == "<p>Where is my order? Merci, Zoë</p>"
    assert message.as_bytes() == RAW_MESSAGE.replace(b"\r\n", b"\n")
    assert message.envelope_sender == "sender@example.net"  # its Return-Path
    assert message.envelope_recipient == "support@inbound.example.com"  # received_for
    assert message.spam_detected is None and message.spam_score is None


@pytest.mark.parametrize(
    ("received_for", "envelope_recipient"),
    [([], None), (["a@inbound.example.com", "b@inbound.example.com"], None)],
)
def test_envelope_recipient_only_when_unambiguous(
    received_for: list[str], envelope_recipient: str | None, events: list[Any]
) -> None:
    payload = fixture("inbound_email_received.json")
    payload["data"]["received_for"] = received_for
    with receiving_api():
        assert post(payload).status_code == 200
    assert events[0].message.envelope_recipient == envelope_recipient


def test_bounce_return_path_is_no_envelope_sender(api: Any, events: list[Any]) -> None:
    api.get(RETRIEVE_URL, json=received_email())
    api.get(RAW_URL, body=RAW_MESSAGE.replace(b"<sender@example.net>", b"<>", 1))
    assert post().status_code == 200
    assert events[0].message.envelope_sender is None


# --- the message, built from its fields (no raw message) ---------------------------------------


def test_without_raw_the_message_is_built_from_the_api_fields(api: Any, events: list[Any]) -> None:
    api.get(RETRIEVE_URL, json=received_email(raw=None))
    api.get(ATTACHMENTS_URL, json=fixture("inbound_list_attachments.json"))
    api.get(NOTES_URL, body=NOTES, content_type="text/plain")
    assert post().status_code == 200
    assert [call.request.url for call in api.calls] == [RETRIEVE_URL, ATTACHMENTS_URL, NOTES_URL]
    assert api.calls[1].request.headers["Authorization"] == f"Bearer {API_KEY}"
    assert "Authorization" not in api.calls[2].request.headers

    message = events[0].message
    assert str(message.from_email) == "Sender Name <sender@example.net>"
    assert [str(address) for address in message.to] == ["support@inbound.example.com"]
    assert message.cc == []
    assert message.subject == "Question about order 1234"
    assert message.date == datetime.fromisoformat("2026-03-04T06:06:08+01:00")
    assert message.text == "Where is my order? Merci, Zoë"
    assert message.html == "<p>Where is my order? Merci, Zoë</p>"
    assert message.envelope_sender == "sender@example.net"
    [attachment] = message.attachments
    assert attachment.get_filename() == "notes.txt"
    assert attachment.get_content_type() == "text/plain"
    assert attachment.get_content_bytes() == NOTES
    assert message.inlines == []


def test_without_raw_inline_images_and_attachment_pages(api: Any, events: list[Any]) -> None:
    png = base64.b64decode(
        "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8/5+hHgAHggJ/PchI7wAAAABJRU5ErkJggg=="
    )
    listed = {"id": "att-1", "filename": "logo.png", "content_type": "image/png"}
    api.get(RETRIEVE_URL, json=received_email(raw=None, attachments=[listed, {"id": "att-2"}]))
    first_page = {
        "object": "list",
        "has_more": True,
        "data": [
            {
                **listed,
                "size": len(png),
                "content_id": "logo@example.net",
                "content_disposition": "inline",
                "download_url": "https://inbound-cdn.resend.com/x/att-1?signature=s1",
            }
        ],
    }
    second_page = {
        "object": "list",
        "has_more": False,
        "data": [
            {
                "id": "att-2",
                "filename": "Übersicht.pdf",
                "size": 4,
                "content_type": "application/pdf",
                "content_id": "not-inline@example.net",
                "content_disposition": "attachment",
                "download_url": "https://inbound-cdn.resend.com/x/att-2?signature=s2",
            }
        ],
    }
    api.get(ATTACHMENTS_URL, json=first_page, match=[responses.matchers.query_param_matcher({})])
    api.get(
        ATTACHMENTS_URL,
        json=second_page,
        match=[responses.matchers.query_param_matcher({"after": "att-1"})],
    )
    api.get("https://inbound-cdn.resend.com/x/att-1?signature=s1", body=png)
    api.get("https://inbound-cdn.resend.com/x/att-2?signature=s2", body=b"%PDF")
    assert post().status_code == 200, [call.request.url for call in api.calls]
    message = events[0].message
    [logo] = message.inlines
    assert logo.get_content_bytes() == png
    assert message.content_id_map == {"logo@example.net": logo}
    [pdf] = message.attachments
    assert (pdf.get_filename(), pdf.get_content_bytes()) == ("Übersicht.pdf", b"%PDF")


def test_without_raw_or_attachments_there_is_no_list_call(api: Any, events: list[Any]) -> None:
    api.get(
        RETRIEVE_URL, json=received_email(raw=None, attachments=[], html=None, cc=["c@x.example"])
    )
    assert post().status_code == 200
    assert len(api.calls) == 1
    assert events[0].message.html is None
    assert [address.addr_spec for address in events[0].message.cc] == ["c@x.example"]


# --- failures: which ones Resend retries ------------------------------------------------------

TRANSIENT_ANSWERS = {
    "connection-error": {"body": requests.ConnectionError("connection refused")},
    "timeout": {"body": requests.Timeout("read timed out")},
    "500": {
        "status": 500,
        "json": {"statusCode": 500, "name": "application_error", "message": "Oops"},
    },
    "502-html": {"status": 502, "body": "<html>Bad gateway</html>"},
    "429": {
        "status": 429,
        "json": {"statusCode": 429, "name": "rate_limit_exceeded", "message": "Too many requests"},
        "headers": {"retry-after": "1"},
    },
    "408": {"status": 408, "body": ""},
    "404": {
        "status": 404,
        "json": {"statusCode": 404, "name": "not_found", "message": "Email not found"},
    },
    "not-json": {"status": 200, "body": "<html>captive portal</html>"},
    "json-list": {"status": 200, "json": [received_email()]},
    "raw-of-wrong-type": {"status": 200, "json": received_email(raw="https://x.example/raw")},
    "raw-without-url": {"status": 200, "json": received_email(raw={"expires_at": "soon"})},
    "raw-url-not-https": {
        "status": 200,
        "json": received_email(
            raw={"download_url": "http://inbound-cdn.resend.com/raw?signature=s"}
        ),
    },
}


@pytest.mark.parametrize("answer", list(TRANSIENT_ANSWERS))
def test_transient_api_failure_is_503_and_the_retry_delivers(
    answer: str, api: Any, events: list[Any]
) -> None:
    api.get(RETRIEVE_URL, **TRANSIENT_ANSWERS[answer])
    request = resend_webhook_request(fixture("inbound_email_received.json"))
    response = request.post(Client(), URL)
    assert response.status_code == 503, response.content
    assert events == []
    if answer == "404":
        assert b"another Resend team" in response.content
    # Resend posts again (same svix-id): the mail was not marked as handled.
    api.replace(responses.GET, RETRIEVE_URL, json=received_email())
    api.get(RAW_URL, body=RAW_MESSAGE)
    assert request.post(Client(), URL).status_code == 200
    assert len(events) == 1


@pytest.mark.parametrize(
    "download",
    [
        {"status": 403, "body": "<Error>Request has expired</Error>"},
        {"status": 404, "body": ""},
        {"status": 500, "body": ""},
        {"body": requests.ConnectionError("reset")},
        {"body": requests.exceptions.ChunkedEncodingError("broken")},
    ],
)
def test_failed_raw_download_is_503_without_the_signed_query(
    download: dict[str, Any], api: Any, events: list[Any], caplog: Any
) -> None:
    api.get(RETRIEVE_URL, json=received_email())
    api.get(RAW_URL, **download)
    response = post()
    assert response.status_code == 503
    assert events == []
    logged = caplog.text + response.content.decode()
    assert "fake-signature" not in logged
    assert API_KEY not in logged


@pytest.mark.parametrize(
    ("status", "name", "hint"),
    [
        (401, "restricted_api_key", "full-access API key"),
        (401, "missing_api_key", "full-access API key"),
        (403, "invalid_api_key", "full-access API key"),
        (422, "validation_error", "RESEND_API_URL"),
        (405, "method_not_allowed", "RESEND_API_URL"),
    ],
)
def test_refused_key_or_bad_request_is_a_configuration_error(
    status: int, name: str, hint: str, api: Any, events: list[Any]
) -> None:
    # Not a 400 (which would look like a forged post), not a 503 (it won't pass by
    # itself): a configuration error, answered 500 and logged with its traceback.
    # Resend still posts again, so the mail arrives once the setting is fixed.
    # (An answer that quotes the key.)
    message = {"message": f"API key {API_KEY} is not allowed"}
    api.get(RETRIEVE_URL, status=status, json={"statusCode": status, "name": name, **message})
    del message  # (this test's own variables are in the report too)
    with pytest.raises(AnymailImproperlyConfigured, match=hint) as info:
        post()
    error = info.value
    assert f"HTTP {status}" in str(error) and name in str(error) and EMAIL_ID in str(error)
    assert API_KEY not in str(error) and API_KEY not in repr(error.args)
    assert error.__cause__ is None and error.__context__ is None
    # Django's error report (logged, mailed to ADMINS) shows every frame's variables.
    report = ExceptionReporter(None, type(error), error, error.__traceback__).get_traceback_html()
    assert API_KEY not in report
    assert events == []
    assert post(client=quiet_client()).status_code == 500


def test_transient_errors_keep_the_key_out_of_the_logs_and_chain(
    api: Any, caplog: Any, events: list[Any]
) -> None:
    api.get(RETRIEVE_URL, body=requests.ConnectionError("refused"))
    with caplog.at_level(logging.DEBUG):
        response = post()
    assert response.status_code == 503
    assert b"ConnectionError" in response.content
    assert API_KEY not in caplog.text


def test_message_over_the_size_limit_is_400(settings: Any, api: Any, events: list[Any]) -> None:
    settings.ANYMAIL = {**SETTINGS, "INBOUND_MAX_SIZE": len(RAW_MESSAGE) - 1}
    api.get(RETRIEVE_URL, json=received_email())
    api.get(RAW_URL, body=RAW_MESSAGE)
    response = post()
    assert_refused(response, events, b"INBOUND_MAX_SIZE")


# --- what is checked before the API is called ----------------------------------------------------


@pytest.mark.parametrize(
    "email_id", ["../../api-keys", "8136d3fb/attachments", "a?b", "id with space", "", "é" * 3]
)
def test_email_id_that_could_change_the_api_path_is_refused(
    email_id: str, api: Any, events: list[Any]
) -> None:
    payload = fixture("inbound_email_received.json")
    payload["data"]["email_id"] = email_id
    assert post(payload).status_code == 400
    assert len(api.calls) == 0  # nothing fetched


def test_tracking_event_at_the_inbound_url_is_a_configuration_error(
    api: Any, events: list[Any]
) -> None:
    with pytest.raises(AnymailConfigurationError, match="/anymail/resend/tracking/"):
        post(fixture("tracking_email_delivered.json"), inbound=True)
    assert len(api.calls) == 0


def test_a_type_that_is_no_resend_event_is_malformed(api: Any, events: list[Any]) -> None:
    payload = {**fixture("inbound_email_received.json"), "type": "Received Email!"}
    assert post(payload).status_code == 400
    assert len(api.calls) == 0


def test_tracking_secret_does_not_sign_inbound_posts(api: Any, events: list[Any]) -> None:
    response = post(signing_secret=SIGNING_SECRET)
    assert response.status_code == 400
    assert b"RESEND_INBOUND_SECRET" in response.content
    assert len(api.calls) == 0


def test_inbound_secret_rotation(settings: Any, events: list[Any]) -> None:
    settings.ANYMAIL = {**SETTINGS, "RESEND_INBOUND_SECRET": [INBOUND_SECRET, SIGNING_SECRET]}
    with receiving_api():
        assert post(signing_secret=SIGNING_SECRET).status_code == 200
        assert post(signing_secret=INBOUND_SECRET).status_code == 200
    assert len(events) == 2


def test_known_answer_vector(monkeypatch: pytest.MonkeyPatch, events: list[Any]) -> None:
    vector = fixture("signatures.json")["vectors"][1]
    settings_secret = fixture("signatures.json")["signing_secret"]
    monkeypatch.setattr(
        ResendInboundWebhookView, "now", lambda self: datetime.fromtimestamp(1772600771, UTC)
    )
    view = ResendInboundWebhookView.as_view(inbound_secret=settings_secret)
    body = (FIXTURES_DIR / "resend" / vector["file"]).read_bytes()
    headers = {name: vector[name] for name in ("svix-id", "svix-timestamp", "svix-signature")}
    request = WebhookRequest(body, headers=headers).post(
        RequestFactory(), "/anymail/resend/inbound/"
    )
    with receiving_api():
        assert view(request).status_code == 200
    assert events[0].event_id == "msg_2FakeSvixId0000000000002"


# --- duplicates -------------------------------------------------------------------------------


def test_a_retry_of_a_dispatched_mail_is_not_fetched_again(events: list[Any]) -> None:
    request = resend_webhook_request(fixture("inbound_email_received.json"))
    with receiving_api() as api:
        assert request.post(Client(), URL).status_code == 200
        assert request.post(Client(), URL).status_code == 200
        # Svix's retry: same svix-id, signed afresh.
        retry = resend_webhook_request(
            fixture("inbound_email_received.json"), svix_id=request.headers["svix-id"]
        )
        assert retry.post(Client(), URL).status_code == 200
        assert len(api.calls) == 2  # one fetch, one download
    assert len(events) == 1


def test_receiver_error_is_500_and_the_retry_fetches_again() -> None:
    calls: list[Any] = []

    def failing(sender: Any, event: Any, **kwargs: Any) -> None:
        calls.append(event)
        raise RuntimeError("database down")

    request = resend_webhook_request(fixture("inbound_email_received.json"))
    inbound.connect(failing, weak=False)
    try:
        with receiving_api() as api:
            assert request.post(Client(), URL).status_code == 500
            assert request.post(Client(), URL).status_code == 500
            fetched = len(api.calls)
    finally:
        inbound.disconnect(failing)
    assert len(calls) == 2 and fetched == 4


# --- settings -------------------------------------------------------------------------------


def test_api_key_is_required(settings: Any, events: list[Any]) -> None:
    settings.ANYMAIL = {"RESEND_INBOUND_SECRET": INBOUND_SECRET}
    with pytest.raises(AnymailImproperlyConfigured, match="RESEND_API_KEY"):
        post()


def test_api_key_may_be_a_bare_setting_and_api_url_is_a_setting(
    settings: Any, api: Any, events: list[Any]
) -> None:
    settings.ANYMAIL = {
        "RESEND_INBOUND_SECRET": INBOUND_SECRET,
        "RESEND_API_URL": "https://proxy.example.com/resend",  # "/" added
    }
    settings.RESEND_API_KEY = "re_BareKey_12345678"
    api.get(f"https://proxy.example.com/resend/emails/receiving/{EMAIL_ID}", json=received_email())
    api.get(RAW_URL, body=RAW_MESSAGE)
    assert post().status_code == 200
    assert api.calls[0].request.headers["Authorization"] == "Bearer re_BareKey_12345678"


def test_view_arguments_override_the_settings(api: Any, events: list[Any]) -> None:
    view = ResendInboundWebhookView.as_view(
        api_key="re_ViewKey_12345678",
        api_url="https://eu.example.com/",
        inbound_secret=SIGNING_SECRET,
    )
    api.get(f"https://eu.example.com/emails/receiving/{EMAIL_ID}", json=received_email())
    api.get(RAW_URL, body=RAW_MESSAGE)
    request = resend_webhook_request(
        fixture("inbound_email_received.json"), signing_secret=SIGNING_SECRET
    )
    assert view(request.post(RequestFactory(), "/anymail/resend/inbound/")).status_code == 200
    assert api.calls[0].request.headers["Authorization"] == "Bearer re_ViewKey_12345678"


# --- hostile input: the post, and Resend's answers ----------------------------------------


def _fuzz_params() -> list[Any]:
    params = []
    for name in (
        "inbound_email_received.json",
        "inbound_retrieve_received_email.json",
        "inbound_list_attachments.json",
    ):
        params += [
            pytest.param(name, mutation, id=f"{name}-{mutation.id}")
            for mutation in mutations(fixture(name))
        ]
    return params


def post_with_answers(name: str, variant: Any, api: Any) -> Any:
    """Post the inbound fixture, with ``variant`` in place of the fixture ``name``
    (the post itself, or one of Resend's answers)."""
    payload = fixture("inbound_email_received.json")
    email: Any = received_email()
    listing: Any = fixture("inbound_list_attachments.json")
    if name == "inbound_email_received.json":
        payload = copy.deepcopy(variant)
    elif name == "inbound_retrieve_received_email.json":
        email = variant
    else:
        email = received_email(raw=None)  # so that the attachment list is used
        listing = variant
    for url, answer in ((RETRIEVE_URL, email), (ATTACHMENTS_URL, listing)):
        body = answer if isinstance(answer, bytes) else json.dumps(answer)
        api.get(url, body=body, content_type="application/json")
    api.get(RAW_URL, body=RAW_MESSAGE)
    api.get(NOTES_URL, body=NOTES)
    return post(payload, inbound=True)  # Client() raises what the view lets out


@pytest.mark.parametrize(
    "name",
    [
        "inbound_email_received.json",
        "inbound_retrieve_received_email.json",
        "inbound_list_attachments.json",
    ],
)
def test_unmutated_fuzz_inputs_deliver(name: str, api: Any, events: list[Any]) -> None:
    # (So that a fuzz case answered 503 is Resend's mutated answer, not a missing mock.)
    assert post_with_answers(name, fixture(name), api).status_code == 200
    assert len(events) == 1


@pytest.mark.parametrize(("name", "mutation"), _fuzz_params())
def test_hostile_input_is_refused_or_accepted_never_an_error(
    name: str, mutation: Any, api: Any, events: list[Any]
) -> None:
    response = post_with_answers(name, mutation.payload, api)
    if name == "inbound_email_received.json":
        # The post itself: refused (before any API call) or accepted.
        assert response.status_code in ((400,) if mutation.strict else (200, 400)), response.content
        if response.status_code == 400:
            assert len(api.calls) == 0
    else:
        # Resend's answer: the mail arrives, or Resend is asked to post again.
        assert response.status_code in (200, 503), response.content
    if response.status_code != 200:
        assert events == []
        reason = response.content.decode()
        assert "\n" not in reason and len(reason) <= 300 and "xxxxxxxxxx" not in reason


def test_inbound_posts_have_the_tracking_size_limit(api: Any, events: list[Any]) -> None:
    # The post only announces the mail (which is fetched): 10 MB is plenty.
    body = b'{"type": "email.received", "pad": "' + b"x" * (10 * 1024 * 1024) + b'"}'
    response = resend_webhook_request(body, inbound=True).post(Client(), URL)
    assert response.status_code == 400
    assert b"WEBHOOK_MAX_BODY_SIZE" in response.content
    assert len(api.calls) == 0
