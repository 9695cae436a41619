"""Mailjet's answers: each recipient's status from the Send API's ``Messages`` results.

The backend (``mailjet.EmailBackend``) inherits this half: reading the results of
one message's call, and coalescing (_coalesce.py), where one call carries several
messages' ``Messages`` and its results are shared out again, in request order.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Final, TypeVar

import requests
from django.core.mail import EmailMessage

from ..message import AnymailRecipientStatus
from ..utils import serialize_json
from ._coalesce import CallPayload, CoalescingBackend, Result, shares
from .base_requests import RequestsPayload

if TYPE_CHECKING:
    from .mailjet import MailjetPayload

#: The payload class, MailjetPayload: the backend names it (``MailjetAnswers[MailjetPayload]``).
_PayloadT = TypeVar("_PayloadT", bound="MailjetPayload")

#: Recipient lists in a Send API message and in its response (in request order).
RECIPIENT_FIELDS: Final = ("To", "Cc", "Bcc")


class MailjetAnswers(CoalescingBackend[_PayloadT]):
    """Reading Mailjet's answers, for one message's call or a coalesced one."""

    # --- coalescing (_coalesce.py): several payloads' Messages in one call -----------

    def coalesce_key(self, payload: _PayloadT) -> Any:
        data = payload.data
        if not isinstance(data, dict) or not isinstance(data.get("Globals"), dict):
            return None  # esp_extra reshaped the request: send it as it is
        if not isinstance(data.get("Messages"), list):
            return None
        # Top-level properties (esp_extra's SandboxMode ...) apply to the whole call.
        others = {key: value for key, value in data.items() if key not in ("Globals", "Messages")}
        return serialize_json(others, "esp_extra"), tuple(sorted(payload.headers.items()))

    def coalesced_size(self, payload: _PayloadT) -> int:
        return len(payload.data["Messages"])

    def coalesced_payload(self, payloads: Sequence[_PayloadT]) -> RequestsPayload:
        # Each message carries its payload's Globals: a message's own property
        # replaces the Globals one, as in Mailjet's Globals (the per-recipient
        # Variables and Headers are already complete sets).
        messages = [
            {**payload.data["Globals"], **entry}
            for payload in payloads
            for entry in payload.data["Messages"]
        ]
        first = payloads[0]
        data = {**first.data, "Messages": messages}
        del data["Globals"]
        return CallPayload(first, payloads, "send", data)

    def parse_coalesced(
        self, response: Any, call: RequestsPayload, payloads: Sequence[_PayloadT]
    ) -> list[Result]:
        results = self._results(response, call, call.message)
        counts = [self.coalesced_size(payload) for payload in payloads]
        if len(results) != sum(counts):
            raise self.api_error(
                f"Unexpected Mailjet API response: expected {sum(counts)} 'Messages' results.",
                response,
                call,
                call.message,
            )
        parsed: list[Result] = []
        for payload, own in zip(payloads, shares(results, counts), strict=True):
            if any(is_success(result) for result in own):
                parsed.append(self._statuses(own, payload))
                continue
            # Nothing of this message was sent: its error, as if it had been sent alone.
            details = "; ".join(
                f"Messages[{index}]: {describe_errors(result)}" for index, result in enumerate(own)
            )
            parsed.append(
                self.api_error(
                    f"Mailjet API error: HTTP {response.status_code}: {details}",
                    response,
                    payload,
                    payload.message,
                )
            )
        return parsed

    # --- answers ----------------------------------------------------------------

    def _results(self, response: Any, payload: RequestsPayload, message: EmailMessage) -> list[Any]:
        data = self.deserialize_json_response(response, payload, message)
        results = data.get("Messages") if isinstance(data, dict) else None
        if not isinstance(results, list):
            raise self.api_error(
                "Unexpected Mailjet API response: no 'Messages' list.", response, payload, message
            )
        return results

    def parse_recipient_status(
        self, response: requests.Response, payload: _PayloadT, message: EmailMessage
    ) -> dict[str, AnymailRecipientStatus]:
        return self._statuses(self._results(response, payload, message), payload)

    def _statuses(
        self, results: list[Any], payload: _PayloadT
    ) -> dict[str, AnymailRecipientStatus]:
        """Each recipient's status from the results of the payload's messages, in order."""
        sent_messages = payload.sent_messages()
        # Every address we sent to, in request order (to, then cc, then bcc).
        recipients: dict[str, AnymailRecipientStatus | None] = {}
        for addresses in sent_messages:
            for field in RECIPIENT_FIELDS:
                for address in addresses[field]:
                    recipients.setdefault(address, None)
        # Mailjet may not echo an address exactly as sent (e.g. its case).
        by_folded = {address.casefold(): address for address in recipients}

        def record(email: str, status: AnymailRecipientStatus) -> None:
            # A cc/bcc of a batch gets one copy (and id) per message: report the
            # first copy that was sent, and "failed" only if no copy was.
            current = recipients.get(email)
            if current is None or (current.status == "failed" and status.status == "sent"):
                recipients[email] = status

        # Mailjet answers in request order: result i is about request message i.
        for index, result in enumerate(results):
            sent = sent_messages[index] if index < len(sent_messages) else None
            if is_success(result):
                for field in RECIPIENT_FIELDS:
                    entries = result.get(field)
                    for position, entry in enumerate(entries if isinstance(entries, list) else []):
                        if not isinstance(entry, Mapping):
                            continue
                        echoed = str(entry.get("Email") or "")
                        matched = by_folded.get(echoed.casefold())
                        if matched is None and sent and position < len(sent[field]):
                            matched = sent[field][position]
                        if matched or echoed:
                            status = AnymailRecipientStatus(result_message_id(entry), "sent")
                            record(matched or echoed, status)
            elif sent:
                # An error result lists no recipients: its message went to none of them.
                for field in RECIPIENT_FIELDS:
                    for email in sent[field]:
                        record(email, AnymailRecipientStatus(None, "failed"))

        return {
            email: status if status is not None else AnymailRecipientStatus(None, "failed")
            for email, status in recipients.items()
        }


def is_success(result: Any) -> bool:
    return isinstance(result, Mapping) and result.get("Status") == "success"


def describe_errors(result: Any) -> str:
    errors = result.get("Errors") if isinstance(result, Mapping) else None
    if not isinstance(errors, list) or not errors:
        return "error (no details)"
    return "; ".join(describe_error(error) for error in errors if isinstance(error, Mapping))


def describe_error(error: Mapping[str, Any]) -> str:
    """'send-0011 Header cannot be ... (related to Headers["Reply-To"])'."""
    text = (
        " ".join(str(error[key]) for key in ("ErrorCode", "ErrorMessage") if error.get(key))
        or "error"
    )
    related = error.get("ErrorRelatedTo")
    if isinstance(related, list) and related:
        text += f" (related to {', '.join(str(item) for item in related)})"
    return text


def result_message_id(entry: Mapping[str, Any]) -> str | None:
    """``MessageID`` as a str: an int beyond 2**53 (json keeps it exact).

    The legacy numeric id, not MessageUUID, because Mailjet's events report it.
    A sandbox send answers with MessageID 0: nothing was sent, so no id.
    """
    message_id = entry.get("MessageID")
    if isinstance(message_id, bool) or message_id in (None, "", 0, "0"):
        return None
    return str(message_id)
