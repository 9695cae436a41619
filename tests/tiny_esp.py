"""A tiny JSON ESP for tests of the shared requests code (and of the demo with a
third-party backend): what such an ESP's payload and backend have in common."""

from __future__ import annotations

from typing import Any

from django.core.mail import EmailMessage

from anymail.addresses import EmailAddress
from anymail.backends.base import BasePayload
from anymail.backends.base_requests import AnymailRequestsBackend, RequestsPayload
from anymail.message import AnymailRecipientStatus


class TinyJsonPayload(RequestsPayload):
    """A JSON body with the sender, each kind of recipients (as full addresses), the
    subject and the text body; subclasses say where it goes and add the rest."""

    def init_payload(self) -> None:
        self.data: dict[str, Any] = {}

    def serialize_data(self) -> Any:
        return self.serialize_json(self.data)

    def set_from_email(self, email: EmailAddress) -> None:
        self.data["from"] = email.address

    def set_recipients(self, recipient_type: str, emails: list[EmailAddress]) -> None:
        self.data[recipient_type] = [email.address for email in emails]

    def set_subject(self, subject: str) -> None:
        self.data["subject"] = subject

    def set_text_body(self, body: str) -> None:
        self.data["text"] = body


class TinyJsonBackend(AnymailRequestsBackend):
    """Sends its ``payload_class``; the ESP answers ``{"id": ...}``, one id for every
    recipient, all queued."""

    def parse_recipient_status(
        self, response: Any, payload: BasePayload, message: EmailMessage
    ) -> dict[str, AnymailRecipientStatus]:
        result = self.deserialize_json_response(response, payload, message)
        return {
            recipient.addr_spec: AnymailRecipientStatus(result["id"], "queued")
            for recipient in payload.all_recipients
        }
