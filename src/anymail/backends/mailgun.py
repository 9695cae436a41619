"""Mailgun: the v3 Messages API (``POST {api_url}/{sender_domain}/messages``).

The request is ``multipart/form-data`` authenticated with HTTP Basic auth
(user ``api``, password the API key). Repeated fields (``to``, ``o:tag``,
``attachment`` ...) are sent once per value.

Mailgun has no per-recipient message structure: batch sends use its
"recipient-variables" JSON (one message per ``to`` address), and custom data
(``v:`` fields), headers (``h:``) and stored-template variables are routed
through it with ``%recipient.<key>%`` placeholders. See ``MailgunPayload``.
That machinery (``_add_recipient_variables()`` and its helpers), which no other
ESP needs, is why this module is longer than the others.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Any, Final
from urllib.parse import quote

import requests
from django.core.mail import EmailMessage

from .._redact import url_without_userinfo
from ..addresses import EmailAddress, idna_encode_domain
from ..conf import STRING, Setting, credential_setting, get_credential, get_setting, invalid_setting
from ..exceptions import AnymailInvalidAddress
from ..message import AnymailRecipientStatus
from ..utils import Attachment, CaseInsensitiveDict, serialize_json
from ._split import BatchLimits
from .base import Capabilities
from .base_requests import AnymailRequestsBackend, RequestsPayload, http_status

#: The part of Mailgun's API home page that a request to a mangled URL gets (with a 200).
_API_HOME_PAGE_TEXT = b"Mailgun Magnificent API"

#: Form fields (name -> values), recipient-variables (addr_spec -> variables),
#: and per-recipient send params (merge_data ...).
_Fields = dict[str, list[str]]
_Variables = dict[str, dict[str, Any]]
_PerRecipient = Mapping[str, Mapping[str, Any]]

#: The alternative part type Mailgun accepts besides text/html, and its form field.
_AMP_MIMETYPE = "text/x-amp-html"


class MailgunPayload(RequestsPayload):
    """Builds the Messages API form.

    The hooks fill ``self.fields`` (form field name -> list of values, in
    order) and ``self.file_parts``; then, once every hook has run, the payload
    adds what depends on several features at once (recipient-variables and the
    ``%recipient.x%`` indirections) and applies ``esp_extra`` last, so that a
    problem is reported before anything is sent. The result is ``self.form``.
    """

    capabilities = Capabilities(
        multiple_from=True,
        alternatives=frozenset({_AMP_MIMETYPE}),
        # Mailgun writes a From header that can't be delivered for a non-ASCII
        # local part. (EAI recipients are delivered, though their headers may look odd.)
        eai_from=False,
        send_at_str=True,
    )

    # The merge features go in recipient-variables once every hook has run. (Mailgun
    # builds its own return path: envelope_sender only selects the sender domain.)
    read_from_send_params = frozenset(
        {"envelope_sender", "merge_metadata", "merge_headers", "merge_data", "merge_global_data"}
    )

    backend: EmailBackend

    def init_payload(self) -> None:
        self.fields: dict[str, list[str]] = {}
        self.file_parts: list[tuple[str, tuple[str, bytes, str]]] = []
        self.esp_extra_fields: dict[str, Any] = {}
        self.esp_extra_sender_domain: Any = None
        self.auth = ("api", self.backend.api_key)

    def finish_payload(self) -> None:
        self.sender_domain, self.sender_domain_source = self._find_sender_domain()
        # Everything goes in `files`, so that requests always sends multipart/form-data
        # (a (None, value) entry is an ordinary form field).
        self.form = self.files = self._build_form()

    # --- sender domain ------------------------------------------------------

    def _find_sender_domain(self) -> tuple[str, str]:
        """The domain for the API URL, and where it came from (for error messages).

        Precedence: esp_extra["sender_domain"], envelope_sender's domain, the
        MAILGUN_SENDER_DOMAIN setting, the (first) from_email's domain.
        """
        envelope_sender = self.send_params.get("envelope_sender")
        from_email = self.send_params.get("from_email")
        for source, domain in (
            ("esp_extra['sender_domain']", self.esp_extra_sender_domain),
            ("envelope_sender", envelope_sender.domain if envelope_sender is not None else None),
            ("the MAILGUN_SENDER_DOMAIN setting", self.backend.sender_domain or None),
            ("from_email", from_email[0].domain if from_email else None),
        ):
            if domain is not None:
                return self._checked_domain(domain, source), source
        raise self.error(
            "Mailgun needs a sender domain for its API URL, but the message has no "
            "from_email or envelope_sender to take it from. Set MAILGUN_SENDER_DOMAIN, "
            "or give the message an envelope_sender (only its domain is used)."
        )

    def _checked_domain(self, domain: Any, source: str) -> str:
        if not isinstance(domain, str) or not domain.strip():
            raise self.error(
                f"Invalid Mailgun sender domain {domain!r} in {source}: expected a domain "
                'name like "mg.example.com".'
            )
        domain = domain.strip()
        # A slash (even percent-encoded) would change the API path: Mailgun then
        # answers 200 with its home page, and nothing is sent.
        if "/" in domain or "%2f" in domain.lower() or "@" in domain or "\\" in domain:
            raise self.error(
                f"Invalid Mailgun sender domain {domain!r} in {source}: use just the domain "
                'name, like "mg.example.com" (no "/", "@" or URL parts).'
            )
        try:
            # Mailgun lists domains by their ASCII form.
            return idna_encode_domain(domain)
        except AnymailInvalidAddress as err:
            raise self.error(f"Invalid Mailgun sender domain in {source}: {err}") from None

    def get_api_url(self, api_url: str) -> str:
        return f"{api_url.rstrip('/')}/{quote(self.sender_domain, safe='')}/messages"

    # --- request ----------------------------------------------------------------

    def _build_form(self) -> list[tuple[str, Any]]:
        """The multipart parts: ``(name, (None, value))`` fields, then the files."""
        fields = {name: list(values) for name, values in self.fields.items()}
        self._add_recipient_variables(fields)
        self._apply_esp_extra(fields)
        parts: list[tuple[str, Any]] = [
            (name, (None, value)) for name, values in fields.items() for value in values
        ]
        parts.extend(self.file_parts)
        return parts

    def _set(self, name: str, *values: str) -> None:
        self.fields[name] = list(values)

    def _add(self, name: str, value: str) -> None:
        self.fields.setdefault(name, []).append(value)

    # --- hooks --------------------------------------------------------------------

    def set_from_email(self, email: EmailAddress) -> None:
        self._set("from", email.address)

    def set_from_email_list(self, emails: list[EmailAddress]) -> None:
        self._set("from", *(email.address for email in emails))

    def set_recipients(self, recipient_type: str, emails: list[EmailAddress]) -> None:
        for email in emails:
            self._add(recipient_type, email.address)

    def set_subject(self, subject: str) -> None:
        self._set("subject", subject)

    def set_reply_to(self, emails: list[EmailAddress]) -> None:
        self._set("h:Reply-To", ", ".join(email.address for email in emails))

    def set_extra_headers(self, headers: CaseInsensitiveDict) -> None:
        for name, value in headers.items():
            self._set(f"h:{name}", value)

    def set_text_body(self, body: str) -> None:
        self._set("text", body)

    def set_html_body(self, body: str) -> None:
        self._set("html", body)

    def add_alternative(self, content: str, mimetype: str) -> None:
        # The base only passes the declared type (AMP) through.
        if "amp-html" in self.fields:
            self.unsupported_feature("multiple AMP html parts")
            return
        self._set("amp-html", content)

    def add_attachment(self, attachment: Attachment) -> None:
        if attachment.inline and not attachment.content_id:
            # Mailgun takes an inline part's Content-ID from its filename. When
            # ignoring this, the file still goes out, as an ordinary attachment.
            self.unsupported_feature("inline attachments without Content-ID")
        if attachment.inline and attachment.content_id:
            self.file_parts.append(
                ("inline", (attachment.content_id, attachment.content, attachment.content_type))
            )
        else:
            # Mailgun silently drops an attachment without a filename.
            self.file_parts.append(
                ("attachment", (attachment.filename, attachment.content, attachment.content_type))
            )

    def set_metadata(self, metadata: dict[str, Any]) -> None:
        for key, value in metadata.items():
            self._set(f"v:{key}", self._custom_data_value(value, f"metadata[{key!r}]"))

    def set_tags(self, tags: list[str]) -> None:
        for tag in tags:
            self._add("o:tag", tag)

    def set_track_clicks(self, track_clicks: bool) -> None:
        self._set("o:tracking-clicks", "yes" if track_clicks else "no")

    def set_track_opens(self, track_opens: bool) -> None:
        self._set("o:tracking-opens", "yes" if track_opens else "no")

    def set_send_at(self, send_at: datetime | str) -> None:
        # RFC 2822 date, e.g. "Fri, 14 Oct 2011 12:00:00 +0000"
        if not isinstance(send_at, str):
            send_at = format_datetime(send_at.astimezone(UTC))
        self._set("o:deliverytime", send_at)

    def set_template_id(self, template_id: Any) -> None:
        self._set("template", str(template_id))

    def set_esp_extra(self, extra: dict[str, Any]) -> None:
        # Mailgun's rule: a shallow update of the form fields, applied after
        # everything else (at serialize time). "sender_domain" is not a field.
        extra = dict(extra)
        self.esp_extra_sender_domain = extra.pop("sender_domain", None)
        self.esp_extra_fields = extra

    # --- serialize-time features ------------------------------------------------

    def _custom_data_value(self, value: Any, field: str) -> str:
        """A ``v:`` custom data value: strings as they are, anything else as JSON."""
        if isinstance(value, str):
            return value
        return _json(value, field)

    def _add_recipient_variables(self, fields: dict[str, list[str]]) -> None:
        """recipient-variables (batch sending) and the fields that refer to it.

        - merge_data and merge_global_data go to each ``to`` address's entry
          (globals copied per recipient: Mailgun has no global channel), except
          that a stored template with merge_global_data but no merge_data gets
          them as ``t:variables`` and stays a single (non-batch) message. With a
          template and merge_data, each merge key K is also sent as custom data
          ``v:K=%recipient.K%``, which is how Mailgun's template engine sees
          per-recipient values.
        - merge_metadata key K becomes ``v:K=%recipient.v:K%``, with a ``v:K``
          entry for every ``to`` address (its own value, else metadata[K], else "").
        - merge_headers name N becomes ``h:N=%recipient.h:N%``, likewise
          defaulting to the extra_headers value, else "".
        """
        params = self.send_params
        to = params.get("to", [])
        merge_data: dict[str, dict[str, Any]] | None = params.get("merge_data")
        merge_global_data: dict[str, Any] = params.get("merge_global_data") or {}

        if self.uses_template and merge_data is None and merge_global_data:
            fields["t:variables"] = [_json(merge_global_data, "merge_global_data")]
        merge_in_recipient_variables = merge_data is not None or (
            bool(merge_global_data) and not self.uses_template
        )
        if not (self.is_batch or merge_in_recipient_variables):
            return

        variables: dict[str, dict[str, Any]] = {email.addr_spec: {} for email in to}
        if merge_in_recipient_variables:
            self._add_merge_data(fields, variables, merge_data or {}, merge_global_data)
        if "merge_metadata" in params:
            self._add_merge_metadata(fields, variables, params["merge_metadata"])
        if "merge_headers" in params:
            self._add_merge_headers(fields, variables, params["merge_headers"])
        fields["recipient-variables"] = [_json(variables, "merge_data")]

    def _add_merge_data(
        self,
        fields: _Fields,
        variables: _Variables,
        merge_data: _PerRecipient,
        merge_global_data: Mapping[str, Any],
    ) -> None:
        keys = {**dict.fromkeys(merge_global_data), **_keys(merge_data)}
        for email in self.send_params.get("to", []):
            entry = variables[email.addr_spec]
            entry.update(dict.fromkeys(keys, ""))
            entry.update(merge_global_data)
            entry.update(self.for_recipient(merge_data, email))
        if not self.uses_template:
            return

        # Mailgun's template engine only gets per-recipient values through
        # custom data (v:K) that refers to recipient-variables, and only as strings.
        values = [(key, value) for entry in variables.values() for key, value in entry.items()]
        nested = sorted({key for key, value in values if isinstance(value, dict | list | tuple)})
        if nested:
            self.unsupported_feature(
                f"nested (dict or list) merge_data values with template_id "
                f"(keys {', '.join(map(repr, nested))})"
            )
            for entry in variables.values():
                for key in nested:
                    if isinstance(entry.get(key), dict | list | tuple):
                        entry[key] = ""
        metadata_keys = {
            *self.send_params.get("metadata", {}),
            *_keys(self.send_params.get("merge_metadata", {})),
        }
        conflicts = [key for key in keys if key in metadata_keys]
        if conflicts:
            # Both would be the same Mailgun custom data field v:K.
            self.unsupported_feature(
                "conflicting merge_data and metadata keys "
                f"({', '.join(map(repr, conflicts))}) when using template_id"
            )
        for key in keys:
            if key not in metadata_keys:
                fields[f"v:{key}"] = [f"%recipient.{key}%"]

    def _add_merge_metadata(
        self, fields: _Fields, variables: _Variables, merge_metadata: _PerRecipient
    ) -> None:
        metadata = self.send_params.get("metadata", {})
        for key in _keys(merge_metadata):
            # The custom data field is plain K (webhooks see it unprefixed); the
            # "v:" in the recipient variable only keeps it apart from merge_data keys.
            fields[f"v:{key}"] = [f"%recipient.v:{key}%"]
            for email in self.send_params.get("to", []):
                own = self.for_recipient(merge_metadata, email)
                value = own[key] if key in own else metadata.get(key, "")
                variables[email.addr_spec][f"v:{key}"] = self._custom_data_value(
                    value, f"merge_metadata[{email.addr_spec!r}][{key!r}]"
                )

    def _add_merge_headers(
        self, fields: _Fields, variables: _Variables, merge_headers: _PerRecipient
    ) -> None:
        names: CaseInsensitiveDict = CaseInsensitiveDict()
        for name in _keys(merge_headers):
            names.setdefault(name, name)
        for name in names.values():
            default = ""
            for field in [f for f in fields if f.lower() == f"h:{name}".lower()]:
                default = fields.pop(field)[-1]
            fields[f"h:{name}"] = [f"%recipient.h:{name}%"]
            for email in self.send_params.get("to", []):
                own = CaseInsensitiveDict(self.for_recipient(merge_headers, email))
                value = own.get(name, default)
                variables[email.addr_spec][f"h:{name}"] = str(value)

    def _apply_esp_extra(self, fields: dict[str, list[str]]) -> None:
        """Shallow update: each esp_extra key replaces that form field (None removes it).

        A list sends the field once per item; a dict is sent as JSON (e.g.
        "t:variables"); True/False become "yes"/"no".
        """
        for name, value in self.esp_extra_fields.items():
            if value is None:
                fields.pop(name, None)
            elif isinstance(value, list | tuple):
                fields[name] = [self._esp_extra_value(item, name) for item in value]
            else:
                fields[name] = [self._esp_extra_value(value, name)]

    def _esp_extra_value(self, value: Any, name: str) -> str:
        if isinstance(value, bool):
            return "yes" if value else "no"
        if isinstance(value, str):
            return value
        if isinstance(value, int | float):
            return str(value)
        return _json(value, f"esp_extra[{name!r}]")


def _keys(per_recipient: _PerRecipient) -> dict[str, None]:
    """Every key of any recipient's data, in order."""
    return {key: None for values in per_recipient.values() for key in values or {}}


def _json(value: Any, field: str) -> str:
    # Mailgun's form fields are UTF-8: no need for \u escapes.
    return serialize_json(value, field, ensure_ascii=False)


API_KEY: Final = credential_setting("api_key", "a Mailgun API key or domain sending key")
# Bare MAILGUN_SENDER_DOMAIN is accepted too, as the public release does.
SENDER_DOMAIN: Final = Setting(
    "sender_domain",
    STRING,
    "The Mailgun domain to send from, when it isn't the from_email's domain.",
    default=None,
    bare=True,
)


class EmailBackend(AnymailRequestsBackend[MailgunPayload]):
    """``anymail.backends.mailgun.EmailBackend``: sends through Mailgun's Messages API."""

    esp_name = "Mailgun"
    default_api_url = "https://api.mailgun.net/v3"
    declared_settings = (API_KEY, SENDER_DOMAIN)
    # 1000 recipients per batch send. Whether the cc/bcc copies count is not
    # documented: they do here (the smaller calls are always accepted).
    batch_limits = BatchLimits(messages=1000, recipients=1000)

    def __init__(self, **kwargs: Any) -> None:
        esp_name = self.esp_name
        # Checked here (never shown): requests can't encode a non-Latin-1 password
        # for Basic auth, and a stray space or line break only earns a 401 later.
        self.api_key: str = get_credential(API_KEY, esp_name, kwargs)
        self.sender_domain: str | None = get_setting(SENDER_DOMAIN, esp_name, kwargs)
        if self.sender_domain is not None and not isinstance(self.sender_domain, str):
            raise invalid_setting(
                "sender_domain", esp_name, "expected a domain name string, or None."
            )
        super().__init__(**kwargs)
        api_url = self.api_url.rstrip("/")
        if not api_url.startswith(("https://", "http://")):
            raise invalid_setting(
                "api_url", esp_name, 'expected a URL like "https://api.mailgun.net/v3".'
            )
        if api_url.endswith("/messages"):
            raise invalid_setting(
                "api_url",
                esp_name,
                "it must be Mailgun's API base URL, without the sender domain or "
                '"/messages" (e.g. "https://api.eu.mailgun.net/v3"): Anymail adds those.',
            )
        self.api_url = api_url

    def raise_for_status(
        self, response: requests.Response, payload: MailgunPayload, message: EmailMessage
    ) -> None:
        # A mangled URL reaches the API's home page, which answers 200.
        if 200 <= response.status_code < 300 and _API_HOME_PAGE_TEXT in response.content[:4096]:
            raise self.api_error(
                f"Mailgun answered with its API home page instead of sending the message: "
                f"the request URL {url_without_userinfo(response.request.url or '')} is not "
                "the Messages API. "
                "Check MAILGUN_API_URL (Mailgun's base URL, e.g. "
                '"https://api.mailgun.net/v3", without the sender domain) and the '
                f"sender domain {payload.sender_domain!r} "
                f"(from {payload.sender_domain_source}).",
                response,
                payload,
                message,
            )
        super().raise_for_status(response, payload, message)

    def describe_error(self, response: requests.Response, payload: MailgunPayload) -> str:
        # (AnymailError adds Mailgun's own error text from the response.)
        text = f"Mailgun API error: {http_status(response)}."
        hint = self._error_hint(response.status_code, payload)
        return f"{text}\n{hint}" if hint else text

    def _error_hint(self, status: int, payload: MailgunPayload) -> str:
        if status in (401, 403):
            return (
                "Check MAILGUN_API_KEY: it must be a Mailgun API key, or a sending key for "
                f"the sender domain {payload.sender_domain!r}, from the same region as "
                f"MAILGUN_API_URL ({url_without_userinfo(self.api_url)})."
            )
        if status == 404:
            return (
                f"The sender domain {payload.sender_domain!r} (from "
                f"{payload.sender_domain_source}) must be a domain of your Mailgun account, "
                f"in the region of MAILGUN_API_URL ({url_without_userinfo(self.api_url)}); "
                'EU domains need "https://api.eu.mailgun.net/v3". Set MAILGUN_SENDER_DOMAIN, '
                "or the message's envelope_sender, if it differs from the from_email domain."
            )
        return ""

    def parse_recipient_status(
        self, response: requests.Response, payload: MailgunPayload, message: EmailMessage
    ) -> dict[str, AnymailRecipientStatus]:
        data = self.deserialize_json_response(response, payload, message)
        message_id = data.get("id") if isinstance(data, dict) else None
        queued = data.get("message") if isinstance(data, dict) else None
        if (
            not isinstance(message_id, str)
            or not isinstance(queued, str)
            or not queued.startswith("Queued")
        ):
            raise self.api_error(
                'Invalid/unrecognized Mailgun API response: expected an id and a "Queued" message.',
                response,
                payload,
                message,
            )
        # Mailgun queues the whole call (one id, even for a batch send) and
        # reports per-recipient problems only later, through webhooks.
        return payload.statuses_for_all(message_id, "queued")
