"""Amazon SES: sends through the SES v2 API with boto3's ``sesv2`` client.

Two API calls, chosen by the message:

- ``send_email`` with ``Content.Raw``, for every message without a template_id.
  The MIME comes from Django's own ``message.message()``, so everything Django
  can put in a message (alternatives, attachments, inline images, custom
  headers, a spoofed To) reaches SES. Anymail re-encodes it 7-bit clean
  (SES corrupts 8-bit parts when it rewrites bodies for open/click tracking),
  adds metadata and tags as ``X-Metadata`` / ``X-Tag`` headers, and lists the
  envelope recipients (including bcc, which never appears in the MIME) in
  ``Destination``.
- ``send_bulk_email`` with a stored template, when template_id is set: one
  entry per "to" recipient, with that recipient's merge_data, and
  extra headers, merge_headers, metadata, merge_metadata and tags as the
  entry's ``ReplacementHeaders``.

The boto3 session and client are made by ``open()`` and reused for every
message of a ``send_messages()`` call; ``close()`` releases them.
"""

from __future__ import annotations

import base64
import copy
import logging
import re
import warnings
from collections.abc import Iterator, Mapping
from email import quoprimime
from email.generator import BytesGenerator
from email.header import Header
from email.message import Message
from io import BytesIO
from typing import Any, ClassVar, Final

from django.core.mail import EmailMessage

from .. import __version__
from .._amazon_ses_settings import (
    BACKEND_SETTINGS,
    CLIENT_PARAMS,
    CONFIGURATION_SET_NAME,
    ESP_NAME,
    MESSAGE_TAG_NAME,
    SESSION_PARAMS,
)
from ..addresses import EmailAddress, idna_encode_domain, parse_address_list
from ..conf import UNSET, Setting, get_setting, get_text, get_timeout_option, invalid_setting
from ..exceptions import (
    AnymailAPIError,
    AnymailDeprecationWarning,
    AnymailError,
    AnymailImproperlyConfigured,
    AnymailImproperlyInstalled,
)
from ..message import AnymailRecipientStatus
from ..retry import NO_ANSWER, NOT_SENT
from ..utils import Attachment, CaseInsensitiveDict, serialize_json
from .base import AnymailBaseBackend, BasePayload, Capabilities

try:
    import boto3
    from botocore.client import Config
    from botocore.exceptions import (
        BotoCoreError,
        ClientError,
        ConnectionClosedError,
        ConnectTimeoutError,
        EndpointConnectionError,
        ReadTimeoutError,
    )
    from botocore.model import NoShapeFoundError
except ImportError as err:
    raise AnymailImproperlyInstalled(missing_package="boto3", install_extra="amazon-ses") from err

logger = logging.getLogger("anymail")

#: SES message tag names and values (for AMAZON_SES_MESSAGE_TAG_NAME).
_MESSAGE_TAG_RE: Final = re.compile(r"[A-Za-z0-9_-]{1,256}")

#: Bulk entries per send_bulk_email call. 50 was the documented limit of the v1
#: call; the v2 limit is not documented, so larger batches are split to be safe.
MAX_BULK_ENTRIES: Final = 50

#: Template sends: SES's limits on each entry's ReplacementHeaders (from the
#: service model; botocore does not check them, SES refuses the whole call).
MAX_TEMPLATE_HEADERS: Final = 15
MAX_HEADER_NAME_LENGTH: Final = 126
MAX_HEADER_VALUE_LENGTH: Final = 995
MAX_HEADER_LENGTH: Final = 996  # name + value
_HEADER_NAME_RE: Final = re.compile(r"[!-9;-~]+")  # printable ASCII without ":"

#: A line break and the indent after it (a folded header value).
_FOLD_RE: Final = re.compile(r"\r?\n[ \t]*")

#: Parts whose body is already 7-bit clean whatever it holds.
_SAFE_TRANSFER_ENCODINGS: Final = frozenset({"quoted-printable", "base64"})
#: RFC 5322 line-length limit, without the CRLF.
_MAX_LINE_LENGTH: Final = 998

#: Headers that hold addresses (the email package parses these as address lists).
_ADDRESS_HEADERS: Final = frozenset(
    {
        "from",
        "sender",
        "reply-to",
        "to",
        "cc",
        "bcc",
        "resent-from",
        "resent-sender",
        "resent-to",
        "resent-cc",
        "resent-bcc",
    }
)

#: Standard EmailMessage attributes: the MIME comes from the message itself, so
#: send defaults for these can't be applied (the spec lists them as unsupported).
_STANDARD_ATTRIBUTES: Final = (
    "from_email",
    "to",
    "cc",
    "bcc",
    "reply_to",
    "subject",
    "body",
    "attachments",
    "headers",
    "extra_headers",
)

#: esp_extra keys of the SES v1 API (used in the 6.0 manual's examples), renamed in v2.
_V1_ESP_EXTRA: Final = {
    "send_email": {
        "SourceArn": "FromEmailAddressIdentityArn",
        "FromArn": "FromEmailAddressIdentityArn",
        "ReturnPathArn": "FeedbackForwardingEmailAddressIdentityArn",
        "Tags": "EmailTags",
    },
    "send_bulk_email": {
        "SourceArn": "FromEmailAddressIdentityArn",
        "ReturnPathArn": "FeedbackForwardingEmailAddressIdentityArn",
        "DefaultTags": "DefaultEmailTags",
        "Tags": "DefaultEmailTags",
    },
}

#: Request members that only newer botocore versions know:
#: (operation, shape, member, feature, botocore version that added it).
_VERSIONED_MEMBERS: Final = (
    (
        "send_email",
        "SendEmailRequest",
        "ConfigurationOverrides",
        "track_opens / track_clicks",
        "1.43.76",
    ),
    (
        "send_bulk_email",
        "SendBulkEmailRequest",
        "ConfigurationOverrides",
        "track_opens / track_clicks",
        "1.43.76",
    ),
    (
        "send_bulk_email",
        "BulkEmailEntry",
        "ReplacementHeaders",
        "headers, metadata or tags with template_id",
        "1.34.98",
    ),
)


class AmazonSESPayload(BasePayload):
    """Translates a normalized message into ``send_email`` or ``send_bulk_email`` calls."""

    capabilities = Capabilities(
        send_at=False,  # SES has no scheduled sending
        # SES always uses its own MAIL FROM (or the identity's custom MAIL FROM domain):
        # envelope_sender only sets where SES forwards bounces and complaints.
        envelope_sender="Bounce forwarding address",
        track_opens="Yes (boto3 1.43.76+)",
        track_clicks="Yes (boto3 1.43.76+)",
        merge_data="With template_id",
        merge_global_data="With template_id",
        merge_metadata="With template_id",
        merge_headers="With template_id",
        attachments="Not with template_id",
        inline_images="Not with template_id",
        multiple_html=True,  # raw MIME: any parts Django can build
        alternatives=frozenset({"*"}),
        spoofed_to=True,
        # The 6.0 manual allows several From addresses (SES v1 had a separate
        # envelope Source). SES v2 takes the sender from the From header, and
        # whether it accepts several there is unconfirmed: refusing is safer.
        multiple_from=False,
        # SES has no SMTPUTF8: a non-ASCII local part fails at SES with a
        # misleading "Local address contains control or whitespace".
        eai_from=False,
        eai_recipients=False,
    )

    backend: EmailBackend

    def sends_individual_messages(self) -> bool:
        # Only template sends (send_bulk_email) go to each recipient separately;
        # a raw send is one message to everyone.
        return "template_id" in self.send_params

    def init_payload(self) -> None:
        self.from_email: EmailAddress | None = None
        self.recipients: dict[str, list[EmailAddress]] = {"to": [], "cc": [], "bcc": []}
        self.params: dict[str, Any] = {}  # API parameters shared by every call
        self.headers: CaseInsensitiveDict = CaseInsensitiveDict()
        self.metadata: dict[str, Any] = {}
        self.merge_metadata: dict[str, Any] = {}
        self.merge_headers: dict[str, Any] = {}
        self.merge_data: dict[str, Any] = {}
        self.tags: list[str] = []
        self.esp_extra: dict[str, Any] = {}
        self.reported_features: set[str] = set()
        for name in _STANDARD_ATTRIBUTES:
            if name in self.defaults:
                self.unsupported_feature(
                    f"Anymail send defaults for the standard EmailMessage attribute '{name}' "
                    "(set it on each message instead)"
                )
        # When ignoring, send as if those defaults were not there.
        self.defaults = {k: v for k, v in self.defaults.items() if k not in _STANDARD_ATTRIBUTES}

    @property
    def uses_template(self) -> bool:
        return "template_id" in self.send_params

    # --- hooks ----------------------------------------------------------------

    def set_from_email(self, email: EmailAddress) -> None:
        self.from_email = email

    def set_recipients(self, recipient_type: str, emails: list[EmailAddress]) -> None:
        self.recipients[recipient_type] = emails

    def set_spoofed_to_header(self, emails: list[EmailAddress]) -> None:
        # Raw sends: Django's MIME already carries the To header as given.
        if self.uses_template:
            self.unsupported_feature(
                "a To header that differs from the recipients with template_id"
            )

    def set_spoofed_cc_header(self, emails: list[EmailAddress]) -> None:
        if self.uses_template:
            self.unsupported_feature(
                "a Cc header that differs from the recipients with template_id"
            )

    def set_subject(self, subject: str) -> None:
        # Django's default subject is "": only a real subject conflicts with a template.
        if self.uses_template and subject:
            self._unsupported_once("overriding template subject")

    def set_reply_to(self, emails: list[EmailAddress]) -> None:
        if self.uses_template:
            self.params["ReplyToAddresses"] = [_format_address(email) for email in emails]

    def set_extra_headers(self, headers: CaseInsensitiveDict) -> None:
        self.headers = headers

    def set_text_body(self, body: str) -> None:
        if self.uses_template:
            self._unsupported_once("overriding template body content")

    def set_html_body(self, body: str) -> None:
        if self.uses_template:
            self._unsupported_once("overriding template body content")

    def add_alternative(self, content: str, mimetype: str) -> None:
        if self.uses_template:
            self._unsupported_once("overriding template body content")

    def add_attachment(self, attachment: Attachment) -> None:
        if self.uses_template:
            self._unsupported_once(
                "inline images with template" if attachment.inline else "attachments with template"
            )

    def set_envelope_sender(self, email: EmailAddress) -> None:
        # SES always uses its own MAIL FROM (or the identity's custom MAIL FROM
        # domain); this address only receives the forwarded bounces and complaints.
        self.params["FeedbackForwardingEmailAddress"] = email.addr_spec

    def set_metadata(self, metadata: dict[str, Any]) -> None:
        self.metadata = metadata

    def set_merge_metadata(self, merge_metadata: dict[str, Any]) -> None:
        if self.uses_template:
            self.merge_metadata = merge_metadata
        else:
            self.unsupported_feature("merge_metadata without template_id")

    def set_merge_headers(self, merge_headers: dict[str, Any]) -> None:
        if self.uses_template:
            self.merge_headers = merge_headers
        else:
            self.unsupported_feature("merge_headers without template_id")

    def set_tags(self, tags: list[str]) -> None:
        self.tags.extend(tags)  # (line breaks were refused by the base)
        tag_name = self.backend.message_tag_name
        if tag_name is None or not tags:
            return
        if len(tags) > 1:
            self.unsupported_feature("multiple tags with the AMAZON_SES_MESSAGE_TAG_NAME setting")
        if not _MESSAGE_TAG_RE.fullmatch(tags[0]):
            self.unsupported_feature(
                f"the tag {tags[0]!r} as an SES message tag (with AMAZON_SES_MESSAGE_TAG_NAME, "
                "a tag must be 1-256 characters from A-Z, a-z, 0-9, '_' and '-')"
            )
            return
        key = "DefaultEmailTags" if self.uses_template else "EmailTags"
        self.params[key] = [{"Name": tag_name, "Value": tags[0]}]

    def set_track_clicks(self, track_clicks: bool) -> None:
        self._set_tracking("ClickTrackingEnabled", track_clicks)

    def set_track_opens(self, track_opens: bool) -> None:
        self._set_tracking("OpenTrackingEnabled", track_opens)

    def _set_tracking(self, field: str, enabled: bool) -> None:
        # Overrides the account's and the configuration set's tracking for this
        # message only; events still reach webhooks only through a configuration set.
        overrides = self.params.setdefault("ConfigurationOverrides", {"Tracking": {}})
        overrides["Tracking"][field] = "ENABLED" if enabled else "DISABLED"

    def set_template_id(self, template_id: Any) -> None:
        template_id = str(template_id)
        # SES template names allow only letters, digits, "_" and "-", so a
        # value starting "arn:" can only be a template ARN.
        key = "TemplateArn" if template_id.startswith("arn:") else "TemplateName"
        self.params["DefaultContent"] = {"Template": {key: template_id}}

    def set_merge_data(self, merge_data: dict[str, Any]) -> None:
        if self.uses_template:
            self.merge_data = merge_data
        else:
            self.unsupported_feature("merge_data without template_id")

    def set_merge_global_data(self, merge_global_data: dict[str, Any]) -> None:
        if self.uses_template:
            self.params["DefaultContent"]["Template"]["TemplateData"] = serialize_json(
                merge_global_data, "merge_global_data"
            )
        else:
            self.unsupported_feature("merge_global_data without template_id")

    def set_esp_extra(self, extra: dict[str, Any]) -> None:
        self.esp_extra = extra

    def _unsupported_once(self, feature: str) -> None:
        # (Several parts, or every bulk entry, can run into the same limitation.)
        if feature not in self.reported_features:
            self.reported_features.add(feature)
            self.unsupported_feature(feature)

    # --- the API calls ----------------------------------------------------------

    @property
    def operation(self) -> str:
        return "send_bulk_email" if self.uses_template else "send_email"

    def api_calls(self) -> list[dict[str, Any]]:
        """The keyword arguments of each call to ``self.operation``, in order."""
        common: dict[str, Any] = {}
        if self.uses_template and self.from_email is not None:
            common["FromEmailAddress"] = _format_address(self.from_email)
        common.update(self.params)
        if self.backend.configuration_set_name is not None:
            common["ConfigurationSetName"] = self.backend.configuration_set_name
        if self.uses_template:
            calls = [
                {**common, "BulkEmailEntries": entries}
                for entries in _chunks(self._bulk_entries(), MAX_BULK_ENTRIES)
            ]
        else:
            destination = {
                field: [email.addr_spec for email in self.recipients[kind]]
                for kind, field in (
                    ("to", "ToAddresses"),
                    ("cc", "CcAddresses"),
                    ("bcc", "BccAddresses"),
                )
                if self.recipients[kind]
            }
            calls = [
                {
                    "Destination": destination,
                    "Content": {"Raw": {"Data": self._raw_mime()}},
                    **common,
                }
            ]
        extra = self._esp_extra_for(self.operation)
        for call in calls:
            call.update(extra)
        return calls

    def recipient_groups(self) -> list[list[str]]:
        """For template sends: the recipients whose status each bulk entry reports."""
        if self.recipients["to"]:
            return [[to.addr_spec] for to in self.recipients["to"]]
        return [[email.addr_spec for email in self.recipients["cc"] + self.recipients["bcc"]]]

    def check_client_support(self, client: Any) -> None:
        """Leave out (or refuse) request members the installed botocore doesn't know."""
        for operation, shape, member, feature, version in _VERSIONED_MEMBERS:
            if operation != self.operation or _model_has(client, shape, member):
                continue
            in_use = member in self.params if shape.endswith("Request") else self._any_headers()
            if in_use:
                self.unsupported_feature(
                    f"{feature} with this boto3 version (needs botocore {version} or later; "
                    "upgrade boto3)"
                )
                if member in self.params:
                    del self.params[member]
                else:
                    self.headers = CaseInsensitiveDict()
                    self.metadata, self.merge_metadata, self.merge_headers = {}, {}, {}
                    self.tags = []

    # --- raw sends ----------------------------------------------------------------

    def _raw_mime(self) -> bytes:
        """The whole message as 7-bit clean MIME bytes, built by Django."""
        if self.from_email is None:
            raise AnymailError(
                "Amazon SES needs a from_email for messages without a template_id "
                "(from_email is None).",
                email_message=self.message,
                payload=self,
                backend=self.backend,
            )
        mime = _with_idna_2008_domains(self.message).message()
        # bcc recipients go only in Destination; a Bcc header would reveal them.
        del mime["Bcc"]
        if "subject" not in self.send_params:
            del mime["Subject"]  # subject=None: Django would send "None"
        if "multiple from addresses" in self.ignored_features:
            # Sending without the unsupported extra From addresses.
            _set_header(mime, "From", _format_address(self.from_email))
        if self.metadata:
            mime["X-Metadata"] = serialize_json(self.metadata, "metadata")
        for tag in self.tags:
            mime["X-Tag"] = _encode_header_value(tag)
        _make_7bit(mime)
        policy = mime.policy.clone(linesep="\r\n")
        if hasattr(policy, "utf8"):
            policy = policy.clone(utf8=False)
        output = BytesIO()
        BytesGenerator(output, mangle_from_=False, policy=policy).flatten(mime)
        return output.getvalue()

    # --- template sends -----------------------------------------------------------

    def _bulk_entries(self) -> list[dict[str, Any]]:
        cc = [_format_address(email) for email in self.recipients["cc"]]
        bcc = [email.addr_spec for email in self.recipients["bcc"]]
        entries = []
        # With no "to", one entry sends the template to the cc/bcc recipients.
        to_list: list[EmailAddress | None] = [*self.recipients["to"]] or [None]
        for to in to_list:
            destination: dict[str, list[str]] = {}
            if to is not None:
                destination["ToAddresses"] = [_format_address(to)]
            if cc:
                destination["CcAddresses"] = cc
            if bcc:
                destination["BccAddresses"] = bcc
            data = _for_recipient(self.merge_data, to) or {}
            entry: dict[str, Any] = {
                "Destination": destination,
                "ReplacementEmailContent": {
                    "ReplacementTemplate": {
                        "ReplacementTemplateData": serialize_json(data, "merge_data")
                    }
                },
            }
            headers = self._entry_headers(to)
            if headers:
                entry["ReplacementHeaders"] = headers
            entries.append(entry)
        return entries

    def _any_headers(self) -> bool:
        return bool(
            self.headers or self.metadata or self.merge_metadata or self.merge_headers or self.tags
        )

    def _entry_headers(self, to: EmailAddress | None) -> list[dict[str, str]]:
        headers = CaseInsensitiveDict(self.headers)
        for name, value in (_for_recipient(self.merge_headers, to) or {}).items():
            # Replace the value of a same-named extra header, keeping its spelling.
            spelling = next((key for key in headers if key.lower() == name.lower()), name)
            headers[spelling] = value
        pairs = [(str(name), str(value)) for name, value in headers.items()]
        metadata = {**self.metadata, **(_for_recipient(self.merge_metadata, to) or {})}
        if metadata:
            pairs.append(("X-Metadata", serialize_json(metadata, "metadata")))
        pairs += [("X-Tag", tag) for tag in self.tags]

        result: list[dict[str, str]] = []
        for name, value in pairs:
            if not value:
                continue  # SES can't send an empty header: an empty value leaves it out
            value = _encode_header_value(value)
            problem = _template_header_problem(name, value)
            if problem:
                self._unsupported_once(f"{problem} with template_id (header {name!r})")
            elif len(result) >= MAX_TEMPLATE_HEADERS:
                self._unsupported_once(
                    f"more than {MAX_TEMPLATE_HEADERS} headers (including X-Metadata and X-Tag) "
                    f"per message with template_id (header {name!r})"
                )
            else:
                result.append({"Name": name, "Value": value})
        return result

    def _esp_extra_for(self, operation: str) -> dict[str, Any]:
        extra = dict(self.esp_extra)
        for old, new in _V1_ESP_EXTRA[operation].items():
            if old in extra:
                warnings.warn(
                    f"Amazon SES esp_extra {old!r} is a v1 API parameter: use {new!r} "
                    f"(Anymail now calls the SES v2 {operation} API).",
                    AnymailDeprecationWarning,
                    stacklevel=2,
                )
                value = extra.pop(old)
                extra.setdefault(new, value)
        return extra


class EmailBackend(AnymailBaseBackend):
    """Amazon SES Email Backend (SES v2 API, through boto3)."""

    esp_name: ClassVar[str] = ESP_NAME
    payload_class: ClassVar[type[BasePayload]] = AmazonSESPayload
    declared_settings = BACKEND_SETTINGS
    # Each worker thread makes its own client, from its own boto3 Session.
    concurrent_connection_attr = "client"

    def __init__(self, **kwargs: Any) -> None:
        esp_name = self.esp_name
        self.session_params, self.client_params = boto3_params(kwargs, get_timeout_option(kwargs))
        self.configuration_set_name = get_text(CONFIGURATION_SET_NAME, esp_name, kwargs)
        self.message_tag_name = get_text(MESSAGE_TAG_NAME, esp_name, kwargs)
        if self.message_tag_name is not None and not _MESSAGE_TAG_RE.fullmatch(
            self.message_tag_name
        ):
            raise invalid_setting(
                "message_tag_name",
                esp_name,
                "an SES message tag name must be 1-256 characters from A-Z, a-z, 0-9, '_' and '-'.",
            )
        super().__init__(**kwargs)
        self.client: Any = None

    # --- connection -------------------------------------------------------------

    def open(self) -> bool:
        if self.client is not None:
            return False
        try:
            self.client = self.create_client()
        except AnymailAPIError as err:
            if not self.fail_silently:
                raise
            # Each message will try again, and fail (silently) on its own.
            logger.warning("%s: could not create the boto3 client: %s", self.esp_name, err)
            return False
        return True

    def close(self) -> None:
        if self.client is not None:
            self.client.close()
            self.client = None

    def create_client(self) -> Any:
        """A new boto3 sesv2 client, from AMAZON_SES_SESSION_PARAMS and _CLIENT_PARAMS."""
        client_params = self.client_params
        if self.retry_policy is not None and client_params["config"].retries is None:
            # Anymail's retries replace botocore's, which would retry a read timeout
            # (SES takes no idempotency key: that could send twice) and multiply attempts.
            config = client_params["config"].merge(Config(retries={"total_max_attempts": 1}))
            client_params = {**client_params, "config": config}
        try:
            return create_boto3_client("sesv2", self.session_params, client_params)
        except BotoCoreError as err:  # NoRegionError, ProfileNotFound, ...
            raise AnymailAPIError(
                f"Could not create the {self.esp_name} (boto3 sesv2) client: "
                f"{type(err).__name__}: {err}",
                backend=self,
            ) from err

    # --- sending ------------------------------------------------------------------

    def post_to_esp(self, payload: BasePayload, message: EmailMessage) -> Any:
        assert isinstance(payload, AmazonSESPayload)
        client = self.client
        temporary = client is None  # called outside send_messages()
        if client is None:
            client = self.create_client()
        error: AnymailAPIError | None = None
        responses = []
        try:
            payload.check_client_support(client)
            for params in payload.api_calls():
                try:
                    responses.append(getattr(client, payload.operation)(**params))
                except ClientError as err:
                    error = self._api_error(err, payload, message, sent_calls=len(responses))
                except BotoCoreError as err:
                    error = AnymailAPIError(
                        f"{self.esp_name} API call {payload.operation} failed: "
                        f"{type(err).__name__}: {err}{_partial_note(len(responses))}",
                        email_message=message,
                        payload=payload,
                        backend=self,
                    )
                    error.transport_failure = _transport_failure(err)
                except _UNREADABLE_RESPONSE_ERRORS as err:
                    # botocore could not parse SES's answer (not UTF-8, not the JSON
                    # shape of the API model, or nested until RecursionError).
                    error = AnymailAPIError(
                        f"{self.esp_name} API call {payload.operation} got a response botocore "
                        f"could not read ({type(err).__name__}: {err})"
                        f"{_partial_note(len(responses))}",
                        email_message=message,
                        payload=payload,
                        backend=self,
                    )
                if error is not None:
                    break
        finally:
            if temporary:
                client.close()
        if error is not None:
            # Raised outside the except blocks, so botocore's exception is not chained:
            # its text quotes SES's answer and its frames hold the signed request.
            raise error
        return responses[0] if len(responses) == 1 else responses

    def _api_error(
        self, err: ClientError, payload: AmazonSESPayload, message: EmailMessage, sent_calls: int
    ) -> AnymailAPIError:
        response = err.response
        status_code = response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        # str(err) has the AWS error code and message (and botocore's retry count).
        return AnymailAPIError(
            f"{self.esp_name} API error: {err}{_partial_note(sent_calls)}",
            email_message=message,
            payload=payload,
            response=response,
            status_code=status_code,
            backend=self,
        )

    def parse_recipient_status(
        self, response: Any, payload: BasePayload, message: EmailMessage
    ) -> dict[str, AnymailRecipientStatus]:
        assert isinstance(payload, AmazonSESPayload)
        try:
            if payload.uses_template:
                return self._parse_bulk_results(response, payload, message)
            message_id = response["MessageId"]
            if not isinstance(message_id, str) or not message_id:
                raise TypeError("MessageId is not a non-empty string")
        except (KeyError, TypeError, ValueError) as err:
            raise AnymailAPIError(
                f"Error parsing Amazon SES send result ({type(err).__name__}: {err}).",
                email_message=message,
                payload=payload,
                response=response,
                backend=self,
            ) from None
        queued = AnymailRecipientStatus(message_id=message_id, status="queued")
        return {email.addr_spec: queued for email in payload.all_recipients}

    def _parse_bulk_results(
        self, response: Any, payload: AmazonSESPayload, message: EmailMessage
    ) -> dict[str, AnymailRecipientStatus]:
        responses = response if isinstance(response, list) else [response]
        results = [result for item in responses for result in item["BulkEmailEntryResults"]]
        groups = payload.recipient_groups()
        if len(results) != len(groups):
            raise ValueError(f"{len(results)} results for {len(groups)} bulk email entries")
        statuses: dict[str, AnymailRecipientStatus] = {}
        errors: list[str] = []
        for group, result in zip(groups, results, strict=True):
            if result["Status"] == "SUCCESS":
                message_id = result["MessageId"]
                if not isinstance(message_id, str) or not message_id:
                    raise TypeError("a SUCCESS result's MessageId is not a non-empty string")
                status = AnymailRecipientStatus(message_id=message_id, status="queued")
            else:
                # Any other Status (the API docs and model spell some differently)
                # means SES did not send this entry.
                status = AnymailRecipientStatus(message_id=None, status="failed")
                errors.append(f"{result['Status']}: {result.get('Error') or result['Status']}")
            for addr_spec in group:
                statuses[addr_spec] = status
        if len(errors) == len(results):
            distinct = list(dict.fromkeys(errors))
            raise AnymailAPIError(
                f"{self.esp_name} sent none of the template messages: {'; '.join(distinct)}",
                email_message=message,
                payload=payload,
                response=response,
                backend=self,
            )
        return statuses


# --- boto3 clients (also used by the Amazon SES webhooks) ------------------------------


def boto3_params(
    kwargs: dict[str, Any], timeout: Any = UNSET
) -> tuple[dict[str, Any], dict[str, Any]]:
    """(session params, client params) from AMAZON_SES_SESSION_PARAMS and _CLIENT_PARAMS.

    Copies: the settings' own dicts are shared (and hold secrets), never changed.
    The client params' ``config`` is a botocore Config with Anymail's user agent.
    """
    session_params = _params_setting(SESSION_PARAMS, kwargs)
    client_params = _params_setting(CLIENT_PARAMS, kwargs)
    client_params["config"] = _client_config(client_params.get("config"), timeout)
    return session_params, client_params


def create_boto3_client(
    service_name: str, session_params: Mapping[str, Any], client_params: Mapping[str, Any]
) -> Any:
    """A new boto3 client. Raises BotoCoreError (e.g. NoRegionError) as boto3 does."""
    try:
        session = boto3.session.Session(**session_params)
        return session.client(service_name, **client_params)
    except TypeError as err:  # an unknown keyword; the message names it, not its value
        raise AnymailImproperlyConfigured(
            "Invalid Anymail setting AMAZON_SES_SESSION_PARAMS or AMAZON_SES_CLIENT_PARAMS "
            f"(boto3 said: {err})."
        ) from err


# --- helpers ------------------------------------------------------------------------


def _params_setting(setting: Setting, kwargs: dict[str, Any]) -> dict[str, Any]:
    value = get_setting(setting, EmailBackend.esp_name, kwargs)
    return dict(value) if value is not None else {}


def _client_config(config: Any, timeout: Any = UNSET) -> Config:
    """The user's botocore Config (or dict of Config options), plus Anymail's user agent.

    A ``timeout`` option (seconds, a (connect, read) pair, or None for no timeout)
    replaces the config's connect and read timeouts.
    """
    if config is None:
        config = Config()
    elif isinstance(config, Mapping):
        try:
            config = Config(**config)
        except TypeError as err:  # names the unknown option, never a value
            raise invalid_setting(
                "client_params", EmailBackend.esp_name, f"its 'config' is invalid: {err}."
            ) from None
    elif not isinstance(config, Config):
        raise invalid_setting(
            "client_params",
            EmailBackend.esp_name,
            f"'config' must be a botocore Config or a dict, got {type(config).__name__}.",
        )
    user_agent = f"django-anymail/{__version__}-amazon-ses"
    if config.user_agent_extra:
        user_agent = f"{config.user_agent_extra} {user_agent}"
    config = config.merge(Config(user_agent_extra=user_agent))
    if timeout is not UNSET:
        connect, read = timeout if isinstance(timeout, tuple) else (timeout, timeout)
        config = config.merge(Config(connect_timeout=connect, read_timeout=read))
    return config


def _model_has(client: Any, shape_name: str, member: str) -> bool:
    """Whether the client's service model has ``member`` in ``shape_name``."""
    try:
        shape = client.meta.service_model.shape_for(shape_name)
    except NoShapeFoundError:
        return False
    return member in getattr(shape, "members", {})


#: What botocore raises when it can't parse a response (its parsers trust the body).
_UNREADABLE_RESPONSE_ERRORS: Final = (
    AttributeError,
    KeyError,
    RecursionError,
    TypeError,
    ValueError,  # includes UnicodeDecodeError
)


def _transport_failure(err: BotoCoreError) -> str | None:
    """For retries: the call never reached SES, or got no answer (after botocore's own retries)."""
    if isinstance(err, EndpointConnectionError | ConnectTimeoutError):
        return NOT_SENT
    if isinstance(err, ReadTimeoutError | ConnectionClosedError):
        return NO_ANSWER
    return None


def _partial_note(sent_calls: int) -> str:
    if not sent_calls:
        return ""
    sent = sent_calls * MAX_BULK_ENTRIES
    return (
        f" (The first {sent} bulk entries were already sent by earlier calls; don't resend them.)"
    )


def _chunks(items: list[Any], size: int) -> Iterator[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _for_recipient(per_recipient: dict[str, Any], to: EmailAddress | None) -> Any:
    """``per_recipient[to]``, matching keys case-insensitively and with IDNA domains."""
    if to is None or not per_recipient:
        return None
    if to.addr_spec in per_recipient:
        return per_recipient[to.addr_spec]
    wanted = to.addr_spec.lower()
    for key, value in per_recipient.items():
        local, at, domain = str(key).strip().rpartition("@")
        if not at:
            continue
        try:
            normalized = f"{local}@{idna_encode_domain(domain)}"
        except AnymailError:
            continue
        if normalized.lower() == wanted:
            return value
    return None


def _format_address(email: EmailAddress) -> str:
    """The address for an SES address parameter: RFC 2047 display name, on one line.

    The email package folds a long encoded display name over several lines
    ("\\n " between encoded-words), which has no place in an API parameter:
    the encoded-words are joined with a space instead, which decoders ignore.
    """
    return _FOLD_RE.sub(" ", email.format(use_rfc2047=True))


def _with_idna_2008_domains(message: EmailMessage) -> EmailMessage:
    """A shallow copy of ``message`` whose addresses have ASCII domains, for ``message()``.

    Django would convert a Unicode domain in a header itself, with IDNA 2003
    ("faß.example" becomes "fass.example", not the "xn--fa-hia.example" of the
    envelope), and raise a bare UnicodeError for a domain it can't convert.
    Only values with non-ASCII text are re-formatted: the rest reach Django as given.
    """
    copied = copy.copy(message)
    copied.from_email = _ascii_domains(message.from_email, "from_email")
    for field in ("to", "cc", "reply_to"):
        setattr(
            copied, field, [_ascii_domains(item, field) for item in getattr(message, field) or []]
        )
    copied.extra_headers = {
        name: _ascii_domains(value, f"{name} header")
        if str(name).lower() in _ADDRESS_HEADERS
        else value
        for name, value in message.extra_headers.items()
    }
    return copied


def _ascii_domains(addresses: Any, field: str) -> Any:
    """An address list header value with IDNA 2008 (UTS #46) domains."""
    if addresses is None or str(addresses).isascii():
        return addresses
    return ", ".join(email.format() for email in parse_address_list(addresses, field))


def _encode_header_value(value: str) -> str:
    """An ASCII header value: RFC 2047 encoded-words when ``value`` is not ASCII."""
    if value.isascii():
        return value
    return Header(value, "utf-8").encode(maxlinelen=10000)


def _template_header_problem(name: str, value: str) -> str | None:
    """Why SES would refuse this ReplacementHeaders entry, or None if it is acceptable."""
    if len(name) > MAX_HEADER_NAME_LENGTH or not _HEADER_NAME_RE.fullmatch(name):
        return (
            f"a header name that is not 1-{MAX_HEADER_NAME_LENGTH} printable ASCII "
            "characters without ':'"
        )
    if len(value) > MAX_HEADER_VALUE_LENGTH or len(name) + len(value) > MAX_HEADER_LENGTH:
        return (
            f"a header value longer than {MAX_HEADER_VALUE_LENGTH} characters "
            f"(or name and value together longer than {MAX_HEADER_LENGTH})"
        )
    return None


def _set_header(mime: Message, name: str, value: str) -> None:
    if name in mime:
        mime.replace_header(name, value)
    else:
        mime[name] = value


def _make_7bit(mime: Message) -> None:
    """Re-encode every part that isn't 7-bit clean: quoted-printable for text, else base64.

    Django leaves non-ASCII text parts "8bit". SES needs 7-bit data, and
    corrupts 8-bit bodies when it rewrites them for open and click tracking.
    """
    for part in mime.walk():
        cte = str(part.get("Content-Transfer-Encoding", "7bit")).strip().lower()
        if part.is_multipart():
            # multipart/* or message/rfc822: walk() re-encodes what they contain,
            # and these types allow no transfer encoding other than 7bit/8bit/binary.
            if cte != "7bit" and "Content-Transfer-Encoding" in part:
                _set_header(part, "Content-Transfer-Encoding", "7bit")
            continue
        if cte in _SAFE_TRANSFER_ENCODINGS:
            continue
        payload = part.get_payload()
        if isinstance(payload, str) and _is_7bit_clean(payload):
            continue
        data = part.get_payload(decode=True)
        if not isinstance(data, bytes):
            data = b""
        del part["Content-Transfer-Encoding"]
        if part.get_content_maintype() == "text":
            # Like the email package's own QP: line breaks stay line breaks.
            part.set_payload(quoprimime.body_encode(data.decode("latin-1")))
            part["Content-Transfer-Encoding"] = "quoted-printable"
        else:
            part.set_payload(_base64_lines(data))
            part["Content-Transfer-Encoding"] = "base64"


def _is_7bit_clean(payload: str) -> bool:
    return payload.isascii() and all(len(line) <= _MAX_LINE_LENGTH for line in payload.splitlines())


def _base64_lines(data: bytes) -> str:
    encoded = base64.b64encode(data).decode("ascii")
    return "\n".join(encoded[i : i + 76] for i in range(0, len(encoded), 76)) + "\n"
