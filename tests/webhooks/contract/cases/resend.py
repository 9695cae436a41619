"""Resend: Svix-signed JSON, one event per post. Inbound: an email.received post, signed
with the inbound endpoint's secret; the mail comes from Resend's API."""

from datetime import timedelta
from functools import partial

from anymail._testing_resend import resend_webhook_request

from ...resend_support import OTHER_SECRET, SETTINGS, receiving_api
from ..registry import inbound_case, signed_ago, webhook_case

# Signed with the inbound endpoint's secret, whatever the (mutated) payload says.
inbound_request = partial(resend_webhook_request, inbound=True)


TRACKING = webhook_case(
    "resend",
    "Resend",
    "tracking_email_bounced.json",
    event_count=1,
    request=resend_webhook_request,
    settings=dict(SETTINGS),
    forge=partial(resend_webhook_request, signing_secret=OTHER_SECRET),
    stale=signed_ago(resend_webhook_request, timedelta(seconds=301)),
    fuzz_fixtures="tracking_*.json",
)
CASES = [
    TRACKING,
    inbound_case(
        TRACKING,
        "inbound_email_received.json",
        request=inbound_request,
        forge=partial(inbound_request, signing_secret=OTHER_SECRET),
        stale=signed_ago(inbound_request, timedelta(seconds=301)),
        context=receiving_api,
        fuzz_payloads=None,
    ),
]
