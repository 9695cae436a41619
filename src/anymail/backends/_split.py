"""Batch sends cut at the ESP's per-call limits.

A batch send (merge_data, merge_metadata or merge_headers) sends each "to"
recipient a message of their own, as one ESP call. ESPs cap how many fit in one
call (Postmark 500 messages, SendGrid 1000 personalizations ...): an ESP backend
declares its cap as ``batch_limits``, and a message with more "to" recipients is
sent as several calls, each the same message with a slice of the "to" list.
The caller sees one send: one ``pre_send``, one ``post_send``, and an
``anymail_status`` with every recipient's status (``esp_response`` is then the
list of the calls' responses, in order).

The parts are made from copies of the message (only ``to`` differs), through the
backend's own payload class, so each part is exactly the request that message
would make with fewer recipients. Per-recipient data keyed by address
(merge_data ...) is left whole: each part's payload only looks up its own
recipients.

A part must never carry the whole message's idempotency key: the ESP would take
the second part for a retry of the first and drop it. Each part gets a key of its
own, derived from the message's, so a retry of a part still carries the same one.
"""

from __future__ import annotations

import copy
import hashlib
import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..exceptions import AnymailAPIError
from ..message import AnymailRecipientStatus
from ..retry import idempotency_key_option

if TYPE_CHECKING:
    from collections.abc import Callable

    from django.core.mail import EmailMessage

    from .base import AnymailBaseBackend, BasePayload

logger = logging.getLogger("anymail")


@dataclass(frozen=True)
class BatchLimits:
    """How much one ESP call may carry.

    ``messages``: messages (personalizations, message versions ...) per call, i.e.
    "to" recipients of a batch send, and messages coalesced into one batch call.
    ``recipients``: addresses per call, counting each message's cc/bcc copies;
    None when the ESP documents no such limit.
    """

    messages: int
    recipients: int | None = None

    def batch_size(self, payload: BasePayload) -> int:
        """How many "to" recipients of ``payload``'s batch send fit in one call."""
        copies = len(payload.send_params.get("cc", [])) + len(payload.send_params.get("bcc", []))
        size = self.messages
        if self.recipients is not None:
            size = min(size, self.recipients // (1 + copies))
        return max(size, 1)  # one "to" with too many cc/bcc: let the ESP say so


@dataclass
class SplitSend:
    """The parts of one message's batch send, and the answers of those already sent."""

    parts: list[BasePayload]
    responses: list[Any] = field(default_factory=list)


def split_batch(backend: AnymailBaseBackend, payload: BasePayload) -> SplitSend | None:
    """The parts ``payload`` is sent as, or None when it fits in one ESP call."""
    limits = backend.batch_limits
    if limits is None or not payload.is_batch:
        return None
    to = payload.send_params.get("to", [])
    size = limits.batch_size(payload)
    if len(to) <= size:
        return None
    option = idempotency_key_option(backend)
    key = (payload.send_params.get("esp_extra") or {}).get(option) if option else None
    parts = []
    for number, start in enumerate(range(0, len(to), size), start=1):
        message = copy.copy(payload.message)
        message.to = [address.address for address in to[start : start + size]]
        if option is not None and isinstance(key, str):
            own_extra = getattr(message, "esp_extra", None) or {}
            message.esp_extra = {**own_extra, option: part_idempotency_key(key, number)}
        # The whole message's defaults: they may hold the key a retry policy added.
        parts.append(backend.build_message_payload(message, payload.defaults))
    return SplitSend(parts)


def part_idempotency_key(key: str, number: int) -> str:
    """The idempotency key of part ``number`` of a split send whose key is ``key``.

    The same for every attempt at that part; at most 256 characters, Resend's limit.
    """
    suffix = f"-part{number}"
    if len(key) + len(suffix) > 256:
        key = hashlib.sha256(key.encode()).hexdigest()
    return key + suffix


def post_parts(
    backend: AnymailBaseBackend,
    split: SplitSend,
    message: EmailMessage,
    post: Callable[[Any, EmailMessage], Any] | None = None,
) -> SplitSend:
    """Send the parts in order; stop at the first failure (the parts sent stay recorded).

    ``post`` makes one call (default: ``backend.post_to_esp``; a retry policy's wrapper).
    """
    call = backend.post_to_esp if post is None else post
    split.responses.clear()
    for part in split.parts:
        split.responses.append(call(part, message))
    return split


def report_parts(
    backend: AnymailBaseBackend,
    split: SplitSend,
    message: EmailMessage,
    error: BaseException | None = None,
) -> None:
    """The message's anymail_status from the parts sent; raise the first error.

    ``error`` is the failure that stopped the parts (the parts sent before it
    still get their recipients' statuses). A cc/bcc copied into several parts
    gets its last copy's status.
    """
    status = message.anymail_status
    statuses: dict[str, AnymailRecipientStatus] = {}
    for part, response in zip(split.parts, split.responses, strict=False):
        try:
            statuses.update(backend.parse_recipient_status(response, part, message))
        except Exception as err:  # a part the ESP refused: the others still count
            error = error or err
    responses = list(split.responses)
    if isinstance(error, AnymailAPIError):
        responses.append(error.response)  # the refused call's answer, as for one call
    status.esp_response = responses
    if statuses:
        status.set_recipient_status(statuses)
    if error is not None:
        if split.responses:
            # The error is raised for the whole message; the operator must know that
            # some of its recipients were sent to, or a retry sends them twice.
            logger.error(
                "%s batch send failed after %d of %d calls had been accepted: "
                "anymail_status shows the recipients already sent to.",
                backend.esp_name,
                len(split.responses),
                len(split.parts),
            )
        raise error
