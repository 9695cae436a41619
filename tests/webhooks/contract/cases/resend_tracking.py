"""Resend tracking: Svix-signed JSON, one event per post."""

import time
from functools import partial
from typing import Any

from anymail._testing_resend import resend_webhook_request
from anymail.signals import tracking
from anymail.testing import WebhookRequest

from ...resend_support import OTHER_SECRET, SETTINGS, fixture
from ..registry import WebhookContractCase, fixture_payloads


def forge(payload: Any) -> WebhookRequest:
    return resend_webhook_request(payload, signing_secret=OTHER_SECRET)


def stale(payload: Any) -> WebhookRequest:
    return resend_webhook_request(payload, timestamp=int(time.time()) - 301)


CASE = WebhookContractCase(
    id="resend_tracking",
    esp_name="Resend",
    url_name="resend_tracking_webhook",
    signal=tracking,
    payload=partial(fixture, "tracking_email_bounced.json"),
    event_count=1,
    request=resend_webhook_request,
    settings=dict(SETTINGS),
    forge=forge,
    stale=stale,
    fuzz_payloads=fixture_payloads("resend", "tracking_*.json"),
)
