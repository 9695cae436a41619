"""Retrying a send after a transient failure, without ever sending a message twice.

One policy, used by the queued backend's worker task (always) and by direct
sends (opt-in, ANYMAIL ``RETRY_SENDS``). A failed attempt is judged by
:func:`classify`:

=========================================  =====================================
failure                                    verdict
=========================================  =====================================
HTTP 429, HTTP 5xx, AWS throttling codes   retry (the ESP did not take the message)
HTTP 409 to a request with an idempotency  retry (an earlier attempt with that key is
key                                        still in progress)
could not connect (refused, DNS, connect   retry (the request never left)
timeout)
no answer after sending (read timeout,     retry only with an idempotency key,
connection dropped)                        otherwise "unknown": it may have been sent
a 2xx answer that could not be read        "unknown": it was probably sent
any other 4xx, refused recipients,         fail (trying again gives the same answer)
unsupported features, invalid addresses
=========================================  =====================================

Waits grow exponentially (``RETRY_BACKOFF`` doubled per attempt, capped at
``RETRY_MAX_BACKOFF``, with jitter), never shorter than the ESP's ``Retry-After``;
attempts stop at ``RETRY_MAX_ATTEMPTS`` or when the next one would start after
``RETRY_DEADLINE`` seconds. Every attempt and the outcome are logged on the
``anymail`` logger.

An ESP that takes an idempotency key declares the ``esp_extra`` key that carries it
(``idempotency_key_esp_extra`` on its backend class, e.g. Resend's
``"idempotency_key"``); every attempt of one message sends the same key.
"""

from __future__ import annotations

import enum
import hashlib
import logging
import random
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, ClassVar, Final, TypeVar

import requests

from .conf import (
    BOOL,
    POSITIVE_INT,
    SECONDS,
    Setting,
    get_bool,
    get_positive_int,
    get_setting,
    invalid_setting,
)
from .exceptions import AnymailAPIError, AnymailError
from .utils import merge_dicts_deep

__all__ = [
    "NOT_SENT",
    "NO_ANSWER",
    "RETRY_SETTINGS",
    "RetryPolicy",
    "Verdict",
    "classify",
    "may_have_been_sent",
    "retry_after",
]

logger = logging.getLogger("anymail")

T = TypeVar("T")

#: Values of an error's ``transport_failure`` attribute, set where the transport fails:
#: the request never left (connection refused, DNS failure, connect timeout) ...
NOT_SENT: Final = "not_sent"
#: ... or it was (perhaps partly) sent and no answer came (read timeout, connection reset).
NO_ANSWER: Final = "no_answer"

#: AWS error codes that mean "slow down" (Amazon SES; botocore's throttling list).
AWS_THROTTLING_CODES: Final = frozenset(
    {"Throttling", "ThrottlingException", "TooManyRequestsException"}
)

# Replaced in tests, to run retries without waiting.
_sleep = time.sleep
_clock = time.monotonic


class Verdict(enum.Enum):
    RETRY = "retry"
    FAIL = "fail"
    UNKNOWN = "unknown"  # may have been sent: not retried, reported as "unknown"


def transport_failure(error: BaseException) -> str | None:
    """NOT_SENT, NO_ANSWER, or None when ``error`` is not a failure to get an answer."""
    mark = getattr(error, "transport_failure", None)
    if mark in (NOT_SENT, NO_ANSWER):
        return str(mark)
    # (An error made elsewhere, e.g. by a third-party backend: judged by requests' class.)
    if isinstance(error, requests.ConnectTimeout):
        return NOT_SENT
    if isinstance(error, requests.exceptions.SSLError):
        return None  # a certificate problem: another attempt won't fix it
    if isinstance(error, requests.Timeout | requests.ConnectionError):
        return NO_ANSWER
    return None


def _aws_error_code(error: AnymailAPIError) -> str | None:
    response = error.response
    if isinstance(response, Mapping):
        code = (response.get("Error") or {}).get("Code")
        return code if isinstance(code, str) else None
    return None


def _sent_in_parts(error: AnymailAPIError) -> bool:
    # A payload sent in several API calls (Amazon SES bulk sends of many recipients)
    # may have been partly sent: trying again would resend the parts that went through.
    api_calls = getattr(error.payload, "api_calls", None)
    return callable(api_calls) and len(api_calls()) > 1


def classify(error: BaseException, idempotent: bool) -> Verdict:
    """Whether a failed send may be tried again (see the module's table).

    ``idempotent``: the request carried an idempotency key, so the ESP sends a
    repeated request at most once.
    """
    if not isinstance(error, AnymailAPIError):
        return Verdict.FAIL
    status = error.status_code
    if status is not None:
        if 200 <= status < 300:
            return Verdict.UNKNOWN
        transient = (
            status == 429
            or status >= 500
            or _aws_error_code(error) in AWS_THROTTLING_CODES
            # With a key, 409 says an earlier attempt with that key is still being handled
            # (Resend's concurrent_idempotent_requests): the next one gets its answer.
            or (status == 409 and idempotent)
        )
        if not transient or _sent_in_parts(error):
            return Verdict.FAIL
        return Verdict.RETRY
    failure = transport_failure(error)
    if failure == NOT_SENT:
        return Verdict.RETRY
    if failure == NO_ANSWER:
        return Verdict.RETRY if idempotent else Verdict.UNKNOWN
    return Verdict.FAIL


def may_have_been_sent(error: BaseException) -> bool:
    """Whether the ESP may have taken the message despite ``error`` (outcome "unknown")."""
    return isinstance(error, AnymailAPIError) and (
        classify(error, idempotent=False) is Verdict.UNKNOWN
    )


def retry_after(error: BaseException) -> float | None:
    """The ESP's ``Retry-After`` (seconds or an HTTP date) as seconds from now, if any."""
    headers = getattr(getattr(error, "response", None), "headers", None)
    value = headers.get("Retry-After") if isinstance(headers, Mapping) else None
    if not isinstance(value, str):
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


# --- idempotency keys ---------------------------------------------------------------------


def idempotency_key_option(backend: Any) -> str | None:
    """The esp_extra key that carries an idempotency key for ``backend``'s ESP, if any."""
    return getattr(type(backend), "idempotency_key_esp_extra", None)


def new_idempotency_key() -> str:
    return f"anymail-{uuid.uuid4().hex}"


def task_idempotency_key(task_backend: str, task_id: str) -> str:
    """The same key for every run of one task (printable ASCII, whatever the id looks like)."""
    digest = hashlib.sha256(f"{task_backend}\0{task_id}".encode()).hexdigest()
    return f"anymail-task-{digest[:40]}"


def with_idempotency_key(backend: Any, defaults: Mapping[str, Any], key: str) -> dict[str, Any]:
    """Send defaults that add ``key`` to esp_extra (a message's own key still wins)."""
    option = idempotency_key_option(backend)
    if option is None:
        return dict(defaults)
    esp_extra = merge_dicts_deep({option: key}, defaults.get("esp_extra"))
    return {**defaults, "esp_extra": esp_extra}


def carries_idempotency_key(backend: Any, payload: Any) -> bool:
    option = idempotency_key_option(backend)
    esp_extra = getattr(payload, "send_params", {}).get("esp_extra") or {}
    return option is not None and option in esp_extra


# --- the settings ----------------------------------------------------------------------------

RETRY_SENDS: Final = Setting(
    "retry_sends",
    BOOL,
    "Retry direct sends after transient failures, as the queued backend's worker always does.",
    default=False,
    per_esp=False,
)
RETRY_MAX_ATTEMPTS: Final = Setting(
    "retry_max_attempts",
    POSITIVE_INT,
    "Attempts per message when retrying, the first included (1: no retries).",
    default=5,
    per_esp=False,
    option=False,
)
RETRY_DEADLINE: Final = Setting(
    "retry_deadline",
    SECONDS,
    "No retry starts later than this after a message's first attempt.",
    default=300.0,
    per_esp=False,
    option=False,
)
RETRY_BACKOFF: Final = Setting(
    "retry_backoff",
    SECONDS,
    "Wait before the first retry, doubled for each next one (with jitter).",
    default=1.0,
    per_esp=False,
    option=False,
)
RETRY_MAX_BACKOFF: Final = Setting(
    "retry_max_backoff",
    SECONDS,
    "Longest wait between retries that Anymail chooses (an ESP's Retry-After may be longer).",
    default=60.0,
    per_esp=False,
    option=False,
)


def _seconds(setting: Setting) -> float:
    value = get_setting(setting)
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise invalid_setting(setting.name, None, f"expected a number of seconds, got {value!r}.")
    return float(value)


def retry_policy_option(kwargs: Any) -> RetryPolicy | None:
    """A backend's retry policy: from the settings when its ``retry_sends`` option (or
    RETRY_SENDS) is on, else None (popping the option from ``kwargs``)."""
    return RetryPolicy.from_settings() if get_bool(RETRY_SENDS, kwargs=kwargs) else None


# --- the policy ------------------------------------------------------------------------------


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how long to retry one message's send.

    ``max_attempts`` counts the first attempt; ``deadline`` (seconds, from the first
    attempt) is when no new attempt starts; ``backoff`` is the first wait, doubled
    after each failure up to ``max_backoff`` (then jittered, so that many senders
    don't all come back at the same moment).
    """

    max_attempts: int = 5
    deadline: float = 300.0
    backoff: float = 1.0
    max_backoff: float = 60.0
    #: Names the sends in the log (e.g. the task that runs them).
    label: str = ""

    #: Read by from_settings() (the settings reference lists them).
    declared_settings: ClassVar[tuple[Setting, ...]] = (
        RETRY_MAX_ATTEMPTS,
        RETRY_DEADLINE,
        RETRY_BACKOFF,
        RETRY_MAX_BACKOFF,
    )

    @classmethod
    def from_settings(cls) -> RetryPolicy:
        """The policy from ANYMAIL RETRY_MAX_ATTEMPTS, RETRY_DEADLINE, RETRY_BACKOFF and
        RETRY_MAX_BACKOFF."""
        return cls(
            max_attempts=get_positive_int(RETRY_MAX_ATTEMPTS),
            deadline=_seconds(RETRY_DEADLINE),
            backoff=_seconds(RETRY_BACKOFF),
            max_backoff=_seconds(RETRY_MAX_BACKOFF),
        )

    def send_defaults(self, backend: Any) -> dict[str, Any]:
        """The backend's send defaults, plus a fresh idempotency key where its ESP takes one."""
        return with_idempotency_key(backend, backend.send_defaults, new_idempotency_key())

    def post(self, backend: Any, payload: Any, message: Any) -> Any:
        """``backend.post_to_esp(payload, message)``, retried by this policy."""
        return self.run(
            lambda: backend.post_to_esp(payload, message),
            esp_name=backend.esp_name,
            idempotent=carries_idempotency_key(backend, payload),
        )

    def wait(self, failures: int, error: BaseException) -> float:
        """Seconds to wait after the ``failures``-th failed attempt."""
        ceiling = min(self.max_backoff, self.backoff * 2 ** (failures - 1))
        jittered = random.uniform(ceiling / 2, ceiling)  # noqa: S311 (not for security)
        return max(jittered, retry_after(error) or 0.0)

    def run(self, attempt: Callable[[], T], *, esp_name: str, idempotent: bool) -> T:
        """Call ``attempt`` until it returns, or raise its last error (see the module doc)."""
        what = f"{esp_name} send{f' ({self.label})' if self.label else ''}"
        started = _clock()
        number = 0
        while True:
            number += 1
            try:
                result = attempt()
            except AnymailError as error:
                verdict = classify(error, idempotent)
                reason = _describe(error)
                if verdict is Verdict.UNKNOWN:
                    logger.warning(
                        "%s: outcome unknown on attempt %d (%s): %s may have accepted the "
                        "message, and without an idempotency key another attempt could send "
                        "it twice, so it is not retried.",
                        what,
                        number,
                        reason,
                        esp_name,
                    )
                    raise
                if verdict is Verdict.FAIL:
                    logger.error("%s failed on attempt %d, not retryable: %s", what, number, error)
                    raise
                if number >= self.max_attempts:
                    logger.error(
                        "%s failed: attempt %d of %d (%s), giving up: %s",
                        what,
                        number,
                        self.max_attempts,
                        reason,
                        error,
                    )
                    raise
                delay = self.wait(number, error)
                if _clock() - started + delay > self.deadline:
                    logger.error(
                        "%s failed: attempt %d (%s); the next one (in %.1f s) would pass the "
                        "%g s retry deadline, giving up: %s",
                        what,
                        number,
                        reason,
                        delay,
                        self.deadline,
                        error,
                    )
                    raise
                logger.warning(
                    "%s: attempt %d of %d failed (%s), retrying in %.2f s",
                    what,
                    number,
                    self.max_attempts,
                    reason,
                    delay,
                )
                _sleep(delay)
            else:
                logger.info("%s: sent on attempt %d", what, number)
                return result


def _describe(error: AnymailError) -> str:
    """A short reason for the log: the HTTP status or AWS code, or the transport failure."""
    parts = []
    if error.status_code is not None:
        parts.append(f"HTTP {error.status_code}")
    code = _aws_error_code(error) if isinstance(error, AnymailAPIError) else None
    if code:
        parts.append(code)
    seconds = retry_after(error)
    if seconds is not None:
        parts.append(f"Retry-After {seconds:g} s")
    failure = transport_failure(error)
    if failure == NOT_SENT:
        parts.append("could not connect")
    elif failure == NO_ANSWER:
        parts.append("no answer")
    return ", ".join(parts) or type(error).__name__


#: What a backend that sends with this policy reads (its declared_settings include them).
RETRY_SETTINGS: Final = (RETRY_SENDS, *RetryPolicy.declared_settings)
