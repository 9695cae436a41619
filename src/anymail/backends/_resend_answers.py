"""Resend's answers: each recipient's status from Resend's email ids.

The backend (``resend.EmailBackend``) inherits this half: reading the answer to
one message's call, and coalescing (_coalesce.py), where ordinary emails share
one ``emails/batch`` call and its ids are shared out again, in order.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, TypeVar

import requests
from django.core.mail import EmailMessage

from ..message import AnymailRecipientStatus, RecipientStatuses
from ._coalesce import CallPayload, CoalescingBackend, Result
from .base_requests import RequestsPayload

if TYPE_CHECKING:
    from .resend import ResendPayload

#: The payload class, ResendPayload: the backend names it (``ResendAnswers[ResendPayload]``).
_PayloadT = TypeVar("_PayloadT", bound="ResendPayload")


class ResendAnswers(CoalescingBackend[_PayloadT]):
    """Reading Resend's answers, for one message's call or a coalesced one."""

    def parse_recipient_status(
        self, response: requests.Response, payload: _PayloadT, message: EmailMessage
    ) -> dict[str, AnymailRecipientStatus]:
        data = self.deserialize_json_response(response, payload, message)
        groups = payload.recipient_groups(payload.batch)
        # (Resend treats addresses case-insensitively.)
        statuses = RecipientStatuses()
        if not payload.batch:
            message_id = data.get("id") if isinstance(data, dict) else None
            if not isinstance(message_id, str) or not message_id:
                raise self.invalid_response("expected an 'id'", response, payload, message)
            for recipient in groups[0]:
                statuses.set(recipient.addr_spec, message_id, "queued")
            return statuses

        results = data.get("data") if isinstance(data, dict) else None
        # Anymail uses Resend's default ("strict") batch validation: the batch is
        # accepted or refused as a whole, and "data" has one result per item, in order.
        if not isinstance(results, list) or len(results) != len(groups):
            raise self.invalid_response(
                f"expected 'data' with one result per batch email ({len(groups)})",
                response,
                payload,
                message,
            )
        for result, (to, *copies) in zip(results, groups, strict=True):
            message_id = result.get("id") if isinstance(result, dict) else None
            if not isinstance(message_id, str) or not message_id:
                raise self.invalid_response(
                    "each batch result needs an 'id'", response, payload, message
                )
            statuses.set(to.addr_spec, message_id, "queued")
            # cc/bcc get a copy of every batch email: no single id to report.
            for copy in copies:
                statuses.set(copy.addr_spec, None, "queued", replace=False)
        return statuses

    # --- coalescing (_coalesce.py): ordinary emails in one emails/batch call ---------

    def coalesce_key(self, payload: _PayloadT) -> Any:
        if payload.batch or "Idempotency-Key" in payload.headers:
            return None  # a batch send's own call; a key that names this one email
        if "attachments" in payload.data or "scheduled_at" in payload.data:
            return None  # emails/batch takes neither
        return tuple(sorted(payload.headers.items()))

    def coalesced_payload(self, payloads: Sequence[_PayloadT]) -> RequestsPayload:
        emails = [payload.email_object() for payload in payloads]
        # Permissive: Resend sends the valid emails and reports the others one by one
        # (strict, its default, would refuse every email for one bad one).
        headers = {"x-batch-validation": "permissive"}
        return CallPayload(payloads[0], payloads, "emails/batch", emails, headers)

    def parse_coalesced(
        self, response: Any, call: RequestsPayload, payloads: Sequence[_PayloadT]
    ) -> list[Result]:
        data = self.deserialize_json_response(response, call, call.message)
        ids = data.get("data") if isinstance(data, dict) else None
        errors = data.get("errors") if isinstance(data, dict) else None
        refused: dict[int, str] = {}
        for error in errors if isinstance(errors, list) else []:
            if isinstance(error, dict) and isinstance(error.get("index"), int):
                refused[error["index"]] = str(error.get("message") or "refused")
        count = len(payloads)
        if not isinstance(ids, list) or len(ids) not in (count, count - len(refused)):
            raise self.invalid_response(
                f"expected 'data' with a result per email of the batch ({count})",
                response,
                call,
                call.message,
            )
        # "data" lists the emails sent, in order, without the refused ones (as Resend's
        # examples show); a list with every email is read position by position.
        sent = iter(ids)
        answers = (
            ids
            if len(ids) == count
            else [None if i in refused else next(sent) for i in range(count)]
        )
        results: list[Result] = []
        for index, (payload, answer) in enumerate(zip(payloads, answers, strict=True)):
            message_id = answer.get("id") if isinstance(answer, dict) else None
            if index in refused:
                error = f"Resend API error: {refused[index]} (email {index + 1} of the batch)."
                results.append(self.api_error(error, response, payload, payload.message))
            elif not isinstance(message_id, str) or not message_id:
                results.append(
                    self.invalid_response(
                        "each batch result needs an 'id'", response, payload, payload.message
                    )
                )
            else:
                status = AnymailRecipientStatus(message_id, "queued")
                results.append({r.addr_spec: status for r in payload.all_recipients})
        return results
