"""Resend inbound: a Svix-signed email.received post; the mail comes from Resend's API."""

import time
from functools import partial
from typing import Any

from anymail._testing_resend import resend_webhook_request
from anymail.signals import inbound
from anymail.testing import WebhookRequest

from ...resend_support import OTHER_SECRET, SETTINGS, fixture, receiving_api
from ..registry import WebhookContractCase


def request(payload: Any, **options: Any) -> WebhookRequest:
    # Signed with the inbound endpoint's secret, whatever the (mutated) payload says.
    return resend_webhook_request(payload, inbound=True, **options)


def forge(payload: Any) -> WebhookRequest:
    return request(payload, signing_secret=OTHER_SECRET)


def stale(payload: Any) -> WebhookRequest:
    return request(payload, timestamp=int(time.time()) - 301)


CASE = WebhookContractCase(
    id="resend_inbound",
    esp_name="Resend",
    url_name="resend_inbound_webhook",
    signal=inbound,
    payload=partial(fixture, "inbound_email_received.json"),
    event_count=1,
    request=request,
    settings=dict(SETTINGS),
    forge=forge,
    stale=stale,
    context=receiving_api,
)
