"""Postmark: basic auth only, one event per post (tracking: a bounce, deduplicated by
its ID; inbound: one parsed message)."""

from functools import partial

from anymail.signals import tracking
from anymail.testing import json_webhook_request

from ....utils import fixture_json
from ..registry import NOT_SECURED, WebhookContractCase, fixture_payloads, inbound_case

TRACKING = WebhookContractCase(
    id="postmark_tracking",
    esp_name="Postmark",
    url_name="postmark_tracking_webhook",
    signal=tracking,
    payload=partial(fixture_json, "postmark", "tracking_bounce_hard.json"),
    event_count=1,
    request=json_webhook_request,
    fuzz_payloads=fixture_payloads("postmark", "tracking_*"),
    warning_without_secret=NOT_SECURED,
)
CASES = [
    TRACKING,
    inbound_case(
        TRACKING,
        payload=partial(fixture_json, "postmark", "inbound_parsed.json"),
        fuzz_payloads=fixture_payloads("postmark", "inbound_*"),
    ),
]
