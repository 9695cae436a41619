"""Resend: Svix-signed JSON, one event per post. Inbound: an email.received post, signed
with the inbound endpoint's secret; the mail comes from Resend's API."""

import time
from collections.abc import Callable
from functools import partial
from typing import Any

from anymail._testing_resend import resend_webhook_request
from anymail.testing import WebhookRequest

from ...resend_support import OTHER_SECRET, SETTINGS, receiving_api
from ..registry import inbound_case, webhook_case

Builder = Callable[..., WebhookRequest]


def inbound_request(payload: Any, **options: Any) -> WebhookRequest:
    # Signed with the inbound endpoint's secret, whatever the (mutated) payload says.
    return resend_webhook_request(payload, inbound=True, **options)


def forge(payload: Any, request: Builder = resend_webhook_request) -> WebhookRequest:
    return request(payload, signing_secret=OTHER_SECRET)


def stale(payload: Any, request: Builder = resend_webhook_request) -> WebhookRequest:
    return request(payload, timestamp=int(time.time()) - 301)


TRACKING = webhook_case(
    "resend",
    "Resend",
    "tracking_email_bounced.json",
    event_count=1,
    request=resend_webhook_request,
    settings=dict(SETTINGS),
    forge=forge,
    stale=stale,
    fuzz_fixtures="tracking_*.json",
)
CASES = [
    TRACKING,
    inbound_case(
        TRACKING,
        "inbound_email_received.json",
        request=inbound_request,
        forge=partial(forge, request=inbound_request),
        stale=partial(stale, request=inbound_request),
        context=receiving_api,
        fuzz_payloads=None,
    ),
]
