"""Postmark: basic auth only, one event per post (tracking: a bounce, deduplicated by
its ID; inbound: one parsed message)."""

from ..registry import BASIC_AUTH_ONLY, inbound_case, webhook_case

TRACKING = webhook_case(
    "postmark",
    "Postmark",
    "tracking_bounce_hard.json",
    event_count=1,
    fuzz_fixtures="tracking_*",
    **BASIC_AUTH_ONLY,
)
CASES = [TRACKING, inbound_case(TRACKING, "inbound_parsed.json", fuzz_fixtures="inbound_*")]
