"""The retry policy (anymail.retry), in direct sends with ANYMAIL RETRY_SENDS on.

What is retried and what is not, at the wire: how many requests the ESP got, with
which Idempotency-Key, after which waits, and what was logged.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any
from unittest import mock

import pytest
import requests
import responses
from botocore.exceptions import ClientError, EndpointConnectionError, ReadTimeoutError
from django.core.mail import get_connection
from urllib3.exceptions import MaxRetryError, NewConnectionError

from anymail import retry
from anymail.exceptions import (
    AnymailAPIError,
    AnymailRecipientsRefused,
    AnymailRequestsAPIError,
    AnymailUnsupportedFeature,
)
from anymail.retry import RetryPolicy, Verdict, classify
from tests.utils import fixture_json, make_message

POSTMARK = "https://api.postmarkapp.com/email"
RESEND = "https://api.resend.com/emails"
POSTMARK_OK = fixture_json("postmark", "send_success.json")
RESEND_OK = {"id": "49a3999c-0ce1-4ea6-ab68-afcd6dc2e794"}


@pytest.fixture(autouse=True)
def retry_settings(settings: Any) -> None:
    settings.ANYMAIL = {
        "POSTMARK_SERVER_TOKEN": "server-token",
        "RESEND_API_KEY": "re_test_key",
        "RETRY_SENDS": True,
        "RETRY_BACKOFF": 2,
        "RETRY_MAX_BACKOFF": 10,
    }


@pytest.fixture(autouse=True)
def waits(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The waits between attempts (not waited for)."""
    recorded: list[float] = []
    monkeypatch.setattr(retry, "_sleep", recorded.append)
    return recorded


@pytest.fixture
def mocked() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock() as mock_requests:
        yield mock_requests


def send(backend: str = "postmark", **options: Any) -> int:
    connection = get_connection(f"anymail.backends.{backend}.EmailBackend", **options)
    return int(connection.send_messages([make_message()]))


def connect_error() -> requests.ConnectionError:
    # As requests raises it when the connection is refused (the request never left).
    reason = NewConnectionError(None, "Failed to establish a new connection: refused")
    return requests.ConnectionError(MaxRetryError(None, "/email", reason))  # type: ignore[arg-type]


def test_5xx_is_retried_with_backoff(
    mocked: responses.RequestsMock, waits: list[float], caplog: pytest.LogCaptureFixture
) -> None:
    mocked.add("POST", POSTMARK, status=503, body="busy")
    mocked.add("POST", POSTMARK, status=500, body="oops")
    mocked.add("POST", POSTMARK, json=POSTMARK_OK)
    with caplog.at_level(logging.INFO, logger="anymail"):
        assert send() == 1
    assert len(mocked.calls) == 3
    assert mocked.calls[0].request.body == mocked.calls[2].request.body
    # Exponential (2 s, then 4 s) with jitter: each wait in the upper half of its step.
    assert 1 <= waits[0] <= 2 and 2 <= waits[1] <= 4
    assert [record.getMessage() for record in caplog.records if record.name == "anymail"] == [
        f"Postmark send: attempt 1 of 5 failed (HTTP 503), retrying in {waits[0]:.2f} s",
        f"Postmark send: attempt 2 of 5 failed (HTTP 500), retrying in {waits[1]:.2f} s",
        "Postmark send: sent on attempt 3",
    ]


def test_429_waits_for_retry_after(mocked: responses.RequestsMock, waits: list[float]) -> None:
    mocked.add("POST", POSTMARK, status=429, headers={"Retry-After": "30"}, body="slow down")
    when = format_datetime(datetime.now(UTC) + timedelta(seconds=20), usegmt=True)
    mocked.add("POST", POSTMARK, status=429, headers={"Retry-After": when}, body="slow down")
    mocked.add("POST", POSTMARK, status=429, body="slow down")
    mocked.add("POST", POSTMARK, json=POSTMARK_OK)
    assert send() == 1
    assert len(mocked.calls) == 4
    assert waits[0] == 30  # longer than the backoff cap: the ESP's word wins
    assert 18 <= waits[1] <= 20
    assert 4 <= waits[2] <= 8  # no Retry-After: the backoff


def test_permanent_errors_are_not_retried(
    mocked: responses.RequestsMock, caplog: pytest.LogCaptureFixture
) -> None:
    mocked.add("POST", POSTMARK, status=401, json={"ErrorCode": 10, "Message": "Bad token"})
    with caplog.at_level(logging.INFO, logger="anymail"), pytest.raises(AnymailAPIError):
        send()
    assert len(mocked.calls) == 1
    (record,) = [record for record in caplog.records if record.name == "anymail"]
    assert record.levelno == logging.ERROR
    assert record.getMessage().startswith(
        "Postmark send failed on attempt 1, not retryable: Postmark API error"
    )


def test_gives_up_after_max_attempts(
    mocked: responses.RequestsMock, settings: Any, caplog: pytest.LogCaptureFixture
) -> None:
    settings.ANYMAIL = {**settings.ANYMAIL, "RETRY_MAX_ATTEMPTS": 3}
    for _ in range(3):
        mocked.add("POST", POSTMARK, status=502, body="bad gateway")
    with caplog.at_level(logging.INFO, logger="anymail"), pytest.raises(AnymailAPIError) as info:
        send()
    assert info.value.status_code == 502
    assert len(mocked.calls) == 3
    assert (
        caplog.records[-1]
        .getMessage()
        .startswith(
            "Postmark send failed: attempt 3 of 3 (HTTP 502), giving up: "
            "Postmark API error: HTTP 502"
        )
    )


def test_gives_up_when_the_wait_would_pass_the_deadline(
    mocked: responses.RequestsMock, settings: Any, caplog: pytest.LogCaptureFixture
) -> None:
    settings.ANYMAIL = {**settings.ANYMAIL, "RETRY_DEADLINE": 60}
    mocked.add("POST", POSTMARK, status=429, headers={"Retry-After": "3600"}, body="quota")
    with caplog.at_level(logging.INFO, logger="anymail"), pytest.raises(AnymailAPIError):
        send()
    assert len(mocked.calls) == 1
    assert "the next one (in 3600.0 s) would pass the 60 s retry deadline, giving up" in (
        caplog.records[-1].getMessage()
    )


def test_connection_refused_is_retried(mocked: responses.RequestsMock) -> None:
    mocked.add("POST", POSTMARK, body=connect_error())
    mocked.add("POST", POSTMARK, body=requests.ConnectTimeout("connect timed out"))
    mocked.add("POST", POSTMARK, json=POSTMARK_OK)
    assert send() == 1
    assert len(mocked.calls) == 3


@pytest.mark.parametrize(
    "failure",
    [requests.ReadTimeout("read timed out"), requests.ConnectionError("Connection aborted.")],
    ids=["read timeout", "connection reset"],
)
def test_no_answer_without_idempotency_key_is_not_retried(
    mocked: responses.RequestsMock, failure: Exception, caplog: pytest.LogCaptureFixture
) -> None:
    # Postmark takes no idempotency key: the message may have been sent.
    mocked.add("POST", POSTMARK, body=failure)
    with caplog.at_level(logging.INFO, logger="anymail"), pytest.raises(type(failure)) as info:
        send()
    assert isinstance(info.value, AnymailRequestsAPIError)
    assert len(mocked.calls) == 1
    assert retry.may_have_been_sent(info.value)
    assert caplog.records[-1].levelno == logging.WARNING
    assert caplog.records[-1].getMessage() == (
        "Postmark send: outcome unknown on attempt 1 (no answer): Postmark may have accepted "
        "the message, and without an idempotency key another attempt could send it twice, so "
        "it is not retried."
    )


def test_no_answer_with_idempotency_key_is_retried_with_the_same_key(
    mocked: responses.RequestsMock,
) -> None:
    mocked.add("POST", RESEND, body=requests.ReadTimeout("read timed out"))
    mocked.add("POST", RESEND, body=requests.ConnectionError("Connection aborted."))
    mocked.add("POST", RESEND, json=RESEND_OK)
    assert send("resend") == 1
    keys = [call.request.headers["Idempotency-Key"] for call in mocked.calls]
    assert len(keys) == 3 and len(set(keys)) == 1
    assert keys[0].startswith("anymail-")
    # The key is a header, not part of the email object.
    assert mocked.calls[0].request.body == mocked.calls[2].request.body
    assert b"idempotency" not in mocked.calls[0].request.body


def test_idempotency_conflict_is_retried_with_the_same_key(
    mocked: responses.RequestsMock,
) -> None:
    # The first attempt timed out while Resend was still handling it: the retry meets a
    # 409, and the next one gets the first attempt's answer.
    mocked.add("POST", RESEND, body=requests.ReadTimeout("read timed out"))
    mocked.add(
        "POST",
        RESEND,
        status=409,
        json={"statusCode": 409, "name": "concurrent_idempotent_requests", "message": "..."},
    )
    mocked.add("POST", RESEND, json=RESEND_OK)
    assert send("resend") == 1
    keys = {call.request.headers["Idempotency-Key"] for call in mocked.calls}
    assert len(mocked.calls) == 3 and len(keys) == 1


def test_each_message_gets_its_own_key_and_a_message_key_wins(
    mocked: responses.RequestsMock,
) -> None:
    for _ in range(3):
        mocked.add("POST", RESEND, json=RESEND_OK)
    connection = get_connection("anymail.backends.resend.EmailBackend")
    own = make_message(esp_extra={"idempotency_key": "order-1234"})
    assert connection.send_messages([make_message(), make_message(), own]) == 3
    # (The sends are concurrent: the calls may arrive in any order.)
    keys = sorted(call.request.headers["Idempotency-Key"] for call in mocked.calls)
    assert keys[2] == "order-1234" and len(set(keys)) == 3
    assert all(key.startswith("anymail-") for key in keys[:2])


def test_retries_are_off_by_default(mocked: responses.RequestsMock, settings: Any) -> None:
    settings.ANYMAIL = {"POSTMARK_SERVER_TOKEN": "server-token", "RESEND_API_KEY": "re_key"}
    mocked.add("POST", POSTMARK, status=503, body="busy")
    with pytest.raises(AnymailAPIError):
        send()
    assert len(mocked.calls) == 1
    mocked.add("POST", RESEND, json=RESEND_OK)
    assert send("resend") == 1
    assert "Idempotency-Key" not in mocked.calls[1].request.headers


def test_retry_sends_backend_option(mocked: responses.RequestsMock, settings: Any) -> None:
    settings.ANYMAIL = {"POSTMARK_SERVER_TOKEN": "server-token", "RETRY_BACKOFF": 0}
    mocked.add("POST", POSTMARK, status=503, body="busy")
    mocked.add("POST", POSTMARK, json=POSTMARK_OK)
    assert send(retry_sends=True) == 1
    assert len(mocked.calls) == 2


# --- Amazon SES (boto3) ---------------------------------------------------------------


def client_error(code: str, status: int) -> ClientError:
    response = {
        "Error": {"Code": code, "Message": "..."},
        "ResponseMetadata": {"HTTPStatusCode": status},
    }
    return ClientError(response, "SendEmail")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("failures", "calls", "sent"),
    [
        ([client_error("TooManyRequestsException", 429)], 2, True),
        ([client_error("InternalFailure", 500)], 2, True),
        ([EndpointConnectionError(endpoint_url="https://email.us-east-1.amazonaws.com")], 2, True),
        ([client_error("MessageRejected", 400)], 1, False),
        ([ReadTimeoutError(endpoint_url="https://email.us-east-1.amazonaws.com")], 1, False),
    ],
    ids=["throttled", "5xx", "could not connect", "rejected", "read timeout"],
)
def test_amazon_ses(failures: list[Exception], calls: int, sent: bool) -> None:
    with mock.patch("anymail.backends.amazon_ses.boto3.session.Session", autospec=True) as session:
        client = session.return_value.client.return_value
        client.send_email.side_effect = [*failures, {"MessageId": "0100-abc"}]
        if sent:
            assert send("amazon_ses") == 1
        else:
            with pytest.raises(AnymailAPIError):
                send("amazon_ses")
    assert client.send_email.call_count == calls


@pytest.mark.parametrize(
    ("config", "total_max_attempts"),
    [(None, 1), ({"retries": {"total_max_attempts": 4}}, 4)],
    ids=["botocore's retries off", "the user's own retries kept"],
)
def test_amazon_ses_client_leaves_retries_to_anymail(
    settings: Any, config: Any, total_max_attempts: int
) -> None:
    # botocore would otherwise retry a read timeout itself (SES has no idempotency key).
    settings.ANYMAIL = {
        **settings.ANYMAIL,
        "AMAZON_SES_CLIENT_PARAMS": {"region_name": "us-east-1", "config": config},
    }
    with mock.patch("anymail.backends.amazon_ses.boto3.session.Session", autospec=True) as session:
        client = session.return_value.client.return_value
        client.send_email.return_value = {"MessageId": "0100-abc"}
        assert send("amazon_ses") == 1
        assert send("amazon_ses", retry_sends=False) == 1
    used = [call.kwargs["config"].retries for call in session.return_value.client.call_args_list]
    assert used[0] == {"total_max_attempts": total_max_attempts}
    assert used[1] == (None if config is None else config["retries"])


# --- classification ---------------------------------------------------------------------


def api_error(status: int | None = None, **attributes: Any) -> AnymailAPIError:
    error = AnymailAPIError("failed", status_code=status)
    for name, value in attributes.items():
        setattr(error, name, value)
    return error


@pytest.mark.parametrize(
    ("error", "idempotent", "verdict"),
    [
        (api_error(429), False, Verdict.RETRY),
        (api_error(500), False, Verdict.RETRY),
        (api_error(503), False, Verdict.RETRY),
        (api_error(400), True, Verdict.FAIL),
        (api_error(404), True, Verdict.FAIL),
        (api_error(409), False, Verdict.FAIL),
        (api_error(409), True, Verdict.RETRY),  # an attempt with that key is in progress
        (api_error(200), True, Verdict.UNKNOWN),  # accepted, but the answer was unreadable
        (api_error(transport_failure="not_sent"), False, Verdict.RETRY),
        (api_error(transport_failure="no_answer"), False, Verdict.UNKNOWN),
        (api_error(transport_failure="no_answer"), True, Verdict.RETRY),
        (api_error(), True, Verdict.FAIL),  # e.g. an SDK client that can't be made
        (AnymailRecipientsRefused(), True, Verdict.FAIL),
        (AnymailUnsupportedFeature("no"), True, Verdict.FAIL),
        (ValueError("a bug"), True, Verdict.FAIL),
    ],
)
def test_classify(error: Exception, idempotent: bool, verdict: Verdict) -> None:
    assert classify(error, idempotent) is verdict


def test_a_partly_sent_message_is_not_retried() -> None:
    # Amazon SES sends a bulk template message of many recipients in several calls.
    payload = mock.Mock(api_calls=mock.Mock(return_value=[{}, {}]))
    error = AnymailAPIError("throttled", status_code=429, payload=payload)
    assert classify(error, idempotent=True) is Verdict.FAIL


def test_policy_from_settings(settings: Any) -> None:
    settings.ANYMAIL = {"RETRY_MAX_ATTEMPTS": 2, "RETRY_DEADLINE": 9.5}
    assert RetryPolicy.from_settings() == RetryPolicy(max_attempts=2, deadline=9.5)
    settings.ANYMAIL = {"RETRY_BACKOFF": "1s"}
    with pytest.raises(Exception, match="RETRY_BACKOFF: expected a number of seconds"):
        RetryPolicy.from_settings()
