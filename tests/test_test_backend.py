"""The test and console backends (anymail.backends.test, anymail.backends.console),
as EMAIL_BACKEND, through get_connection(), and in Django 6.1's MAILERS."""

from __future__ import annotations

import io
import json
import uuid
import warnings
from datetime import UTC, datetime
from typing import Any

import pytest
from django.core import mail
from django.core.mail import EmailMessage, send_mail

from anymail.backends.console import EmailBackend as ConsoleBackend
from anymail.backends.test import EmailBackend as AnymailTestBackend
from anymail.exceptions import AnymailInvalidAddress
from anymail.message import AnymailMessage

from .utils import PNG, requires_mailers

TEST_BACKEND = "anymail.backends.test.EmailBackend"
CONSOLE_BACKEND = "anymail.backends.console.EmailBackend"


@pytest.fixture(autouse=True)
def no_anymail_settings(settings: Any) -> None:
    settings.ANYMAIL = {}


def get_connection(backend: str, **kwargs: Any) -> Any:
    # Deprecated by Django 6.1 (in favour of MAILERS), still supported.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        warnings.simplefilter("ignore", PendingDeprecationWarning)
        return mail.get_connection(backend, **kwargs)


def use_email_backend(settings: Any, backend: str) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        warnings.simplefilter("ignore", PendingDeprecationWarning)
        settings.EMAIL_BACKEND = backend


# --- the test backend -------------------------------------------------------------------


def test_as_email_backend_like_the_documented_example(settings: Any) -> None:
    use_email_backend(settings, TEST_BACKEND)
    settings.ANYMAIL = {"SEND_DEFAULTS": {"track_clicks": True}}
    message = AnymailMessage(
        subject="Confirm", body="Please confirm", to=["user@example.com"], tags=["confirmation"]
    )
    message.send()
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["user@example.com"]
    assert mail.outbox[0].tags == ["confirmation"]
    assert mail.outbox[0].anymail_send_params["track_clicks"] is True


def test_send_mail_through_email_backend(settings: Any) -> None:
    use_email_backend(settings, TEST_BACKEND)
    assert send_mail("Subject", "Body", "from@example.com", ["to@example.com"]) == 1
    (sent,) = mail.outbox
    assert sent.anymail_send_params == {
        "from_email": "from@example.com",
        "to": ["to@example.com"],
        "subject": "Subject",
        "text_body": "Body",
    }
    assert sent.anymail_status.status == {"sent"}


def test_send_params_are_normalized_and_include_defaults(settings: Any) -> None:
    settings.ANYMAIL = {
        "SEND_DEFAULTS": {"tags": ["myapp"], "metadata": {"env": "test"}},
        "TEST_SEND_DEFAULTS": {"track_opens": True},
    }
    message = AnymailMessage(
        subject="Subject",
        body="Text",
        from_email="Shop <shop@example.com>",
        to=["A <a@example.com>"],
        cc=["c@example.com"],
        reply_to=["r@example.com"],
        headers={"X-Custom": "1"},
        tags=["welcome"],
        metadata={"user": "42"},
        send_at=datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC),
    )
    message.attach_alternative("<p>HTML</p>", "text/html")
    AnymailTestBackend().send_messages([message])
    assert message.anymail_send_params == {
        "from_email": "Shop <shop@example.com>",
        "to": ["A <a@example.com>"],
        "cc": ["c@example.com"],
        "subject": "Subject",
        "reply_to": ["r@example.com"],
        "extra_headers": {"X-Custom": "1"},
        "text_body": "Text",
        "html_body": "<p>HTML</p>",
        "metadata": {"env": "test", "user": "42"},
        "tags": ["myapp", "welcome"],
        "track_opens": True,
        "send_at": datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC),
    }


def test_unique_message_ids_and_sent_status() -> None:
    messages = [
        AnymailMessage(
            to=["a@example.com", "b@example.com"], cc=["c@example.com"], bcc=["d@example.com"]
        ),
        AnymailMessage(to=["a@example.com"]),
        EmailMessage(to=["a@example.com"]),
    ]
    assert AnymailTestBackend().send_messages(messages) == 3
    assert mail.outbox == messages
    ids = [message.anymail_status.message_id for message in messages]
    assert len(set(ids)) == 3
    for message_id in ids:
        assert isinstance(message_id, str)
        uuid.UUID(message_id)
    first = messages[0].anymail_status
    assert first.status == {"sent"}
    assert set(first.recipients) == {
        "a@example.com",
        "b@example.com",
        "c@example.com",
        "d@example.com",
    }
    assert {r.message_id for r in first.recipients.values()} == {first.message_id}
    assert first.esp_response == {"message_id": first.message_id, "status": "sent"}


def test_test_backend_runs_the_checks_an_esp_would() -> None:
    message = AnymailMessage(to=["Widgets, Inc. <w@example.com>"])
    with pytest.raises(AnymailInvalidAddress):
        AnymailTestBackend().send_messages([message])
    assert mail.outbox == []


def test_test_backend_creates_the_outbox() -> None:
    del mail.outbox
    AnymailTestBackend()
    assert mail.outbox == []


def test_get_connection_kwargs_override_settings(settings: Any) -> None:
    settings.ANYMAIL = {"SEND_DEFAULTS": {"tags": ["from-settings"]}}
    connection = get_connection(TEST_BACKEND, send_defaults={"tags": ["from-kwargs"]})
    message = AnymailMessage(to=["to@example.com"], connection=connection)
    message.send()
    assert message.anymail_send_params["tags"] == ["from-kwargs"]


# --- the console backend ------------------------------------------------------------------


def test_console_backend_prints_the_send_params() -> None:
    stream = io.StringIO()
    message = AnymailMessage(
        subject="Hello",
        body="Body",
        from_email="from@example.com",
        to=["Ünï <to@exämple.com>"],
        send_at=datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC),
    )
    cid = message.attach_inline_image(PNG, "logo.png")
    assert ConsoleBackend(stream=stream).send_messages([message]) == 1
    expected = {
        "from_email": "from@example.com",
        "to": ["Ünï <to@xn--exmple-cua.com>"],
        "subject": "Hello",
        "text_body": "Body",
        "attachments": [
            {
                "name": "logo.png",
                "content_type": "image/png",
                "size": len(PNG),
                "inline": True,
                "content_id": cid,
            }
        ],
        "send_at": "2030-01-02T03:04:05+00:00",
    }
    assert stream.getvalue() == (
        "Anymail send params:\n"
        + json.dumps(expected, indent=2, ensure_ascii=False)
        + "\n"
        + "-" * 79
        + "\n"
    )
    assert message.anymail_status.status == {"sent"}
    assert mail.outbox == []  # shown, not collected


def test_console_backend_defaults_to_stdout(
    settings: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    use_email_backend(settings, CONSOLE_BACKEND)
    send_mail("Subject", "Body", "from@example.com", ["to@example.com"])
    out = capsys.readouterr().out
    assert out.startswith("Anymail send params:\n{\n")
    assert '"subject": "Subject"' in out


# --- Django 6.1 MAILERS ------------------------------------------------------------------


@requires_mailers
def test_mailers_default_and_using(settings: Any) -> None:
    stream = io.StringIO()
    settings.MAILERS = {
        "default": {"BACKEND": TEST_BACKEND},
        "transactional": {
            "BACKEND": TEST_BACKEND,
            "OPTIONS": {"send_defaults": {"tags": ["tx"]}, "ignore_unsupported_features": True},
        },
        "console": {"BACKEND": CONSOLE_BACKEND, "OPTIONS": {"stream": stream}},
    }
    first = AnymailMessage(to=["to@example.com"])
    assert first.send() == 1
    assert "tags" not in first.anymail_send_params

    second = AnymailMessage(to=["to@example.com"], tags=["welcome"])
    assert second.send(using="transactional") == 1
    assert second.anymail_send_params["tags"] == ["tx", "welcome"]
    assert mail.outbox == [first, second]

    assert send_mail("Hi", "Body", "from@example.com", ["to@example.com"], using="console") == 1
    assert '"subject": "Hi"' in stream.getvalue()
    assert len(mail.outbox) == 2

    connection = mail.mailers["transactional"]
    assert isinstance(connection, AnymailTestBackend)
    assert connection.alias == "transactional"
    assert connection.ignore_unsupported_features is True


@requires_mailers
def test_mailers_options_override_anymail_settings(settings: Any) -> None:
    settings.ANYMAIL = {
        "SEND_DEFAULTS": {"tags": ["from-settings"]},
        "IGNORE_RECIPIENT_STATUS": True,
    }
    settings.MAILERS = {
        "default": {
            "BACKEND": TEST_BACKEND,
            "OPTIONS": {
                "send_defaults": {"metadata": {"a": "1"}},
                "ignore_recipient_status": False,
            },
        }
    }
    connection = mail.mailers.default
    assert connection.send_defaults == {"metadata": {"a": "1"}}
    assert connection.ignore_recipient_status is False


@requires_mailers
def test_mailers_unknown_options_are_reported_by_django(settings: Any) -> None:
    from django.core.mail import InvalidMailer

    settings.MAILERS = {"default": {"BACKEND": TEST_BACKEND, "OPTIONS": {"bogus_option": 1}}}
    with pytest.raises(InvalidMailer, match="Unknown options 'bogus_option'"):
        AnymailMessage(to=["to@example.com"]).send()
