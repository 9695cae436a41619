"""Capabilities: what a payload class can send, and the checks that enforce it.

A payload declares ``capabilities``; one whose limits change when the message
uses a stored template also declares ``template_capabilities``, a clone of the
first with the differences (as ``email.policy`` clones a policy). The base
(``backends/base.py``) picks the declaration by ``template_id`` and enforces it
with the pure functions here: each takes the send params, a declaration and a
``refuse(feature)`` callback (the payload's ``unsupported_feature``, which
raises, or returns when ignoring: the feature is then left out here).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from .._features import BATCH_FEATURES, FEATURES, Feature
from ..addresses import EmailAddress, contains_line_break
from ..exceptions import AnymailInvalidHeader
from ..utils import Attachment
from ._normalize import Normalized

#: A capability: False (unsupported), True (supported), or a str: supported,
#: with a short qualification shown in the docs' feature matrix ("domain only").
Support = bool | str

#: Reports a feature the ESP can't send (raises, unless ignoring).
Refuse = Callable[[str], None]


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
    subject: Support = True  # (an empty one, Django's default, is never refused)
    body: Support = True  # the text and html bodies and any alternatives
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
    #: How a refusal that only one declaration makes (with or without a template)
    #: names the feature, where "<feature> with template_id" (or "without") won't
    #: do. Keys: the fields above, "to_header", "cc_header".
    refusals: Mapping[str, str] = field(default_factory=dict, hash=False)

    def replace(self, **changes: Any) -> Capabilities:
        """A clone with ``changes`` (e.g. the declaration for template sends)."""
        return dataclasses.replace(self, **changes)


#: The features a declaration refuses as a whole (attachments, alternatives and
#: the rest are checked their own ways). Anymail's own features are checked first.
GATED_FEATURES: Final = sorted(
    (feature for feature in FEATURES if feature.capability is not None),
    key=lambda feature: not feature.is_anymail_attribute,
)

#: (feature, capability) of each gated feature, in the order enforce() refuses them.
_GATED_PAIRS: Final = tuple(
    (feature.name, feature.capability or feature.name) for feature in GATED_FEATURES
)

#: The fields a template declaration may change: checked as each feature's hook
#: comes due, where ESPs used to check them by hand (so errors keep their order).
MODE_FIELDS: Final = frozenset(
    [
        *(feature.capability for feature in GATED_FEATURES if feature.capability),
        "attachments",
        "inline_images",
        "spoofed_to",
    ]
)


def describe(key: str) -> str:
    """How an error names a refused feature ("inline_images" -> "inline images")."""
    if key == "inline_images":
        return "inline images"
    if key in ("to_header", "cc_header"):
        header = key[:2].title()
        return f"a {header} header that differs from the message's {header.lower()} list"
    return key


# --- line breaks -----------------------------------------------------------------------

#: (dict first: the usual case, matched without the Mapping ABC's slower check.)
_MAPPINGS: Final = (dict, Mapping)


def check_line_breaks(params: Mapping[str, Any]) -> None:
    """Refuse line breaks in every value an ESP may put in an email header.

    Like Django's own backends: a line break there could add headers of its
    own (header injection), e.g. a subject ending in "\\r\\nBcc: ...".
    """
    _check_header_lines("extra_headers", params.get("extra_headers", {}))
    for recipient_headers in params.get("merge_headers", {}).values():
        _check_header_lines("merge_headers", recipient_headers)
    _check_value_lines("subject", params.get("subject"))
    _check_value_lines("template_id", params.get("template_id"))
    for tag in params.get("tags", []):
        _check_value_lines("tag", tag)
    metadata = [params.get("metadata", {}), *params.get("merge_metadata", {}).values()]
    for data in metadata:
        for key, value in data.items() if isinstance(data, _MAPPINGS) else ():
            _check_value_lines("metadata key", key)
            _check_value_lines("metadata value", value, f" (key {key!r})")
    for attachment in params.get("attachments", []):
        _check_value_lines("attachment filename", attachment.name)
        _check_value_lines("attachment mimetype", attachment.mimetype)
        _check_value_lines("Content-ID", attachment.content_id)


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


# --- capabilities ------------------------------------------------------------------------


def enforce(params: dict[str, Any], mode: Mode, normalized: Normalized, refuse: Refuse) -> None:
    """Leave out (after refusing) whatever ``mode.before_hooks`` does not allow."""
    caps = mode.before_hooks
    for feature, capability in mode.gates_closed:
        if feature in params:
            described = capability
            if feature == "envelope_sender" and normalized.envelope_sender_from_header:
                described = (
                    "envelope_sender (with a From header, Django's convention makes "
                    "from_email the envelope sender; give from_email the same address "
                    "as the From header to avoid this)"
                )
            refuse(described)
            del params[feature]

    _enforce_counts(params, caps, normalized.default_tags, refuse)
    for field_name in ("to_header", "cc_header"):
        if field_name in params and not caps.spoofed_to:
            refuse(describe(field_name))
            del params[field_name]
    if "alternatives" in params:
        _enforce_alternatives(params, caps, normalized.main_body_part, refuse)
    if params.get("attachments"):
        attachments = filter_attachments(params["attachments"], caps, refuse, describe)
        if attachments:
            params["attachments"] = attachments
        else:
            del params["attachments"]
    if not caps.eai_from:
        _enforce_ascii_mailboxes(params, ("from_email", "envelope_sender"), refuse)
    if not caps.eai_recipients:
        _enforce_ascii_mailboxes(params, ("to", "cc", "bcc", "reply_to"), refuse)


def _enforce_counts(
    params: dict[str, Any], caps: Capabilities, default_tags: list[str], refuse: Refuse
) -> None:
    max_tags = caps.max_tags
    if "tags" in params and max_tags is not None and len(params["tags"]) > max_tags:
        own = params["tags"][len(default_tags) :]
        feature = "multiple tags" if max_tags == 1 else f"more than {max_tags} tags"
        if default_tags:
            origins = [f"{', '.join(map(repr, default_tags))} from the send defaults"]
            if own:
                origins.append(f"{', '.join(map(repr, own))} from the message")
            feature += f" ({'; '.join(origins)})"
        refuse(feature)
        # The message's own tags are the ones it was written for: keep them first.
        own = own[:max_tags]
        params["tags"] = [*default_tags[: max_tags - len(own)], *own]
    if (
        "reply_to" in params
        and caps.max_reply_to is not None
        and len(params["reply_to"]) > caps.max_reply_to
    ):
        refuse("multiple reply_to addresses")
        params["reply_to"] = params["reply_to"][: caps.max_reply_to]
    if len(params.get("from_email", [])) > 1 and not caps.multiple_from:
        refuse("multiple from addresses")
        params["from_email"] = params["from_email"][:1]


def _enforce_alternatives(
    params: dict[str, Any],
    caps: Capabilities,
    main_body_part: tuple[str, str] | None,
    refuse: Refuse,
) -> None:
    kept = []
    for part in params.get("alternatives", []):
        mimetype = part[1]
        if mimetype == "text/html":
            if caps.multiple_html:
                kept.append(part)
            else:
                refuse("multiple html parts")
        elif mimetype in caps.alternatives or "*" in caps.alternatives:
            kept.append(part)
        elif part is main_body_part:
            subtype = mimetype.split("/", 1)[1]
            refuse(
                f"a main body with content_subtype '{subtype}' (only 'plain' and "
                "'html'; send other content as an attachment)"
            )
        else:
            refuse(f"alternative part with type '{mimetype}'")
    if kept:
        params["alternatives"] = kept
    else:
        params.pop("alternatives", None)


def filter_attachments(
    attachments: list[Attachment],
    caps: Capabilities,
    refuse: Refuse,
    name: Callable[[str], str],
) -> list[Attachment]:
    """The attachments ``caps`` allows (``name`` words the refusals)."""
    if not caps.inline_images and any(a.inline for a in attachments):
        refuse(name("inline_images"))
        if caps.attachments:
            # Nothing lost: the image still reaches the recipient, attached.
            attachments = [_as_regular_attachment(a) for a in attachments]
        else:
            attachments = [a for a in attachments if not a.inline]
    if not caps.attachments and any(not a.inline for a in attachments):
        refuse(name("attachments"))
        attachments = [a for a in attachments if a.inline]
    return attachments


def _as_regular_attachment(attachment: Attachment) -> Attachment:
    if not attachment.inline:
        return attachment
    return Attachment(
        attachment.content, attachment.mimetype, attachment.name, charset=attachment.charset
    )


def _enforce_ascii_mailboxes(
    params: Mapping[str, Any], fields: Sequence[str], refuse: Refuse
) -> None:
    for field_name in fields:
        value = params.get(field_name)
        addresses = [value] if isinstance(value, EmailAddress) else value or []
        for address in addresses:
            if address.is_eai:
                refuse(f"non-ASCII mailbox {address.addr_spec!r} in {field_name} (EAI)")


# --- template mode -------------------------------------------------------------------


class Mode:
    """The declaration a payload enforces for one message, and how."""

    __slots__ = ("active", "before_hooks", "checked", "deferred", "gates_closed", "uses_template")

    def __init__(
        self,
        active: Capabilities,
        before_hooks: Capabilities,
        uses_template: bool,
        deferred: frozenset[str] = frozenset(),
    ) -> None:
        #: The declaration in force (template_capabilities with a template_id).
        self.active = active
        #: What enforce() checks before the hooks: ``active``, the deferred fields allowed.
        self.before_hooks = before_hooks
        #: The (feature, capability) pairs of the gated features ``before_hooks`` refuses:
        #: enforce() looks for those only (usually few, often none).
        self.gates_closed = tuple(
            (feature, capability)
            for feature, capability in _GATED_PAIRS
            if not getattr(before_hooks, capability)
        )
        self.uses_template = uses_template
        #: The fields the two declarations differ in: refused as each hook comes due.
        self.deferred = deferred
        #: The features allows() has something to check for: those of the deferred
        #: fields this mode's declaration refuses (often none, without a template).
        refused = frozenset(name for name in deferred if not getattr(active, name))
        self.checked = frozenset(
            feature.name
            for feature in FEATURES
            if feature.capability in refused
            or (feature.name == "attachments" and refused & {"attachments", "inline_images"})
        )

    def allows(
        self, feature: Feature, params: dict[str, Any], refuse: Refuse, can_batch: bool
    ) -> bool:
        """Whether ``feature`` still goes to its hook, after this mode's own refusals.

        ``can_batch``: whether this mode can send each "to" its own message.
        """
        deferred = self.deferred
        if feature.name == "attachments" and deferred & {"attachments", "inline_images"}:
            attachments = filter_attachments(params["attachments"], self.active, refuse, self.name)
            if attachments:
                params["attachments"] = attachments
                return True
            del params["attachments"]
            return False
        capability = feature.capability
        if capability not in deferred or getattr(self.active, capability):
            return True
        value = params[feature.name]
        if value == "":
            return False  # Django's default subject: nothing asked for, nothing to send
        if feature.name in BATCH_FEATURES and can_batch and not any(value.values()):
            return True  # no per-recipient data: it only asks for a batch, which this can send
        refuse(self.name(capability))
        del params[feature.name]
        return False

    def allows_shown(self, key: str, params: dict[str, Any], refuse: Refuse) -> bool:
        """Whether a spoofed To or Cc header (``key``: "to_header") goes to its hook."""
        if "spoofed_to" not in self.deferred or self.active.spoofed_to:
            return True
        refuse(self.name(key))
        del params[key]
        return False

    def name(self, key: str) -> str:
        """How an error names a feature only this mode's declaration refuses."""
        if key in self.active.refusals:
            return self.active.refusals[key]
        return f"{describe(key)} {'with' if self.uses_template else 'without'} template_id"


def select_mode(plain: Capabilities, template: Capabilities | None, uses_template: bool) -> Mode:
    """The Mode for a message with (``uses_template``) or without a template_id."""
    # Cached by the declarations' identity: hashing one (every field) costs more than
    # all the rest. (The cache holds them, so their ids can't be reused meanwhile.)
    key = (id(plain), id(template), uses_template)
    cached = _MODES.get(key)
    if cached is None:
        other = plain if template is None else template
        deferred = frozenset(
            name for name in MODE_FIELDS if bool(getattr(plain, name)) != bool(getattr(other, name))
        )
        active = other if uses_template else plain
        before_hooks = active.replace(**dict.fromkeys(deferred, True))
        mode = Mode(active, before_hooks, uses_template, deferred)
        cached = _MODES[key] = (plain, template, mode)
    return cached[2]


_MODES: dict[tuple[int, int, bool], tuple[Capabilities, Capabilities | None, Mode]] = {}
