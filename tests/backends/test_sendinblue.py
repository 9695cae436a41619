"""The deprecated SendinBlue alias of the Brevo backend."""

from __future__ import annotations

import functools
from typing import Any

import pytest
import responses
from django.core import mail

from anymail.backends import brevo, sendinblue
from anymail.exceptions import (
    AnymailDeprecationWarning,
    AnymailImproperlyConfigured,
    AnymailRequestsAPIError,
    AnymailUnsupportedFeature,
)
from anymail.message import AnymailRecipientStatus
from anymail.signals import post_send, pre_send
from tests.backends.support import anymail_settings
from tests.utils import (
    add_response,
    assert_missing_setting,
    only_request,
    only_request_json,
    requires_mailers,
)
from tests.utils import make_message as make_text_message

API_KEY = "xkeysib-legacy-key-0123456789"
SEND_URL = "https://api.brevo.com/v3/smtp/email"
MESSAGE_ID = "<202603040506.12345678901@smtp-relay.mailin.fr>"


esp_settings = anymail_settings(SENDINBLUE_API_KEY=API_KEY)


#: The shared test message, plus the html body Brevo needs.
make_message = functools.partial(make_text_message, html="<p>Body html</p>")


def make_backend(**kwargs: Any) -> sendinblue.EmailBackend:
    with pytest.warns(AnymailDeprecationWarning, match="anymail.backends.brevo.EmailBackend"):
        return sendinblue.EmailBackend(**kwargs)


def mock_send(mock: responses.RequestsMock, url: str = SEND_URL, **kwargs: Any) -> None:
    """Brevo's answer at the send endpoint (by default one messageId, HTTP 201)."""
    body = kwargs.pop("body", {"messageId": MESSAGE_ID})
    add_response(
        mock, url, body, kwargs.pop("status", 201), content_type="application/json", **kwargs
    )


def test_is_the_brevo_backend_under_its_old_name() -> None:
    assert issubclass(sendinblue.EmailBackend, brevo.EmailBackend)
    assert sendinblue.EmailBackend.esp_name == "SendinBlue"
    assert sendinblue.SendinBluePayload is brevo.BrevoPayload


def test_warning_says_what_to_change() -> None:
    with pytest.warns(AnymailDeprecationWarning) as record:
        sendinblue.EmailBackend()
    text = str(record[0].message)
    assert "SendinBlue is now Brevo" in text
    assert "anymail.backends.brevo.EmailBackend" in text
    assert "SENDINBLUE_API_KEY to BREVO_API_KEY" in text
    assert issubclass(AnymailDeprecationWarning, DeprecationWarning)


def test_sends_to_brevo_with_sendinblue_settings(mocked_responses: responses.RequestsMock) -> None:
    mock_send(mocked_responses)
    message = make_message(cc=["cc@example.com"], metadata={"order": "1"})
    assert make_backend().send_messages([message]) == 1

    request = only_request(mocked_responses)
    assert request.url == SEND_URL
    assert request.headers["api-key"] == API_KEY
    assert request.headers["Content-Type"] == "application/json"
    assert "-sendinblue " in request.headers["User-Agent"]
    assert only_request_json(mocked_responses) == {
        "sender": {"email": "from@example.com"},
        "to": [{"email": "to@example.com"}],
        "cc": [{"email": "cc@example.com"}],
        "subject": "Subject line",
        "textContent": "Body text of the message",
        "htmlContent": "<p>Body html</p>",
        "headers": {"X-Mailin-custom": '{"order": "1"}'},
    }
    assert message.anymail_status.recipients == {
        "to@example.com": AnymailRecipientStatus(MESSAGE_ID, "queued"),
        "cc@example.com": AnymailRecipientStatus(MESSAGE_ID, "queued"),
    }


def test_batch_send_works_as_for_brevo(mocked_responses: responses.RequestsMock) -> None:
    mock_send(mocked_responses, body={"messageIds": ["<a@x>", "<b@x>"]})
    message = make_message(
        to=["a@example.com", "b@example.com"],
        template_id=3,
        merge_data={"a@example.com": {"name": "A"}},
    )
    make_backend().send_messages([message])
    data = only_request_json(mocked_responses)
    assert data["templateId"] == 3
    assert data["messageVersions"] == [
        {"to": [{"email": "a@example.com"}], "params": {"name": "A"}},
        {"to": [{"email": "b@example.com"}]},
    ]
    assert message.anymail_status.message_id == {"<a@x>", "<b@x>"}


def test_api_key_locations(mocked_responses: responses.RequestsMock, settings: Any) -> None:
    mock_send(mocked_responses)
    settings.ANYMAIL = {}
    settings.SENDINBLUE_API_KEY = "bare-key"
    make_backend().send_messages([make_message()])
    settings.ANYMAIL_SENDINBLUE_API_KEY = "prefixed-key"
    make_backend().send_messages([make_message()])
    make_backend(api_key="kwarg-key").send_messages([make_message()])
    assert [call.request.headers["api-key"] for call in mocked_responses.calls] == [
        "bare-key",
        "prefixed-key",
        "kwarg-key",
    ]


def test_does_not_read_brevo_settings(settings: Any) -> None:
    settings.ANYMAIL = {"BREVO_API_KEY": "new-key"}
    settings.BREVO_API_KEY = "new-key"
    with pytest.raises(AnymailImproperlyConfigured) as excinfo:
        make_backend()
    text = str(excinfo.value)
    assert_missing_setting(text, "SENDINBLUE_API_KEY", "api_key")
    assert "new-key" not in text


def test_api_url_and_send_defaults(mocked_responses: responses.RequestsMock, settings: Any) -> None:
    settings.ANYMAIL = {
        "SENDINBLUE_API_KEY": API_KEY,
        "SENDINBLUE_API_URL": "https://api.sendinblue.com/v3",
        "SENDINBLUE_SEND_DEFAULTS": {"tags": ["legacy"]},
        "BREVO_SEND_DEFAULTS": {"tags": ["not-used"]},
    }
    mock_send(mocked_responses, url="https://api.sendinblue.com/v3/smtp/email")
    make_backend().send_messages([make_message()])
    assert only_request_json(mocked_responses)["tags"] == ["legacy"]
    assert make_backend().api_url == "https://api.sendinblue.com/v3"


def test_errors_and_signals_name_sendinblue(mocked_responses: responses.RequestsMock) -> None:
    with pytest.raises(AnymailUnsupportedFeature, match="SendinBlue does not support track_opens"):
        make_backend().send_messages([make_message(track_opens=True)])

    seen: list[str] = []

    def receiver(sender: Any, esp_name: str, **kwargs: Any) -> None:
        seen.append(esp_name)

    pre_send.connect(receiver)
    post_send.connect(receiver)
    try:
        mock_send(mocked_responses)
        make_backend().send_messages([make_message()])
    finally:
        pre_send.disconnect(receiver)
        post_send.disconnect(receiver)
    assert seen == ["SendinBlue", "SendinBlue"]

    mocked_responses.replace(
        responses.POST,
        SEND_URL,
        status=401,
        body='{"code":"unauthorized","message":"Key not found"}',
    )
    with pytest.raises(AnymailRequestsAPIError) as excinfo:
        make_backend().send_messages([make_message()])
    assert "SendinBlue API error: HTTP 401" in str(excinfo.value)
    assert "Key not found" in str(excinfo.value)
    assert API_KEY not in str(excinfo.value)


def test_get_connection_warns(settings: Any) -> None:
    with pytest.warns(AnymailDeprecationWarning):
        connection = mail.get_connection("anymail.backends.sendinblue.EmailBackend")
    assert connection.esp_name == "SendinBlue"


@requires_mailers
def test_mailers_options(mocked_responses: responses.RequestsMock, settings: Any) -> None:
    from django.core.mail import mailers

    settings.ANYMAIL = {}
    settings.MAILERS = {
        "default": {
            "BACKEND": "anymail.backends.sendinblue.EmailBackend",
            "OPTIONS": {
                "api_key": "mailers-key",
                "api_url": "https://mailers.example.com/v3/",
                "workaround_display_name_bugs": False,
                "prevent_header_encoding_bugs": False,
            },
        },
    }
    mock_send(mocked_responses, url="https://mailers.example.com/v3/smtp/email")
    with pytest.warns(AnymailDeprecationWarning):
        connection = mailers["default"]
    connection.send_messages([make_message()])
    assert only_request(mocked_responses).headers["api-key"] == "mailers-key"
