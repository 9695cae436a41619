"""Brevo (ex-Sendinblue): ``api-key`` header, one endpoint, ``{code, message}`` errors."""

from __future__ import annotations

from typing import Any

from ...webhooks.brevo import EVENT_TYPES
from . import _inbound
from ._addresses import addr_spec, named, valid_address
from ._auth import Header
from ._base import ApiRequest, ApiResponse, Emulator, EspError, Message
from ._declared import fired_events
from ._time import epoch
from ._values import CLICKED_URL, AttachmentKeys, JsonKeys, text_headers

KEYS = JsonKeys("subject", "textContent", "htmlContent", None)
FILES = AttachmentKeys(("attachment",), "name", "content")


def error(status: int, code: str, text: str) -> EspError:
    return EspError.json(status, {"code": code, "message": text})


class Brevo(Emulator):
    esp = "brevo"
    api_path = "v3/"
    key_in = Header("api-key")
    endpoints = {"smtp/email": "send"}
    events = fired_events(
        EVENT_TYPES, bounced="hard_bounce", opened="unique_opened", complained="spam"
    )
    inbound_payload = staticmethod(_inbound.brevo)

    def refused(self, presented: object) -> EspError:
        return error(401, "unauthorized", "Key not found")

    def send(self, request: ApiRequest) -> tuple[list[Message], ApiResponse]:
        data = request.json_object(error(400, "bad_request", "Input must be a json object"))
        sender = data.get("sender") or {}
        if not sender.get("email") and not sender.get("id"):
            raise error(400, "missing_parameter", "sender is missing")
        if not (data.get("htmlContent") or data.get("textContent") or data.get("templateId")):
            raise error(400, "missing_parameter", "htmlContent is missing")
        versions = data.get("messageVersions") or [{}]
        messages: list[Message] = []
        for version in versions:
            to = [named(r) for r in version.get("to") or data.get("to") or []]
            cc = [named(r) for r in version.get("cc") or data.get("cc") or []]
            bcc = [named(r) for r in version.get("bcc") or data.get("bcc") or []]
            if not to + cc + bcc:
                raise error(400, "missing_parameter", "to is missing")
            for address in to + cc + bcc:
                if not valid_address(address):
                    raise error(400, "invalid_parameter", "email is not valid in to")
            headers = {**(data.get("headers") or {}), **(version.get("headers") or {})}
            # A version's subject and headers win over the message's.
            message = KEYS.message(
                data,
                named(sender),
                (to, cc, bcc),
                subject=str(version.get("subject") or data.get("subject") or ""),
                headers=text_headers(headers),
                attachments=FILES.read(data),
                tags=list(data.get("tags") or []),
                template=str(data["templateId"]) if data.get("templateId") else None,
            )
            # One Message-ID per message (version), shared by its recipients.
            message_id = f"<{epoch()}.{id(message)}.{len(messages) + 1}@smtp-relay.sandbox>"
            message.ids = {addr_spec(a): message_id for a in to + cc + bcc}
            messages.append(message)
        ids = [next(iter(m.ids.values())) for m in messages]
        body = {"messageIds": ids} if data.get("messageVersions") else {"messageId": ids[0]}
        return messages, ApiResponse.json(201, body)

    def event_payload(self, message: Message, recipient: str, event: str) -> Any:
        payload: dict[str, Any] = {
            "event": self.events[event],
            "email": recipient,
            "id": 1,
            "ts_event": epoch(),
            "ts_epoch": epoch() * 1000,
            "message-id": message.ids[recipient],
            "subject": message.subject,
            "tags": message.tags,
        }
        if message.headers.get("X-Mailin-custom"):
            payload["X-Mailin-custom"] = message.headers["X-Mailin-custom"]
        if event == "bounced":
            payload["reason"] = "550 5.1.1 mailbox unavailable"
        if event == "clicked":
            payload["link"] = CLICKED_URL
        return payload


class Sendinblue(Brevo):
    """The deprecated Sendinblue backend: Brevo's API under its old settings."""

    esp = "sendinblue"
    name = "Sendinblue (Brevo)"
