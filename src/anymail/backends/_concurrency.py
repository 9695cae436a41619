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
from typing import TYPE_CHECKING, Any, Final

from django.core.mail import EmailMessage

from ..conf import POSITIVE_INT, Setting
from ..exceptions import AnymailAPIError, AnymailError
from ..message import AnymailStatus
from ._send import call_esp, handle_send_error, prepare_send, report_send

if TYPE_CHECKING:
    from ._coalesce import CoalescingBackend
    from .base import AnymailBaseBackend, BasePayload

logger = logging.getLogger("anymail")

#: Default for SEND_CONCURRENCY: ESP calls one send_messages() keeps in flight.
DEFAULT_SEND_CONCURRENCY = 8

SEND_CONCURRENCY: Final = Setting(
    "send_concurrency",
    POSITIVE_INT,
    "ESP calls one send_messages() keeps in flight (1: one message after the other).",
    default=DEFAULT_SEND_CONCURRENCY,
    per_esp=False,
)

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
    """Whether ``send_messages(messages)`` goes through :func:`send_concurrently`:
    worker threads, or coalesced calls (_coalesce.py), or both."""
    if len(messages) <= 1:
        return False
    if _coalesce().coalescer(backend) is not None:
        return True
    return backend.send_concurrency > 1 and backend.concurrent_connection_attr is not None


@dataclass
class _Unit:
    """One ESP call in flight: one message, or several coalesced into ``call``.

    ``items`` are (message index, message, its payload); ``future`` is None when
    there was nothing to send.
    """

    items: list[tuple[int, EmailMessage, BasePayload]]
    call: BasePayload | None = None
    future: Future[Any] | None = None

    @property
    def index(self) -> int:
        return self.items[0][0]

    @property
    def message(self) -> EmailMessage:
        return self.items[0][1]


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
                    result = call_esp(worker, payload, message)
                except BaseException as err:
                    if isinstance(err, AnymailError) and err.backend is worker:
                        err.backend = backend  # the caller knows its backend, not our copy
                    future.set_exception(err)
                else:
                    future.set_result(result)
        finally:
            worker.close()


class _InlinePool:
    """send_concurrency 1 (with coalescing): each call made at once, in the caller's thread."""

    def __init__(self, backend: AnymailBaseBackend) -> None:
        self._backend = backend

    def submit(self, payload: BasePayload, message: EmailMessage) -> Future[Any]:
        future: Future[Any] = Future()
        try:
            future.set_result(call_esp(self._backend, payload, message))
        except Exception as err:
            future.set_exception(err)
        return future

    def shutdown(self) -> None:
        pass


def send_concurrently(backend: AnymailBaseBackend, messages: Sequence[EmailMessage]) -> int:
    """``send_messages()`` with up to ``backend.send_concurrency`` ESP calls in flight,
    and messages coalesced into batch calls where the backend does that.

    Returns the number sent, or raises the error a sequential send would have
    raised first -- after the ESP calls already started have finished and been
    reported (status and ``post_send``). Messages not started by then are not
    sent; their ``anymail_status`` is reset to an empty one (nothing sent). With
    ``fail_silently``, a rate-limit answer (429) stops new sends the same way.
    """
    size = backend.send_concurrency
    pool: _WorkerPool | _InlinePool
    if size > 1 and backend.concurrent_connection_attr is not None:
        pool = _WorkerPool(backend, size)
    else:
        pool, size = _InlinePool(backend), 1
    units = _Units(backend, messages)
    window: deque[_Unit] = deque()
    num_sent = 0
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
            while failure is None and not rate_limited and units.more() and len(window) < size:
                unit, build_error = units.take()
                if unit is not None:
                    if unit.call is not None:
                        unit.future = pool.submit(unit.call, unit.message)
                    window.append(unit)
                if build_error is not None:
                    fail(*build_error)
            if not window:
                break
            unit = window.popleft()
            sent, errors = _finish(backend, unit)
            num_sent += sent
            for index, message, err in errors:
                if not handle_send_error(backend, err, message):
                    fail(index, err)
                elif is_rate_limited(err):
                    rate_limited = True
    finally:
        for unit in window:  # only after an interrupt: don't leave workers running
            if unit.future is not None:
                unit.future.cancel()
        pool.shutdown()
    unstarted = units.unstarted()
    if failure is not None or rate_limited:
        for message in messages[unstarted:]:
            message.anymail_status = AnymailStatus()
    if failure is not None:
        raise failure[1]
    if rate_limited and units.more():
        logger.warning(
            "%s rate limited the send (fail_silently): %d of %d messages were not sent; "
            "their anymail_status is empty. Send them again later.",
            backend.esp_name,
            len(messages) - unstarted,
            len(messages),
        )
    return num_sent


class _Units:
    """Cuts the messages into ESP calls, preparing each message in the caller's thread."""

    def __init__(self, backend: AnymailBaseBackend, messages: Sequence[EmailMessage]) -> None:
        self.backend = backend
        self.coalescer = _coalesce().coalescer(backend)
        self.messages = messages
        self.next_index = 0
        #: A message prepared, that did not fit in the previous call.
        self.carry: tuple[int, EmailMessage, BasePayload] | None = None

    def more(self) -> bool:
        return self.carry is not None or self.next_index < len(self.messages)

    def unstarted(self) -> int:
        """The index of the first message not handed to the ESP."""
        return self.carry[0] if self.carry is not None else self.next_index

    def _next(self) -> tuple[int, EmailMessage, BasePayload | None]:
        index, message = self.next_index, self.messages[self.next_index]
        self.next_index += 1
        return index, message, prepare_send(self.backend, message)

    def take(self) -> tuple[_Unit | None, tuple[int, BaseException] | None]:
        """The next call, and the error of a message that could not be prepared."""
        group: Any = None  # a _coalesce.Group
        while self.more():
            if self.carry is not None:
                index, message, payload = self.carry
                self.carry = None
            else:
                try:
                    index, message, maybe_payload = self._next()
                except BaseException as err:
                    if handle_send_error(self.backend, err, self.messages[self.next_index - 1]):
                        continue
                    return (_group_unit(self.coalescer, group), (self.next_index - 1, err))
                if maybe_payload is None:
                    continue  # cancelled, or no recipients: nothing to send
                payload = maybe_payload
            joins = None
            if self.coalescer is not None:
                joins = _coalesce().group_key(self.coalescer, payload)
            if joins is None:
                if group is not None:
                    self.carry = (index, message, payload)
                    break
                return _Unit([(index, message, payload)], payload), None
            key, size = joins
            if group is None:
                limits = self.backend.batch_limits
                assert limits is not None
                group = _coalesce().Group(key, limits.messages)
            elif not group.fits(key, size):
                self.carry = (index, message, payload)
                break
            group.add(index, message, payload, size)
            if group.size >= group.limit:
                break
        return _group_unit(self.coalescer, group), None


def _coalesce() -> Any:
    # Imported when first needed: _coalesce builds on base_requests, which imports base,
    # which imports this module.
    from . import _coalesce as module

    return module


def _group_unit(backend: CoalescingBackend | None, group: Any) -> _Unit | None:
    if group is None:
        return None
    if len(group.items) == 1 or backend is None:
        # One message: its own request, exactly as when sent alone.
        return _Unit(group.items, group.items[0][2])
    payloads = [payload for _index, _message, payload in group.items]
    return _Unit(group.items, backend.coalesced_payload(payloads))


def _finish(
    backend: AnymailBaseBackend, unit: _Unit
) -> tuple[int, list[tuple[int, EmailMessage, BaseException]]]:
    """Report the unit's messages in order: (number sent, [(index, message, error)])."""
    if unit.future is None or unit.call is None:
        return 0, []
    error = unit.future.exception()  # waits for the ESP call
    if len(unit.items) == 1:
        index, message, payload = unit.items[0]
        try:
            if error is not None:
                report_send(backend, payload, message, error=error)
            else:
                report_send(backend, payload, message, response=unit.future.result())
        except BaseException as err:
            return 0, [(index, message, err)]
        return 1, []
    return report_coalesced(backend, unit, error)


def report_coalesced(
    backend: AnymailBaseBackend, unit: _Unit, error: BaseException | None
) -> tuple[int, list[tuple[int, EmailMessage, BaseException]]]:
    """Each coalesced message's status and post_send, from the shared call's answer."""
    coalesce = _coalesce()
    assert isinstance(backend, coalesce.CoalescingBackend)
    assert isinstance(unit.call, coalesce.CallPayload)
    if error is not None:
        # The call failed as a whole: no message was sent. Each shows the answer;
        # the error is the first message's (the others were never sent on their own).
        for _index, message, _payload in unit.items:
            if isinstance(error, AnymailAPIError):
                message.anymail_status.esp_response = error.response
        return 0, [(unit.index, unit.message, error)]
    response = unit.future.result() if unit.future is not None else None
    errors: list[tuple[int, EmailMessage, BaseException]] = []
    sent = 0
    try:
        results: list[Any] = backend.parse_coalesced(response, unit.call, unit.call.payloads)
    except Exception as err:  # an answer that can't be read: every message's problem
        results = [err] * len(unit.items)
    for (index, message, payload), result in zip(unit.items, results, strict=True):
        status = message.anymail_status
        status.esp_response = response
        try:
            if isinstance(result, Exception):
                raise result
            status.set_recipient_status(result)
            backend.run_post_send(message)
            backend.raise_for_recipient_status(status, response, payload, message)
        except BaseException as err:
            errors.append((index, message, err))
        else:
            sent += 1
    return sent, errors


def _log_dropped(backend: AnymailBaseBackend, err: BaseException) -> None:
    # Only one exception can propagate: the one a sequential send would have raised.
    # Errors of messages already in flight beside it are logged, not lost.
    logger.error(
        "%s send failed while an earlier message's error was being raised: %s",
        backend.esp_name,
        err,
    )
