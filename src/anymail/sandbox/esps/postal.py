"""Postal: ``X-Server-API-Key``; every answer is HTTP 200 with a ``status`` field."""

from __future__ import annotations

import itertools
from typing import Any

from ...webhooks.postal import EVENT_TYPES, WEBHOOK_KEY
from . import _inbound
from ._addresses import addr_spec, parse_list, valid_address
from ._auth import Header
from ._base import ApiRequest, ApiResponse, Emulator, EspError, Message
from ._declared import fired_events
from ._time import epoch
from ._values import CLICKED_URL, CLIENT_IP, USER_AGENT, AttachmentKeys, JsonKeys, new_uuid

KEYS = JsonKeys("subject", "plain_body", "html_body", "headers")
FILES = AttachmentKeys(("attachments",), "name", "data", "content_type")
_ids = itertools.count(1501)


def error(code: str, text: str, **extra: Any) -> EspError:
    return EspError.json(
        200,
        {
            "status": "error",
            "time": 0.0,
            "flags": {},
            "data": {"message": text, **extra, "code": code},
        },
    )


class Postal(Emulator):
    esp = "postal"
    key_in = Header("X-Server-API-Key")
    endpoints = {"api/v1/send/message": "send"}
    events = fired_events(EVENT_TYPES)
    inbound_payload = staticmethod(_inbound.postal)

    def webhook_settings(self) -> dict[str, Any]:
        # Postal signs with its instance's private key: the sandbox with its own key pair.
        return {self.declared.name_of(WEBHOOK_KEY): self.keys.postal.public_key}

    def builder_options(self, url: str, secret: str | None) -> dict[str, Any]:
        return {"signer": self.keys.postal}

    def refused(self, presented: object) -> EspError:
        if not presented:
            return error("AccessDenied", "Must be authenticated as a server.")
        # Postal also echoes the key in data.token: the sandbox doesn't, as its UI
        # lists refused calls and the wrong key might be a real one.
        return error(
            "InvalidServerAPIKey", "The API token provided in X-Server-API-Key was not valid."
        )

    def send(self, request: ApiRequest) -> tuple[list[Message], ApiResponse]:
        data = request.json_object(error("ParameterError", "Invalid JSON"))
        to, cc, bcc = (parse_list(data.get(key)) for key in ("to", "cc", "bcc"))
        if not to + cc + bcc:
            raise error("NoRecipients", "There are no recipients defined to receive this message")
        if not data.get("from"):
            raise error("FromAddressMissing", "The From address is missing and is required")
        if not (data.get("plain_body") or data.get("html_body")):
            raise error("NoContent", "There is no content defined for this e-mail")
        for address in to + cc + bcc:
            if not valid_address(address):
                raise error("InvalidRecipient", f"{addr_spec(address)} is not a valid address")
        for attachment in data.get("attachments") or []:
            if not attachment.get("name"):
                raise error("AttachmentMissingName", "An attachment is missing a name")
        message = KEYS.message(
            data,
            str(data["from"]),
            (to, cc, bcc),
            attachments=FILES.read(data),
            tags=[data["tag"]] if data.get("tag") else [],
        )
        message.ids = {recipient: next(_ids) for recipient in message.recipients}
        message.metadata = {"message_id": f"{new_uuid()}@rp.postal.sandbox"}
        body = {
            "status": "success",
            "time": 0.01,
            "flags": {},
            "data": {
                "message_id": message.metadata["message_id"],
                "messages": {
                    rcpt: {"id": id_, "token": f"T{id_}"} for rcpt, id_ in message.ids.items()
                },
            },
        }
        return [message], ApiResponse.json(200, body)

    def event_payload(self, message: Message, recipient: str, event: str) -> Any:
        described = {
            "id": message.ids[recipient],
            "token": f"T{message.ids[recipient]}",
            "direction": "outgoing",
            "message_id": message.metadata.get("message_id"),
            "to": recipient,
            "from": addr_spec(message.from_email),
            "subject": message.subject,
            "timestamp": float(epoch()),
            "spam_status": "NotChecked",
            "tag": message.tags[0] if message.tags else None,
        }
        payloads: dict[str, dict[str, Any]] = {
            "delivered": {
                "message": described,
                "status": "Sent",
                "details": "accepted",
                "output": "250 OK",
                "sent_with_ssl": True,
                "timestamp": float(epoch()),
                "time": 0.1,
            },
            "bounced": {
                "original_message": described,
                "bounce": {
                    **described,
                    "id": 0,
                    "direction": "incoming",
                    "to": "bounces@sandbox",
                    "from": "MAILER-DAEMON@sandbox",
                    "subject": "Undelivered Mail",
                },
            },
            "opened": {
                "message": described,
                "ip_address": CLIENT_IP,
                "user_agent": USER_AGENT,
            },
            "clicked": {
                "message": described,
                "url": CLICKED_URL,
                "token": "L1",
                "ip_address": CLIENT_IP,
                "user_agent": USER_AGENT,
            },
        }
        return {
            "event": self.events[event],
            "timestamp": float(epoch()),
            "payload": payloads[event],
            "uuid": new_uuid(),
        }
