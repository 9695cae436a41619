"""Every HTTP backend against hostile ESP answers, and never showing a credential.

Whatever an ESP (or something pretending to be it) answers, a send either
succeeds or raises AnymailAPIError, whose text is bounded and printable. No
credential appears in anything Anymail shows: the exception's text, repr, args
and chain, log records, DEBUG_API_REQUESTS output, or Django's error reports.
"""

from __future__ import annotations

import base64
import json
import logging
import re
from collections.abc import Iterator
from typing import Any

import pytest
import requests
import responses
from django.views.debug import ExceptionReporter

from anymail.exceptions import AnymailAPIError
from anymail.message import AnymailMessage

from .registry import CASES, ContractCase
from .support import Esp, make_message

HTTP_CASES = [case for case in CASES if case.uses_requests]

#: Any POST, whatever the ESP's endpoint.
ANY_URL = re.compile(r"https?://.*")

#: Longest text an AnymailError may show (its message plus a quote of the response).
MAX_ERROR_TEXT = 4500

_WRONG_TYPES = {
    "id": ["x"],
    "message": {"text": "x"},
    "messageId": [1],
    "messageIds": "x",
    "Messages": [{"Status": "success", "To": "x", "Cc": [1, None]}, "x", None],
    "MessageID": {"a": 1},
    "ErrorCode": [],
    "Message": ["x"],
    "status": ["success"],
    "data": {"messages": {"to@example.com": {"id": ["x"]}}, "message": [], "code": {}},
    "results": {"id": [], "total_accepted_recipients": "1", "total_rejected_recipients": None},
    "emails": [{"mail_rcpt": [], "id": 1}, "x"],
    "errors": "x",
    "name": [],
    "details": "x",
    "error": {"a": [1]},
}
_PLAUSIBLE_WITH_ODD_IDS = {
    "id": ["a"],
    "message": "Queued. Thank you.",
    "messageId": ["a"],
    "ErrorCode": 0,
    "Message": "OK",
    "MessageID": ["a"],
    "status": "success",
    "data": {"messages": {"to@example.com": {"id": ["a"]}}},
    "results": {"id": ["a"], "total_accepted_recipients": 1, "total_rejected_recipients": 0},
    "emails": [{"mail_rcpt": "to@example.com", "id": ["a"], "status": "sending"}],
    "Messages": [{"Status": "success", "To": [{"Email": "to@example.com", "MessageID": ["a"]}]}],
}
_SURROGATE = "bad \ud800 value \udfff"
_SURROGATES = dict.fromkeys(
    ("message", "Message", "ErrorMessage", "error", "name", "id"), _SURROGATE
) | {
    "errors": [{"message": _SURROGATE, "description": _SURROGATE, "code": _SURROGATE}],
    "data": {"message": _SURROGATE, "code": _SURROGATE},
    "Messages": [{"Status": "error", "Errors": [{"ErrorMessage": _SURROGATE}]}],
    "status": "error",
}

#: Answers no ESP should give: each must end in success or AnymailAPIError, nothing else.
HOSTILE_BODIES: dict[str, bytes] = {
    "deeply nested array": b"[" * 100_000 + b"]" * 100_000,
    "deeply nested object": b'{"message": ' * 3000 + b'"x"' + b"}" * 3000,
    "nested past the limit": b'{"message": "x", "data": ' + b"[" * 70 + b"]" * 70 + b"}",
    "lone surrogates": json.dumps(_SURROGATES).encode(),
    "lone surrogates in a list": json.dumps([{"email": _SURROGATE, "status": "sent"}]).encode(),
    "invalid UTF-8": b'{"message": "\xff\xfe", "id": "\xc3("}',
    "HTML": b"<html><body><h1>502 Bad Gateway</h1></body></html>",
    "empty": b"",
    "wrong types": json.dumps(_WRONG_TYPES).encode(),
    "wrong types in a list": json.dumps(
        [{"email": [], "status": {}, "_id": []}, {"Status": "success"}, "x", None, 1]
    ).encode(),
    "plausible, with odd ids": json.dumps(_PLAUSIBLE_WITH_ODD_IDS).encode(),
    "plausible list, with odd ids": json.dumps(
        [{"email": "to@example.com", "status": "sent", "_id": ["a"]}]
    ).encode(),
    "scalar": b'"ok"',
    "huge": b'{"message": "' + b"x" * 3_000_000 + b'"}',
}


@pytest.fixture(params=HTTP_CASES, ids=[case.id for case in HTTP_CASES])
def http_esp(request: pytest.FixtureRequest, settings: Any) -> Iterator[Esp]:
    settings.ANYMAIL = {}
    case: ContractCase = request.param
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield Esp(case, mock)


def _send(connection: Any, message: AnymailMessage) -> AnymailAPIError | None:
    # (A frame of its own: Django's reports below show the locals of every frame
    # from here down, and the test's own locals hold the secrets.)
    try:
        connection.send_messages([message])
    except AnymailAPIError as err:
        return err
    return None


def _check_error_text(err: AnymailAPIError) -> str:
    text = str(err)
    text.encode("utf-8")  # no lone surrogates
    assert len(text) < MAX_ERROR_TEXT
    assert str(err) is text  # built once
    repr(err).encode("utf-8")
    return text


@pytest.mark.parametrize("status", [200, 400, 422, 500])
@pytest.mark.parametrize("body", list(HOSTILE_BODIES), ids=list(HOSTILE_BODIES))
def test_hostile_answers_are_anymail_api_errors(
    http_esp: Esp, capsys: pytest.CaptureFixture[str], status: int, body: str
) -> None:
    http_esp.mock.add(
        responses.POST, ANY_URL, body=HOSTILE_BODIES[body], status=status, content_type=None
    )
    message = make_message()
    err = _send(http_esp.connection(), message)
    if err is None:
        # (A 4xx can be a partial success: Mailjet's batch answers.)
        assert status < 500, "a 5xx must never count as sent"
        assert message.anymail_status.status
    else:
        _check_error_text(err)
        assert err.status_code == status
        assert message.anymail_status.status is None

    assert http_esp.connection(fail_silently=True).send_messages([make_message()]) in (0, 1)

    # DEBUG_API_REQUESTS output never makes a send fail, and can be printed.
    err = _send(http_esp.connection(debug_api_requests=True), make_message())
    if err is not None:
        _check_error_text(err)
    output = capsys.readouterr().out
    output.encode("utf-8")
    assert "===== Anymail API request" in output


# --- credentials ---------------------------------------------------------------------------


def _secret_options(case: ContractCase) -> dict[str, str]:
    """The case's credential options, replaced by recognizable (ASCII) test secrets."""
    return {
        name: f"{case.id}-{name.replace('_', '-')}-S3cr3t-0a1b2c3d"
        for name in case.options
        if name.endswith(("_key", "_token"))
    }


def _credentials_sent(request: Any, secrets: dict[str, str]) -> list[str]:
    """Every form in which the request carried a credential (Basic auth is base64)."""
    sent = list(secrets.values())
    authorization = request.headers.get("Authorization", "")
    if authorization.startswith("Basic "):
        sent.append(authorization.split()[1])
        sent.append(base64.b64decode(authorization.split()[1]).decode())
    return sent


def _echo(status: int, seen: list[Any], secrets: dict[str, str]) -> Any:
    """An ESP that echoes the whole request (URL, headers, body) in its answer."""

    def callback(request: Any) -> tuple[int, dict[str, str], str]:
        seen.append(request)
        body = request.body if isinstance(request.body, bytes) else str(request.body).encode()
        echoed = f"You sent {request.url} {dict(request.headers)} {body[:3000]!r}"
        answer = {
            "message": echoed,
            "Message": echoed,
            "ErrorMessage": echoed,
            "ErrorCode": 401,
            "errors": [{"message": echoed, "description": echoed}],
            "data": {"message": echoed, "code": "InvalidServerAPIKey", "credential": secrets},
            "status": "error",
            "name": "invalid_api_key",
            "unexpected_field": list(secrets.values()),
        }
        return status, {"Content-Type": "application/json"}, json.dumps(answer)

    return callback


def _shown_texts(err: BaseException) -> Iterator[str]:
    """What an exception shows: text, repr, args, and the same for its whole chain."""
    seen: set[int] = set()
    current: BaseException | None = err
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield str(current)
        yield repr(current)
        yield repr(current.args)
        current = current.__cause__ or current.__context__


def _django_reports(err: BaseException, settings: Any) -> Iterator[str]:
    """Django's technical 500 reports (text and HTML), with DEBUG off (error mails) and on."""
    for debug in (False, True):
        settings.DEBUG = debug
        reporter = ExceptionReporter(None, type(err), err, err.__traceback__)
        yield reporter.get_traceback_text()
        yield reporter.get_traceback_html()


def _assert_hidden(texts: Iterator[str], credentials: list[str]) -> None:
    for text in texts:
        for credential in credentials:
            assert credential not in text


@pytest.mark.parametrize("status", [401, 200, 500])
def test_credentials_echoed_by_the_esp_are_never_shown(
    http_esp: Esp,
    settings: Any,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
    status: int,
) -> None:
    secrets = _secret_options(http_esp.case)
    assert secrets, "the case must have a credential option"
    seen: list[Any] = []
    http_esp.mock.add_callback(responses.POST, ANY_URL, callback=_echo(status, seen, secrets))

    err = _send(http_esp.connection(**secrets), make_message())
    credentials = _credentials_sent(seen[0], secrets)
    if err is None:
        assert status == 200  # e.g. SendGrid: a 2xx is success, whatever the body
    else:
        text = _check_error_text(err)
        assert "[REDACTED]" in text
        _assert_hidden(_shown_texts(err), credentials)
        _assert_hidden(_django_reports(err, settings), credentials)

    with caplog.at_level(logging.DEBUG, logger="anymail"):
        http_esp.connection(fail_silently=True, **secrets).send_messages([make_message()])
    _assert_hidden((record.getMessage() for record in caplog.records), credentials)
    _assert_hidden((repr(record.args) for record in caplog.records), credentials)

    _send(http_esp.connection(debug_api_requests=True, **secrets), make_message())
    output = capsys.readouterr().out
    assert "===== Anymail API request" in output
    _assert_hidden(iter([output]), credentials)


@pytest.mark.parametrize(
    "error_class",
    [
        requests.ConnectionError,
        requests.exceptions.SSLError,
        requests.exceptions.ReadTimeout,
        requests.exceptions.ConnectTimeout,
    ],
)
def test_transport_errors_keep_their_class_and_hide_credentials(
    http_esp: Esp, settings: Any, error_class: type[requests.RequestException]
) -> None:
    secrets = _secret_options(http_esp.case)
    seen: list[Any] = []

    def failing(request: Any) -> Any:
        # urllib3's and requests' messages can quote the request's URL.
        seen.append(request)
        raise error_class(f"failed: {request.url} {dict(request.headers)} {request.body!r}")

    http_esp.mock.add_callback(responses.POST, ANY_URL, callback=failing)
    with pytest.raises(error_class):  # the spec: requests' own class still catches it
        http_esp.connection(**secrets).send_messages([make_message()])
    message = make_message()
    err = _send(http_esp.connection(**secrets), message)
    assert isinstance(err, error_class)
    assert http_esp.case.esp_name in _check_error_text(err)
    if issubclass(error_class, requests.Timeout):
        assert "may already have reached" in str(err)
        assert "REQUESTS_TIMEOUT" in str(err)
    assert err.__cause__ is None and err.__context__ is None
    credentials = _credentials_sent(seen[0], secrets)
    _assert_hidden(_shown_texts(err), credentials)
    _assert_hidden(_django_reports(err, settings), credentials)
    assert message.anymail_status.status is None
