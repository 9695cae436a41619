"""Mandrill: the key inside the JSON body; classic Mandrill answers every error with 500."""

from __future__ import annotations

import secrets
from typing import Any

from ...webhooks.mandrill import EVENT_TYPES, WEBHOOK_KEY
from . import _inbound
from ._addresses import addr_spec, named, valid_address
from ._base import ApiRequest, ApiResponse, Emulator, EspError, Message
from ._declared import fired_events
from ._time import epoch
from ._values import CLICKED_URL, AttachmentKeys, JsonKeys


def error(name: str, code: int, text: str) -> EspError:
    return EspError.json(500, {"status": "error", "code": code, "name": name, "message": text})


INVALID_JSON = "You must specify a key value"
KEYS = JsonKeys("subject", "text", "html", "headers")
FILES = AttachmentKeys(("attachments", "images"), "name", "content", "type")


class Mandrill(Emulator):
    esp = "mandrill"
    api_path = "api/1.0"
    endpoints = {
        r"messages/send(\.json)?": "send",
        r"messages/send-template(\.json)?": "send",
    }
    events = fired_events(EVENT_TYPES, bounced="hard_bounce")
    # One view takes tracking and inbound events alike.
    inbound_payload = staticmethod(_inbound.mandrill)
    inbound_name = "tracking"

    def webhook_settings(self) -> dict[str, Any]:
        return {self.declared.name_of(WEBHOOK_KEY): self.signing_key}

    def authenticate(self, request: ApiRequest) -> None:
        # The key is in the JSON body.
        data = request.json(error("ValidationError", -2, INVALID_JSON))
        if not isinstance(data, dict) or data.get("key") != self.api_key:
            raise error("Invalid_Key", -1, "Invalid API key")

    def send(self, request: ApiRequest) -> tuple[list[Message], ApiResponse]:
        data = request.json(error("ValidationError", -2, INVALID_JSON))
        item = data.get("message")
        if not isinstance(item, dict):
            raise error("ValidationError", -2, 'Validation error: {"message":"required"}')
        recipients = item.get("to") or []
        for recipient in recipients:
            if not valid_address(str(recipient.get("email", ""))):
                raise error(
                    "ValidationError",
                    -2,
                    'Validation error: {"message":{"to":[{"email":'
                    '"Please enter a valid email address"}]}}',
                )

        def kind(name: str) -> list[str]:
            return [named(r) for r in recipients if (r.get("type") or "to") == name]

        message = KEYS.message(
            item,
            named({"email": item.get("from_email"), "name": item.get("from_name")}),
            (kind("to"), kind("cc"), kind("bcc")),
            attachments=FILES.read(item),
            tags=list(item.get("tags") or []),
            metadata=dict(item.get("metadata") or {}),
            template=data.get("template_name"),
        )
        message.ids = {addr_spec(named(r)): secrets.token_hex(16) for r in recipients}
        body = [
            {
                "email": addr_spec(named(r)),
                "status": "sent",
                "_id": message.ids[addr_spec(named(r))],
                "reject_reason": None,
                "queued_reason": None,
            }
            for r in recipients
        ]
        return [message], ApiResponse.json(200, body)

    def event_payload(self, message: Message, recipient: str, event: str) -> Any:
        msg: dict[str, Any] = {
            "ts": epoch(),
            "_id": message.ids[recipient],
            "state": "sent",
            "subject": message.subject,
            "email": recipient,
            "sender": addr_spec(message.from_email),
            "tags": message.tags,
            "metadata": message.metadata,
            "opens": [],
            "clicks": [],
            "smtp_events": [],
        }
        item: dict[str, Any] = {
            "event": self.events[event],
            "_id": message.ids[recipient],
            "ts": epoch(),
            "msg": msg,
        }
        if event == "bounced":
            msg.update(
                state="bounced",
                bounce_description="bad_mailbox",
                diag="smtp;550 5.1.1 The email account does not exist.",
            )
        if event == "clicked":
            item["url"] = CLICKED_URL
        return [item]

    def builder_options(self, url: str, secret: str | None) -> dict[str, Any]:
        # Mandrill signs the URL as entered there, basic auth credentials included.
        scheme, _, rest = url.partition("://")
        return {
            "url": f"{scheme}://{secret}@{rest}" if secret else url,
            "webhook_key": self.signing_key,
        }
