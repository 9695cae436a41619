"""The normalized send features: one row per feature, the one list of them.

Read by the send pipeline (``backends/base.py``: where each value comes from, how
send defaults merge into it, how it is normalized, when it counts as absent,
which capability gates it, and the order of the ESP hooks), the system checks
(the keys SEND_DEFAULTS may have), ``AnymailMessage`` (its constructor
arguments), the test backend (the hooks it records) and the docs' feature
matrix (its rows).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal

#: How send defaults combine with the message's own value (a message value of
#: None always turns the default off):
#:
#: - "replace": the message's value, when it has one, else the default;
#: - "text": the same, but "" (what Django sets when not given) takes the default;
#: - "list": the defaults' items, then the message's;
#: - "dict": the defaults' keys, updated with the message's;
#: - "deep": a deep merge, the message's values winning (esp_extra);
#: - "tags": like "list", keeping apart which tags came from the defaults;
#: - "headers": a case-insensitive merge, the message's headers winning.
Merge = Literal["replace", "text", "list", "dict", "deep", "tags", "headers"]

#: How the merged value is normalized (see ``CONVERTERS`` in the pipeline):
#:
#: - "addresses": a list of EmailAddress; "address": one EmailAddress;
#: - "str", "bool": that type; "dict": a plain dict, lazy strings resolved;
#: - "per_recipient": a dict keyed by the recipients' addr_spec;
#: - "tags": a list of str; "send_at": an aware datetime (or str, see Capabilities);
#: - "attachments": a list of Attachment; "value": the value, lazy strings resolved;
#: - None: normalized by a step of its own (the From header rules, the bodies).
Convert = Literal[
    "addresses",
    "address",
    "str",
    "bool",
    "dict",
    "per_recipient",
    "tags",
    "send_at",
    "attachments",
    "value",
]

#: Where a feature appears in the feature matrix.
Group = Literal["anymail", "template", "django"]


@dataclass(frozen=True)
class Feature:
    """One normalized feature (a key of ``BasePayload.send_params``)."""

    name: str
    #: The message attribute it is read from (None: built from other attributes).
    attribute: str | None
    #: The SEND_DEFAULTS keys that supply a default (empty: none can).
    default_keys: tuple[str, ...]
    merge: Merge
    convert: Convert | None
    #: Whether an empty value ("", [], {}) means the same as not set.
    empty_is_absent: bool
    #: The Capabilities field that, when false, refuses it (None: nothing does, or
    #: the pipeline checks it its own way: attachments). Several features may share
    #: one ("body": the text and html bodies and the alternatives).
    capability: str | None
    #: The payload hook that receives it.
    hook: str
    group: Group
    #: (label, Capabilities field) of each row it has in the feature matrix.
    matrix: tuple[tuple[str, str], ...] = ()

    @property
    def is_anymail_attribute(self) -> bool:
        """Whether it is one of Anymail's additions to Django's EmailMessage."""
        return self.group != "django"


def _feature(
    name: str,
    merge: Merge,
    convert: Convert | None,
    group: Group,
    *,
    attribute: str | None = "",
    default_keys: tuple[str, ...] | None = None,
    empty_is_absent: bool = False,
    capability: str | None = "",
    hook: str = "",
    matrix: tuple[tuple[str, str], ...] | None = None,
) -> Feature:
    """A row, where most fields default to the feature's own name."""
    attribute = name if attribute == "" else attribute
    return Feature(
        name=name,
        attribute=attribute,
        default_keys=(attribute,) if default_keys is None and attribute else default_keys or (),
        merge=merge,
        convert=convert,
        empty_is_absent=empty_is_absent,
        capability=name if capability == "" else capability,
        hook=hook or f"set_{name}",
        group=group,
        matrix=((name, name),) if matrix is None else matrix,
    )


def _body(name: str, matrix: tuple[tuple[str, str], ...]) -> Feature:
    """The row of one of the two bodies: both come from the message's body (and
    its alternatives), normalized by a step of their own and gated by "body"."""
    return _feature(
        name,
        "text",
        None,
        "django",
        attribute="body",
        empty_is_absent=True,
        capability="body",
        matrix=matrix,
    )


#: Every feature, in the order the pipeline calls their hooks (esp_extra last,
#: so that it can override anything the other hooks wrote).
FEATURES: Final = (
    _feature(
        "from_email",
        "replace",
        None,
        "django",
        capability=None,
        matrix=(("non-ASCII mailbox (EAI) in from", "eai_from"),),
    ),
    _feature(
        "to",
        "list",
        "addresses",
        "django",
        empty_is_absent=True,
        capability=None,
        matrix=(("non-ASCII mailbox (EAI) in recipients", "eai_recipients"),),
    ),
    _feature(
        "cc", "list", "addresses", "django", empty_is_absent=True, matrix=(("cc / bcc", "cc"),)
    ),
    _feature("bcc", "list", "addresses", "django", empty_is_absent=True, matrix=()),
    _feature("subject", "text", "str", "django"),
    _feature("reply_to", "list", "addresses", "django", empty_is_absent=True),
    _feature(
        "extra_headers",
        "headers",
        None,
        "django",
        default_keys=("headers", "extra_headers"),
        empty_is_absent=True,
        matrix=(("extra headers", "extra_headers"),),
    ),
    _body("text_body", matrix=(("text / html body", "body"),)),
    _body("html_body", matrix=()),
    _feature(
        "alternatives",
        "replace",
        None,
        "django",
        default_keys=(),
        empty_is_absent=True,
        capability="body",  # (which types: checked its own way, see Capabilities)
        hook="add_alternative",
        matrix=(("AMP or other alternative parts", "alternatives"),),
    ),
    _feature(
        "attachments",
        "list",
        "attachments",
        "django",
        empty_is_absent=True,
        capability=None,
        hook="add_attachment",
        matrix=(("attachments", "attachments"), ("inline images", "inline_images")),
    ),
    _feature("envelope_sender", "replace", "address", "anymail"),
    _feature("metadata", "dict", "dict", "anymail", empty_is_absent=True),
    _feature("merge_metadata", "dict", "per_recipient", "anymail"),
    _feature("merge_headers", "replace", "per_recipient", "anymail"),
    _feature("tags", "tags", "tags", "anymail", empty_is_absent=True),
    _feature("track_clicks", "replace", "bool", "anymail"),
    _feature("track_opens", "replace", "bool", "anymail"),
    _feature("send_at", "replace", "send_at", "anymail"),
    _feature("template_id", "replace", "value", "template", empty_is_absent=True),
    _feature("merge_data", "dict", "per_recipient", "template"),
    _feature("merge_global_data", "dict", "dict", "template", empty_is_absent=True),
    _feature("esp_extra", "deep", "dict", "anymail", empty_is_absent=True, matrix=()),
)

FEATURES_BY_NAME: Final = {feature.name: feature for feature in FEATURES}

#: Features whose presence (even empty) makes a send a batch: a message per "to".
BATCH_FEATURES: Final = ("merge_data", "merge_metadata", "merge_headers")

#: The Anymail attributes a message may carry, in the order backends apply them.
ANYMAIL_MESSAGE_ATTRIBUTES: Final = tuple(
    feature.name for feature in FEATURES if feature.is_anymail_attribute
)

#: The keys SEND_DEFAULTS (and <ESP>_SEND_DEFAULTS) may have.
SEND_DEFAULTS_KEYS: Final = frozenset(key for feature in FEATURES for key in feature.default_keys)
