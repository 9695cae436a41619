"""Helpers the per-ESP webhook tests share: posting as the ESP would, and its events."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from django.dispatch import Signal
from django.test import Client

from anymail.inbound import AnymailInboundMessage
from anymail.signals import AnymailInboundEvent, AnymailTrackingEvent, inbound, tracking
from anymail.testing import captured_events, webhook_request
from tests.utils import FIXTURES_DIR, connected, make_message

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


def fixture_names(esp: str, *patterns: str) -> list[str]:
    """The names of the ESP's fixtures (tests/fixtures/<esp>/) that match any of the glob
    ``patterns``, sorted."""
    folder = FIXTURES_DIR / esp
    return sorted({path.name for pattern in patterns for path in folder.glob(pattern)})


def assert_refused(response: Any, events: list[Any], reason: bytes) -> None:
    """The post was refused (400, its body saying ``reason``) and dispatched no event."""
    assert response.status_code == 400, response.content
    assert reason in response.content
    assert events == []


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


def sent_order(**changes: Any) -> Any:
    """The message Postal's and Scaleway's send_success.json fixtures answer for: "Your
    order 1234" from shop@example.com to alice@, cc@ and bcc@example.com, with ``changes``."""
    return make_message(
        subject="Your order 1234",
        from_email="shop@example.com",
        to=["alice@example.com"],
        cc=["cc@example.com"],
        bcc=["bcc@example.com"],
        **changes,
    )


def named(addresses: Any) -> list[tuple[str, str]]:
    """(display name, address) of each of ``addresses`` (a list, or one address)."""
    items = addresses if isinstance(addresses, list) else [addresses]
    return [(address.display_name, address.addr_spec) for address in items]


def headline(message: AnymailInboundMessage) -> dict[str, Any]:
    """Who an inbound message is from and to (``named``), its subject and its date."""
    return {
        "from": named(message.from_email),
        "to": named(message.to),
        "cc": named(message.cc),
        "subject": message.subject,
        "date": message.date,
    }


#: The ``headline`` of the sample question several ESPs' inbound fixtures carry
#: (Message-ID <CAinbound0001@mail.example.org>).
ORDER_QUESTION = {
    "from": [("Envelope Sender", "from@example.org")],
    "to": [("Support", "support@inbound.example.com"), ("", "other@example.com")],
    "cc": [("", "cc@example.com")],
    "subject": "Question about order 12345",
    "date": datetime(2026, 1, 15, 10, 0, tzinfo=UTC),
}
#: The senders and recipients of the other sample (Postmark's and SendGrid's parsed mail).
DISPLAYED_FROM = {
    "from": [("Displayed From", "from+test@example.org")],
    "to": [("Support Team", "support@inbound.example.com"), ("", "other@example.com")],
    "cc": [("", "cc@example.com")],
}


def parts(found: Iterable[AnymailInboundMessage]) -> list[tuple[str | None, str, str | bytes]]:
    """(filename, content type, content) of each attachment: the text of a text part (so
    decoded by its charset), the bytes of any other."""
    return [
        (
            part.get_filename(),
            part.get_content_type(),
            part.get_content_text()
            if part.get_content_maintype() == "text"
            else part.get_content_bytes(),
        )
        for part in found
    ]


@contextmanager
def signal_calls(signal: Signal) -> Iterator[list[dict[str, Any]]]:
    """The arguments (``sender`` included) of each send of ``signal`` while the block runs."""
    calls: list[dict[str, Any]] = []

    def receiver(**kwargs: Any) -> None:
        calls.append(kwargs)

    with connected(signal, receiver):
        yield calls
