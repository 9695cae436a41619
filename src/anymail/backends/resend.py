"""Resend: sends through Resend's HTTP email API.

One request per message:

- ``emails`` with one email object, for an ordinary send;
- ``emails/batch`` with a JSON array of email objects, for a batch send
  (merge_data, merge_metadata or merge_headers set, even to ``{}``): every
  "to" recipient gets an email object of their own, and cc/bcc are copied into
  each of them.

Resend has no fields for Anymail's tags and metadata that could hold arbitrary
data, so they travel as ``X-Tags`` and ``X-Metadata`` JSON headers (which the
Resend tracking webhook reads back). Stored templates (``template_id``) use
Resend's ``template`` object, with merge_global_data / merge_data as its
variables.

Resend never refuses single recipients at send time: a request is accepted
(every recipient "queued") or fails as a whole (:exc:`AnymailRequestsAPIError`);
reading the answers (and coalescing) is in ``_resend_answers.py``.
"""

from __future__ import annotations

import mimetypes
import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any, Final

import requests
from django.utils.encoding import force_str

from ..addresses import EmailAddress
from ..conf import BOOL, Setting, credential_setting, get_bool, get_credential
from ..exceptions import AnymailError
from ..utils import Attachment, CaseInsensitiveDict, serialize_json, update_deep
from ._resend_answers import ResendAnswers
from ._split import BatchLimits
from .base import Capabilities
from .base_requests import JSON_HEADERS, RequestsPayload, http_status

#: Resend's Idempotency-Key: 1 to 256 characters (printable ASCII, to be a valid header).
_IDEMPOTENCY_KEY_RE = re.compile(r"[\x20-\x7e]{1,256}")

#: The esp_extra key that becomes the Idempotency-Key request header.
IDEMPOTENCY_KEY = "idempotency_key"

#: Error names that mean the API key itself is wrong (worth a hint about the setting).
_KEY_ERRORS = frozenset({"missing_api_key", "invalid_api_key", "restricted_api_key"})


class ResendPayload(RequestsPayload):
    """Translates a normalized message into Resend's email object(s)."""

    capabilities = Capabilities(
        envelope_sender=False,  # the return path belongs to the sending domain
        track_clicks=False,  # tracking is a per-domain setting in Resend's dashboard
        track_opens=False,
        # Resend's API refuses non-ASCII mailboxes; refusing them here names the
        # address instead of leaving the user with Resend's generic 422.
        eai_from=False,
        eai_recipients=False,
        send_at_str=True,  # e.g. Resend's own "in 1 hour"
        # Without a template there is nothing to merge into. (An empty merge_data
        # still asks for a batch send.)
        merge_data=False,
        merge_global_data=False,
    )
    # Resend refuses html/text beside a template: the template is the body.
    template_capabilities = capabilities.replace(
        merge_data=True,
        merge_global_data=True,
        body=False,
        refusals={"body": "a text or html body with template_id"},
    )
    read_from_send_params = frozenset({"merge_metadata", "merge_headers", "merge_data"})

    backend: EmailBackend

    def init_payload(self) -> None:
        self.headers.update({**JSON_HEADERS, "Authorization": f"Bearer {self.backend.api_key}"})
        self.data: dict[str, Any] = {}
        self.metadata: dict[str, Any] = {}

    def finish_payload(self) -> None:
        if self.is_batch and not self.batch:
            # Ignoring this sends one ordinary email to the cc/bcc recipients.
            self.unsupported_feature(
                "batch sending (merge_data, merge_metadata or merge_headers) "
                "without any 'to' recipients"
            )

    # --- request ------------------------------------------------------------

    @property
    def batch(self) -> bool:
        """Whether this is sent as a batch: one email object per "to" recipient.

        (With no "to" recipients there would be no email object at all.)
        """
        return self.is_batch and "to" in self.send_params

    def get_api_endpoint(self) -> str:
        return "emails/batch" if self.batch else "emails"

    def serialize_data(self) -> bytes:
        if not self.batch:
            return self.serialize_json(self.email_object())
        items = [_plain(self._batch_item(to)) for to in self.send_params.get("to", [])]
        return self.serialize_json(items)

    def email_object(self) -> dict[str, Any]:
        """The email object of an ordinary send (coalescing puts several in one call)."""
        return _plain(self.data)

    def _batch_item(self, to: EmailAddress) -> dict[str, Any]:
        item = dict(self.data)
        item["to"] = [to.address]

        headers = _headers(item.get("headers"))
        per_recipient_headers = self.for_recipient(self.send_params.get("merge_headers"), to)
        headers.update({force_str(k): force_str(v) for k, v in per_recipient_headers.items()})
        per_recipient_metadata = self.for_recipient(self.send_params.get("merge_metadata"), to)
        if per_recipient_metadata:
            headers["X-Metadata"] = serialize_json(
                {**self.metadata, **per_recipient_metadata}, "merge_metadata"
            )
        if headers:
            item["headers"] = headers

        if self.uses_template:
            template = dict(item.get("template") or {})
            variables = {**(template.get("variables") or {})}
            variables.update(self.for_recipient(self.send_params.get("merge_data"), to))
            if variables:
                template["variables"] = variables
            item["template"] = template
        return item

    def _headers(self) -> CaseInsensitiveDict:
        headers = self.data.get("headers")
        if not isinstance(headers, CaseInsensitiveDict):
            headers = self.data["headers"] = _headers(headers)
        return headers

    # --- hooks ---------------------------------------------------------------

    def set_from_email(self, email: EmailAddress) -> None:
        self.data["from"] = email.address

    def set_recipients(self, recipient_type: str, emails: list[EmailAddress]) -> None:
        self.data[recipient_type] = [email.address for email in emails]

    def set_subject(self, subject: str) -> None:
        # An empty subject (Django's default) is left out when a template is used
        # (see set_template_id), so the template's own subject applies.
        self.data["subject"] = subject

    def set_reply_to(self, emails: list[EmailAddress]) -> None:
        self.data["reply_to"] = [email.address for email in emails]

    def set_extra_headers(self, headers: CaseInsensitiveDict) -> None:
        self._headers().update(headers)

    def set_text_body(self, body: str) -> None:
        self.data["text"] = body

    def set_html_body(self, body: str) -> None:
        self.data["html"] = body

    def add_attachment(self, attachment: Attachment) -> None:
        if self.batch:
            # Resend's batch endpoint refuses attachments (inline images included).
            self.unsupported_feature("attachments with batch sending")
            return
        filename = self._attachment_filename(attachment)
        if filename is None:
            return
        item = {
            "filename": filename,
            "content": attachment.b64content,
            "content_type": attachment.content_type,  # charset included: Resend keeps it
        }
        if attachment.inline:
            if attachment.content_id:
                item["content_id"] = attachment.content_id
            else:
                # Resend can only place an inline image by its Content-ID. Ignoring
                # this sends the image as an ordinary attachment.
                self.unsupported_feature("inline attachments without Content-ID")
        self.data.setdefault("attachments", []).append(item)

    def _attachment_filename(self, attachment: Attachment) -> str | None:
        """The filename to send, or None to leave the attachment out (when ignoring).

        Resend accepts an attachment whose filename extension doesn't match its
        content type, but then never delivers the email (no error, no bounce).
        So a mismatch is refused here, unless RESEND_VERIFY_ATTACHMENT_EXTENSIONS
        is off. (mimetypes is a best guess at what Resend considers a mismatch.)
        """
        verify = self.backend.verify_attachment_extensions
        mimetype = attachment.mimetype.lower()
        if not attachment.name:
            extension = mimetypes.guess_extension(mimetype)
            if extension:
                return f"attachment{extension}"
            if not verify:
                return "attachment"
            self.unsupported_feature(
                f"unnamed attachments of type {mimetype} (give the attachment a filename "
                "whose extension matches its type)"
            )
            return None
        if verify and _extension_mismatch(attachment.name, mimetype):
            self.unsupported_feature(
                f"attachments of type {mimetype} with name {attachment.name!r} (Resend "
                "silently drops emails whose attachment filename extension doesn't match "
                "the content type: rename the file, or set RESEND_VERIFY_ATTACHMENT_EXTENSIONS "
                "to False if you are sure Resend accepts it)"
            )
            return None
        return attachment.name

    def set_metadata(self, metadata: dict[str, Any]) -> None:
        self.metadata = metadata
        # ASCII-only JSON (non-ASCII as \u escapes), as in X-Tags: a header value that
        # survives any mail system unchanged, and that json.loads() reads back as it was.
        self._headers()["X-Metadata"] = serialize_json(metadata, "metadata")

    def set_tags(self, tags: list[str]) -> None:
        # Resend's native "tags" allow only ASCII letters, digits, "_" and "-":
        # too narrow for Anymail's tags (they remain available through esp_extra).
        self._headers()["X-Tags"] = serialize_json(tags, "tags")

    def set_send_at(self, send_at: datetime | str) -> None:
        if self.batch:
            # Resend's batch endpoint has no scheduled_at.
            self.unsupported_feature("send_at with batch sending")
            return
        if not isinstance(send_at, str):
            timespec = "milliseconds" if send_at.microsecond else "seconds"
            send_at = send_at.isoformat(timespec=timespec)
        self.data["scheduled_at"] = send_at

    def set_template_id(self, template_id: Any) -> None:
        if self.data.get("subject") == "":
            del self.data["subject"]
        self.data["template"] = {"id": force_str(template_id)}

    def set_merge_global_data(self, merge_global_data: dict[str, Any]) -> None:
        self.data["template"]["variables"] = merge_global_data

    def set_esp_extra(self, extra: dict[str, Any]) -> None:
        """Deep-merge esp_extra into the email object; ``idempotency_key`` is a header.

        The merge happens before a batch is split up, so it reaches every batch
        item. ``idempotency_key`` becomes the request's Idempotency-Key header.
        """
        extra = dict(extra)
        if IDEMPOTENCY_KEY in extra:
            key = extra.pop(IDEMPOTENCY_KEY)
            if not isinstance(key, str) or not _IDEMPOTENCY_KEY_RE.fullmatch(key):
                raise self.error(
                    f"Invalid Resend esp_extra[{IDEMPOTENCY_KEY!r}]: expected a string of "
                    "1 to 256 printable ASCII characters (no line breaks)."
                )
            self.headers["Idempotency-Key"] = key
        if isinstance(extra.get("headers"), Mapping):
            # Header names are case-insensitive: merge them that way.
            self._headers()
        update_deep(self.data, extra)


API_KEY: Final = credential_setting(
    "api_key", "a Resend API key ('re_...'; the inbound webhook needs a full-access one)"
)
VERIFY_ATTACHMENT_EXTENSIONS: Final = Setting(
    "verify_attachment_extensions",
    BOOL,
    "Check that attachment filenames match their content types (False: send as they are).",
    default=True,
)


class EmailBackend(ResendAnswers[ResendPayload]):
    """Anymail's backend for Resend's email API."""

    esp_name = "Resend"
    default_api_url = "https://api.resend.com/"
    declared_settings = (API_KEY, VERIFY_ATTACHMENT_EXTENSIONS)
    #: Retries send the same Idempotency-Key (anymail.retry).
    idempotency_key_esp_extra = IDEMPOTENCY_KEY
    batch_limits = BatchLimits(messages=100)  # emails/batch items per call

    def __init__(self, **kwargs: Any) -> None:
        self.api_key = get_credential(API_KEY, self.esp_name, kwargs)
        self.verify_attachment_extensions = get_bool(
            VERIFY_ATTACHMENT_EXTENSIONS, self.esp_name, kwargs
        )
        super().__init__(**kwargs)

    def describe_error(self, response: requests.Response, payload: ResendPayload) -> str:
        # Resend's errors: {"statusCode": 422, "name": "validation_error", "message": "..."}
        # (The whole body is quoted below this line by the exception itself.)
        name, text = error_details(self.error_json(response))
        described = http_status(response) + (f": {text}" if text else "")
        described += f" ({name})" if name else ""
        if name in _KEY_ERRORS:
            described += ". Check your RESEND_API_KEY setting: it needs at least sending access"
        return f"Resend API error: {described}."


def error_details(data: Any) -> tuple[str | None, str | None]:
    """Resend's error ``name`` (older docs: ``type``) and ``message``, if the body has them."""
    if not isinstance(data, dict):
        return None, None
    name = data.get("name", data.get("type"))
    text = data.get("message")
    return (
        name if isinstance(name, str) and name else None,
        text.rstrip(".") if isinstance(text, str) and text else None,
    )


def _extension_mismatch(filename: str, mimetype: str) -> bool:
    """Whether ``filename``'s extension names a different type than ``mimetype``."""
    guessed, encoding = mimetypes.guess_type(filename)
    if guessed is None or encoding is not None:
        # Unknown extensions are allowed. With an encoding (".tar.gz", ".svgz") the
        # last extension names a compression, not a type: don't guess.
        return False
    if guessed.lower() == mimetype:
        return False
    # Several extensions can name one type (".jpe" for image/jpeg): accept any of them.
    extension = "." + filename.rpartition(".")[2].lower()
    return extension not in mimetypes.guess_all_extensions(mimetype)


def _headers(value: Any) -> CaseInsensitiveDict:
    """A case-insensitive copy of a headers mapping (an empty one for None)."""
    if value is None:
        return CaseInsensitiveDict()
    if not isinstance(value, Mapping):
        raise AnymailError(
            "Resend headers (from esp_extra) must be a dict of header names to values."
        )
    return CaseInsensitiveDict(value)


def _plain(email: dict[str, Any]) -> dict[str, Any]:
    """The email object ready for JSON: headers as a plain dict, no empty headers."""
    result = dict(email)
    headers = result.pop("headers", None)
    if isinstance(headers, Mapping):
        if headers:
            result["headers"] = dict(headers.items())
    elif headers is not None:
        result["headers"] = headers
    return result
