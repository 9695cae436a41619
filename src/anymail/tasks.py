"""The task that the queued backend (``anymail.backends.queued``) enqueues.

:func:`send_email_message` runs in the task worker: it rebuilds the message
from its JSON, sends it through the wrapped backend (so ``pre_send`` and
``post_send`` fire in the worker, as for a direct send), retries transient
failures by the policy in :mod:`anymail.retry` with an idempotency key derived
from the task, and returns the JSON form of ``anymail_status``.

Outcomes, as the task backend records them:

- sent: the task succeeds; its return value is the status (``"queued"``, ``"sent"`` ...);
- may have been sent (no answer, and no idempotency key to retry safely): the task
  succeeds with every recipient ``"unknown"``; ``post_send`` carries that status too;
- failed (a permanent error, or retries used up): the task fails with the Anymail error.

The task is made when this module is imported, for the task backend and queue
in the ANYMAIL settings ``QUEUED_TASK_BACKEND`` and ``QUEUED_QUEUE_NAME``
(Django's "default" ones when unset); each queued backend then picks its own.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Mapping
from typing import Any

from django.core.mail.backends.base import BaseEmailBackend
from django.utils.module_loading import import_string

from ._tasks import TaskContext, task
from .backends.base import AnymailBaseBackend
from .backends.queued import ESP_NAME, QUEUE_NAME, TASK_BACKEND
from .conf import get_setting
from .exceptions import AnymailError
from .message import AnymailRecipientStatus, AnymailStatus
from .retry import RetryPolicy, may_have_been_sent, task_idempotency_key, with_idempotency_key
from .serialization import message_from_json

__all__ = ["delivery_connection", "send_email_message", "status_to_json"]

logger = logging.getLogger("anymail")


def delivery_connection(delivery: Mapping[str, Any]) -> BaseEmailBackend:
    """The backend that really sends: ``{"mailer": alias}`` (Django 6.1 MAILERS) or
    ``{"backend": dotted path, "options": {...}}``."""
    if "mailer" in delivery:
        from django.core.mail import mailers  # Django 6.1+

        return mailers[delivery["mailer"]]
    backend_class = import_string(delivery["backend"])
    return backend_class(**delivery.get("options") or {})


def status_to_json(status: AnymailStatus | None) -> dict[str, Any]:
    """``anymail_status`` as JSON (sets become sorted lists; no raw ESP response)."""
    if status is None:
        status = AnymailStatus()
    message_id = status.message_id
    return {
        "status": sorted(status.status) if status.status is not None else None,
        "message_id": sorted(message_id) if isinstance(message_id, set) else message_id,
        "recipients": {
            address: {"status": recipient.status, "message_id": recipient.message_id}
            for address, recipient in status.recipients.items()
        },
    }


def _unknown_status(error: AnymailError, message: Any) -> AnymailStatus:
    payload = error.payload
    addresses = (
        [address.addr_spec for address in payload.all_recipients]
        if payload is not None and hasattr(payload, "all_recipients")
        else list(message.recipients())
    )
    status = AnymailStatus()
    status.esp_response = error.response
    unknown = AnymailRecipientStatus(message_id=None, status="unknown")
    status.set_recipient_status(dict.fromkeys(addresses, unknown))
    return status


@task(
    takes_context=True,
    backend=get_setting(TASK_BACKEND, ESP_NAME, check=False),
    queue_name=get_setting(QUEUE_NAME, ESP_NAME, check=False),
)
def send_email_message(
    context: TaskContext, message: dict[str, Any], delivery: dict[str, Any]
) -> dict[str, Any]:
    """Send one queued message (see the module doc); return its status as JSON."""
    result = context.task_result
    label = f"task {result.id}"
    email_message = message_from_json(message)
    connection = delivery_connection(delivery)
    if isinstance(connection, AnymailBaseBackend):
        # A failure must reach the task backend, which reports it.
        connection.fail_silently = False
        # The worker always retries; every attempt, and any rerun of this task,
        # carries the same idempotency key (where the ESP takes one).
        connection.retry_policy = dataclasses.replace(RetryPolicy.from_settings(), label=label)
        key = task_idempotency_key(result.backend, str(result.id))
        connection.send_defaults = with_idempotency_key(connection, connection.send_defaults, key)
    try:
        sent = connection.send_messages([email_message])
    except AnymailError as error:
        if not may_have_been_sent(error) or not isinstance(connection, AnymailBaseBackend):
            raise
        email_message.anymail_status = _unknown_status(error, email_message)
        logger.warning("%s: reported as 'unknown' (it may have been sent).", label)
        connection.run_post_send(email_message)
        return status_to_json(email_message.anymail_status)
    if not sent:
        logger.info("%s: not sent (cancelled by a pre_send receiver, or no recipients).", label)
    return status_to_json(getattr(email_message, "anymail_status", None))
