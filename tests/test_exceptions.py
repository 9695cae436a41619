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
