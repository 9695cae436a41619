"""Each ESP's inbound post for the UI's form (from, to, subject, text), in its own format.

The ESP receives a plain-text message and posts it to the app's inbound webhook
as it would: the raw message where the ESP sends one, its parsed fields where
it sends those. :mod:`anymail.testing`'s builders sign and authenticate it.
"""

from __future__ import annotations

import base64
import itertools
from email.utils import formatdate, make_msgid, parseaddr
from typing import Any

from ._addresses import addr_spec
from ._mime import inbound_bytes
from ._time import epoch, iso_now
from ._values import new_uuid

_ids = itertools.count(9001)


def _raw(form: dict[str, str]) -> str:
    return inbound_bytes(form).decode("utf-8")


def mailgun(form: dict[str, str]) -> list[tuple[str, str]]:
    """A route's post to the ``inbound_mime`` URL: the raw message in ``body-mime``."""
    return [
        ("recipient", addr_spec(form.get("to", ""))),
        ("sender", addr_spec(form.get("from", ""))),
        ("from", form.get("from", "")),
        ("subject", form.get("subject", "")),
        ("body-mime", _raw(form)),
    ]


def mailjet(form: dict[str, str]) -> dict[str, Any]:
    """The Parse API's JSON: headers and parts, no raw message."""
    sender, recipient = form.get("from", ""), form.get("to", "")
    return {
        "Sender": addr_spec(sender),
        "Recipient": addr_spec(recipient),
        "Date": iso_now()[:19].replace("-", "").replace(":", ""),
        "From": sender,
        "Subject": form.get("subject", ""),
        "Headers": {
            "MIME-Version": ["1.0"],
            "Content-Type": ["text/plain; charset=UTF-8"],
            "Date": formatdate(),
            "Message-ID": make_msgid(domain="sandbox.example"),
            "Subject": form.get("subject", ""),
            "From": sender,
            "To": recipient,
        },
        "Parts": [
            {"Headers": {"Content-Type": "text/plain; charset=UTF-8"}, "ContentRef": "Text-part"}
        ],
        "Text-part": form.get("text", ""),
        "SpamAssassinScore": "0.0",
        "CustomID": "",
        "Payload": "",
    }


def mandrill(form: dict[str, str]) -> list[dict[str, Any]]:
    """An ``inbound`` event in ``mandrill_events``, with the raw message."""
    sender_name, sender = parseaddr(form.get("from", ""))
    return [
        {
            "event": "inbound",
            "ts": epoch(),
            "msg": {
                "raw_msg": _raw(form),
                "email": addr_spec(form.get("to", "")),
                "from_email": sender,
                "from_name": sender_name or None,
                "subject": form.get("subject", ""),
                "text": form.get("text", ""),
                "to": [[addr_spec(form.get("to", "")), None]],
                "headers": {},
                "spam_report": {"score": 0, "matched_rules": []},
            },
        }
    ]


def postal(form: dict[str, str]) -> dict[str, Any]:
    """An HTTP endpoint's "raw message" post: the message in base64."""
    raw = inbound_bytes(form)
    return {
        "id": next(_ids),
        "rcpt_to": addr_spec(form.get("to", "")),
        "mail_from": addr_spec(form.get("from", "")),
        "message": base64.encodebytes(raw).decode("ascii"),
        "base64": True,
        "size": len(raw),
    }


def sendgrid(form: dict[str, str]) -> list[tuple[str, Any]]:
    """Inbound Parse with "POST the raw, full MIME message" on: the ``email`` field."""
    form = {"from": "", **form}
    return [
        ("to", form.get("to", "")),
        ("from", form.get("from", "")),
        ("subject", form.get("subject", "")),
        ("sender_ip", "127.0.0.1"),
        ("envelope", {"to": [addr_spec(form.get("to", ""))], "from": addr_spec(form["from"])}),
        ("charsets", {"to": "UTF-8", "from": "UTF-8", "subject": "UTF-8"}),
        ("spam_score", "0.0"),
        ("email", _raw(form)),
    ]


def sparkpost(form: dict[str, str]) -> list[dict[str, Any]]:
    """A relay webhook batch of one ``relay_message`` (the raw message, not base64)."""
    recipient = addr_spec(form.get("to", ""))
    sender = addr_spec(form.get("from", ""))
    return [
        {
            "msys": {
                "relay_message": {
                    "content": {
                        "email_rfc822": _raw(form),
                        "email_rfc822_is_base64": False,
                        "headers": [],
                        "subject": form.get("subject", ""),
                        "text": form.get("text", ""),
                        "to": [recipient],
                    },
                    "customer_id": "1",
                    "friendly_from": sender,
                    "msg_from": sender,
                    "rcpt_to": recipient,
                    "webhook_id": "1",
                    "protocol": "smtp",
                }
            }
        }
    ]


def brevo(form: dict[str, str]) -> dict[str, Any]:
    """Inbound parsing's ``items``: the parsed message, no raw one."""
    sender_name, sender = parseaddr(form.get("from", ""))
    recipient_name, recipient = parseaddr(form.get("to", ""))
    message_id = make_msgid(domain="sandbox.example")
    return {
        "items": [
            {
                "Uuid": [new_uuid()],
                "MessageId": message_id,
                "InReplyTo": None,
                "From": {"Name": sender_name or None, "Address": sender},
                "To": [{"Name": recipient_name or None, "Address": recipient}],
                "Cc": [],
                "ReplyTo": None,
                "SentAtDate": formatdate(),
                "Subject": form.get("subject", ""),
                "Attachments": [],
                "Headers": {
                    "MIME-Version": "1.0",
                    "From": form.get("from", ""),
                    "To": form.get("to", ""),
                    "Subject": form.get("subject", ""),
                    "Message-ID": message_id,
                    "Content-Type": "text/plain; charset=utf-8",
                },
                "SpamScore": 0.0,
                "ExtractedMarkdownMessage": form.get("text", ""),
                "ExtractedMarkdownSignature": None,
                "RawHtmlBody": None,
                "RawTextBody": form.get("text", ""),
            }
        ]
    }


def resend_event(email_id: str, form: dict[str, str]) -> dict[str, Any]:
    """``email.received``: it only says that mail arrived (the app fetches it by id)."""
    recipient = addr_spec(form.get("to", ""))
    return {
        "type": "email.received",
        "created_at": iso_now(),
        "data": {
            "email_id": email_id,
            "created_at": iso_now(),
            "from": form.get("from", ""),
            "to": [recipient],
            "bcc": [],
            "cc": [],
            "received_for": [recipient],
            "message_id": make_msgid(domain="sandbox.example"),
            "subject": form.get("subject", ""),
            "attachments": [],
        },
    }


def resend_email(email_id: str, form: dict[str, str]) -> dict[str, Any]:
    """The Receiving API's answer for a received email, without ``raw`` (its download
    URL would be https: the app builds the message from these fields instead)."""
    recipient = addr_spec(form.get("to", ""))
    return {
        "object": "email",
        "id": email_id,
        "to": [form.get("to", "")],
        "from": form.get("from", ""),
        "created_at": iso_now(),
        "subject": form.get("subject", ""),
        "bcc": None,
        "cc": None,
        "reply_to": None,
        "received_for": [recipient],
        "html": None,
        "text": form.get("text", ""),
        "headers": {"mime-version": "1.0", "date": formatdate()},
        "message_id": make_msgid(domain="sandbox.example"),
        "attachments": [],
    }
