"""Helpers the per-ESP webhook tests share: posting as the ESP would, and its events."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from django.dispatch import Signal
from django.test import Client

from anymail.signals import AnymailInboundEvent, AnymailTrackingEvent, inbound, tracking
from anymail.testing import captured_events, webhook_request

Post = Callable[..., Any]

#: A tracking event's normalized fields (all but esp_event).
EVENT_FIELDS = (
    "event_type",
    "timestamp",
    "event_id",
    "message_id",
    "recipient",
    "reject_reason",
    "description",
    "mta_response",
    "tags",
    "metadata",
    "click_url",
    "user_agent",
)


def event_fields(event: AnymailTrackingEvent) -> dict[str, Any]:
    return {name: getattr(event, name) for name in EVENT_FIELDS}


def changed_fields(event: AnymailTrackingEvent) -> dict[str, Any]:
    """The event's fields that differ from the defaults, and its event_type (esp_event
    left out)."""
    defaults = vars(AnymailTrackingEvent("x"))
    return {
        key: value
        for key, value in vars(event).items()
        if key != "esp_event" and (key == "event_type" or value != defaults[key])
    }


def poster(esp: str) -> Post:
    """``post(payload, kind="tracking", client=None, **options)``: ``payload`` posted to
    the ESP's ``kind`` webhook URL, as the ESP would (anymail.testing's builder)."""

    def post(
        payload: Any, kind: str = "tracking", client: Client | None = None, **options: Any
    ) -> Any:
        request = webhook_request(esp, payload, **options)
        return request.post(client or Client(), f"{esp}_{kind}_webhook")

    return post


def tracked(post: Post, payload: Any, **options: Any) -> list[AnymailTrackingEvent]:
    """The tracking events a post dispatches (it must be answered 200)."""
    with captured_events(tracking) as received:
        response = post(payload, **options)
    assert response.status_code == 200, response.content
    return received


def tracked_event(post: Post, payload: Any, **options: Any) -> AnymailTrackingEvent:
    """The one tracking event a post dispatches."""
    [event] = tracked(post, payload, **options)
    return event


def received_inbound(post: Post, payload: Any, **options: Any) -> AnymailInboundEvent:
    """The one inbound event a post to the ESP's inbound URL dispatches (answered 200)."""
    with captured_events(inbound) as received:
        response = post(payload, "inbound", **options)
    assert response.status_code == 200, response.content
    [event] = received
    return event


@contextmanager
def signal_calls(signal: Signal) -> Iterator[list[dict[str, Any]]]:
    """The arguments (``sender`` included) of each send of ``signal`` while the block runs."""
    calls: list[dict[str, Any]] = []

    def receiver(**kwargs: Any) -> None:
        calls.append(kwargs)

    signal.connect(receiver, weak=False)
    try:
        yield calls
    finally:
        signal.disconnect(receiver)
