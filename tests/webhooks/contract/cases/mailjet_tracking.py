"""Mailjet tracking: basic auth only, grouped events (no ids: deduplicated by digest)."""

from functools import partial

from anymail.signals import tracking
from anymail.testing import json_webhook_request

from ....utils import fixture_json
from ..registry import WebhookContractCase

CASE = WebhookContractCase(
    id="mailjet_tracking",
    esp_name="Mailjet",
    url_name="mailjet_tracking_webhook",
    signal=tracking,
    payload=partial(fixture_json, "mailjet", "tracking_grouped_batch.json"),
    event_count=3,
    request=json_webhook_request,
)
