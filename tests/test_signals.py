"""Signals (anymail.signals): pre_send, post_send, tracking, inbound, and event objects."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from django.core import mail
from django.dispatch import Signal

from anymail.backends.base import BasePayload
from anymail.backends.test import EmailBackend as AnymailTestBackend
from anymail.exceptions import AnymailAPIError, AnymailCancelSend
from anymail.message import AnymailMessage, AnymailStatus
from anymail.signals import (
    AnymailInboundEvent,
    AnymailTrackingEvent,
    EventType,
    RejectReason,
    inbound,
    post_send,
    pre_send,
    tracking,
)

from .utils import connected, use_anymail_test_backend


def message(**kwargs: Any) -> AnymailMessage:
    params: dict[str, Any] = {"subject": "Hi", "body": "Body", "to": ["to@example.com"]}
    params.update(kwargs)
    return AnymailMessage(**params)


# --- pre_send -----------------------------------------------------------------------


def test_pre_send_receives_the_message_and_can_modify_it() -> None:
    seen: list[tuple[Any, Any, str]] = []

    def filter_recipients(sender: Any, message: Any, esp_name: str, **kwargs: Any) -> None:
        seen.append((sender, message, esp_name))
        message.to = [addr for addr in message.to if "blocked" not in addr]
        message.tags = ["filtered"]

    msg = message(to=["ok@example.com", "blocked@example.com"])
    with connected(pre_send, filter_recipients):
        assert AnymailTestBackend().send_messages([msg]) == 1
    assert seen == [(AnymailTestBackend, msg, "Test")]
    assert msg.anymail_send_params["to"] == ["ok@example.com"]
    assert msg.anymail_send_params["tags"] == ["filtered"]
    assert list(msg.anymail_status.recipients) == ["ok@example.com"]


def test_pre_send_cancel_skips_the_message_silently() -> None:
    post_calls: list[Any] = []

    def cancel_blocked(sender: Any, message: Any, **kwargs: Any) -> None:
        if message.subject == "blocked":
            raise AnymailCancelSend("Blocked from_email")

    def on_post_send(sender: Any, message: Any, **kwargs: Any) -> None:
        post_calls.append(message)

    blocked, allowed = message(subject="blocked"), message(subject="allowed")
    with connected(pre_send, cancel_blocked), connected(post_send, on_post_send):
        assert AnymailTestBackend().send_messages([blocked, allowed]) == 1
    assert mail.outbox == [allowed]
    assert post_calls == [allowed]
    assert blocked.anymail_status.status is None
    assert not hasattr(blocked, "anymail_send_params")


def test_pre_send_cancel_with_message_send(settings: Any) -> None:
    use_anymail_test_backend(settings)

    def cancel(sender: Any, message: Any, **kwargs: Any) -> None:
        raise AnymailCancelSend()

    msg = message()
    with connected(pre_send, cancel):
        assert msg.send() == 0
    assert mail.outbox == []
    assert msg.send() == 1  # the test backend, not Django's locmem
    assert msg.anymail_status.status == {"sent"}


def test_other_pre_send_errors_propagate() -> None:
    def broken(sender: Any, message: Any, **kwargs: Any) -> None:
        raise RuntimeError("receiver bug")

    with connected(pre_send, broken), pytest.raises(RuntimeError, match="receiver bug"):
        AnymailTestBackend().send_messages([message()])
    assert mail.outbox == []


# --- post_send ----------------------------------------------------------------------


def test_post_send_receives_the_status() -> None:
    seen: list[tuple[Any, Any, AnymailStatus, str]] = []

    def log_sent(
        sender: Any, message: Any, status: AnymailStatus, esp_name: str, **kw: Any
    ) -> None:
        seen.append((sender, message, status, esp_name))
        assert status.status == {"sent"}  # already set when receivers run

    msg = message()
    with connected(post_send, log_sent):
        AnymailTestBackend().send_messages([msg])
    assert seen == [(AnymailTestBackend, msg, msg.anymail_status, "Test")]


def test_every_post_send_receiver_runs_then_the_first_error_is_raised() -> None:
    calls: list[str] = []

    def first(sender: Any, **kwargs: Any) -> None:
        calls.append("first")
        raise ValueError("first failed")

    def second(sender: Any, **kwargs: Any) -> None:
        calls.append("second")
        raise KeyError("second failed")

    def third(sender: Any, status: AnymailStatus, **kwargs: Any) -> None:
        calls.append("third")

    msg = message()
    with (
        connected(post_send, first, second, third),
        pytest.raises(ValueError, match="first failed"),
    ):
        AnymailTestBackend().send_messages([msg])
    assert calls == ["first", "second", "third"]
    assert msg.anymail_status.status == {"sent"}
    assert mail.outbox == [msg]


def test_post_send_does_not_run_when_the_send_failed() -> None:
    calls: list[Any] = []

    class FailingBackend(AnymailTestBackend):
        def post_to_esp(self, payload: BasePayload, message: Any) -> Any:
            raise AnymailAPIError("down")

    def on_post_send(sender: Any, **kwargs: Any) -> None:
        calls.append(kwargs)

    with connected(post_send, on_post_send), pytest.raises(AnymailAPIError):
        FailingBackend().send_messages([message()])
    assert calls == []


# --- tracking and inbound -----------------------------------------------------------


def test_four_distinct_signals() -> None:
    signals = [pre_send, post_send, tracking, inbound]
    assert all(isinstance(signal, Signal) for signal in signals)
    assert len({id(signal) for signal in signals}) == 4


def test_tracking_event_attributes() -> None:
    timestamp = datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC)
    raw = {"event": "click"}
    event = AnymailTrackingEvent(
        EventType.CLICKED,
        timestamp=timestamp,
        event_id="evt-1",
        esp_event=raw,
        message_id="msg-1",
        recipient="to@example.com",
        reject_reason=None,
        description="Clicked a link",
        mta_response=None,
        tags=["welcome"],
        metadata={"user_id": "42"},
        click_url="https://example.com/",
        user_agent="Mozilla/5.0",
    )
    assert vars(event) == {
        "event_type": "clicked",
        "timestamp": timestamp,
        "event_id": "evt-1",
        "esp_event": raw,
        "message_id": "msg-1",
        "recipient": "to@example.com",
        "reject_reason": None,
        "description": "Clicked a link",
        "mta_response": None,
        "tags": ["welcome"],
        "metadata": {"user_id": "42"},
        "click_url": "https://example.com/",
        "user_agent": "Mozilla/5.0",
    }


def test_tracking_event_defaults() -> None:
    event = AnymailTrackingEvent(EventType.BOUNCED)
    assert (event.timestamp, event.event_id, event.esp_event, event.message_id) == (
        None,
        None,
        None,
        None,
    )
    assert (event.recipient, event.reject_reason, event.description, event.mta_response) == (
        None,
        None,
        None,
        None,
    )
    assert (event.click_url, event.user_agent) == (None, None)
    assert event.tags == [] and event.metadata == {}
    # Each event gets its own (mutable) containers.
    assert AnymailTrackingEvent(EventType.BOUNCED).tags is not event.tags
    assert repr(AnymailTrackingEvent("bounced", recipient="a@example.com")) == (
        "AnymailTrackingEvent(event_type='bounced', recipient='a@example.com')"
    )


def test_inbound_event_attributes() -> None:
    event = AnymailInboundEvent(message="parsed message", event_id="in-1", esp_event={"raw": 1})
    assert vars(event) == {
        "event_type": "inbound",
        "timestamp": None,
        "event_id": "in-1",
        "esp_event": {"raw": 1},
        "message": "parsed message",
    }


def test_tracking_signal_receivers_get_event_and_esp_name() -> None:
    received: list[tuple[Any, str]] = []

    def handle(sender: Any, event: AnymailTrackingEvent, esp_name: str, **kwargs: Any) -> None:
        received.append((event, esp_name))

    event = AnymailTrackingEvent(EventType.DELIVERED)
    with connected(tracking, handle):
        tracking.send(sender=object, event=event, esp_name="Tiny")
        inbound.send(sender=object, event=AnymailInboundEvent(), esp_name="Tiny")
    assert received == [(event, "Tiny")]


@pytest.mark.parametrize(
    ("constants", "values"),
    [
        (
            EventType,
            {
                "QUEUED": "queued",
                "SENT": "sent",
                "REJECTED": "rejected",
                "FAILED": "failed",
                "BOUNCED": "bounced",
                "DEFERRED": "deferred",
                "DELIVERED": "delivered",
                "AUTORESPONDED": "autoresponded",
                "OPENED": "opened",
                "CLICKED": "clicked",
                "COMPLAINED": "complained",
                "UNSUBSCRIBED": "unsubscribed",
                "SUBSCRIBED": "subscribed",
                "INBOUND": "inbound",
                "INBOUND_FAILED": "inbound_failed",
                "UNKNOWN": "unknown",
            },
        ),
        (
            RejectReason,
            {
                "INVALID": "invalid",
                "BOUNCED": "bounced",
                "TIMED_OUT": "timed_out",
                "BLOCKED": "blocked",
                "SPAM": "spam",
                "UNSUBSCRIBED": "unsubscribed",
                "OTHER": "other",
            },
        ),
    ],
)
def test_constants(constants: type, values: dict[str, str]) -> None:
    assert {name: value for name, value in vars(constants).items() if name.isupper()} == values
