"""Postmark: ``X-Postmark-Server-Token``, JSON, ErrorCode bodies (HTTP 422)."""

from __future__ import annotations

from typing import Any

from ...webhooks.postmark import RECORD_TYPES
from ._addresses import addr_spec, parse_list, valid_address
from ._auth import Header
from ._base import ApiRequest, ApiResponse, Emulator, EspError, Message
from ._declared import fired_events
from ._time import iso_now
from ._values import CLICKED_URL, USER_AGENT, AttachmentKeys, JsonKeys, new_uuid

# Headers are a list of {Name, Value} objects.
KEYS = JsonKeys("Subject", "TextBody", "HtmlBody", None)
FILES = AttachmentKeys(("Attachments",), "Name", "Content", "ContentType", "ContentID")
MAX_RECIPIENTS = 50


def error(code: int, text: str, status: int = 422) -> EspError:
    return EspError.json(status, {"ErrorCode": code, "Message": text})


def invalid_json() -> EspError:
    return error(402, "Received invalid JSON input.", 400)


class Postmark(Emulator):
    esp = "postmark"
    key_in = Header("X-Postmark-Server-Token")
    endpoints = {
        "email": "single",
        "email/withTemplate": "single",
        "email/batch": "batch",
        "email/batchWithTemplates": "batch_templates",
    }
    # A bounce is RecordType "Bounce", refined by its Type (see event_payload).
    events = fired_events(RECORD_TYPES, bounced="Bounce")

    def refused(self, presented: object) -> EspError:
        return error(
            10,
            "The Server Token you provided in the X-Postmark-Server-Token request header"
            " was invalid. Please verify that you are using a valid token.",
            status=401,
        )

    def single(self, request: ApiRequest) -> tuple[list[Message], ApiResponse]:
        message = self.message(request.json(invalid_json()))
        return [message], ApiResponse.json(200, self.result(message))

    def batch(self, request: ApiRequest) -> tuple[list[Message], ApiResponse]:
        items = request.json(invalid_json())
        if not isinstance(items, list):
            raise invalid_json()
        return self.many(items)

    def batch_templates(self, request: ApiRequest) -> tuple[list[Message], ApiResponse]:
        data = request.json(invalid_json())
        items = data.get("Messages") if isinstance(data, dict) else None
        if not isinstance(items, list):
            raise error(403, "The 'Messages' field is required.")
        return self.many(items)

    def many(self, items: list[Any]) -> tuple[list[Message], ApiResponse]:
        if len(items) > 500:
            raise error(410, "Too many batch messages (500 allowed).")
        messages, results = [], []
        for item in items:
            try:
                message = self.message(item)
            except EspError as exc:  # a batch answers 200 with each item's own error
                results.append(exc.response_json())
                continue
            messages.append(message)
            results.append(self.result(message))
        return messages, ApiResponse.json(200, results)

    def message(self, data: Any) -> Message:
        if not isinstance(data, dict):
            raise invalid_json()
        from_email = str(data.get("From") or "")
        if not valid_address(from_email):
            raise error(300, f"Invalid 'From' address: '{from_email}'.")
        to, cc, bcc = (parse_list(data.get(key)) for key in ("To", "Cc", "Bcc"))
        for address in to + cc + bcc:
            if not valid_address(address):
                raise error(300, f"Invalid 'To' address: '{address}'.")
        if not to + cc + bcc:
            raise error(300, "Zero recipients specified")
        if len(to + cc + bcc) > MAX_RECIPIENTS:
            raise error(300, "You can only send to 50 recipients at a time.")
        template = data.get("TemplateId") or data.get("TemplateAlias")
        if not (template or data.get("TextBody") or data.get("HtmlBody")):
            raise error(300, "Provide either email TextBody or HtmlBody or both.")
        message = KEYS.message(
            data,
            from_email,
            (to, cc, bcc),
            headers={h.get("Name", ""): h.get("Value", "") for h in data.get("Headers") or []},
            attachments=FILES.read(data),
            tags=[data["Tag"]] if data.get("Tag") else [],
            metadata=dict(data.get("Metadata") or {}),
            template=str(template) if template else None,
        )
        message_id = new_uuid()  # Postmark: one MessageID for all of a message's recipients
        message.ids = dict.fromkeys(message.recipients, message_id)
        return message

    def result(self, message: Message) -> dict[str, Any]:
        return {
            "To": ", ".join(message.to),
            "SubmittedAt": iso_now(),
            "MessageID": next(iter(message.ids.values())),
            "ErrorCode": 0,
            "Message": "OK",
        }

    def event_payload(self, message: Message, recipient: str, event: str) -> Any:
        common = {
            "MessageID": message.ids[recipient],
            "MessageStream": "outbound",
            "Metadata": message.metadata,
            "Tag": message.tags[0] if message.tags else "",
            "ServerID": 1,
        }
        if event == "delivered":
            return {
                "RecordType": self.events[event],
                "Recipient": recipient,
                "DeliveredAt": iso_now(),
                "Details": "smtp;250 2.0.0 OK",
                **common,
            }
        if event in ("bounced", "complained"):
            bounce = event == "bounced"
            return {
                "RecordType": self.events[event],
                "ID": 1,
                "Type": "HardBounce" if bounce else "SpamComplaint",
                "TypeCode": 1 if bounce else 100001,
                "Email": recipient,
                "From": addr_spec(message.from_email),
                "Subject": message.subject,
                "Description": "The server was unable to deliver your message."
                if bounce
                else "The subscriber explicitly marked this message as spam.",
                "Details": "smtp;550 5.1.1 The email account does not exist." if bounce else "",
                "BouncedAt": iso_now(),
                "Inactive": True,
                "CanActivate": bounce,
                **common,
            }
        if event == "opened":
            return {
                "RecordType": self.events[event],
                "Recipient": recipient,
                "ReceivedAt": iso_now(),
                "FirstOpen": True,
                "UserAgent": USER_AGENT,
                **common,
            }
        return {
            "RecordType": self.events[event],
            "Recipient": recipient,
            "ReceivedAt": iso_now(),
            "OriginalLink": CLICKED_URL,
            "ClickLocation": "HTML",
            "UserAgent": USER_AGENT,
            **common,
        }

    def inbound_payload(self, form: dict[str, str]) -> Any:
        """Postmark's inbound JSON for a plain-text message."""
        sender, recipient = form.get("from", ""), form.get("to", "")
        return {
            "From": sender,
            "FromFull": {"Email": addr_spec(sender), "Name": "", "MailboxHash": ""},
            "To": recipient,
            "ToFull": [{"Email": addr_spec(recipient), "Name": "", "MailboxHash": ""}],
            "CcFull": [],
            "BccFull": [],
            "OriginalRecipient": addr_spec(recipient),
            "Subject": form.get("subject", ""),
            "MessageID": new_uuid(),
            "Date": iso_now(),
            "TextBody": form.get("text", ""),
            "HtmlBody": "",
            "Headers": [],
            "Attachments": [],
        }
