"""Resend: Svix-signed JSON, one event per post. Inbound: an email.received post, signed
with the inbound endpoint's secret; the mail comes from Resend's API."""

from datetime import timedelta
from functools import partial

from anymail._testing_resend import resend_webhook_request

from ...resend_support import OTHER_SECRET, SETTINGS, receiving_api
from ..registry import inbound_case, signed_by, webhook_case

FORGED = {"signing_secret": OTHER_SECRET}
STALE_AGE = timedelta(seconds=301)  # Svix's window is 5 minutes

TRACKING = webhook_case(
    "resend",
    "Resend",
    "tracking_email_bounced.json",
    event_count=1,
    settings=dict(SETTINGS),
    fuzz_fixtures="tracking_*.json",
    **signed_by(resend_webhook_request, FORGED, STALE_AGE),
)
CASES = [
    TRACKING,
    inbound_case(
        TRACKING,
        "inbound_email_received.json",
        context=receiving_api,
        fuzz_payloads=None,
        # Signed with the inbound endpoint's secret, whatever the (mutated) payload says.
        **signed_by(partial(resend_webhook_request, inbound=True), FORGED, STALE_AGE),
    ),
]
