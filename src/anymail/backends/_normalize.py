"""Normalization: a Django message plus send defaults becomes the send params.

A pure function of its inputs (no ESP, no settings), driven by the feature
table (``anymail._features``): each feature's value is read from the message,
merged with the send defaults by its row's rule, and converted by its row's
converter. The From/To/Cc/Reply-To headers and the bodies have steps of their
own, with the semantics of Django's SMTP backend.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any, Final, TypedDict

from django.core.mail import EmailMessage
from django.utils.encoding import force_str
from django.utils.functional import Promise

from .._features import FEATURES, FEATURES_BY_NAME, Convert, Merge
from ..addresses import EmailAddress, parse_address_list, parse_single_address
from ..conf import UNSET, get_django_setting
from ..utils import (
    Attachment,
    CaseInsensitiveDict,
    force_non_lazy,
    merge_dicts_deep,
    to_aware_datetime,
)

#: The body parts an ESP gets as text_body and html_body (any others are alternatives).
_BODY_PARAMS: Final = {"text/plain": "text_body", "text/html": "html_body"}


class SendParams(TypedDict, total=False):
    """The normalized send parameters (``BasePayload.send_params``): only features present.

    The keys are the features of ``anymail._features.FEATURES``, plus ``to_header``
    and ``cc_header`` (a To or Cc header that lists other addresses than the recipients).
    """

    from_email: list[EmailAddress]
    to: list[EmailAddress]
    to_header: list[EmailAddress]
    cc: list[EmailAddress]
    cc_header: list[EmailAddress]
    bcc: list[EmailAddress]
    subject: str
    reply_to: list[EmailAddress]
    extra_headers: CaseInsensitiveDict
    text_body: str
    html_body: str
    alternatives: list[tuple[str, str]]  # (content, mimetype)
    attachments: list[Attachment]
    envelope_sender: EmailAddress
    metadata: dict[str, Any]
    merge_metadata: dict[str, dict[str, Any]]  # keyed by the recipients' addr_spec
    merge_headers: dict[str, dict[str, str]]
    tags: list[str]
    track_clicks: bool
    track_opens: bool
    send_at: datetime | str
    template_id: Any
    merge_data: dict[str, dict[str, Any]]
    merge_global_data: dict[str, Any]
    esp_extra: dict[str, Any]


class Normalized:
    """The send params (only features present), and what enforcing them needs to know."""

    __slots__ = ("default_tags", "envelope_sender_from_header", "main_body_part", "params")

    def __init__(self) -> None:
        #: The SendParams, as the pipeline handles them (by feature name).
        self.params: dict[str, Any] = {}
        #: The envelope sender is from_email, because a From header took its place.
        self.envelope_sender_from_header = False
        #: A main body of another type (text/calendar), among the alternatives.
        self.main_body_part: tuple[str, str] | None = None
        #: The tags from the send defaults (they come first in params["tags"]).
        self.default_tags: list[str] = []


def normalize(
    message: EmailMessage, defaults: Mapping[str, Any], *, send_at_str: bool, esp_name: str
) -> Normalized:
    """Normalize ``message`` merged with ``defaults`` (SEND_DEFAULTS and the ESP's own).

    ``send_at_str``: a str send_at is passed on unchanged (else it is a TypeError
    naming ``esp_name``).
    """
    return _Normalizer(message, defaults, send_at_str, esp_name).run()


def merged(message: Any, defaults: Mapping[str, Any], key: str, merge: Merge) -> Any:
    """The message's attribute ``key`` merged with the send default ``key``.

    UNSET when neither has it; None when the message turns the default off.
    """
    value: Any = getattr(message, key, UNSET)
    default: Any = defaults.get(key, UNSET)
    if value is None or default is UNSET or default is None:
        return value
    if value is UNSET or (merge == "text" and value == ""):
        return default
    if merge == "list":
        return [*default, *value]
    if merge == "dict":
        return {**default, **value}
    if merge == "deep":
        return merge_dicts_deep(default, value)
    return value


def is_set(message: Any, defaults: Mapping[str, Any], name: str) -> bool:
    """Whether normalizing would give feature ``name`` a value (e.g. to pick a payload)."""
    feature = FEATURES_BY_NAME[name]
    value = merged(message, defaults, feature.attribute or name, feature.merge)
    if value is None or value is UNSET:
        return False
    return not (feature.empty_is_absent and _is_empty(force_non_lazy(value)))


def _is_empty(value: Any) -> bool:
    # ("", [], {} ...: a number or a bool is a value, even 0 or False.)
    return value is not None and not value and not isinstance(value, _NUMBERS)


#: A false value of these types is a value, not an empty one (as a tuple: ``int | float``
#: would build a union object at each use).
_NUMBERS: Final = (int, float)
#: A str, or a lazy one (gettext_lazy).
_TEXT: Final = (str, Promise)
#: Types whose empty value any converter turns into an empty value.
_CONTAINERS: Final = (list, tuple, dict)

#: The features an empty value leaves out.
_EMPTY_IS_ABSENT: Final = tuple(feature.name for feature in FEATURES if feature.empty_is_absent)

#: The (name, value) of a header the message doesn't have.
_NO_HEADER: Final = (None, None)


class _Normalizer(Normalized):
    """Normalized, with what it takes to build it (it is its own result)."""

    __slots__ = ("defaults", "esp_name", "message", "overrides", "send_at_str", "shown")

    def __init__(
        self, message: EmailMessage, defaults: Mapping[str, Any], send_at_str: bool, esp_name: str
    ) -> None:
        # (Normalized's fields set here: this runs for every message.)
        self.params = {}
        self.envelope_sender_from_header = False
        self.main_body_part = None
        self.default_tags = []
        self.message = message
        self.defaults = defaults
        self.send_at_str = send_at_str
        self.esp_name = esp_name
        #: Values that replace a feature's merged value (from the address headers).
        self.overrides: dict[str, Any] = {}
        #: The To and Cc headers, if the message has them.
        self.shown: tuple[Any, Any] = (None, None)

    def run(self) -> Normalized:
        headers = self._headers()
        self.shown = (headers.pop("to", _NO_HEADER)[1], headers.pop("cc", _NO_HEADER)[1])
        header_reply_to = headers.pop("reply-to", _NO_HEADER)[1]
        if header_reply_to is not None:
            self.overrides["reply_to"] = header_reply_to
        if headers:  # (else it would be left out as empty below)
            self.params["extra_headers"] = CaseInsensitiveDict(
                {force_str(k): force_str(v) for k, v in headers.values()}
            )
        params, overrides, message, defaults = (
            self.params,
            self.overrides,
            self.message,
            self.defaults,
        )
        for name, key, merge, convert, empty_is_absent in _STEPS:
            if convert is None:  # a step of its own
                if name == "text_body":
                    self._bodies()
                elif self.shown != (None, None):
                    self._shown_recipients()
                continue
            # (The common case spelled out: this runs for every feature of every message.)
            if overrides and name in overrides:
                value = overrides[name]
            elif merge == "tags":
                tags = self._tags()
                value = None if tags is None else [*tags[0], *tags[1]]
            elif defaults and key in defaults:
                value = merged(message, defaults, key, merge)
            else:
                value = getattr(message, key, UNSET)
            if value is None or value is UNSET:
                continue
            if empty_is_absent and type(value) in _CONTAINERS and not value:
                # Django's empty cc, bcc, reply_to and attachments lists: converted,
                # they would only be left out below as empty.
                continue
            params[name] = convert(self, value, name)
        if self.envelope_sender_from_header:
            self._drop_repeated_envelope_sender()
        for name in _EMPTY_IS_ABSENT:
            # ("", [], {} ...: a number or a bool is a value, even 0 or False.)
            if name in params and not params[name] and not isinstance(params[name], _NUMBERS):
                del params[name]
        return self

    # --- addresses ----------------------------------------------------------------

    def _headers(self) -> dict[str, tuple[Any, Any]]:
        """The merged extra headers, without From (which it applies to from_email).

        As {lowercased name: (name, value)}: merged as a CaseInsensitiveDict would
        (the last source's spelling of a name wins, in the first one's place), with
        plain dict operations, which cost far less (this runs for every message).
        """
        headers: dict[str, tuple[Any, Any]] = {}
        defaults = self.defaults
        for source in (
            defaults.get("headers"),
            defaults.get("extra_headers"),
            self.message.extra_headers,
        ):
            if source:
                for name, value in dict(source).items():
                    headers[name.lower()] = (name, value)
        # Django's SMTP backend semantics for address headers:
        header_from = headers.pop("from", _NO_HEADER)[1]
        from_email = merged(self.message, self.defaults, "from_email", "replace")
        envelope_sender = merged(self.message, self.defaults, "envelope_sender", "replace")
        if header_from is not None:
            # The From header is what recipients see; from_email becomes the
            # envelope sender (unless one was given explicitly).
            if envelope_sender in (UNSET, None) and from_email:
                self.overrides["envelope_sender"] = from_email
                self.envelope_sender_from_header = True
            from_email = header_from
        if from_email not in (None, UNSET, ""):
            self.params["from_email"] = parse_address_list(from_email, "from_email")
        return headers

    def _shown_recipients(self) -> None:
        """A To or Cc header that lists other addresses than the recipients."""
        for name, header in zip(("to", "cc"), self.shown, strict=True):
            if header is not None:
                addresses = parse_address_list(header, f"{name.title()} header")
                sent = self.params.get(name, [])
                if [a.addr_spec for a in addresses] != [a.addr_spec for a in sent]:
                    self.params[f"{name}_header"] = addresses

    def _drop_repeated_envelope_sender(self) -> None:
        envelope_sender = self.params.get("envelope_sender")
        if envelope_sender is not None and [envelope_sender.addr_spec] == [
            address.addr_spec for address in self.params.get("from_email", [])
        ]:
            # The From header just repeats from_email: no envelope sender to set.
            del self.params["envelope_sender"]

    def _per_recipient(self, value: Mapping[str, Any], name: str) -> dict[str, Any]:
        """Per-recipient data keyed exactly as the recipients' addr_spec.

        So a key written with a display name, a Unicode domain or other letter
        case still finds its recipient (addresses are matched ignoring case,
        as mailbox providers do).
        """
        recipients = {
            address.addr_spec.lower(): address.addr_spec
            for field in ("to", "cc", "bcc")
            for address in self.params.get(field, [])
        }
        result: dict[str, Any] = {}
        for key, data in force_non_lazy(dict(value)).items():
            addr_spec = parse_single_address(key, f"{name} key").addr_spec
            result[recipients.get(addr_spec.lower(), addr_spec)] = data
        return result

    # --- content --------------------------------------------------------------------

    def _bodies(self) -> None:
        """text_body and html_body, and the alternatives (other parts, in order)."""
        params = self.params
        alternatives = []
        body = merged(self.message, self.defaults, "body", "text")
        if body not in (None, UNSET, ""):
            mimetype = f"text/{(self.message.content_subtype or 'plain').lower()}"
            if mimetype in _BODY_PARAMS:
                params[_BODY_PARAMS[mimetype]] = force_str(body)
            else:
                # e.g. text/calendar: sent as a part of its own type where the ESP
                # can send one (see the capability checks), never silently as text.
                self.main_body_part = (force_str(body), mimetype)
                alternatives.append(self.main_body_part)
        for content, mimetype in getattr(self.message, "alternatives", None) or []:
            mimetype = (mimetype or "").split(";", 1)[0].strip().lower()
            kind = _BODY_PARAMS.get(mimetype)
            if kind is not None and kind not in params:
                # The first text/plain or text/html part is that body, whichever
                # came first: an html body with a text alternative sends both.
                params[kind] = force_str(content)
            else:
                alternatives.append((force_str(content), mimetype))
        params["alternatives"] = alternatives

    def _attachments(self, value: Any, name: str) -> list[Attachment]:
        # (The charset looked up once, not for each attachment: reading a Django
        # setting costs more than converting a small attachment.)
        charset = self.message.encoding or get_django_setting("DEFAULT_CHARSET")
        return [Attachment.from_django(attachment, charset) for attachment in value]

    def _tags(self) -> tuple[list[str], list[str]] | None:
        """(tags from the send defaults, the message's own tags), or None when unset.

        Kept apart so that an ESP's tag limit can say where the tags came from,
        and keep the message's own when ignoring the excess.
        """
        own = getattr(self.message, "tags", UNSET)
        default = self.defaults.get("tags", UNSET)
        if own is None or (own is UNSET and default in (None, UNSET)):
            return None
        self.default_tags = _tag_list(default)
        return self.default_tags, _tag_list(own)

    def _send_at(self, value: Any) -> datetime | str:
        if isinstance(value, _TEXT):
            if self.send_at_str:
                # Passed through as given (or refused or left out as unsupported).
                return force_str(value)
            raise TypeError(
                f"{self.esp_name} takes send_at as a datetime, date, or int/float POSIX "
                f"timestamp, not a str ({force_str(value)!r}). Convert it first, e.g. "
                "with datetime.fromisoformat()."
            )
        return to_aware_datetime(value)


def _tag_list(value: Any) -> list[str]:
    if value is None or value is UNSET:
        return []
    if isinstance(value, _TEXT):
        return [force_str(value)]
    return [force_str(tag) for tag in value]


#: Each converter of the feature table: (normalizer, merged value, feature name) -> value.
_Converter = Callable[[_Normalizer, Any, str], Any]
_CONVERTERS: Final[dict[Convert, _Converter]] = {
    "addresses": lambda _, value, name: parse_address_list(value, name),
    "address": lambda _, value, name: parse_single_address(value, name),
    "str": lambda _, value, name: force_str(value),
    "bool": lambda _, value, name: bool(value),
    "dict": lambda _, value, name: force_non_lazy(dict(value)),
    "per_recipient": _Normalizer._per_recipient,
    "tags": lambda _, value, name: value,  # (made a list of str by _tags)
    "send_at": lambda normalizer, value, name: normalizer._send_at(value),
    "attachments": _Normalizer._attachments,
    "value": lambda _, value, name: force_non_lazy(value),
}


def _steps() -> tuple[tuple[str, str, Merge, _Converter | None, bool], ...]:
    """What run() does for each feature, in the table's order: (name, the attribute
    it is read from, merge rule, converter, empty_is_absent), and the steps of their
    own (converter None): the shown To/Cc headers after the recipients, and the bodies."""
    steps: list[tuple[str, str, Merge, _Converter | None, bool]] = []
    for feature in FEATURES:
        if feature.convert is not None:
            key = feature.attribute or feature.name
            converter = _CONVERTERS[feature.convert]
            steps.append((feature.name, key, feature.merge, converter, feature.empty_is_absent))
        if feature.name in ("bcc", "text_body"):
            steps.append((feature.name, "", "replace", None, False))
    return tuple(steps)


_STEPS: Final = _steps()
