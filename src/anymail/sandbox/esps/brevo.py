"""Brevo (ex-Sendinblue): ``api-key`` header, one endpoint, ``{code, message}`` errors."""

from __future__ import annotations

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
    named,
    valid_address,
)
from ._time import epoch


def error(status: int, code: str, text: str) -> EspError:
    return EspError.json(status, {"code": code, "message": text})


class Brevo(Emulator):
    esp = "brevo"
    name = "Brevo"
    api_path = "v3/"
    api_url_setting = "BREVO_API_URL"
    endpoints = {"smtp/email": "send"}
    secret_headers = ("api-key",)
    events = ("delivered", "bounced", "opened", "clicked", "complained")
    inbound_payload = staticmethod(_inbound.brevo)

    def settings(self, root: str) -> dict[str, Any]:
        return {"BREVO_API_KEY": self.api_key, self.api_url_setting: self.api_url(root)}

    def authenticate(self, request: ApiRequest) -> None:
        if request.header("api-key") != self.api_key:
            raise error(401, "unauthorized", "Key not found")

    def send(self, request: ApiRequest) -> tuple[list[Message], ApiResponse]:
        data = request.json(lambda text: error(400, "bad_request", "Input must be a json object"))
        if not isinstance(data, dict):
            raise error(400, "bad_request", "Input must be a json object")
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
            message = Message(
                from_email=named(sender),
                to=to,
                cc=cc,
                bcc=bcc,
                subject=str(version.get("subject") or data.get("subject") or ""),
                text=data.get("textContent"),
                html=data.get("htmlContent"),
                headers={str(k): str(v) for k, v in headers.items()},
                attachments=[
                    Attachment(str(a.get("name", "")), "", b64decode(a.get("content")))
                    for a in data.get("attachment") or []
                ],
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
        names = {
            "delivered": "delivered",
            "bounced": "hard_bounce",
            "opened": "unique_opened",
            "clicked": "click",
            "complained": "spam",
        }
        payload: dict[str, Any] = {
            "event": names[event],
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
            payload["link"] = "https://example.com/"
        return payload


class Sendinblue(Brevo):
    """The deprecated Sendinblue backend: Brevo's API under its old settings."""

    esp = "sendinblue"
    name = "Sendinblue (Brevo)"
    api_url_setting = "SENDINBLUE_API_URL"

    def settings(self, root: str) -> dict[str, Any]:
        return {"SENDINBLUE_API_KEY": self.api_key, self.api_url_setting: self.api_url(root)}
