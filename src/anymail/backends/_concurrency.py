"""Concurrent sending for ``AnymailBaseBackend.send_messages()``.

Only the ESP calls (``post_to_esp()``) run in worker threads. Everything the
caller can observe -- ``pre_send``, payload building, ``anymail_status``,
``post_send`` and exceptions -- stays in the caller's thread, in message order:
message k+1 is prepared while message k is in flight, and results are taken
in order, so the caller sees what a sequential send shows, only sooner.

Each worker thread sends through its own copy of the backend with its own
connection (a ``requests.Session`` is not thread-safe, nor is a boto3 session):
the attribute named by the backend's ``concurrent_connection_attr`` is reset on
the copy, which opens it on its first message and closes it when the pool shuts
down. The pool lives for one ``send_messages()`` call: no thread or connection
outlives it.
"""

from __future__ import annotations

import copy
import logging
import queue
import threading
from collections import deque
from collections.abc import Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.core.mail import EmailMessage

from ..exceptions import AnymailAPIError, AnymailError
from ..message import AnymailStatus

if TYPE_CHECKING:
    from .base import AnymailBaseBackend, BasePayload

logger = logging.getLogger("anymail")

#: Default for SEND_CONCURRENCY: ESP calls one send_messages() keeps in flight.
DEFAULT_SEND_CONCURRENCY = 8

#: AWS-style error codes that mean "rate limited" (sent with HTTP 400 by older APIs).
_THROTTLING_CODES = frozenset({"Throttling", "ThrottlingException", "TooManyRequestsException"})


def is_rate_limited(err: BaseException) -> bool:
    """Whether the ESP refused the call for sending too fast (HTTP 429 or throttling)."""
    if not isinstance(err, AnymailAPIError):
        return False
    if err.status_code == 429:
        return True
    response = err.response
    error = response.get("Error") if isinstance(response, dict) else None
    return isinstance(error, dict) and error.get("Code") in _THROTTLING_CODES


def can_send_concurrently(backend: AnymailBaseBackend, messages: Sequence[EmailMessage]) -> bool:
    """Whether ``send_messages(messages)`` should use worker threads."""
    return (
        backend.send_concurrency > 1
        and len(messages) > 1
        and backend.concurrent_connection_attr is not None
    )


@dataclass
class _Pending:
    """A message whose ESP call is running (or was never needed: future is None)."""

    index: int
    message: EmailMessage
    payload: BasePayload | None = None
    future: Future[Any] | None = None


class _WorkerPool:
    """At most ``size`` threads, started as work arrives, each with its own connection."""

    def __init__(self, backend: AnymailBaseBackend, size: int) -> None:
        self._backend = backend
        self._size = size
        self._jobs: queue.SimpleQueue[tuple[Future[Any], BasePayload, EmailMessage] | None] = (
            queue.SimpleQueue()
        )
        self._threads: list[threading.Thread] = []

    def submit(self, payload: BasePayload, message: EmailMessage) -> Future[Any]:
        future: Future[Any] = Future()
        self._jobs.put((future, payload, message))
        if len(self._threads) < self._size:
            thread = threading.Thread(
                target=self._work,
                name=f"anymail-send-{len(self._threads) + 1}",
                daemon=True,  # never keeps the process alive; shutdown() joins it anyway
            )
            self._threads.append(thread)
            thread.start()
        return future

    def shutdown(self) -> None:
        """Let every started job finish, then stop the threads and close their connections."""
        for _thread in self._threads:
            self._jobs.put(None)
        for thread in self._threads:
            thread.join()
        self._threads.clear()

    def _work(self) -> None:
        backend = self._backend
        worker = copy.copy(backend)
        attr = backend.concurrent_connection_attr
        assert attr is not None
        setattr(worker, attr, None)  # its own connection, never the caller's
        try:
            while (job := self._jobs.get()) is not None:
                future, payload, message = job
                if not future.set_running_or_notify_cancel():
                    continue
                try:
                    if getattr(worker, attr) is None:
                        worker.open()
                    result = worker.post_to_esp(payload, message)
                except BaseException as err:
                    if isinstance(err, AnymailError) and err.backend is worker:
                        err.backend = backend  # the caller knows its backend, not our copy
                    future.set_exception(err)
                else:
                    future.set_result(result)
        finally:
            worker.close()


def send_concurrently(backend: AnymailBaseBackend, messages: Sequence[EmailMessage]) -> int:
    """``send_messages()`` with up to ``backend.send_concurrency`` ESP calls in flight.

    Returns the number sent, or raises the error a sequential send would have
    raised first -- after the ESP calls already started have finished and been
    reported (status and ``post_send``). Messages not started by then are not
    sent; their ``anymail_status`` is reset to an empty one (nothing sent). With
    ``fail_silently``, a rate-limit answer (429) stops new sends the same way.
    """
    size = backend.send_concurrency
    pool = _WorkerPool(backend, size)
    window: deque[_Pending] = deque()
    num_sent = 0
    next_index = 0
    # A silenced rate-limit error stops new calls: sending on would only hammer the ESP.
    rate_limited = False
    # (message index, error): the error of the earliest message wins, as sequentially.
    failure: tuple[int, BaseException] | None = None

    def fail(index: int, err: BaseException) -> None:
        nonlocal failure
        if failure is None or index < failure[0]:
            if failure is not None:
                _log_dropped(backend, failure[1])
            failure = (index, err)
        else:
            _log_dropped(backend, err)

    try:
        while True:
            while (
                failure is None
                and not rate_limited
                and next_index < len(messages)
                and len(window) < size
            ):
                index, message = next_index, messages[next_index]
                next_index += 1
                try:
                    pending = _start(backend, pool, index, message)
                except BaseException as err:
                    if not backend._handle_send_error(err, message):
                        fail(index, err)
                    continue
                window.append(pending)
            if not window:
                break
            pending = window.popleft()
            try:
                if _finish(backend, pending):
                    num_sent += 1
            except BaseException as err:
                if not backend._handle_send_error(err, pending.message):
                    fail(pending.index, err)
                elif is_rate_limited(err):
                    rate_limited = True
    finally:
        for pending in window:  # only after an interrupt: don't leave workers running
            if pending.future is not None:
                pending.future.cancel()
        pool.shutdown()
    if failure is not None or rate_limited:
        for message in messages[next_index:]:
            message.anymail_status = AnymailStatus()
    if failure is not None:
        raise failure[1]
    if rate_limited and next_index < len(messages):
        logger.warning(
            "%s rate limited the send (fail_silently): %d of %d messages were not sent; "
            "their anymail_status is empty. Send them again later.",
            backend.esp_name,
            len(messages) - next_index,
            len(messages),
        )
    return num_sent


def _start(
    backend: AnymailBaseBackend, pool: _WorkerPool, index: int, message: EmailMessage
) -> _Pending:
    """pre_send and the payload, in the caller's thread; the ESP call goes to the pool."""
    payload = backend._prepare_send(message)
    if payload is None:
        return _Pending(index, message)
    return _Pending(index, message, payload, pool.submit(payload, message))


def _finish(backend: AnymailBaseBackend, pending: _Pending) -> bool:
    if pending.future is None or pending.payload is None:
        return False
    future = pending.future
    error = future.exception()  # waits for the ESP call
    if error is not None:
        backend._report_send(pending.payload, pending.message, error=error)
    else:
        backend._report_send(pending.payload, pending.message, response=future.result())
    return True


def _log_dropped(backend: AnymailBaseBackend, err: BaseException) -> None:
    # Only one exception can propagate: the one a sequential send would have raised.
    # Errors of messages already in flight beside it are logged, not lost.
    logger.error(
        "%s send failed while an earlier message's error was being raised: %s",
        backend.esp_name,
        err,
    )
