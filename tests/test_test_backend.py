"""The test and console backends (anymail.backends.test, anymail.backends.console),
as EMAIL_BACKEND, through get_connection(), and in Django 6.1's MAILERS."""

from __future__ import annotations

import io
import json
import sys
import uuid
import warnings
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from django.core import mail
from django.core.mail import EmailMessage, send_mail
from django.utils.module_loading import import_string

from anymail._feature_matrix import esp_backends
from anymail.backends.console import EmailBackend as ConsoleBackend
from anymail.backends.test import EmailBackend as AnymailTestBackend
from anymail.backends.test import _emulating_payload, esp_names
from anymail.checks import check_anymail_settings
from anymail.cli import demo_esps
from anymail.exceptions import (
    AnymailDeprecationWarning,
    AnymailImproperlyConfigured,
    AnymailImproperlyInstalled,
    AnymailInvalidAddress,
    AnymailUnsupportedFeature,
)
from anymail.message import AnymailMessage

from .utils import PNG, make_message, requires_mailers, without_boto3

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
    message = make_message(
        html="<p>HTML</p>",
        cc=["c@example.com"],
        reply_to=["r@example.com"],
        headers={"X-Custom": "1"},
        tags=["welcome"],
        metadata={"user": "42"},
        send_at=datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC),
    )
    AnymailTestBackend().send_messages([message])
    assert message.anymail_send_params == {
        "from_email": "from@example.com",
        "to": ["to@example.com"],
        "cc": ["c@example.com"],
        "subject": "Subject line",
        "reply_to": ["r@example.com"],
        "extra_headers": {"X-Custom": "1"},
        "text_body": "Body text of the message",
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


# --- emulate_esp: the test backend enforcing an ESP's declared capabilities ---------------


#: One message per feature that some ESPs lack (each on top of a plain message).
def template_probe(message: AnymailMessage) -> None:
    # A stored template brings its own subject and body (SES and Resend refuse them).
    message.template_id = "welcome"
    message.subject = message.body = ""


FEATURE_PROBES: dict[str, Callable[[AnymailMessage], None]] = {
    "send_at": lambda m: setattr(m, "send_at", datetime(2030, 1, 2, tzinfo=UTC)),
    "two tags": lambda m: setattr(m, "tags", ["one", "two"]),
    "metadata": lambda m: setattr(m, "metadata", {"user": "42"}),
    "merge_metadata": lambda m: setattr(m, "merge_metadata", {"to@example.com": {"n": "1"}}),
    "merge_headers": lambda m: setattr(m, "merge_headers", {"to@example.com": {"X-N": "1"}}),
    "envelope_sender": lambda m: setattr(m, "envelope_sender", "bounces@example.com"),
    "track_clicks": lambda m: setattr(m, "track_clicks", True),
    "track_opens": lambda m: setattr(m, "track_opens", True),
    "template_id": lambda m: template_probe(m),
    "two reply_to": lambda m: setattr(m, "reply_to", ["a@example.com", "b@example.com"]),
    "inline image": lambda m: m.attach_inline_image(PNG, "logo.png"),
    "amp part": lambda m: m.attach_alternative("<html ⚡4email></html>", "text/x-amp-html"),
    "spoofed To": lambda m: m.extra_headers.update({"To": "shown@example.com"}),
    "EAI from": lambda m: setattr(m, "from_email", "jörg@example.com"),
}


def probe_message(feature: str) -> AnymailMessage:
    message = AnymailMessage(
        subject="Subject long enough",
        body="A body long enough for every ESP",
        to=["to@example.com"],
    )
    FEATURE_PROBES[feature](message)
    return message


def esp_backend_for_demo(esp: str) -> Any:
    """The real ESP backend, with the demo's dummy credentials."""
    demo = demo_esps()[esp]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", AnymailDeprecationWarning)  # sendinblue
        return import_string(demo.backend)(**demo.options)


def unsupported_error(send: Callable[[], Any]) -> str | None:
    try:
        send()
    except AnymailUnsupportedFeature as err:
        return str(err)
    return None


@pytest.mark.parametrize("esp", esp_names())
def test_emulated_esp_raises_what_the_esp_raises(esp: str) -> None:
    """For every ESP and feature: the ESP's own error, whenever its declaration refuses it."""
    emulating = AnymailTestBackend(emulate_esp=esp)
    real = esp_backend_for_demo(esp)
    capabilities = real.payload_class.capabilities
    refused = []
    for feature in FEATURE_PROBES:
        message = probe_message(feature)
        error = unsupported_error(lambda message=message: emulating.send_messages([message]))
        if error is None:
            continue
        refused.append(feature)
        # The real backend fails in the same capability check, before any hook or request.
        same = probe_message(feature)
        assert unsupported_error(lambda same=same: real.build_message_payload(same, {})) == error
        assert error.startswith(f"{real.esp_name} does not support ")
    # Each feature the ESP declares unsupported is refused (not just those that happen to be).
    for feature, declared in (
        ("send_at", capabilities.send_at),
        ("metadata", capabilities.metadata),
        ("merge_metadata", capabilities.merge_metadata),
        ("merge_headers", capabilities.merge_headers),
        ("envelope_sender", capabilities.envelope_sender),
        ("track_clicks", capabilities.track_clicks),
        ("template_id", capabilities.template_id),
        ("inline image", capabilities.inline_images),
        ("spoofed To", capabilities.spoofed_to),
        ("EAI from", capabilities.eai_from),
    ):
        assert (feature in refused) == (not declared), feature
    assert ("two tags" in refused) == (capabilities.max_tags == 1 or not capabilities.tags)
    assert refused, f"{esp} accepts every probe: the emulation would check nothing"


def test_emulated_esp_error_names_the_esp() -> None:
    message = AnymailMessage(to=["to@example.com"], tags=["one", "two"])
    with pytest.raises(AnymailUnsupportedFeature) as excinfo:
        AnymailTestBackend(emulate_esp="postmark").send_messages([message])
    assert str(excinfo.value) == (
        "Postmark does not support multiple tags. Remove it from the message, or set "
        "ANYMAIL IGNORE_UNSUPPORTED_FEATURES to True to send without it."
    )
    assert mail.outbox == []
    # Without emulate_esp, the test backend accepts everything.
    assert AnymailTestBackend().send_messages([message]) == 1


def test_emulated_esp_applies_its_template_declaration() -> None:
    # Postmark merges data only into stored templates.
    merge_data = {"to@example.com": {"name": "A"}}
    without = AnymailMessage(to=["to@example.com"], merge_data=merge_data)
    with pytest.raises(
        AnymailUnsupportedFeature,
        match=r"^Postmark does not support merge_data without template_id",
    ):
        AnymailTestBackend(emulate_esp="postmark").send_messages([without])
    with_template = AnymailMessage(to=["to@example.com"], template_id="7", merge_data=merge_data)
    assert AnymailTestBackend(emulate_esp="postmark").send_messages([with_template]) == 1
    assert with_template.anymail_send_params["merge_data"] == merge_data


def test_emulated_esp_with_ignore_unsupported_features(settings: Any) -> None:
    settings.ANYMAIL = {"IGNORE_UNSUPPORTED_FEATURES": True, "TEST_EMULATE_ESP": "postmark"}
    message = AnymailMessage(
        to=["to@example.com"],
        tags=["one", "two"],
        metadata={"user": "42"},
        send_at=datetime(2030, 1, 2, tzinfo=UTC),
    )
    assert AnymailTestBackend().send_messages([message]) == 1
    # Recorded as Postmark would send it: one tag, no send_at, the metadata it supports.
    assert message.anymail_send_params["tags"] == ["one"]
    assert "send_at" not in message.anymail_send_params
    assert message.anymail_send_params["metadata"] == {"user": "42"}
    assert mail.outbox == [message]


def test_emulated_esp_batch_privacy() -> None:
    # An ESP that can't send individual messages refuses a batch to several "to".
    message = AnymailMessage(
        to=["a@example.com", "b@example.com"], merge_metadata={"a@example.com": {"n": 1}}
    )
    with pytest.raises(AnymailUnsupportedFeature, match=r"^Scaleway cannot send this as a batch"):
        AnymailTestBackend(emulate_esp="scaleway", ignore_unsupported_features=True).send_messages(
            [message]
        )


@pytest.mark.parametrize(
    "where",
    ["kwarg", "ANYMAIL", "ANYMAIL_TEST_EMULATE_ESP", "display name", "dashes"],
)
def test_emulate_esp_option_and_settings(settings: Any, where: str) -> None:
    kwargs: dict[str, Any] = {}
    if where == "kwarg":
        kwargs["emulate_esp"] = "amazon_ses"
    elif where == "ANYMAIL":
        settings.ANYMAIL = {"TEST_EMULATE_ESP": "amazon_ses"}
    elif where == "ANYMAIL_TEST_EMULATE_ESP":
        settings.ANYMAIL_TEST_EMULATE_ESP = "amazon_ses"
    elif where == "display name":
        kwargs["emulate_esp"] = "Amazon SES"
    else:
        kwargs["emulate_esp"] = "Amazon-SES"
    backend = AnymailTestBackend(**kwargs)
    assert backend.emulated_esp == "amazon_ses"
    message = AnymailMessage(to=["to@example.com"], send_at=datetime(2030, 1, 2, tzinfo=UTC))
    with pytest.raises(AnymailUnsupportedFeature, match=r"^Amazon SES does not support send_at"):
        backend.send_messages([message])


def test_emulated_esp_uses_the_esp_send_defaults(settings: Any) -> None:
    settings.ANYMAIL = {
        "SEND_DEFAULTS": {"metadata": {"app": "shop"}},
        "POSTMARK_SEND_DEFAULTS": {"tags": ["postmark-default"]},
        "TEST_SEND_DEFAULTS": {"track_opens": True},
    }
    backend = AnymailTestBackend(emulate_esp="postmark")
    message = AnymailMessage(to=["to@example.com"])
    backend.send_messages([message])
    assert message.anymail_send_params["tags"] == ["postmark-default"]
    assert message.anymail_send_params["metadata"] == {"app": "shop"}
    assert "track_opens" not in message.anymail_send_params
    # So a message tag on top of the default tag fails as in production.
    with pytest.raises(
        AnymailUnsupportedFeature, match=r"^Postmark does not support multiple tags"
    ):
        backend.send_messages([AnymailMessage(to=["to@example.com"], tags=["welcome"])])
    # An explicit send_defaults option still wins.
    explicit = AnymailTestBackend(emulate_esp="postmark", send_defaults={})
    assert explicit.send_defaults == {}


@pytest.mark.parametrize("value", ["postmrak", "test", "console", "base", "", 42])
def test_emulate_esp_unknown_name(settings: Any, value: Any) -> None:
    settings.ANYMAIL = {"TEST_EMULATE_ESP": value}
    with pytest.raises(AnymailImproperlyConfigured) as excinfo:
        AnymailTestBackend()
    assert str(excinfo.value) == (
        f"Invalid Anymail setting TEST_EMULATE_ESP: {value!r} is not an ESP Anymail has a "
        "backend for. Use one of: amazon_ses, brevo, mailgun, mailjet, mandrill, postal, "
        "postmark, resend, scaleway, sendgrid, sendinblue, sparkpost."
    )


def test_emulate_esp_names_match_the_backends() -> None:
    slugs = {backend.__module__.rsplit(".", 1)[1] for backend in esp_backends()}
    assert set(esp_names()) == slugs | {"sendinblue"}


def test_emulate_esp_imports_only_the_chosen_esp(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without boto3, any other ESP can be emulated; amazon_ses says what to install."""
    without_boto3(monkeypatch, "anymail.backends.amazon_ses")
    _emulating_payload.cache_clear()
    try:
        backend = AnymailTestBackend(emulate_esp="postmark")
        assert backend.send_messages([AnymailMessage(to=["to@example.com"])]) == 1
        assert "anymail.backends.amazon_ses" not in sys.modules
        with pytest.raises(AnymailImproperlyInstalled, match=r"django-anymail\[amazon-ses\]"):
            AnymailTestBackend(emulate_esp="amazon_ses")
    finally:
        _emulating_payload.cache_clear()


def test_console_backend_can_emulate_an_esp(settings: Any) -> None:
    settings.ANYMAIL = {"CONSOLE_EMULATE_ESP": "postmark"}
    message = AnymailMessage(to=["to@example.com"], tags=["one", "two"])
    with pytest.raises(
        AnymailUnsupportedFeature, match=r"^Postmark does not support multiple tags"
    ):
        ConsoleBackend(stream=io.StringIO()).send_messages([message])


def test_emulate_esp_is_a_known_setting(settings: Any) -> None:
    settings.ANYMAIL = {"TEST_EMULATE_ESP": "postmark", "CONSOLE_EMULATE_ESP": "mailgun"}
    assert check_anymail_settings() == []


@requires_mailers
def test_emulate_esp_in_mailers_options(settings: Any) -> None:
    settings.MAILERS = {
        "default": {"BACKEND": TEST_BACKEND, "OPTIONS": {"emulate_esp": "mailjet"}},
    }
    message = AnymailMessage(to=["to@example.com"], tags=["one", "two"])
    with pytest.raises(AnymailUnsupportedFeature, match=r"^Mailjet does not support multiple tags"):
        message.send()
    assert mail.mailers.default.emulated_esp == "mailjet"
