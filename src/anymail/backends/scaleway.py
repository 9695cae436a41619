"""Scaleway Transactional Email (TEM): sends through TEM's REST API.

One request per message: ``POST {api_url}emails`` with a JSON body, authenticated
by the ``X-Auth-Token`` header (an IAM API *secret* key). The API URL contains the
Scaleway region; the project ID goes in every request body.

TEM has no batch sending, templates, scheduling or open/click tracking, and no
field for headers such as Reply-To: Reply-To, extra headers, tags (``X-Tags``)
and metadata (``X-Metadata``) all travel in its ``additional_headers`` list.

The answer lists one ``Email`` object per recipient (to, cc and bcc alike), each
with its own ``id``: that id is Anymail's per-recipient message_id. TEM refuses
no recipient at send time (problems are reported later), so a send is never
"all recipients refused".
"""

from __future__ import annotations

from typing import Any, ClassVar, Final
from urllib.parse import quote

import requests
from django.core.mail import EmailMessage

from .._mime import one_line_address
from ..addresses import EmailAddress
from ..conf import STRING, Setting, credential_setting, get_credential, get_setting, invalid_setting
from ..exceptions import AnymailRequestsAPIError, AnymailUnsupportedFeature
from ..message import AnymailRecipientStatus
from ..utils import Attachment, CaseInsensitiveDict, serialize_json
from .base import BasePayload, Capabilities
from .base_requests import (
    API_URL,
    JSON_HEADERS,
    AnymailRequestsBackend,
    RequestsPayload,
    http_status,
)

#: The API URL's default; ``{region}`` is replaced with the SCALEWAY_REGION setting.
DEFAULT_API_URL: Final = "https://api.scaleway.com/transactional-email/v1alpha1/regions/{region}/"
DEFAULT_REGION: Final = "fr-par"


#: TEM's send statuses, as Anymail statuses. The send call itself normally
#: answers "new" or "sending"; anything unrecognized is "unknown".
_STATUS_MAP: Final = {
    "new": "queued",
    "sending": "queued",
    "sent": "sent",
    "failed": "failed",
    "canceled": "failed",
}

#: TEM refuses a subject, text body or HTML body shorter than this.
MIN_CONTENT_LENGTH: Final = 10


class ScalewayPayload(RequestsPayload):
    """Translates a normalized message into TEM's CreateEmailRequest JSON."""

    capabilities = Capabilities(
        envelope_sender=False,
        merge_metadata=False,  # no batch sending
        merge_headers=False,
        track_clicks=False,  # TEM has no open or click tracking
        track_opens=False,
        send_at=False,  # TEM's send_before is an expiry, not a scheduled time
        template_id=False,
        merge_data=False,
        merge_global_data=False,
        inline_images=False,  # no Content-ID field for attachments
        # TEM accepts EAI addresses but builds a message that is then lost or
        # bounces inside Scaleway: refuse them before calling the API.
        eai_from=False,
        eai_recipients=False,
    )

    #: The minimum length TEM enforces on subject and bodies (see _check_min_length).
    #: A class attribute so it can be changed without a new release if TEM changes it.
    min_content_length: ClassVar[int] = MIN_CONTENT_LENGTH

    backend: EmailBackend

    def init_payload(self) -> None:
        self.headers.update({**JSON_HEADERS, "X-Auth-Token": self.backend.secret_key})
        self.data: dict[str, Any] = {"project_id": self.backend.project_id}
        # The four sources of additional_headers, kept apart so none overwrites
        # another; serialize_data() combines them.
        self.extra_headers: list[tuple[str, str]] = []
        self.reply_to_header: str | None = None
        self.tags_header: str | None = None
        self.metadata_header: str | None = None
        self.esp_extra: dict[str, Any] = {}

    def get_api_endpoint(self) -> str:
        return "emails"

    def serialize_data(self) -> bytes:
        data = dict(self.data)
        generated = [
            ("Reply-To", self.reply_to_header),
            ("X-Tags", self.tags_header),
            ("X-Metadata", self.metadata_header),
        ]
        generated_names = {name.lower() for name, value in generated if value is not None}
        # A header Anymail builds from reply_to, tags or metadata replaces an extra
        # header of the same name: two X-Metadata headers would confuse any reader.
        headers = [
            {"key": name, "value": value}
            for name, value in self.extra_headers
            if name.lower() not in generated_names
        ]
        headers += [{"key": name, "value": value} for name, value in generated if value is not None]
        if headers:
            data["additional_headers"] = headers
        # esp_extra: a shallow update of the top-level request (see set_esp_extra).
        data.update(self.esp_extra)
        return self.serialize_json(data)

    # --- quirks --------------------------------------------------------------

    def _check_min_length(self, field: str, value: str, article: str = "a") -> None:
        """TEM answers HTTP 400 for a subject or body under 10 characters: say so first.

        Scaleway doesn't document how it counts (characters or UTF-8 bytes,
        whitespace or not), so this refuses only what is short by every count:
        fewer than 10 UTF-8 bytes, whitespace included. Anything longer is left
        to the API. With IGNORE_UNSUPPORTED_FEATURES the message is sent as it
        is, and TEM decides.
        """
        minimum = self.min_content_length
        if len(value.encode("utf-8")) >= minimum:
            return
        feature = f"{article} {field} shorter than {minimum} characters"
        if self.backend.ignore_unsupported_features:
            self.unsupported_feature(feature)  # only records it
            return
        raise self.error(
            f"{self.esp_name} does not support {feature}: its API refuses the message "
            f"(the {field} has {len(value)}). Make it longer, or set ANYMAIL "
            "IGNORE_UNSUPPORTED_FEATURES to True to send it anyway and let TEM decide.",
            AnymailUnsupportedFeature,
        )

    # --- hooks ---------------------------------------------------------------

    def set_from_email(self, email: EmailAddress) -> None:
        self.data["from"] = email.as_dict()

    def set_recipients(self, recipient_type: str, emails: list[EmailAddress]) -> None:
        self.data[recipient_type] = [email.as_dict() for email in emails]

    def set_subject(self, subject: str) -> None:
        if subject:
            self._check_min_length("subject", subject)
            self.data["subject"] = subject

    def set_reply_to(self, emails: list[EmailAddress]) -> None:
        # TEM sends our header as is (and takes it as one line), so a non-ASCII
        # display name must be RFC 2047-encoded here.
        self.reply_to_header = ", ".join(one_line_address(email) for email in emails)

    def set_extra_headers(self, headers: CaseInsensitiveDict) -> None:
        # Non-ASCII values are sent as they are: TEM encodes them itself.
        self.extra_headers = [(str(name), str(value)) for name, value in headers.items()]

    def set_text_body(self, body: str) -> None:
        self._check_min_length("text body", body)
        self.data["text"] = body

    def set_html_body(self, body: str) -> None:
        self._check_min_length("HTML body", body, article="an")
        self.data["html"] = body

    def add_attachment(self, attachment: Attachment) -> None:
        self.data.setdefault("attachments", []).append(
            {
                "name": attachment.filename,  # required by TEM's schema (not null)
                # content_type keeps a text attachment's charset parameter.
                "type": attachment.content_type,
                "content": attachment.b64content,
            }
        )

    def set_metadata(self, metadata: dict[str, Any]) -> None:
        # A plain header: visible to recipients (documented).
        self.metadata_header = serialize_json(metadata, "metadata")

    def set_tags(self, tags: list[str]) -> None:
        self.tags_header = serialize_json(tags, "tags")

    def set_esp_extra(self, extra: dict[str, Any]) -> None:
        # TEM's rule (as in Anymail's public release): a shallow update of the
        # top-level request, e.g. {"send_before": "2026-08-13T02:22:00Z"}. A key
        # given here replaces Anymail's value for it as a whole.
        self.esp_extra = extra


SECRET_KEY: Final = credential_setting(
    "secret_key", "a Scaleway IAM API secret key (the secret key, not the SCW... access key)"
)
# Never a bare setting: SCALEWAY_PROJECT_ID at the settings root is ignored.
PROJECT_ID: Final = Setting(
    "project_id", STRING, "Your Scaleway Project ID (Project Dashboard in Scaleway's console)."
)
REGION: Final = Setting(
    "region", STRING, "The Scaleway region TEM sends from.", default=DEFAULT_REGION
)


class EmailBackend(AnymailRequestsBackend[ScalewayPayload]):
    """Anymail's backend for Scaleway Transactional Email (TEM)."""

    esp_name = "Scaleway"  # as in signals and errors; the settings are SCALEWAY_*
    default_api_url = DEFAULT_API_URL
    declared_settings = (SECRET_KEY, PROJECT_ID, REGION)

    def __init__(self, **kwargs: Any) -> None:
        esp = self.esp_name
        self.secret_key = get_credential(SECRET_KEY, esp, kwargs)
        self.project_id: str = get_setting(PROJECT_ID, esp, kwargs)
        if not isinstance(self.project_id, str) or not self.project_id.strip():
            raise invalid_setting(
                "project_id",
                esp,
                "expected your Scaleway Project ID as a non-empty string "
                "(Project Dashboard in Scaleway's console).",
            )
        region = get_setting(REGION, esp, kwargs)
        if not isinstance(region, str) or not region.strip():
            raise invalid_setting(
                "region", esp, f"expected a Scaleway region such as {DEFAULT_REGION!r}."
            )
        self.region: str = region.strip()
        api_url = get_setting(API_URL, esp, kwargs, default=self.default_api_url)
        super().__init__(api_url=self._resolve_api_url(api_url), **kwargs)

    def _resolve_api_url(self, api_url: Any) -> str:
        esp = self.esp_name
        if not isinstance(api_url, str) or not api_url.strip():
            raise invalid_setting("api_url", esp, "expected the base URL of TEM's API.")
        api_url = api_url.strip().replace("{region}", quote(self.region, safe=""))
        if not api_url.endswith("/"):
            api_url += "/"
        if api_url.endswith("/emails/"):
            raise invalid_setting(
                "api_url",
                esp,
                "leave out the final 'emails' (Anymail adds the endpoint itself); "
                f"the default is {DEFAULT_API_URL!r}.",
            )
        return api_url

    def describe_error(self, response: requests.Response, payload: ScalewayPayload) -> str:
        text = f"{self.esp_name} API error: {http_status(response)}"
        described = _describe_error(self.error_json(response))
        if described:
            text += f": {described}"
        hint = _ERROR_HINTS.get(response.status_code)
        return f"{text}.{f' {hint}' if hint else ''}"

    def parse_recipient_status(
        self, response: requests.Response, payload: ScalewayPayload, message: EmailMessage
    ) -> dict[str, AnymailRecipientStatus]:
        data = self.deserialize_json_response(response, payload, message)
        emails = data.get("emails") if isinstance(data, dict) else None
        if not isinstance(emails, list):
            raise self._invalid_response("expected an 'emails' list", response, payload, message)
        # Key statuses by the addresses as sent, even if TEM changes their case.
        sent = {
            recipient.addr_spec.lower(): recipient.addr_spec for recipient in payload.all_recipients
        }
        statuses = payload.statuses_for_all(None, "unknown")
        for email in emails:
            if not isinstance(email, dict):
                raise self._invalid_response(
                    "each 'emails' item must be an object", response, payload, message
                )
            # mail_rcpt is current; rcpt_to is its deprecated, older name.
            address = email.get("mail_rcpt") or email.get("rcpt_to")
            email_id = email.get("id")
            if not isinstance(address, str) or not address:
                raise self._invalid_response(
                    "an 'emails' item has no 'mail_rcpt'", response, payload, message
                )
            if not isinstance(email_id, str) or not email_id:
                raise self._invalid_response(
                    "an 'emails' item has no 'id'", response, payload, message
                )
            status = _STATUS_MAP.get(str(email.get("status", "")).lower(), "unknown")
            statuses[sent.get(address.lower(), address)] = AnymailRecipientStatus(email_id, status)
        return statuses

    def _invalid_response(
        self,
        problem: str,
        response: requests.Response,
        payload: BasePayload,
        message: EmailMessage,
    ) -> AnymailRequestsAPIError:
        return self.api_error(
            f"Invalid response from {self.esp_name} API: {problem}.", response, payload, message
        )


#: What to check, for the errors whose cause is usually in the settings.
_ERROR_HINTS: Final = {
    401: "Check your SCALEWAY_SECRET_KEY setting: it must be an IAM API secret key "
    "(not the SCW... access key).",
    403: "The API key needs the TransactionalEmailEmailApiCreate permission on the "
    "project in your SCALEWAY_PROJECT_ID setting.",
    404: "Check your SCALEWAY_REGION and SCALEWAY_API_URL settings.",
}


def _describe_error(data: Any) -> str:
    """TEM's error ``message`` and its ``details``, in one line ("" if not JSON)."""
    if not isinstance(data, dict) or not isinstance(data.get("message"), str):
        return ""
    text = data["message"]
    details = data.get("details")
    if isinstance(details, list):
        described = [_describe_detail(detail) for detail in details]
        described = [item for item in described if item]
        if described:
            text += f" ({'; '.join(described)})"
    return text


def _describe_detail(detail: Any) -> str:
    if not isinstance(detail, dict):
        return ""
    if "argument_name" in detail:  # invalid_arguments
        explanation = detail.get("help_message") or detail.get("reason")
        name = detail["argument_name"]
        return f"{name}: {explanation}" if explanation else str(name)
    if "resource" in detail:  # permissions_denied
        return f"{detail.get('action', '')} {detail['resource']}".strip()
    return ""
