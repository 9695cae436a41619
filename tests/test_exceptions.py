"""The AnymailError family (anymail.exceptions): base classes and messages."""

from __future__ import annotations

from typing import Any

import pytest
import requests
from django.core.exceptions import ImproperlyConfigured, SuspiciousOperation

from anymail.exceptions import (
    AnymailAPIError,
    AnymailCancelSend,
    AnymailConfigurationError,
    AnymailDeprecationWarning,
    AnymailError,
    AnymailImproperlyConfigured,
    AnymailImproperlyInstalled,
    AnymailInsecureWebhookWarning,
    AnymailInvalidAddress,
    AnymailRecipientsRefused,
    AnymailRequestsAPIError,
    AnymailSerializationError,
    AnymailUnsupportedFeature,
    AnymailWarning,
    AnymailWebhookValidationFailure,
)


@pytest.mark.parametrize(
    ("exc", "bases"),
    [
        (AnymailAPIError, (AnymailError,)),
        (AnymailRequestsAPIError, (AnymailAPIError, requests.RequestException, OSError)),
        (AnymailRecipientsRefused, (AnymailError,)),
        (AnymailInvalidAddress, (AnymailError, ValueError)),
        (AnymailUnsupportedFeature, (AnymailError, ValueError)),
        (AnymailSerializationError, (AnymailError, TypeError)),
        (AnymailCancelSend, (AnymailError,)),
        (AnymailWebhookValidationFailure, (AnymailError, SuspiciousOperation)),
        (AnymailConfigurationError, (ImproperlyConfigured,)),
        (AnymailImproperlyConfigured, (AnymailConfigurationError, ImproperlyConfigured)),
        (
            AnymailImproperlyInstalled,
            (AnymailConfigurationError, ImproperlyConfigured, ImportError),
        ),
        (AnymailInsecureWebhookWarning, (AnymailWarning, Warning)),
        (AnymailDeprecationWarning, (AnymailWarning, DeprecationWarning)),
    ],
)
def test_documented_base_classes(exc: type, bases: tuple[type, ...]) -> None:
    for base in bases:
        assert issubclass(exc, base), f"{exc.__name__} should be a {base.__name__}"


def test_anymail_error_keeps_context() -> None:
    class Backend:
        esp_name = "Tiny"

    backend, message, payload = Backend(), object(), object()
    err = AnymailError("Something failed.", backend=backend, email_message=message, payload=payload)
    assert (err.backend, err.email_message, err.payload) == (backend, message, payload)
    assert err.esp_name == "Tiny"
    assert err.status_code is None
    assert str(err) == "Something failed."


class FakeResponse:
    def __init__(self, status_code: int, text: Any) -> None:
        self.status_code = status_code
        self.text = text


def test_message_quotes_the_esp_response() -> None:
    err = AnymailAPIError(
        "Tiny API error.", response=FakeResponse(400, '{"message":  "Bad sender"}'), esp_name="Tiny"
    )
    assert err.status_code == 400
    assert str(err) == 'Tiny API error.\nTiny API response 400: {"message": "Bad sender"}'


def test_message_keeps_non_ascii_esp_text() -> None:
    err = AnymailAPIError(
        "Error.", response=FakeResponse(400, '{"error": "Adresse ung\\u00fcltig"}')
    )
    assert str(err) == 'Error.\nESP API response 400: {"error": "Adresse ungültig"}'


def test_response_without_text() -> None:
    class NoText:
        status_code = 502

    assert str(AnymailAPIError("Error.", response=NoText(), esp_name="Tiny")) == (
        "Error.\nTiny API response 502"
    )
    assert str(AnymailAPIError("Error.", response={"parsed": True}, esp_name="Tiny")) == "Error."


def test_explicit_status_code_wins() -> None:
    assert AnymailAPIError("x", status_code=429, response=FakeResponse(500, "")).status_code == 429


def test_requests_api_error_is_a_proper_requests_exception() -> None:
    request = requests.Request("POST", "https://api.example.com/send").prepare()
    response = requests.Response()
    response.status_code = 401
    response._content = b'{"error": "Unauthorized"}'
    response.request = request
    err = AnymailRequestsAPIError("Tiny API error.", response=response, esp_name="Tiny")
    assert err.response is response
    assert err.request is request
    assert err.status_code == 401
    assert str(err) == 'Tiny API error.\nTiny API response 401: {"error": "Unauthorized"}'
    with pytest.raises(requests.RequestException):
        raise err


def test_recipients_refused_default_message() -> None:
    assert str(AnymailRecipientsRefused()) == (
        "All message recipients were rejected or invalid. Check the message's "
        "anymail_status.recipients for details, or set ANYMAIL IGNORE_RECIPIENT_STATUS "
        "to True to send anyway."
    )


def test_serialization_error_default_message() -> None:
    err = AnymailSerializationError(
        orig_err=TypeError("Object of type Decimal is not JSON serializable")
    )
    assert str(err) == (
        "Don't know how to send this data to the ESP. Convert values like Decimal, date or "
        "model instances to str before setting them as metadata or merge data.\n"
        "Object of type Decimal is not JSON serializable"
    )
    assert isinstance(err.orig_err, TypeError)


def test_improperly_installed_says_what_to_install() -> None:
    err = AnymailImproperlyInstalled(missing_package="boto3", install_extra="amazon-ses")
    assert str(err) == (
        "The boto3 package is required to use this ESP, but isn't installed.\n"
        "(Be sure to use `pip install 'django-anymail[amazon-ses]'` with your desired ESPs.)"
    )
    assert (err.missing_package, err.install_extra) == ("boto3", "amazon-ses")
    with pytest.raises(ImportError):
        raise err


def test_webhook_validation_failure_is_a_400_in_django(rf: Any) -> None:
    from django.core.handlers.exception import response_for_exception

    response = response_for_exception(rf.post("/"), AnymailWebhookValidationFailure("bad auth"))
    assert response.status_code == 400


# --- hostile responses and secrets ---------------------------------------------------------


class BytesResponse:
    """A response with a raw body, like requests' (content, encoding, status_code)."""

    def __init__(self, status_code: int, content: bytes, encoding: str | None = "utf-8") -> None:
        self.status_code = status_code
        self.content = content
        self.encoding = encoding


class Backend:
    esp_name = "Tiny"

    def __init__(self, **attributes: Any) -> None:
        vars(self).update(attributes)


@pytest.mark.parametrize(
    "body",
    [
        b"[" * 200_000 + b"]" * 200_000,
        b'{"a": ' * 3000 + b"1" + b"}" * 3000,
        b'{"error": [' * 400 + b"1" + b"]}" * 400,
    ],
    ids=["array", "object", "mixed"],
)
def test_deeply_nested_json_is_quoted_without_recursion(body: bytes) -> None:
    err = AnymailAPIError("Error.", response=BytesResponse(400, body), esp_name="Tiny")
    text = str(err)
    assert text.startswith("Error.\nTiny API response 400: ")
    assert len(text) < 2100
    assert repr(err)


def test_lone_surrogates_stay_printable() -> None:
    body = b'{"error": "bad \\ud800 value", "items": ["\\udfff"]}'
    err = AnymailAPIError("Error \ud83d.", response=BytesResponse(400, body), esp_name="Tiny")
    text = str(err)
    text.encode("utf-8")  # would raise UnicodeEncodeError for a lone surrogate
    assert text == (
        "Error \\ud83d.\nTiny API response 400: "
        '{"error": "bad \\ud800 value", "items": ["\\udfff"]}'
    )
    assert err.args == ("Error \\ud83d.",)


def test_text_is_bounded_however_large_the_body() -> None:
    huge = b'{"message": "' + b"x" * 10_000_000 + b'"}'
    err = AnymailAPIError("E" * 100_000, response=BytesResponse(500, huge), esp_name="Tiny")
    text = str(err)
    assert len(text) < 4200
    assert text.startswith("E" * 2000 + '… (truncated)\nTiny API response 500: {"message": "xxx')
    assert text.endswith("x… (truncated)")
    assert len(err.args[0]) < 2100


def test_text_is_built_once(monkeypatch: pytest.MonkeyPatch) -> None:
    from anymail import exceptions

    calls = []
    original = exceptions.redact_text

    def counting(*args: Any, **kwargs: Any) -> str:
        calls.append(args)
        return original(*args, **kwargs)

    monkeypatch.setattr(exceptions, "redact_text", counting)
    err = AnymailAPIError("Error.", response=BytesResponse(400, b'{"e": 1}'), esp_name="Tiny")
    assert str(err) == str(err) == 'Error.\nTiny API response 400: {"e": 1}'
    assert len(calls) == 1


def test_undecodable_body_is_quoted_with_replacements() -> None:
    err = AnymailAPIError(
        "Error.", response=BytesResponse(502, b"bad \xff\xfe gateway", encoding=None)
    )
    assert str(err) == "Error.\nESP API response 502: bad \ufffd\ufffd gateway"
    err = AnymailAPIError("Error.", response=BytesResponse(502, b"x", encoding="no-such-codec"))
    assert str(err) == "Error.\nESP API response 502: x"


def test_empty_response_body() -> None:
    err = AnymailAPIError("Error.", response=BytesResponse(503, b""), esp_name="Tiny")
    assert str(err) == "Error.\nTiny API response 503 (empty)"


SECRET = "sk-live-0123456789abcdef"


@pytest.mark.parametrize(
    "backend",
    [
        Backend(api_key=SECRET),
        Backend(server_token=SECRET),
        Backend(session_params={"aws_secret_access_key": SECRET}),
        Backend(api_url=f"https://user:{SECRET}@api.tiny.example/v1"),
    ],
    ids=["api_key", "token", "nested params", "url password"],
)
def test_backend_credentials_are_redacted_by_value(backend: Backend) -> None:
    body = f'Invalid credential "{SECRET}" (echoed under an unexpected name)'.encode()
    err = AnymailAPIError(
        f"Tiny refused {SECRET}.", backend=backend, response=BytesResponse(401, body)
    )
    for shown in (str(err), repr(err), repr(err.args)):
        assert SECRET not in shown
    assert str(err) == (
        "Tiny refused [REDACTED].\n"
        'Tiny API response 401: Invalid credential "[REDACTED]" (echoed under an unexpected name)'
    )


def test_request_credentials_are_redacted_by_value() -> None:
    # The header forms ESPs use: a Basic auth pair, a Bearer token, a bare key.
    request = requests.Request(
        "POST",
        "https://api.tiny.example/send?api_key=query-secret-value",
        auth=("api-user-name", "basic-password-value"),
        headers={"X-Tiny-Token": "header-secret-value"},
    ).prepare()
    basic = request.headers["Authorization"].split()[1]
    response = BytesResponse(
        401,
        f"Bad basic-password-value / {basic} / header-secret-value / query-secret-value".encode(),
    )
    response.request = request  # type: ignore[attr-defined]
    err = AnymailRequestsAPIError("Error.", response=response, esp_name="Tiny")
    assert str(err) == (
        "Error.\nTiny API response 401: Bad [REDACTED] / [REDACTED] / [REDACTED] / [REDACTED]"
    )


def test_short_values_and_secret_fields() -> None:
    # A value too short to be told from ordinary words is only hidden under a secret name.
    backend = Backend(api_key="abc")
    body = b'{"message": "abc is not a key", "data": {"api_key": "abc"}}'
    err = AnymailAPIError("Error abc.", backend=backend, response=BytesResponse(401, body))
    assert str(err) == (
        "Error abc.\nTiny API response 401: "
        '{"message": "abc is not a key", "data": {"api_key": "[REDACTED]"}}'
    )


def test_secret_fields_in_text_that_is_not_json() -> None:
    # Truncated (or too deep) JSON can't be parsed: secret-named members are still hidden.
    body = b'{"error": "denied", "token": "tok-value-0001", "nested": ' + b"[" * 100
    err = AnymailAPIError("Error.", response=BytesResponse(401, body), esp_name="Tiny")
    assert "tok-value-0001" not in str(err)
    assert '"token": "[REDACTED]"' in str(err)
