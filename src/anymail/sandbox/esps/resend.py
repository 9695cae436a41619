"""Resend: ``Authorization: Bearer``; single sends and a JSON-array batch endpoint."""

from __future__ import annotations

import base64
import hashlib
from typing import Any

from ...webhooks.resend import EVENT_TYPES, INBOUND_SECRET, SIGNING_SECRET
from . import _inbound
from ._addresses import parse_list, valid_address
from ._auth import Bearer
from ._base import ApiRequest, ApiResponse, Emulator, EspError, Message
from ._declared import fired_events
from ._time import iso_now
from ._values import CLICKED_URL, CLIENT_IP, USER_AGENT, AttachmentKeys, JsonKeys, new_uuid

KEYS = JsonKeys("subject", "text", "html", "headers")
FILES = AttachmentKeys(("attachments",), "filename", "content", "content_type")
BATCH_LIMIT = 100


def error(status: int, name: str, text: str) -> EspError:
    return EspError.json(status, {"statusCode": status, "name": name, "message": text})


def invalid_json() -> EspError:
    return error(400, "invalid_request", "The request body is not valid JSON.")


class Resend(Emulator):
    esp = "resend"
    key_in = Bearer()
    endpoints = {"emails": "single", "emails/batch": "batch"}
    #: The Receiving API, which the inbound webhook view calls to fetch a received email.
    get_endpoints = {r"emails/receiving/(?P<email_id>[\w-]+)": "received_email"}
    events = fired_events(EVENT_TYPES)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        #: The inbound form's messages, by email id, until the app fetches them.
        self.received: dict[str, dict[str, str]] = {}

    def webhook_settings(self) -> dict[str, Any]:
        # Fixed, valid Svix secrets (base64 of 24 bytes): the sandbox's, not real ones.
        return {
            self.declared.name_of(SIGNING_SECRET): self._svix_secret("tracking"),
            self.declared.name_of(INBOUND_SECRET): self._svix_secret("inbound"),
        }

    def _svix_secret(self, endpoint: str) -> str:
        digest = hashlib.sha256(f"{self.api_key}:{endpoint}".encode()).digest()[:24]
        return "whsec_" + base64.b64encode(digest).decode("ascii")

    def builder_options(self, url: str, secret: str | None) -> dict[str, Any]:
        endpoint = "inbound" if url.rstrip("/").endswith("/inbound") else "tracking"
        return {"signing_secret": self._svix_secret(endpoint)}

    def inbound_payload(self, form: dict[str, str]) -> Any:
        email_id = new_uuid()
        self.received[email_id] = dict(form)
        return _inbound.resend_event(email_id, form)

    def received_email(self, request: ApiRequest, email_id: str) -> ApiResponse:
        form = self.received.get(email_id)
        if form is None:
            raise error(404, "not_found", "Email not found")
        return ApiResponse.json(200, _inbound.resend_email(email_id, form))

    def refused(self, presented: object) -> EspError:
        if presented is None:
            return error(401, "missing_api_key", "Missing API key in the authorization header")
        return error(403, "invalid_api_key", "API key is invalid")

    def single(self, request: ApiRequest) -> tuple[list[Message], ApiResponse]:
        message = self.message(request.json(invalid_json()))
        return [message], ApiResponse.json(200, {"id": next(iter(message.ids.values()))})

    def batch(self, request: ApiRequest) -> tuple[list[Message], ApiResponse]:
        items = request.json(invalid_json())
        if not isinstance(items, list):
            raise error(422, "validation_error", "The request body must be an array.")
        if len(items) > BATCH_LIMIT:
            raise error(422, "validation_error", "Too many emails: the limit is 100 per batch.")
        messages = []
        for item in items:
            if isinstance(item, dict) and item.get("attachments"):
                raise error(422, "validation_error", "Attachments are not supported in batch.")
            messages.append(self.message(item))
        ids = [{"id": next(iter(m.ids.values()))} for m in messages]
        return messages, ApiResponse.json(200, {"data": ids})

    def message(self, data: Any) -> Message:
        if not isinstance(data, dict):
            raise error(422, "validation_error", "Invalid email object.")
        for field in ("from", "to", "subject"):
            if not data.get(field):
                raise error(422, "missing_required_field", f"Missing `{field}` field.")
        to, cc, bcc = (parse_list(data.get(key)) for key in ("to", "cc", "bcc"))
        if len(to) > 50:
            raise error(422, "validation_error", "Too many recipients: the limit is 50.")
        for address in [str(data["from"]), *to, *cc, *bcc]:
            if not valid_address(address):
                raise error(
                    422,
                    "validation_error",
                    "Invalid `to` field. The email address needs to follow the "
                    "`email@example.com` or `Name <email@example.com>` format.",
                )
        message = KEYS.message(data, str(data["from"]), (to, cc, bcc), attachments=FILES.read(data))
        email_id = new_uuid()
        message.ids = dict.fromkeys(message.recipients, email_id)
        return message

    def event_payload(self, message: Message, recipient: str, event: str) -> Any:
        data: dict[str, Any] = {
            "created_at": iso_now(),
            "email_id": message.ids[recipient],
            "from": message.from_email,
            "to": [recipient],
            "subject": message.subject,
            "headers": [{"name": k, "value": v} for k, v in message.headers.items()],
        }
        if event == "bounced":
            data["bounce"] = {
                "message": "The recipient's mailbox does not exist.",
                "subType": "General",
                "type": "Permanent",
            }
        if event == "clicked":
            data["click"] = {
                "link": CLICKED_URL,
                "ipAddress": CLIENT_IP,
                "timestamp": iso_now(),
                "userAgent": USER_AGENT,
            }
        return {"type": self.events[event], "created_at": iso_now(), "data": data}
