"""HTTP backends (anymail.backends.base_requests), through a tiny in-test ESP.

Requests are intercepted at the wire by ``responses``.
"""

from __future__ import annotations

import io
import json
import logging
import pickle
import sys
from decimal import Decimal
from typing import Any

import pytest
import requests
import responses
from django.core.mail import EmailMessage

from anymail import __version__
from anymail.backends.base import BasePayload, Capabilities
from anymail.conf import get_anymail_setting
from anymail.exceptions import (
    AnymailAPIError,
    AnymailImproperlyConfigured,
    AnymailRequestsAPIError,
    AnymailSerializationError,
    requests_api_error_class,
)
from anymail.message import AnymailMessage

from .tiny_esp import TinyJsonBackend, TinyJsonPayload
from .utils import make_message, request_json

API_KEY = "tiny-secret-api-key-1234"
SEND_URL = "https://api.tiny.example/v1/messages/send"


class TinyPayload(TinyJsonPayload):
    capabilities = Capabilities()

    def __init__(self, message: EmailMessage, defaults: Any, backend: TinyBackend) -> None:
        super().__init__(
            message,
            defaults,
            backend,
            headers={"Content-Type": "application/json", "X-Tiny-Api-Key": backend.api_key},
        )

    def init_payload(self) -> None:
        self.data = {"auth": {"api_key": self.backend.api_key}}

    def get_api_endpoint(self) -> str:
        return "messages/send"

    def set_metadata(self, metadata: dict[str, Any]) -> None:
        self.data["metadata"] = metadata


class TinyBackend(TinyJsonBackend):
    esp_name = "Tiny Mail"
    default_api_url = "https://api.tiny.example/v1/"
    payload_class = TinyPayload

    def __init__(self, **kwargs: Any) -> None:
        self.api_key = get_anymail_setting(
            "api_key", esp_name=self.esp_name, kwargs=kwargs, allow_bare=True
        )
        super().__init__(**kwargs)


@pytest.fixture(autouse=True)
def tiny_settings(settings: Any) -> Any:
    settings.ANYMAIL = {"TINY_MAIL_API_KEY": API_KEY}
    return settings


def message(**kwargs: Any) -> AnymailMessage:
    """make_message(), with this module's short texts and a named sender."""
    defaults = {"subject": "Subject", "body": "Body", "from_email": "From <from@example.com>"}
    return make_message(**{**defaults, **kwargs})


def ok(mock: responses.RequestsMock, message_id: str = "msg-1") -> None:
    mock.add(responses.POST, SEND_URL, json={"id": message_id}, status=200)


# --- the request ------------------------------------------------------------------------


def test_request_at_the_wire(mocked_responses: responses.RequestsMock) -> None:
    ok(mocked_responses)
    msg = message(metadata={"order": "ü-1"})
    assert TinyBackend().send_messages([msg]) == 1
    (call,) = mocked_responses.calls
    assert call.request.method == "POST"
    assert call.request.url == SEND_URL
    assert request_json(call) == {
        "auth": {"api_key": API_KEY},
        "from": "From <from@example.com>",
        "to": ["to@example.com"],
        "subject": "Subject",
        "text": "Body",
        "metadata": {"order": "ü-1"},
    }
    assert isinstance(call.request.body, bytes)
    assert "ü-1".encode() in call.request.body  # UTF-8, not \u escapes or Latin-1
    assert call.request.headers["X-Tiny-Api-Key"] == API_KEY
    assert call.request.headers["User-Agent"] == (
        f"django-anymail/{__version__}-tiny-mail python-requests/{requests.__version__}"
    )
    assert msg.anymail_status.status == {"queued"}
    assert msg.anymail_status.message_id == "msg-1"
    assert msg.anymail_status.esp_response.json() == {"id": "msg-1"}


def test_api_url_setting_precedence(
    settings: Any, mocked_responses: responses.RequestsMock
) -> None:
    assert TinyBackend().api_url == "https://api.tiny.example/v1/"
    settings.ANYMAIL = {
        "TINY_MAIL_API_KEY": API_KEY,
        "TINY_MAIL_API_URL": "https://eu.tiny.example/v2",
    }
    backend = TinyBackend()
    assert backend.api_url == "https://eu.tiny.example/v2"
    mocked_responses.add(
        responses.POST, "https://eu.tiny.example/v2/messages/send", json={"id": "x"}
    )
    assert backend.send_messages([message()]) == 1  # joined with a "/"
    assert TinyBackend(api_url="https://kw.tiny.example/").api_url == "https://kw.tiny.example/"


def test_bare_api_key_setting(settings: Any) -> None:
    settings.ANYMAIL = {}
    settings.TINY_MAIL_API_KEY = "bare-key"
    assert TinyBackend().api_key == "bare-key"
    assert TinyBackend(api_key="kwarg-key").api_key == "kwarg-key"


def test_missing_api_key_error_does_not_leak_other_settings(settings: Any) -> None:
    settings.ANYMAIL = {"WEBHOOK_SECRET": "abcd:efgh"}
    with pytest.raises(AnymailImproperlyConfigured) as excinfo:
        TinyBackend()
    assert str(excinfo.value).startswith("Missing required Anymail setting TINY_MAIL_API_KEY.")
    assert "abcd" not in str(excinfo.value)


def test_esp_extra_is_deep_merged_into_the_request(
    mocked_responses: responses.RequestsMock,
) -> None:
    ok(mocked_responses)
    TinyBackend().send_messages([message(esp_extra={"auth": {"subaccount": "s1"}, "x": 1})])
    assert request_json(mocked_responses.calls[0]) == {
        "auth": {"api_key": API_KEY, "subaccount": "s1"},
        "x": 1,
        "from": "From <from@example.com>",
        "to": ["to@example.com"],
        "subject": "Subject",
        "text": "Body",
    }


def test_serialization_error_before_any_request(mocked_responses: responses.RequestsMock) -> None:
    ok(mocked_responses)
    with pytest.raises(AnymailSerializationError, match=r"Decimal data\['metadata'\]\['total'\]"):
        TinyBackend().send_messages([message(metadata={"total": Decimal("1.00")})])
    assert len(mocked_responses.calls) == 0


# --- session and timeouts ------------------------------------------------------------------


def test_one_session_per_send_messages_call(
    mocked_responses: responses.RequestsMock, monkeypatch: pytest.MonkeyPatch
) -> None:
    ok(mocked_responses)
    sessions: list[requests.Session] = []
    closed: list[requests.Session] = []
    original_init, original_close = requests.Session.__init__, requests.Session.close

    def tracking_init(self: requests.Session) -> None:
        original_init(self)
        sessions.append(self)

    def tracking_close(self: requests.Session) -> None:
        closed.append(self)
        original_close(self)

    monkeypatch.setattr(requests.Session, "__init__", tracking_init)
    monkeypatch.setattr(requests.Session, "close", tracking_close)
    backend = TinyBackend(send_concurrency=1)
    assert backend.send_messages([message(), message(), message()]) == 3
    assert len(sessions) == 1
    assert closed == sessions
    assert backend.session is None
    assert len(mocked_responses.calls) == 3


def test_connection_context_keeps_the_session_open(
    mocked_responses: responses.RequestsMock,
) -> None:
    ok(mocked_responses)
    backend = TinyBackend()
    with backend as connection:
        session = connection.session
        assert session is not None
        connection.send_messages([message()])
        connection.send_messages([message()])
        assert connection.session is session
        assert backend.open() is False  # already open
    assert backend.session is None


def test_post_to_esp_outside_send_messages(mocked_responses: responses.RequestsMock) -> None:
    ok(mocked_responses)
    backend = TinyBackend()
    msg = message()
    payload = backend.build_message_payload(msg, backend.send_defaults)
    response = backend.post_to_esp(payload, msg)
    assert response.json() == {"id": "msg-1"}
    assert backend.session is None


def _timeout(mocked_responses: responses.RequestsMock, **kwargs: Any) -> Any:
    ok(mocked_responses)
    TinyBackend(**kwargs).send_messages([message()])
    return mocked_responses.calls[-1].request.req_kwargs["timeout"]


def test_default_timeout_is_30_seconds(mocked_responses: responses.RequestsMock) -> None:
    assert _timeout(mocked_responses) == 30.0


def test_timeout_settings(settings: Any, mocked_responses: responses.RequestsMock) -> None:
    settings.ANYMAIL = {"TINY_MAIL_API_KEY": API_KEY, "REQUESTS_TIMEOUT": (3.05, 27)}
    assert _timeout(mocked_responses) == (3.05, 27)
    settings.ANYMAIL = {"TINY_MAIL_API_KEY": API_KEY, "REQUESTS_TIMEOUT": None}
    assert _timeout(mocked_responses) is None
    assert _timeout(mocked_responses, requests_timeout=4) == 4.0


# --- errors --------------------------------------------------------------------------------


def test_error_response_quotes_the_esp_error(mocked_responses: responses.RequestsMock) -> None:
    mocked_responses.add(
        responses.POST, SEND_URL, json={"error": "Sender domain not verified"}, status=400
    )
    msg = message()
    with pytest.raises(AnymailRequestsAPIError) as excinfo:
        TinyBackend().send_messages([msg])
    err = excinfo.value
    assert isinstance(err, AnymailAPIError)
    assert isinstance(err, requests.RequestException)
    assert err.status_code == 400
    assert err.response.status_code == 400
    assert err.request is err.response.request
    assert err.email_message is msg
    assert err.esp_name == "Tiny Mail"
    assert str(err) == (
        "Tiny Mail API error: HTTP 400 Bad Request.\n"
        'Tiny Mail API response 400: {"error": "Sender domain not verified"}'
    )
    assert API_KEY not in str(err)
    assert msg.anymail_status.status is None
    assert msg.anymail_status.recipients == {}


def test_non_json_error_text_is_quoted(mocked_responses: responses.RequestsMock) -> None:
    mocked_responses.add(responses.POST, SEND_URL, body="  Service Unavailable  ", status=503)
    with pytest.raises(AnymailRequestsAPIError) as excinfo:
        TinyBackend().send_messages([message()])
    assert excinfo.value.status_code == 503
    assert str(excinfo.value) == (
        "Tiny Mail API error: HTTP 503 Service Unavailable.\n"
        "Tiny Mail API response 503: Service Unavailable"
    )


def test_long_error_text_is_truncated(mocked_responses: responses.RequestsMock) -> None:
    mocked_responses.add(responses.POST, SEND_URL, body="x" * 5000, status=500)
    with pytest.raises(AnymailRequestsAPIError) as excinfo:
        TinyBackend().send_messages([message()])
    assert str(excinfo.value).endswith(": " + "x" * 2000 + "… (truncated)")


def test_invalid_json_in_success_response(mocked_responses: responses.RequestsMock) -> None:
    mocked_responses.add(responses.POST, SEND_URL, body="<html>OK</html>", status=200)
    msg = message()
    with pytest.raises(AnymailRequestsAPIError) as excinfo:
        TinyBackend().send_messages([msg])
    assert str(excinfo.value) == (
        "Invalid JSON in the Tiny Mail API response.\nTiny Mail API response 200: <html>OK</html>"
    )
    # Not chained: the parser's error would carry the whole body.
    assert excinfo.value.__cause__ is None
    assert excinfo.value.__context__ is None


@pytest.mark.parametrize(
    "error",
    [
        requests.ConnectionError("Connection refused"),
        requests.exceptions.SSLError("certificate verify failed"),
        requests.exceptions.ProxyError("Cannot connect to proxy"),
        requests.exceptions.ChunkedEncodingError("Connection broken"),
        requests.exceptions.TooManyRedirects("Exceeded 30 redirects"),
        requests.exceptions.InvalidURL("Invalid URL"),
    ],
    ids=lambda error: type(error).__name__,
)
def test_transport_errors(mocked_responses: responses.RequestsMock, error: Exception) -> None:
    mocked_responses.add(responses.POST, SEND_URL, body=error)
    msg = message()
    with pytest.raises(type(error)) as excinfo:  # the spec: "except <requests' error>" still works
        TinyBackend().send_messages([msg])
    err = excinfo.value
    assert isinstance(err, AnymailRequestsAPIError)
    assert str(err) == f"Could not reach the Tiny Mail API: {type(error).__name__}: {error}"
    assert err.status_code is None
    assert err.response is None
    assert err.email_message is msg
    # Not chained: requests' error (its text and frames) can hold the request's credentials.
    assert err.__cause__ is None and err.__context__ is None
    assert msg.anymail_status.status is None
    assert TinyBackend(fail_silently=True).send_messages([message()]) == 0


@pytest.mark.parametrize(
    "error",
    [
        requests.Timeout("Read timed out"),
        requests.exceptions.ReadTimeout("Read timed out. (read timeout=30)"),
        requests.exceptions.ConnectTimeout("Connection to api.tiny.example timed out"),
    ],
    ids=lambda error: type(error).__name__,
)
def test_timeouts_warn_that_the_request_may_have_arrived(
    mocked_responses: responses.RequestsMock, error: Exception
) -> None:
    mocked_responses.add(responses.POST, SEND_URL, body=error)
    with pytest.raises(requests.exceptions.Timeout) as excinfo:
        TinyBackend().send_messages([message()])
    err = excinfo.value
    assert isinstance(err, AnymailRequestsAPIError) and isinstance(err, type(error))
    assert str(err) == (
        f"Timed out calling the Tiny Mail API: {type(error).__name__}: {error}\n"
        "The request may already have reached Tiny Mail, so a blind retry could send the "
        "message twice. To wait longer, raise the ANYMAIL REQUESTS_TIMEOUT setting "
        "(now 30 seconds)."
    )


@pytest.mark.parametrize(
    ("timeout", "described"),
    [(4, "now 4 seconds"), ((3.05, 27), "now (3.05, 27): (connect, read) seconds")],
)
def test_timeout_message_names_the_timeout_setting(
    mocked_responses: responses.RequestsMock, timeout: Any, described: str
) -> None:
    mocked_responses.add(responses.POST, SEND_URL, body=requests.Timeout("timed out"))
    with pytest.raises(AnymailRequestsAPIError) as excinfo:
        TinyBackend(requests_timeout=timeout).send_messages([message()])
    assert str(excinfo.value).endswith(f"raise the ANYMAIL REQUESTS_TIMEOUT setting ({described}).")


def test_transport_error_classes_are_made_once_and_pickle(
    mocked_responses: responses.RequestsMock,
) -> None:
    errors = []
    for _attempt in range(2):
        mocked_responses.add(
            responses.POST, SEND_URL, body=requests.exceptions.ReadTimeout("read timed out")
        )
        with pytest.raises(AnymailRequestsAPIError) as excinfo:
            TinyBackend().send_messages([message()])
        errors.append(excinfo.value)
    assert type(errors[0]) is type(errors[1])
    assert type(errors[0]) is requests_api_error_class(requests.exceptions.ReadTimeout)

    copy = pickle.loads(pickle.dumps(errors[0]))  # noqa: S301 (our own data)
    assert type(copy) is type(errors[0])
    assert isinstance(copy, requests.exceptions.ReadTimeout)
    assert str(copy) == str(errors[0])
    assert copy.args == errors[0].args
    assert copy.esp_name == "Tiny Mail"


def test_requests_errors_with_their_own_init_keep_the_plain_class() -> None:
    # requests' JSONDecodeError needs (msg, doc, pos): no combined class for it.
    assert requests_api_error_class(requests.exceptions.JSONDecodeError) is AnymailRequestsAPIError
    assert requests_api_error_class(requests.RequestException) is AnymailRequestsAPIError
    assert requests_api_error_class(ValueError) is AnymailRequestsAPIError


def test_transport_error_text_hides_credentials(mocked_responses: responses.RequestsMock) -> None:
    # requests' and urllib3's messages can quote the URL (with a key in its query).
    def failing(request: Any) -> Any:
        raise requests.ConnectionError(
            f"Max retries exceeded with url: {request.url} (headers {dict(request.headers)})"
        )

    class QueryKeyPayload(TinyPayload):
        def init_payload(self) -> None:
            super().init_payload()
            self.params = {"api_token": "query-token-5678"}

    class QueryKeyBackend(TinyBackend):
        payload_class = QueryKeyPayload

    mocked_responses.add_callback(responses.POST, SEND_URL, callback=failing)
    with pytest.raises(AnymailRequestsAPIError) as excinfo:
        QueryKeyBackend().send_messages([message()])
    err = excinfo.value
    for shown in (str(err), repr(err), repr(err.args)):
        assert API_KEY not in shown
        assert "query-token-5678" not in shown
    assert "Max retries exceeded with url: https://api.tiny.example/v1/messages/send?" in str(err)
    assert "[REDACTED]" in str(err)


def test_api_error_with_fail_silently(
    mocked_responses: responses.RequestsMock, caplog: pytest.LogCaptureFixture
) -> None:
    mocked_responses.add(responses.POST, SEND_URL, json={"error": "down"}, status=500)
    with caplog.at_level(logging.WARNING, logger="anymail"):
        assert TinyBackend(fail_silently=True).send_messages([message()]) == 0
    assert 'Tiny Mail API response 500: {"error": "down"}' in caplog.text


def test_raise_for_status_can_be_overridden(mocked_responses: responses.RequestsMock) -> None:
    class LenientBackend(TinyBackend):
        def raise_for_status(self, response: Any, payload: Any, message: Any) -> None:
            if response.status_code != 207:
                super().raise_for_status(response, payload, message)

    mocked_responses.add(responses.POST, SEND_URL, json={"id": "multi"}, status=207)
    assert LenientBackend().send_messages([message()]) == 1


# --- DEBUG_API_REQUESTS ------------------------------------------------------------------


def test_debug_api_requests_shows_request_and_response_without_secrets(
    settings: Any, mocked_responses: responses.RequestsMock, capsys: pytest.CaptureFixture[str]
) -> None:
    settings.ANYMAIL = {"TINY_MAIL_API_KEY": API_KEY, "DEBUG_API_REQUESTS": True}
    mocked_responses.add(
        responses.POST, SEND_URL, json={"id": "msg-1"}, headers={"X-Request-Id": "r-1"}
    )

    class QueryKeyPayload(TinyPayload):
        def init_payload(self) -> None:
            super().init_payload()
            self.params = {"key": API_KEY}

    class QueryKeyBackend(TinyBackend):
        def build_message_payload(self, message: EmailMessage, defaults: Any) -> BasePayload:
            return QueryKeyPayload(message, defaults, self)

    QueryKeyBackend().send_messages([message(subject="Debug me")])
    out = capsys.readouterr().out
    assert API_KEY not in out
    assert out.startswith(f"===== Anymail API request: POST {SEND_URL}\n")
    assert "X-Tiny-Api-Key: [REDACTED]\n" in out
    assert "User-Agent: django-anymail/" in out
    body = out.split("\n\n", 1)[1].split("----- Response", 1)[0]
    assert json.loads(body)["auth"] == {"api_key": "[REDACTED]"}
    assert json.loads(body)["subject"] == "Debug me"
    assert "----- Response 200 OK\n" in out
    assert "X-Request-Id: r-1\n" in out
    assert out.endswith('{\n  "id": "msg-1"\n}\n=====\n')


def test_debug_api_requests_off_by_default(
    mocked_responses: responses.RequestsMock, capsys: pytest.CaptureFixture[str]
) -> None:
    ok(mocked_responses)
    TinyBackend().send_messages([message()])
    assert capsys.readouterr().out == ""


def test_debug_api_requests_kwarg(
    mocked_responses: responses.RequestsMock, capsys: pytest.CaptureFixture[str]
) -> None:
    ok(mocked_responses)
    TinyBackend(debug_api_requests=True).send_messages([message()])
    assert "===== Anymail API request: POST" in capsys.readouterr().out


@pytest.mark.parametrize("problem", ["unencodable", "closed"])
def test_debug_api_requests_output_never_fails_a_send(
    mocked_responses: responses.RequestsMock, monkeypatch: pytest.MonkeyPatch, problem: str
) -> None:
    # The ESP accepted the message: a stdout that can't take the dump must not undo that.
    mocked_responses.add(responses.POST, SEND_URL, json={"id": "msg-\u00fc-\ud800"})
    stream = io.TextIOWrapper(io.BytesIO(), encoding="ascii", errors="strict")
    if problem == "closed":
        stream.close()
    monkeypatch.setattr(sys, "stdout", stream)
    msg = message(subject="Gr\u00fc\u00dfe")
    assert TinyBackend(debug_api_requests=True).send_messages([msg]) == 1
    assert msg.anymail_status.status == {"queued"}


def test_debug_api_requests_output_is_bounded_and_printable(
    mocked_responses: responses.RequestsMock, capsys: pytest.CaptureFixture[str]
) -> None:
    mocked_responses.add(
        responses.POST,
        SEND_URL,
        body=b'{"id": "msg-1", "note": "\\ud800", "pad": "' + b"x" * 2_000_000 + b'"}',
        content_type="application/json",
    )
    TinyBackend(debug_api_requests=True).send_messages([message()])
    out = capsys.readouterr().out
    out.encode("utf-8")
    assert len(out) < 25_000
    assert "\\ud800" in out


def test_secrets_echoed_in_error_responses_are_hidden(
    mocked_responses: responses.RequestsMock,
) -> None:
    # Some ESPs echo the refused credential back in their error body.
    mocked_responses.add(
        responses.POST,
        SEND_URL,
        status=401,
        json={"error": "InvalidServerAPIKey", "data": {"token": "sk-echoed-secret"}},
    )
    with pytest.raises(AnymailRequestsAPIError) as excinfo:
        TinyBackend().send_messages([message()])
    text = str(excinfo.value)
    assert "sk-echoed-secret" not in text
    assert '"token": "[REDACTED]"' in text
    assert "InvalidServerAPIKey" in text


def test_invalid_header_value_error_does_not_quote_the_value(
    mocked_responses: responses.RequestsMock,
) -> None:
    with pytest.raises(AnymailRequestsAPIError) as excinfo:
        TinyBackend(api_key="key-with\nnewline").send_messages([message()])
    assert "newline" not in str(excinfo.value)
    assert "header value is invalid" in str(excinfo.value)
