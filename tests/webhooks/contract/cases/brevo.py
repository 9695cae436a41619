"""Brevo tracking: a batched post (a JSON array of events), basic auth only."""

from typing import Any

from anymail.signals import tracking
from anymail.testing import json_webhook_request

from ...brevo_support import fixture
from ..registry import NOT_SECURED, WebhookContractCase


def payload() -> Any:
    return fixture("tracking_batched.json")


CASE = WebhookContractCase(
    id="brevo",
    esp_name="Brevo",
    url_name="brevo_tracking_webhook",
    signal=tracking,
    payload=payload,
    event_count=2,
    request=json_webhook_request,
    warning_without_secret=NOT_SECURED,
)
