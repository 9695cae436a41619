"""SparkPost: one HTTP call to the Transmissions API per message.

``POST {SPARKPOST_API_URL}/transmissions/`` with the bare API key in the
``Authorization`` header. SparkPost has no cc/bcc fields: every envelope
recipient is an entry of ``recipients[]``, whose ``header_to`` sets the To
header that recipient sees, and the visible Cc list is a plain ``Cc`` header.
A batch send gives every "to" its own entry (and To header), with its own
``substitution_data`` and ``metadata``; cc and bcc addresses get one copy of
each "to" recipient's message. Reading SparkPost's answers is in
``_sparkpost_answers.py``.
"""

from __future__ import annotations

import re
from typing import Any, Final

from ..addresses import EmailAddress, parse_address_list
from ..conf import (
    Setting,
    SettingType,
    credential_setting,
    get_credential,
    get_django_setting,
    get_setting,
    invalid_setting,
)
from ..exceptions import AnymailInvalidAddress
from ..utils import Attachment, CaseInsensitiveDict, merge_dicts_deep
from ._sparkpost_answers import SparkPostAnswers
from .base import Capabilities
from .base_requests import JSON_HEADERS, RequestsPayload

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
    #: A stored template brings its own headers, reply-to and attachments: SparkPost
    #: silently ignores these beside it, so they are refused rather than lost.
    #: (The newer top-level "override" object could carry some of them, but its
    #: behaviour with stored templates is not verified: esp_extra can set it.)
    template_capabilities = capabilities.replace(
        reply_to=False,
        extra_headers=False,
        merge_headers=False,
        attachments=False,
        inline_images=False,
        refusals={
            "extra_headers": "extra headers with template_id",
            "attachments": "attachments or inline images with template_id",
            "inline_images": "attachments or inline images with template_id",
        },
    )

    # (Placed in recipients[] and substitution_data as the body is built.)
    read_from_send_params = frozenset(
        {"to", "cc", "bcc", "merge_data", "merge_metadata", "merge_global_data"}
    )

    backend: EmailBackend
    content: dict[str, Any]
    content_headers: CaseInsensitiveDict

    def init_payload(self) -> None:
        # SparkPost takes the bare key: no scheme.
        self.headers.update({"Authorization": self.backend.api_key, **JSON_HEADERS})
        if self.backend.subaccount is not None:
            self.headers["X-MSYS-SUBACCOUNT"] = self.backend.subaccount
        self.content = {}
        self.data = {"content": self.content}
        self.content_headers = CaseInsensitiveDict()
        self.show_cc_header = True
        self.merge_headers: dict[str, dict[str, Any]] = {}
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
        substitution_data = dict(self.send_params.get("merge_global_data", {}))
        substitution_data.update(self._merge_header_placeholders(headers))
        cc = self.send_params.get("cc", [])
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
        data = dict(self.for_recipient(self.send_params.get("merge_data"), address))
        for name, value in self.for_recipient(self.merge_headers, address).items():
            if value is not None:
                data[_substitution_key(name)] = str(value)
        return data

    def _build_recipients(self) -> list[dict[str, Any]]:
        to = self.send_params.get("to", [])
        copies = [*self.send_params.get("cc", []), *self.send_params.get("bcc", [])]
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
            # (SparkPost itself lays a recipient's metadata and substitution_data
            # over the transmission's.)
            if metadata := self.for_recipient(self.send_params.get("merge_metadata"), address):
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
        # SparkPost silently ignores these next to a stored template, too. They are
        # not in template_capabilities because a declaration refuses a feature
        # whatever its value and leaves it out: from_email is refused only when it
        # isn't Django's DEFAULT_FROM_EMAIL fallback, and cc addresses still get
        # the message (only the Cc header goes).
        if "from" in content:
            if not self._from_is_default():
                self.unsupported_feature(
                    "from_email with template_id (set the message's from_email to None "
                    "to use the template's From)"
                )
            del content["from"]
        if self.send_params.get("cc"):
            # The recipients still get the message, but not the Cc header.
            self.unsupported_feature("cc recipients (a visible Cc header) with template_id")
            self.show_cc_header = False

    def _from_is_default(self) -> bool:
        """Whether from_email is just Django's DEFAULT_FROM_EMAIL (EmailMessage's fallback)."""
        try:
            default = parse_address_list(get_django_setting("DEFAULT_FROM_EMAIL"))
        except AnymailInvalidAddress:
            return False
        return self.send_params.get("from_email") == default

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


API_KEY: Final = credential_setting("api_key", "a SparkPost API key (Account > API Keys)")
SUBACCOUNT: Final = Setting(
    "subaccount",
    SettingType("number"),
    "The SparkPost subaccount id to send as (the X-MSYS-SUBACCOUNT header).",
    default=None,
)


class EmailBackend(SparkPostAnswers[SparkPostPayload]):
    """``anymail.backends.sparkpost.EmailBackend``: SparkPost's Transmissions API."""

    esp_name = "SparkPost"
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
