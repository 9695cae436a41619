"""Postmark: sends through Postmark's HTTP email API.

One request per message. The endpoint depends on the message:

==================  ===========  ==========================================
template_id         batch        endpoint (body)
==================  ===========  ==========================================
no                  no           ``email`` (one message object)
no                  yes          ``email/batch`` (array, one per "to")
yes                 no           ``email/withTemplate`` (one message object)
yes                 yes          ``email/batchWithTemplates`` ({"Messages": [...]})
==================  ===========  ==========================================

A send is a batch when merge_data, merge_metadata or merge_headers is set (even
to ``{}``): every "to" recipient then gets a message of their own, and cc/bcc
are copied into each of them.

Postmark reports most refusals with HTTP 422 and an ``ErrorCode`` in the body;
reading the answers (and coalescing) is in ``_postmark_answers.py``.
"""

from __future__ import annotations

from typing import Any, Final

import requests
from django.core.mail import EmailMessage

from ..addresses import EmailAddress
from ..conf import credential_setting, get_credential, is_valid_credential
from ..exceptions import AnymailError
from ..utils import Attachment, CaseInsensitiveDict
from ._postmark_answers import DIGITS_RE, PostmarkAnswers
from ._split import BatchLimits
from .base import Capabilities
from .base_requests import JSON_HEADERS, RequestsPayload


class PostmarkPayload(RequestsPayload):
    """Translates a normalized message into Postmark's email API JSON."""

    capabilities = Capabilities(
        envelope_sender=False,  # the return path is configured per domain at Postmark
        send_at=False,
        max_tags=1,
        # Postmark validates mailboxes with an ASCII-only pattern (ErrorCode 300).
        # Refusing EAI here gives a clearer error than Postmark's.
        eai_from=False,
        eai_recipients=False,
        # Postmark silently ignores a TemplateModel on its non-template endpoints.
        # (An empty merge_data still asks for a batch send.)
        merge_data=False,
        merge_global_data=False,
    )
    template_capabilities = capabilities.replace(merge_data=True, merge_global_data=True)
    read_from_send_params = frozenset({"merge_data", "merge_metadata", "merge_headers"})

    backend: EmailBackend

    def init_payload(self) -> None:
        self.headers.update({**JSON_HEADERS, "X-Postmark-Server-Token": self.backend.server_token})
        self.data: dict[str, Any] = {}

    def finish_payload(self) -> None:
        self.batch = self.is_batch
        if self.batch and not self.send_params.get("to"):
            # Postmark's batch endpoints send one message per entry; with no "to"
            # there would be none. Ignoring this sends one message to the cc/bcc.
            self.unsupported_feature(
                "batch sending (merge_data, merge_metadata or merge_headers) "
                "without any 'to' recipients"
            )
            self.batch = False

    # --- request ------------------------------------------------------------

    def get_api_endpoint(self) -> str:
        if self.uses_template:
            return "email/batchWithTemplates" if self.batch else "email/withTemplate"
        return "email/batch" if self.batch else "email"

    def serialize_data(self) -> bytes:
        messages = self.wire_messages()
        if not self.batch:
            return self.serialize_json(messages[0])
        if self.uses_template:
            return self.serialize_json({"Messages": messages})
        return self.serialize_json(messages)

    def wire_messages(self) -> list[dict[str, Any]]:
        """The message object(s) this payload sends: one, or one per batch "to"."""
        base = dict(self.data)
        if self.uses_template:
            # Postmark refuses Subject/TextBody/HtmlBody with a template; Django's
            # default empty subject would trip that. Non-empty ones stay, so
            # Postmark reports the conflict rather than Anymail hiding it.
            for field in ("Subject", "TextBody", "HtmlBody"):
                if field in base and not base[field]:
                    del base[field]
            base.setdefault("TemplateModel", {})
        if not self.batch:
            return [base]
        return [self._batch_message(base, to) for to in self.send_params.get("to", [])]

    def _batch_message(self, base: dict[str, Any], to: EmailAddress) -> dict[str, Any]:
        message = dict(base)
        message["To"] = to.address
        if self.uses_template:
            model = self.for_recipient(self.send_params.get("merge_data"), to)
            message["TemplateModel"] = {**(base.get("TemplateModel") or {}), **model}
        metadata = self.for_recipient(self.send_params.get("merge_metadata"), to)
        if metadata:
            message["Metadata"] = {**(base.get("Metadata") or {}), **metadata}
        headers = self.for_recipient(self.send_params.get("merge_headers"), to)
        if headers:
            merged = CaseInsensitiveDict(_headers_from_postmark(base.get("Headers")))
            merged.update(headers)
            message["Headers"] = _headers_to_postmark(merged)
        return message

    # --- hooks ---------------------------------------------------------------

    def set_from_email(self, email: EmailAddress) -> None:
        self.data["From"] = email.address

    def set_recipients(self, recipient_type: str, emails: list[EmailAddress]) -> None:
        self.data[recipient_type.title()] = ", ".join(email.address for email in emails)

    def set_subject(self, subject: str) -> None:
        self.data["Subject"] = subject

    def set_reply_to(self, emails: list[EmailAddress]) -> None:
        self.data["ReplyTo"] = ", ".join(email.address for email in emails)

    def set_extra_headers(self, headers: CaseInsensitiveDict) -> None:
        self.data["Headers"] = _headers_to_postmark(headers)

    def set_text_body(self, body: str) -> None:
        self.data["TextBody"] = body

    def set_html_body(self, body: str) -> None:
        self.data["HtmlBody"] = body

    def add_attachment(self, attachment: Attachment) -> None:
        content_type = attachment.mimetype
        if attachment.charset and attachment.mimetype.startswith("text/"):
            # Postmark honours the charset of text attachments.
            content_type = f'{attachment.mimetype}; charset="{attachment.charset}"'
        item = {
            "Name": attachment.filename,
            "Content": attachment.b64content,
            "ContentType": content_type,
        }
        if attachment.inline and attachment.content_id:
            # Postmark wants the literal "cid:" prefix here. (An inline part without
            # a Content-ID can't be referenced: it goes as an ordinary attachment.)
            item["ContentID"] = attachment.cid
        self.data.setdefault("Attachments", []).append(item)

    def set_metadata(self, metadata: dict[str, Any]) -> None:
        self.data["Metadata"] = metadata

    def set_tags(self, tags: list[str]) -> None:
        # The base already refused (or trimmed) more than one tag.
        self.data["Tag"] = tags[0]

    def set_track_clicks(self, track_clicks: bool) -> None:
        # "HtmlOnly" and "TextOnly" are available through esp_extra["TrackLinks"].
        self.data["TrackLinks"] = "HtmlAndText" if track_clicks else "None"

    def set_track_opens(self, track_opens: bool) -> None:
        self.data["TrackOpens"] = track_opens

    def set_template_id(self, template_id: Any) -> None:
        # A number (or a string of digits) is a TemplateId; anything else is the
        # template's alias (not its name).
        if isinstance(template_id, int) and not isinstance(template_id, bool):
            self.data["TemplateId"] = template_id
        elif isinstance(template_id, str) and DIGITS_RE.fullmatch(template_id.strip()):
            self.data["TemplateId"] = int(template_id)
        else:
            self.data["TemplateAlias"] = str(template_id)

    def set_merge_global_data(self, merge_global_data: dict[str, Any]) -> None:
        self.data["TemplateModel"] = merge_global_data

    def set_esp_extra(self, extra: dict[str, Any]) -> None:
        # Postmark's rule: a shallow update of the message object (so it reaches
        # every batch message), except server_token, which authenticates this
        # one request instead of the backend's token.
        extra = dict(extra)
        if "server_token" in extra:
            token = extra.pop("server_token")
            if not is_valid_credential(token):
                raise self.error(
                    "Invalid Postmark esp_extra['server_token']: expected a server token, "
                    "a non-empty string without spaces or line breaks."
                )
            self.headers["X-Postmark-Server-Token"] = token
        self.data.update(extra)


SERVER_TOKEN: Final = credential_setting(
    "server_token", "a Postmark server token (copy it from your server's API Tokens tab)"
)


class EmailBackend(PostmarkAnswers[PostmarkPayload]):
    """Anymail's backend for Postmark's email API."""

    esp_name = "Postmark"
    default_api_url = "https://api.postmarkapp.com/"
    declared_settings = (SERVER_TOKEN,)
    # 500 messages per batch call (ErrorCode 410 beyond).
    batch_limits = BatchLimits(messages=500)

    def __init__(self, **kwargs: Any) -> None:
        self.server_token = get_credential(SERVER_TOKEN, self.esp_name, kwargs)
        super().__init__(**kwargs)

    def raise_for_status(
        self, response: requests.Response, payload: PostmarkPayload, message: EmailMessage
    ) -> None:
        # Postmark answers 422 for refused requests, including refused recipients
        # (ErrorCode 300/406), which parse_recipient_status turns into statuses.
        if response.status_code != 422:
            super().raise_for_status(response, payload, message)

    def describe_error(self, response: requests.Response, payload: PostmarkPayload) -> str:
        if response.status_code == 401:
            return (
                f"Postmark API error: HTTP 401 {response.reason or 'Unauthorized'}. "
                "Check your POSTMARK_SERVER_TOKEN setting (or the message's "
                "esp_extra['server_token']): it must be a server token, not an account token."
            )
        return super().describe_error(response, payload)


def _headers_to_postmark(headers: CaseInsensitiveDict) -> list[dict[str, str]]:
    return [{"Name": name, "Value": value} for name, value in headers.items()]


def _headers_from_postmark(headers: Any) -> list[tuple[str, str]]:
    if headers is None:
        return []
    try:
        return [(header["Name"], header["Value"]) for header in headers]
    except (KeyError, TypeError):
        raise AnymailError(
            "Postmark Headers (from esp_extra) must be a list of "
            '{"Name": ..., "Value": ...} objects to combine them with merge_headers.'
        ) from None
