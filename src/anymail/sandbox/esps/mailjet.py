"""Mailjet v3.1: basic auth ``key:secret``, ``{"Messages": [...]}``, per-message errors."""

from __future__ import annotations

import itertools
from typing import Any

from ...webhooks.mailjet import EVENT_TYPES
from . import _inbound
from ._addresses import addr_spec, named, valid_address
from ._auth import Basic
from ._base import ApiRequest, ApiResponse, Emulator, EspError, Message
from ._declared import fired_events
from ._time import epoch
from ._values import CLICKED_URL, AttachmentKeys, JsonKeys, new_uuid

#: Mailjet's MessageIDs are integers beyond 2**53 (the backend must keep them exact).
_ids = itertools.count(576460752303423489)
PUBLIC_KEY = "sandbox"
KEYS = JsonKeys("Subject", "TextPart", "HTMLPart", "Headers")
FILES = AttachmentKeys(
    ("Attachments", "InlinedAttachments"), "Filename", "Base64Content", "ContentType", "ContentID"
)


def global_error(status: int, text: str, code: str | None = None) -> EspError:
    body = {"ErrorIdentifier": new_uuid(), "StatusCode": status, "ErrorMessage": text}
    return EspError.json(status, {**body, **({"ErrorCode": code} if code else {})})


def message_error(code: str, text: str, related: list[str]) -> dict[str, Any]:
    return {
        "Status": "error",
        "Errors": [
            {
                "ErrorIdentifier": new_uuid(),
                "ErrorCode": code,
                "StatusCode": 400,
                "ErrorMessage": text,
                "ErrorRelatedTo": related,
            }
        ],
    }


class Mailjet(Emulator):
    esp = "mailjet"
    api_path = "v3.1/"
    key_option = "secret_key"  # the password; the user name is its API key (PUBLIC_KEY)
    key_in = Basic(PUBLIC_KEY)
    endpoints = {"send": "send"}
    events = fired_events(EVENT_TYPES)
    inbound_payload = staticmethod(_inbound.mailjet)

    def settings(self, root: str) -> dict[str, Any]:
        return {self.declared.setting("api_key"): PUBLIC_KEY, **super().settings(root)}

    def refused(self, presented: object) -> EspError:
        return global_error(
            401,
            "API key authentication/authorization failure. You may be unauthorized to "
            "access the API or your API key may be expired. Visit API keys management "
            "section to check your keys.",
        )

    def send(self, request: ApiRequest) -> tuple[list[Message], ApiResponse]:
        malformed = "Malformed JSON, please review the syntax and properties types."
        data = request.json(global_error(400, malformed, "mj-0002"))
        items = data.get("Messages") if isinstance(data, dict) else None
        if not isinstance(items, list) or not items:
            raise global_error(400, "Missing mandatory property.", "mj-0003")
        defaults = data.get("Globals") or {}
        messages, results = [], []
        for item in items:
            item = {**defaults, **item}
            problem = self.problem(item)
            if problem:
                results.append(problem)
                continue
            message = self.message(item)
            messages.append(message)
            result: dict[str, Any] = {"Status": "success", "CustomID": item.get("CustomID", "")}
            for key in ("To", "Cc", "Bcc"):
                result[key] = [
                    {
                        "Email": addr_spec(named(r, "Email", "Name")),
                        "MessageUUID": new_uuid(),
                        "MessageID": message.ids[addr_spec(named(r, "Email", "Name"))],
                        "MessageHref": "https://api.mailjet.com/v3/REST/message/"
                        f"{message.ids[addr_spec(named(r, 'Email', 'Name'))]}",
                    }
                    for r in item.get(key) or []
                ]
            results.append(result)
        status = 200 if len(messages) == len(items) else 400
        return messages, ApiResponse.json(status, {"Messages": results})

    def problem(self, item: dict[str, Any]) -> dict[str, Any] | None:
        if not (item.get("From") or {}).get("Email"):
            return message_error("mj-0003", "Missing mandatory property.", ["From"])
        if not item.get("To"):
            return message_error("mj-0003", "Missing mandatory property.", ["To"])
        for key in ("To", "Cc", "Bcc"):
            for index, recipient in enumerate(item.get(key) or []):
                if not valid_address(named(recipient, "Email", "Name")):
                    return message_error(
                        "mj-0013",
                        f'"{recipient.get("Email")}" is an invalid email address.',
                        [f"{key}[{index}].Email"],
                    )
        if not (item.get("HTMLPart") or item.get("TextPart") or item.get("TemplateID")):
            return message_error(
                "send-0003",
                'At least "HTMLPart", "TextPart" or "TemplateID" must be provided.',
                ["HTMLPart", "TextPart"],
            )
        return None

    def message(self, item: dict[str, Any]) -> Message:
        def people(key: str) -> list[str]:
            return [named(r, "Email", "Name") for r in item.get(key) or []]

        message = KEYS.message(
            item,
            named(item["From"], "Email", "Name"),
            (people("To"), people("Cc"), people("Bcc")),
            attachments=FILES.read(item),
            tags=[item["MonitoringCategory"]] if item.get("MonitoringCategory") else [],
            template=str(item["TemplateID"]) if item.get("TemplateID") else None,
        )
        message.metadata = (
            {"EventPayload": item["EventPayload"]} if item.get("EventPayload") else {}
        )
        message.ids = {recipient: next(_ids) for recipient in message.recipients}
        return message

    def event_payload(self, message: Message, recipient: str, event: str) -> Any:
        payload: dict[str, Any] = {
            "event": self.events[event],
            "time": epoch(),
            "MessageID": message.ids[recipient],
            "Message_GUID": new_uuid(),
            "email": recipient,
            "customcampaign": "",
            "CustomID": "",
            "Payload": message.metadata.get("EventPayload", ""),
        }
        if event == "bounced":
            payload.update(
                blocked=False,
                hard_bounce=True,
                error_related_to="recipient",
                error="user unknown",
                comment="550 5.1.1 User unknown",
            )
        if event == "clicked":
            payload["url"] = CLICKED_URL
        if event == "complained":
            payload["source"] = "JMRPP"
        return [payload]
