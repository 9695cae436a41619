"""SparkPost: the bare key in ``Authorization``; one transmission id for the whole call."""

from __future__ import annotations

import itertools
from typing import Any

from ...webhooks.sparkpost import EVENT_TYPES
from . import _inbound
from ._addresses import addr_spec, named, valid_address
from ._auth import Header
from ._base import ApiRequest, ApiResponse, Emulator, EspError, Message
from ._declared import fired_events
from ._time import epoch
from ._values import CLICKED_URL, AttachmentKeys, JsonKeys, text_headers

_ids = itertools.count(7318265432183591)


def error(status: int, text: str, description: str = "", code: str = "") -> EspError:
    detail = {"message": text, **({"description": description} if description else {})}
    return EspError.json(status, {"errors": [{**detail, **({"code": code} if code else {})}]})


#: The events SparkPost posts in its track_event group (the others: message_event).
TRACK_EVENTS = frozenset({"opened", "clicked"})
# In the transmission's content object.
KEYS = JsonKeys("subject", "text", "html", None)
FILES = AttachmentKeys(("attachments", "inline_images"), "name", "data", "type")


class SparkPost(Emulator):
    esp = "sparkpost"
    api_path = "api/v1"
    key_in = Header("Authorization")  # the bare key, no scheme
    endpoints = {"transmissions/?": "send"}
    #: SparkPost's events come in groups: (the group, the event's type).
    events = {
        event: ("track_event" if event in TRACK_EVENTS else "message_event", name)
        for event, name in fired_events(
            EVENT_TYPES, bounced="bounce", opened="open", clicked="click"
        ).items()
    }
    inbound_payload = staticmethod(_inbound.sparkpost)

    def refused(self, presented: object) -> EspError:
        return error(401, "Unauthorized.")

    def send(self, request: ApiRequest) -> tuple[list[Message], ApiResponse]:
        data = request.json_object(
            error(400, "invalid data format/type", "Problems parsing request as json", "1300")
        )
        content = data.get("content")
        if not isinstance(content, dict) or not (content.get("template_id") or content):
            raise error(
                422, "required field is missing", "content object or template_id required", "1400"
            )
        recipients = data.get("recipients") or []
        if not recipients:
            raise error(422, "required field is missing", "recipients is required", "1400")
        if not (content.get("from") or content.get("template_id")):
            raise error(422, "required field is missing", "content.from is required", "1400")
        for recipient in recipients:
            if not valid_address(str((recipient.get("address") or {}).get("email", ""))):
                raise error(422, "invalid data format/type", "Invalid email address", "1300")
        headers = dict(content.get("headers") or {})
        header_to = [str((r.get("address") or {}).get("header_to") or "") for r in recipients]
        to_addresses = {addr_spec(a) for a in ", ".join(header_to).split(",") if a.strip()}
        emails = [str(r["address"]["email"]) for r in recipients]
        sender = content.get("from")
        from_email = str(named(sender) if isinstance(sender, dict) else sender or "")
        to = [e for e in emails if e in to_addresses] or emails
        cc = [e for e in emails if e not in to_addresses and e in headers.get("Cc", "")]
        bcc = [e for e in emails if e not in to_addresses and e not in headers.get("Cc", "")]
        message = KEYS.message(
            content,
            from_email,
            (to, cc, bcc),
            headers=text_headers(headers),
            attachments=FILES.read(content),
            tags=[data["campaign_id"]] if data.get("campaign_id") else [],
            metadata=dict(data.get("metadata") or {}),
            template=content.get("template_id"),
        )
        transmission_id = str(next(_ids))
        message.ids = {addr_spec(e): transmission_id for e in emails}
        return [message], ApiResponse.json(
            200,
            {
                "results": {
                    "total_rejected_recipients": 0,
                    "total_accepted_recipients": len(recipients),
                    "id": transmission_id,
                }
            },
        )

    def event_payload(self, message: Message, recipient: str, event: str) -> Any:
        group, kind = self.events[event]
        item: dict[str, Any] = {
            "type": kind,
            "event_id": str(next(_ids)),
            "timestamp": str(epoch()),
            "transmission_id": message.ids[recipient],
            "rcpt_to": recipient,
            "friendly_from": addr_spec(message.from_email),
            "subject": message.subject,
            "rcpt_meta": message.metadata,
            "campaign_id": message.tags[0] if message.tags else "",
        }
        if event == "bounced":
            item.update(
                bounce_class="10",
                error_code="550",
                raw_reason="550 5.1.1 User unknown",
                reason="550 5.1.1 User unknown",
            )
        if event == "clicked":
            item["target_link_url"] = CLICKED_URL
        if event == "complained":
            item["fbtype"] = "abuse"
        return [{"msys": {group: item}}]
