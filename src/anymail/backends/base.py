"""The send pipeline shared by every Anymail backend.

``AnymailBaseBackend.send_messages()`` runs each message through:

1. the ``pre_send`` signal (``AnymailCancelSend`` skips the message silently);
2. ``build_message_payload()``: a :class:`BasePayload` normalizes the Django
   message plus Anymail attributes, merged with the send defaults, checks them
   against the payload's declared :class:`Capabilities`, and calls one
   ``set_<feature>()`` hook per feature present;
3. ``post_to_esp()`` and ``parse_recipient_status()`` (ESP specific);
4. ``message.anymail_status`` and the ``post_send`` signal;
5. ``AnymailRecipientsRefused`` when every recipient was refused.

An ESP backend subclasses both classes: the backend knows how to call the
ESP, the payload only translates normalized values into the ESP's format.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import Any, ClassVar, Final

from django.core.mail import EmailMessage
from django.core.mail.backends.base import BaseEmailBackend
from django.utils.encoding import force_str
from django.utils.functional import Promise

from ..addresses import (
    EmailAddress,
    contains_line_break,
    parse_address_list,
    parse_single_address,
)
from ..conf import (
    BOOL,
    ESP_SEND_DEFAULTS,
    POSITIVE_INT,
    SEND_DEFAULTS,
    UNSET,
    Setting,
    esp_prefix,
    get_bool,
    get_positive_int,
    get_send_defaults,
)
from ..exceptions import (
    AnymailAPIError,
    AnymailCancelSend,
    AnymailError,
    AnymailInvalidHeader,
    AnymailRecipientsRefused,
    AnymailUnsupportedFeature,
)
from ..message import AnymailRecipientStatus, AnymailStatus
from ..retry import RETRY_SETTINGS, RetryPolicy, retry_policy_option
from ..signals import post_send, pre_send
from ..utils import (
    Attachment,
    CaseInsensitiveDict,
    force_non_lazy,
    merge_dicts_deep,
    to_aware_datetime,
)
from ._concurrency import DEFAULT_SEND_CONCURRENCY, can_send_concurrently, send_concurrently
from ._split import BatchLimits, SplitSend, post_parts, report_parts, split_batch

logger = logging.getLogger("anymail")

#: A capability: False (unsupported), True (supported), or a str: supported,
#: with a short qualification shown in the docs' feature matrix ("domain only").
Support = bool | str


@dataclass(frozen=True)
class Capabilities:
    """What a payload class can send. The base enforces it; the docs' matrix reads it.

    A feature marked False makes a message that uses it raise
    :exc:`AnymailUnsupportedFeature` (or be sent without it, when
    ``IGNORE_UNSUPPORTED_FEATURES`` is on), without the ESP's hook being called.
    """

    # Anymail additions
    envelope_sender: Support = True
    metadata: Support = True
    merge_metadata: Support = True
    merge_headers: Support = True
    tags: Support = True
    max_tags: int | None = None  # None: no limit
    track_clicks: Support = True
    track_opens: Support = True
    send_at: Support = True
    send_at_str: bool = False  # a str send_at goes to the ESP unchanged (else: TypeError)
    template_id: Support = True
    merge_data: Support = True
    merge_global_data: Support = True
    esp_extra: Support = True
    # Django EmailMessage features
    cc: Support = True
    bcc: Support = True
    reply_to: Support = True
    max_reply_to: int | None = None
    extra_headers: Support = True
    attachments: Support = True
    inline_images: Support = True
    multiple_html: Support = False  # more than one text/html alternative
    # Other alternative types ("*" for any). A main body whose content_subtype is
    # neither plain nor html is sent as such a part too ("calendar": text/calendar).
    alternatives: frozenset[str] = frozenset()
    multiple_from: Support = False  # more than one From address
    spoofed_to: Support = False  # a To/Cc header that differs from the recipients
    eai_from: Support = True  # non-ASCII local part in from/envelope sender
    eai_recipients: Support = True  # ... in to/cc/bcc/reply_to

    def replace(self, **changes: Any) -> Capabilities:
        return dataclasses.replace(self, **changes)


#: Normalized features, in the order their hooks are called. (esp_extra is last,
#: so it can override anything the other hooks wrote.)
FEATURE_ORDER: Final = (
    "from_email",
    "to",
    "cc",
    "bcc",
    "subject",
    "reply_to",
    "extra_headers",
    "text_body",
    "html_body",
    "alternatives",
    "attachments",
    "envelope_sender",
    "metadata",
    "merge_metadata",
    "merge_headers",
    "tags",
    "track_clicks",
    "track_opens",
    "send_at",
    "template_id",
    "merge_data",
    "merge_global_data",
    "esp_extra",
)

#: Features where an empty value means the same as "not set".
_EMPTY_IS_ABSENT: Final = frozenset(
    {
        "to",
        "cc",
        "bcc",
        "reply_to",
        "extra_headers",
        "text_body",
        "html_body",
        "alternatives",
        "attachments",
        "metadata",
        "tags",
        "merge_global_data",
        "esp_extra",
    }
)

#: The errors fail_silently suppresses: failures to deliver, not mistakes in the message.
FAIL_SILENTLY_ERRORS: Final = (AnymailAPIError, AnymailRecipientsRefused)

#: Features whose presence makes a send a batch: one message per "to" recipient.
BATCH_FEATURES: Final = ("merge_data", "merge_metadata", "merge_headers")

# Django sets these to "" when not given, so "" means "use the default".
_EMPTY_STR_UNSET: Final = frozenset({"subject", "body"})
# Send-defaults merge rules (everything else: the message's value wins; tags: see _tags).
_LIST_MERGED: Final = frozenset({"to", "cc", "bcc", "reply_to", "attachments"})
_DICT_MERGED: Final = frozenset({"metadata", "merge_global_data", "merge_data", "merge_metadata"})


#: The body parts an ESP gets as text_body and html_body (any others are alternatives).
_BODY_PARAMS: Final = {"text/plain": "text_body", "text/html": "html_body"}


def _check_header_lines(field: str, headers: Mapping[str, Any]) -> None:
    for name, value in headers.items():
        if any(contains_line_break(str(part)) for part in (name, value)):
            raise AnymailInvalidHeader(
                f"Header {str(name)!r} in {field} contains a line break, which email "
                "headers can't hold (it could inject other headers). Remove it."
            )


def _check_value_lines(noun: str, value: Any, where: str = "") -> None:
    if isinstance(value, str) and contains_line_break(value):
        raise AnymailInvalidHeader(
            f"The {noun} {value!r}{where} contains a line break, which email headers "
            "can't hold (it could inject other headers). Remove it."
        )


def _as_regular_attachment(attachment: Attachment) -> Attachment:
    if not attachment.inline:
        return attachment
    return Attachment(
        attachment.content, attachment.mimetype, attachment.name, charset=attachment.charset
    )


class BasePayload:
    """Normalizes one message and feeds it, feature by feature, to ESP hooks.

    Subclasses set ``capabilities``, implement ``init_payload()`` and the
    ``set_<feature>()`` hooks for the features they support. The normalized
    values stay available in ``self.send_params`` (only features present), and as
    ``self.is_batch`` and ``self.all_recipients``.
    """

    capabilities: ClassVar[Capabilities] = Capabilities()
    #: The ESP calls a batch send too big for one is cut into (set when it is sent).
    split: SplitSend | None = None

    def __init__(
        self, message: EmailMessage, defaults: Mapping[str, Any], backend: AnymailBaseBackend
    ) -> None:
        self.message = message
        self.defaults = defaults
        self.backend = backend
        self.esp_name = backend.esp_name
        self.send_params: dict[str, Any] = {}
        #: Unsupported features left out because of IGNORE_UNSUPPORTED_FEATURES.
        self.ignored_features: list[str] = []
        self._envelope_sender_from_header = False
        self._main_body_part: tuple[str, str] | None = None
        self._default_tags: list[str] = []
        self.init_payload()
        self._normalize()
        self._check_line_breaks()
        # Decided before capability checks, so that a batch feature dropped under
        # IGNORE_UNSUPPORTED_FEATURES still sends each "to" its own message:
        # falling back to one message would show every recipient to all the others.
        self._batch_requested = any(feature in self.send_params for feature in BATCH_FEATURES)
        self._check_capabilities()
        self._apply_hooks()
        self._check_batch_privacy()

    # --- for subclasses -------------------------------------------------

    def init_payload(self) -> None:
        """Set up the ESP-specific request data (called before any hook)."""

    @property
    def is_batch(self) -> bool:
        """True when merge_data, merge_metadata or merge_headers is set (even empty).

        Stays True when one of them was left out as unsupported: the user asked
        for individual messages, and that is a privacy matter, not a feature.
        """
        return self._batch_requested

    @property
    def all_recipients(self) -> list[EmailAddress]:
        return [
            *self.send_params.get("to", []),
            *self.send_params.get("cc", []),
            *self.send_params.get("bcc", []),
        ]

    def unsupported_feature(self, feature: str) -> None:
        """Report a feature the ESP can't send: raise, unless IGNORE_UNSUPPORTED_FEATURES.

        When ignoring, this records the feature in ``ignored_features`` (and logs
        it) and returns; the caller then leaves the feature out.
        """
        if self.backend.ignore_unsupported_features:
            self.ignored_features.append(feature)
            logger.debug("%s: sending without unsupported %s", self.esp_name, feature)
        else:
            raise AnymailUnsupportedFeature(
                f"{self.esp_name} does not support {feature}. "
                "Remove it from the message, or set ANYMAIL IGNORE_UNSUPPORTED_FEATURES "
                "to True to send without it.",
                email_message=self.message,
                payload=self,
                backend=self.backend,
            )

    # --- normalization ----------------------------------------------------

    def _merged(self, name: str, attr: str | None = None) -> Any:
        """The message's value for ``name`` merged with the send defaults.

        Lists are concatenated (defaults first), dicts are merged (message keys
        win), anything else comes from the message when it has a value. A
        message value of None turns the default off.
        """
        value = getattr(self.message, attr or name, UNSET)
        default = self.defaults.get(name, UNSET)
        if value is None or default is UNSET or default is None:
            return value
        if value is UNSET or (name in _EMPTY_STR_UNSET and value == ""):
            return default
        if name in _LIST_MERGED:
            return [*default, *value]  # type: ignore[misc]
        if name in _DICT_MERGED:
            return {**default, **value}  # type: ignore[dict-item]
        if name == "esp_extra":
            return merge_dicts_deep(default, value)  # type: ignore[arg-type]
        return value

    def _normalize(self) -> None:
        message = self.message
        params = self.send_params

        headers: CaseInsensitiveDict = CaseInsensitiveDict()
        for source in (self.defaults.get("headers"), self.defaults.get("extra_headers")):
            headers.update(source or {})
        if message.extra_headers:
            headers.update(message.extra_headers)
        # Django's SMTP backend semantics for address headers:
        header_from = headers.pop("From", None)
        header_to = headers.pop("To", None)
        header_cc = headers.pop("Cc", None)
        header_reply_to = headers.pop("Reply-To", None)

        from_email = self._merged("from_email")
        envelope_sender = self._merged("envelope_sender")
        if header_from is not None:
            # The From header is what recipients see; from_email becomes the
            # envelope sender (unless one was given explicitly).
            if envelope_sender in (UNSET, None) and from_email:
                envelope_sender = from_email
                self._envelope_sender_from_header = True
            from_email = header_from
        if from_email not in (None, UNSET, ""):
            params["from_email"] = parse_address_list(from_email, "from_email")

        for field in ("to", "cc", "bcc"):
            value = self._merged(field)
            if value not in (None, UNSET):
                params[field] = parse_address_list(value, field)
        for field, header in (("to", header_to), ("cc", header_cc)):
            if header is not None:
                shown = parse_address_list(header, f"{field.title()} header")
                if [a.addr_spec for a in shown] != [a.addr_spec for a in params.get(field, [])]:
                    params[f"{field}_header"] = shown

        reply_to = header_reply_to if header_reply_to is not None else self._merged("reply_to")
        if reply_to not in (None, UNSET):
            params["reply_to"] = parse_address_list(reply_to, "reply_to")

        subject = self._merged("subject")
        if subject is not None and subject is not UNSET:
            params["subject"] = force_str(subject)

        alternatives = []
        body = self._merged("body")
        if body not in (None, UNSET, ""):
            mimetype = f"text/{(message.content_subtype or 'plain').lower()}"
            if mimetype in _BODY_PARAMS:
                params[_BODY_PARAMS[mimetype]] = force_str(body)
            else:
                # e.g. text/calendar: sent as a part of its own type where the ESP
                # can send one (see _check_capabilities), never silently as text.
                self._main_body_part = (force_str(body), mimetype)
                alternatives.append(self._main_body_part)
        for content, mimetype in getattr(message, "alternatives", None) or []:
            mimetype = (mimetype or "").split(";", 1)[0].strip().lower()
            kind = _BODY_PARAMS.get(mimetype)
            if kind is not None and kind not in params:
                # The first text/plain or text/html part is that body, whichever
                # came first: an html body with a text alternative sends both.
                params[kind] = force_str(content)
            else:
                alternatives.append((force_str(content), mimetype))
        params["alternatives"] = alternatives

        params["attachments"] = [
            Attachment.from_django(attachment, message.encoding)
            for attachment in self._merged("attachments") or []
        ]
        params["extra_headers"] = CaseInsensitiveDict(
            {force_str(k): force_str(v) for k, v in headers.items()}
        )

        if envelope_sender not in (None, UNSET):
            params["envelope_sender"] = parse_single_address(envelope_sender, "envelope_sender")
            if self._envelope_sender_from_header and [params["envelope_sender"].addr_spec] == [
                address.addr_spec for address in params.get("from_email", [])
            ]:
                # The From header just repeats from_email: no envelope sender to set.
                del params["envelope_sender"]
        metadata = self._merged("metadata")
        if metadata not in (None, UNSET):
            params["metadata"] = force_non_lazy(dict(metadata))
        for name in BATCH_FEATURES:
            value = self._merged(name)
            if value not in (None, UNSET):
                params[name] = self._by_recipient(name, value)
        tags = self._tags()
        if tags is not None:
            self._default_tags, own_tags = tags
            params["tags"] = [*self._default_tags, *own_tags]
        for name in ("track_clicks", "track_opens"):
            value = self._merged(name)
            if value not in (None, UNSET):
                params[name] = bool(value)
        send_at = self._merged("send_at")
        if send_at not in (None, UNSET):
            params["send_at"] = self._send_at(send_at)
        template_id = self._merged("template_id")
        if template_id not in (None, UNSET, ""):
            params["template_id"] = force_non_lazy(template_id)
        for name in ("merge_global_data", "esp_extra"):
            value = self._merged(name)
            if value not in (None, UNSET):
                params[name] = force_non_lazy(dict(value))

        for name in _EMPTY_IS_ABSENT:
            if name in params and not params[name]:
                del params[name]

    def _tags(self) -> tuple[list[str], list[str]] | None:
        """(tags from the send defaults, the message's own tags), or None when unset.

        Kept apart so that an ESP's tag limit can say where the tags came from,
        and keep the message's own when ignoring the excess.
        """
        own = getattr(self.message, "tags", UNSET)
        default = self.defaults.get("tags", UNSET)
        if own is None or (own is UNSET and default in (None, UNSET)):
            return None

        def as_list(value: Any) -> list[str]:
            if value is None or value is UNSET:
                return []
            if isinstance(value, str | Promise):
                return [force_str(value)]
            return [force_str(tag) for tag in value]

        return as_list(default), as_list(own)

    def _send_at(self, value: Any) -> datetime | str:
        if isinstance(value, str | Promise):
            caps = self.capabilities
            if caps.send_at_str or not caps.send_at:
                # Passed through as given (or refused or left out as unsupported).
                return force_str(value)
            raise TypeError(
                f"{self.esp_name} takes send_at as a datetime, date, or int/float POSIX "
                f"timestamp, not a str ({force_str(value)!r}). Convert it first, e.g. "
                "with datetime.fromisoformat()."
            )
        return to_aware_datetime(value)

    def _check_line_breaks(self) -> None:
        """Refuse line breaks in every value an ESP may put in an email header.

        Like Django's own backends: a line break there could add headers of its
        own (header injection), e.g. a subject ending in "\\r\\nBcc: ...".
        """
        params = self.send_params
        _check_header_lines("extra_headers", params.get("extra_headers", {}))
        for recipient_headers in params.get("merge_headers", {}).values():
            _check_header_lines("merge_headers", recipient_headers)
        _check_value_lines("subject", params.get("subject"))
        _check_value_lines("template_id", params.get("template_id"))
        for tag in params.get("tags", []):
            _check_value_lines("tag", tag)
        metadata = [params.get("metadata", {}), *params.get("merge_metadata", {}).values()]
        for data in metadata:
            for key, value in data.items() if isinstance(data, Mapping) else ():
                _check_value_lines("metadata key", key)
                _check_value_lines("metadata value", value, f" (key {key!r})")
        for attachment in params.get("attachments", []):
            _check_value_lines("attachment filename", attachment.name)
            _check_value_lines("attachment mimetype", attachment.mimetype)
            _check_value_lines("Content-ID", attachment.content_id)

    def _by_recipient(self, name: str, value: Mapping[str, Any]) -> dict[str, Any]:
        """Per-recipient data keyed exactly as the recipients' addr_spec.

        So a key written with a display name, a Unicode domain or other letter
        case still finds its recipient (addresses are matched ignoring case,
        as mailbox providers do).
        """
        recipients = {
            address.addr_spec.lower(): address.addr_spec
            for field in ("to", "cc", "bcc")
            for address in self.send_params.get(field, [])
        }
        result: dict[str, Any] = {}
        for key, data in force_non_lazy(dict(value)).items():
            addr_spec = parse_single_address(key, f"{name} key").addr_spec
            result[recipients.get(addr_spec.lower(), addr_spec)] = data
        return result

    # --- capability checks ------------------------------------------------

    def _check_capabilities(self) -> None:
        caps = self.capabilities
        params = self.send_params
        simple = (
            "envelope_sender",
            "metadata",
            "merge_metadata",
            "merge_headers",
            "tags",
            "track_clicks",
            "track_opens",
            "send_at",
            "template_id",
            "merge_data",
            "merge_global_data",
            "esp_extra",
            "cc",
            "bcc",
            "reply_to",
            "extra_headers",
        )
        for feature in simple:
            if feature in params and not getattr(caps, feature):
                described = feature
                if feature == "envelope_sender" and self._envelope_sender_from_header:
                    described = (
                        "envelope_sender (with a From header, Django's convention makes "
                        "from_email the envelope sender; give from_email the same address "
                        "as the From header to avoid this)"
                    )
                self._drop(feature, described)

        max_tags = caps.max_tags
        if "tags" in params and max_tags is not None and len(params["tags"]) > max_tags:
            defaults = self._default_tags
            own = params["tags"][len(defaults) :]
            feature = "multiple tags" if max_tags == 1 else f"more than {max_tags} tags"
            if defaults:
                origins = [f"{', '.join(map(repr, defaults))} from the send defaults"]
                if own:
                    origins.append(f"{', '.join(map(repr, own))} from the message")
                feature += f" ({'; '.join(origins)})"
            self.unsupported_feature(feature)
            # The message's own tags are the ones it was written for: keep them first.
            own = own[:max_tags]
            params["tags"] = [*defaults[: max_tags - len(own)], *own]
        if (
            "reply_to" in params
            and caps.max_reply_to is not None
            and len(params["reply_to"]) > caps.max_reply_to
        ):
            self.unsupported_feature("multiple reply_to addresses")
            params["reply_to"] = params["reply_to"][: caps.max_reply_to]
        if len(params.get("from_email", [])) > 1 and not caps.multiple_from:
            self.unsupported_feature("multiple from addresses")
            params["from_email"] = params["from_email"][:1]
        for field in ("to_header", "cc_header"):
            if field in params and not caps.spoofed_to:
                header = field.split("_")[0].title()
                self._drop(
                    field,
                    f"a {header} header that differs from the message's {header.lower()} list",
                )

        kept = []
        for part in params.get("alternatives", []):
            mimetype = part[1]
            if mimetype == "text/html":
                if caps.multiple_html:
                    kept.append(part)
                else:
                    self.unsupported_feature("multiple html parts")
            elif mimetype in caps.alternatives or "*" in caps.alternatives:
                kept.append(part)
            elif part is self._main_body_part:
                subtype = mimetype.split("/", 1)[1]
                self.unsupported_feature(
                    f"a main body with content_subtype '{subtype}' (only 'plain' and "
                    "'html'; send other content as an attachment)"
                )
            else:
                self.unsupported_feature(f"alternative part with type '{mimetype}'")
        if kept:
            params["alternatives"] = kept
        else:
            params.pop("alternatives", None)

        attachments = params.get("attachments", [])
        if attachments:
            if not caps.inline_images and any(a.inline for a in attachments):
                self.unsupported_feature("inline images")
                if caps.attachments:
                    # Nothing lost: the image still reaches the recipient, attached.
                    attachments = [_as_regular_attachment(a) for a in attachments]
                else:
                    attachments = [a for a in attachments if not a.inline]
            if not caps.attachments and any(not a.inline for a in attachments):
                self.unsupported_feature("attachments")
                attachments = [a for a in attachments if a.inline]
            if attachments:
                params["attachments"] = attachments
            else:
                del params["attachments"]

        if not caps.eai_from:
            self._check_eai(("from_email", "envelope_sender"))
        if not caps.eai_recipients:
            self._check_eai(("to", "cc", "bcc", "reply_to"))

    def sends_individual_messages(self) -> bool:
        """Whether this payload, as built, gives each "to" recipient its own message.

        Asked only for batch sends. By default: whenever the ESP can batch at all
        (it supports one of merge_data, merge_metadata, merge_headers); an ESP
        that batches only in some cases (e.g. only with a template) overrides this.
        """
        caps = self.capabilities
        return any(getattr(caps, feature) for feature in BATCH_FEATURES)

    def _check_batch_privacy(self) -> None:
        # A batch send asks for individual messages. Sending one message instead
        # would show every "to" recipient to all the others, so this is refused
        # even with IGNORE_UNSUPPORTED_FEATURES: that setting drops features,
        # it must not expose addresses.
        if (
            self._batch_requested
            and len(self.send_params.get("to", [])) > 1
            and not self.sends_individual_messages()
        ):
            raise AnymailUnsupportedFeature(
                f"{self.esp_name} cannot send this as a batch (merge_data, merge_metadata "
                "or merge_headers ask for an individual message to each 'to' recipient). "
                "Sending one message would show every recipient to the others, so it was "
                "not sent: send a separate message to each recipient instead.",
                email_message=self.message,
                payload=self,
                backend=self.backend,
            )

    def _drop(self, param: str, feature: str) -> None:
        self.unsupported_feature(feature)
        self.send_params.pop(param, None)

    def _check_eai(self, fields: Sequence[str]) -> None:
        for field in fields:
            value = self.send_params.get(field)
            addresses = [value] if isinstance(value, EmailAddress) else value or []
            for address in addresses:
                if address.is_eai:
                    self.unsupported_feature(
                        f"non-ASCII mailbox {address.addr_spec!r} in {field} (EAI)"
                    )

    # --- hooks ---------------------------------------------------------------

    def _apply_hooks(self) -> None:
        params = self.send_params
        for feature in FEATURE_ORDER:
            if feature not in params:
                continue
            value = params[feature]
            if feature == "from_email":
                if len(value) == 1:
                    self.set_from_email(value[0])
                else:
                    self.set_from_email_list(value)
            elif feature == "alternatives":
                for content, mimetype in value:
                    self.add_alternative(content, mimetype)
            elif feature == "attachments":
                for attachment in value:
                    self.add_attachment(attachment)
            else:
                getattr(self, f"set_{feature}")(value)
            if feature == "to" and "to_header" in params:
                self.set_spoofed_to_header(params["to_header"])
            if feature == "cc" and "cc_header" in params:
                self.set_spoofed_cc_header(params["cc_header"])

    def _missing_hook(self, feature: str) -> AnymailError:
        # An ESP payload declared a capability but didn't implement its hook.
        return AnymailError(
            f"{type(self).__name__} declares support for {feature} "
            f"but does not implement it (an Anymail bug: please report it)."
        )

    def set_from_email(self, email: EmailAddress) -> None:
        raise self._missing_hook("from_email")

    def set_from_email_list(self, emails: list[EmailAddress]) -> None:
        raise self._missing_hook("multiple from addresses")

    def set_to(self, emails: list[EmailAddress]) -> None:
        self.set_recipients("to", emails)

    def set_cc(self, emails: list[EmailAddress]) -> None:
        self.set_recipients("cc", emails)

    def set_bcc(self, emails: list[EmailAddress]) -> None:
        self.set_recipients("bcc", emails)

    def set_recipients(self, recipient_type: str, emails: list[EmailAddress]) -> None:
        raise self._missing_hook(recipient_type)

    def set_spoofed_to_header(self, emails: list[EmailAddress]) -> None:
        raise self._missing_hook("spoofed To header")

    def set_spoofed_cc_header(self, emails: list[EmailAddress]) -> None:
        raise self._missing_hook("spoofed Cc header")

    def set_subject(self, subject: str) -> None:
        raise self._missing_hook("subject")

    def set_reply_to(self, emails: list[EmailAddress]) -> None:
        raise self._missing_hook("reply_to")

    def set_extra_headers(self, headers: CaseInsensitiveDict) -> None:
        raise self._missing_hook("extra_headers")

    def set_text_body(self, body: str) -> None:
        raise self._missing_hook("text body")

    def set_html_body(self, body: str) -> None:
        raise self._missing_hook("html body")

    def add_alternative(self, content: str, mimetype: str) -> None:
        raise self._missing_hook(f"alternative part with type '{mimetype}'")

    def add_attachment(self, attachment: Attachment) -> None:
        raise self._missing_hook("attachments")

    def set_envelope_sender(self, email: EmailAddress) -> None:
        raise self._missing_hook("envelope_sender")

    def set_metadata(self, metadata: dict[str, Any]) -> None:
        raise self._missing_hook("metadata")

    def set_merge_metadata(self, merge_metadata: dict[str, dict[str, Any]]) -> None:
        raise self._missing_hook("merge_metadata")

    def set_merge_headers(self, merge_headers: dict[str, dict[str, str]]) -> None:
        raise self._missing_hook("merge_headers")

    def set_tags(self, tags: list[str]) -> None:
        raise self._missing_hook("tags")

    def set_track_clicks(self, track_clicks: bool) -> None:
        raise self._missing_hook("track_clicks")

    def set_track_opens(self, track_opens: bool) -> None:
        raise self._missing_hook("track_opens")

    def set_send_at(self, send_at: datetime | str) -> None:
        raise self._missing_hook("send_at")

    def set_template_id(self, template_id: Any) -> None:
        raise self._missing_hook("template_id")

    def set_merge_data(self, merge_data: dict[str, dict[str, Any]]) -> None:
        raise self._missing_hook("merge_data")

    def set_merge_global_data(self, merge_global_data: dict[str, Any]) -> None:
        raise self._missing_hook("merge_global_data")

    def set_esp_extra(self, extra: dict[str, Any]) -> None:
        raise self._missing_hook("esp_extra")


FAIL_SILENTLY: Final = Setting(
    "fail_silently",
    BOOL,
    "Log delivery failures instead of raising them (Django's option).",
    default=False,
    per_esp=False,
    in_settings=False,
)
IGNORE_UNSUPPORTED_FEATURES: Final = Setting(
    "ignore_unsupported_features",
    BOOL,
    "Leave out features the ESP can't send instead of raising AnymailUnsupportedFeature.",
    default=False,
    per_esp=False,
)
IGNORE_RECIPIENT_STATUS: Final = Setting(
    "ignore_recipient_status",
    BOOL,
    "Don't raise AnymailRecipientsRefused when the ESP refuses every recipient.",
    default=False,
    per_esp=False,
)
SEND_CONCURRENCY: Final = Setting(
    "send_concurrency",
    POSITIVE_INT,
    "ESP calls one send_messages() keeps in flight (1: one message after the other).",
    default=DEFAULT_SEND_CONCURRENCY,
    per_esp=False,
)


class AnymailBaseBackend(BaseEmailBackend):
    """Base for Anymail's email backends. Subclasses set ``esp_name`` and ``payload_class``
    and implement ``post_to_esp()`` and ``parse_recipient_status()``.

    Accepts the global Anymail settings as keyword arguments too
    (``ignore_unsupported_features``, ``ignore_recipient_status``, ``send_defaults``),
    and ``fail_silently`` as Django's own backends do.
    """

    esp_name: ClassVar[str] = "Anymail"
    #: Settings prefix ("POSTMARK" for POSTMARK_API_KEY ...); default from esp_name.
    settings_esp_name: ClassVar[str | None] = None
    payload_class: ClassVar[type[BasePayload]] = BasePayload
    #: The settings and options (keyword arguments, Django 6.1 MAILERS OPTIONS) this
    #: class's own __init__ reads. Each class declares only its own; ``manage.py
    #: check`` and the settings reference collect the whole hierarchy.
    declared_settings: ClassVar[tuple[Setting, ...]] = (
        FAIL_SILENTLY,
        IGNORE_UNSUPPORTED_FEATURES,
        IGNORE_RECIPIENT_STATUS,
        SEND_DEFAULTS,
        ESP_SEND_DEFAULTS,
        *RETRY_SETTINGS,
        SEND_CONCURRENCY,
    )
    #: The attribute holding the connection ``open()`` makes ("session"), for backends
    #: whose ``post_to_esp()`` can run in worker threads, each with its own connection
    #: (see _concurrency.py). None: always sequential.
    concurrent_connection_attr: ClassVar[str | None] = None
    #: The ESP's per-call limits: bigger batch sends are split (_split.py), and
    #: coalesced messages share a call up to them (_coalesce.py). None: no limit.
    batch_limits: ClassVar[BatchLimits | None] = None

    def __init__(self, fail_silently: bool = False, **kwargs: Any) -> None:
        self.ignore_unsupported_features = get_bool(IGNORE_UNSUPPORTED_FEATURES, kwargs=kwargs)
        self.ignore_recipient_status = get_bool(IGNORE_RECIPIENT_STATUS, kwargs=kwargs)
        #: Retries of transient failures (anymail.retry), or None: RETRY_SENDS is off.
        self.retry_policy: RetryPolicy | None = retry_policy_option(kwargs)
        #: ESP calls one send_messages() keeps in flight (1: one after the other).
        self.send_concurrency = get_positive_int(SEND_CONCURRENCY, kwargs=kwargs)
        send_defaults = kwargs.pop("send_defaults", None)
        self.send_defaults: dict[str, Any] = (
            dict(send_defaults)
            if send_defaults is not None
            else get_send_defaults(self.settings_esp_name or self.esp_name)
        )
        # Like Django's own backends: fail_silently is ours to keep, and the
        # remaining options (alias, unknown keys) go to Django, which reports them.
        super().__init__(**kwargs)
        self.fail_silently = fail_silently

    @classmethod
    def settings_prefix(cls) -> str:
        return esp_prefix(cls.settings_esp_name or cls.esp_name)

    def open(self) -> bool:
        """Open any connection the backend needs; True if this call opened it."""
        return False

    def close(self) -> None:
        pass

    def send_messages(self, email_messages: Iterable[EmailMessage]) -> int:
        """Send each message; return how many the ESP accepted.

        With ``fail_silently``, a *delivery* failure (the ESP's API failed or
        refused every recipient) is logged instead of raised, that message's
        ``anymail_status`` shows it, and the next message is sent. Errors in
        the message itself (invalid address, unsupported feature, unserializable
        data) still raise, as Django's SMTP backend raises for a malformed message.
        """
        email_messages = list(email_messages or [])
        if not email_messages:
            return 0
        try:
            created_connection = self.open()
        except AnymailError as err:
            # e.g. an SDK client that can't be created: nothing can be sent.
            if not (self.fail_silently and isinstance(err, FAIL_SILENTLY_ERRORS)):
                raise
            logger.warning("%s connection failed (fail_silently): %s", self.esp_name, err)
            return 0
        try:
            if can_send_concurrently(self, email_messages):
                return send_concurrently(self, email_messages)
            num_sent = 0
            for message in email_messages:
                try:
                    if self._send(message):
                        num_sent += 1
                except AnymailError as err:
                    if not self._handle_send_error(err, message):
                        raise
        finally:
            if created_connection:
                self.close()
        return num_sent

    def _handle_send_error(self, err: BaseException, message: EmailMessage) -> bool:
        """Complete an error's context; True if fail_silently silences it (it is logged)."""
        if not isinstance(err, AnymailError):
            return False
        if err.email_message is None:
            err.email_message = message
        if err.backend is None:
            err.backend = self
        if not (self.fail_silently and isinstance(err, FAIL_SILENTLY_ERRORS)):
            return False
        # Silenced, not lost: leave a trace for the operator.
        logger.warning("%s send failed (fail_silently): %s", self.esp_name, err)
        return True

    def _send(self, message: EmailMessage) -> bool:
        payload = self._prepare_send(message)
        if payload is None:
            return False
        try:
            response = self._call_esp(payload, message)
        except AnymailAPIError as err:
            self._report_send(payload, message, error=err)
        self._report_send(payload, message, response)
        return True

    def _call_esp(self, payload: BasePayload, message: EmailMessage) -> Any:
        """post_to_esp(), or one call per part of a batch cut at the ESP's limits.

        With a retry policy (RETRY_SENDS, or the queued backend's worker), each call
        is retried by it: a coalesced call as a whole, a split batch part by part.
        """
        policy = self.retry_policy
        post = self.post_to_esp if policy is None else partial(policy.post, self)
        if payload.split is not None:
            return post_parts(self, payload.split, message, post)
        return post(payload, message)

    def _prepare_send(self, message: EmailMessage) -> BasePayload | None:
        """pre_send and the payload; None when there is nothing to send."""
        message.anymail_status = AnymailStatus()
        try:
            pre_send.send(self.__class__, message=message, esp_name=self.esp_name)
        except AnymailCancelSend:
            return None
        if not message.recipients():
            return None
        policy = self.retry_policy
        # With retries, each message gets its own idempotency key where the ESP takes one.
        defaults = self.send_defaults if policy is None else policy.send_defaults(self)
        payload = self.build_message_payload(message, defaults)
        payload.split = split_batch(self, payload)
        return payload

    def _report_send(
        self,
        payload: BasePayload,
        message: EmailMessage,
        response: Any = None,
        error: BaseException | None = None,
    ) -> None:
        """anymail_status and post_send for the ESP's answer (``response`` or ``error``)."""
        status: AnymailStatus = message.anymail_status
        if payload.split is not None:
            report_parts(self, payload.split, message, error)
        elif error is not None:
            if isinstance(error, AnymailAPIError):
                # Whatever the ESP answered (an error, or a 2xx its backend could not
                # read) stays inspectable, as for a successful send.
                status.esp_response = error.response
            raise error
        else:
            status.esp_response = response
            status.set_recipient_status(self.parse_recipient_status(response, payload, message))

        self.run_post_send(message)
        self.raise_for_recipient_status(status, response, payload, message)

    def build_message_payload(
        self, message: EmailMessage, defaults: Mapping[str, Any]
    ) -> BasePayload:
        return self.payload_class(message, defaults, self)

    def post_to_esp(self, payload: BasePayload, message: EmailMessage) -> Any:
        """Send the payload to the ESP; return its raw response."""
        raise AnymailError(f"{type(self).__name__} must implement post_to_esp()")

    def parse_recipient_status(
        self, response: Any, payload: BasePayload, message: EmailMessage
    ) -> dict[str, AnymailRecipientStatus]:
        """Map each recipient's addr_spec to its AnymailRecipientStatus."""
        raise AnymailError(f"{type(self).__name__} must implement parse_recipient_status()")

    def run_post_send(self, message: EmailMessage) -> None:
        """Send post_send to every receiver; afterwards re-raise the first error, if any."""
        results = post_send.send_robust(
            self.__class__,
            message=message,
            status=message.anymail_status,
            esp_name=self.esp_name,
        )
        for _receiver, result in results:
            if isinstance(result, Exception):
                raise result

    def raise_for_recipient_status(
        self, status: AnymailStatus, response: Any, payload: BasePayload, message: EmailMessage
    ) -> None:
        if self.ignore_recipient_status or not status.status:
            return
        if status.status <= {"invalid", "rejected"}:
            refused = ", ".join(
                f"{address} ({recipient.status})"
                for address, recipient in status.recipients.items()
            )
            raise AnymailRecipientsRefused(
                f"{self.esp_name} refused every recipient of the message: {refused}. "
                "See the message's anymail_status for details, or set ANYMAIL "
                "IGNORE_RECIPIENT_STATUS to True to treat this as sent.",
                email_message=message,
                payload=payload,
                response=response,
                backend=self,
            )
