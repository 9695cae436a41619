"""The queued backend (anymail.backends.queued) and its task (anymail.tasks).

Tasks run at once on Django's ImmediateBackend (the "default" task backend in the
test settings), or are only recorded by the DummyBackend ("dummy").
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import django
import pytest
import requests
import responses
from django.core import mail
from django.core.mail import get_connection
from django.db import transaction
from django.dispatch import receiver

from anymail import retry
from anymail._tasks import task_backends
from anymail.backends.queued import EmailBackend
from anymail.exceptions import (
    AnymailImproperlyConfigured,
    AnymailInvalidMailer,
    AnymailSerializationError,
)
from anymail.retry import task_idempotency_key
from anymail.signals import post_send, pre_send
from tests.utils import fixture_json, make_message, requires_mailers

if django.VERSION >= (6, 0):
    from django.tasks.signals import task_finished
else:
    from django_tasks.signals import task_finished

QUEUED = "anymail.backends.queued.EmailBackend"
POSTMARK = "anymail.backends.postmark.EmailBackend"
POSTMARK_URL = "https://api.postmarkapp.com/email"
RESEND_URL = "https://api.resend.com/emails"
POSTMARK_OK = fixture_json("postmark", "send_success.json")


@pytest.fixture(autouse=True)
def esp_settings(settings: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    settings.ANYMAIL = {"POSTMARK_SERVER_TOKEN": "server-token", "RESEND_API_KEY": "re_key"}
    monkeypatch.setattr(retry, "_sleep", lambda seconds: None)


@pytest.fixture
def dummy() -> Iterator[Any]:
    backend = task_backends["dummy"]
    backend.clear()
    yield backend
    backend.clear()


@pytest.fixture
def finished() -> Iterator[list[Any]]:
    """The results of the tasks that ran (as a task backend records them)."""
    results: list[Any] = []

    @receiver(task_finished, weak=False)
    def record(sender: Any, task_result: Any, **kwargs: Any) -> None:
        results.append(task_result)

    yield results
    task_finished.disconnect(record)


@pytest.fixture
def signals() -> Iterator[list[tuple[str, Any]]]:
    """(signal, message or status) for each pre_send and post_send."""
    seen: list[tuple[str, Any]] = []

    def on_pre_send(sender: Any, message: Any, **kwargs: Any) -> None:
        seen.append(("pre_send", message))

    def on_post_send(sender: Any, message: Any, status: Any, esp_name: str, **kwargs: Any) -> None:
        seen.append(("post_send", (esp_name, sorted(status.status))))

    pre_send.connect(on_pre_send)
    post_send.connect(on_post_send)
    yield seen
    pre_send.disconnect(on_pre_send)
    post_send.disconnect(on_post_send)


def queued(**options: Any) -> EmailBackend:
    """A queued backend (enqueuing at once: the tests without a database can't commit)."""
    options.setdefault("delivery_backend", POSTMARK)
    options.setdefault("enqueue_on_commit", False)
    return EmailBackend(**options)


# --- queuing --------------------------------------------------------------------------------


def test_queues_one_task_per_message_without_calling_the_esp(
    dummy: Any, mocked_responses: responses.RequestsMock
) -> None:
    backend = queued(
        task_backend="dummy",
        queue_name="email",
        priority=5,
        delivery_options={"send_defaults": {"tags": ["queued"]}},
    )
    first, second = make_message(subject="One"), make_message(subject="Two")
    assert backend.send_messages([first, second]) == 2
    assert len(mocked_responses.calls) == 0
    assert [result.args[0]["fields"]["subject"] for result in dummy.results] == ["One", "Two"]
    result = dummy.results[0]
    assert result.args[1] == {
        "backend": POSTMARK,
        "options": {"send_defaults": {"tags": ["queued"]}},
    }
    assert (result.task.backend, result.task.queue_name, result.task.priority) == (
        "dummy",
        "email",
        5,
    )
    assert result.task.module_path == "anymail.tasks.send_email_message"


def test_an_unserializable_message_queues_nothing(dummy: Any) -> None:
    good, bad = make_message(), make_message(metadata={"total": Decimal("1.5")})
    with pytest.raises(AnymailSerializationError, match=r"Decimal in metadata\['total'\]"):
        queued(task_backend="dummy").send_messages([good, bad])
    assert dummy.results == []


@pytest.mark.django_db(transaction=True)
def test_enqueued_when_the_transaction_commits(dummy: Any) -> None:
    backend = EmailBackend(delivery_backend=POSTMARK, task_backend="dummy")  # (on commit)
    with transaction.atomic():
        assert backend.send_messages([make_message(subject="Committed")]) == 1
        assert dummy.results == []
    assert len(dummy.results) == 1

    with pytest.raises(RuntimeError), transaction.atomic():
        backend.send_messages([make_message(subject="Rolled back")])
        raise RuntimeError("roll back")
    assert len(dummy.results) == 1  # the rolled-back order's email is never queued

    backend.send_messages([make_message(subject="No transaction")])
    assert len(dummy.results) == 2  # outside a transaction: at once


@pytest.mark.django_db(transaction=True)
def test_enqueue_on_commit_off(dummy: Any) -> None:
    with transaction.atomic():
        queued(task_backend="dummy", enqueue_on_commit=False).send_messages([make_message()])
        assert len(dummy.results) == 1


def test_fail_silently_enqueue_error(
    dummy: Any, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    backend = queued(task_backend="dummy", enqueue_on_commit=False, fail_silently=True)

    def broken(*args: Any) -> Any:
        raise ConnectionError("task broker down")

    monkeypatch.setattr(dummy, "enqueue", broken)
    assert backend.send_messages([make_message()]) == 0
    assert "Could not queue a message (fail_silently): task broker down" in caplog.text
    backend.fail_silently = False
    with pytest.raises(ConnectionError):
        backend.send_messages([make_message()])


# --- in the worker ----------------------------------------------------------------------------


def test_worker_sends_with_signals_and_returns_the_status(
    mocked_responses: responses.RequestsMock, finished: list[Any], signals: list[Any]
) -> None:
    mocked_responses.add("POST", POSTMARK_URL, json=POSTMARK_OK)
    message = make_message(metadata={"order": "12"}, tags=["receipt"])
    assert queued().send_messages([message]) == 1
    (result,) = finished
    assert result.status == "SUCCESSFUL"
    assert result.return_value == {
        "status": ["sent"],
        "message_id": POSTMARK_OK["MessageID"],
        "recipients": {
            "to@example.com": {"status": "sent", "message_id": POSTMARK_OK["MessageID"]}
        },
    }
    # The signals fired in the worker, for the message it rebuilt.
    (kind, worker_message), post = signals
    assert kind == "pre_send" and worker_message is not message
    assert worker_message.metadata == {"order": "12"}
    assert post == ("post_send", ("Postmark", ["sent"]))
    request = mocked_responses.calls[0].request
    assert b'"Metadata": {"order": "12"}' in request.body and b'"Tag": "receipt"' in request.body


def test_worker_retries_with_a_key_derived_from_the_task(
    mocked_responses: responses.RequestsMock, finished: list[Any]
) -> None:
    mocked_responses.add("POST", RESEND_URL, body=requests.ReadTimeout("read timed out"))
    mocked_responses.add("POST", RESEND_URL, status=503, body="busy")
    mocked_responses.add("POST", RESEND_URL, json={"id": "49a3999c"})
    assert queued(delivery_backend="anymail.backends.resend.EmailBackend").send_messages(
        [make_message()]
    )
    (result,) = finished
    assert result.return_value["status"] == ["queued"]
    keys = {call.request.headers["Idempotency-Key"] for call in mocked_responses.calls}
    assert keys == {task_idempotency_key("default", result.id)}
    assert len(mocked_responses.calls) == 3


def test_worker_reports_unknown_when_it_may_have_been_sent(
    mocked_responses: responses.RequestsMock,
    finished: list[Any],
    signals: list[Any],
    caplog: pytest.LogCaptureFixture,
) -> None:
    # Postmark takes no idempotency key: after a read timeout, no retry.
    mocked_responses.add("POST", POSTMARK_URL, body=requests.ReadTimeout("read timed out"))
    with caplog.at_level(logging.INFO, logger="anymail"):
        queued().send_messages([make_message(to=["a@example.com", "B <b@example.com>"])])
    (result,) = finished
    assert len(mocked_responses.calls) == 1
    assert result.status == "SUCCESSFUL"
    assert result.return_value == {
        "status": ["unknown"],
        "message_id": None,
        "recipients": {
            "a@example.com": {"status": "unknown", "message_id": None},
            "b@example.com": {"status": "unknown", "message_id": None},
        },
    }
    assert signals[-1] == ("post_send", ("Postmark", ["unknown"]))
    assert f"task {result.id}: reported as 'unknown' (it may have been sent)." in caplog.text


def test_worker_task_fails_on_a_permanent_error(
    mocked_responses: responses.RequestsMock, finished: list[Any], signals: list[Any]
) -> None:
    mocked_responses.add("POST", POSTMARK_URL, status=401, json={"ErrorCode": 10})
    queued().send_messages([make_message()])
    (result,) = finished
    assert result.status == "FAILED"
    assert result.errors[0].exception_class_path.startswith("anymail.exceptions.AnymailRequest")
    assert len(mocked_responses.calls) == 1
    assert [kind for kind, _ in signals] == ["pre_send"]  # no post_send for a failure


@pytest.mark.parametrize(
    ("message_options", "answers", "error_class"),
    [
        ({"to": ["Not an address"]}, 0, "AnymailInvalidAddress"),
        ({"send_at": 1904000000}, 0, "AnymailUnsupportedFeature"),  # Postmark: no send_at
        ({}, 1, "AnymailRecipientsRefused"),  # every recipient inactive (a 422 answer)
    ],
    ids=["invalid address", "unsupported feature", "recipients refused"],
)
def test_worker_does_not_retry_what_would_fail_again(
    mocked_responses: responses.RequestsMock,
    finished: list[Any],
    message_options: dict[str, Any],
    answers: int,
    error_class: str,
) -> None:
    mocked_responses.assert_all_requests_are_fired = False
    inactive = {"ErrorCode": 406, "Message": "Found inactive addresses: to@example.com."}
    mocked_responses.add("POST", POSTMARK_URL, status=422, json=inactive)
    mocked_responses.add("POST", POSTMARK_URL, json=POSTMARK_OK)
    queued().send_messages([make_message(**message_options)])
    (result,) = finished
    assert result.status == "FAILED"
    assert result.errors[0].exception_class_path.rsplit(".", 1)[1] == error_class
    assert len(mocked_responses.calls) == answers


def test_worker_task_fails_after_the_last_attempt(
    mocked_responses: responses.RequestsMock, finished: list[Any], settings: Any
) -> None:
    settings.ANYMAIL = {**settings.ANYMAIL, "RETRY_MAX_ATTEMPTS": 2}
    mocked_responses.add("POST", POSTMARK_URL, status=500, body="oops")
    queued().send_messages([make_message()])
    (result,) = finished
    assert result.status == "FAILED"
    assert len(mocked_responses.calls) == 2


# --- configuration ----------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_options_from_settings(settings: Any, dummy: Any) -> None:
    settings.EMAIL_BACKEND = QUEUED
    settings.ANYMAIL = {
        **settings.ANYMAIL,
        "QUEUED_DELIVERY_BACKEND": POSTMARK,
        "QUEUED_TASK_BACKEND": "dummy",
        "QUEUED_QUEUE_NAME": "email",
    }
    assert mail.send_mail("Subject", "Body", "from@example.com", ["to@example.com"]) == 1
    (result,) = dummy.results
    assert result.task.queue_name == "email"
    assert result.args[1] == {"backend": POSTMARK, "options": {}}


@pytest.mark.parametrize(
    ("options", "problem"),
    [
        ({"delivery_backend": None}, "set either mailer (a Django 6.1 MAILERS alias) or"),
        ({"mailer": "x"}, "set either mailer"),
        ({"delivery_backend": "anymail.backends.nope.EmailBackend"}, "can't import delivery"),
        ({"delivery_backend": "anymail.message.AnymailMessage"}, "is not an email backend"),
        ({"delivery_backend": QUEUED}, "the delivery backend can't be a queued backend"),
        ({"delivery_options": {"server_token": "x"}}, "can't hold 'server_token'"),
        ({"delivery_options": ["x"]}, "delivery_options must be a dict."),
        ({"task_backend": "nope"}, "the task backend 'nope' can't take the send task"),
        ({"queue_name": "email"}, "(queue 'email', priority 0)"),
        ({"priority": "high"}, "priority must be a whole number, not 'high'."),
    ],
)
def test_invalid_options(options: dict[str, Any], problem: str) -> None:
    with pytest.raises(AnymailImproperlyConfigured) as info:
        queued(**options)
    assert str(info.value).startswith("Invalid queued email backend options: ")
    assert problem in str(info.value)


def test_a_missing_esp_setting_shows_when_the_backend_is_made(settings: Any) -> None:
    settings.ANYMAIL = {}
    with pytest.raises(AnymailImproperlyConfigured, match="POSTMARK_SERVER_TOKEN"):
        queued()


@pytest.mark.skipif(django.VERSION >= (6, 1), reason="Django 5.2 only")
def test_mailer_needs_django_61() -> None:
    with pytest.raises(AnymailImproperlyConfigured, match=r"mailer needs Django 6\.1 MAILERS"):
        queued(delivery_backend=None, mailer="transactional")


@requires_mailers
@pytest.mark.django_db(transaction=True)
def test_mailers(
    settings: Any, mocked_responses: responses.RequestsMock, finished: list[Any]
) -> None:
    from django.core.mail import mailers

    settings.MAILERS = {
        "default": {"BACKEND": QUEUED, "OPTIONS": {"mailer": "transactional"}},
        "transactional": {
            "BACKEND": POSTMARK,
            "OPTIONS": {"server_token": "mailer-token", "send_defaults": {"tags": ["tx"]}},
        },
        "broken": {"BACKEND": QUEUED, "OPTIONS": {"mailer": "nope"}},
        "loop": {"BACKEND": QUEUED, "OPTIONS": {"mailer": "default"}},
    }
    mocked_responses.add("POST", POSTMARK_URL, json=POSTMARK_OK)
    assert make_message().send() == 1
    (result,) = finished
    assert result.args[1] == {"mailer": "transactional"}
    request = mocked_responses.calls[0].request
    assert request.headers["X-Postmark-Server-Token"] == "mailer-token"
    assert b'"Tag": "tx"' in request.body
    with pytest.raises(AnymailInvalidMailer, match=r"^MAILERS\['broken'\]: Mailer 'nope' is not"):
        mailers["broken"]
    with pytest.raises(AnymailInvalidMailer, match="can't be a queued backend itself"):
        mailers["loop"]


@pytest.mark.django_db(transaction=True)
def test_get_connection_path(dummy: Any) -> None:
    if django.VERSION >= (6, 1):
        pytest.skip("get_connection(backend) is for Django before MAILERS")
    connection = get_connection(QUEUED, delivery_backend=POSTMARK, task_backend="dummy")
    assert connection.send_messages([make_message()]) == 1
    assert len(dummy.results) == 1


def test_settings_are_known_to_the_system_checks(settings: Any) -> None:
    from anymail.checks import check_anymail_settings

    settings.ANYMAIL = {
        "QUEUED_DELIVERY_BACKEND": POSTMARK,
        "QUEUED_TASK_BACKEND": "default",
        "QUEUED_ENQUEUE_ON_COMMIT": False,
        "RETRY_SENDS": True,
        "RETRY_MAX_ATTEMPTS": 3,
        "RETRY_DEADLINE": 20,
    }
    assert check_anymail_settings() == []
