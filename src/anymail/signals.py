"""Anymail's signals and the normalized event objects they carry.

- ``pre_send(sender, message, esp_name)``: before each message is sent; a receiver
  may modify the message, or raise ``AnymailCancelSend`` to skip it silently.
- ``post_send(sender, message, status, esp_name)``: after each message is sent.
- ``tracking(sender, event, esp_name)``: one per ESP delivery/engagement event.
- ``inbound(sender, event, esp_name)``: one per received message.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Final

from django.dispatch import Signal

pre_send = Signal()
post_send = Signal()
tracking = Signal()
inbound = Signal()


class EventType:
    """The normalized ``event_type`` values (plain ``str`` constants)."""

    # Delivery and tracking events, in their usual life-cycle order
    QUEUED: Final = "queued"
    SENT: Final = "sent"
    REJECTED: Final = "rejected"
    FAILED: Final = "failed"
    BOUNCED: Final = "bounced"
    DEFERRED: Final = "deferred"
    DELIVERED: Final = "delivered"
    AUTORESPONDED: Final = "autoresponded"
    OPENED: Final = "opened"
    CLICKED: Final = "clicked"
    COMPLAINED: Final = "complained"
    UNSUBSCRIBED: Final = "unsubscribed"
    SUBSCRIBED: Final = "subscribed"
    INBOUND: Final = "inbound"
    INBOUND_FAILED: Final = "inbound_failed"
    UNKNOWN: Final = "unknown"


class RejectReason:
    """The normalized ``reject_reason`` values for bounced and rejected events."""

    INVALID: Final = "invalid"
    BOUNCED: Final = "bounced"
    TIMED_OUT: Final = "timed_out"
    BLOCKED: Final = "blocked"
    SPAM: Final = "spam"
    UNSUBSCRIBED: Final = "unsubscribed"
    OTHER: Final = "other"


TRACKING_EVENT_TYPES: Final = frozenset(
    value
    for name, value in vars(EventType).items()
    if name.isupper() and value not in (EventType.INBOUND, EventType.INBOUND_FAILED)
)
REJECT_REASONS: Final = frozenset(
    value for name, value in vars(RejectReason).items() if name.isupper()
)


class AnymailEvent:
    """Base for normalized webhook events."""

    def __init__(
        self,
        event_type: str,
        timestamp: datetime | None = None,
        event_id: str | None = None,
        esp_event: Any = None,
    ) -> None:
        self.event_type = event_type
        self.timestamp = timestamp
        self.event_id = event_id
        self.esp_event = esp_event

    def __repr__(self) -> str:
        fields = ", ".join(
            f"{key}={value!r}"
            for key, value in vars(self).items()
            if key != "esp_event" and value not in (None, [], {})
        )
        return f"{type(self).__name__}({fields})"


class AnymailTrackingEvent(AnymailEvent):
    """A normalized delivery or engagement event (sent with the ``tracking`` signal)."""

    def __init__(
        self,
        event_type: str,
        timestamp: datetime | None = None,
        event_id: str | None = None,
        esp_event: Any = None,
        *,
        message_id: str | int | None = None,  # as the send gave it (Postal: int)
        recipient: str | None = None,
        reject_reason: str | None = None,
        description: str | None = None,
        mta_response: str | None = None,
        tags: list[str] | None = None,
        metadata: dict[str, Any] | None = None,
        click_url: str | None = None,
        user_agent: str | None = None,
    ) -> None:
        super().__init__(event_type, timestamp, event_id, esp_event)
        self.message_id = message_id
        self.recipient = recipient
        self.reject_reason = reject_reason
        self.description = description
        self.mta_response = mta_response
        self.tags = tags if tags is not None else []
        self.metadata = metadata if metadata is not None else {}
        self.click_url = click_url
        self.user_agent = user_agent


class AnymailInboundEvent(AnymailEvent):
    """A received message (sent with the ``inbound`` signal); see ``event.message``."""

    def __init__(
        self,
        event_type: str = EventType.INBOUND,
        timestamp: datetime | None = None,
        event_id: str | None = None,
        esp_event: Any = None,
        *,
        message: Any = None,
    ) -> None:
        super().__init__(event_type, timestamp, event_id, esp_event)
        self.message = message
