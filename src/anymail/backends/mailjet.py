"""Mailjet: the transactional Send API v3.1 (``POST <api_url>send``, JSON, HTTP basic auth).

Everything shared by all recipients goes in the payload's ``Globals``; each
entry of ``Messages`` carries only its ``To`` list, plus the per-recipient
``Variables``, ``EventPayload`` and ``Headers`` of a batch send. A batch send
(merge_data, merge_metadata or merge_headers set, even empty) has one entry
per "to" recipient; otherwise a single entry lists every "to" address.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from typing import Any, Final
from urllib.parse import urlsplit

import requests
from django.core.mail import EmailMessage

from ..addresses import EmailAddress
from ..conf import credential_setting, get_credential, invalid_setting
from ..exceptions import AnymailUnsupportedFeature
from ..utils import Attachment, CaseInsensitiveDict, serialize_json
from ._mailjet_answers import (
    RECIPIENT_FIELDS,
    MailjetAnswers,
    describe_error,
    describe_errors,
    is_success,
)
from ._split import BatchLimits
from .base import Capabilities
from .base_requests import JSON_HEADERS, RequestsPayload, http_status

#: Header names Mailjet refuses in ``Headers`` (error send-0011): they have a
#: dedicated Send API property, or (Message-ID) can't be customized at all.
_REFUSED_HEADERS = frozenset({"message-id"})
_REFUSED_HEADER_PREFIXES = ("x-mj-", "x-mailjet-")


class MailjetPayload(RequestsPayload):
    capabilities = Capabilities(
        send_at=False,  # the Send API has no scheduling
        max_tags=1,  # one CustomCampaign per message
        max_reply_to=1,  # ReplyTo is a single address
    )

    backend: EmailBackend

    # --- request ----------------------------------------------------------

    def init_payload(self) -> None:
        self.headers.update(JSON_HEADERS)
        self.auth = (self.backend.api_key, self.backend.secret_key)
        self.globals: dict[str, Any] = {}
        self.messages: list[dict[str, Any]] = []
        #: For a batch send: the "to" address of each entry of ``messages``.
        self.batch_to: list[EmailAddress] = []
        self.data = {"Globals": self.globals, "Messages": self.messages}

    def finish_payload(self) -> None:
        if "to" not in self.send_params:
            # Mailjet requires To in every message (Cc or Bcc alone are refused).
            self.unsupported_feature("messages without any to recipients")

    def get_api_endpoint(self) -> str:
        return "send"

    def serialize_data(self) -> bytes:
        return self.serialize_json(self.data)

    def sent_messages(self) -> list[dict[str, list[str]]]:
        """The addresses of each message in the request, as Mailjet will see them.

        Read from the final request data (esp_extra may have changed it); a
        message's own Cc/Bcc replace the Globals ones.
        """
        data = self.data if isinstance(self.data, Mapping) else {}
        shared = data["Globals"] if isinstance(data.get("Globals"), Mapping) else {}
        messages = data["Messages"] if isinstance(data.get("Messages"), list) else []
        sent = []
        for entry in messages:
            if not isinstance(entry, Mapping):
                entry = {}
            addresses = {}
            for field in RECIPIENT_FIELDS:
                value = entry.get(field, shared.get(field) if field != "To" else None)
                addresses[field] = [
                    str(item["Email"])
                    for item in (value if isinstance(value, list) else [])
                    if isinstance(item, Mapping) and item.get("Email")
                ]
            sent.append(addresses)
        return sent

    # --- helpers ------------------------------------------------------------

    @staticmethod
    def mailjet_address(email: EmailAddress) -> dict[str, str]:
        # v3.1 takes the display name as plain text: no quoting, no RFC 2047.
        return email.as_dict("Email", "Name")

    def batch_data(self, values: Mapping[str, Any]) -> list[tuple[dict[str, Any], Any]]:
        """(message, value) for each batch message whose "to" address has a value."""
        return [
            (entry, values[to.addr_spec])
            for entry, to in zip(self.messages, self.batch_to, strict=True)
            if to.addr_spec in values
        ]

    def checked_headers(self, headers: Mapping[str, str], field: str) -> dict[str, str]:
        """``headers`` without those Mailjet refuses in Headers (reported as unsupported)."""
        checked = {}
        for name, value in headers.items():
            lowered = name.lower()
            if lowered in _REFUSED_HEADERS:
                self.unsupported_feature(f"a custom {name} header (in {field})")
            elif lowered.startswith(_REFUSED_HEADER_PREFIXES):
                self.unsupported_feature(
                    f"the {name} header (in {field}); use the matching Send API "
                    "property in esp_extra instead"
                )
            elif lowered == "reply-to" and field == "merge_headers":
                self.unsupported_feature("Reply-To in merge_headers")
            else:
                checked[name] = value
        return checked

    def event_payload(self, metadata: Mapping[str, Any], field: str) -> str:
        # Mailjet stores a string; events and inbound replies return it as "Payload".
        return serialize_json(metadata, field, ensure_ascii=False, separators=(",", ":"))

    # --- hooks ----------------------------------------------------------------

    def set_from_email(self, email: EmailAddress) -> None:
        self.globals["From"] = self.mailjet_address(email)

    def set_recipients(self, recipient_type: str, emails: list[EmailAddress]) -> None:
        addresses = [self.mailjet_address(email) for email in emails]
        if recipient_type != "to":
            # Cc and Bcc stay shared: in a batch, each message also goes to them.
            self.globals[recipient_type.title()] = addresses
        elif self.is_batch:
            self.messages[:] = [{"To": [address]} for address in addresses]
            self.batch_to[:] = emails
        else:
            self.messages[:] = [{"To": addresses}]

    def set_subject(self, subject: str) -> None:
        # An empty Subject would override a stored template's subject.
        if subject:
            self.globals["Subject"] = subject

    def set_reply_to(self, emails: list[EmailAddress]) -> None:
        self.globals["ReplyTo"] = self.mailjet_address(emails[0])  # max_reply_to=1

    def set_extra_headers(self, headers: CaseInsensitiveDict) -> None:
        checked = self.checked_headers(headers, "headers")
        if checked:
            self.globals["Headers"] = checked

    def set_text_body(self, body: str) -> None:
        self.globals["TextPart"] = body

    def set_html_body(self, body: str) -> None:
        self.globals["HTMLPart"] = body

    def add_attachment(self, attachment: Attachment) -> None:
        # Mailjet labels every text attachment charset=utf-8: make that true.
        # (Content that doesn't decode is sent as is rather than corrupted.)
        with contextlib.suppress(LookupError, UnicodeDecodeError):
            attachment = attachment.as_utf8()
        item = {
            # The type without parameters: Mailjet adds its own charset.
            "ContentType": attachment.mimetype,
            # Mailjet refuses an empty Filename.
            "Filename": attachment.filename,
            "Base64Content": attachment.b64content,
        }
        if attachment.inline and attachment.content_id:
            item["ContentID"] = attachment.content_id
            self.globals.setdefault("InlinedAttachments", []).append(item)
        else:
            self.globals.setdefault("Attachments", []).append(item)

    def set_envelope_sender(self, email: EmailAddress) -> None:
        self.globals["Sender"] = self.mailjet_address(email)

    def set_metadata(self, metadata: dict[str, Any]) -> None:
        self.globals["EventPayload"] = self.event_payload(metadata, "metadata")

    def set_merge_metadata(self, merge_metadata: dict[str, dict[str, Any]]) -> None:
        metadata = self.send_params.get("metadata", {})
        for entry, recipient_metadata in self.batch_data(merge_metadata):
            address = entry["To"][0]["Email"]
            entry["EventPayload"] = self.event_payload(
                {**metadata, **recipient_metadata}, f"merge_metadata[{address!r}]"
            )

    def set_merge_headers(self, merge_headers: dict[str, dict[str, str]]) -> None:
        # How Mailjet combines Globals.Headers with a message's Headers is not
        # documented: send each message the complete set.
        shared = self.globals.get("Headers", {})
        for entry, recipient_headers in self.batch_data(merge_headers):
            checked = self.checked_headers(
                {str(name): str(value) for name, value in recipient_headers.items()},
                "merge_headers",
            )
            combined = CaseInsensitiveDict(shared)
            combined.update(checked)  # the recipient's value wins, whatever its case
            entry["Headers"] = dict(combined.items())

    def set_tags(self, tags: list[str]) -> None:
        self.globals["CustomCampaign"] = tags[0]  # max_tags=1

    def set_track_clicks(self, track_clicks: bool) -> None:
        self.globals["TrackClicks"] = "enabled" if track_clicks else "disabled"

    def set_track_opens(self, track_opens: bool) -> None:
        self.globals["TrackOpens"] = "enabled" if track_opens else "disabled"

    def set_template_id(self, template_id: Any) -> None:
        try:
            if isinstance(template_id, bool):
                raise ValueError
            digits = str(template_id).strip()
            # Only plain ASCII digits: int() would also take "1_000", "+5" or "-5".
            if not (digits.isascii() and digits.isdigit()):
                raise ValueError
            numeric_id = int(digits)
        except ValueError:
            # Not via unsupported_feature(): sending without the template is never right.
            raise self.error(
                f"Mailjet does not support template_id {template_id!r}: it must be the "
                "template's numeric ID (such as '176375'), not its name. Find the ID on "
                "the template's page in Mailjet's app.",
                AnymailUnsupportedFeature,
            ) from None
        self.globals["TemplateID"] = numeric_id
        self.globals["TemplateLanguage"] = True

    def set_merge_data(self, merge_data: dict[str, dict[str, Any]]) -> None:
        # Whether Mailjet merges a message's Variables into Globals.Variables key
        # by key is not documented: send each message the complete set.
        shared = self.send_params.get("merge_global_data", {})
        for entry, recipient_data in self.batch_data(merge_data):
            entry["Variables"] = {**shared, **recipient_data}

    def set_merge_global_data(self, merge_global_data: dict[str, Any]) -> None:
        self.globals["Variables"] = merge_global_data


API_KEY: Final = credential_setting("api_key", "your Mailjet API key (the public key)")
SECRET_KEY: Final = credential_setting("secret_key", "your Mailjet secret key (the private key)")


class EmailBackend(MailjetAnswers[MailjetPayload]):
    """``anymail.backends.mailjet.EmailBackend``: Mailjet's Send API v3.1."""

    esp_name = "Mailjet"
    default_api_url = "https://api.mailjet.com/v3.1/"
    declared_settings = (API_KEY, SECRET_KEY)
    batch_limits = BatchLimits(messages=50)  # Messages per call (mj-0008 beyond)

    def __init__(self, **kwargs: Any) -> None:
        esp_name = self.esp_name
        # Checked here (never shown): requests can't encode a non-Latin-1 value for
        # Basic auth, and would fail later with an error that quotes it.
        self.api_key = get_credential(API_KEY, esp_name, kwargs)
        self.secret_key = get_credential(SECRET_KEY, esp_name, kwargs)
        super().__init__(**kwargs)
        # A 6.0-era setting (".../v3") would reach the older, incompatible Send API.
        if "v3" in urlsplit(self.api_url).path.split("/"):
            raise invalid_setting(
                "api_url",
                esp_name,
                "it points to Mailjet's older v3 API, but Anymail uses the Send API v3.1. "
                "Use 'https://api.mailjet.com/v3.1/' (or 'https://api.us.mailjet.com/v3.1/' "
                "for an account on Mailjet's US infrastructure), or remove the setting.",
            )

    def raise_for_status(
        self, response: requests.Response, payload: MailjetPayload, message: EmailMessage
    ) -> None:
        """Mailjet answers a *partly* successful batch with a 4xx status: don't raise for that.

        When nothing was sent, or for any 5xx, raise with Mailjet's own error codes and
        messages.
        """
        status_code = response.status_code
        if 200 <= status_code < 300:
            return
        data = self.error_json(response)
        details = ""
        if isinstance(data, dict):
            messages = data.get("Messages")
            if isinstance(messages, list) and messages:
                # A 5xx is a server failure, never a partial success, even if its
                # body lists messages as sent (the error then names them).
                if status_code < 500 and any(is_success(result) for result in messages):
                    return  # parse_recipient_status() reports the failed messages
                details = "; ".join(
                    f"Messages[{index}]: "
                    + ("success" if is_success(result) else describe_errors(result))
                    for index, result in enumerate(messages)
                )
            elif data.get("ErrorMessage") or data.get("ErrorCode"):
                details = describe_error(data)
                if data.get("ErrorIdentifier"):
                    # Mailjet's support asks for it.
                    details += f" (ErrorIdentifier {data['ErrorIdentifier']})"
        summary = f"Mailjet API error: {http_status(response)}"
        raise self.api_error(
            f"{summary}: {details}" if details else f"{summary}.", response, payload, message
        )
