"""SparkPost: one HTTP call to the Transmissions API per message.

``POST {SPARKPOST_API_URL}/transmissions/`` with the bare API key in the
``Authorization`` header. SparkPost has no cc/bcc fields: every envelope
recipient is an entry of ``recipients[]``, whose ``header_to`` sets the To
header that recipient sees, and the visible Cc list is a plain ``Cc`` header.
A batch send gives every "to" its own entry (and To header), with its own
``substitution_data`` and ``metadata``; cc and bcc addresses get one copy of
each "to" recipient's message.
"""

from __future__ import annotations

import re
from typing import Any, Final

import requests
from django.core.mail import EmailMessage

from ..addresses import EmailAddress, parse_address_list
from ..conf import (
    CREDENTIAL,
    Setting,
    SettingType,
    get_credential,
    get_django_setting,
    get_setting,
    invalid_setting,
)
from ..exceptions import AnymailInvalidAddress, AnymailRequestsAPIError
from ..message import AnymailRecipientStatus
from ..utils import Attachment, CaseInsensitiveDict, merge_dicts_deep
from .base import BasePayload, Capabilities
from .base_requests import AnymailRequestsBackend, RequestsPayload

#: Headers that have their own Transmissions fields (or that SparkPost builds
#: itself): SparkPost refuses them in ``content.headers``.
_RESERVED_HEADERS = {
    "subject": "use the message's subject",
    "from": "use from_email",
    "to": "use the message's to list",
    "cc": "use the message's cc list",
    "reply-to": "use reply_to",
    "content-type": "SparkPost builds the MIME structure itself",
    "content-transfer-encoding": "SparkPost builds the MIME structure itself",
}

#: esp_extra keys of the 6.0-era python-sparkpost ``transmissions.send()`` call
#: that are not top-level Transmissions fields (SparkPost would silently ignore
#: them there), and where the Transmissions API wants them.
_LEGACY_ESP_EXTRA = {
    "transactional": "options",
    "ip_pool": "options",
    "inline_css": "options",
    "skip_suppression": "options",
    "use_draft_template": "content",
}

_AMP_MIMETYPE = "text/x-amp-html"


def _subaccount_header(value: Any) -> str | None:
    """The X-MSYS-SUBACCOUNT header value for the SUBACCOUNT setting (a numeric id)."""
    if value is None:
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if isinstance(value, str) and value.strip().isdigit():
        return value.strip()
    raise invalid_setting(
        "subaccount", "SparkPost", "expected the numeric id of a SparkPost subaccount."
    )


def _is_count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _error_details(data: Any) -> str:
    """SparkPost's errors[] as text: "message: description (code N); ..."."""
    errors = data.get("errors") if isinstance(data, dict) else None
    if not isinstance(errors, list):
        return ""
    described = []
    for error in errors:
        if not isinstance(error, dict):
            continue
        text = ": ".join(str(error[key]) for key in ("message", "description") if error.get(key))
        if error.get("code"):
            text += f" (code {error['code']})"
        if text:
            described.append(text.strip())
    return "; ".join(described)


def _substitution_key(header_name: str) -> str:
    """The substitution_data key that carries a merge header's value.

    "x-custom" -> "Header__X_Custom" (title-cased, so names that differ only in
    case share a key; anything not allowed in a SparkPost variable name -> "_").
    """
    return "Header__" + re.sub(r"[^A-Za-z0-9_]", "_", header_name.title())


class SparkPostPayload(RequestsPayload):
    capabilities = Capabilities(
        # Outside SparkPost Enterprise, only return_path's domain is used.
        envelope_sender="Domain only",
        max_tags=1,  # the message's campaign_id
        alternatives=frozenset({_AMP_MIMETYPE}),
        send_at_str=True,
    )

    backend: EmailBackend
    content: dict[str, Any]
    content_headers: CaseInsensitiveDict

    def __init__(self, message: EmailMessage, defaults: Any, backend: Any) -> None:
        headers = {
            "Authorization": backend.api_key,  # the bare key: SparkPost wants no scheme
            "Content-Type": "application/json",
            "Accept": "application/json",
        }
        if backend.subaccount is not None:
            headers["X-MSYS-SUBACCOUNT"] = backend.subaccount
        super().__init__(message, defaults, backend, headers=headers)

    def init_payload(self) -> None:
        self.content = {}
        self.data = {"content": self.content}
        self.content_headers = CaseInsensitiveDict()
        self.recipients: dict[str, list[EmailAddress]] = {}
        self.show_cc_header = True
        self.merge_data: dict[str, dict[str, Any]] = {}
        self.merge_metadata: dict[str, dict[str, Any]] = {}
        self.merge_headers: dict[str, dict[str, Any]] = {}
        self.merge_global_data: dict[str, Any] = {}
        self.esp_extra: dict[str, Any] = {}
        #: Entries in the recipients[] actually sent (None: not a list, e.g. a
        #: stored recipient list from esp_extra). Set by serialize_data().
        self.recipient_count: int | None = None

    def get_api_endpoint(self) -> str:
        return "transmissions/"

    def serialize_data(self) -> bytes:
        body = self.build_body()
        recipients = body.get("recipients")
        self.recipient_count = len(recipients) if isinstance(recipients, list) else None
        return self.serialize_json(body)

    # --- the request body -----------------------------------------------------

    def build_body(self) -> dict[str, Any]:
        """The whole Transmissions request body (esp_extra merged in last)."""
        body = merge_dicts_deep(self.data)  # a copy: building must not change the payload
        content = body["content"]

        headers: dict[str, str] = dict(self.content_headers.items())
        substitution_data = dict(self.merge_global_data)
        substitution_data.update(self._merge_header_placeholders(headers))
        cc = self.recipients.get("cc", [])
        if cc and self.show_cc_header:
            headers["Cc"] = ", ".join(address.address for address in cc)
        if headers:
            content["headers"] = headers
        if substitution_data:
            body["substitution_data"] = substitution_data

        body = {"recipients": self._build_recipients(), **body}
        return merge_dicts_deep(body, self.esp_extra)

    def _merge_header_placeholders(self, headers: dict[str, str]) -> dict[str, str]:
        """Point each merge header at its substitution variable; return the global defaults.

        Every recipient's own value goes in its substitution_data (see
        _recipient_substitution_data). A recipient without one gets the
        message's extra_headers value for that header, if any; otherwise
        SparkPost renders the variable as an empty string.
        """
        defaults: dict[str, str] = {}
        for recipient_headers in self.merge_headers.values():
            for name in recipient_headers:
                key = _substitution_key(name)
                placeholder = f"{{{{{key}}}}}"
                # The message's own spelling (and place) of the header, if it has one.
                existing = next((h for h in headers if h.lower() == name.lower()), None)
                if existing is None:
                    headers[name] = placeholder
                elif headers[existing] != placeholder:  # not placed for another recipient yet
                    defaults[key] = headers[existing]
                    headers[existing] = placeholder
        return defaults

    def _recipient_substitution_data(self, address: EmailAddress) -> dict[str, Any]:
        data = dict(self.merge_data.get(address.addr_spec) or {})
        for name, value in (self.merge_headers.get(address.addr_spec) or {}).items():
            if value is not None:
                data[_substitution_key(name)] = str(value)
        return data

    def _build_recipients(self) -> list[dict[str, Any]]:
        to = self.recipients.get("to", [])
        copies = [*self.recipients.get("cc", []), *self.recipients.get("bcc", [])]
        if not (self.is_batch and to):
            # One message: everybody sees the same To header (empty if there is no "to").
            header_to = ", ".join(address.address for address in to)
            return [
                {"address": {"email": address.addr_spec, "header_to": header_to}}
                for address in [*to, *copies]
            ]

        entries = []
        for address in to:
            entry: dict[str, Any] = {
                "address": {"email": address.addr_spec, "header_to": address.address}
            }
            substitution_data = self._recipient_substitution_data(address)
            if substitution_data:
                entry["substitution_data"] = substitution_data
            metadata = self.merge_metadata.get(address.addr_spec)
            if metadata:
                entry["metadata"] = metadata
            entries.append(entry)
        # Each cc/bcc gets a copy of every "to" recipient's message, personalized alike.
        for copy in copies:
            for entry in entries[: len(to)]:
                entries.append({**entry, "address": {**entry["address"], "email": copy.addr_spec}})
        return entries

    # --- hooks ----------------------------------------------------------------------

    def set_from_email(self, email: EmailAddress) -> None:
        self.content["from"] = email.address

    def set_recipients(self, recipient_type: str, emails: list[EmailAddress]) -> None:
        self.recipients[recipient_type] = emails

    def set_subject(self, subject: str) -> None:
        self.content["subject"] = subject

    def set_reply_to(self, emails: list[EmailAddress]) -> None:
        self.content["reply_to"] = ", ".join(email.address for email in emails)

    def set_extra_headers(self, headers: CaseInsensitiveDict) -> None:
        for name, value in headers.items():
            if self._header_allowed(name, "extra_headers"):
                self.content_headers[name] = value

    def _header_allowed(self, name: str, where: str) -> bool:
        why = _RESERVED_HEADERS.get(name.lower())
        if why is None:
            return True
        self.unsupported_feature(f"a {name!r} header in {where} ({why})")
        return False

    def set_text_body(self, body: str) -> None:
        self.content["text"] = body

    def set_html_body(self, body: str) -> None:
        self.content["html"] = body

    def add_alternative(self, content: str, mimetype: str) -> None:
        # The base only passes the declared AMP type here.
        if "amp_html" in self.content:
            self.unsupported_feature("multiple AMP parts")
        elif "text" not in self.content and "html" not in self.content:
            self.unsupported_feature("an AMP part without a text or html body")
        else:
            self.content["amp_html"] = content

    def add_attachment(self, attachment: Attachment) -> None:
        if attachment.inline and attachment.content_id:
            # SparkPost makes an inline image's name its Content-ID.
            self.content.setdefault("inline_images", []).append(
                {
                    "name": attachment.content_id,
                    "type": attachment.content_type,
                    "data": attachment.b64content,
                }
            )
        else:
            self.content.setdefault("attachments", []).append(
                {
                    "name": attachment.filename,
                    "type": attachment.content_type,  # with the charset of text files
                    "data": attachment.b64content,  # no line breaks (SparkPost requires)
                }
            )

    def set_envelope_sender(self, email: EmailAddress) -> None:
        self.data["return_path"] = email.addr_spec

    def set_metadata(self, metadata: dict[str, Any]) -> None:
        self.data["metadata"] = metadata

    def set_merge_metadata(self, merge_metadata: dict[str, dict[str, Any]]) -> None:
        # SparkPost merges recipient metadata over the transmission's itself.
        self.merge_metadata = merge_metadata

    def set_merge_headers(self, merge_headers: dict[str, dict[str, Any]]) -> None:
        self.merge_headers = {
            recipient: {
                name: value
                for name, value in (headers or {}).items()
                if self._header_allowed(name, "merge_headers")
            }
            for recipient, headers in merge_headers.items()
        }

    def set_tags(self, tags: list[str]) -> None:
        self.data["campaign_id"] = tags[0]

    def set_track_clicks(self, track_clicks: bool) -> None:
        self.data.setdefault("options", {})["click_tracking"] = track_clicks

    def set_track_opens(self, track_opens: bool) -> None:
        self.data.setdefault("options", {})["open_tracking"] = track_opens

    def set_send_at(self, send_at: Any) -> None:
        # SparkPost wants YYYY-MM-DDTHH:MM:SS±HH:MM (no fractional seconds).
        if not isinstance(send_at, str):
            send_at = send_at.replace(microsecond=0).isoformat()
        self.data.setdefault("options", {})["start_time"] = send_at

    def set_template_id(self, template_id: Any) -> None:
        content = self.content
        content["template_id"] = str(template_id)
        # Django's default empty subject would conflict with the template's
        # (422 "Both content object and template_id are specified"). A
        # non-empty subject, text or html is left in: SparkPost's error says why.
        if content.get("subject") == "":
            del content["subject"]
        # SparkPost silently ignores these next to a stored template, so refuse
        # them rather than send something other than what the message says.
        # (The newer top-level "override" object could carry from/reply_to, but
        # its behaviour with stored templates is not verified: esp_extra can set it.)
        if "from" in content:
            if not self._from_is_default():
                self.unsupported_feature(
                    "from_email with template_id (set the message's from_email to None "
                    "to use the template's From)"
                )
            del content["from"]
        if "reply_to" in content:
            self.unsupported_feature("reply_to with template_id")
            del content["reply_to"]
        if self.content_headers:
            self.unsupported_feature("extra headers with template_id")
            self.content_headers = CaseInsensitiveDict()
        if self.merge_headers:
            self.unsupported_feature("merge_headers with template_id")
            self.merge_headers = {}
        if self.recipients.get("cc"):
            # The recipients still get the message, but not the Cc header.
            self.unsupported_feature("cc recipients (a visible Cc header) with template_id")
            self.show_cc_header = False
        if "attachments" in content or "inline_images" in content:
            self.unsupported_feature("attachments or inline images with template_id")
            content.pop("attachments", None)
            content.pop("inline_images", None)

    def _from_is_default(self) -> bool:
        """Whether from_email is just Django's DEFAULT_FROM_EMAIL (EmailMessage's fallback)."""
        try:
            default = parse_address_list(get_django_setting("DEFAULT_FROM_EMAIL"))
        except AnymailInvalidAddress:
            return False
        return self.send_params.get("from_email") == default

    def set_merge_data(self, merge_data: dict[str, dict[str, Any]]) -> None:
        # SparkPost lets recipient substitution_data override the global data itself.
        self.merge_data = merge_data

    def set_merge_global_data(self, merge_global_data: dict[str, Any]) -> None:
        self.merge_global_data = merge_global_data

    def set_esp_extra(self, extra: dict[str, Any]) -> None:
        """Deep-merged into the request body last (so it can replace recipients[]).

        Keys of the 6.0-era SDK call ("transactional", "use_draft_template" ...)
        are moved to where the Transmissions API expects them; the API's own
        nested form wins when both are given.
        """
        moved: dict[str, dict[str, Any]] = {}
        rest = {}
        for key, value in extra.items():
            if key in _LEGACY_ESP_EXTRA:
                moved.setdefault(_LEGACY_ESP_EXTRA[key], {})[key] = value
            else:
                rest[key] = value
        self.esp_extra = merge_dicts_deep(moved, rest)


API_KEY: Final = Setting(
    "api_key", CREDENTIAL, "a SparkPost API key (Account > API Keys)", secret=True, bare=True
)
SUBACCOUNT: Final = Setting(
    "subaccount",
    SettingType("number"),
    "The SparkPost subaccount id to send as (the X-MSYS-SUBACCOUNT header).",
    default=None,
)


class EmailBackend(AnymailRequestsBackend):
    """``anymail.backends.sparkpost.EmailBackend``: SparkPost's Transmissions API."""

    esp_name = "SparkPost"
    payload_class = SparkPostPayload
    default_api_url = "https://api.sparkpost.com/api/v1"
    declared_settings = (API_KEY, SUBACCOUNT)

    def __init__(self, **kwargs: Any) -> None:
        esp_name = self.esp_name
        # Required. (The SPARKPOST_API_KEY *environment variable* the old SDK read
        # is deliberately not consulted: settings are the one source.) Checked
        # here, as it goes in a header: a stray space or line break would
        # otherwise surface only when sending, as an API error that
        # fail_silently hides.
        self.api_key: str = get_credential(API_KEY, esp_name, kwargs)
        self.subaccount: str | None = _subaccount_header(get_setting(SUBACCOUNT, esp_name, kwargs))
        super().__init__(**kwargs)

    def raise_for_status(
        self, response: requests.Response, payload: BasePayload, message: EmailMessage
    ) -> None:
        if 200 <= response.status_code < 300:
            return
        reason = f" {response.reason}" if response.reason else ""
        details = _error_details(self.error_json(response))
        raise AnymailRequestsAPIError(
            f"{self.esp_name} API error: HTTP {response.status_code}{reason}"
            + (f": {details}" if details else "."),
            email_message=message,
            payload=payload,
            response=response,
            backend=self,
        )

    def parse_recipient_status(
        self, response: Any, payload: BasePayload, message: EmailMessage
    ) -> dict[str, AnymailRecipientStatus]:
        assert isinstance(payload, SparkPostPayload)
        data = self.deserialize_json_response(response, payload, message)
        results = data.get("results") if isinstance(data, dict) else None
        try:
            transmission_id = results["id"]  # type: ignore[index]
            accepted = results["total_accepted_recipients"]  # type: ignore[index]
            rejected = results["total_rejected_recipients"]  # type: ignore[index]
        except (KeyError, TypeError):
            transmission_id = accepted = rejected = None
        if not (
            isinstance(transmission_id, str | int) and _is_count(accepted) and _is_count(rejected)
        ):
            raise AnymailRequestsAPIError(
                f"Invalid {self.esp_name} API response format: expected results with id, "
                "total_accepted_recipients and total_rejected_recipients.",
                email_message=message,
                payload=payload,
                response=response,
                backend=self,
            )
        # SparkPost only counts: statuses are certain when every entry we sent
        # went the same way. (Counts cover recipients[] entries, so batch cc/bcc
        # copies count once per copy.)
        sent = payload.recipient_count
        if sent is not None and accepted == sent and rejected == 0:
            status = "queued"
        elif sent is not None and rejected == sent and accepted == 0:
            status = "rejected"
        else:
            status = "unknown"
        message_id = str(transmission_id)
        return {
            address.addr_spec: AnymailRecipientStatus(message_id, status)
            for address in payload.all_recipients
        }
