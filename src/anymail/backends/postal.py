"""Postal: sends through a (self-hosted) Postal server's ``send/message`` API.

One request per message: ``POST {POSTAL_API_URL}api/v1/send/message`` with a
JSON body, authenticated by the ``X-Server-API-Key`` header. Postal has no
batch sending, no templates, no metadata, no scheduling and no per-message
tracking options; those features are declared unsupported.

Postal answers HTTP 200 whether or not it accepted the message: the outcome
is the JSON ``status`` ("success", "error" or "parameter-error"). On success,
``data.messages`` has one entry per recipient (to, cc and bcc alike), each with
Postal's integer message id, which Postal's webhooks report too.
"""

from __future__ import annotations

from typing import Any, Final
from urllib.parse import urlsplit

import requests
from django.core.mail import EmailMessage

from ..addresses import EmailAddress
from ..conf import URL, Setting, credential_setting, get_credential, get_setting, invalid_setting
from ..message import AnymailRecipientStatus
from ..utils import Attachment, CaseInsensitiveDict
from .base import BasePayload, Capabilities
from .base_requests import JSON_HEADERS, AnymailRequestsBackend, RequestsPayload

#: Extra guidance for Postal error codes that usually mean a settings problem.
_ERROR_HINTS = {
    "AccessDenied": "Check your POSTAL_API_KEY setting: it must be a server's API credential.",
    "InvalidServerAPIKey": "Check your POSTAL_API_KEY setting: it must be a server's "
    "API credential (Postal: your server > Credentials, type API).",
    "UnauthenticatedFromAddress": "The from_email's domain must be set up and "
    "authenticated for this mail server in Postal.",
}


class PostalPayload(RequestsPayload):
    """Translates a normalized message into the JSON of Postal's send/message API."""

    capabilities = Capabilities(
        metadata=False,
        merge_metadata=False,
        merge_headers=False,
        max_tags=1,
        # Click and open tracking are switched on per domain in Postal, not per message.
        track_clicks=False,
        track_opens=False,
        send_at=False,
        template_id=False,
        merge_data=False,
        merge_global_data=False,
        max_reply_to=1,  # Postal's reply_to is a single address
        inline_images=False,  # send/message has no Content-ID for attachments
    )

    backend: EmailBackend

    def init_payload(self) -> None:
        self.headers.update({**JSON_HEADERS, "X-Server-API-Key": self.backend.api_key})
        self.data: dict[str, Any] = {}

    def get_api_endpoint(self) -> str:
        return "api/v1/send/message"

    def serialize_data(self) -> bytes:
        return self.serialize_json(self.data)

    # --- hooks ---------------------------------------------------------------

    def set_from_email(self, email: EmailAddress) -> None:
        self.data["from"] = email.address

    def set_recipients(self, recipient_type: str, emails: list[EmailAddress]) -> None:
        self.data[recipient_type] = [email.address for email in emails]

    def set_subject(self, subject: str) -> None:
        self.data["subject"] = subject

    def set_reply_to(self, emails: list[EmailAddress]) -> None:
        # The base has already refused (or trimmed to) a single address.
        self.data["reply_to"] = emails[0].address

    def set_extra_headers(self, headers: CaseInsensitiveDict) -> None:
        self.data["headers"] = dict(headers.items())

    def set_text_body(self, body: str) -> None:
        self.data["plain_body"] = body

    def set_html_body(self, body: str) -> None:
        self.data["html_body"] = body

    def add_attachment(self, attachment: Attachment) -> None:
        self.data.setdefault("attachments", []).append(
            {
                # Postal refuses an unnamed attachment (AttachmentMissingName).
                "name": attachment.filename,
                "content_type": attachment.content_type,  # includes a text charset
                "data": attachment.b64content,
            }
        )

    def set_envelope_sender(self, email: EmailAddress) -> None:
        # Postal's "sender" becomes the Sender header (and may authorise the sending
        # domain); the SMTP envelope always uses Postal's own return path. Kept as
        # the mapping for envelope_sender, as the public API documents no other.
        self.data["sender"] = email.addr_spec

    def set_tags(self, tags: list[str]) -> None:
        # The base has already refused (or trimmed to) a single tag.
        self.data["tag"] = tags[0]

    def set_esp_extra(self, extra: dict[str, Any]) -> None:
        # Postal's rule: a shallow update of the top-level JSON (a key given in
        # esp_extra replaces Anymail's value for it as a whole).
        self.data.update(extra)


API_KEY: Final = credential_setting(
    "api_key", "a Postal API credential (Postal: your mail server > Credentials, type API)"
)
# Postal is self-hosted, so there is no default API URL.
API_URL: Final = Setting(
    "api_url", URL, "The base URL of your Postal server, e.g. 'https://postal.example.com/'."
)


class EmailBackend(AnymailRequestsBackend[PostalPayload]):
    """Anymail's backend for Postal's send/message API."""

    esp_name = "Postal"
    declared_settings = (API_KEY, API_URL)

    def __init__(self, **kwargs: Any) -> None:
        self.api_key = get_credential(API_KEY, self.esp_name, kwargs)
        api_url = get_setting(API_URL, self.esp_name, kwargs)
        super().__init__(api_url=_check_api_url(api_url), **kwargs)

    def raise_for_status(
        self, response: requests.Response, payload: PostalPayload, message: EmailMessage
    ) -> None:
        super().raise_for_status(response, payload, message)
        # Postal answers 200 for refused requests too: the JSON status decides.
        data = self._response_json(response, payload, message)
        if data.get("status") == "success":
            return
        details = data.get("data")
        details = details if isinstance(details, dict) else {}
        code = details.get("code")
        text = details.get("message")
        described = str(code) if code else f"status {data.get('status')!r}"
        if text:
            described += f": {text}"
        hint = _ERROR_HINTS.get(str(code))
        raise self.api_error(
            f"Postal API error: {described}" + (f" {hint}" if hint else ""),
            response,
            payload,
            message,
        )

    def parse_recipient_status(
        self, response: requests.Response, payload: PostalPayload, message: EmailMessage
    ) -> dict[str, AnymailRecipientStatus]:
        data = self._response_json(response, payload, message)
        details = data.get("data")
        messages = details.get("messages") if isinstance(details, dict) else None
        if not isinstance(messages, dict) or not all(
            isinstance(item, dict) and _is_message_id(item.get("id")) for item in messages.values()
        ):
            raise self.invalid_response(
                "expected data.messages with an id for each recipient", response, payload, message
            )
        # Postal keys data.messages by each recipient's address (no display name):
        # one message, with its own id, per to/cc/bcc recipient.
        return {
            address: AnymailRecipientStatus(message_id=item["id"], status="queued")
            for address, item in messages.items()
        }

    def _response_json(
        self, response: requests.Response, payload: BasePayload, message: EmailMessage
    ) -> dict[str, Any]:
        data = self.error_json(response)
        if not isinstance(data, dict):
            raise self.api_error(
                "Invalid Postal API response: expected a JSON object.", response, payload, message
            )
        return data


def _is_message_id(value: Any) -> bool:
    # Postal's ids are integers (its webhooks report the same ones); a str is kept too.
    return isinstance(value, int | str) and not isinstance(value, bool)


def _check_api_url(api_url: Any) -> str:
    problem = None
    parts = urlsplit(api_url) if isinstance(api_url, str) else None
    if parts is None or parts.scheme not in ("http", "https") or not parts.netloc:
        problem = "expected the base URL of your Postal server, e.g. 'https://postal.example.com/'."
    else:
        path = parts.path.rstrip("/")
        if path.endswith("/api/v1") or "/api/v1/send" in path:
            problem = (
                "give the base URL of your Postal server without the API path: Anymail "
                "adds 'api/v1/send/message' itself."
            )
    if problem:
        raise invalid_setting("api_url", "Postal", problem)
    assert isinstance(api_url, str)
    return api_url if api_url.endswith("/") else api_url + "/"
