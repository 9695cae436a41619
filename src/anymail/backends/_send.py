"""One message's way through a backend, step by step (in the caller's thread).

``AnymailBaseBackend.send_messages()`` runs :func:`send_each` (or, with calls in
flight together, ``_concurrency.send_concurrently``, which runs the same steps):

1. :func:`prepare_send`: a fresh ``anymail_status``, ``pre_send``, the payload;
2. :func:`call_esp`: ``post_to_esp()``, through the retry policy, part by part
   for a batch cut at the ESP's limits (``_split.py``);
3. :func:`report_send`: ``anymail_status``, ``post_send``, refused recipients;
4. :func:`handle_send_error`: the error's context, and whether ``fail_silently``
   silences it.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from functools import partial
from typing import TYPE_CHECKING, Any, Final

from django.core.mail import EmailMessage

from ..exceptions import AnymailAPIError, AnymailCancelSend, AnymailError, AnymailRecipientsRefused
from ..message import AnymailStatus
from ..signals import pre_send
from ._split import post_parts, report_parts, split_batch

if TYPE_CHECKING:
    from .base import AnymailBaseBackend, BasePayload

logger = logging.getLogger("anymail")

#: The errors fail_silently suppresses: failures to deliver, not mistakes in the message.
FAIL_SILENTLY_ERRORS: Final = (AnymailAPIError, AnymailRecipientsRefused)


def send_each(backend: AnymailBaseBackend[Any], messages: Sequence[EmailMessage]) -> int:
    """Send the messages one after the other; return how many the ESP accepted."""
    num_sent = 0
    for message in messages:
        try:
            payload = prepare_send(backend, message)
            if payload is None:
                continue
            try:
                response = call_esp(backend, payload, message)
            except AnymailAPIError as err:
                report_send(backend, payload, message, error=err)
            report_send(backend, payload, message, response)
            num_sent += 1
        except AnymailError as err:
            if not handle_send_error(backend, err, message):
                raise
    return num_sent


def handle_send_error(
    backend: AnymailBaseBackend[Any], err: BaseException, message: EmailMessage
) -> bool:
    """Complete an error's context; True if fail_silently silences it (it is logged)."""
    if not isinstance(err, AnymailError):
        return False
    if err.email_message is None:
        err.email_message = message
    if err.backend is None:
        err.backend = backend
    if not (backend.fail_silently and isinstance(err, FAIL_SILENTLY_ERRORS)):
        return False
    # Silenced, not lost: leave a trace for the operator.
    logger.warning("%s send failed (fail_silently): %s", backend.esp_name, err)
    return True


def prepare_send(backend: AnymailBaseBackend[Any], message: EmailMessage) -> BasePayload | None:
    """pre_send and the payload; None when there is nothing to send."""
    message.anymail_status = AnymailStatus()
    try:
        pre_send.send(backend.__class__, message=message, esp_name=backend.esp_name)
    except AnymailCancelSend:
        return None
    if not message.recipients():
        return None
    policy = backend.retry_policy
    # With retries, each message gets its own idempotency key where the ESP takes one.
    defaults = backend.send_defaults if policy is None else policy.send_defaults(backend)
    payload = backend.build_message_payload(message, defaults)
    if backend.batch_limits is not None:  # (else never split: payload.split stays None)
        payload.split = split_batch(backend, payload)
    return payload


def call_esp(backend: AnymailBaseBackend[Any], payload: BasePayload, message: EmailMessage) -> Any:
    """post_to_esp(), or one call per part of a batch cut at the ESP's limits.

    With a retry policy (RETRY_SENDS, or the queued backend's worker), each call
    is retried by it: a coalesced call as a whole, a split batch part by part.
    """
    policy = backend.retry_policy
    post = backend.post_to_esp if policy is None else partial(policy.post, backend)
    if payload.split is not None:
        return post_parts(backend, payload.split, message, post)
    return post(payload, message)


def report_send(
    backend: AnymailBaseBackend[Any],
    payload: BasePayload,
    message: EmailMessage,
    response: Any = None,
    error: BaseException | None = None,
) -> None:
    """anymail_status and post_send for the ESP's answer (``response`` or ``error``)."""
    status: AnymailStatus = message.anymail_status
    if payload.split is not None:
        report_parts(backend, payload.split, message, error)
    elif error is not None:
        if isinstance(error, AnymailAPIError):
            # Whatever the ESP answered (an error, or a 2xx its backend could not
            # read) stays inspectable, as for a successful send.
            status.esp_response = error.response
        raise error
    else:
        status.esp_response = response
        status.set_recipient_status(backend.parse_recipient_status(response, payload, message))

    backend.run_post_send(message)
    backend.raise_for_recipient_status(status, response, payload, message)
