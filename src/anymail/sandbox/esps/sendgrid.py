"""SendGrid v3: ``Authorization: Bearer``, personalizations, 202 with an empty body."""

from __future__ import annotations

import secrets
from typing import Any

from . import _inbound
from ._auth import bearer_token
from ._base import (
    ApiRequest,
    ApiResponse,
    Attachment,
    Emulator,
    EspError,
    Message,
    addr_spec,
    b64decode,
    named,
    valid_address,
)
from ._time import epoch

MAX_RECIPIENTS = 1000
DOCS = "http://sendgrid.com/docs/API_Reference/Web_API_v3/Mail/errors.html"


def error(text: str, field: str | None = None, status: int = 400, help: str = "") -> EspError:
    return EspError.json(
        status,
        {"errors": [{"message": text, "field": field, "help": f"{DOCS}#{help}" if help else None}]},
    )


class SendGrid(Emulator):
    esp = "sendgrid"
    name = "SendGrid"
    api_path = "v3/"
    api_url_setting = "SENDGRID_API_URL"
    endpoints = {"mail/send": "send"}
    events = ("delivered", "bounced", "opened", "clicked", "complained")
    inbound_payload = staticmethod(_inbound.sendgrid)
    inbound_builder = "sendgrid_inbound"

    def settings(self, root: str) -> dict[str, Any]:
        return {"SENDGRID_API_KEY": self.api_key, self.api_url_setting: self.api_url(root)}

    def webhook_settings(self) -> dict[str, Any]:
        # SendGrid signs with its private key: the sandbox with its own key pair.
        return {"SENDGRID_TRACKING_WEBHOOK_VERIFICATION_KEY": self.keys.sendgrid.public_key}

    def builder_options(self, url: str, secret: str | None) -> dict[str, Any]:
        # Only the Event Webhook is signed (Inbound Parse posts carry basic auth alone).
        return {"signer": self.keys.sendgrid} if url.endswith("/tracking/") else {}

    def authenticate(self, request: ApiRequest) -> None:
        if bearer_token(request) != self.api_key:
            raise error(
                "The provided authorization grant is invalid, expired, or revoked", status=401
            )

    def send(self, request: ApiRequest) -> tuple[list[Message], ApiResponse]:
        data = request.json(lambda text: error("Bad Request", status=400))
        if not isinstance(data, dict):
            raise error("Bad Request")
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
                attachments=[
                    Attachment(
                        a.get("filename", ""),
                        a.get("type", ""),
                        b64decode(a.get("content")),
                        a.get("content_id"),
                    )
                    for a in data.get("attachments") or []
                ],
                tags=list(data.get("categories") or []),
                metadata=custom_args,
                template=data.get("template_id"),
            )
            # Events carry the custom args back: Anymail's anymail_id is the message id.
            message.ids = {addr_spec(a): custom_args.get("anymail_id") for a in to + cc + bcc}
            messages.append(message)
        if total > MAX_RECIPIENTS:
            raise error("The recipient limit (1000) was exceeded.", "personalizations")
        return messages, ApiResponse(202, b"", headers={"X-Message-Id": secrets.token_urlsafe(16)})

    def event_payload(self, message: Message, recipient: str, event: str) -> Any:
        names = {
            "delivered": "delivered",
            "bounced": "bounce",
            "opened": "open",
            "clicked": "click",
            "complained": "spamreport",
        }
        item: dict[str, Any] = {
            **message.metadata,
            "email": recipient,
            "timestamp": epoch(),
            "event": names[event],
            "sg_event_id": secrets.token_urlsafe(16),
            "sg_message_id": f"{secrets.token_urlsafe(16)}.sandbox",
            "category": message.tags,
        }
        if event == "bounced":
            item.update(type="bounce", status="5.1.1", reason="550 5.1.1 user unknown")
        if event == "clicked":
            item["url"] = "https://example.com/"
        return [item]
