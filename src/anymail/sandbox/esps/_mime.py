"""Raw RFC 5322 messages: read one the app sent, write one for an inbound post."""

from __future__ import annotations

import json
from email import message_from_bytes, policy
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from ._addresses import parse_list
from ._base import Attachment, Message


def parse_raw(data: bytes) -> Message:
    """The parts of a raw message that the UI shows (Anymail's X-Metadata and X-Tag too)."""
    mime = message_from_bytes(data, policy=policy.default)
    assert isinstance(mime, EmailMessage)
    message = Message(
        from_email=str(mime.get("From", "")),
        to=parse_list(str(mime.get("To", ""))),
        cc=parse_list(str(mime.get("Cc", ""))),
        subject=str(mime.get("Subject", "")),
        headers={
            name: str(value)
            for name, value in mime.items()
            if name.lower() not in ("x-metadata", "x-tag", "content-type", "mime-version")
        },
        tags=[str(tag) for tag in mime.get_all("X-Tag") or []],
    )
    try:
        metadata = json.loads(str(mime.get("X-Metadata") or "{}"))
    except ValueError:
        metadata = {}
    message.metadata = metadata if isinstance(metadata, dict) else {}
    for part in mime.walk():
        if part.is_multipart():
            continue
        content_type = part.get_content_type()
        is_attachment = part.get_content_disposition() in ("attachment", "inline") or (
            part.get_filename() is not None
        )
        if content_type == "text/plain" and not is_attachment and message.text is None:
            message.text = str(part.get_content())
        elif content_type == "text/html" and not is_attachment and message.html is None:
            message.html = str(part.get_content())
        else:
            payload = part.get_payload(decode=True)
            content_id = str(part.get("Content-ID") or "").strip("<>") or None
            message.attachments.append(
                Attachment(
                    part.get_filename() or "",
                    content_type,
                    payload if isinstance(payload, bytes) else b"",
                    content_id,
                )
            )
    return message


def inbound_mime(form: dict[str, str], domain: str = "sandbox.example") -> EmailMessage:
    """A plain-text message from the UI's inbound form (from, to, subject, text)."""
    mime = EmailMessage()
    mime["From"] = form.get("from", "")
    mime["To"] = form.get("to", "")
    mime["Subject"] = form.get("subject", "")
    mime["Date"] = formatdate(localtime=False)
    mime["Message-ID"] = make_msgid(domain=domain)
    mime.set_content(form.get("text", ""))
    return mime


def inbound_bytes(form: dict[str, str]) -> bytes:
    """:func:`inbound_mime` as CRLF bytes, as mail servers hand it on."""
    return inbound_mime(form).as_bytes(policy=policy.SMTP)
