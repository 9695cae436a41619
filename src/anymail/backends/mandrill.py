"""Mandrill (Mailchimp Transactional) sending backend.

One message is one ``messages/send.json`` call (``messages/send-template.json``
when it uses a stored template). The API key travels inside the JSON body as
``key``; there is no auth header. Mandrill answers with one result per
recipient (to, cc and bcc alike), each with its own ``_id``.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, ClassVar, Final

import requests
from django.core.mail import EmailMessage

from ..addresses import EmailAddress
from ..conf import TEXT, Setting, get_text
from ..message import AnymailRecipientStatus
from ..utils import Attachment, CaseInsensitiveDict
from .base import Capabilities
from .base_requests import JSON_HEADERS, AnymailRequestsBackend, RequestsPayload, http_status

#: Mandrill's per-recipient ``status`` values, as Anymail statuses.
#: "scheduled" (a send_at message waiting for its time) is reported as "queued":
#: Mandrill has accepted it and will send it later. Anything else is "unknown".
_STATUS_MAP: dict[str, str] = {
    "sent": "sent",
    "queued": "queued",
    "scheduled": "queued",
    "rejected": "rejected",
    "invalid": "invalid",
}


class MandrillPayload(RequestsPayload):
    capabilities = Capabilities(
        envelope_sender="Domain only",
        # Mandrill has no per-recipient headers.
        merge_headers=False,
        send_at_str=True,
    )

    def init_payload(self) -> None:
        self.api_key = self.backend.api_key
        self.headers.update(JSON_HEADERS)
        self.data: dict[str, Any] = {"key": self.api_key, "message": {}}

    @property
    def msg(self) -> dict[str, Any]:
        return self.data["message"]

    def get_api_endpoint(self) -> str:
        if "template_id" in self.send_params:
            return "messages/send-template.json"
        return "messages/send.json"

    def serialize_data(self) -> bytes:
        if "template_id" in self.send_params:
            # Mandrill requires template_content on send-template, even if empty.
            self.data.setdefault("template_content", [])
        if self.is_batch or "merge_headers" in self.ignored_features:
            # A batch: every recipient gets a separate message showing only
            # their own address. This wins over esp_extra: exposing the other
            # recipients of a batch is never what the sender meant.
            # (merge_headers counts even when it was dropped as unsupported.)
            self.msg["preserve_recipients"] = False
        return self.serialize_json(self.data)

    # --- hooks -----------------------------------------------------------

    def set_from_email(self, email: EmailAddress) -> None:
        self.msg["from_email"] = email.addr_spec
        if email.display_name:
            self.msg["from_name"] = email.display_name

    def set_recipients(self, recipient_type: str, emails: list[EmailAddress]) -> None:
        # Mandrill has one recipient list with a type for each; never its
        # "bcc_address" option, which is a logging copy rather than a bcc.
        to = self.msg.setdefault("to", [])
        for email in emails:
            recipient = {**email.as_dict(), "type": recipient_type}
            to.append(recipient)

    def set_subject(self, subject: str) -> None:
        self.msg["subject"] = subject

    def set_reply_to(self, emails: list[EmailAddress]) -> None:
        self.msg.setdefault("headers", {})["Reply-To"] = ", ".join(
            email.address for email in emails
        )

    def set_extra_headers(self, headers: CaseInsensitiveDict) -> None:
        self.msg.setdefault("headers", {}).update(headers)

    def set_text_body(self, body: str) -> None:
        self.msg["text"] = body

    def set_html_body(self, body: str) -> None:
        self.msg["html"] = body

    def add_attachment(self, attachment: Attachment) -> None:
        if attachment.inline and attachment.content_id:
            if attachment.mimetype.startswith("image/"):
                self.msg.setdefault("images", []).append(
                    {
                        "type": attachment.content_type,
                        "name": attachment.content_id,
                        "content": attachment.b64content,
                    }
                )
                return
            # Mandrill only embeds image/* parts (its "images" list): anything
            # else can't be referenced by cid. When that is ignored, the part
            # goes out as an ordinary attachment (as the base does for any
            # unsupported inline image), so nothing is lost.
            self.unsupported_feature(
                f"inline attachments that are not images ({attachment.mimetype!r})"
            )
        # (An inline part without a Content-ID can't be referenced from the html
        # either, so it is an ordinary attachment too.)
        self.msg.setdefault("attachments", []).append(
            {
                "type": attachment.content_type,
                "name": attachment.filename,
                "content": attachment.b64content,
            }
        )

    def set_envelope_sender(self, email: EmailAddress) -> None:
        # Mandrill generates the mailbox part itself; only the domain is ours.
        self.msg["return_path_domain"] = email.domain

    def set_metadata(self, metadata: dict[str, Any]) -> None:
        self.msg["metadata"] = metadata

    def set_merge_metadata(self, merge_metadata: dict[str, dict[str, Any]]) -> None:
        self.msg["recipient_metadata"] = [
            {"rcpt": rcpt, "values": values} for rcpt, values in merge_metadata.items()
        ]

    def set_tags(self, tags: list[str]) -> None:
        self.msg["tags"] = tags

    def set_track_clicks(self, track_clicks: bool) -> None:
        self.msg["track_clicks"] = track_clicks

    def set_track_opens(self, track_opens: bool) -> None:
        self.msg["track_opens"] = track_opens

    def set_send_at(self, send_at: datetime | str) -> None:
        # Mandrill wants UTC, "YYYY-MM-DD HH:MM:SS", no fractional seconds.
        if not isinstance(send_at, str):
            send_at = send_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")
        self.data["send_at"] = send_at

    def set_template_id(self, template_id: Any) -> None:
        # Mandrill identifies a template by its slug ("template_name"), a string
        # (so an int template_id is sent as its digits).
        self.data["template_name"] = str(template_id)

    def set_merge_data(self, merge_data: dict[str, dict[str, Any]]) -> None:
        self.msg["merge_vars"] = [
            {"rcpt": rcpt, "vars": _name_content_list(values, sort=True)}
            for rcpt, values in merge_data.items()
        ]

    def set_merge_global_data(self, merge_global_data: dict[str, Any]) -> None:
        self.msg["global_merge_vars"] = _name_content_list(merge_global_data)

    def set_esp_extra(self, extra: dict[str, Any]) -> None:
        """Top-level keys update the request; ``extra["message"]`` updates the message.

        Both merges are shallow. ``template_content`` (top level) and
        ``message.recipient_metadata`` may be given as plain dicts; they are
        converted to Mandrill's list forms. The caller's dicts are not changed.
        """
        extra = dict(extra)
        message_extra = extra.pop("message", None)
        if "template_content" in extra and isinstance(extra["template_content"], Mapping):
            extra["template_content"] = _name_content_list(extra["template_content"])
        self.data.update(extra)
        if message_extra is None:
            return
        if not isinstance(message_extra, Mapping):
            raise self.error(
                "Mandrill esp_extra['message'] must be a dict of Mandrill message "
                f"options, not {type(message_extra).__name__}."
            )
        message_extra = dict(message_extra)
        recipient_metadata = message_extra.get("recipient_metadata")
        if isinstance(recipient_metadata, Mapping):
            message_extra["recipient_metadata"] = [
                {"rcpt": rcpt, "values": recipient_metadata[rcpt]}
                for rcpt in sorted(recipient_metadata)
            ]
        self.msg.update(message_extra)


API_KEY: Final = Setting("api_key", TEXT, "Your Mandrill API key.", secret=True, bare=True)


class EmailBackend(AnymailRequestsBackend[MandrillPayload]):
    """Sends through Mandrill's messages/send and messages/send-template API."""

    esp_name: ClassVar[str] = "Mandrill"
    default_api_url: ClassVar[str | None] = "https://mandrillapp.com/api/1.0"
    declared_settings = (API_KEY,)

    def __init__(self, **kwargs: Any) -> None:
        self.api_key: str = str(get_text(API_KEY, self.esp_name, kwargs))
        super().__init__(**kwargs)

    def describe_error(self, response: requests.Response, payload: MandrillPayload) -> str:
        # Classic Mandrill answers every error with HTTP 500; the newer API
        # descriptions use 401/402/404/429 too. Treat all of them alike and
        # quote Mandrill's own error name and text.
        detail = _error_text(self.error_json(response))
        return f"Mandrill API error{': ' + detail if detail else ''} ({http_status(response)})."

    def parse_recipient_status(
        self, response: requests.Response, payload: MandrillPayload, message: EmailMessage
    ) -> dict[str, AnymailRecipientStatus]:
        results = self.deserialize_json_response(response, payload, message)
        if isinstance(results, Mapping) and results.get("status") == "error":
            # An error object with a 2xx status: still an error.
            raise self.api_error(
                f"Mandrill API error: {_describe_error(results)}.", response, payload, message
            )
        if not isinstance(results, list) or not all(
            isinstance(item, Mapping)
            and isinstance(item.get("email"), str)
            and isinstance(item.get("status"), str)
            for item in results
        ):
            raise self.api_error(
                "Invalid Mandrill API response: expected a list of per-recipient "
                "results, each with an 'email' and a 'status'.",
                response,
                payload,
                message,
            )
        statuses = {}
        for item in results:
            status = _STATUS_MAP.get(item["status"], "unknown")
            message_id = item.get("_id")
            statuses[item["email"]] = AnymailRecipientStatus(
                str(message_id) if message_id is not None else None, status
            )
        return statuses


def _describe_error(error: Mapping[str, Any]) -> str:
    name = error.get("name")
    text = error.get("message")
    parts = [str(part) for part in (name, text) if part]
    return ": ".join(parts) if parts else "unknown error"


def _error_text(body: Any) -> str | None:
    """Mandrill's "Name: message" for an error body, or None if it isn't one."""
    if isinstance(body, Mapping) and (body.get("name") or body.get("message")):
        return _describe_error(body)
    return None


def _name_content_list(values: Mapping[str, Any], sort: bool = False) -> list[dict[str, Any]]:
    """Mandrill's [{"name": ..., "content": ...}] form of a dict."""
    names = sorted(values) if sort else list(values)
    return [{"name": name, "content": values[name]} for name in names]
