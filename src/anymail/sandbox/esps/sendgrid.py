"""SendGrid v3: ``Authorization: Bearer``, personalizations, 202 with an empty body."""

from __future__ import annotations

import secrets
from typing import Any

from ...webhooks.sendgrid import EVENT_TYPES, VERIFICATION_KEY
from . import _inbound
from ._addresses import named, valid_address
from ._auth import Bearer
from ._base import ApiRequest, ApiResponse, Emulator, EspError, Message
from ._declared import fired_events
from ._time import epoch
from ._values import CLICKED_URL, AttachmentKeys

MAX_RECIPIENTS = 1000
FILES = AttachmentKeys(("attachments",), "filename", "content", "type", "content_id")
DOCS = "http://sendgrid.com/docs/API_Reference/Web_API_v3/Mail/errors.html"


def error(text: str, field: str | None = None, status: int = 400, help: str = "") -> EspError:
    return EspError.json(
        status,
        {"errors": [{"message": text, "field": field, "help": f"{DOCS}#{help}" if help else None}]},
    )


class SendGrid(Emulator):
    esp = "sendgrid"
    api_path = "v3/"
    key_in = Bearer()
    endpoints = {"mail/send": "send"}
    events = fired_events(EVENT_TYPES)
    inbound_payload = staticmethod(_inbound.sendgrid)
    inbound_builder = "sendgrid_inbound"

    def webhook_settings(self) -> dict[str, Any]:
        # SendGrid signs with its private key: the sandbox with its own key pair.
        return {self.declared.name_of(VERIFICATION_KEY): self.keys.sendgrid.public_key}

    def builder_options(self, url: str, secret: str | None) -> dict[str, Any]:
        # Only the Event Webhook is signed (Inbound Parse posts carry basic auth alone).
        return {"signer": self.keys.sendgrid} if url.endswith("/tracking/") else {}

    def refused(self, presented: object) -> EspError:
        return error("The provided authorization grant is invalid, expired, or revoked", status=401)

    def send(self, request: ApiRequest) -> tuple[list[Message], ApiResponse]:
        data = request.json_object(error("Bad Request"))
        if not (data.get("from") or {}).get("email"):
            raise error(
                "The from object must be provided for every email send.",
                "from",
                help="message.from",
            )
        personalizations = data.get("personalizations") or []
        if not personalizations:
            raise error(
                "The personalizations field is required and must have at least one "
                "personalization.",
                "personalizations",
                help="message.personalizations",
            )
        contents = {c.get("type"): c.get("value") for c in data.get("content") or []}
        if not (contents or data.get("template_id")):
            raise error(
                "Unless a valid template_id is provided, the content parameter is required.",
                "content",
                help="message.content",
            )
        total = 0
        messages = []
        for index, person in enumerate(personalizations):
            to, cc, bcc = ([named(r) for r in person.get(k) or []] for k in ("to", "cc", "bcc"))
            if not to:
                raise error(
                    "The to array is required for all personalization objects, and must "
                    "have at least one email object with a valid email address.",
                    f"personalizations.{index}.to",
                    help="message.personalizations.to",
                )
            for address in to + cc + bcc:
                if not valid_address(address):
                    raise error(
                        "Does not contain a valid address.",
                        f"personalizations.{index}.to",
                        help="message.personalizations.to",
                    )
            total += len(to + cc + bcc)
            custom_args = {**(data.get("custom_args") or {}), **(person.get("custom_args") or {})}
            message = Message(
                from_email=named(data["from"]),
                to=to,
                cc=cc,
                bcc=bcc,
                subject=str(person.get("subject") or data.get("subject") or ""),
                text=contents.get("text/plain"),
                html=contents.get("text/html"),
                headers={**(data.get("headers") or {}), **(person.get("headers") or {})},
                attachments=FILES.read(data),
                tags=list(data.get("categories") or []),
                metadata=custom_args,
                template=data.get("template_id"),
            )
            # Events carry the custom args back: Anymail's anymail_id is the message id.
            message.ids = dict.fromkeys(message.recipients, custom_args.get("anymail_id"))
            messages.append(message)
        if total > MAX_RECIPIENTS:
            raise error("The recipient limit (1000) was exceeded.", "personalizations")
        return messages, ApiResponse(202, b"", headers={"X-Message-Id": secrets.token_urlsafe(16)})

    def event_payload(self, message: Message, recipient: str, event: str) -> Any:
        item: dict[str, Any] = {
            **message.metadata,
            "email": recipient,
            "timestamp": epoch(),
            "event": self.events[event],
            "sg_event_id": secrets.token_urlsafe(16),
            "sg_message_id": f"{secrets.token_urlsafe(16)}.sandbox",
            "category": message.tags,
        }
        if event == "bounced":
            item.update(type="bounce", status="5.1.1", reason="550 5.1.1 user unknown")
        if event == "clicked":
            item["url"] = CLICKED_URL
        return [item]
