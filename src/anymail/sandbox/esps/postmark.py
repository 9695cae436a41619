"""Postmark: ``X-Postmark-Server-Token``, JSON, ErrorCode bodies (HTTP 422)."""

from __future__ import annotations

from typing import Any

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
from ._time import iso_now

MAX_RECIPIENTS = 50


def error(code: int, text: str, status: int = 422) -> EspError:
    return EspError.json(status, {"ErrorCode": code, "Message": text})


class Postmark(Emulator):
    esp = "postmark"
    name = "Postmark"
    api_url_setting = "POSTMARK_API_URL"
    endpoints = {
        "email": "single",
        "email/withTemplate": "single",
        "email/batch": "batch",
        "email/batchWithTemplates": "batch_templates",
    }
    secret_headers = ("X-Postmark-Server-Token",)

    def settings(self, root: str) -> dict[str, Any]:
        return {"POSTMARK_SERVER_TOKEN": self.api_key, self.api_url_setting: self.api_url(root)}

    def authenticate(self, request: ApiRequest) -> None:
        if request.header("X-Postmark-Server-Token") != self.api_key:
            raise error(
                10,
                "The Server Token you provided in the X-Postmark-Server-Token request header"
                " was invalid. Please verify that you are using a valid token.",
                status=401,
            )

    def single(self, request: ApiRequest) -> tuple[list[Message], ApiResponse]:
        data = request.json(lambda text: error(402, "Received invalid JSON input.", 400))
        message = self.message(data)
        return [message], ApiResponse.json(200, self.result(message))

    def batch(self, request: ApiRequest) -> tuple[list[Message], ApiResponse]:
        items = request.json(lambda text: error(402, "Received invalid JSON input.", 400))
        if not isinstance(items, list):
            raise error(402, "Received invalid JSON input.", 400)
        return self.many(items)

    def batch_templates(self, request: ApiRequest) -> tuple[list[Message], ApiResponse]:
        data = request.json(lambda text: error(402, "Received invalid JSON input.", 400))
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
            raise error(402, "Received invalid JSON input.", 400)
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
        message = Message(
            from_email=from_email,
            to=to,
            cc=cc,
            bcc=bcc,
            subject=str(data.get("Subject") or ""),
            text=data.get("TextBody"),
            html=data.get("HtmlBody"),
            headers={h.get("Name", ""): h.get("Value", "") for h in data.get("Headers") or []},
            attachments=[
                Attachment(
                    a.get("Name", ""),
                    a.get("ContentType", ""),
                    b64decode(a.get("Content")),
                    a.get("ContentID"),
                )
                for a in data.get("Attachments") or []
            ],
            tags=[data["Tag"]] if data.get("Tag") else [],
            metadata=dict(data.get("Metadata") or {}),
            template=str(template) if template else None,
        )
        message_id = new_uuid()  # Postmark: one MessageID for all of a message's recipients
        message.ids = {addr_spec(address): message_id for address in to + cc + bcc}
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
                "RecordType": "Delivery",
                "Recipient": recipient,
                "DeliveredAt": iso_now(),
                "Details": "smtp;250 2.0.0 OK",
                **common,
            }
        if event in ("bounced", "complained"):
            bounce = event == "bounced"
            return {
                "RecordType": "Bounce" if bounce else "SpamComplaint",
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
                "RecordType": "Open",
                "Recipient": recipient,
                "ReceivedAt": iso_now(),
                "FirstOpen": True,
                "UserAgent": "Mozilla/5.0 (sandbox)",
                **common,
            }
        return {
            "RecordType": "Click",
            "Recipient": recipient,
            "ReceivedAt": iso_now(),
            "OriginalLink": "https://example.com/",
            "ClickLocation": "HTML",
            "UserAgent": "Mozilla/5.0 (sandbox)",
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
