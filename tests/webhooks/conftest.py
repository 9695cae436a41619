"""Fixtures of the webhook tests (each module of fixtures says what they do)."""

from collections.abc import Iterator

import pytest

from anymail.signals import AnymailInboundEvent, AnymailTrackingEvent, inbound, tracking
from anymail.testing import captured_events

from .amazon_ses_support import aws, ses_webhook_environment, signer

__all__ = ["aws", "events", "messages", "ses_webhook_environment", "signer"]


@pytest.fixture
def events() -> Iterator[list[AnymailTrackingEvent]]:
    """The tracking events dispatched while the test runs."""
    with captured_events(tracking) as received:
        yield received


@pytest.fixture
def messages() -> Iterator[list[AnymailInboundEvent]]:
    """The inbound events dispatched while the test runs."""
    with captured_events(inbound) as received:
        yield received
