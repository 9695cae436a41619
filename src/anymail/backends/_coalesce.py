"""Coalescing: several messages of one ``send_messages()`` in one batch ESP call.

Some ESPs take a list of independent messages in one call and answer with a
result per message (Postmark ``email/batch``, Resend ``emails/batch``, Mailjet
``Messages``). Their backends inherit :class:`CoalescingBackend` and say which
payloads can share a call (``coalesce_key()``), how the call is made
(``coalesced_payload()``) and how its answer splits into each message's
recipient statuses (``parse_coalesced()``).

The caller sees what separate sends show: ``pre_send`` and the payload of each
message, in order, in the caller's thread; then, once the call is answered,
each message's ``anymail_status`` (its ``esp_response`` is the shared call's
response) and ``post_send``, in order. A message the ESP refused on its own
gets its error; the others of the call are reported as sent, and the first
error is raised after them (or logged, with ``fail_silently``).
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field
from itertools import accumulate
from typing import TYPE_CHECKING, Any, ClassVar, Final, TypeVar

from django.core.mail import EmailMessage

from ..conf import BOOL, Setting, get_bool
from ..message import AnymailRecipientStatus
from .base_requests import AnymailRequestsBackend, RequestsPayload, RequestsPayloadT

if TYPE_CHECKING:
    from .base import BasePayload

COALESCE_SENDS: Final = Setting(
    "coalesce_sends",
    BOOL,
    "Send several messages of one send_messages() in one batch API call, where the ESP has one.",
    default=True,
    per_esp=False,
)

#: A message's result in a coalesced call: its recipients' statuses, or its error.
Result = dict[str, AnymailRecipientStatus] | Exception

T = TypeVar("T")


class CoalescingBackend(AnymailRequestsBackend[RequestsPayloadT]):
    """An HTTP backend whose ESP has a batch call for independent messages."""

    declared_settings: ClassVar[tuple[Setting, ...]] = (COALESCE_SENDS,)

    def __init__(self, **kwargs: Any) -> None:
        self.coalesce_sends = get_bool(COALESCE_SENDS, kwargs=kwargs)
        super().__init__(**kwargs)

    def coalesce_key(self, payload: RequestsPayloadT) -> Hashable | None:
        """Payloads with equal keys can share one call; None: this one goes alone."""
        raise NotImplementedError

    def coalesced_size(self, payload: RequestsPayloadT) -> int:
        """How many of the call's messages (items) the payload takes."""
        return 1

    def coalesced_payload(self, payloads: Sequence[RequestsPayloadT]) -> RequestsPayload:
        """The one call that sends all ``payloads`` (same key, within the limits)."""
        raise NotImplementedError

    def parse_coalesced(
        self, response: Any, call: RequestsPayload, payloads: Sequence[RequestsPayloadT]
    ) -> list[Result]:
        """Each payload's recipient statuses (or error), from the call's response."""
        raise NotImplementedError


def shares(results: list[T], sizes: Sequence[int]) -> list[list[T]]:
    """A coalesced call's ``results`` (in request order) cut into each payload's run:
    ``sizes[i]`` results for the i-th payload."""
    ends = list(accumulate(sizes))
    return [results[end - size : end] for size, end in zip(sizes, ends, strict=True)]


class CallPayload(RequestsPayload):
    """The request of a coalesced call: the first payload's, with another endpoint and body.

    (Not built from a message: everything was normalized by the payloads it carries.)
    """

    def __init__(
        self,
        first: RequestsPayload,
        payloads: Sequence[RequestsPayload],
        endpoint: str,
        data: Any,
        headers: dict[str, str] | None = None,
    ) -> None:
        self.__dict__.update(first.__dict__)  # method, headers, backend, message ...
        self.payloads = list(payloads)
        self.endpoint = endpoint
        self.data = data
        self.headers = {**first.headers, **(headers or {})}

    def get_api_endpoint(self) -> str:
        return self.endpoint

    def serialize_data(self) -> bytes:
        return self.serialize_json(self.data)


def coalescer(backend: Any) -> CoalescingBackend[Any] | None:
    """The backend, if it coalesces sends (supported and not turned off)."""
    if isinstance(backend, CoalescingBackend) and backend.coalesce_sends:
        limits = backend.batch_limits
        if limits is not None and limits.messages > 1:
            return backend
    return None


@dataclass
class Group:
    """Messages gathered for one coalesced call."""

    key: Hashable
    limit: int
    items: list[tuple[int, EmailMessage, BasePayload]] = field(default_factory=list)
    size: int = 0

    def fits(self, key: Hashable, size: int) -> bool:
        return key == self.key and self.size + size <= self.limit

    def add(self, index: int, message: EmailMessage, payload: BasePayload, size: int) -> None:
        self.items.append((index, message, payload))
        self.size += size


def group_key(backend: CoalescingBackend[Any], payload: BasePayload) -> tuple[Hashable, int] | None:
    """(key, size) for a payload that can join a coalesced call; None if it can't."""
    if payload.split is not None or not isinstance(payload, RequestsPayload):
        return None
    try:
        key = backend.coalesce_key(payload)
    except Exception:  # e.g. unserializable esp_extra: sent alone, its own call reports it
        return None
    if key is None:
        return None
    size = backend.coalesced_size(payload)
    limits = backend.batch_limits
    assert limits is not None
    return (key, size) if size <= limits.messages else None
