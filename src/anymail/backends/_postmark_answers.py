"""Postmark's answers: each recipient's status from Postmark's result objects.

Postmark reports most refusals with HTTP 422 and an ``ErrorCode`` in the body.
Recipient problems (inactive addresses, unparsable To/Cc/Bcc) become
per-recipient statuses; anything else is an :exc:`AnymailRequestsAPIError`.

The backend (``postmark.EmailBackend``) inherits this half: reading the answer to
one message's call, and coalescing (_coalesce.py), where independent messages
share one ``email/batch`` call and its results are shared out again, in order.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, TypeVar

import requests
from django.core.mail import EmailMessage

from ..addresses import EmailAddress
from ..exceptions import AnymailError
from ..message import AnymailRecipientStatus, RecipientStatuses
from ._coalesce import CallPayload, CoalescingBackend, Result, shares
from .base_requests import RequestsPayload

if TYPE_CHECKING:
    from .postmark import PostmarkPayload

#: The payload class, PostmarkPayload: the backend names it (``PostmarkAnswers[PostmarkPayload]``).
_PayloadT = TypeVar("_PayloadT", bound="PostmarkPayload")

#: An ErrorCode 300 that names a recipient field, e.g. "Invalid 'To' address: 'x@y'."
#: or "Error parsing 'Cc': Illegal email domain '+' in address 'user@+'."
_RECIPIENT_ERROR_RE = re.compile(r"^(?:Invalid|Error\s+parsing)\s+'(?:To|Cc|Bcc)'", re.IGNORECASE)
DIGITS_RE = re.compile(r"[0-9]+")
_QUOTED_ADDRESS_RE = re.compile(r"address:?\s*'([^']*)'", re.IGNORECASE)

#: The list after "inactive addresses:", up to the sentence-ending period (addresses
#: contain dots, so only a period followed by whitespace or the end counts).
_INACTIVE_RE = re.compile(r"inactive addresses:\s*(.*?)(?:\.(?:\s|$)|$)", re.IGNORECASE | re.DOTALL)

#: ErrorCode meanings that concern recipients rather than the whole request.
_ERROR_INVALID_REQUEST = 300
_ERROR_INACTIVE_RECIPIENT = 406


class PostmarkAnswers(CoalescingBackend[_PayloadT]):
    """Reading Postmark's answers, for one message's call or a coalesced one."""

    # --- coalescing (_coalesce.py): independent messages in one batch call ---------

    def coalesce_key(self, payload: _PayloadT) -> Any:
        # One endpoint, and one server token (esp_extra can change it) per call.
        return (payload.uses_template, tuple(sorted(payload.headers.items())))

    def coalesced_size(self, payload: _PayloadT) -> int:
        return len(payload.recipient_groups(payload.batch))

    def coalesced_payload(self, payloads: Sequence[_PayloadT]) -> RequestsPayload:
        first = payloads[0]
        messages = [item for p in payloads for item in p.wire_messages()]
        if first.uses_template:
            return CallPayload(first, payloads, "email/batchWithTemplates", {"Messages": messages})
        return CallPayload(first, payloads, "email/batch", messages)

    def parse_coalesced(
        self, response: Any, call: RequestsPayload, payloads: Sequence[_PayloadT]
    ) -> list[Result]:
        data = self.deserialize_json_response(response, call, call.message)
        groups = [p.recipient_groups(p.batch) for p in payloads]
        sizes = [len(messages) for messages in groups]
        if response.status_code != 422:
            self._check_batch_results(data, sum(sizes), response, call, call.message)
        if isinstance(data, list):
            answers = [
                list(zip(items, messages, strict=True))
                for items, messages in zip(shares(data, sizes), groups, strict=True)
            ]
        else:  # 422: the whole call refused, so every message
            answers = [
                [(data, [address for group in messages for address in group])]
                for messages in groups
            ]
        results: list[Result] = []
        for payload, pairs in zip(payloads, answers, strict=True):
            try:
                results.append(self._statuses(pairs, response, payload, payload.message))
            except AnymailError as err:
                results.append(err)
        return results

    # --- answers ----------------------------------------------------------------

    def parse_recipient_status(
        self, response: requests.Response, payload: _PayloadT, message: EmailMessage
    ) -> dict[str, AnymailRecipientStatus]:
        data = self.deserialize_json_response(response, payload, message)
        messages = payload.recipient_groups(payload.batch)
        if payload.batch and response.status_code != 422:
            self._check_batch_results(data, len(messages), response, payload, message)
            results = list(zip(data, messages, strict=True))
        else:
            if not isinstance(data, dict):
                raise self.invalid_response("expected a JSON object", response, payload, message)
            # A 422 for a batch request refuses the whole request: every message.
            everyone = [address for group in messages for address in group]
            results = [(data, everyone)]
        return self._statuses(results, response, payload, message)

    def _check_batch_results(
        self,
        data: Any,
        count: int,
        response: requests.Response,
        payload: RequestsPayload,
        message: EmailMessage,
    ) -> None:
        """A batch call is answered with a list of results, one per message, in order."""
        if not isinstance(data, list) or len(data) != count:
            expected = f"expected a list of {count} results, one per batch message"
            raise self.invalid_response(expected, response, payload, message)

    def _statuses(
        self,
        results: list[tuple[Any, list[EmailAddress]]],
        response: requests.Response,
        payload: _PayloadT,
        message: EmailMessage,
    ) -> dict[str, AnymailRecipientStatus]:
        """Statuses from (result item, the recipients of the message it answers) pairs."""
        # (Postmark lowercases addresses in its messages.)
        statuses = RecipientStatuses(payload.all_recipients, "unknown")
        accepted: list[str] = []
        errors: list[tuple[int, str]] = []
        for item, recipients in results:
            if not isinstance(item, dict) or not isinstance(item.get("Message"), str):
                raise self.invalid_response(
                    "each result needs a 'Message'", response, payload, message
                )
            error_code = _error_code(item.get("ErrorCode", 0))
            text = item["Message"]
            if error_code == 0:
                message_id = item.get("MessageID")
                if not isinstance(message_id, str) or not message_id:
                    raise self.invalid_response(
                        "a successful result needs a 'MessageID'", response, payload, message
                    )
                status = "queued" if "delivery may be delayed" in text.lower() else "sent"
                for recipient in recipients:
                    statuses.set(recipient.addr_spec, message_id, status)
                    accepted.append(recipient.addr_spec)
                for inactive in _inactive_addresses(text):
                    statuses.set(inactive, None, "rejected")
            elif error_code == _ERROR_INACTIVE_RECIPIENT and _inactive_addresses(text):
                for inactive in _inactive_addresses(text):
                    statuses.set(inactive, None, "rejected")
            elif (
                error_code == _ERROR_INVALID_REQUEST
                and _RECIPIENT_ERROR_RE.match(text)
                and _QUOTED_ADDRESS_RE.search(text)
            ):
                for invalid in _QUOTED_ADDRESS_RE.findall(text):
                    statuses.set(invalid, None, "invalid")
            else:
                errors.append((error_code if error_code is not None else -1, text))

        if errors:
            described = "; ".join(
                f"ErrorCode {code}: {text}" if code >= 0 else text for code, text in errors
            )
            partial = ""
            if accepted:
                # Postmark already sent these batch messages: say so, or a retry
                # would send them twice.
                sent_to = ", ".join(dict.fromkeys(accepted))
                partial = f" (Postmark did accept the messages to {sent_to}.)"
            raise self.api_error(
                f"Postmark API error: HTTP {response.status_code}: {described}{partial}",
                response,
                payload,
                message,
            )
        return statuses


def _error_code(value: Any) -> int | None:
    """Postmark's ErrorCode: an int, or a numeric string; None if it is neither."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and DIGITS_RE.fullmatch(value.strip()):
        return int(value.strip())
    return None


def _inactive_addresses(text: str) -> list[str]:
    match = _INACTIVE_RE.search(text)
    if not match:
        return []
    return [address.strip() for address in match.group(1).split(",") if address.strip()]
