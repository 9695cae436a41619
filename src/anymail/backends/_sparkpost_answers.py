"""SparkPost's answers: the Transmissions API's errors and its recipient counts.

SparkPost answers a transmission with counts only (``total_accepted_recipients``,
``total_rejected_recipients``), not per-recipient results, and errors with an
``errors[]`` list. The backend (``sparkpost.EmailBackend``) inherits this half.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypeVar

import requests
from django.core.mail import EmailMessage

from ..message import AnymailRecipientStatus
from .base_requests import AnymailRequestsBackend, http_status

if TYPE_CHECKING:
    from .sparkpost import SparkPostPayload

#: The payload class, SparkPostPayload (``SparkPostAnswers[SparkPostPayload]``).
_PayloadT = TypeVar("_PayloadT", bound="SparkPostPayload")


class SparkPostAnswers(AnymailRequestsBackend[_PayloadT]):
    """Reading SparkPost's answer to one message's transmission."""

    def describe_error(self, response: requests.Response, payload: _PayloadT) -> str:
        details = _error_details(self.error_json(response))
        summary = f"{self.esp_name} API error: {http_status(response)}"
        return f"{summary}: {details}" if details else f"{summary}."

    def parse_recipient_status(
        self, response: Any, payload: _PayloadT, message: EmailMessage
    ) -> dict[str, AnymailRecipientStatus]:
        data = self.deserialize_json_response(response, payload, message)
        results = data.get("results") if isinstance(data, dict) else None
        results = results if isinstance(results, dict) else {}
        transmission_id = results.get("id")
        accepted = results.get("total_accepted_recipients")
        rejected = results.get("total_rejected_recipients")
        if not (
            isinstance(transmission_id, str | int) and _is_count(accepted) and _is_count(rejected)
        ):
            raise self.invalid_response(
                "expected results with id, total_accepted_recipients and total_rejected_recipients",
                response,
                payload,
                message,
            )
        # SparkPost only counts: statuses are certain when every entry we sent
        # went the same way. (Counts cover recipients[] entries, so batch cc/bcc
        # copies count once per copy.)
        sent = payload.recipient_count
        if sent is not None and accepted == sent and rejected == 0:
            status = "queued"
        elif sent is not None and rejected == sent and accepted == 0:
            status = "rejected"
        else:
            status = "unknown"
        message_id = str(transmission_id)
        return payload.statuses_for_all(message_id, status)


def _is_count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _error_details(data: Any) -> str:
    """SparkPost's errors[] as text: "message: description (code N); ..."."""
    errors = data.get("errors") if isinstance(data, dict) else None
    if not isinstance(errors, list):
        return ""
    described = []
    for error in errors:
        if not isinstance(error, dict):
            continue
        text = ": ".join(str(error[key]) for key in ("message", "description") if error.get(key))
        if error.get("code"):
            text += f" (code {error['code']})"
        if text:
            described.append(text.strip())
    return "; ".join(described)
