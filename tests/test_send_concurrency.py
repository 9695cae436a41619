"""Concurrent sends in send_messages() (backends/_concurrency.py).

A small backend whose ESP calls block on a barrier shows that calls really
overlap; signal receivers record their thread and order. No timing assertions:
a barrier that is never reached fails the test by breaking, not by being slow.
"""

from __future__ import annotations

import contextlib
import logging
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import pytest
from django.core.mail import EmailMessage, get_connection

from anymail.backends._concurrency import is_rate_limited
from anymail.backends.base import AnymailBaseBackend, BasePayload
from anymail.backends.test import TestPayload as RecordingPayload
from anymail.exceptions import AnymailAPIError, AnymailImproperlyConfigured
from anymail.message import AnymailRecipientStatus
from anymail.signals import post_send, pre_send

from .utils import connected, recorded_sends

#: Long enough never to break on a busy machine; only reached when calls don't overlap.
BARRIER_TIMEOUT = 30


class Connection:
    def __init__(self, registry: list[Connection]) -> None:
        self.closed = False
        self.thread = threading.get_ident()
        registry.append(self)


class ThreadedBackend(AnymailBaseBackend):
    """An ESP whose calls are recorded, and fail for the subjects listed in ``failing``."""

    esp_name = "Threaded"
    payload_class = RecordingPayload
    concurrent_connection_attr = "connection"
    connections: ClassVar[list[Connection]] = []

    def __init__(self, failing: frozenset[str] = frozenset(), barrier: Any = None, **kwargs: Any):
        super().__init__(**kwargs)
        self.connection: Connection | None = None
        self.failing = failing
        self.rate_limited: frozenset[str] = frozenset()
        self.barrier = barrier
        self.lock = threading.Lock()
        self.posted: list[str] = []  # subjects, in the order the ESP got them
        self.in_flight = [0, 0]  # now, most (a list: shared with the workers' copies)

    def open(self) -> bool:
        if self.connection is not None:
            return False
        self.connection = Connection(self.connections)
        return True

    def close(self) -> None:
        if self.connection is not None:
            self.connection.closed = True
            self.connection = None

    def post_to_esp(self, payload: BasePayload, message: EmailMessage) -> Any:
        # (self is a worker's copy: the lock, counters and list are shared with the original.)
        assert self.connection is not None and self.connection.thread == threading.get_ident()
        with self.lock:
            self.posted.append(message.subject)
            self.in_flight[0] += 1
            self.in_flight[1] = max(self.in_flight)
        try:
            if self.barrier is not None:
                self.barrier.wait(BARRIER_TIMEOUT)
            if message.subject in self.failing:
                raise AnymailAPIError(f"ESP refused {message.subject}", backend=self)
            if message.subject in self.rate_limited:
                raise AnymailAPIError("Too many requests", status_code=429, backend=self)
            return {"id": f"id-{message.subject}", "thread": threading.get_ident()}
        finally:
            with self.lock:
                self.in_flight[0] -= 1

    def parse_recipient_status(
        self, response: Any, payload: BasePayload, message: EmailMessage
    ) -> dict[str, AnymailRecipientStatus]:
        return {
            address: AnymailRecipientStatus(response["id"], "queued")
            for address in message.recipients()
        }


@pytest.fixture(autouse=True)
def fresh_connections() -> Iterator[list[Connection]]:
    ThreadedBackend.connections = []
    yield ThreadedBackend.connections


@pytest.fixture
def events() -> Iterator[list[tuple[str, str, int]]]:
    """(signal, subject, thread id) for every pre_send and post_send."""
    with recorded_sends() as recorded:
        yield recorded


def messages(count: int) -> list[EmailMessage]:
    return [
        EmailMessage(f"m{index}", "body", "from@example.com", [f"to{index}@example.com"])
        for index in range(count)
    ]


def subjects(events: list[tuple[str, str, int]], signal: str) -> list[str]:
    return [subject for name, subject, _ in events if name == signal]


def test_calls_overlap_up_to_the_bound(
    events: list[tuple[str, str, int]], fresh_connections: list[Connection]
) -> None:
    # Every call waits until 4 are in flight: a sequential send would break the barrier.
    backend = ThreadedBackend(barrier=threading.Barrier(4), send_concurrency=4)
    threads_before = set(threading.enumerate())
    sent = messages(8)
    assert backend.send_messages(sent) == 8

    assert backend.in_flight == [0, 4]
    me = threading.get_ident()
    assert subjects(events, "pre_send") == [f"m{i}" for i in range(8)]
    assert subjects(events, "post_send") == [f"m{i}" for i in range(8)]
    assert {thread for _, _, thread in events} == {me}
    for index, message in enumerate(sent):
        assert message.anymail_status.message_id == f"id-m{index}"
        assert message.anymail_status.esp_response["thread"] != me
    # No leaks: four workers, each with its own connection, all closed; no thread left.
    worker_connections = [c for c in fresh_connections if c.thread != me]
    assert len(worker_connections) == 4
    assert len({c.thread for c in worker_connections}) == 4
    assert all(c.closed for c in fresh_connections)
    assert backend.connection is None
    assert not set(threading.enumerate()) - threads_before


def test_concurrency_one_is_sequential(events: list[tuple[str, str, int]]) -> None:
    backend = ThreadedBackend(send_concurrency=1)
    sent = messages(3)
    assert backend.send_messages(sent) == 3
    me = threading.get_ident()
    assert all(m.anymail_status.esp_response["thread"] == me for m in sent)
    # strictly one message after the other, as before concurrency existed
    assert [(name, subject) for name, subject, _ in events] == [
        (name, f"m{i}") for i in range(3) for name in ("pre_send", "post_send")
    ]


def test_setting_and_option(settings: Any) -> None:
    assert ThreadedBackend().send_concurrency == 8
    settings.ANYMAIL = {"SEND_CONCURRENCY": 3}
    assert ThreadedBackend().send_concurrency == 3
    assert ThreadedBackend(send_concurrency=2).send_concurrency == 2
    settings.ANYMAIL = {"SEND_CONCURRENCY": 0}
    with pytest.raises(AnymailImproperlyConfigured, match="SEND_CONCURRENCY"):
        ThreadedBackend()


def test_error_mid_batch_is_raised_after_in_flight_calls_finish(
    events: list[tuple[str, str, int]], fresh_connections: list[Connection]
) -> None:
    backend = ThreadedBackend(failing=frozenset({"m2"}), send_concurrency=3)
    sent = messages(10)
    with pytest.raises(AnymailAPIError, match="ESP refused m2") as excinfo:
        backend.send_messages(sent)

    assert excinfo.value.email_message is sent[2]
    assert excinfo.value.backend is backend  # the caller's backend, not a worker's copy
    # m3 and m4 were in flight when m2's error arrived: they finish and are reported;
    # m5... were never started.
    assert sorted(backend.posted) == ["m0", "m1", "m2", "m3", "m4"]
    assert subjects(events, "pre_send") == ["m0", "m1", "m2", "m3", "m4"]
    assert subjects(events, "post_send") == ["m0", "m1", "m3", "m4"]
    for index in (0, 1, 3, 4):
        assert sent[index].anymail_status.status == {"queued"}
    assert sent[2].anymail_status.status is None
    for message in sent[5:]:
        assert message.anymail_status.status is None
        assert message.anymail_status.message_id is None
    assert all(c.closed for c in fresh_connections)


def test_the_earliest_error_is_raised_and_later_ones_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    backend = ThreadedBackend(failing=frozenset({"m1", "m2"}), send_concurrency=3)
    with (
        caplog.at_level(logging.ERROR, logger="anymail"),
        pytest.raises(AnymailAPIError, match="ESP refused m1"),
    ):
        backend.send_messages(messages(5))
    assert "ESP refused m2" in caplog.text


def test_fail_silently_sends_the_others(
    events: list[tuple[str, str, int]], caplog: pytest.LogCaptureFixture
) -> None:
    backend = ThreadedBackend(
        failing=frozenset({"m1", "m3"}), send_concurrency=3, fail_silently=True
    )
    sent = messages(6)
    with caplog.at_level(logging.WARNING, logger="anymail"):
        assert backend.send_messages(sent) == 4
    assert "ESP refused m1" in caplog.text and "ESP refused m3" in caplog.text
    assert subjects(events, "post_send") == ["m0", "m2", "m4", "m5"]
    assert [m.anymail_status.status for m in sent] == [
        {"queued"},
        None,
        {"queued"},
        None,
        {"queued"},
        {"queued"},
    ]


def test_message_error_stops_new_sends(events: list[tuple[str, str, int]]) -> None:
    """An error raised in the caller's thread (here by a pre_send receiver) for message k:
    the messages already in flight finish, later ones are not sent."""

    def refuse_m3(sender: Any, message: Any, **kwargs: Any) -> None:
        if message.subject == "m3":
            raise ValueError("no m3")

    backend = ThreadedBackend(send_concurrency=3)
    with connected(pre_send, refuse_m3), pytest.raises(ValueError, match="no m3"):
        backend.send_messages(messages(8))
    assert sorted(backend.posted) == ["m0", "m1", "m2"]
    assert subjects(events, "post_send") == ["m0", "m1", "m2"]


def test_post_send_error_is_raised_in_order(events: list[tuple[str, str, int]]) -> None:
    def fail_on_m1(sender: Any, message: Any, **kwargs: Any) -> None:
        if message.subject == "m1":
            raise RuntimeError("receiver failed on m1")

    backend = ThreadedBackend(send_concurrency=2)
    with (
        connected(post_send, fail_on_m1),
        pytest.raises(RuntimeError, match="receiver failed on m1"),
    ):
        backend.send_messages(messages(6))
    # m2 was in flight beside m1: reported too; nothing after it was started
    assert sorted(backend.posted) == ["m0", "m1", "m2"]
    assert subjects(events, "post_send") == ["m0", "m1", "m2"]


@pytest.mark.parametrize("silently", [True, False])
def test_a_429_stops_new_sends(
    silently: bool, events: list[tuple[str, str, int]], caplog: pytest.LogCaptureFixture
) -> None:
    backend = ThreadedBackend(send_concurrency=3, fail_silently=silently)
    backend.rate_limited = frozenset({"m2"})
    sent = messages(10)
    with caplog.at_level(logging.WARNING, logger="anymail"):
        if silently:
            assert backend.send_messages(sent) == 4
            assert "5 of 10 messages were not sent" in caplog.text
        else:
            with pytest.raises(AnymailAPIError, match="Too many requests"):
                backend.send_messages(sent)
    # m3 and m4 were already in flight; nothing was started after the 429 arrived
    assert sorted(backend.posted) == ["m0", "m1", "m2", "m3", "m4"]
    assert subjects(events, "post_send") == ["m0", "m1", "m3", "m4"]
    assert all(m.anymail_status.status is None for m in sent[5:])


class LimitedOnce(ThreadedBackend):
    """The ESP answers 429 once to each subject in ``rate_limited`` (a set the copies share)."""

    def post_to_esp(self, payload: BasePayload, message: EmailMessage) -> Any:
        try:
            return super().post_to_esp(payload, message)
        except AnymailAPIError:
            self.rate_limited.discard(message.subject)  # type: ignore[attr-defined]
            raise


def test_a_429_is_retried_by_the_retry_policy(
    settings: Any, events: list[tuple[str, str, int]]
) -> None:
    # With RETRY_SENDS the 429 is retried where it happened, and the send goes on.
    settings.ANYMAIL = {"RETRY_BACKOFF": 0, "RETRY_MAX_BACKOFF": 0}
    backend = LimitedOnce(send_concurrency=3, retry_sends=True)
    backend.rate_limited = {"m2"}  # type: ignore[assignment]
    sent = messages(10)
    assert backend.send_messages(sent) == 10
    assert sorted(backend.posted) == sorted([*(f"m{index}" for index in range(10)), "m2"])
    assert subjects(events, "post_send") == [f"m{index}" for index in range(10)]
    assert {thread for _signal, _subject, thread in events} == {threading.get_ident()}


def test_other_silenced_errors_do_not_stop_the_send() -> None:
    backend = ThreadedBackend(failing=frozenset({"m2"}), send_concurrency=3, fail_silently=True)
    assert backend.send_messages(messages(10)) == 9


@pytest.mark.parametrize(
    ("error", "limited"),
    [
        (AnymailAPIError("x", status_code=429), True),
        (AnymailAPIError("x", status_code=400, response={"Error": {"Code": "Throttling"}}), True),
        (AnymailAPIError("x", status_code=400, response={"Error": {"Code": "Other"}}), False),
        (AnymailAPIError("x", status_code=503), False),
        (ValueError("x"), False),
    ],
)
def test_is_rate_limited(error: BaseException, limited: bool) -> None:
    assert is_rate_limited(error) is limited


def test_backends_without_a_connection_attribute_stay_sequential() -> None:
    backend = get_connection("anymail.backends.test.EmailBackend", send_concurrency=8)
    threads_before = set(threading.enumerate())
    assert backend.send_messages(messages(4)) == 4
    assert not set(threading.enumerate()) - threads_before


# --- real HTTP: no socket or thread left after a concurrent send ------------------------

FAKE_ESP = Path(__file__).resolve().parent.parent / "benchmarks" / "fake_esp.py"


def open_sockets() -> int:
    fd_dir = Path("/proc/self/fd")
    count = 0
    for fd in fd_dir.iterdir():
        with contextlib.suppress(OSError):  # closed meanwhile (the listing's own fd)
            count += os.readlink(fd).startswith("socket:")
    return count


@pytest.fixture
def fake_esp() -> Iterator[str]:
    """The benchmarks' fake ESP, in its own process (its sockets aren't counted here)."""
    process = subprocess.Popen(  # noqa: S603 (our own script, with this interpreter)
        [sys.executable, str(FAKE_ESP), "--port", "0"],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(FAKE_ESP.parent.parent / "src")},
    )
    assert process.stdout is not None
    url = process.stdout.readline().strip()
    try:
        assert url.startswith("http://127.0.0.1:"), url
        yield url
    finally:
        process.terminate()
        process.wait()


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="counts sockets in /proc")
@pytest.mark.parametrize("concurrency", [1, 4])
@pytest.mark.parametrize("coalesce", [False, True], ids=["separate", "coalesced"])
def test_no_socket_or_thread_leak_with_real_http(
    fake_esp: str, concurrency: int, coalesce: bool
) -> None:
    # (The sent messages, and the responses in their anymail_status, are still alive.)
    sockets_before = open_sockets()
    threads_before = set(threading.enumerate())
    backend = get_connection(
        "anymail.backends.postmark.EmailBackend",
        server_token="token",
        api_url=f"{fake_esp}/postmark/",
        send_concurrency=concurrency,
        coalesce_sends=coalesce,
    )
    # Coalesced: 1200 messages are 3 batch calls (500 per call), in parallel with 4 threads.
    sent = messages(1200 if coalesce else 12)
    assert backend.send_messages(sent) == len(sent)
    assert all(m.anymail_status.status == {"sent"} for m in sent)
    assert open_sockets() == sockets_before
    assert not set(threading.enumerate()) - threads_before
