"""What the Scaleway webhook tests share: fixtures, caches, a pinned clock, no network.

The SNS fixtures carry a fake signature and certificate URL, and times long past.
Tests re-sign a fixture envelope with a test signer whose certificate the test CA
issued and is valid at the fixture's time (every other field kept as it is), and
pin the view's clock to just after the envelope's ``Timestamp``.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any, Final

import pytest

from anymail._testing_scaleway import make_signer
from anymail.webhooks._sns_certs import DEFAULT_CERT_CACHE, DEFAULT_TRUST_CHAINS
from anymail.webhooks.scaleway import ScalewayTrackingWebhookView
from tests.utils import fixture_json

SECRET: Final = "scaleway-hook-user:scaleway-hook-password-1"
URL: Final = "/anymail/scaleway/tracking/"
#: Just after the fixtures' SNS Timestamps (2026-03-04T05:06:10.123Z).
FIXTURE_TIME: Final = datetime.fromisoformat("2026-03-04T05:07:00Z")
#: The TEM events (SNS Messages) among the fixtures.
EVENT_FIXTURES: Final = (
    "webhook_event_blocklist_created.json",
    "webhook_event_email_blocklisted.json",
    "webhook_event_email_deferred.json",
    "webhook_event_email_delivered.json",
    "webhook_event_email_dropped.json",
    "webhook_event_email_mailbox_not_found.json",
    "webhook_event_email_queued.json",
    "webhook_event_email_spam.json",
)


def fixture(name: str) -> Any:
    return fixture_json("scaleway", name)


def fixture_signer() -> Any:
    """A signer whose certificate is valid at the fixtures' time."""
    return make_signer(clock=lambda: FIXTURE_TIME)


def no_network(sock: socket.socket, address: Any) -> None:
    raise AssertionError(f"A test tried to connect to {address!r}")


@contextmanager
def scaleway_test_context() -> Iterator[None]:
    """Empty certificate and trust chain caches, and no socket may connect anywhere."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(socket.socket, "connect", no_network)
        DEFAULT_CERT_CACHE.clear()
        DEFAULT_TRUST_CHAINS.clear()
        try:
            yield
        finally:
            DEFAULT_CERT_CACHE.clear()
            DEFAULT_TRUST_CHAINS.clear()


@contextmanager
def pinned_clock(now: datetime) -> Iterator[None]:
    """The view's clock (freshness and certificate validity) set to ``now``."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(ScalewayTrackingWebhookView, "now", lambda self: now)
        yield
