"""The Amazon SES payload both API operations share: declarations and hooks.

The hooks only record the normalized values; the operation's own payload
class (``_raw.RawSendPayload``, ``_bulk.TemplateSendPayload``) turns them into
its API calls.
"""

from __future__ import annotations

import re
import warnings
from typing import TYPE_CHECKING, Any, ClassVar, Final

from ..._features import FEATURES
from ...addresses import EmailAddress
from ...exceptions import AnymailDeprecationWarning
from ...message import AnymailRecipientStatus
from ...utils import CaseInsensitiveDict
from ..base import BasePayload, Capabilities

if TYPE_CHECKING:
    from . import EmailBackend

#: SES message tag names and values (for AMAZON_SES_MESSAGE_TAG_NAME).
MESSAGE_TAG_RE: Final = re.compile(r"[A-Za-z0-9_-]{1,256}")

#: The standard EmailMessage attributes: the MIME comes from the message itself,
#: so send defaults for these can't be applied (the spec lists them as unsupported).
_STANDARD_ATTRIBUTES: Final = tuple(
    dict.fromkeys(
        key
        for feature in FEATURES
        if not feature.is_anymail_attribute
        for key in feature.default_keys
    )
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


class AmazonSESPayload(BasePayload):
    """Records a normalized message for ``send_email`` or ``send_bulk_email`` calls."""

    capabilities = Capabilities(
        send_at=False,  # SES has no scheduled sending
        # SES always uses its own MAIL FROM (or the identity's custom MAIL FROM domain):
        # envelope_sender only sets where SES forwards bounces and complaints.
        envelope_sender="Bounce forwarding address",
        track_opens="Yes (boto3 1.43.76+)",
        track_clicks="Yes (boto3 1.43.76+)",
        # A raw send is one message to everyone: per-recipient data needs a template.
        merge_data=False,
        merge_global_data=False,
        merge_metadata=False,
        merge_headers=False,
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
    #: Template sends (send_bulk_email): an entry per "to", with its own data,
    #: and no MIME of Django's (so no attachments, and To is the recipient); the
    #: template has its own subject and body.
    template_capabilities = capabilities.replace(
        merge_data=True,
        merge_global_data=True,
        merge_metadata=True,
        merge_headers=True,
        subject=False,
        body=False,
        attachments=False,
        inline_images=False,
        spoofed_to=False,
        refusals={
            "subject": "overriding template subject",
            "body": "overriding template body content",
            "attachments": "attachments with template",
            "inline_images": "inline images with template",
            "to_header": "a To header that differs from the recipients with template_id",
            "cc_header": "a Cc header that differs from the recipients with template_id",
        },
    )

    # (Template sends put them in each bulk entry.)
    read_from_send_params = frozenset({"merge_metadata", "merge_headers", "merge_data"})

    #: The boto3 sesv2 client method this payload calls, and its message tags parameter.
    operation: ClassVar[str]
    tags_param: ClassVar[str]
    backend: EmailBackend

    def init_payload(self) -> None:
        self.from_email: EmailAddress | None = None
        self.recipients: dict[str, list[EmailAddress]] = {"to": [], "cc": [], "bcc": []}
        self.params: dict[str, Any] = {}  # API parameters shared by every call
        self.headers: CaseInsensitiveDict = CaseInsensitiveDict()
        self.metadata: dict[str, Any] = {}
        self.tags: list[str] = []
        self.esp_extra: dict[str, Any] = {}
        for name in _STANDARD_ATTRIBUTES:
            if name in self.defaults:
                self.unsupported_feature(
                    f"Anymail send defaults for the standard EmailMessage attribute '{name}' "
                    "(set it on each message instead)"
                )
        # When ignoring, send as if those defaults were not there.
        self.defaults = {k: v for k, v in self.defaults.items() if k not in _STANDARD_ATTRIBUTES}

    # --- the operation's part -------------------------------------------------------

    def operation_calls(self, common: dict[str, Any]) -> list[dict[str, Any]]:
        """The keyword arguments of each call, given those every call shares."""
        raise NotImplementedError

    def recipient_statuses(self, response: Any) -> dict[str, AnymailRecipientStatus]:
        """Each recipient's status (KeyError, TypeError or ValueError for a bad response)."""
        raise NotImplementedError

    def api_calls(self) -> list[dict[str, Any]]:
        """The keyword arguments of each call to ``self.operation``, in order."""
        common: dict[str, Any] = dict(self.params)
        if self.backend.configuration_set_name is not None:
            common["ConfigurationSetName"] = self.backend.configuration_set_name
        calls = self.operation_calls(common)
        extra = self._esp_extra()
        for call in calls:
            call.update(extra)
        return calls

    def any_headers(self) -> bool:
        """Whether the message has headers of its own (metadata and tags are headers too)."""
        params = self.send_params
        return bool(
            self.headers
            or self.metadata
            or params.get("merge_metadata")
            or params.get("merge_headers")
            or self.tags
        )

    def leave_out_member(self, member: str, shape: str, feature: str, version: str) -> None:
        """Refuse (or leave out) an API ``member`` the installed botocore doesn't know."""
        in_use = member in self.params if shape.endswith("Request") else self.any_headers()
        if not in_use:
            return
        self.unsupported_feature(
            f"{feature} with this boto3 version (needs botocore {version} or later; upgrade boto3)"
        )
        if member in self.params:
            del self.params[member]
        else:
            self.headers, self.metadata, self.tags = CaseInsensitiveDict(), {}, []
            self.send_params.pop("merge_metadata", None)
            self.send_params.pop("merge_headers", None)

    def _esp_extra(self) -> dict[str, Any]:
        extra = dict(self.esp_extra)
        for old, new in _V1_ESP_EXTRA[self.operation].items():
            if old in extra:
                warnings.warn(
                    f"Amazon SES esp_extra {old!r} is a v1 API parameter: use {new!r} "
                    f"(Anymail now calls the SES v2 {self.operation} API).",
                    AnymailDeprecationWarning,
                    stacklevel=2,
                )
                value = extra.pop(old)
                extra.setdefault(new, value)
        return extra

    # --- hooks ----------------------------------------------------------------

    def set_from_email(self, email: EmailAddress) -> None:
        self.from_email = email

    def set_recipients(self, recipient_type: str, emails: list[EmailAddress]) -> None:
        self.recipients[recipient_type] = emails

    def set_extra_headers(self, headers: CaseInsensitiveDict) -> None:
        self.headers = headers

    def set_envelope_sender(self, email: EmailAddress) -> None:
        # SES always uses its own MAIL FROM (or the identity's custom MAIL FROM
        # domain); this address only receives the forwarded bounces and complaints.
        self.params["FeedbackForwardingEmailAddress"] = email.addr_spec

    def set_metadata(self, metadata: dict[str, Any]) -> None:
        self.metadata = metadata

    def set_tags(self, tags: list[str]) -> None:
        self.tags.extend(tags)  # (line breaks were refused by the base)
        tag_name = self.backend.message_tag_name
        if tag_name is None or not tags:
            return
        if len(tags) > 1:
            self.unsupported_feature("multiple tags with the AMAZON_SES_MESSAGE_TAG_NAME setting")
        if not MESSAGE_TAG_RE.fullmatch(tags[0]):
            self.unsupported_feature(
                f"the tag {tags[0]!r} as an SES message tag (with AMAZON_SES_MESSAGE_TAG_NAME, "
                "a tag must be 1-256 characters from A-Z, a-z, 0-9, '_' and '-')"
            )
            return
        self.params[self.tags_param] = [{"Name": tag_name, "Value": tags[0]}]

    def set_track_clicks(self, track_clicks: bool) -> None:
        self._set_tracking("ClickTrackingEnabled", track_clicks)

    def set_track_opens(self, track_opens: bool) -> None:
        self._set_tracking("OpenTrackingEnabled", track_opens)

    def _set_tracking(self, field: str, enabled: bool) -> None:
        # Overrides the account's and the configuration set's tracking for this
        # message only; events still reach webhooks only through a configuration set.
        overrides = self.params.setdefault("ConfigurationOverrides", {"Tracking": {}})
        overrides["Tracking"][field] = "ENABLED" if enabled else "DISABLED"

    def set_esp_extra(self, extra: dict[str, Any]) -> None:
        self.esp_extra = extra
