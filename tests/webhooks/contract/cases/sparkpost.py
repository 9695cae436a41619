"""SparkPost, basic auth only: the event webhook (a batch of every event family) and the
relay webhook (one received message, its raw MIME base64-encoded)."""

from ..registry import BASIC_AUTH_ONLY, inbound_case, webhook_case

TRACKING = webhook_case(
    "sparkpost",
    "SparkPost",
    "tracking_batch.json",
    event_count=19,
    fuzz_fixtures="tracking*.json",
    **BASIC_AUTH_ONLY,
)
CASES = [
    TRACKING,
    inbound_case(
        TRACKING, "inbound_relay_base64.json", event_count=1, fuzz_fixtures="inbound*.json"
    ),
]
