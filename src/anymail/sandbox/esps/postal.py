"""Postal: ``X-Server-API-Key``; every answer is HTTP 200 with a ``status`` field."""

from __future__ import annotations

import itertools
from typing import Any

from . import _inbound
from ._base import (
    ApiRequest,
    ApiResponse,
    Attachment,
    Emulator,
    EspError,
    Message,
    addr_spec,
    b64decode,
    new_uuid,
    parse_list,
    valid_address,
)
from ._time import epoch

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
    name = "Postal"
    api_url_setting = "POSTAL_API_URL"
    endpoints = {"api/v1/send/message": "send"}
    secret_headers = ("X-Server-API-Key",)
    events = ("delivered", "bounced", "opened", "clicked")
    inbound_payload = staticmethod(_inbound.postal)

    def settings(self, root: str) -> dict[str, Any]:
        return {"POSTAL_API_KEY": self.api_key, self.api_url_setting: self.api_url(root)}

    def webhook_settings(self) -> dict[str, Any]:
        # Postal signs with its instance's private key: the sandbox with its own key pair.
        return {"POSTAL_WEBHOOK_KEY": self.keys.postal.public_key}

    def builder_options(self, url: str, secret: str | None) -> dict[str, Any]:
        return {"signer": self.keys.postal}

    def authenticate(self, request: ApiRequest) -> None:
        key = request.header("X-Server-API-Key")
        if not key:
            raise error("AccessDenied", "Must be authenticated as a server.")
        if key != self.api_key:
            # Postal also echoes the key in data.token: the sandbox doesn't, as its UI
            # lists refused calls and the wrong key might be a real one.
            raise error(
                "InvalidServerAPIKey", "The API token provided in X-Server-API-Key was not valid."
            )

    def send(self, request: ApiRequest) -> tuple[list[Message], ApiResponse]:
        data = request.json(lambda text: error("ParameterError", "Invalid JSON"))
        if not isinstance(data, dict):
            raise error("ParameterError", "Invalid JSON")
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
        message = Message(
            from_email=str(data["from"]),
            to=to,
            cc=cc,
            bcc=bcc,
            subject=str(data.get("subject") or ""),
            text=data.get("plain_body"),
            html=data.get("html_body"),
            headers={str(k): str(v) for k, v in (data.get("headers") or {}).items()},
            attachments=[
                Attachment(a.get("name", ""), a.get("content_type", ""), b64decode(a.get("data")))
                for a in data.get("attachments") or []
            ],
            tags=[data["tag"]] if data.get("tag") else [],
        )
        message.ids = {addr_spec(a): next(_ids) for a in to + cc + bcc}
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
        if event == "delivered":
            name, payload = (
                "MessageSent",
                {
                    "message": described,
                    "status": "Sent",
                    "details": "accepted",
                    "output": "250 OK",
                    "sent_with_ssl": True,
                    "timestamp": float(epoch()),
                    "time": 0.1,
                },
            )
        elif event == "bounced":
            name, payload = (
                "MessageBounced",
                {
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
            )
        elif event == "opened":
            name, payload = (
                "MessageLoaded",
                {
                    "message": described,
                    "ip_address": "127.0.0.1",
                    "user_agent": "Mozilla/5.0 (sandbox)",
                },
            )
        else:
            name, payload = (
                "MessageLinkClicked",
                {
                    "message": described,
                    "url": "https://example.com/",
                    "token": "L1",
                    "ip_address": "127.0.0.1",
                    "user_agent": "Mozilla/5.0 (sandbox)",
                },
            )
        return {"event": name, "timestamp": float(epoch()), "payload": payload, "uuid": new_uuid()}
