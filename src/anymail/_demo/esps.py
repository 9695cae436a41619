"""Each ESP in ``anymail demo --offline --esp``: dummy options, adjustments and canned answers.

The answers are typical success responses, shaped by the captured request (one id
per message or recipient, as the ESP gives them). Nothing here is sent anywhere:
the benchmark and the contract tests answer with them too, until the sandbox's
emulators replace them.
"""

from __future__ import annotations

import dataclasses
import json
import uuid
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any, Final

from ..addresses import parse_address_list
from . import REMOVE, Answer, DemoEsp

_JSON: Final = MappingProxyType({"Content-Type": "application/json"})


def _answer(body: Any, status: int = 200, headers: Mapping[str, str] = _JSON) -> Answer:
    """An answer with ``status``, ``headers`` and ``body`` as JSON: a value, a function of
    the request's JSON body that gives it, or None for an empty body."""

    def answer(request: Any) -> tuple[int, dict[str, str], str]:
        data = body(json.loads(request.body or b"{}")) if callable(body) else body
        return status, dict(headers), "" if data is None else json.dumps(data)

    return answer


def _amazon_ses(body: Any) -> Any:
    """A message id (per bulk entry, for template sends)."""
    if "BulkEmailEntries" in body:
        results = [
            {"Status": "SUCCESS", "MessageId": f"0100019a8c41aa01-demo-{index:06d}-000000"}
            for index, _entry in enumerate(body["BulkEmailEntries"], 1)
        ]
        return {"BulkEmailEntryResults": results}
    return {"MessageId": "0100019a8c3e5f21-demo-000001-000000"}


def _brevo(body: Any) -> Any:
    """One messageId, or one per messageVersions entry."""
    versions = body.get("messageVersions")
    if versions is None:
        return {"messageId": "<202603021405.50123456789@smtp-relay.mailin.fr>"}
    return {
        "messageIds": [
            f"<202603021405.50123456789.{index}@smtp-relay.mailin.fr>"
            for index in range(1, len(versions) + 1)
        ]
    }


def _mailjet(data: Any) -> Any:
    """Each recipient of each message gets a MessageID of its own."""
    shared = data.get("Globals", {})
    message_id = 576460752303423489
    results = []
    for message in data.get("Messages", []):
        result: dict[str, Any] = {"Status": "success", "CustomID": ""}
        for field in ("To", "Cc", "Bcc"):
            result[field] = []
            for address in message.get(field, shared.get(field, []) if field != "To" else []):
                result[field].append(
                    {
                        "Email": address["Email"],
                        "MessageUUID": f"a1b2c3d4-0000-4000-8000-{message_id % 10**12:012d}",
                        "MessageID": message_id,
                        "MessageHref": f"https://api.mailjet.com/v3/REST/message/{message_id}",
                    }
                )
                message_id += 1
        results.append(result)
    return {"Messages": results}


def _mandrill(body: Any) -> Any:
    """One "sent" result per recipient."""
    return [
        {
            "email": recipient["email"],
            "status": "sent",
            "_id": f"{index:x}0a1b2c3d4e5f60718293a4b5c6d7e8f"[:32],
            "reject_reason": None,
            "queued_reason": None,
        }
        for index, recipient in enumerate(body.get("message", {}).get("to", []), start=1)
    ]


def _postal(body: Any) -> Any:
    """One message (with an id of its own) per to/cc/bcc address."""
    addresses = [
        address.addr_spec
        for field in ("to", "cc", "bcc")
        for address in parse_address_list(body.get(field) or [])
    ]
    messages = {
        address: {"id": 1501 + index, "token": f"DemoToken{index:03d}"}
        for index, address in enumerate(dict.fromkeys(addresses))
    }
    data = {
        "message_id": "5c9e1f7a-2b3d-4e8f-9a0b-1c2d3e4f5a6b@rp.postal.example.com",
        "messages": messages,
    }
    return {"status": "success", "time": 0.11, "flags": {}, "data": data}


def _postmark(body: Any) -> Any:
    """One result per message: a list for batch sends."""
    if isinstance(body, dict) and "Messages" in body:
        messages, single = body["Messages"], False
    elif isinstance(body, list):
        messages, single = body, False
    else:
        messages, single = [body], True
    results = [
        {
            "To": message.get("To", ""),
            "SubmittedAt": "2026-03-02T14:05:06.1234567-05:00",
            "MessageID": f"b7bc2f4a-e38e-4336-af7d-{index:012d}",
            "ErrorCode": 0,
            "Message": "OK",
        }
        for index, message in enumerate(messages, 1)
    ]
    return results[0] if single else results


def _resend(body: Any) -> Any:
    """An id, or one per email of a batch."""
    if isinstance(body, list):
        ids = [{"id": f"5e4c8f5a-7a3e-4c1b-9f0d-{index:012d}"} for index in range(1, len(body) + 1)]
        return {"data": ids}
    return {"id": "5e4c8f5a-7a3e-4c1b-9f0d-000000000000"}


def _scaleway(body: Any) -> Any:
    """One email object (with an id of its own) per to, cc and bcc recipient."""
    recipients = [
        (rcpt_type, recipient["email"])
        for rcpt_type in ("to", "cc", "bcc")
        for recipient in body.get(rcpt_type, [])
    ]
    emails = [
        {
            # TEM's ids are random UUIDs; these are stable ones, distinct per recipient.
            "id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"mailto:{address}")),
            "message_id": "a1f0c9d2-7e4b-4c3a-8b1d-2e5f6a7b8c9d",
            "project_id": body.get("project_id"),
            "mail_from": body.get("from", {}).get("email"),
            "mail_rcpt": address,
            "rcpt_type": rcpt_type,
            "subject": body.get("subject"),
            "created_at": "2026-03-02T14:05:06.123456789Z",
            "updated_at": "2026-03-02T14:05:06.123456789Z",
            "status": "new",
            "status_details": "not yet processed",
            "try_count": 0,
            "last_tries": [],
            "flags": [],
        }
        for rcpt_type, address in recipients
    ]
    return {"emails": emails}


def _sparkpost(body: Any) -> Any:
    """Every recipients[] entry accepted, one transmission id."""
    recipients = body.get("recipients")
    results = {
        "total_rejected_recipients": 0,
        "total_accepted_recipients": len(recipients) if isinstance(recipients, list) else 0,
        "id": "7318265432183591",
    }
    return {"results": results}


_BREVO = DemoEsp(
    options={"api_key": "xkeysib-demo-not-a-real-key"},
    adapted="merge fields rewritten as Brevo's {{ params.name }}, which Brevo fills in from "
    "merge_data and merge_global_data without a stored template.",
    answer=_answer(_brevo, 201, {"Content-Type": "application/json; charset=utf-8"}),
    merge_fields=r"{{ params.\1 }}",
)


def _by_slug(rows: Mapping[str, DemoEsp]) -> Mapping[str, DemoEsp]:
    """The rows, each with its ESP's backend (the slug names the backend module)."""
    return MappingProxyType(
        {
            esp: dataclasses.replace(row, backend=f"anymail.backends.{esp}.EmailBackend")
            for esp, row in rows.items()
        }
    )


DEMO_ESPS: Final[Mapping[str, DemoEsp]] = _by_slug(
    {
        "amazon_ses": DemoEsp(
            # Dummy credentials (never used for a real call) and a region, so boto3
            # needs nothing from the environment.
            options={
                "client_params": {
                    "region_name": "us-east-1",
                    "aws_access_key_id": "AKIDDEMOEXAMPLE",
                    "aws_secret_access_key": "demo-secret-access-key",
                },
                "configuration_set_name": "TrackingConfigSet",
            },
            adapted="a stored SES template (template_id 'OrderShipped') replaces the subject "
            "and bodies, as SES applies merge_data only to templates; SES can't attach files "
            "to a template send, so the attachment and inline image are left out.",
            answer=_answer(
                _amazon_ses,
                headers={"content-type": "application/json", "x-amzn-requestid": "demo-request-id"},
            ),
            template_id="OrderShipped",
            template_attachments=False,
            transport="boto3",
        ),
        "brevo": _BREVO,
        "sendinblue": dataclasses.replace(
            _BREVO,
            adapted="sent through the deprecated sendinblue backend, an alias of brevo (use "
            f"anymail.backends.brevo.EmailBackend instead); {_BREVO.adapted}",
        ),
        "mailgun": DemoEsp(
            options={
                "api_key": "key-demo-mailgun-NOT-REAL",
                "sender_domain": "mg.shop.example.com",
            },
            adapted="merge fields rewritten in Mailgun's on-the-fly %recipient.name% syntax.",
            answer=_answer(
                {
                    "id": "<20260115093012.5f3e1a2b4c6d8e90@mg.shop.example.com>",
                    "message": "Queued. Thank you.",
                }
            ),
            merge_fields=r"%recipient.\1%",
        ),
        "mailjet": DemoEsp(
            options={"api_key": "demo-api-key", "secret_key": "demo-secret-key"},
            adapted="merge fields rewritten as Mailjet's [[var:name]] in the bodies, and taken "
            "out of the subject (Mailjet doesn't merge fields into the subject).",
            answer=_answer(_mailjet),
            merge_fields=r"[[var:\1]]",
            subject_merge_fields=REMOVE,
        ),
        "mandrill": DemoEsp(
            options={"api_key": "demo-mandrill-key-NOT-REAL"},
            adapted="esp_extra selects Mandrill's handlebars merge language, which the demo's "
            "{{name}} fields use (Mandrill's default is MailChimp's *|NAME|*).",
            answer=_answer(_mandrill),
            esp_extra={"message": {"merge_language": "handlebars"}},
        ),
        "postal": DemoEsp(
            options={"api_key": "demo-postal-api-key", "api_url": "https://postal.example.com/"},
            adapted="Postal has no templates or merge features: merge_data, merge_global_data, "
            "merge_metadata and the {{fields}} are taken out, and one message goes to both "
            "recipients.",
            answer=_answer(_postal),
            merge_fields=REMOVE,
            without_merge=True,
        ),
        "postmark": DemoEsp(
            # Postmark's documented test token: accepted by the API, never delivers.
            options={"server_token": "POSTMARK_API_TEST"},
            adapted="a stored template (template_id 'order-shipped') replaces the subject and "
            "bodies: Postmark needs one for merge_data, and refuses a subject or body beside it.",
            answer=_answer(_postmark),
            template_id="order-shipped",
        ),
        "resend": DemoEsp(
            options={"api_key": "re_demo_key_not_real"},
            adapted="a stored template (template_id 'order-shipped') replaces the subject and "
            "bodies: Resend needs one for merge_data, and refuses a body beside it. The "
            "attachments stay, to show that Resend's batch endpoint can't take them.",
            answer=_answer(
                _resend,
                headers={
                    **_JSON,
                    "ratelimit-limit": "5",
                    "ratelimit-remaining": "4",
                    "ratelimit-reset": "1",
                },
            ),
            template_id="order-shipped",
            template_subject=None,
        ),
        "scaleway": DemoEsp(
            options={
                "secret_key": "11111111-2222-4333-8444-555555555555",
                "project_id": "00000000-0000-4000-8000-00000000abcd",
            },
            adapted="Scaleway TEM has no batch sending or merge features: each recipient gets "
            "a message of their own, with the merge fields (merge_data, merge_global_data, "
            "merge_metadata) filled in by the demo before sending.",
            answer=_answer(_scaleway),
            one_message_each=True,
        ),
        "sendgrid": DemoEsp(
            options={"api_key": "SG.demo-key-not-real"},
            adapted="esp_extra sets merge_field_format, so SendGrid's substitutions fill in the "
            "demo's {{name}} fields.",
            # 202 and an empty body; the X-Message-Id is per request.
            answer=_answer(None, 202, {"X-Message-Id": "0Xf00Aa1Bb2Cc3Dd4Ee5Ff"}),
            esp_extra={"merge_field_format": "{{{{{}}}}}"},
        ),
        "sparkpost": DemoEsp(
            options={"api_key": "demo-sparkpost-api-key"},
            adapted="none (SparkPost renders the demo's {{name}} merge fields itself).",
            answer=_answer(_sparkpost),
        ),
    }
)
