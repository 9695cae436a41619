"""The sandbox posts each ESP's own tracking events, signed as the ESP signs them, to the
app's real webhook views over HTTP; the app's ``tracking`` receivers get normalized events."""

from __future__ import annotations

import pytest
from django.test import override_settings

from anymail.message import AnymailMessage
from anymail.sandbox import EMULATORS, Sandbox
from anymail.testing import captured_events
from tests.sandbox.messages import order

CASES = [(esp, event) for esp in sorted(EMULATORS) for event in EMULATORS[esp].events]


def send(sandbox: Sandbox, esp: str) -> AnymailMessage:
    message = order(
        subject="Your order 1234",
        body="Hi Ana, your order is on its way.",
        to=["Ana <ana@example.com>"],
        tags=["order"],
    )
    message.send()
    return message


@pytest.mark.parametrize(("esp", "event"), CASES)
@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # the Sendinblue backend
def test_fired_event_reaches_tracking_receivers(sandbox: Sandbox, esp: str, event: str) -> None:
    settings = {**sandbox.settings(esp), "IGNORE_UNSUPPORTED_FEATURES": True}
    with override_settings(EMAIL_BACKEND=sandbox.backend(esp), ANYMAIL=settings):
        message = send(sandbox, esp)
        [received] = sandbox.messages()
        with captured_events() as events:
            record = sandbox.fire(received, event)

    assert (record.status, record.url) == (200, f"{sandbox.webhook_url}{esp}/tracking/")
    [tracked] = events
    assert tracked.event_type == event
    assert tracked.esp_event is not None
    assert tracked.recipient == "ana@example.com"
    assert str(tracked.message_id) == str(message.anymail_status.message_id)
    assert received.events == [record]
    assert received.status == event


def test_posts_are_really_authenticated(sandbox: Sandbox) -> None:
    """With another WEBHOOK_SECRET in the app, the sandbox's post is refused (and shown)."""
    settings = sandbox.settings("postmark")
    with override_settings(EMAIL_BACKEND=sandbox.backend("postmark"), ANYMAIL=settings):
        send(sandbox, "postmark")
        [received] = sandbox.messages()
        sandbox.webhook_secret = "other-user:a-secret-that-the-app-does-not-know"
        with captured_events() as events:
            record = sandbox.fire(received, "delivered")
    assert events == []
    assert record.status in {400, 401, 403}
    assert received.events == [record]


def test_unknown_event_for_an_esp(sandbox: Sandbox) -> None:
    with override_settings(
        EMAIL_BACKEND=sandbox.backend("scaleway"), ANYMAIL=sandbox.settings("scaleway")
    ):
        send(sandbox, "scaleway")
    with pytest.raises(ValueError, match="Scaleway TEM has no 'opened' event"):
        sandbox.fire(sandbox.messages()[0], "opened")
