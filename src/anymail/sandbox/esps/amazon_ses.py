"""Amazon SES API v2 (``sesv2``): REST-JSON signed with AWS Signature Version 4.

boto3 is pointed at it by ``AMAZON_SES_CLIENT_PARAMS["endpoint_url"]`` (with the
sandbox's access key, its secret and a region). Events are SES event-publishing
records in Amazon SNS notifications, signed by the sandbox's SNS key and
certificate. The app's webhook view checks the signature for real, with the
certificate pinned by ``AMAZON_SES_SNS_SIGNING_CERTIFICATES`` (in the app's own
process, :mod:`anymail.testing` also hands it over, as if downloaded from Amazon).
"""

from __future__ import annotations

import base64
import binascii
import json
import secrets
from typing import Any, Final

from ..._amazon_ses_settings import CLIENT_PARAMS, CONFIGURATION_SET_NAME, ESP_NAME
from ...webhooks._sns_pinning import SNS_SIGNING_CERTIFICATES
from ...webhooks.amazon_ses import EVENT_TYPES
from ._addresses import addr_spec, parse_list, valid_address
from ._base import ApiRequest, ApiResponse, Emulator, EspError, Message
from ._declared import fired_events
from ._mime import inbound_bytes, parse_raw
from ._sigv4 import SigV4Problem, check_sigv4
from ._time import iso_now
from ._values import CLICKED_URL, CLIENT_IP, USER_AGENT, new_uuid

#: The sandbox's AWS access key id (the secret is the sandbox's API key).
ACCESS_KEY: Final = "SANDBOXACCESSKEY"
REGION: Final = "us-east-1"
ACCOUNT: Final = "123456789012"
#: The one configuration set the sandbox knows: it "publishes" the events fired.
CONFIGURATION_SET: Final = "anymail-sandbox"
TOPIC_ARN: Final = f"arn:aws:sns:{REGION}:{ACCOUNT}:anymail-sandbox-events"
INBOUND_TOPIC_ARN: Final = f"arn:aws:sns:{REGION}:{ACCOUNT}:anymail-sandbox-inbound"
MAX_RECIPIENTS: Final = 50
MAX_BULK_ENTRIES: Final = 50


def error(code: str, text: str, status: int = 400) -> EspError:
    """An SES error as it comes over the wire: the code in ``x-amzn-ErrorType``."""
    return EspError(
        ApiResponse.json(
            status, {"message": text}, **{"x-amzn-ErrorType": code, "x-amzn-RequestId": new_uuid()}
        )
    )


def ses_message_id() -> str:
    return f"0100019a{secrets.token_hex(4)}-{new_uuid()}-000000"


def addresses(destination: Any) -> tuple[list[str], list[str], list[str]]:
    destination = destination if isinstance(destination, dict) else {}
    return (
        parse_list(destination.get("ToAddresses")),
        parse_list(destination.get("CcAddresses")),
        parse_list(destination.get("BccAddresses")),
    )


def check_recipients(recipients: list[str]) -> None:
    if not recipients:
        raise error("BadRequestException", "Missing required field Destination.")
    if len(recipients) > MAX_RECIPIENTS:
        raise error("MessageRejected", f"Recipient count exceeds {MAX_RECIPIENTS}.")
    for address in recipients:
        local = addr_spec(address).rpartition("@")[0]
        if not local.isascii():
            raise error("BadRequestException", "Local address contains control or whitespace.")
        if not valid_address(address):
            raise error("BadRequestException", f"Missing final '@domain': {addr_spec(address)}")


class AmazonSES(Emulator):
    esp = "amazon_ses"
    api_url_setting = f'{CLIENT_PARAMS.full_name(ESP_NAME)}["endpoint_url"]'
    endpoints = {"v2/email/outbound-emails": "send", "v2/email/outbound-bulk-emails": "bulk"}
    events = fired_events(EVENT_TYPES)

    def settings(self, root: str) -> dict[str, Any]:
        return {
            CLIENT_PARAMS.full_name(ESP_NAME): {
                "endpoint_url": self.api_url(root),
                "region_name": REGION,
                "aws_access_key_id": ACCESS_KEY,
                "aws_secret_access_key": self.api_key,
            },
            CONFIGURATION_SET_NAME.full_name(ESP_NAME): CONFIGURATION_SET,
        }

    def webhook_settings(self) -> dict[str, Any]:
        # The sandbox's SNS certificate, pinned to the URL its messages name.
        signer = self.keys.sns
        return {
            self.declared.name_of(SNS_SIGNING_CERTIFICATES): {
                signer.cert_url(REGION): signer.cert_pem.decode("ascii")
            }
        }

    def authenticate(self, request: ApiRequest) -> None:
        try:
            check_sigv4(request, ACCESS_KEY, self.api_key, "ses")
        except SigV4Problem as problem:
            raise error(problem.code, problem.text, 403) from None

    def parse(self, request: ApiRequest) -> dict[str, Any]:
        data = request.json_object(error("BadRequestException", "Malformed request body."))
        name = data.get("ConfigurationSetName")
        if name is not None and name != CONFIGURATION_SET:
            raise error("NotFoundException", f"Configuration set <{name}> does not exist.", 404)
        return data

    def send(self, request: ApiRequest) -> tuple[list[Message], ApiResponse]:
        data = self.parse(request)
        content = data.get("Content")
        if not isinstance(content, dict):
            content = {}
        to, cc, bcc = addresses(data.get("Destination"))
        if "Raw" in content:
            try:
                raw = base64.b64decode(str((content["Raw"] or {}).get("Data") or ""), validate=True)
            except (binascii.Error, ValueError, AttributeError):
                raise error("BadRequestException", "Raw message data is not base64.") from None
            message = parse_raw(raw)
            if not message.from_email:
                raise error("MessageRejected", "Missing required header 'From'.")
            if data.get("Destination") is None:
                to, cc = message.to, message.cc
            message.to, message.cc, message.bcc = to, cc, bcc
        elif "Simple" in content:
            simple = content["Simple"] if isinstance(content["Simple"], dict) else {}
            body = simple.get("Body") or {}
            message = Message(
                from_email=str(data.get("FromEmailAddress") or ""),
                to=to,
                cc=cc,
                bcc=bcc,
                subject=str((simple.get("Subject") or {}).get("Data") or ""),
                text=(body.get("Text") or {}).get("Data"),
                html=(body.get("Html") or {}).get("Data"),
                headers={h.get("Name"): h.get("Value") for h in simple.get("Headers") or []},
            )
        elif "Template" in content:
            template = content["Template"] if isinstance(content["Template"], dict) else {}
            message = Message(
                from_email=str(data.get("FromEmailAddress") or ""),
                to=to,
                cc=cc,
                bcc=bcc,
                template=str(template.get("TemplateName") or template.get("TemplateArn") or ""),
            )
        else:
            raise error("BadRequestException", "Content must contain Simple, Raw or Template.")
        if not valid_address(message.from_email):
            raise error("BadRequestException", "Missing final '@domain' in the From address.")
        check_recipients(message.to + message.cc + message.bcc)
        message_id = ses_message_id()
        message.ids = dict.fromkeys(message.recipients, message_id)
        return [message], ApiResponse.json(200, {"MessageId": message_id})

    def bulk(self, request: ApiRequest) -> tuple[list[Message], ApiResponse]:
        data = self.parse(request)
        template = ((data.get("DefaultContent") or {}).get("Template")) or {}
        name = template.get("TemplateName") or template.get("TemplateArn")
        if not name:
            raise error("BadRequestException", "DefaultContent must contain a Template.")
        from_email = str(data.get("FromEmailAddress") or "")
        if not valid_address(from_email):
            raise error("BadRequestException", "Missing final '@domain' in FromEmailAddress.")
        entries = data.get("BulkEmailEntries") or []
        if not isinstance(entries, list) or not 1 <= len(entries) <= MAX_BULK_ENTRIES:
            text = f"BulkEmailEntries must hold 1 to {MAX_BULK_ENTRIES} entries."
            raise error("BadRequestException", text)
        messages, results = [], []
        for entry in entries:
            to, cc, bcc = addresses((entry or {}).get("Destination"))
            try:
                check_recipients(to + cc + bcc)
            except EspError as refused:
                text = refused.response_json()["message"]
                results.append({"Status": "INVALID_PARAMETER", "Error": text})
                continue
            headers = {
                h.get("Name", ""): h.get("Value", "") for h in entry.get("ReplacementHeaders") or []
            }
            message = Message(from_email=from_email, to=to, cc=cc, bcc=bcc, template=str(name))
            message.tags = [v for k, v in headers.items() if k.lower() == "x-tag"]
            try:
                message.metadata = json.loads(headers.pop("X-Metadata", "{}"))
            except ValueError:
                message.metadata = {}
            message.headers = {k: v for k, v in headers.items() if k.lower() != "x-tag"}
            message_id = ses_message_id()
            message.ids = {addr_spec(a): message_id for a in to + cc + bcc}
            messages.append(message)
            results.append({"Status": "SUCCESS", "MessageId": message_id})
        return messages, ApiResponse.json(200, {"BulkEmailEntryResults": results})

    # -- events: SES event publishing through the configuration set's SNS topic ----------
    def mail_object(self, message: Message, recipient: str) -> dict[str, Any]:
        headers = [{"name": k, "value": v} for k, v in message.headers.items()]
        headers += [{"name": "X-Tag", "value": tag} for tag in message.tags]
        if message.metadata:
            headers.append({"name": "X-Metadata", "value": json.dumps(message.metadata)})
        return {
            "timestamp": iso_now(),
            "source": addr_spec(message.from_email),
            "sendingAccountId": ACCOUNT,
            "messageId": message.ids[recipient],
            "destination": message.recipients,
            "headersTruncated": False,
            "headers": headers,
            "commonHeaders": {
                "from": [message.from_email],
                "to": message.to,
                "messageId": message.ids[recipient],
                "subject": message.subject,
            },
            "tags": {
                "ses:configuration-set": [CONFIGURATION_SET],
                "ses:operation": ["SendBulkEmail" if message.template else "SendEmail"],
            },
        }

    def event_payload(self, message: Message, recipient: str, event: str) -> Any:
        now = iso_now()
        mta = "dns; a8-1.smtp-out.amazonses.com"
        # Each record's details are under its eventType in lower case.
        details: dict[str, dict[str, Any]] = {
            "delivered": {
                "timestamp": now,
                "processingTimeMillis": 512,
                "recipients": [recipient],
                "smtpResponse": "250 2.6.0 Message received",
                "reportingMTA": mta,
            },
            "bounced": {
                "feedbackId": ses_message_id(),
                "bounceType": "Permanent",
                "bounceSubType": "General",
                "bouncedRecipients": [
                    {
                        "emailAddress": recipient,
                        "action": "failed",
                        "status": "5.1.1",
                        "diagnosticCode": f"smtp; 550 5.1.1 <{recipient}>: user unknown",
                    }
                ],
                "timestamp": now,
                "reportingMTA": mta,
            },
            "complained": {
                "feedbackId": ses_message_id(),
                "complainedRecipients": [{"emailAddress": recipient}],
                "complaintFeedbackType": "abuse",
                "userAgent": "Sandbox Feedback Loop",
                "timestamp": now,
            },
            "opened": {
                "timestamp": now,
                "ipAddress": CLIENT_IP,
                "userAgent": USER_AGENT,
            },
            "clicked": {
                "timestamp": now,
                "ipAddress": CLIENT_IP,
                "userAgent": USER_AGENT,
                "link": CLICKED_URL,
                "linkTags": {},
            },
        }
        event_type = self.events[event]
        return {
            "eventType": event_type,
            "mail": self.mail_object(message, recipient),
            event_type.lower(): details[event],
        }

    def builder_options(self, url: str, secret: str | None) -> dict[str, Any]:
        topic = INBOUND_TOPIC_ARN if url.rstrip("/").endswith("/inbound") else TOPIC_ARN
        return {"signer": self.keys.sns, "topic_arn": topic}

    def inbound_payload(self, form: dict[str, str]) -> Any:
        """A receipt notification of an SNS receipt action: the raw mail in base64."""
        raw = inbound_bytes(form)
        recipient = addr_spec(form.get("to", ""))
        now = iso_now()
        return {
            "notificationType": "Received",
            "mail": {
                "timestamp": now,
                "source": addr_spec(form.get("from", "")),
                "messageId": secrets.token_hex(20),
                "destination": [recipient],
                "headersTruncated": False,
                "headers": [],
                "commonHeaders": {"to": [form.get("to", "")], "subject": form.get("subject", "")},
            },
            "receipt": {
                "timestamp": now,
                "processingTimeMillis": 100,
                "recipients": [recipient],
                "spamVerdict": {"status": "PASS"},
                "virusVerdict": {"status": "PASS"},
                "spfVerdict": {"status": "PASS"},
                "dkimVerdict": {"status": "PASS"},
                "dmarcVerdict": {"status": "PASS"},
                "action": {"type": "SNS", "topicArn": INBOUND_TOPIC_ARN, "encoding": "BASE64"},
            },
            "content": base64.b64encode(raw).decode("ascii"),
        }
