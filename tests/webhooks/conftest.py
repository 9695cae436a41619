"""Fixtures of the webhook tests (each module of fixtures says what they do)."""

from typing import Any

import pytest

from .amazon_ses_support import aws, ses_webhook_environment, signer

__all__ = ["aws", "events", "messages", "ses_webhook_environment", "signer"]


@pytest.fixture
def events(anymail_tracking_events: list[Any]) -> list[Any]:
    """The tracking events dispatched during the test (anymail.testing's fixture)."""
    return anymail_tracking_events


@pytest.fixture
def messages(anymail_inbound_events: list[Any]) -> list[Any]:
    """The inbound events dispatched during the test (anymail.testing's fixture)."""
    return anymail_inbound_events
