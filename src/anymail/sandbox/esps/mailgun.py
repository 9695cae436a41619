"""Mailgun: basic auth ``api:<key>``, form posts to ``<domain>/messages``, plain 401."""

from __future__ import annotations

import json
import secrets
from typing import Any

from ...webhooks.mailgun import EVENT_TYPES, WEBHOOK_SIGNING_KEY
from . import _inbound
from ._addresses import parse_list, valid_address
from ._auth import Basic
from ._base import ApiRequest, ApiResponse, Emulator, EspError, Message
from ._declared import fired_events
from ._time import epoch
from ._values import CLICKED_URL

NO_BODY = "Need at least one of 'text', 'html', 'amp-html' or 'template' parameters specified"


def error(text: str, status: int = 400) -> EspError:
    return EspError.json(status, {"message": text})


class Mailgun(Emulator):
    esp = "mailgun"
    # MAILGUN_API_URL has no trailing slash: the backend adds "/<domain>/messages".
    api_path = "v3"
    key_in = Basic("api")
    endpoints = {r"(?P<domain>[^/]+)/messages": "send"}
    # A bounce is "failed" with a permanent severity (see event_payload).
    events = fired_events(EVENT_TYPES, bounced="failed")
    # Posted to the route URL that asks for the raw message (``inbound_mime``).
    inbound_payload = staticmethod(_inbound.mailgun)
    inbound_name = "inbound_mime"

    def webhook_settings(self) -> dict[str, Any]:
        return {self.declared.name_of(WEBHOOK_SIGNING_KEY): self.signing_key}

    def builder_options(self, url: str, secret: str | None) -> dict[str, Any]:
        # The sandbox's own key, whatever the settings of the process it runs in.
        return {"signing_key": self.signing_key}

    def refused(self, presented: object) -> EspError:
        return EspError(ApiResponse(401, b"Forbidden", content_type="text/plain"))

    def send(self, request: ApiRequest, domain: str = "") -> tuple[list[Message], ApiResponse]:
        fields, files = request.form()

        def values(name: str) -> list[str]:
            return [value for key, value in fields if key == name]

        def value(name: str) -> str | None:
            found = values(name)
            return found[-1] if found else None

        if not value("from"):
            raise error("from parameter is missing")
        to, cc, bcc = (parse_list(values(key)) for key in ("to", "cc", "bcc"))
        if not to:
            raise error("to parameter is missing")
        for address in to + cc + bcc:
            if not valid_address(address):
                raise error("to parameter is not a valid address. please check documentation")
        if not (value("text") or value("html") or value("amp-html") or value("template")):
            raise error(NO_BODY)
        message_id = f"<{epoch()}.{secrets.token_hex(8)}@{domain}>"
        variables = {k[2:]: v for k, v in fields if k.startswith("v:")}
        recipient_vars = json.loads(value("recipient-variables") or "null")
        # Batch sends (recipient-variables) become one message per "to" address.
        groups = [[address] for address in to] if recipient_vars is not None else [to]
        messages = []
        for group in groups:
            message = Message(
                from_email=str(value("from")),
                to=group,
                cc=cc,
                bcc=bcc,
                subject=value("subject") or "",
                text=value("text"),
                html=value("html"),
                headers={k[2:]: v for k, v in fields if k.startswith("h:")},
                attachments=[attachment for _, attachment in files],
                tags=values("o:tag"),
                metadata=variables,
                template=value("template"),
            )
            message.ids = dict.fromkeys(message.recipients, message_id)
            messages.append(message)
        return messages, ApiResponse.json(200, {"id": message_id, "message": "Queued. Thank you."})

    def event_payload(self, message: Message, recipient: str, event: str) -> Any:
        data: dict[str, Any] = {
            "event": self.events[event],
            "id": secrets.token_hex(11),
            "timestamp": float(epoch()),
            "recipient": recipient,
            "message": {
                "headers": {
                    "message-id": str(message.ids[recipient]).strip("<>"),
                    "to": recipient,
                    "from": message.from_email,
                    "subject": message.subject,
                }
            },
            "tags": message.tags,
            "user-variables": message.metadata,
        }
        if event == "bounced":
            data.update(severity="permanent", reason="bounce")
            data["delivery-status"] = {"code": 550, "message": "5.1.1 mailbox does not exist"}
        if event == "delivered":
            data["delivery-status"] = {"code": 250, "message": "OK"}
        if event == "clicked":
            data["url"] = CLICKED_URL
        return {"event-data": data}
