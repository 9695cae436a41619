"""SparkPost, basic auth only: the event webhook (a batch of every event family) and the
relay webhook (one received message, its raw MIME base64-encoded)."""

from functools import partial

from anymail.signals import tracking
from anymail.testing import json_webhook_request
from tests.utils import fixture_json

from ..registry import NOT_SECURED, WebhookContractCase, fixture_payloads, inbound_case

TRACKING = WebhookContractCase(
    id="sparkpost",
    esp_name="SparkPost",
    url_name="sparkpost_tracking_webhook",
    signal=tracking,
    payload=partial(fixture_json, "sparkpost", "tracking_batch.json"),
    event_count=19,
    request=json_webhook_request,
    fuzz_payloads=fixture_payloads("sparkpost", "tracking*.json"),
    warning_without_secret=NOT_SECURED,
)
CASES = [
    TRACKING,
    inbound_case(
        TRACKING,
        payload=partial(fixture_json, "sparkpost", "inbound_relay_base64.json"),
        event_count=1,
        fuzz_payloads=fixture_payloads("sparkpost", "inbound*.json"),
    ),
]
