"""Brevo (formerly SendinBlue): transactional email over Brevo's v3 API.

Every send, batch and template send alike, is one ``POST smtp/email`` with an
``api-key`` header and a JSON body. A batch send (``merge_data``,
``merge_metadata`` or ``merge_headers``) turns each "to" recipient into one
entry of ``messageVersions``; cc and bcc stay at the top level, so they apply
to (and get a copy of) every version.

Brevo mishandles some non-ASCII text in headers and display names; the payload
guards against those bugs (see ``_check_header_value`` and ``_display_name``),
controlled by the ``PREVENT_HEADER_ENCODING_BUGS`` and
``WORKAROUND_DISPLAY_NAME_BUGS`` settings.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime
from email.header import Header
from typing import Any, ClassVar, Final

import requests
from django.core.mail import EmailMessage

from ..addresses import EmailAddress
from ..conf import BOOL, Setting, check_setting_value, credential_setting, get_bool, get_setting
from ..exceptions import AnymailImproperlyConfigured
from ..message import AnymailRecipientStatus
from ..utils import Attachment, CaseInsensitiveDict, serialize_json, update_deep
from ._split import BatchLimits
from .base import Capabilities
from .base_requests import JSON_HEADERS, AnymailRequestsBackend, RequestsPayload

logger = logging.getLogger("anymail")

#: The header Brevo reports back in tracking webhooks: Anymail's metadata, as JSON.
METADATA_HEADER: Final = "X-Mailin-custom"

#: What a send's answer holds (for the error when it doesn't).
_EXPECTED_ID: Final = "expected a messageId (or, for a batch send, messageIds)"

#: RFC 5322 "specials": with any of these, a non-ASCII display name trips Brevo's bug.
_SPECIALS: Final = frozenset('()<>[]:;@\\,."')


class BrevoPayload(RequestsPayload):
    capabilities = Capabilities(
        envelope_sender=False,
        track_clicks=False,  # account-level settings only
        track_opens=False,
        inline_images=False,  # sent as ordinary attachments when ignoring (see below)
        max_reply_to=1,  # replyTo is a single object
        send_at_str=True,
    )

    # (Placed in messageVersions once every hook has run.)
    read_from_send_params = frozenset({"merge_metadata", "merge_headers", "merge_data"})

    backend: EmailBackend

    def init_payload(self) -> None:
        self.headers.update({"api-key": self.backend.api_key, **JSON_HEADERS})
        self.data: dict[str, Any] = {}
        # Brevo Title-Cases header names anyway: one header per name, whatever its case.
        self.message_headers: CaseInsensitiveDict = CaseInsensitiveDict()
        self.metadata: dict[str, Any] = {}
        self.esp_extra: dict[str, Any] | None = None

    def get_api_endpoint(self) -> str:
        return "smtp/email"

    def serialize_data(self) -> bytes:
        return self.serialize_json(self.data)

    # --- addresses -----------------------------------------------------------

    def _display_name(self, name: str) -> str:
        # Brevo silently drops (or, in replyTo, sends as raw 8-bit) a display name
        # that is non-ASCII *and* contains an RFC 5322 special. An RFC 2047
        # encoded-word survives; other names are sent as-is (Brevo encodes them).
        if (
            self.backend.workaround_display_name_bugs
            and not name.isascii()
            and any(char in _SPECIALS for char in name)
        ):
            return Header(name, "utf-8").encode(linesep="")
        return name

    def _address(self, email: EmailAddress) -> dict[str, str]:
        address = {"email": email.addr_spec}
        if email.display_name:
            address["name"] = self._display_name(email.display_name)
        return address

    def set_from_email(self, email: EmailAddress) -> None:
        self.data["sender"] = self._address(email)

    def set_recipients(self, recipient_type: str, emails: list[EmailAddress]) -> None:
        self.data[recipient_type] = [self._address(email) for email in emails]

    def set_reply_to(self, emails: list[EmailAddress]) -> None:
        # Capabilities(max_reply_to=1) has already reduced the list to one address.
        self.data["replyTo"] = self._address(emails[0])

    # --- content ---------------------------------------------------------------

    def set_subject(self, subject: str) -> None:
        if subject:  # an empty subject would override a template's own
            self.data["subject"] = subject

    def set_text_body(self, body: str) -> None:
        self.data["textContent"] = body

    def set_html_body(self, body: str) -> None:
        self.data["htmlContent"] = body

    def add_attachment(self, attachment: Attachment) -> None:
        # Brevo has no content-type field: it derives the type from the name's
        # extension (so an unnamed attachment gets one made from its type). It
        # labels every text part charset=utf-8, so text must be UTF-8.
        try:
            attachment = attachment.as_utf8()
        except (LookupError, UnicodeDecodeError) as err:
            raise self.error(
                f"Can't convert text attachment {attachment.name!r} from its declared "
                f"charset {attachment.charset!r} to UTF-8 ({err}). Brevo sends every text "
                "attachment as UTF-8: fix the attachment's charset, or attach it as "
                "bytes with a non-text mimetype."
            ) from err
        self.data.setdefault("attachment", []).append(
            {"name": attachment.filename, "content": attachment.b64content}
        )

    # --- headers and metadata -----------------------------------------------------

    def _check_header_value(self, value: Any, feature: str) -> bool:
        """False (after reporting it) if ``value`` would hit Brevo's non-ASCII header bug.

        Brevo sends non-ASCII header values as raw 8-bit UTF-8, which bounces or is
        lost; pre-encoding (RFC 2047) does not help, because Brevo decodes it first.
        """
        if (
            not self.backend.prevent_header_encoding_bugs
            or not isinstance(value, str)
            or value.isascii()
        ):
            return True
        self.unsupported_feature(f"non-ASCII characters in {feature}")
        return False

    def set_extra_headers(self, headers: CaseInsensitiveDict) -> None:
        for name, value in headers.items():
            if self._check_header_value(value, f"{name!r} header"):
                self.message_headers[name] = value

    def _metadata_json(self, metadata: Mapping[str, Any], field: str) -> str:
        # Not ASCII-escaped: the non-ASCII check must see the real characters
        # (and Brevo would otherwise pass "\u00e9" escapes on to webhooks verbatim).
        return serialize_json(metadata, field, ensure_ascii=False)

    def set_metadata(self, metadata: dict[str, Any]) -> None:
        self.metadata = metadata
        value = self._metadata_json(metadata, "metadata")
        if self._check_header_value(value, "metadata"):
            self.message_headers[METADATA_HEADER] = value

    # --- other features -----------------------------------------------------------

    def set_tags(self, tags: list[str]) -> None:
        self.data["tags"] = tags

    def set_send_at(self, send_at: datetime | str) -> None:
        # e.g. "2026-03-04T05:06:07.008-08:00" (Brevo wants an offset, and ms precision)
        self.data["scheduledAt"] = (
            send_at if isinstance(send_at, str) else send_at.isoformat(timespec="milliseconds")
        )

    def set_template_id(self, template_id: Any) -> None:
        self.data["templateId"] = self._numeric_template_id(template_id)

    def _numeric_template_id(self, template_id: Any) -> int:
        if isinstance(template_id, int) and not isinstance(template_id, bool):
            return template_id
        digits = template_id.strip() if isinstance(template_id, str) else ""
        # (str.isdigit() alone also accepts characters like "²" that int() refuses.)
        if digits.isascii() and digits.isdigit():
            return int(digits)
        raise self.error(
            f"Brevo template_id must be the template's numeric ID (like 12 or '12'), "
            f"not {template_id!r}. Find it in Brevo's list of transactional templates."
        )

    def set_merge_global_data(self, merge_global_data: dict[str, Any]) -> None:
        self.data["params"] = merge_global_data

    def set_esp_extra(self, extra: dict[str, Any]) -> None:
        # Applied by finish_payload(), after messageVersions exist, so that
        # esp_extra can adjust those too.
        self.esp_extra = extra

    # --- assembly -----------------------------------------------------------------

    def finish_payload(self) -> None:
        # Brevo refuses a send with neither htmlContent nor templateId (400
        # missing_parameter) and documents no text-only send. When ignoring, the
        # message goes out as it is, for Brevo to answer.
        if "html_body" not in self.send_params and "template_id" not in self.send_params:
            self.unsupported_feature(
                "messages without an html body (it needs htmlContent or a template_id: "
                "attach an html alternative)"
            )
        if self.message_headers:
            self.data["headers"] = dict(self.message_headers)
        if self.is_batch:
            self._build_message_versions()
        if self.esp_extra:
            # Deep merge (nested dicts such as "headers" are updated, other values
            # replaced): covers Brevo's documented uses (batchId, preheader ...).
            update_deep(self.data, self.esp_extra)

    def _build_message_versions(self) -> None:
        """One messageVersions entry per "to" recipient, in order (messageIds follow it)."""
        to = self.send_params.get("to", [])
        if not to:
            return  # Brevo reports the missing "to" itself
        self.data.pop("to", None)
        merge_data = self.send_params.get("merge_data", {})
        merge_metadata = self.send_params.get("merge_metadata", {})
        merge_headers = self.send_params.get("merge_headers", {})
        versions = []
        for email in to:
            recipient = email.addr_spec
            version: dict[str, Any] = {"to": [self._address(email)]}
            if recipient in merge_data:
                version["params"] = merge_data[recipient]
            # Per-version "headers" are not in Brevo's published schema, but the API
            # honours them (live-tested by the Anymail project): undocumented
            # behaviour that Brevo could change.
            headers: CaseInsensitiveDict = CaseInsensitiveDict()
            for name, value in (merge_headers.get(recipient) or {}).items():
                value = _header_str(value)
                if self._check_header_value(value, "merge_headers"):
                    headers[name] = value
            if recipient in merge_metadata:
                value = self._metadata_json(
                    {**self.metadata, **merge_metadata[recipient]},
                    f"merge_metadata[{recipient!r}]",
                )
                if self._check_header_value(value, "merge_metadata"):
                    headers[METADATA_HEADER] = value
            if headers:
                version["headers"] = dict(headers)
            versions.append(version)
        self.data["messageVersions"] = versions


def _header_str(value: Any) -> Any:
    # Brevo refuses non-string header values ("Invalid headers"). Numbers are
    # easy to convert; anything else fails JSON serialization with a clear error.
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return value


API_KEY: Final = credential_setting("api_key", "your Brevo v3 API key")
WORKAROUND_DISPLAY_NAME_BUGS: Final = Setting(
    "workaround_display_name_bugs",
    BOOL,
    "Pre-encode display names that Brevo would otherwise drop.",
    default=True,
)
PREVENT_HEADER_ENCODING_BUGS: Final = Setting(
    "prevent_header_encoding_bugs",
    BOOL,
    "Refuse non-ASCII header and metadata values, which Brevo mangles.",
    default=True,
)


class EmailBackend(AnymailRequestsBackend[BrevoPayload]):
    """Sends through Brevo's transactional email API (``POST /v3/smtp/email``)."""

    esp_name = "Brevo"
    default_api_url = "https://api.brevo.com/v3/"
    #: The ESP's former name: a missing API key error points out old settings.
    former_esp_name: ClassVar[str | None] = "SendinBlue"
    declared_settings = (API_KEY, WORKAROUND_DISPLAY_NAME_BUGS, PREVENT_HEADER_ENCODING_BUGS)
    # 1000 messageVersions and 2000 recipients per request; the top-level cc/bcc
    # count once per version here (how Brevo counts them is not documented).
    batch_limits = BatchLimits(messages=1000, recipients=2000)

    def __init__(self, **kwargs: Any) -> None:
        # Consume every Brevo option before Django sees the rest (Django 6.1
        # MAILERS reports unknown OPTIONS).
        self.api_key: str = self._get_api_key(kwargs)
        self.workaround_display_name_bugs = get_bool(
            WORKAROUND_DISPLAY_NAME_BUGS, self.esp_name, kwargs
        )
        self.prevent_header_encoding_bugs = get_bool(
            PREVENT_HEADER_ENCODING_BUGS, self.esp_name, kwargs
        )
        super().__init__(**kwargs)

    def _get_api_key(self, kwargs: dict[str, Any]) -> str:
        try:
            api_key = get_setting(API_KEY, self.esp_name, kwargs, check=False)
        except AnymailImproperlyConfigured as err:
            former = self.former_esp_name
            if former and self._has_api_key(former):
                # (Same class: under MAILERS it is an AnymailInvalidMailer.)
                raise type(err)(
                    f"{err} (Found a {former.upper()}_API_KEY setting: {former} is now "
                    f"Brevo, so rename it to {self.esp_name.upper()}_API_KEY.)"
                ) from None
            raise
        # Checked here (never shown): it goes in a header, and requests' error for a
        # value it can't send would quote it.
        check_setting_value(API_KEY, api_key, self.esp_name)
        return str(api_key)

    @staticmethod
    def _has_api_key(esp_name: str) -> bool:
        return get_setting(API_KEY, esp_name, default=None, check=False) is not None

    def parse_recipient_status(
        self, response: requests.Response, payload: BrevoPayload, message: EmailMessage
    ) -> dict[str, AnymailRecipientStatus]:
        if not response.content.strip():
            # Brevo has been seen to answer 2xx with an empty body: accepted, no id.
            return payload.statuses_for_all(None, "queued")
        data = self.deserialize_json_response(response, payload, message)
        # Brevo refuses nobody at send time (blocked or invalid recipients show up
        # later as tracking events), so every recipient is "queued".
        if "messageVersions" in payload.data:
            return self._batch_status(data, response, payload, message)
        message_id = data.get("messageId") if isinstance(data, dict) else None
        if not isinstance(message_id, str):
            raise self.invalid_response(_EXPECTED_ID, response, payload, message)
        return payload.statuses_for_all(message_id, "queued")

    def _batch_status(
        self,
        data: Any,
        response: requests.Response,
        payload: BrevoPayload,
        message: EmailMessage,
    ) -> dict[str, AnymailRecipientStatus]:
        if isinstance(data, dict) and isinstance(data.get("messageIds"), list):
            message_ids = data["messageIds"]
            if not all(isinstance(message_id, str) for message_id in message_ids):
                raise self.invalid_response(_EXPECTED_ID, response, payload, message)
        elif isinstance(data, dict) and isinstance(data.get("messageId"), str):
            message_ids = [data["messageId"]]
        else:
            raise self.invalid_response(_EXPECTED_ID, response, payload, message)
        to = payload.send_params.get("to", [])
        # cc and bcc get a copy of every version: no id of their own.
        statuses = {
            email.addr_spec: AnymailRecipientStatus(None, "queued")
            for email in [*payload.send_params.get("cc", []), *payload.send_params.get("bcc", [])]
        }
        if len(message_ids) != len(to):
            # The messages were accepted: report that, without guessing which id is whose.
            logger.warning(
                "%s returned %d messageIds for %d batch recipients; "
                "leaving anymail_status message_ids unset.",
                self.esp_name,
                len(message_ids),
                len(to),
            )
            message_ids = [None] * len(to)
        for email, message_id in zip(to, message_ids, strict=True):
            statuses[email.addr_spec] = AnymailRecipientStatus(message_id, "queued")
        return statuses
