"""Scaleway TEM: ``X-Auth-Token``; a send answers one email object per recipient."""

from __future__ import annotations

from typing import Any, Final

from ...webhooks._sns_pinning import SNS_SIGNING_CERTIFICATES
from ...webhooks.scaleway import EVENT_TYPES, SNS_TRUST_CHAIN
from ._addresses import addr_spec, named, valid_address
from ._auth import Header
from ._base import ApiRequest, ApiResponse, Emulator, EspError, Message
from ._declared import fired_events
from ._time import iso_now
from ._values import AttachmentKeys, JsonKeys, new_uuid

# Headers are a list of {key, value} objects.
KEYS = JsonKeys("subject", "text", "html", None)
FILES = AttachmentKeys(("attachments",), "name", "content", "type")


def invalid(argument: str, reason: str, text: str) -> EspError:
    return EspError.json(
        400,
        {
            "type": "invalid_arguments",
            "message": "invalid argument(s)",
            "details": [{"argument_name": argument, "reason": reason, "help_message": text}],
        },
    )


#: Where the sandbox's events come from (a Topics and Events topic of its project).
REGION: Final = "fr-par"
TOPIC_ARN: Final = (
    f"arn:scw:sns:{REGION}:project-00000000-0000-4000-8000-000000000000:anymail-sandbox-events"
)


class Scaleway(Emulator):
    esp = "scaleway"
    name = "Scaleway TEM"
    # The backend fills in {region}; the sandbox answers for any region.
    api_path = "transactional-email/v1alpha1/regions/{region}/"
    key_in = Header("X-Auth-Token")
    endpoints = {"emails": "send"}
    events = fired_events(EVENT_TYPES, bounced="email_mailbox_not_found")
    project_id = "00000000-0000-4000-8000-000000000000"

    def settings(self, root: str) -> dict[str, Any]:
        return {**super().settings(root), self.declared.setting("project_id"): self.project_id}

    def refused(self, presented: object) -> EspError:
        return EspError.json(
            401,
            {
                "type": "denied_authentication",
                "message": "authentication is denied",
                "method": "api_key",
                "reason": "invalid_argument",
            },
        )

    def send(self, request: ApiRequest) -> tuple[list[Message], ApiResponse]:
        data = request.json_object(invalid("body", "format", "invalid JSON"))
        if not valid_address(named(data.get("from") or {})):
            raise invalid("from.email", "constraint", "Invalid email from address")
        if len(str(data.get("subject") or "")) < 6:
            raise invalid("subject", "constraint", "subject is too short (6 characters min)")
        if not (data.get("text") or data.get("html")):
            raise invalid("text", "required", "text or html is required")
        if data.get("text") is not None and len(str(data["text"])) < 10:
            raise invalid("text", "constraint", "text is too short (10 characters min)")
        kinds = {kind: [named(r) for r in data.get(kind) or []] for kind in ("to", "cc", "bcc")}
        if not any(kinds.values()):
            raise invalid("to", "required", "at least one recipient is required")
        for addresses in kinds.values():
            for address in addresses:
                if not valid_address(address):
                    raise invalid("to.email", "constraint", "Invalid email recipient address")
        message = KEYS.message(
            data,
            named(data["from"]),
            (kinds["to"], kinds["cc"], kinds["bcc"]),
            headers={
                h.get("key", ""): h.get("value", "") for h in data.get("additional_headers") or []
            },
            attachments=FILES.read(data),
        )
        message_id = new_uuid()
        emails = []
        for kind, addresses in kinds.items():
            for address in addresses:
                email_id = new_uuid()
                message.ids[addr_spec(address)] = email_id
                emails.append(
                    {
                        "id": email_id,
                        "message_id": message_id,
                        "project_id": self.project_id,
                        "mail_from": addr_spec(message.from_email),
                        "mail_rcpt": addr_spec(address),
                        "rcpt_to": addr_spec(address),
                        "rcpt_type": kind,
                        "subject": message.subject,
                        "created_at": iso_now(),
                        "updated_at": iso_now(),
                        "status": "new",
                        "status_details": "not yet processed",
                        "try_count": 0,
                        "last_tries": [],
                        "flags": [],
                    }
                )
        return [message], ApiResponse.json(200, {"emails": emails})

    def webhook_settings(self) -> dict[str, Any]:
        # The sandbox's CA stands in for Scaleway's trust chain; its signing
        # certificate is pinned to the URL the posts name (region of the builder's topic).
        from ..._testing_scaleway import cert_url
        from ..keys import certificate_pem

        ca, signer = self.keys.scaleway
        return {
            self.declared.name_of(SNS_TRUST_CHAIN): certificate_pem(ca),
            self.declared.name_of(SNS_SIGNING_CERTIFICATES): {
                cert_url(signer, REGION): signer.cert_pem.decode("ascii")
            },
        }

    def builder_options(self, url: str, secret: str | None) -> dict[str, Any]:
        return {"signer": self.keys.scaleway[1], "topic_arn": TOPIC_ARN}

    def event_payload(self, message: Message, recipient: str, event: str) -> Any:
        return {
            "id": new_uuid(),
            "type": self.events[event],
            "project_id": self.project_id,
            "created_at": iso_now(),
            "email_id": message.ids[recipient],
            "email_from": addr_spec(message.from_email),
            "email_to": recipient,
            "email_headers": [{"key": k, "value": v} for k, v in message.headers.items()],
            "email_response_code": 250 if event == "delivered" else 550,
            "email_response_message": "2.0.0 Ok" if event == "delivered" else "5.1.1 no mailbox",
        }
