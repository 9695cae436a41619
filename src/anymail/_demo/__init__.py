"""``anymail demo --offline --esp NAME``: the demo message sent through an ESP's backend, captured.

Each ESP is one :class:`DemoEsp` row in ``esps.py`` (its dummy options, how the
demo message is adjusted for it, and its canned success answer); ``_capture.py``
runs a row with the backend's traffic captured instead of sent.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final, Literal

from ..addresses import parse_single_address

#: An ESP's answer to a captured request: (status code, headers, body).
Answer = Callable[[Any], tuple[int, dict[str, str], str | bytes]]

#: A demo merge field: ``{{name}}`` (spaces allowed inside the braces).
_FIELD: Final = re.compile(r"\{\{\s*(\w+)\s*\}\}")
#: A merge field as REMOVE takes it out: with the space before it, and its <b> tags.
_FIELD_IN_TEXT: Final = re.compile(r"\s*(?:<b>)?\{\{\w+\}\}(?:</b>)?")
#: As ``merge_fields``: take the fields out of the text.
REMOVE: Final = ""


@dataclass(frozen=True)
class DemoEsp:
    """One ESP in the demo. The adjustments apply in the order of the fields below."""

    options: Mapping[str, Any]  # backend keyword arguments, with dummy credentials
    adapted: str  # what the demo changes for this ESP, as printed ("none ..." when nothing)
    answer: Answer  # the ESP's typical success answer
    #: The backend's dotted path (in DEMO_ESPS: the one of the ESP's slug).
    backend: str = ""
    #: A stored template replaces the subject (with ``template_subject``) and the bodies;
    #: ``template_attachments=False`` drops the attachments too.
    template_id: str | None = None
    template_subject: str | None = ""
    template_attachments: bool = True
    #: How the ESP writes the demo's ``{{name}}`` fields: a regex replacement for the
    #: field name (``r"%recipient.\1%"``), REMOVE, or None (the ESP reads them as they are).
    merge_fields: str | None = None
    #: The same for the subject, where it differs (an ESP that can't merge into it).
    subject_merge_fields: str | None = None
    esp_extra: Mapping[str, Any] | None = None
    #: The ESP has no merge features: merge_data, merge_global_data and merge_metadata go.
    without_merge: bool = False
    #: The ESP has no batch sends: each recipient gets a message of their own, with
    #: the merge fields filled in by the demo.
    one_message_each: bool = False
    #: How the backend reaches its ESP (what _capture intercepts).
    transport: Literal["requests", "boto3"] = "requests"

    @property
    def adjusts(self) -> bool:
        """Whether the demo changes its message for this ESP."""
        return any(
            (
                self.template_id is not None,
                self.merge_fields is not None,
                self.esp_extra is not None,
                self.without_merge,
                self.one_message_each,
            )
        )


def adapt(esp: DemoEsp, message: Any) -> list[Any]:
    """The demo message as ``esp`` sends it (changed in place, or replaced by several)."""
    if esp.template_id is not None:
        message.template_id = esp.template_id
        message.subject = esp.template_subject
        message.body = ""
        message.alternatives = []
        if not esp.template_attachments:
            message.attachments = []
    if esp.merge_fields is not None:
        subject_fields = esp.subject_merge_fields
        message.subject = _fields(
            message.subject, esp.merge_fields if subject_fields is None else subject_fields
        )
        message.body = _fields(message.body, esp.merge_fields)
        alternatives, message.alternatives = message.alternatives, []
        for content, mimetype in alternatives:
            message.attach_alternative(_fields(content, esp.merge_fields), mimetype)
    if esp.esp_extra is not None:
        message.esp_extra = dict(esp.esp_extra)
    if esp.without_merge:
        message.merge_data = message.merge_global_data = message.merge_metadata = None
    if esp.one_message_each:
        return [_filled_in(message, to) for to in message.to]
    return [message]


def _fields(text: str, replacement: str) -> str:
    if replacement == REMOVE:
        return _FIELD_IN_TEXT.sub("", text)
    return _FIELD.sub(replacement, text)


def _filled_in(message: Any, to: str) -> Any:
    """A copy of ``message`` to ``to`` alone, its merge fields filled in for them."""
    addr_spec = parse_single_address(to).addr_spec
    fields = {**message.merge_global_data, **message.merge_data[addr_spec]}

    def fill(text: str) -> str:
        return _FIELD.sub(lambda match: str(fields.get(match[1], match[0])), text)

    single = copy.deepcopy(message)
    single.to = [to]
    single.subject = fill(message.subject)
    single.body = fill(message.body)
    single.alternatives = []
    for content, mimetype in message.alternatives:
        single.attach_alternative(fill(content), mimetype)
    single.metadata = {**message.metadata, **message.merge_metadata[addr_spec]}
    single.merge_data = single.merge_global_data = single.merge_metadata = None
    return single
