"""SendGrid: the v3 Mail Send API (``POST {SENDGRID_API_URL}mail/send``, JSON).

Every send, batch or not, is one request. Recipients travel in
"personalizations": one holding every to/cc/bcc for an ordinary message, or one
per "to" address for a batch send (each with a copy of the cc and bcc lists).
SendGrid answers 202 with an empty body and no usable message id, so Anymail
generates a UUID per personalization and sends it as the ``anymail_id`` custom
arg; the tracking webhook reads it back as ``event.message_id``. How SendGrid
takes merge data and string-only values is in ``_sendgrid_values.py``.
"""

from __future__ import annotations

import contextlib
import copy
from typing import Any, Final
from uuid import uuid4

import requests
from django.core.mail import EmailMessage

from ..addresses import EmailAddress
from ..conf import (
    BOOL,
    Setting,
    SettingType,
    credential_setting,
    get_anymail_setting,
    get_bool,
    get_credential,
    get_setting,
)
from ..exceptions import (
    AnymailConfigurationError,
    AnymailError,
)
from ..message import AnymailRecipientStatus
from ..utils import Attachment, CaseInsensitiveDict, update_deep
from ._sendgrid_values import (
    merge_field_format_problem,
    merge_fields,
    string_values,
    warn_if_undelimited,
)
from ._split import BatchLimits
from .base import Capabilities
from .base_requests import JSON_HEADERS, AnymailRequestsBackend, RequestsPayload

#: The custom arg that carries Anymail's generated message id.
MESSAGE_ID_CUSTOM_ARG = "anymail_id"

# Content entries SendGrid requires first, in this order (anything else follows).
_CONTENT_ORDER = {"text/plain": 0, "text/html": 1}


class SendGridPayload(RequestsPayload):
    capabilities = Capabilities(
        # SendGrid has no per-message return path: personalizations[].from
        # only overrides the From header.
        envelope_sender=False,
        max_tags=10,  # categories: at most 10 per message
        alternatives=frozenset({"*"}),  # e.g. text/x-amp-html
        # Whether SendGrid delivers to or from non-ASCII local parts (SMTPUTF8)
        # is not established. Refusing them up front is the safer choice: the
        # caller learns about it now instead of from a lost or dropped message.
        # (IGNORE_UNSUPPORTED_FEATURES sends them anyway.)
        eai_from=False,
        eai_recipients=False,
    )

    # (Placed in personalizations once every feature is known.)
    read_from_send_params = frozenset(
        {"to", "cc", "bcc", "merge_data", "merge_global_data", "merge_metadata", "merge_headers"}
    )

    backend: EmailBackend

    def init_payload(self) -> None:
        self.headers.update({"Authorization": f"Bearer {self.backend.api_key}", **JSON_HEADERS})
        self.data: dict[str, Any] = {"personalizations": []}  # (filled in last; shown first)
        self.content: list[dict[str, str]] = []
        self.merge_field_format: str | None = self.backend.merge_field_format
        self.use_dynamic_template: bool | None = None  # None: decide from template_id
        self.extra_personalizations: dict[str, Any] | list[Any] | None = None
        #: addr_spec -> the anymail_id of the personalization that sends to it.
        self.recipient_message_ids: dict[str, str | None] = {}

    def get_api_endpoint(self) -> str:
        return "mail/send"

    def serialize_data(self) -> bytes:
        return self.serialize_json(self.data)

    # --- hooks ----------------------------------------------------------------

    def set_from_email(self, email: EmailAddress) -> None:
        self.data["from"] = email.as_dict()

    def set_subject(self, subject: str) -> None:
        # An empty subject is refused (minLength 1), and omitting it lets a
        # template supply its own.
        if subject:
            self.data["subject"] = subject

    def set_reply_to(self, emails: list[EmailAddress]) -> None:
        # reply_to_list takes one or many; never combined with reply_to.
        self.data["reply_to_list"] = [email.as_dict() for email in emails]

    def set_extra_headers(self, headers: CaseInsensitiveDict) -> None:
        self.data["headers"] = dict(headers.items())

    def set_text_body(self, body: str) -> None:
        self.content.append({"type": "text/plain", "value": body})

    def set_html_body(self, body: str) -> None:
        self.content.append({"type": "text/html", "value": body})

    def add_alternative(self, content: str, mimetype: str) -> None:
        self.content.append({"type": mimetype, "value": content})

    def add_attachment(self, attachment: Attachment) -> None:
        content, content_type = _utf8_attachment(attachment)
        entry = {
            "content": content,
            "type": content_type,
            "filename": attachment.filename,  # required by SendGrid's schema
        }
        if attachment.inline and attachment.content_id:
            entry["disposition"] = "inline"
            entry["content_id"] = attachment.content_id
        self.data.setdefault("attachments", []).append(entry)

    def set_metadata(self, metadata: dict[str, Any]) -> None:
        self.data["custom_args"] = string_values(metadata, "metadata")

    def set_tags(self, tags: list[str]) -> None:
        self.data["categories"] = tags

    def set_track_clicks(self, track_clicks: bool) -> None:
        update_deep(self.data, {"tracking_settings": {"click_tracking": {"enable": track_clicks}}})

    def set_track_opens(self, track_opens: bool) -> None:
        update_deep(self.data, {"tracking_settings": {"open_tracking": {"enable": track_opens}}})

    def set_send_at(self, send_at: Any) -> None:
        # Unix seconds (SendGrid has no sub-second scheduling).
        self.data["send_at"] = int(send_at.timestamp())

    def set_template_id(self, template_id: Any) -> None:
        self.data["template_id"] = template_id

    def set_esp_extra(self, extra: dict[str, Any]) -> None:
        extra = dict(extra)
        if "x-smtpapi" in extra:
            raise AnymailConfigurationError(
                "SendGrid esp_extra['x-smtpapi'] is the retired v2 API's format. Move its "
                "settings to the matching v3 Mail Send fields (e.g. custom_args, categories, "
                "asm, mail_settings, personalizations) in esp_extra."
            )
        if "merge_field_format" in extra:
            merge_field_format = extra.pop("merge_field_format")
            problem = merge_field_format_problem(merge_field_format)
            if problem:
                raise AnymailError(
                    f"Invalid SendGrid esp_extra['merge_field_format']: {problem}",
                    email_message=self.message,
                    payload=self,
                )
            self.merge_field_format = merge_field_format
        if "use_dynamic_template" in extra:
            self.use_dynamic_template = bool(extra.pop("use_dynamic_template"))
        if "personalizations" in extra:
            personalizations = extra.pop("personalizations")
            if not isinstance(personalizations, dict | list):
                raise AnymailError(
                    "SendGrid esp_extra['personalizations'] must be a dict (merged into "
                    "every personalization Anymail builds) or a list (sent instead of "
                    f"them), not {type(personalizations).__name__}.",
                    email_message=self.message,
                    payload=self,
                )
            self.extra_personalizations = personalizations
        update_deep(self.data, extra)

    # --- personalizations ---------------------------------------------------

    def finish_payload(self) -> None:
        """Assemble the body parts that need every feature known (after all hooks)."""
        if self.content and "content" not in self.data:  # (esp_extra's content wins)
            self.data["content"] = sorted(
                self.content, key=lambda part: _CONTENT_ORDER.get(part["type"], 2)
            )

        if isinstance(self.extra_personalizations, list):
            # The caller's own personalizations replace Anymail's entirely.
            personalizations = copy.deepcopy(self.extra_personalizations)
        else:
            personalizations = self._message_personalizations()
            if self.extra_personalizations:
                for personalization in personalizations:
                    update_deep(personalization, copy.deepcopy(self.extra_personalizations))

        for personalization in personalizations:
            message_id = None
            if self.backend.generate_message_id and isinstance(personalization, dict):
                custom_args = personalization.setdefault("custom_args", {})
                if isinstance(custom_args, dict):
                    custom_args.setdefault(MESSAGE_ID_CUSTOM_ARG, str(uuid4()))
                    message_id = custom_args[MESSAGE_ID_CUSTOM_ARG]
            self._record_recipients(personalization, message_id)
        self.data["personalizations"] = personalizations

    def _message_personalizations(self) -> list[dict[str, Any]]:
        params = self.send_params
        is_dynamic, field_format = self.use_dynamic_template, self.merge_field_format
        if is_dynamic is None:
            is_dynamic = str(self.data.get("template_id", "")).startswith("d-")
        if not is_dynamic and field_format is None:
            warn_if_undelimited(params)

        if not self.is_batch:
            personalization = self._recipients(params.get("to", []))
            personalization.update(merge_fields(params, {}, "", is_dynamic, field_format))
            return [personalization]

        # Batch: each "to" gets its own message (and its own copy of cc and bcc).
        personalizations = []
        to_list: list[EmailAddress | None] = [*params.get("to", [])] or [None]  # let SendGrid say
        for to in to_list:
            personalization = self._recipients([to] if to else [])
            addr_spec = to.addr_spec if to else ""
            recipient_data = self.for_recipient(params.get("merge_data"), to)
            personalization.update(
                merge_fields(params, recipient_data, addr_spec, is_dynamic, field_format)
            )
            # (SendGrid itself lays a personalization's custom_args over the message's.)
            if metadata := self.for_recipient(params.get("merge_metadata"), to):
                personalization["custom_args"] = string_values(
                    metadata, f"merge_metadata[{addr_spec!r}]"
                )
            if headers := self.for_recipient(params.get("merge_headers"), to):
                personalization["headers"] = string_values(headers, f"merge_headers[{addr_spec!r}]")
            personalizations.append(personalization)
        return personalizations

    def _recipients(self, to: list[EmailAddress]) -> dict[str, Any]:
        personalization: dict[str, Any] = {}
        cc, bcc = self.send_params.get("cc", []), self.send_params.get("bcc", [])
        for field, emails in (("to", to), ("cc", cc), ("bcc", bcc)):
            if emails:
                personalization[field] = [email.as_dict() for email in emails]
        return personalization

    def _record_recipients(self, personalization: Any, message_id: str | None) -> None:
        # A cc/bcc copied into several batch personalizations ends up with the
        # id of the last one.
        if not isinstance(personalization, dict):
            return
        for field in ("to", "cc", "bcc"):
            for recipient in personalization.get(field) or []:
                if isinstance(recipient, dict) and recipient.get("email"):
                    self.recipient_message_ids[str(recipient["email"])] = message_id


API_KEY: Final = credential_setting("api_key", 'a SendGrid API key with "Mail Send" permission')
GENERATE_MESSAGE_ID: Final = Setting(
    "generate_message_id",
    BOOL,
    "Send a UUID per message (custom arg anymail_id): anymail_status.message_id.",
    default=True,
)
MERGE_FIELD_FORMAT: Final = Setting(
    "merge_field_format",
    SettingType("str.format() pattern", lambda value, setting: merge_field_format_problem(value)),
    'How merge field names appear in your templates, e.g. "-{}-" (None: as given).',
    default=None,
)


class EmailBackend(AnymailRequestsBackend[SendGridPayload]):
    """Sends with SendGrid's v3 Mail Send API."""

    esp_name = "SendGrid"
    default_api_url = "https://api.sendgrid.com/v3/"
    declared_settings = (API_KEY, GENERATE_MESSAGE_ID, MERGE_FIELD_FORMAT)
    # 1000 personalizations, and 1000 recipients (to + cc + bcc) per request.
    batch_limits = BatchLimits(messages=1000, recipients=1000)

    def __init__(self, **kwargs: Any) -> None:
        esp_name = self.esp_name
        self._refuse_v2_credentials(kwargs)
        # Checked here (never shown): a stray space or line break would otherwise
        # fail later, inside requests, as an API error that fail_silently hides.
        self.api_key: str = get_credential(API_KEY, esp_name, kwargs)
        self.generate_message_id = get_bool(GENERATE_MESSAGE_ID, esp_name, kwargs)
        self.merge_field_format: str | None = get_setting(MERGE_FIELD_FORMAT, esp_name, kwargs)
        super().__init__(**kwargs)

    def _refuse_v2_credentials(self, kwargs: dict[str, Any]) -> None:
        # The v3 API only takes an API key. (Django's send_mail() passes
        # username=None and password=None to get_connection(): those mean "not set".)
        for name in ("username", "password"):
            given = kwargs.pop(name, None)
            configured = get_anymail_setting(
                name, default=None, esp_name=self.esp_name, allow_bare=True
            )
            if given is not None or configured is not None:
                found = f"a {name}= argument" if given is not None else f"SENDGRID_{name.upper()}"
                raise AnymailConfigurationError(
                    f"SendGrid's v3 API does not accept a username and password (found "
                    f"{found}). Remove SENDGRID_USERNAME and SENDGRID_PASSWORD, and set "
                    "SENDGRID_API_KEY to an API key with Mail Send permission instead."
                )

    def parse_recipient_status(
        self, response: requests.Response, payload: SendGridPayload, message: EmailMessage
    ) -> dict[str, AnymailRecipientStatus]:
        # A 202 has an empty body: SendGrid accepted (queued) every recipient.
        # It never refuses recipients at send time; they show up later as
        # "dropped" tracking events. (Its X-Message-Id header, one per request,
        # stays reachable in anymail_status.esp_response.headers.)
        return {
            email: AnymailRecipientStatus(message_id, "queued")
            for email, message_id in payload.recipient_message_ids.items()
        }


def _utf8_attachment(attachment: Attachment) -> tuple[str, str]:
    """Base64 content and content type, with text re-encoded as UTF-8.

    SendGrid drops or replaces a text attachment's charset parameter, so UTF-8
    (the most likely guess of any client) is the only safe encoding to send.
    """
    if not attachment.charset or not attachment.mimetype.startswith("text/"):
        return attachment.b64content, attachment.mimetype
    # (Not decodable as declared: sent untouched rather than garbled.)
    with contextlib.suppress(LookupError, UnicodeDecodeError):
        attachment = attachment.as_utf8()
    return attachment.b64content, f'{attachment.mimetype}; charset="{attachment.charset}"'
